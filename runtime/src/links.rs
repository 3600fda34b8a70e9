//! Linking and unlinking records (to-many links): 2.2 `POST`/`DELETE /{E}/{id}/{link}`, 2.3
//! `POST`/`DELETE /entityRelation`; by id, by filter (`massRelate`) and all at once. A generated
//! link method (`product().files(id)`) answers the list of linked records typed by its
//! [`ToManyLink`], whose `add`, `remove`, `add_matching` and `clear` call these.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{ApiGeneration, Client};
use crate::encode::encode_path_segment;
use crate::entity::{Entity, Linked, ListRequest};
use crate::error::Error;
use crate::filter::{Filter, Where};
use crate::http::execute::check_path_value;
use crate::id::AsId;
use crate::operation::Operation;
use crate::request::RequestBuilder;

impl Client {
    /// Links the `entity` record `id` to the records `ids` through `link`. Linking a record
    /// that is already linked changes nothing, so the call is retried like a read.
    pub fn link_records<S: AsRef<str>>(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        ids: &[S],
    ) -> Operation<()> {
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        let mut fields = Map::new();
        fields.insert("ids".into(), json!(ids));
        let body = relation_body(self.generation(), entity, id, link, fields);
        let request = self.relation_write(entity, id, link).json(&body);
        let request = if ids.is_empty() {
            request.fail(Error::builder("no ids to link"))
        } else {
            request
        };
        Operation::empty(request.idempotent(true))
    }

    /// Unlinks the records `ids` from the `entity` record `id` (link `link`); the records stay.
    pub fn unlink_records<S: AsRef<str>>(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        ids: &[S],
    ) -> Operation<()> {
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        let request = self.relation_delete(entity, id, link);
        let request = if ids.is_empty() {
            request.fail(Error::builder("no ids to unlink"))
        } else {
            request
        };
        // Both generations document `ids` as one comma-separated string.
        Operation::empty(request.query("ids", ids.join(",")).idempotent(true))
    }
}

impl Client {
    /// Links to the `entity` record `id`, through `link`, every record of the link's target that
    /// matches `filter` (AtroCore's `massRelate`; 2.2 `POST /{E}/{id}/{link}`, 2.3
    /// `POST /entityRelation`). The server selects the records: nothing is listed first. An
    /// empty filter matches, and links, every record of the target. Retried like a read: linking
    /// again changes nothing.
    ///
    /// The filter goes in the JSON body in the server's form (negations pushed down, the
    /// client's [time zone](crate::ClientBuilder::time_zone) on date-time conditions); a filter
    /// the server cannot express fails with [`ErrorKind::Query`](crate::ErrorKind::Query) before
    /// anything is sent.
    pub fn link_matching(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        filter: &Where,
    ) -> Operation<()> {
        let request = self.relation_write(entity, id, link);
        let mut fields = Map::new();
        fields.insert("massRelate".into(), Value::Bool(true));
        let body = relation_body(self.generation(), entity, id, link, fields);
        let request = request.json_with_where(body, filter);
        Operation::empty(request.idempotent(true))
    }

    /// Unlinks every record linked to the `entity` record `id` through `link`; the records stay
    /// (2.2 `POST /{E}/action/unlinkAll`, 2.3 `DELETE /entityRelation?…&all=true`). Retried like
    /// a read: unlinking again changes nothing.
    pub fn unlink_all(&self, entity: &str, id: &str, link: &str) -> Operation<()> {
        let request = match self.generation() {
            ApiGeneration::V2_2 => self
                .request(
                    Method::POST,
                    format!("/{}/action/unlinkAll", encode_path_segment(entity)),
                )
                .json(&json!({ "id": id, "link": link })),
            _ => self.relation_delete(entity, id, link).query("all", "true"),
        };
        Operation::empty(request.idempotent(true))
    }

    /// The request that links records: 2.2 `POST /{E}/{id}/{link}`, 2.3 `POST /entityRelation`
    /// (whose id travels in the body, checked as a path value would be).
    fn relation_write(&self, entity: &str, id: &str, link: &str) -> RequestBuilder {
        match self.generation() {
            ApiGeneration::V2_2 => self.request(Method::POST, relation_path(entity, id, link)),
            _ => {
                let request = self.request(Method::POST, "/entityRelation");
                match check_path_value(id) {
                    Ok(()) => request,
                    Err(e) => request.fail(e),
                }
            }
        }
    }

    /// The request that unlinks records: 2.2 `DELETE /{E}/{id}/{link}`, 2.3
    /// `DELETE /entityRelation?entityName=&id=&link=`.
    fn relation_delete(&self, entity: &str, id: &str, link: &str) -> RequestBuilder {
        match self.generation() {
            ApiGeneration::V2_2 => self.request(Method::DELETE, relation_path(entity, id, link)),
            _ => {
                let request = self
                    .request(Method::DELETE, "/entityRelation")
                    .query("entityName", entity)
                    .query("id", id)
                    .query("link", link);
                match check_path_value(id) {
                    Ok(()) => request,
                    Err(e) => request.fail(e),
                }
            }
        }
    }
}

/// The JSON body of a link request: `fields` alone on 2.2 (the record and link are in the
/// path), with `entityName`, `id` and `link` on 2.3.
fn relation_body(
    generation: ApiGeneration,
    entity: &str,
    id: &str,
    link: &str,
    mut fields: Map<String, Value>,
) -> Map<String, Value> {
    if generation != ApiGeneration::V2_2 {
        fields.insert("entityName".into(), entity.into());
        fields.insert("id".into(), id.into());
        fields.insert("link".into(), link.into());
    }
    fields
}

fn relation_path(entity: &str, id: &str, link: &str) -> String {
    format!(
        "/{}/{}/{}",
        encode_path_segment(entity),
        encode_path_segment(id),
        encode_path_segment(link)
    )
}

/// A to-many link of an entity, as a type: generated crates define one per link in each entity
/// module's `links` (`product::links::Files`), so the list of linked records and the calls that
/// link and unlink know the link's name, where it starts and what it points to.
pub trait ToManyLink: 'static {
    /// The entity the link starts from (`Product`).
    type Source: Entity;
    /// The entity of the linked records (`File`).
    type Target: Entity;
    /// The link's wire name (`"files"`).
    const NAME: &'static str;
}

impl<L: ToManyLink> ListRequest<L::Target, L> {
    /// The records linked to the record `id` of `L::Source` through `L` (what a generated link
    /// method such as `product().files(id)` returns).
    pub fn through(client: &Client, id: impl AsId<<L::Source as Entity>::Id>) -> Self {
        Self::linked(client.clone(), L::Source::NAME, id.id_str(), L::NAME)
    }

    fn source(&self) -> (&Client, &Linked) {
        let linked = self
            .linked_record()
            .expect("a ListRequest over a Link is always made by `through`");
        (self.client_ref(), linked)
    }

    /// Links the records `ids` to the record this list starts from (2.2
    /// `POST /{E}/{id}/{link}`, 2.3 `POST /entityRelation`). Linking a record that is already
    /// linked changes nothing, so the call is retried like a read. The list's own options
    /// (filter, select, …) play no part.
    pub fn add<S: AsId<<L::Target as Entity>::Id>>(&self, ids: &[S]) -> Operation<()> {
        let (client, l) = self.source();
        let ids: Vec<&str> = ids.iter().map(AsId::id_str).collect();
        client.link_records(l.entity, &l.id, l.link, &ids)
    }

    /// Unlinks the records `ids` from the record this list starts from; they stay.
    pub fn remove<S: AsId<<L::Target as Entity>::Id>>(&self, ids: &[S]) -> Operation<()> {
        let (client, l) = self.source();
        let ids: Vec<&str> = ids.iter().map(AsId::id_str).collect();
        client.unlink_records(l.entity, &l.id, l.link, &ids)
    }

    /// Links every record of the target that matches `filter` (AtroCore's `massRelate`: the
    /// server selects them; an empty filter matches every record), as
    /// [`Client::link_matching`].
    pub fn add_matching(&self, filter: Filter<L::Target>) -> Operation<()> {
        let (client, l) = self.source();
        client.link_matching(l.entity, &l.id, l.link, &filter.into_where())
    }

    /// Unlinks every linked record; they stay, as [`Client::unlink_all`].
    pub fn clear(&self) -> Operation<()> {
        let (client, l) = self.source();
        client.unlink_all(l.entity, &l.id, l.link)
    }
}
