//! Records of an entity known only by its name at run time, as JSON: what a tool that reads the
//! instance's metadata instead of generated code (the `atro` command line) works with.
//!
//! [`Client::records`] gives a [`Records`] handle for an entity name; its lists, streams, reads
//! and deletes go through the same request path as the typed API ([`RequestBuilder`], with its
//! authentication, retries, `where` encoding and `not` rewriting), and answer
//! [`serde_json::Value`] records. Writes in bulk use [`UpsertItem::from_value`](crate::UpsertItem)
//! with [`Client::upsert`].
//!
//! ```no_run
//! # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
//! use atrocore_runtime::{Condition, Where};
//! use futures_util::TryStreamExt;
//!
//! let brands = client.records("Brand");
//! let active = Where::from(Condition::new("isTrue").attribute("isActive"));
//! let page = brands.list().filter(active.clone()).select(["id", "name"]).max_size(20).await?;
//! println!("{} active brands", page.total);
//!
//! // Every match in `id` order, resumed after the last id a previous run saw.
//! let mut rest = brands.list().filter(active).after_id("a01k5c597f").keyset_stream();
//! while let Some(record) = rest.try_next().await? {
//!     println!("{}", record["id"]);
//! }
//! let one = brands.read("a01k5c597f").await?;
//! let deleted: bool = brands.delete("a01k5c597f").await?;
//! # let _ = (one, deleted);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::IntoFuture;

use reqwest::Method;
use serde_json::Value;

use crate::changes::{ChangeFeed, Watermark};
use crate::client::Client;
use crate::encode::encode_path_segment;
use crate::entity::{BoxFuture, BoxStream, DEFAULT_PAGE_SIZE, ListResult};
use crate::error::{Error, Result};
use crate::filter::Where;
use crate::http::execute::check_path_value;
use crate::paging::{self, PageSpec, Pager};
use crate::request::RequestBuilder;

impl Client {
    /// The records of the entity named `entity` (its wire name, e.g. `"Product"`), as JSON.
    pub fn records(&self, entity: impl Into<String>) -> Records {
        Records {
            client: self.clone(),
            entity: entity.into(),
        }
    }
}

/// The records of one entity chosen by name at run time; from [`Client::records`].
#[derive(Clone)]
pub struct Records {
    client: Client,
    entity: String,
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("entity", &self.entity)
            .finish_non_exhaustive()
    }
}

impl Records {
    /// The entity's wire name.
    pub fn entity(&self) -> &str {
        &self.entity
    }

    /// `GET /{entity}`: a page of records or, with [`DynamicList::stream`] and
    /// [`DynamicList::keyset_stream`], all of them.
    pub fn list(&self) -> DynamicList {
        DynamicList {
            client: self.client.clone(),
            entity: self.entity.clone(),
            select: Vec::new(),
            filter: Where::new(),
            offset: None,
            max_size: None,
            sort_by: None,
            asc: None,
            after_id: None,
            attributes: Vec::new(),
        }
    }

    /// `GET /{entity}/{id}`: one record.
    pub async fn read(&self, id: &str) -> Result<Value> {
        self.record_request(Method::GET, id).send_json().await
    }

    /// `DELETE /{entity}/{id}`: resolves to AtroCore's answer, `true`.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        let request = self.record_request(Method::DELETE, id);
        let body = request.send_bytes().await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(true);
        }
        serde_json::from_slice::<bool>(&body).map_err(|e| {
            Error::decode(e).with_request(&Method::DELETE, &format!("/{}", self.entity))
        })
    }

    fn record_request(&self, method: Method, id: &str) -> RequestBuilder {
        let path = format!(
            "/{}/{}",
            encode_path_segment(&self.entity),
            encode_path_segment(id)
        );
        let request = self.client.request(method, path);
        match check_path_value(&self.entity).and_then(|()| check_path_value(id)) {
            Ok(()) => request,
            Err(e) => request.fail(e),
        }
    }
}

/// `GET /{entity}` for an entity named at run time; `.await` sends it and answers one page.
#[derive(Clone)]
pub struct DynamicList {
    client: Client,
    entity: String,
    select: Vec<String>,
    filter: Where,
    offset: Option<u64>,
    max_size: Option<u64>,
    sort_by: Option<String>,
    asc: Option<bool>,
    after_id: Option<String>,
    /// Attribute values to add to each record, by id or code (`attributes=`).
    attributes: Vec<String>,
}

impl fmt::Debug for DynamicList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicList")
            .field("entity", &self.entity)
            .field("select", &self.select)
            .field("filter", &self.filter)
            .field("offset", &self.offset)
            .field("max_size", &self.max_size)
            .field("sort_by", &self.sort_by)
            .field("asc", &self.asc)
            .field("after_id", &self.after_id)
            .field("attributes", &self.attributes)
            .finish_non_exhaustive()
    }
}

impl DynamicList {
    /// Only these fields (`select=a,b`).
    #[must_use]
    pub fn select<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.select.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Only records matching `filter`; several calls must all hold.
    #[must_use]
    pub fn filter(mut self, filter: Where) -> Self {
        self.filter.extend(filter);
        self
    }

    /// Skip this many records (ignored by [`keyset_stream`](Self::keyset_stream)).
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// At most this many records per request (`maxSize`), the page size of the streams.
    #[must_use]
    #[doc(alias = "limit")]
    pub fn max_size(mut self, max_size: u64) -> Self {
        self.max_size = Some(max_size);
        self
    }

    /// Sort by the field with this wire name (`sortBy`).
    #[must_use]
    pub fn sort_by(mut self, field: impl Into<String>) -> Self {
        self.sort_by = Some(field.into());
        self
    }

    /// Adds these attributes' values to each record (`attributes=`, by attribute id or code:
    /// 2.2 `code`, 2.3 `systemName`; sent with `Flatten-Attributes`), as fields keyed by code (`weight`, `weightUnitId`, …; see
    /// [`FlatAttributes`](crate::FlatAttributes)): 2.2
    /// `app/Atro/Controllers/AbstractRecordController.php::actionList`, 2.3
    /// `app/Atro/Handlers/AbstractHandler.php::buildListParams`.
    #[must_use]
    pub fn attributes<S: Into<String>>(mut self, codes: impl IntoIterator<Item = S>) -> Self {
        self.attributes.extend(codes.into_iter().map(Into::into));
        self
    }

    /// Ascending (`true`, the default) or descending.
    #[must_use]
    #[doc(alias = "desc")]
    #[doc(alias = "order")]
    pub fn asc(mut self, asc: bool) -> Self {
        self.asc = Some(asc);
        self
    }

    /// Where [`keyset_stream`](Self::keyset_stream) starts: after the record `id` (in the
    /// stream's direction), as if a previous run had stopped there.
    #[must_use]
    pub fn after_id(mut self, id: impl Into<String>) -> Self {
        self.after_id = Some(id.into());
        self
    }

    /// The number of matching records, without reading them: one `totalOnly=true` request
    /// (see [`ListRequest::count`](crate::ListRequest::count)). `None` when the server does not
    /// count this entity's lists.
    pub async fn count(self) -> Result<Option<u64>> {
        crate::entity::count_total(self.max_size(1).offset(0).select(["id"]).to_request()).await
    }

    /// The plain request, to add parameters or headers this builder does not know.
    pub fn into_request(self) -> RequestBuilder {
        self.to_request()
    }

    fn to_request(&self) -> RequestBuilder {
        let path = format!("/{}", encode_path_segment(&self.entity));
        let request = self.client.request(Method::GET, path);
        let request = match check_path_value(&self.entity) {
            Ok(()) => request,
            Err(e) => request.fail(e),
        };
        let select = (!self.select.is_empty()).then(|| self.select.join(","));
        let attributes = (!self.attributes.is_empty()).then(|| self.attributes.join(","));
        // The values come as fields of the record with `Flatten-Attributes`, which AtroCore's
        // own web UI sends with every request (`client/src/app.js`).
        let flatten = attributes.is_some().then_some("true");
        request
            .query_opt("select", select)
            .query_opt("attributes", attributes)
            .header_opt("Flatten-Attributes", flatten)
            .filter("where", &self.filter)
            .query_opt("offset", self.offset)
            .query_opt("maxSize", self.max_size)
            .query_opt("sortBy", self.sort_by.as_deref())
            .query_opt("asc", self.asc)
    }

    fn page_size(&self) -> u64 {
        self.max_size
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// Every matching record, page by page with `offset`, in the requested sort order. Like
    /// [`ListRequest::stream`](crate::ListRequest::stream): simple, but records created or
    /// deleted meanwhile shift the pages; prefer [`keyset_stream`](Self::keyset_stream).
    pub fn stream(self) -> BoxStream<Value> {
        let (start, page_size) = (self.offset.unwrap_or(0), self.page_size());
        paging::offset_stream(self, start, page_size)
    }

    /// Every matching record in `id` order with keyset paging (each page asks for
    /// `id > last id seen`), starting after [`after_id`](Self::after_id) when set: the same
    /// contract as [`ListRequest::keyset_stream`](crate::ListRequest::keyset_stream) (every
    /// record that exists throughout is seen exactly once; a sort by another field is an
    /// [`ErrorKind::Builder`](crate::ErrorKind::Builder) error; descending with `asc(false)`).
    pub fn keyset_stream(self) -> BoxStream<Value> {
        let mut request = self;
        let path = format!("/{}", request.entity);
        if let Some(field) = request.sort_by.as_deref().filter(|f| *f != "id") {
            let e = Error::builder(format!(
                "keyset paging follows `id` and cannot keep the sort by `{field}`: use stream() \
                 (offset paging) for that order"
            ))
            .with_request(&Method::GET, &path);
            return Box::pin(futures_util::stream::once(async move { Err(e) }));
        }
        if !request.select.is_empty() && !request.select.iter().any(|s| s == "id") {
            request.select.insert(0, "id".to_owned());
        }
        let ascending = request.asc != Some(false);
        request.sort_by = Some("id".to_owned());
        request.asc = Some(ascending);
        request.offset = None;
        let (after, page_size) = (request.after_id.take(), request.page_size());
        paging::keyset_stream(request, after, page_size)
    }
    /// The changes to the matching records since `watermark`, exactly once, in
    /// `(modifiedAt, id)` order: the same contract as
    /// [`ListRequest::changes_since`](crate::ListRequest::changes_since).
    pub fn changes_since(self, watermark: &Watermark) -> ChangeFeed<Value> {
        let mut request = self;
        for field in ["id", "modifiedAt"] {
            if !request.select.is_empty() && !request.select.iter().any(|s| s == field) {
                request.select.push(field.to_owned());
            }
        }
        request.offset = None;
        request.after_id = None;
        let sort_by = request.sort_by.take();
        let page_size = request.page_size();
        ChangeFeed::new(Box::new(request), watermark, page_size, sort_by.as_deref())
    }
}

impl Pager for DynamicList {
    fn page(&self, spec: PageSpec) -> RequestBuilder {
        let mut request = self.clone();
        request.max_size = Some(spec.size);
        if spec.offset.is_some() {
            request.offset = spec.offset;
        }
        if let Some((field, ascending)) = spec.sort {
            request.sort_by = Some(field.to_owned());
            request.asc = Some(ascending);
        }
        request.filter.extend(spec.conditions);
        request.to_request()
    }

    fn descending(&self) -> bool {
        self.asc == Some(false)
    }

    fn path(&self) -> String {
        format!("/{}", self.entity)
    }
}

impl IntoFuture for DynamicList {
    type Output = Result<ListResult<Value>>;
    type IntoFuture = BoxFuture<ListResult<Value>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.to_request().send_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_names_and_ids_fail_before_sending() {
        // Nothing listens on port 9: a request that were sent would fail with Transport.
        let client = Client::builder("http://127.0.0.1:9").build().unwrap();
        for (entity, id) in [("Brand", ""), ("Brand", ".."), ("", "a01"), (".", "a01")] {
            let e = client.records(entity).read(id).await.unwrap_err();
            assert!(e.is_builder(), "{entity}/{id}: {e}");
            let e = client.records(entity).delete(id).await.unwrap_err();
            assert!(e.is_builder(), "{entity}/{id}: {e}");
        }
        let e = client.records("..").list().await.unwrap_err();
        assert!(e.is_builder(), "{e}");
    }

    #[tokio::test]
    async fn keyset_refuses_another_sort() {
        use futures_util::StreamExt;
        let client = Client::builder("http://127.0.0.1:9").build().unwrap();
        let mut s = client
            .records("Brand")
            .list()
            .sort_by("name")
            .keyset_stream();
        let e = s.next().await.unwrap().unwrap_err();
        assert!(e.is_builder() && e.to_string().contains("name"), "{e}");
        assert!(s.next().await.is_none());
    }
}
