//! Bulk upsert: [`UpsertItem`]s sent in batches to `POST /MassActions/action/upsert` (2.2) or
//! `POST /upsert` (2.3), with one [`UpsertResult`] per input item.
//!
//! AtroCore looks every item up by `payload.id`, else by the entity's unique fields, and creates
//! or updates it; the call answers `200` even when items fail, with one result per item in input
//! order. An item carrying its `id` or a unique field of its entity finds the same record when
//! sent twice, so a batch of such items is retried like a `GET` (see
//! [`RetryPolicy`](crate::RetryPolicy)). An item without either would be created twice, so a
//! batch holding one is never sent again: when its request fails after the server may have acted
//! (a dropped connection, a timeout, a `5xx`), the keyed items are re-sent on their own and the
//! others get [`UpsertStatus::OutcomeUnknown`]. A batch that still fails is reported as a
//! [`FailedBatch`] with the input indices it covered; the other batches' results are kept.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::Range;
use std::pin::Pin;
use std::sync::OnceLock;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::client::{ApiGeneration, Client};
use crate::entity::Entity;
use crate::error::{Error, ErrorKind, Result};

/// Items per request when [`UpsertRequest::batch_size`] is not set.
pub const DEFAULT_UPSERT_BATCH_SIZE: usize = 500;

mod item;
mod result;

#[cfg(test)]
use item::*;
pub use item::{UpsertItem, UpsertPayload};
use result::*;
pub use result::{UpsertResult, UpsertStatus};

/// A batch whose request failed (after the retries allowed): none of its items has a result.
#[derive(Debug)]
pub struct FailedBatch {
    /// The input indices the batch covered.
    pub indices: Range<usize>,
    /// Why the request failed.
    pub error: Error,
    /// Whether the server may have stored some items before the request failed (a dropped
    /// connection, a timeout, a `5xx`), rather than rejecting the request as a whole.
    pub may_have_been_applied: bool,
}

/// The outcome of one batch, as yielded by [`UpsertRequest::stream`].
pub type BatchOutcome = std::result::Result<Vec<UpsertResult>, FailedBatch>;

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
pub struct UpsertRequest {
    client: Client,
    items: Box<dyn Iterator<Item = UpsertItem> + Send>,
    batch_size: usize,
    concurrency: usize,
    /// An item that could not be turned into JSON: reported when awaited.
    error: Option<Error>,
}

impl fmt::Debug for UpsertRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpsertRequest")
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl UpsertRequest {
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

    /// Sends the batches and yields each one's outcome as it completes (in input order when
    /// `concurrency` is 1). Items are pulled from the input one batch ahead of the requests (that
    /// batch is serialized while the others are in flight).
    pub fn stream(self) -> Pin<Box<dyn Stream<Item = BatchOutcome> + Send>> {
        let Self {
            client,
            items,
            batch_size,
            concurrency,
            error,
        } = self;
        if let Some(error) = error {
            let failed = FailedBatch {
                indices: 0..0,
                error,
                may_have_been_applied: false,
            };
            return Box::pin(stream::once(async move { Err(failed) }));
        }
        let path = upsert_path(client.generation());
        let batches = stream::iter(Batches {
            items,
            batch_size,
            next_index: 0,
        });
        // Each batch's body is serialized, and whether it may be resent found (a scan of every
        // item), on the blocking pool ahead of its turn (one batch more than are in flight), so
        // that this work overlaps the requests instead of preceding each.
        let encoded = batches
            .map(|(start, batch)| async move {
                let len = batch.len();
                tokio::task::spawn_blocking(move || {
                    let body = encode_items(batch.iter());
                    let safe = batch.iter().all(UpsertItem::is_keyed);
                    Encoded {
                        start,
                        batch,
                        body,
                        safe,
                    }
                })
                .await
                .map_err(|e| FailedBatch {
                    indices: start..start + len,
                    error: Error::new(ErrorKind::Other)
                        .with_message("encoding an upsert batch failed")
                        .with_source(e),
                    may_have_been_applied: false,
                })
            })
            .buffered(concurrency + 1);
        let sends = encoded.map(move |encoded| {
            let client = client.clone();
            async move { send_batch(&client, path, encoded?).await }
        });
        Box::pin(sends.buffer_unordered(concurrency))
    }
}

impl IntoFuture for UpsertRequest {
    type Output = Result<UpsertReport>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UpsertReport>> + Send>>;

    /// Sends every batch and collects the report. Fails as a whole only when an item could not
    /// be serialized (nothing is sent then); request failures are in the report.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Some(e) = self.error {
                return Err(e);
            }
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

/// The upsert route of a generation.
fn upsert_path(generation: ApiGeneration) -> &'static str {
    match generation {
        ApiGeneration::V2_2 => "/MassActions/action/upsert",
        _ => "/upsert",
    }
}

/// Cuts the item iterator into `(first index, items)` batches.
struct Batches {
    items: Box<dyn Iterator<Item = UpsertItem> + Send>,
    batch_size: usize,
    next_index: usize,
}

impl Iterator for Batches {
    type Item = (usize, Vec<UpsertItem>);

    fn next(&mut self) -> Option<Self::Item> {
        let batch: Vec<UpsertItem> = self
            .items
            .by_ref()
            .take(self.batch_size.min(1 << 20))
            .collect();
        if batch.is_empty() {
            return None;
        }
        let start = self.next_index;
        self.next_index += batch.len();
        Some((start, batch))
    }
}

/// Whether a failed request may have been carried out by the server before it failed.
fn may_have_been_applied(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Server | ErrorKind::Decode
    ) || (e.kind() == ErrorKind::Other && e.status().is_none_or(|s| s >= 500))
}

/// The JSON body of a request carrying `items` (an array of `{entity, payload}`), written into
/// one buffer of about the right size.
fn encode_items<'a>(items: impl Iterator<Item = &'a UpsertItem> + Clone) -> Result<Bytes> {
    let size: usize = items.clone().map(UpsertItem::encoded_size_hint).sum();
    let mut body = Vec::with_capacity(size + 2);
    body.push(b'[');
    for (n, item) in items.enumerate() {
        if n > 0 {
            body.push(b',');
        }
        serde_json::to_writer(&mut body, item).map_err(|e| {
            Error::builder("the upsert items cannot be serialized as JSON").with_source(e)
        })?;
    }
    body.push(b']');
    Ok(Bytes::from(body))
}

/// A batch ready to send: its first index, items, body and whether it may be sent again.
struct Encoded {
    start: usize,
    batch: Vec<UpsertItem>,
    body: Result<Bytes>,
    safe: bool,
}

/// Sends `items` (input indices and items) in one request, its `body` (their JSON) already
/// encoded or not yet, and reads one result per item straight from the answer's text.
async fn send_items(
    client: &Client,
    path: &str,
    items: &[(usize, &UpsertItem)],
    body: Option<Bytes>,
    safe: bool,
) -> Result<Vec<UpsertResult>> {
    let body = match body {
        Some(body) => body,
        None => encode_items(items.iter().map(|(_, item)| *item))?,
    };
    let answer = client
        .request(Method::POST, path)
        .json_bytes(body)
        .idempotent(safe)
        .send_bytes()
        .await?;
    let wire: Vec<WireResult<'_>> = serde_json::from_slice(&answer)
        .map_err(|e| Error::decode(e).with_request(&Method::POST, path))?;
    if wire.len() != items.len() {
        return Err(Error::new(ErrorKind::Decode)
            .with_message(format!(
                "the upsert answered {} results for {} items",
                wire.len(),
                items.len()
            ))
            .with_request(&Method::POST, path));
    }
    wire.into_iter()
        .zip(items)
        .map(|(w, (i, item))| UpsertResult::from_wire(*i, &item.entity, w))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| e.with_request(&Method::POST, path))
}

/// Sends one batch, its `body` encoded and whether it is `safe` to send again (every item finds
/// its record again) found on the blocking pool.
async fn send_batch(client: &Client, path: &str, encoded: Encoded) -> BatchOutcome {
    let Encoded {
        start,
        batch,
        body,
        safe,
    } = encoded;
    let indices = start..start + batch.len();
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            return Err(FailedBatch {
                indices,
                error,
                may_have_been_applied: false,
            });
        }
    };
    let items: Vec<(usize, &UpsertItem)> = (start..).zip(&batch).collect();
    // Retried by the request core only when every item finds its record again.
    let error = match send_items(client, path, &items, Some(body), safe).await {
        Ok(results) => return Ok(results),
        Err(e) => e,
    };
    let applied = may_have_been_applied(&error);
    if safe || !applied {
        return Err(FailedBatch {
            indices,
            error,
            may_have_been_applied: applied,
        });
    }
    // The server may have stored some items: the keyed ones are safe to send again; the others
    // are not (a second create), so their outcome is unknown.
    let (keyed, unkeyed): (Vec<_>, Vec<_>) = items.into_iter().partition(|(_, i)| i.is_keyed());
    tracing::debug!(
        error = %error,
        resent = keyed.len(),
        unknown = unkeyed.len(),
        "upsert batch failed after it may have been applied"
    );
    let mut results: Vec<UpsertResult> = unkeyed
        .iter()
        .map(|(i, item)| UpsertResult::outcome_unknown(*i, item, &error))
        .collect();
    if !keyed.is_empty() {
        match send_items(client, path, &keyed, None, true).await {
            Ok(r) => results.extend(r),
            Err(error) => {
                return Err(FailedBatch {
                    indices,
                    error,
                    may_have_been_applied: true,
                });
            }
        }
    }
    results.sort_by_key(|r| r.index);
    Ok(results)
}

impl UpsertRequest {
    /// A bulk upsert of typed values of the entity `E` (what a generated `upsert` method calls).
    /// The items are serialized at once (so they may be borrowed), on every core for large
    /// upserts; one that does not serialize makes the whole request fail when awaited, before
    /// anything is sent.
    pub fn of<E: Entity, I>(client: &Client, items: I) -> UpsertRequest
    where
        I: IntoIterator,
        I::Item: UpsertPayload<E> + Sync,
    {
        let items: Vec<I::Item> = items.into_iter().collect();
        match serialize_items(&items) {
            Ok(items) => client.upsert(items),
            Err(e) => UpsertRequest {
                client: client.clone(),
                items: Box::new(std::iter::empty()),
                batch_size: DEFAULT_UPSERT_BATCH_SIZE,
                concurrency: 1,
                error: Some(e),
            },
        }
    }
}

/// Items from which serializing is spread over the cores (below, threads cost more than they
/// save).
const PARALLEL_SERIALIZE_FROM: usize = 4096;

/// Serializes typed items in order; large upserts on scoped threads, one contiguous share each.
fn serialize_items<E: Entity, T: UpsertPayload<E> + Sync>(items: &[T]) -> Result<Vec<UpsertItem>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / (PARALLEL_SERIALIZE_FROM / 2));
    if items.len() < PARALLEL_SERIALIZE_FROM || workers < 2 {
        return items.iter().map(UpsertPayload::upsert_item).collect();
    }
    let share = items.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(share)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(UpsertPayload::upsert_item)
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            match part.join() {
                Ok(serialized) => out.extend(serialized?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

impl Client {
    /// A bulk upsert of `items` (anything that turns into [`UpsertItem`]s), sent in batches when
    /// awaited; see [`UpsertRequest`].
    pub fn upsert<I>(&self, items: I) -> UpsertRequest
    where
        I: IntoIterator,
        I::Item: Into<UpsertItem> + 'static,
        I::IntoIter: Send + 'static,
    {
        UpsertRequest {
            client: self.clone(),
            items: Box::new(items.into_iter().map(Into::into)),
            batch_size: DEFAULT_UPSERT_BATCH_SIZE,
            concurrency: 1,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    }

    /// A payload that fails to serialize when its number is 13.
    struct Numbered(usize);
    impl UpsertPayload<Brand> for Numbered {
        fn upsert_item(&self) -> Result<UpsertItem> {
            if self.0 == 13 {
                return Err(Error::builder("unlucky"));
            }
            UpsertItem::new::<Brand>(&json!({ "code": format!("c{}", self.0) }))
        }
    }

    #[test]
    fn large_upserts_serialize_on_every_core_in_order() {
        let n = PARALLEL_SERIALIZE_FROM * 2 + 7;
        let items: Vec<Numbered> = (14..14 + n).map(Numbered).collect();
        let serialized = serialize_items(&items).unwrap();
        let codes: Vec<Value> = serialized
            .iter()
            .map(|i| i.payload()["code"].clone())
            .collect();
        let want: Vec<Value> = (14..14 + n).map(|i| json!(format!("c{i}"))).collect();
        assert_eq!(codes, want);
        // One item that does not serialize fails the whole upsert, in whichever share it is.
        let items: Vec<Numbered> = (0..n).map(Numbered).collect();
        let err = serialize_items(&items).unwrap_err();
        assert!(err.to_string().contains("unlucky"), "{err}");
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
        let batches: Vec<_> = Batches {
            items: Box::new(items),
            batch_size: 3,
            next_index: 0,
        }
        .map(|(s, b)| (s, b.len()))
        .collect();
        assert_eq!(batches, [(0, 3), (3, 3), (6, 1)]);
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
