//! The [`Entity`] and [`EntityField`] traits that generated record types implement, and the
//! generic list / read / create / update / delete requests built on them, with paging streams.

use std::borrow::Cow;
use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::changes::{ChangeFeed, Watermark};
use crate::client::Client;
use crate::encode::encode_path_segment;
use crate::error::{Error, Result};
use crate::filter::{Filter, Where};
use crate::paging::{self, PageSpec, Pager};
use crate::request::RequestBuilder;

/// Implemented by each generated record type (the read struct of an entity, e.g. `Product`).
pub trait Entity: Send + Sync + 'static {
    /// The wire name of the entity, e.g. `"Product"`.
    const NAME: &'static str;
    /// The fields marked `unique` in the instance metadata (e.g. `Brand`'s `code`): besides
    /// `id`, what a bulk upsert finds an existing record by, so that an item carrying one can be
    /// sent again safely (see [`UpsertItem`](crate::UpsertItem)). Empty when the crate was
    /// generated without metadata.
    const UNIQUE_FIELDS: &'static [&'static str] = &[];
    /// The record as read from the API.
    type Record: DeserializeOwned + Send + 'static;
    /// The enum of the entity's fields, for `select` and `sortBy`.
    type Field: EntityField;
    /// The type of a record's id: `Id<M>` over the entity's marker in the generated crate's
    /// `ids` module (`ids::ProductId`), so one entity's id is not taken for another's.
    type Id: Send + Sync + 'static;
}

/// Implemented by each generated field enum.
pub trait EntityField: Copy + Send + Sync + 'static {
    /// The wire name of the field, e.g. `"modifiedAt"`.
    fn name(self) -> &'static str;
}

/// The answer of a list asked for `totalOnly=true`: `{"total": n}`.
#[derive(Deserialize)]
struct TotalOnly {
    #[serde(default)]
    total: Option<i64>,
}

/// Sends `request` (a list of one record from offset 0) with `totalOnly=true` and reads the
/// count: `None` when the server sent none or a negative one (it does not count the entity).
pub(crate) async fn count_total(request: RequestBuilder) -> Result<Option<u64>> {
    let answer: TotalOnly = request.query("totalOnly", "true").send_json().await?;
    Ok(answer.total.and_then(|t| u64::try_from(t).ok()))
}

pub use crate::paging::{BoxFuture, BoxStream, ListResult};

/// Page size of the streams when none is set.
pub const DEFAULT_PAGE_SIZE: u64 = 200;

fn entity_path<E: Entity>(id: &str) -> String {
    format!("/{}/{}", E::NAME, encode_path_segment(id))
}

fn serialize_body<B: Serialize + ?Sized>(body: &B) -> Result<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| Error::builder("the request body cannot be serialized as JSON").with_source(e))
}

fn flag(on: bool) -> Option<&'static str> {
    on.then_some("true")
}

/// The typed entry points of the records of an entity (generated crates reach them through the
/// entity handle, `EntityHandle`).
impl Client {
    /// Lists records of `E`: `GET /{E}`.
    pub fn list<E: Entity>(&self) -> ListRequest<E> {
        ListRequest::new(self.clone())
    }

    /// The `E` records linked to the `entity` record `id` through `link` (generated crates call
    /// it from their link methods, e.g. `brand().products(id)`).
    pub fn linked<E: Entity>(
        &self,
        entity: &'static str,
        id: &str,
        link: &'static str,
    ) -> ListRequest<E> {
        ListRequest::linked(self.clone(), entity, id, link)
    }

    /// Reads one record of `E`: `GET /{E}/{id}`.
    pub fn read<E: Entity>(&self, id: &str) -> ReadRequest<E> {
        ReadRequest::new(self.clone(), id)
    }

    /// Creates a record of `E` from `body`: `POST /{E}`.
    pub fn create<E: Entity, B: Serialize + ?Sized>(&self, body: &B) -> CreateRequest<E> {
        CreateRequest::new(self.clone(), body)
    }

    /// Updates the record `id` of `E` with the fields of `body`: `PUT` (2.2 specs) or `PATCH`
    /// (2.3) `/{E}/{id}`.
    pub fn update<E: Entity, B: Serialize + ?Sized>(
        &self,
        method: Method,
        id: &str,
        body: &B,
    ) -> UpdateRequest<E> {
        UpdateRequest::new(self.clone(), method, id, body)
    }

    /// Deletes the record `id` of `E`: `DELETE /{E}/{id}`; resolves to AtroCore's `true`.
    pub fn delete<E: Entity>(&self, id: &str) -> DeleteRequest<E> {
        DeleteRequest::new(self.clone(), id)
    }
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

/// `GET /{E}`: a page of records, or all of them as a stream. `.await` sends it.
///
/// ```ignore
/// // With a generated crate `pim` (entity `Product`, filters in `product::filter`):
/// use pim::product::{filter, ProductField};
/// let page = client.product().list()
///     .select([ProductField::Id, ProductField::Name])
///     .filter(filter::name().like("%chair%") & filter::is_active().is_true())
///     .sort_by(ProductField::ModifiedAt).asc(false)
///     .max_size(50)
///     .await?;
/// println!("{} of {}", page.list.len(), page.total);
/// ```
///
/// `L` is `()` for the records of `E`, or the [`ToManyLink`](crate::ToManyLink) the list runs through for
/// the records linked to one record (`client.product().files(id)`): such a list also links and
/// unlinks (`add`, `remove`, `add_matching`, `clear`).
pub struct ListRequest<E, L = ()> {
    client: Client,
    select: Vec<Cow<'static, str>>,
    filter: Where,
    offset: Option<u64>,
    max_size: Option<u64>,
    sort_by: Option<Cow<'static, str>>,
    asc: Option<bool>,
    with_meta: bool,
    flatten_attributes: bool,
    all_attributes: bool,
    attributes: Vec<String>,
    language: Option<String>,
    /// Records linked to another record, rather than all records of `E`.
    linked: Option<Linked>,
    timeout: Option<Duration>,
    _entity: PhantomData<fn() -> (E, L)>,
}

/// The record a linked list starts from.
#[derive(Debug, Clone)]
pub(crate) struct Linked {
    pub(crate) entity: &'static str,
    pub(crate) id: String,
    pub(crate) link: &'static str,
}

impl<E: Entity> ListRequest<E> {
    pub(crate) fn new(client: Client) -> Self {
        Self::unlinked(client)
    }
}

impl<E: Entity, L: 'static> ListRequest<E, L> {
    fn unlinked(client: Client) -> Self {
        Self {
            client,
            select: Vec::new(),
            filter: Where::new(),
            offset: None,
            max_size: None,
            sort_by: None,
            asc: None,
            with_meta: false,
            flatten_attributes: false,
            all_attributes: false,
            attributes: Vec::new(),
            language: None,
            linked: None,
            timeout: None,
            _entity: PhantomData,
        }
    }

    /// The records of `E` linked to the `entity` record `id` through `link` (what generated link
    /// methods such as `brand().products(id)` call): 2.2 `GET /{entity}/{id}/{link}`, 2.3
    /// `GET /entityRelation`. Every list option applies.
    pub(crate) fn linked(
        client: Client,
        entity: &'static str,
        id: &str,
        link: &'static str,
    ) -> Self {
        let mut request = Self::unlinked(client);
        request.linked = Some(Linked {
            entity,
            id: id.to_owned(),
            link,
        });
        request
    }

    /// Only these fields (`select=id,name`); AtroCore may add a few it always sends.
    #[must_use]
    pub fn select(mut self, fields: impl IntoIterator<Item = E::Field>) -> Self {
        self.select
            .extend(fields.into_iter().map(|f| Cow::Borrowed(f.name())));
        self
    }

    /// Only these fields, by wire name: for fields the spec does not know (custom fields,
    /// flattened attributes).
    #[must_use]
    pub fn select_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.select
            .extend(names.into_iter().map(|n| Cow::Owned(n.into())));
        self
    }

    /// Only records matching `filter`; several calls must all hold.
    #[must_use]
    pub fn filter(mut self, filter: Filter<E>) -> Self {
        self.filter.extend(filter.into_where());
        self
    }

    /// Skip this many records.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// At most this many records (`maxSize`; AtroCore caps it, often at 200). Also the page size
    /// of [`stream`](Self::stream) and [`keyset_stream`](Self::keyset_stream).
    #[must_use]
    #[doc(alias = "limit")]
    pub fn max_size(mut self, max_size: u64) -> Self {
        self.max_size = Some(max_size);
        self
    }

    /// Sort by `field` (`sortBy`).
    #[must_use]
    pub fn sort_by(mut self, field: E::Field) -> Self {
        self.sort_by = Some(Cow::Borrowed(field.name()));
        self
    }

    /// Sort by the field with this wire name.
    #[must_use]
    pub fn sort_by_name(mut self, name: impl Into<String>) -> Self {
        self.sort_by = Some(Cow::Owned(name.into()));
        self
    }

    /// Ascending (`true`, AtroCore's default) or descending.
    #[must_use]
    #[doc(alias = "desc")]
    #[doc(alias = "order")]
    pub fn asc(mut self, asc: bool) -> Self {
        self.asc = Some(asc);
        self
    }

    /// Ask for `_meta` on each record (header `With-Meta: true`).
    #[must_use]
    pub fn with_meta(mut self, on: bool) -> Self {
        self.with_meta = on;
        self
    }

    /// Attributes as virtual fields of the records (header `Flatten-Attributes: true`); they land
    /// in the records' `extra` map.
    #[must_use]
    pub fn flatten_attributes(mut self, on: bool) -> Self {
        self.flatten_attributes = on;
        self
    }

    /// Every attribute of each record as virtual fields (`allAttributes=true`; turns on
    /// [`flatten_attributes`](Self::flatten_attributes), without which AtroCore ignores it).
    /// Read them with [`FlatAttributes`](crate::FlatAttributes).
    #[must_use]
    pub fn all_attributes(mut self, on: bool) -> Self {
        self.all_attributes = on;
        self.flatten_attributes |= on;
        self
    }

    /// These attributes (by id) of each record as virtual fields (`attributes=id1,id2`; turns on
    /// [`flatten_attributes`](Self::flatten_attributes)).
    #[must_use]
    pub fn attributes<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.attributes.extend(ids.into_iter().map(Into::into));
        self.flatten_attributes |= !self.attributes.is_empty();
        self
    }

    /// Values of multilingual fields in this language (header `language`): `main`, or one of
    /// the instance's input languages (`de_DE`); the language variants (`nameDeDe`) are then left
    /// out. Any other value, the main language's own code included, is AtroCore's `400`
    /// "No such language is available.".
    #[must_use]
    pub fn language(mut self, language: &str) -> Self {
        self.language = Some(language.to_owned());
        self
    }

    /// The time limit of each attempt of this request, instead of the client's.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The plain request, to add parameters or headers this builder does not know.
    pub fn into_request(self) -> RequestBuilder {
        self.to_request()
    }

    fn to_request(&self) -> RequestBuilder {
        let select = (!self.select.is_empty()).then(|| self.select.join(","));
        let attributes = (!self.attributes.is_empty()).then(|| self.attributes.join(","));
        let request = match &self.linked {
            None => self.client.request(Method::GET, format!("/{}", E::NAME)),
            Some(l) if self.client.generation() == crate::ApiGeneration::V2_2 => {
                self.client.request(
                    Method::GET,
                    format!("/{}/{}/{}", l.entity, encode_path_segment(&l.id), l.link),
                )
            }
            Some(l) => {
                if let Err(e) = crate::http::execute::check_path_value(&l.id) {
                    return self.client.request(Method::GET, "/entityRelation").fail(e);
                }
                self.client
                    .request(Method::GET, "/entityRelation")
                    .query("entityName", l.entity)
                    .query("id", &l.id)
                    .query("link", l.link)
            }
        };
        request
            .query_opt("select", select)
            .filter("where", &self.filter)
            .query_opt("offset", self.offset)
            .query_opt("maxSize", self.max_size)
            .query_opt("sortBy", self.sort_by.as_deref())
            .query_opt("asc", self.asc)
            .query_opt("allAttributes", flag(self.all_attributes))
            .query_opt("attributes", attributes)
            .header_opt("With-Meta", flag(self.with_meta))
            .header_opt("Flatten-Attributes", flag(self.flatten_attributes))
            .header_opt("language", self.language.as_deref())
            .timeout_opt(self.timeout)
    }

    pub(crate) fn linked_record(&self) -> Option<&Linked> {
        self.linked.as_ref()
    }

    pub(crate) fn client_ref(&self) -> &Client {
        &self.client
    }

    fn page_size(&self) -> u64 {
        self.max_size
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// The number of matching records, without reading them: one request with
    /// `totalOnly=true`, which AtroCore answers with `{"total": n}` alone (2.2
    /// `Atro/Controllers/AbstractRecordController.php::actionList`, 2.3
    /// `Atro/Handlers/AbstractHandler.php::buildListResult`; the server still reads a page, so
    /// it is asked for one record).
    ///
    /// `None` when the server does not count this entity: AtroCore's setting
    /// `disabledCountQueryEntityList` makes its lists answer a `total` of -1 or -2 instead.
    /// Streams do not depend on the count (see [`stream`](Self::stream)).
    pub async fn count(self) -> Result<Option<u64>> {
        count_total(self.max_size(1).offset(0).to_request()).await
    }

    /// Every matching record, fetched page by page with `offset` (page size
    /// [`max_size`](Self::max_size), default 200), starting at [`offset`](Self::offset). The
    /// next page is requested while the current one is decoded and consumed (on a task of its
    /// own), so at most two pages are held in memory; dropping the stream cancels that request.
    /// The stream ends after the first error.
    ///
    /// Offset paging is simple and keeps any sort order, but it is not a snapshot: records
    /// created or deleted while paging shift the pages, so a record may be skipped or seen twice,
    /// and deep offsets get slow on large tables. Sort by a field that does not change while you
    /// page. For large or busy tables use [`keyset_stream`](Self::keyset_stream).
    pub fn stream(self) -> BoxStream<E::Record> {
        let (start, page_size) = (self.offset.unwrap_or(0), self.page_size());
        paging::offset_stream(self, start, page_size)
    }

    /// Every matching record in ascending `id` order, fetched with keyset paging: each page asks
    /// for `id > <last id seen>` (a `greaterThan` condition added to the filter) sorted by `id`,
    /// so every page costs the same however deep, and records created or deleted meanwhile never
    /// shift the pages: each record that exists throughout is seen exactly once. Records created
    /// during the run show up only if their id sorts after the current position.
    ///
    /// The pages follow `id`: ascending, or descending with [`asc(false)`](Self::asc) and
    /// [`sort_by`](Self::sort_by)`(id)`. A sort by another field cannot be kept (a page boundary
    /// inside a run of equal values would skip or repeat records), so the stream then yields one
    /// [`ErrorKind::Builder`](crate::ErrorKind::Builder) error instead of silently changing the order: use
    /// [`stream`](Self::stream) for that order. [`offset`](Self::offset) is ignored; `id` is added
    /// to [`select`](Self::select) when a selection is given. Ids compare as strings, in the
    /// database's collation, which is also the order of `sortBy=id`.
    pub fn keyset_stream(self) -> BoxStream<E::Record> {
        let mut request = self;
        if let Some(field) = request.sort_by.as_deref().filter(|f| *f != "id") {
            let e = Error::builder(format!(
                "keyset_stream pages by `id` and cannot keep the sort by `{field}`: use stream() \
                 (offset paging) for that order, or drop sort_by"
            ))
            .with_request(&Method::GET, &format!("/{}", E::NAME));
            return Box::pin(futures_util::stream::once(async move { Err(e) }));
        }
        if !request.select.is_empty() && !request.select.iter().any(|s| s == "id") {
            request.select.insert(0, Cow::Borrowed("id"));
        }
        let ascending = request.sort_by.is_none() || request.asc != Some(false);
        request.sort_by = Some(Cow::Borrowed("id"));
        request.asc = Some(ascending);
        request.offset = None;
        let page_size = request.page_size();
        paging::keyset_stream(request, None, page_size)
    }
    /// The changes to the matching records since `watermark`: every record created,
    /// modified or deleted after it, exactly once, in `(modifiedAt, id)` order, each with the
    /// watermark to persist after it (see [`changes`](crate::changes) for how, and for what
    /// AtroCore does not stamp). The filter, selection (plus `id` and `modifiedAt`) and page
    /// size ([`max_size`](Self::max_size)) of this list apply; a sort other than by
    /// `modifiedAt` is an [`ErrorKind::Builder`](crate::ErrorKind::Builder) error.
    ///
    /// ```no_run
    /// # use atrocore_runtime::{Client, Entity, Watermark, Change};
    /// # async fn demo<E: Entity>(client: Client, saved: Watermark) -> atrocore_runtime::Result<()>
    /// # where E::Record: std::fmt::Debug {
    /// use futures_util::TryStreamExt;
    ///
    /// let mut feed = client.list::<E>().max_size(500).changes_since(&saved).stream();
    /// while let Some(change) = feed.try_next().await? {
    ///     match &change {
    ///         Change::Modified { record, .. } => println!("send {record:?}"),
    ///         Change::Deleted { record, .. } => println!("remove {record:?}"),
    ///     }
    ///     let _persist_me = change.watermark();
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn changes_since(self, watermark: &Watermark) -> ChangeFeed<E::Record> {
        let mut request = self;
        for field in ["id", "modifiedAt"] {
            if !request.select.is_empty() && !request.select.iter().any(|s| s == field) {
                request.select.push(Cow::Borrowed(field));
            }
        }
        request.offset = None;
        let sort_by = request.sort_by.take();
        let page_size = request.page_size();
        ChangeFeed::new(Box::new(request), watermark, page_size, sort_by.as_deref())
    }
}

impl<E: Entity, L: 'static> Pager for ListRequest<E, L> {
    fn page(&self, spec: PageSpec) -> RequestBuilder {
        let mut request = self.clone();
        request.max_size = Some(spec.size);
        if spec.offset.is_some() {
            request.offset = spec.offset;
        }
        if let Some((field, ascending)) = spec.sort {
            request.sort_by = Some(Cow::Borrowed(field));
            request.asc = Some(ascending);
        }
        request.filter.extend(spec.conditions);
        request.to_request()
    }

    fn descending(&self) -> bool {
        self.asc == Some(false)
    }

    fn path(&self) -> String {
        format!("/{}", E::NAME)
    }
}

impl<E, L> Clone for ListRequest<E, L> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            select: self.select.clone(),
            filter: self.filter.clone(),
            offset: self.offset,
            max_size: self.max_size,
            sort_by: self.sort_by.clone(),
            asc: self.asc,
            with_meta: self.with_meta,
            flatten_attributes: self.flatten_attributes,
            all_attributes: self.all_attributes,
            attributes: self.attributes.clone(),
            language: self.language.clone(),
            linked: self.linked.clone(),
            timeout: self.timeout,
            _entity: PhantomData,
        }
    }
}

impl<E, L> fmt::Debug for ListRequest<E, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest")
            .field("select", &self.select)
            .field("filter", &self.filter)
            .field("offset", &self.offset)
            .field("max_size", &self.max_size)
            .field("sort_by", &self.sort_by)
            .field("asc", &self.asc)
            .field("with_meta", &self.with_meta)
            .field("flatten_attributes", &self.flatten_attributes)
            .field("all_attributes", &self.all_attributes)
            .field("attributes", &self.attributes)
            .field("language", &self.language)
            .field("linked", &self.linked)
            .finish_non_exhaustive()
    }
}

impl<E: Entity, L: 'static> IntoFuture for ListRequest<E, L> {
    type Output = Result<ListResult<E::Record>>;
    type IntoFuture = BoxFuture<ListResult<E::Record>>;
    fn into_future(self) -> Self::IntoFuture {
        let request = self.to_request();
        Box::pin(request.send_json())
    }
}

// ---------------------------------------------------------------------------------------------
// Read, create, update, delete
// ---------------------------------------------------------------------------------------------

/// `GET /{E}/{id}`: one record. `.await` sends it.
pub struct ReadRequest<E> {
    client: Client,
    id: String,
    with_meta: bool,
    flatten_attributes: bool,
    language: Option<String>,
    timeout: Option<Duration>,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> ReadRequest<E> {
    pub(crate) fn new(client: Client, id: &str) -> Self {
        Self {
            client,
            id: id.to_owned(),
            with_meta: false,
            flatten_attributes: false,
            language: None,
            timeout: None,
            _entity: PhantomData,
        }
    }

    /// Ask for `_meta` (header `With-Meta: true`).
    #[must_use]
    pub fn with_meta(mut self, on: bool) -> Self {
        self.with_meta = on;
        self
    }

    /// Attributes as virtual fields (header `Flatten-Attributes: true`).
    #[must_use]
    pub fn flatten_attributes(mut self, on: bool) -> Self {
        self.flatten_attributes = on;
        self
    }

    /// Values of multilingual fields in this language (header `language`): `main` or an input
    /// language of the instance (see [`ListRequest::language`]).
    #[must_use]
    pub fn language(mut self, language: &str) -> Self {
        self.language = Some(language.to_owned());
        self
    }

    /// The time limit of each attempt of this request, instead of the client's.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The plain request.
    pub fn into_request(self) -> RequestBuilder {
        self.client
            .request(Method::GET, entity_path::<E>(&self.id))
            .header_opt("With-Meta", flag(self.with_meta))
            .header_opt("Flatten-Attributes", flag(self.flatten_attributes))
            .header_opt("language", self.language)
            .timeout_opt(self.timeout)
    }
}

impl<E: Entity> IntoFuture for ReadRequest<E> {
    type Output = Result<E::Record>;
    type IntoFuture = BoxFuture<E::Record>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.into_request().send_json())
    }
}

/// `POST /{E}`: creates a record and resolves to it. `.await` sends it (never retried: a
/// `POST` is not idempotent).
pub struct CreateRequest<E> {
    client: Client,
    body: Result<Bytes>,
    with_meta: bool,
    timeout: Option<Duration>,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> CreateRequest<E> {
    pub(crate) fn new<B: Serialize + ?Sized>(client: Client, body: &B) -> Self {
        Self {
            client,
            body: serialize_body(body),
            with_meta: false,
            timeout: None,
            _entity: PhantomData,
        }
    }

    /// Ask for `_meta` in the answer (header `With-Meta: true`).
    #[must_use]
    pub fn with_meta(mut self, on: bool) -> Self {
        self.with_meta = on;
        self
    }

    /// The time limit of each attempt of this request, instead of the client's.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The plain request.
    pub fn into_request(self) -> RequestBuilder {
        let request = self
            .client
            .request(Method::POST, format!("/{}", E::NAME))
            .header_opt("With-Meta", flag(self.with_meta))
            .timeout_opt(self.timeout);
        with_body(request, self.body)
    }
}

fn with_body(request: RequestBuilder, body: Result<Bytes>) -> RequestBuilder {
    match body {
        Ok(bytes) => request.json_bytes(bytes),
        Err(e) => request.fail(e),
    }
}

impl<E: Entity> IntoFuture for CreateRequest<E> {
    type Output = Result<E::Record>;
    type IntoFuture = BoxFuture<E::Record>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.into_request().send_json())
    }
}

/// `PUT` or `PATCH /{E}/{id}`: changes the given fields and resolves to the record. `.await`
/// sends it (never retried).
pub struct UpdateRequest<E> {
    client: Client,
    method: Method,
    id: String,
    body: Result<Bytes>,
    with_meta: bool,
    flatten_attributes: bool,
    timeout: Option<Duration>,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> UpdateRequest<E> {
    pub(crate) fn new<B: Serialize + ?Sized>(
        client: Client,
        method: Method,
        id: &str,
        body: &B,
    ) -> Self {
        Self {
            client,
            method,
            id: id.to_owned(),
            body: serialize_body(body),
            with_meta: false,
            flatten_attributes: false,
            timeout: None,
            _entity: PhantomData,
        }
    }

    /// Ask for `_meta` in the answer (header `With-Meta: true`).
    #[must_use]
    pub fn with_meta(mut self, on: bool) -> Self {
        self.with_meta = on;
        self
    }

    /// Send and receive attributes as virtual fields (header `Flatten-Attributes: true`).
    #[must_use]
    pub fn flatten_attributes(mut self, on: bool) -> Self {
        self.flatten_attributes = on;
        self
    }

    /// The time limit of each attempt of this request, instead of the client's.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The plain request.
    pub fn into_request(self) -> RequestBuilder {
        let request = self
            .client
            .request(self.method, entity_path::<E>(&self.id))
            .header_opt("With-Meta", flag(self.with_meta))
            .header_opt("Flatten-Attributes", flag(self.flatten_attributes))
            .timeout_opt(self.timeout);
        with_body(request, self.body)
    }
}

impl<E: Entity> IntoFuture for UpdateRequest<E> {
    type Output = Result<E::Record>;
    type IntoFuture = BoxFuture<E::Record>;
    /// AtroCore answers an update that changes nothing with `304 Not Modified` and no body; the
    /// record is then read back, so an update always resolves to the current record.
    fn into_future(self) -> Self::IntoFuture {
        let client = self.client.clone();
        let id = self.id.clone();
        let (with_meta, flatten, timeout) = (self.with_meta, self.flatten_attributes, self.timeout);
        Box::pin(async move {
            match self.into_request().send_json().await {
                Err(e) if e.status() == Some(304) => {
                    client
                        .request(Method::GET, entity_path::<E>(&id))
                        .header_opt("With-Meta", flag(with_meta))
                        .header_opt("Flatten-Attributes", flag(flatten))
                        .timeout_opt(timeout)
                        .send_json()
                        .await
                }
                other => other,
            }
        })
    }
}

/// `DELETE /{E}/{id}`: resolves to AtroCore's answer, `true`. `.await` sends it.
pub struct DeleteRequest<E> {
    client: Client,
    id: String,
    permanently: bool,
    timeout: Option<Duration>,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> DeleteRequest<E> {
    pub(crate) fn new(client: Client, id: &str) -> Self {
        Self {
            client,
            id: id.to_owned(),
            permanently: false,
            timeout: None,
            _entity: PhantomData,
        }
    }

    /// Delete for good instead of moving to the trash (header `permanently: true`).
    #[must_use]
    pub fn permanently(mut self, on: bool) -> Self {
        self.permanently = on;
        self
    }

    /// The time limit of each attempt of this request, instead of the client's.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The plain request.
    pub fn into_request(self) -> RequestBuilder {
        self.client
            .request(Method::DELETE, entity_path::<E>(&self.id))
            .header_opt("permanently", flag(self.permanently))
            .timeout_opt(self.timeout)
    }
}

impl<E: Entity> IntoFuture for DeleteRequest<E> {
    type Output = Result<bool>;
    type IntoFuture = BoxFuture<bool>;
    fn into_future(self) -> Self::IntoFuture {
        let path = entity_path::<E>(&self.id);
        let request = self.into_request();
        Box::pin(async move {
            let body = request.send_bytes().await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(true);
            }
            serde_json::from_slice::<bool>(&body)
                .map_err(|e| Error::decode(e).with_request(&Method::DELETE, &path))
        })
    }
}

macro_rules! debug_request {
    ($name:ident { $($field:ident),* }) => {
        impl<E> fmt::Debug for $name<E> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("entity", &std::any::type_name::<E>())
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}

debug_request!(ReadRequest {
    id,
    with_meta,
    flatten_attributes,
    language
});
debug_request!(CreateRequest { with_meta });
debug_request!(UpdateRequest {
    method,
    id,
    with_meta,
    flatten_attributes
});
debug_request!(DeleteRequest { id, permanently });
