//! Linking and unlinking records (to-many links): 2.2 `POST`/`DELETE /{E}/{id}/{link}`, 2.3
//! `POST`/`DELETE /entityRelation`. Generated crates call these from `link_<link>` /
//! `unlink_<link>` methods; lists of linked records are [`Client::linked`].

use reqwest::Method;
use serde_json::json;

use crate::client::{ApiGeneration, Client};
use crate::encode::encode_path_segment;
use crate::error::Error;
use crate::http::execute::check_path_value;
use crate::operation::Operation;

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
        let request = match self.generation() {
            ApiGeneration::V2_2 => self
                .request(Method::POST, relation_path(entity, id, link))
                .json(&json!({ "ids": ids })),
            _ => {
                let request = self
                    .request(Method::POST, "/entityRelation")
                    .json(&json!({ "entityName": entity, "id": id, "link": link, "ids": ids }));
                match check_path_value(id) {
                    Ok(()) => request,
                    Err(e) => request.fail(e),
                }
            }
        };
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
        let request = match self.generation() {
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
        };
        let request = if ids.is_empty() {
            request.fail(Error::builder("no ids to unlink"))
        } else {
            request
        };
        // Both generations document `ids` as one comma-separated string.
        Operation::empty(request.query("ids", ids.join(",")).idempotent(true))
    }
}

fn relation_path(entity: &str, id: &str, link: &str) -> String {
    format!(
        "/{}/{}/{}",
        encode_path_segment(entity),
        encode_path_segment(id),
        encode_path_segment(link)
    )
}
