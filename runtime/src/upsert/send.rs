//! Sending an upsert: the input cut into batches, each serialized and encoded one batch ahead of
//! the requests, the requests on tasks of their own, and the answers read into results.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use reqwest::Method;

use super::item::UpsertItem;
use super::result::*;
use crate::client::{ApiGeneration, Client};
use crate::error::{Error, ErrorKind, Result};
use crate::task::Spawned;

/// One batch of the input: the indices it covers and its items, or the error of the first item
/// that could not be serialized.
pub(super) struct Batch {
    pub(super) indices: Range<usize>,
    pub(super) items: Result<Vec<UpsertItem>>,
}

/// Cuts the input into batches; an item that fails to serialize fails its batch (whose other
/// items are still pulled, so that the next batch's indices are right).
pub(super) struct Batches<'a> {
    items: Box<dyn Iterator<Item = Result<UpsertItem>> + Send + 'a>,
    batch_size: usize,
    next_index: usize,
}

impl<'a> Batches<'a> {
    pub(super) fn new(
        items: Box<dyn Iterator<Item = Result<UpsertItem>> + Send + 'a>,
        batch_size: usize,
    ) -> Self {
        Self {
            items,
            batch_size: batch_size.clamp(1, 1 << 20),
            next_index: 0,
        }
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let mut items: Result<Vec<UpsertItem>> = Ok(Vec::new());
        let mut n = 0;
        for item in self.items.by_ref().take(self.batch_size) {
            n += 1;
            match (&mut items, item) {
                (Ok(batch), Ok(item)) => batch.push(item),
                (Ok(_), Err(e)) => items = Err(e),
                (Err(_), _) => {}
            }
        }
        if n == 0 {
            return None;
        }
        let start = self.next_index;
        self.next_index += n;
        Some(Batch {
            indices: start..start + n,
            items,
        })
    }
}

/// A batch ready to send: its indices, items, body and whether it may be sent again (every item
/// finds its record again).
struct Encoded {
    indices: Range<usize>,
    items: Vec<UpsertItem>,
    body: Bytes,
    safe: bool,
}

impl Batch {
    /// Encodes the body, or fails the batch (nothing of it sent).
    fn encode(self) -> std::result::Result<Encoded, FailedBatch> {
        let failed = |indices, error| FailedBatch {
            indices,
            error,
            may_have_been_applied: false,
        };
        let items = match self.items {
            Ok(items) => items,
            Err(error) => return Err(failed(self.indices, error)),
        };
        match encode_items(items.iter()) {
            Ok(body) => Ok(Encoded {
                safe: items.iter().all(UpsertItem::is_keyed),
                indices: self.indices,
                items,
                body,
            }),
            Err(error) => Err(failed(self.indices, error)),
        }
    }
}

/// A batch's request on a task of its own (so that it goes on while the next batch is
/// prepared); aborted when dropped.
struct Sending {
    indices: Range<usize>,
    task: Spawned<BatchOutcome>,
}

impl Sending {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<BatchOutcome> {
        Pin::new(&mut self.task).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(FailedBatch {
                    indices: self.indices.clone(),
                    error: Error::new(ErrorKind::Other)
                        .with_message("an upsert request did not finish")
                        .with_source(e),
                    may_have_been_applied: true,
                })
            })
        })
    }
}

/// The engine behind [`UpsertRequest::stream`]: at most `concurrency` requests in flight and
/// one batch prepared ahead of them.
pub(super) struct UpsertStream<'a> {
    client: Client,
    route: Route,
    batches: Batches<'a>,
    concurrency: usize,
    /// The next batch, encoded (or failed) while the requests run.
    ready: Option<std::result::Result<Encoded, FailedBatch>>,
    /// The requests in flight, oldest first.
    sending: VecDeque<Sending>,
    exhausted: bool,
}

impl<'a> UpsertStream<'a> {
    pub(super) fn new(
        client: Client,
        items: Box<dyn Iterator<Item = Result<UpsertItem>> + Send + 'a>,
        batch_size: usize,
        concurrency: usize,
        flatten_attributes: bool,
    ) -> Self {
        Self {
            route: Route {
                path: upsert_path(client.generation()),
                flatten_attributes,
            },
            client,
            batches: Batches::new(items, batch_size),
            concurrency: concurrency.max(1),
            ready: None,
            sending: VecDeque::new(),
            exhausted: false,
        }
    }

    /// Pulls, serializes and encodes the next batch unless one is ready or the input is done.
    fn prepare(&mut self) {
        if self.ready.is_none() && !self.exhausted {
            match self.batches.next() {
                Some(batch) => self.ready = Some(batch.encode()),
                None => self.exhausted = true,
            }
        }
    }
}

impl Stream for UpsertStream<'_> {
    type Item = BatchOutcome;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BatchOutcome>> {
        let this = &mut *self;
        // Start requests while there is room; a batch that failed to encode is yielded in its
        // turn.
        while this.sending.len() < this.concurrency {
            this.prepare();
            match this.ready.take() {
                Some(Ok(encoded)) => this.sending.push_back(Sending {
                    indices: encoded.indices.clone(),
                    task: Spawned::spawn(send_batch(this.client.clone(), this.route, encoded)),
                }),
                Some(Err(failed)) if this.sending.is_empty() => {
                    return Poll::Ready(Some(Err(failed)));
                }
                Some(Err(failed)) => {
                    this.ready = Some(Err(failed));
                    break;
                }
                None => break,
            }
        }
        // The next batch is prepared while the requests are in flight.
        this.prepare();
        // One request at a time keeps the input order; more yield as they complete.
        let ordered = this.concurrency == 1;
        for i in 0..this.sending.len() {
            if let Poll::Ready(outcome) = this.sending[i].poll(cx) {
                this.sending.remove(i);
                return Poll::Ready(Some(outcome));
            }
            if ordered {
                break;
            }
        }
        if this.sending.is_empty() && this.ready.is_none() && this.exhausted {
            Poll::Ready(None)
        } else if this.sending.is_empty() {
            // A failed batch waits only for the requests before it.
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Pending
        }
    }
}

/// Where a batch goes: the upsert route, and whether the items carry attribute values as
/// flattened fields (sent with `Flatten-Attributes`).
#[derive(Debug, Clone, Copy)]
struct Route {
    path: &'static str,
    flatten_attributes: bool,
}

/// The upsert route of a generation.
fn upsert_path(generation: ApiGeneration) -> &'static str {
    match generation {
        ApiGeneration::V2_2 => "/MassActions/action/upsert",
        _ => "/upsert",
    }
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

/// Sends `items` (input indices and items) in one request, its `body` (their JSON) already
/// encoded or not yet, and reads one result per item straight from the answer's text.
async fn send_items(
    client: &Client,
    route: Route,
    items: &[(usize, &UpsertItem)],
    body: Option<Bytes>,
    safe: bool,
) -> Result<Vec<UpsertResult>> {
    let path = route.path;
    let body = match body {
        Some(body) => body,
        None => encode_items(items.iter().map(|(_, item)| *item))?,
    };
    let answer = client
        .request(Method::POST, path)
        .header_opt(
            "Flatten-Attributes",
            route.flatten_attributes.then_some("true"),
        )
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

/// Sends one encoded batch.
async fn send_batch(client: Client, route: Route, encoded: Encoded) -> BatchOutcome {
    let Encoded {
        indices,
        items: batch,
        body,
        safe,
    } = encoded;
    let client = &client;
    let items: Vec<(usize, &UpsertItem)> = (indices.start..).zip(&batch).collect();
    // Retried by the request core only when every item finds its record again.
    let error = match send_items(client, route, &items, Some(body), safe).await {
        Ok(results) => return Ok(results),
        Err(e) => e,
    };
    let applied = error.may_have_been_applied();
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
        match send_items(client, route, &keyed, None, true).await {
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
