//! Bulk upsert: [`UpsertItem`]s sent in batches to `POST /MassActions/action/upsert` (2.2) or
//! `POST /upsert` (2.3), with one [`UpsertResult`] per input item.
//!
//! AtroCore looks every item up by `payload.id`, else by the entity's unique fields, and creates
//! or updates it; the call answers `200` even when items fail, with one result per item in input
//! order. An item carrying its `id` or a unique field of its entity finds the same record when
//! sent twice, so a batch of such items is retried like a `GET` (see
//! [`RetryPolicy`](crate::RetryPolicy)). An item without either would be created twice, so a
//! batch holding one is never sent again: when its request fails after the server may have acted
//! (a dropped connection, a timeout, a `5xx`, or 2.3 refusing its own answer after the route
//! ran: [`ErrorKind::AnswerRejected`]), the keyed items are re-sent on their own and the
//! others get [`UpsertStatus::OutcomeUnknown`]. A batch that still fails is reported as a
//! [`FailedBatch`] with the input indices it covered; the other batches' results are kept.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures_util::{Stream, StreamExt};

use crate::client::Client;
use crate::entity::Entity;
use crate::error::Result;

/// Items per request when [`UpsertRequest::batch_size`] is not set.
pub const DEFAULT_UPSERT_BATCH_SIZE: usize = 500;

mod item;
mod result;
mod send;

#[cfg(test)]
use item::*;
pub use item::{UpsertItem, UpsertPayload};
pub use result::{BatchOutcome, FailedBatch, UpsertResult, UpsertStatus};

/// Everything a bulk upsert did: per-item results in input order and the batches that failed.
#[derive(Debug, Default)]
pub struct UpsertReport {
    /// One result per item of every successful batch, sorted by [`UpsertResult::index`].
    pub results: Vec<UpsertResult>,
    /// The batches whose request failed, sorted by their first index.
    pub failed_batches: Vec<FailedBatch>,
}

impl UpsertReport {
    /// Whether every item has a result and none is `Failed`.
    pub fn is_success(&self) -> bool {
        self.failed_batches.is_empty() && self.results.iter().all(UpsertResult::is_ok)
    }

    /// How many results have `status`.
    pub fn count(&self, status: UpsertStatus) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// The results of the items the server rejected.
    pub fn failed_items(&self) -> impl Iterator<Item = &UpsertResult> {
        self.results.iter().filter(|r| !r.is_ok())
    }

    /// The input indices that have no result because their batch failed.
    pub fn unsent_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.failed_batches.iter().flat_map(|b| b.indices.clone())
    }

    /// The results whose outcome is unknown ([`UpsertStatus::OutcomeUnknown`]).
    pub fn unknown_items(&self) -> impl Iterator<Item = &UpsertResult> {
        self.results
            .iter()
            .filter(|r| r.status == UpsertStatus::OutcomeUnknown)
    }

    /// The result of the item at input position `index`, if its batch succeeded.
    pub fn result(&self, index: usize) -> Option<&UpsertResult> {
        self.results
            .binary_search_by_key(&index, |r| r.index)
            .ok()
            .map(|i| &self.results[i])
    }
}

/// A bulk upsert of any number of items, split in batches. `.await` sends it and collects an
/// [`UpsertReport`]; [`stream`](Self::stream) yields each batch's outcome instead (constant
/// memory for millions of items).
///
/// ```no_run
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::{UpsertItem, UpsertStatus};
/// use serde_json::json;
///
/// let items = (0..10_000).map(|i| {
///     UpsertItem::from_value("Brand", json!({ "code": format!("b{i}"), "name": format!("Brand {i}") }))
/// });
/// let report = client.upsert(items).batch_size(500).concurrency(2).await?;
/// println!("{} created, {} updated", report.count(UpsertStatus::Created), report.count(UpsertStatus::Updated));
/// for failed in report.failed_items() {
///     println!("item {} rejected: {:?}", failed.index, failed.message);
/// }
/// for batch in &report.failed_batches {
///     println!("items {:?} not sent: {}", batch.indices, batch.error);
/// }
/// # Ok(())
/// # }
/// ```
pub struct UpsertRequest<'a> {
    client: Client,
    /// The items, serialized as their batch is pulled (one batch ahead of the requests): typed
    /// items may borrow, for `'a`.
    items: Box<dyn Iterator<Item = Result<UpsertItem>> + Send + 'a>,
    batch_size: usize,
    concurrency: usize,
    flatten_attributes: bool,
}

impl fmt::Debug for UpsertRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpsertRequest")
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("flatten_attributes", &self.flatten_attributes)
            .finish_non_exhaustive()
    }
}

impl<'a> UpsertRequest<'a> {
    /// Items per request (at least 1); default [`DEFAULT_UPSERT_BATCH_SIZE`]. Use
    /// `usize::MAX` to send everything in one call.
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Batches in flight at once (at least 1); default 1.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sends the batches with `Flatten-Attributes: true`, as AtroCore's web UI sends every
    /// request: items may then carry attribute values as flattened fields by code (a typed
    /// handle's `set(…)` applied to a create struct's `extra`, or `AttributeChanges`).
    #[must_use]
    pub fn flatten_attributes(mut self, on: bool) -> Self {
        self.flatten_attributes = on;
        self
    }

    /// Sends the batches and yields each one's outcome as it completes (in input order when
    /// `concurrency` is 1). While requests are in flight (each on a task of its own), the next
    /// batch is pulled from the input, serialized and encoded, so that this work overlaps the
    /// server's instead of preceding each request. An item that cannot be serialized fails its
    /// batch (nothing of it is sent, `may_have_been_applied` is false); the others go on.
    pub fn stream(self) -> Pin<Box<dyn Stream<Item = BatchOutcome> + Send + 'a>> {
        Box::pin(send::UpsertStream::new(
            self.client,
            self.items,
            self.batch_size,
            self.concurrency,
            self.flatten_attributes,
        ))
    }
}

impl<'a> IntoFuture for UpsertRequest<'a> {
    type Output = Result<UpsertReport>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UpsertReport>> + Send + 'a>>;

    /// Sends every batch and collects the report. Every failure is in the report: items the
    /// server rejected, batches whose request failed, and batches holding an item that could
    /// not be serialized. (The `Result` is kept so that `.await?` code stays valid; it is
    /// always `Ok`.)
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut report = UpsertReport::default();
            let mut outcomes = self.stream();
            while let Some(outcome) = outcomes.next().await {
                match outcome {
                    Ok(results) => report.results.extend(results),
                    Err(failed) => report.failed_batches.push(failed),
                }
            }
            report.results.sort_by_key(|r| r.index);
            report.failed_batches.sort_by_key(|b| b.indices.start);
            Ok(report)
        })
    }
}

impl<'a> UpsertRequest<'a> {
    /// A bulk upsert of typed values of the entity `E` (what a generated `upsert` method calls).
    /// The items may be borrowed: each is serialized when its batch is pulled, one batch ahead
    /// of the requests.
    pub fn of<E: Entity, I>(client: &Client, items: I) -> UpsertRequest<'a>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: UpsertPayload<E>,
    {
        UpsertRequest {
            client: client.clone(),
            items: Box::new(items.into_iter().map(|item| item.upsert_item())),
            batch_size: DEFAULT_UPSERT_BATCH_SIZE,
            concurrency: 1,
            flatten_attributes: false,
        }
    }
}

impl Client {
    /// A bulk upsert of `items` (anything that turns into [`UpsertItem`]s), sent in batches when
    /// awaited; see [`UpsertRequest`].
    pub fn upsert<'a, I>(&self, items: I) -> UpsertRequest<'a>
    where
        I: IntoIterator,
        I::Item: Into<UpsertItem>,
        I::IntoIter: Send + 'a,
    {
        UpsertRequest {
            client: self.clone(),
            items: Box::new(items.into_iter().map(|item| Ok(item.into()))),
            batch_size: DEFAULT_UPSERT_BATCH_SIZE,
            concurrency: 1,
            flatten_attributes: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::result::*;
    use super::*;
    use crate::error::Error;
    use serde::Serialize;
    use serde_json::{Value, json};

    #[derive(Serialize)]
    struct Post {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: Option<String>,
        name: &'static str,
    }

    struct Brand;
    #[derive(Clone, Copy)]
    struct BrandField;
    impl crate::EntityField for BrandField {
        fn name(self) -> &'static str {
            "id"
        }
    }
    impl Entity for Brand {
        const NAME: &'static str = "Brand";
        const UNIQUE_FIELDS: &'static [&'static str] = &["code"];
        type Record = Value;
        type Field = BrandField;
        type Id = crate::Id<Brand>;
    }

    /// A payload that fails to serialize when its number is 6.
    struct Numbered(usize);
    impl UpsertPayload<Brand> for Numbered {
        fn upsert_item(&self) -> Result<UpsertItem> {
            if self.0 == 6 {
                return Err(Error::builder("unlucky"));
            }
            UpsertItem::new::<Brand>(&json!({ "code": format!("c{}", self.0) }))
        }
    }

    #[test]
    fn typed_items_are_keyed_by_id_or_unique_field() {
        let item = |id: Option<&str>, code: Option<&str>| {
            UpsertItem::new::<Brand>(&Post {
                id: id.map(str::to_owned),
                code: code.map(str::to_owned),
                name: "A \"quoted\" name",
            })
            .unwrap()
        };
        assert!(item(Some("b1"), None).is_keyed());
        assert!(item(None, Some("acme")).is_keyed());
        assert!(!item(None, None).is_keyed(), "code is null");
        assert!(
            !item(Some(""), Some("")).is_keyed(),
            "empty strings find nothing"
        );
        let plain = item(None, Some("acme")).with_unique_fields(&[]);
        assert!(!plain.is_keyed());
        // Read lazily, equal to the value form, and serialized the same way.
        let typed = item(Some("b1"), Some("acme"));
        let untyped = UpsertItem::from_value(
            "Brand",
            json!({"id": "b1", "code": "acme", "name": "A \"quoted\" name"}),
        )
        .with_unique_fields(&["code"]);
        assert_eq!(typed.payload()["name"], "A \"quoted\" name");
        assert!(typed.is_keyed(), "also once parsed");
        assert_eq!(typed, untyped);
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            serde_json::to_value(&untyped).unwrap()
        );
        let back: UpsertItem =
            serde_json::from_value(serde_json::to_value(&typed).unwrap()).unwrap();
        assert_eq!(back.payload(), typed.payload());
        assert!(UpsertItem::new::<Brand>(&["not", "an", "object"]).is_err());
    }

    #[test]
    fn scans_escaped_and_nested_keys() {
        assert!(sets_a_key(r#"{"\u0069d":"x"}"#, &[]), "an escaped `id`");
        assert!(
            !sets_a_key(r#"{"data":{"id":"x"},"id":null}"#, &[]),
            "only top-level keys"
        );
        assert!(sets_a_key(r#"{"n":[1,{"a":2}],"sku":7}"#, &["sku"]));
        assert!(!sets_a_key("not json", &["sku"]));
    }

    /// One result read from its text, as an answer's are.
    fn result(index: usize, entity: &str, v: Value) -> Result<UpsertResult> {
        let text = v.to_string();
        let w: WireResult<'_> = serde_json::from_str(&text).map_err(Error::decode)?;
        UpsertResult::from_wire(index, entity, w)
    }

    #[test]
    fn reads_22_results() {
        let ok = result(
            3,
            "Brand",
            json!({"status": "Created", "stored": true, "entity": {"id": "b1", "name": "A"}}),
        )
        .unwrap();
        assert_eq!(ok.status, UpsertStatus::Created);
        assert_eq!(ok.id.as_deref(), Some("b1"));
        assert_eq!(ok.entity, "Brand");
        assert_eq!(ok.record.unwrap()["name"], "A");
        let failed = result(
            4,
            "Brand",
            json!({"status": "Failed", "stored": false, "message": "Code: 400. Message: Validation failed. 'Name' is required."}),
        )
        .unwrap();
        assert_eq!(failed.status, UpsertStatus::Failed);
        assert!(!failed.stored);
        assert_eq!(failed.code, Some(400));
        assert_eq!(
            failed.message.as_deref(),
            Some("Validation failed. 'Name' is required.")
        );
    }

    #[test]
    fn reads_23_results() {
        let ok = result(
            0,
            "Brand",
            json!({"status": "NotModified", "stored": true, "entity": "Brand", "id": "b1"}),
        )
        .unwrap();
        assert_eq!(ok.status, UpsertStatus::NotModified);
        assert_eq!(ok.id.as_deref(), Some("b1"));
        assert!(ok.record.is_none());
        let failed = result(
            1,
            "Brand",
            json!({"status": "Failed", "stored": false, "entity": "Brand", "message": "Duplicate.", "code": 409}),
        )
        .unwrap();
        assert_eq!(failed.code, Some(409));
        assert_eq!(failed.message.as_deref(), Some("Duplicate."));
        assert!(result(0, "B", json!({"status": "Weird"})).is_err());
        assert!(result(0, "B", json!({"status": 1})).is_err());
        assert!(result(0, "B", json!(["Created"])).is_err());
        // Members of another type than expected are ignored.
        let odd = result(
            2,
            "Brand",
            json!({"status": "Updated", "stored": "yes", "id": 5, "entity": 7, "code": [1], "message": {"a": 1}}),
        )
        .unwrap();
        assert_eq!(
            (
                odd.stored,
                odd.id,
                odd.entity.as_str(),
                odd.code,
                odd.message
            ),
            (true, None, "Brand", None, None)
        );
    }

    #[test]
    fn batches_cover_every_index_once() {
        let items = (0..7).map(|i| UpsertItem::from_value("B", json!({ "i": i })));
        let batches: Vec<_> = send::Batches::new(Box::new(items.map(Ok)), 3)
            .map(|b| (b.indices, b.items.map(|i| i.len()).ok()))
            .collect();
        assert_eq!(batches, [(0..3, Some(3)), (3..6, Some(3)), (6..7, Some(1))]);
        // An item that does not serialize fails its batch only, which still covers its indices.
        let items = (0..7)
            .map(Numbered)
            .map(|n| UpsertPayload::<Brand>::upsert_item(&n));
        let numbered: Vec<_> = send::Batches::new(Box::new(items), 5)
            .map(|b| {
                (
                    b.indices,
                    b.items.map(|i| i.len()).map_err(|e| e.to_string()),
                )
            })
            .collect();
        assert_eq!(numbered[0], (0..5, Ok(5)));
        assert_eq!(numbered[1].0, 5..7);
        assert!(numbered[1].1.as_ref().unwrap_err().contains("unlucky"));
    }

    #[test]
    fn coded_messages() {
        assert_eq!(
            split_coded_message("Code: 409. Message: Dup"),
            (Some(409), "Dup")
        );
        assert_eq!(split_coded_message("plain"), (None, "plain"));
    }
}
