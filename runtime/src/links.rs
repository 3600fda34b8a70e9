//! Linking and unlinking records (to-many links): 2.2 `POST`/`DELETE /{E}/{id}/{link}`, 2.3
//! `POST`/`DELETE /entityRelation`. Generated crates call these from `link_<link>` /
//! `unlink_<link>` methods; lists of linked records are [`Client::linked`].

use reqwest::Method;
use serde_json::json;

use crate::client::{ApiGeneration, Client};
use crate::encode::encode_path_segment;
use crate::error::{Error, Result};
use crate::http::execute::check_path_value;

impl Client {
    /// Links the `entity` record `id` to the records `ids` through `link`. Linking a record
    /// that is already linked changes nothing, so the call is retried like a read.
    pub async fn link_records<S: AsRef<str>>(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        ids: &[S],
    ) -> Result<()> {
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        if ids.is_empty() {
            return Err(Error::builder("no ids to link"));
        }
        let request = match self.generation() {
            ApiGeneration::V2_2 => self
                .request(Method::POST, relation_path(entity, id, link))
                .json(&json!({ "ids": ids })),
            _ => {
                check_path_value(id)?;
                self.request(Method::POST, "/entityRelation")
                    .json(&json!({ "entityName": entity, "id": id, "link": link, "ids": ids }))
            }
        };
        request.idempotent(true).send_empty().await
    }

    /// Unlinks the records `ids` from the `entity` record `id` (link `link`); the records stay.
    pub async fn unlink_records<S: AsRef<str>>(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        ids: &[S],
    ) -> Result<()> {
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        if ids.is_empty() {
            return Err(Error::builder("no ids to unlink"));
        }
        let request = match self.generation() {
            ApiGeneration::V2_2 => self.request(Method::DELETE, relation_path(entity, id, link)),
            _ => {
                check_path_value(id)?;
                self.request(Method::DELETE, "/entityRelation")
                    .query("entityName", entity)
                    .query("id", id)
                    .query("link", link)
            }
        };
        // Both generations document `ids` as one comma-separated string.
        request
            .query("ids", ids.join(","))
            .idempotent(true)
            .send_empty()
            .await
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
