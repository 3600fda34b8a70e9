//! The paging engine behind every stream of records (the typed [`ListRequest`] streams, the
//! by-name [`DynamicList`] ones and the change feed): a [`Walk`] says which page to ask for next
//! and what to take from each answer (offset paging, keyset paging on `id`, and the feed's walk
//! in `crate::changes`); a [`Pager`] builds the request of one page; one engine
//! ([`PageStream`]) fetches the pages, decodes what the walk takes and stops when it says so.
//!
//! **Read-ahead.** As soon as the walk has read a page's answer (its `total` and record count
//! for offset paging, its last `id` for keyset paging, read before the records are decoded),
//! the next page is requested on a task of its own. So the server builds
//! page *k + 1* while this client decodes page *k* and the caller consumes its records. At most
//! two pages are held: the decoded one and the raw answer of the next. A stream dropped early
//! cancels the request in flight; it may have reached the server (one extra `GET`).
//!
//! **When to stop.** A page with no records ends a stream, and so does a `total` that says no
//! more follow: a count the next position has reached, or `-2` (AtroCore's answer when the
//! entity is in its `disabledCountQueryEntityList`: nothing after this page). Without a count
//! (`-1`, AtroCore's "more follow", which it sends only with a full page; or none at all) a full
//! page asks for the next one. A page that does not
//! move on is an error naming it, not an endless stream: a keyset page whose last `id` is the
//! key it was asked to start after (or that holds that key), an offset page with the same
//! first and last `id` as the page before (a server that ignores `offset`, under a `total` as
//! large as it likes).
//!
//! [`ListRequest`]: crate::ListRequest
//! [`DynamicList`]: crate::DynamicList

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::{Stream, TryStreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};
use crate::filter::Condition;
use crate::http::execute::Buffered;
use crate::request::RequestBuilder;
use crate::task::Spawned;

/// The answer of `GET /{E}`: the number of matching records and one page of them.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ListResult<T> {
    /// How many records match the filter in all; `-1` when unknown (AtroCore may send a negative
    /// number when it did not count, and a missing `total` is read as `-1`).
    #[serde(default = "unknown_total")]
    pub total: i64,
    /// This page.
    #[serde(default = "Vec::new")]
    pub list: Vec<T>,
}

fn unknown_total() -> i64 {
    -1
}

/// A boxed future, the `IntoFuture` type of the request builders.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// A boxed stream of records, as returned by [`ListRequest::stream`](crate::ListRequest::stream) and
/// [`ListRequest::keyset_stream`](crate::ListRequest::keyset_stream) (boxed so that it is `Unpin` and has a name).
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// What one page of a list asks for, on top of the list's own parameters.
pub(crate) struct PageSpec {
    /// `maxSize`.
    pub(crate) size: u64,
    /// `offset`, when set.
    pub(crate) offset: Option<u64>,
    /// `sortBy` and `asc`, replacing the list's own when set.
    pub(crate) sort: Option<(&'static str, bool)>,
    /// Conditions added (with `and`) to the list's filter.
    pub(crate) conditions: Vec<Condition>,
}

impl PageSpec {
    pub(crate) fn new(size: u64) -> Self {
        Self {
            size,
            offset: None,
            sort: None,
            conditions: Vec::new(),
        }
    }
}

/// A list whose pages a stream requests: the typed [`ListRequest`] and the by-name
/// [`DynamicList`].
///
/// [`ListRequest`]: crate::ListRequest
/// [`DynamicList`]: crate::DynamicList
pub(crate) trait Pager: Send + 'static {
    /// The request of one page.
    fn page(&self, spec: PageSpec) -> RequestBuilder;
    /// Whether the list's own order is descending (`asc=false`).
    fn descending(&self) -> bool;
    /// The route, for errors.
    fn path(&self) -> String;
}

/// One page's answer, its records still raw.
pub(crate) struct Page<'a> {
    /// The answer's `total` (`-1` when absent).
    pub(crate) total: i64,
    /// The records.
    pub(crate) list: Vec<&'a RawValue>,
    /// The server's clock when it answered (`Date`), when it said.
    pub(crate) date: Option<SystemTime>,
}

/// What a walk takes from a page: which records to yield, in which order, each with a key (the
/// position after it), and whether another page follows.
pub(crate) struct Step<K> {
    pub(crate) take: Vec<(usize, K)>,
    pub(crate) more: bool,
}

/// A way through a list, page by page: the request of the next page, and what to take from
/// each answer. Offset paging and keyset paging are walks; so is the change feed.
pub(crate) trait Walk: Send + 'static {
    /// What each record yields beside it (the offset and keyset walks: nothing; the change
    /// feed: the watermark after it).
    type Key: Send + 'static;
    /// The request of the next page.
    fn request(&self) -> RequestBuilder;
    /// Moves past a page's answer. An error ends the stream.
    fn take(&mut self, page: &Page<'_>) -> Result<Step<Self::Key>>;
    /// The route, for errors.
    fn path(&self) -> String;
}

/// Every record, page by page with `offset` from `start`. The stream ends after an error.
pub(crate) fn offset_stream<R, P>(pager: P, start: u64, page_size: u64) -> BoxStream<R>
where
    R: DeserializeOwned + Send + 'static,
    P: Pager,
{
    let walk = OffsetWalk {
        pager,
        size: page_size,
        offset: start,
        last_page: None,
    };
    Box::pin(PageStream::<R, _>::new(walk).map_ok(|((), r)| r))
}

/// Every record in `id` order (the list's direction), each page asking for the ids beyond the
/// last one seen (from `after` when given). The stream ends after an error.
pub(crate) fn keyset_stream<R, P>(pager: P, after: Option<String>, page_size: u64) -> BoxStream<R>
where
    R: DeserializeOwned + Send + 'static,
    P: Pager,
{
    let walk = KeysetWalk {
        pager,
        size: page_size,
        after,
    };
    Box::pin(PageStream::<R, _>::new(walk).map_ok(|((), r)| r))
}

/// An error of the answer at `path`.
pub(crate) fn decode_error(path: &str, e: serde_json::Error) -> Error {
    Error::decode(e).with_request(&Method::GET, path)
}

/// A page that does not move the stream on.
pub(crate) fn stuck(path: &str, what: String) -> Error {
    Error::new(ErrorKind::Decode)
        .with_message(format!(
            "{what}; the stream stops here instead of repeating"
        ))
        .with_request(&Method::GET, path)
}

/// Offset paging.
struct OffsetWalk<P> {
    pager: P,
    size: u64,
    /// Where the next page starts.
    offset: u64,
    /// Where the last page started and its first and last `id`, to notice a page that repeats
    /// it.
    last_page: Option<(u64, Option<String>, Option<String>)>,
}

impl<P: Pager> Walk for OffsetWalk<P> {
    type Key = ();

    fn request(&self) -> RequestBuilder {
        let mut spec = PageSpec::new(self.size);
        spec.offset = Some(self.offset);
        self.pager.page(spec)
    }

    fn take(&mut self, page: &Page<'_>) -> Result<Step<()>> {
        let path = self.pager.path();
        let n = page.list.len() as u64;
        let offset = self.offset;
        if let (Some(first), Some(last)) = (page.list.first(), page.list.last()) {
            let ids = (
                last_id(first).map_err(|e| decode_error(&path, e))?,
                last_id(last).map_err(|e| decode_error(&path, e))?,
            );
            if let Some((before, first_before, last_before)) = &self.last_page
                && ids.0.is_some()
                && (&ids.0, &ids.1) == (first_before, last_before)
            {
                return Err(stuck(
                    &path,
                    format!(
                        "offset paging: the page at offset {offset} holds the same records as the \
                         page at offset {before} (ids {} to {}): the server does not apply \
                         `offset`",
                        ids.0.as_deref().unwrap_or_default(),
                        ids.1.as_deref().unwrap_or_default(),
                    ),
                ));
            }
            self.last_page = Some((offset, ids.0, ids.1));
        }
        self.offset = offset + n;
        Ok(Step {
            take: (0..page.list.len()).map(|i| (i, ())).collect(),
            more: more_follow(n, n >= self.size, self.offset, page.total),
        })
    }

    fn path(&self) -> String {
        self.pager.path()
    }
}

/// Keyset paging on `id`.
struct KeysetWalk<P> {
    pager: P,
    size: u64,
    /// The last id seen (none before the first page, unless given).
    after: Option<String>,
}

impl<P: Pager> Walk for KeysetWalk<P> {
    type Key = ();

    fn request(&self) -> RequestBuilder {
        let mut spec = PageSpec::new(self.size);
        if let Some(last) = &self.after {
            let beyond = if self.pager.descending() {
                "lessThan"
            } else {
                "greaterThan"
            };
            spec.conditions
                .push(Condition::new(beyond).attribute("id").value(last.as_str()));
        }
        self.pager.page(spec)
    }

    fn take(&mut self, page: &Page<'_>) -> Result<Step<()>> {
        let path = self.pager.path();
        let Some(last) = page.list.last() else {
            return Ok(Step {
                take: Vec::new(),
                more: false,
            });
        };
        let Some(id) = last_id(last).map_err(|e| decode_error(&path, e))? else {
            return Err(Error::new(ErrorKind::Decode)
                .with_message("keyset paging needs records with a string `id`")
                .with_request(&Method::GET, &path));
        };
        if let Some(key) = &self.after {
            let repeats = *key == id
                || page
                    .list
                    .iter()
                    .any(|r| last_id(r).ok().flatten().as_deref() == Some(key));
            if repeats {
                return Err(stuck(
                    &path,
                    format!(
                        "keyset paging: the page after id {key} holds that record again (its last \
                         id is {id}): the server does not apply the id condition"
                    ),
                ));
            }
        }
        let n = page.list.len() as u64;
        self.after = Some(id);
        Ok(Step {
            take: (0..page.list.len()).map(|i| (i, ())).collect(),
            more: more_follow(n, n >= self.size, n, page.total),
        })
    }

    fn path(&self) -> String {
        self.pager.path()
    }
}

/// A page request running on a task of its own; aborted when dropped.
struct InFlight(Spawned<Result<Buffered>>);

impl InFlight {
    fn start(request: RequestBuilder) -> Self {
        Self(Spawned::spawn(request.send_buffered()))
    }
}

impl Future for InFlight {
    type Output = Result<Buffered>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Buffered>> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(Error::new(ErrorKind::Other)
                    .with_message("the request of a page did not finish")
                    .with_source(e))
            })
        })
    }
}

/// The paging engine: the records of the current page, the request of the next one in flight.
pub(crate) struct PageStream<R, W: Walk> {
    walk: W,
    /// The current page's records not yet yielded.
    records: std::vec::IntoIter<(W::Key, R)>,
    /// The next page's request, while it runs.
    in_flight: Option<InFlight>,
    /// The next page's answer, once it arrived.
    arrived: Option<Result<Buffered>>,
    /// Whether the first page was requested (on the first poll: a stream does nothing until
    /// polled).
    started: bool,
}

// No field is pinned structurally (the request in flight is a task handle), so the stream
// moves freely whatever `R` and `W` are.
impl<R, W: Walk> Unpin for PageStream<R, W> {}

impl<R, W: Walk> PageStream<R, W> {
    pub(crate) fn new(walk: W) -> Self {
        Self {
            walk,
            records: Vec::new().into_iter(),
            in_flight: None,
            arrived: None,
            started: false,
        }
    }
}

/// Whether more records follow a page of `n` records, `full` when it holds as many as asked
/// for, `next` being the position after it (offset paging) or the count of records it read of
/// the `total` left (keyset paging, where each page's `total` counts what is after its key).
pub(crate) fn more_follow(n: u64, full: bool, next: u64, total: i64) -> bool {
    match total {
        _ if n == 0 => false,
        -2 => false,
        t if t >= 0 => next < t as u64,
        _ => full,
    }
}

impl<R: DeserializeOwned, W: Walk> PageStream<R, W> {
    /// Takes a page's answer: moves the walk past it, requests the next page when there is one,
    /// then decodes the records taken.
    fn accept(&mut self, answer: &Buffered) -> Result<()> {
        let path = self.walk.path();
        let parsed: ListResult<&RawValue> =
            serde_json::from_slice(&answer.body).map_err(|e| decode_error(&path, e))?;
        let page = Page {
            total: parsed.total,
            list: parsed.list,
            date: answer.date,
        };
        let step = self.walk.take(&page)?;
        if step.more {
            self.in_flight = Some(InFlight::start(self.walk.request()));
        }
        let records = step
            .take
            .into_iter()
            .map(|(i, key)| serde_json::from_str(page.list[i].get()).map(|r| (key, r)))
            .collect::<serde_json::Result<Vec<_>>>()
            .map_err(|e| decode_error(&path, e))?;
        self.records = records.into_iter();
        Ok(())
    }

    /// Ends the stream after `error`: the request in flight is cancelled.
    fn fail(&mut self, error: Error) -> Poll<Option<<Self as Stream>::Item>> {
        self.in_flight = None;
        self.arrived = None;
        self.records = Vec::new().into_iter();
        Poll::Ready(Some(Err(error)))
    }
}

impl<R: DeserializeOwned, W: Walk> Stream for PageStream<R, W> {
    type Item = Result<(W::Key, R)>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            this.in_flight = Some(InFlight::start(this.walk.request()));
        }
        loop {
            if let Some(in_flight) = &mut this.in_flight
                && let Poll::Ready(answer) = Pin::new(in_flight).poll(cx)
            {
                this.in_flight = None;
                this.arrived = Some(answer);
            }
            if let Some(record) = this.records.next() {
                return Poll::Ready(Some(Ok(record)));
            }
            match this.arrived.take() {
                Some(Ok(answer)) => {
                    if let Err(error) = this.accept(&answer) {
                        return this.fail(error);
                    }
                }
                Some(Err(error)) => return this.fail(error),
                None if this.in_flight.is_some() => return Poll::Pending,
                None => return Poll::Ready(None),
            }
        }
    }
}

/// The `id` of a raw record: `None` when it has none or it is not a string (keyset paging cannot
/// go on from such a record).
pub(crate) fn last_id(record: &RawValue) -> serde_json::Result<Option<String>> {
    #[derive(Deserialize)]
    struct IdOf {
        #[serde(default)]
        id: Option<Value>,
    }
    Ok(match serde_json::from_str::<IdOf>(record.get())?.id {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn when_more_follow() {
        // A count: until the position reaches it, whatever the page's size.
        assert!(more_follow(2, false, 2, 5));
        assert!(!more_follow(5, true, 5, 5));
        // Counting off: -1 (more follow, with a full page) or none: the page's size decides;
        // -2 says none follow.
        assert!(more_follow(3, true, 3, -1));
        assert!(!more_follow(2, false, 2, -1));
        assert!(!more_follow(3, true, 3, -2));
        // No usable total: a full page asks for the next.
        assert!(more_follow(3, true, 3, -7));
        assert!(!more_follow(2, false, 2, -7));
        // An empty page ends the stream whatever `total` claims.
        assert!(!more_follow(0, false, 0, i64::MAX));
        assert!(!more_follow(0, false, 0, -1));
    }

    #[test]
    fn last_ids() {
        assert_eq!(
            last_id(&raw(r#"{"n":2,"id":"b\u0063"}"#)).unwrap(),
            Some("bc".into())
        );
        assert_eq!(last_id(&raw(r#"{"id":7}"#)).unwrap(), None);
        assert_eq!(last_id(&raw(r#"{"id":null}"#)).unwrap(), None);
        assert_eq!(last_id(&raw(r#"{"name":"x"}"#)).unwrap(), None);
        assert!(last_id(&raw(r#""p1""#)).is_err());
    }
}
