//! Sharing: public links to files (`POST /Sharing` with `fileId`), and a check that a link
//! serves the expected bytes.
//!
//! A Sharing record has the read-only fields `link` (download) and `viewLink` (inline view); it
//! stops serving when `active` is false, after `validTill`, or after `allowedUsage` uses.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use reqwest::Method;
use serde_json::{Map, Value};

use crate::client::{ApiGeneration, Client};
use crate::encode::encode_path_segment;
use crate::error::{Error, ErrorKind, Result};
use crate::files::FileDownload;
use crate::time::DateTime;

/// A public link to a file, read from the Sharing record the server created.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedLink {
    /// The Sharing record's id.
    pub id: String,
    /// The download link (`…/sharings/{id}.{ext}`).
    pub link: String,
    /// The inline view link (`link` with `?view=1`), when the server gives one.
    pub view_link: Option<String>,
    /// When the link stops working, if it expires.
    pub valid_till: Option<DateTime>,
    /// The whole Sharing record.
    pub record: Value,
}

impl SharedLink {
    /// Fetches the link (without credentials, as anyone would) and compares what it serves
    /// with `expected`, piece by piece.
    pub async fn serves(&self, client: &Client, expected: &[u8]) -> Result<bool> {
        client
            .fetch_public(&self.link)
            .await?
            .matches(expected)
            .await
    }
}

/// `POST /Sharing`: a public link to a file. `.await` creates it and returns a [`SharedLink`].
///
/// ```no_run
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::DateTime;
///
/// let expires = DateTime::from_unix_seconds(DateTime::now().unix_seconds() + 7 * 86_400);
/// let shared = client
///     .share_file("a01file")
///     .name("Press kit")
///     .valid_till(expires)
///     .allowed_usage(100)
///     .await?;
/// println!("download: {}, view: {:?}", shared.link, shared.view_link);
/// assert!(shared.serves(&client, b"expected content").await?);
/// # Ok(())
/// # }
/// ```
pub struct ShareRequest {
    client: Client,
    body: Map<String, Value>,
}

impl fmt::Debug for ShareRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareRequest")
            .field("fields", &self.body.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ShareRequest {
    /// A label for the link.
    #[must_use]
    pub fn name(self, name: impl Into<String>) -> Self {
        self.set("name", Value::String(name.into()))
    }

    /// A longer description.
    #[must_use]
    pub fn description(self, text: impl Into<String>) -> Self {
        self.set("description", Value::String(text.into()))
    }

    /// When the link stops working (`validTill`).
    #[must_use]
    pub fn valid_till(self, at: DateTime) -> Self {
        self.set("validTill", Value::from(at))
    }

    /// How many downloads the link allows (`allowedUsage`; 0 = unlimited).
    #[must_use]
    pub fn allowed_usage(self, n: i64) -> Self {
        self.set("allowedUsage", Value::from(n))
    }

    /// Whether the link works at all (`active`, default true).
    #[must_use]
    pub fn active(self, active: bool) -> Self {
        self.set("active", Value::Bool(active))
    }

    /// Any other field of the Sharing record.
    #[must_use]
    pub fn field(self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set(name, value.into())
    }

    fn set(mut self, name: impl Into<String>, value: Value) -> Self {
        self.body.insert(name.into(), value);
        self
    }

    async fn run(self) -> Result<SharedLink> {
        let record: Value = self
            .client
            .request(Method::POST, "/Sharing")
            .json(&self.body)
            .send_json()
            .await?;
        shared_link(record)
    }
}

impl IntoFuture for ShareRequest {
    type Output = Result<SharedLink>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<SharedLink>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn shared_link(record: Value) -> Result<SharedLink> {
    let text = |k: &str| {
        record
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let missing = |field: &'static str| {
        Error::new(ErrorKind::Decode)
            .with_message(format!("the Sharing record has no `{field}`"))
            .with_request(&Method::POST, "/Sharing")
    };
    Ok(SharedLink {
        id: text("id").ok_or_else(|| missing("id"))?,
        link: text("link").ok_or_else(|| missing("link"))?,
        view_link: text("viewLink"),
        valid_till: text("validTill").and_then(|s| s.parse().ok()),
        record,
    })
}

impl Client {
    /// Starts a public link to the File `file_id`; see [`ShareRequest`].
    pub fn share_file(&self, file_id: &str) -> ShareRequest {
        let mut body = Map::new();
        body.insert("fileId".into(), Value::String(file_id.to_owned()));
        ShareRequest {
            client: self.clone(),
            body,
        }
    }

    /// A public URL of the File `file_id` with default settings: 2.3's
    /// `POST /File/{id}/createSharedUrl`; on 2.2 (which lacks that route) a new Sharing's `link`.
    pub async fn create_shared_url(&self, file_id: &str) -> Result<String> {
        if self.generation() == ApiGeneration::V2_2 {
            return Ok(self.share_file(file_id).await?.link);
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "sharedUrl")]
            shared_url: String,
        }
        let path = format!("/File/{}/createSharedUrl", encode_path_segment(file_id));
        let a: Answer = self.request(Method::POST, path).send_json().await?;
        Ok(a.shared_url)
    }

    /// Fetches a public URL (a Sharing link) without sending any credentials.
    pub async fn fetch_public(&self, url: &str) -> Result<FileDownload> {
        self.fetch_url(url, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_sharing_records() {
        let l = shared_link(json!({
            "id": "s1", "link": "http://x/sharings/s1.txt", "viewLink": "http://x/sharings/s1.txt?view=1",
            "validTill": "2030-01-02 03:04:05"
        }))
        .unwrap();
        assert_eq!(l.link, "http://x/sharings/s1.txt");
        assert_eq!(l.valid_till.unwrap().to_string(), "2030-01-02 03:04:05");
        assert!(shared_link(json!({"id": "s1"})).is_err());
    }
}
