//! The change feed: every record created, modified or deleted since a [`Watermark`], exactly
//! once, in `(modifiedAt, id)` order, resumable from the watermark each change carries.
//!
//! **What AtroCore gives.** `modifiedAt` is stamped `date('Y-m-d H:i:s')` (UTC, one second) at
//! the start of every repository save, create included (2.2.31 and 2.3.13
//! `app/Atro/Core/ORM/Repositories/RDB.php::save`), and at a soft delete
//! (`RDB::beforeRemove`, which also sets `deleted`). A list sorts by one field, with no tie
//! breaker (`app/Atro/ORM/DB/RDB/Query/QueryConverter.php::getOrderPart`), so hundreds of
//! records of one bulk upsert share a timestamp and come back in any order. Deleted records
//! are listed with the bool filter `onlyDeleted` (`app/Atro/Core/SelectManagers/Base.php::
//! boolFilterOnlyDeleted`, both generations).
//!
//! **How the feed walks.** Each run fixes a *horizon*: the server's clock (the first answer's
//! `Date` header; the client's clock when there is none) minus [`settle`](ChangeFeed::settle).
//! Only changes stamped before it are delivered, so a second the feed has passed can gain no
//! more records: no write still running stamps it (as long as a save takes less than the
//! settle time). Below the horizon the walk is a keyset on `(modifiedAt, id)`:
//! - a *tie group* (one timestamp) is read by `modifiedAt = t`, `id > last id`, sorted by `id`;
//! - the records after a timestamp are read by `modifiedAt > t`, `modifiedAt < horizon`, sorted
//!   by `modifiedAt`. Of a full page, the records before its last timestamp are complete groups
//!   (every record stamped earlier sorts before the page's end) and are delivered, sorted by
//!   id; the next page starts at the last timestamp (`modifiedAt >= t`), which it then holds
//!   whole, or, when that timestamp fills the whole page, its group is read as a tie group. A
//!   page that is not full, or that reaches the horizon, ends the walk.
//!
//! Deletions are a second walk of the same shape over `onlyDeleted`, up to the same horizon,
//! after the first. Every change carries the watermark after it; a run resumed from any of them
//! neither skips nor repeats.
//!
//! **What the feed cannot see** (AtroCore does not stamp it on the record): adding or removing
//! an attribute (`app/Atro/Repositories/Attribute.php::addAttributeValue`/
//! `removeAttributeValue` write the value table directly), many-to-many link changes (they stamp
//! the relation record; the parent only through the opt-in "modified extended relations" jobs,
//! which stamp the start of the minute: use a settle time above 60 s then), file uploads (the
//! `File` record), restores (`RDB::restore` does not stamp) and permanent deletes (`permanently`
//! header, the trash purge after `clearDeletedAfterDays`).

use std::time::{Duration, SystemTime};

use futures_util::stream;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};
use crate::filter::{Condition, WhereValue};
use crate::json_keys::{self, Member};
use crate::paging::{BoxStream, Page, PageSpec, PageStream, Pager, Step, Walk, decode_error};
use crate::request::RequestBuilder;
use crate::time::DateTime;

/// How far behind the server's clock the feed stays by default.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(10);

/// A position in one walk: every change up to `(at, id)` was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mark {
    /// The `modifiedAt` of the last change delivered.
    pub at: DateTime,
    /// Its record id; none when no record stamped `at` was delivered yet (every change stamped
    /// before `at` was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Where a change feed stands: the changes it delivered, as a value to persist (serde) and to
/// resume from with [`changes_since`](crate::ListRequest::changes_since).
///
/// ```
/// use atrocore_runtime::changes::Watermark;
///
/// let start = Watermark::beginning();
/// let saved = serde_json::to_string(&start).unwrap();
/// let resumed: Watermark = serde_json::from_str(&saved).unwrap();
/// assert_eq!(start, resumed);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Watermark {
    /// Where the walk of created and modified records stands; none: from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Mark>,
    /// Where the walk of deleted records stands; none: from the beginning (the trash holds
    /// deleted records until AtroCore purges them, 60 days by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Mark>,
}

impl Watermark {
    /// Before every change: a first run delivers every record (and every deleted record still
    /// in the trash), stamped or deleted since whenever.
    pub fn beginning() -> Self {
        Self::default()
    }

    /// Every change stamped at or after `at` (UTC) is still to come.
    pub fn since(at: DateTime) -> Self {
        let mark = Mark { at, id: None };
        Self {
            modified: Some(mark.clone()),
            deleted: Some(mark),
        }
    }
}

/// One change a feed delivers, with the watermark to persist once it is handled.
#[derive(Debug, Clone)]
pub enum Change<R> {
    /// A record created or modified, as it is now.
    Modified {
        /// The record.
        record: R,
        /// The feed's position after this change.
        watermark: Watermark,
    },
    /// A record deleted (moved to the trash), as it was when deleted; its `modifiedAt` is the
    /// time of deletion.
    Deleted {
        /// The record.
        record: R,
        /// The feed's position after this change.
        watermark: Watermark,
    },
}

impl<R> Change<R> {
    /// The record.
    pub fn record(&self) -> &R {
        match self {
            Change::Modified { record, .. } | Change::Deleted { record, .. } => record,
        }
    }

    /// The record, owned.
    pub fn into_record(self) -> R {
        match self {
            Change::Modified { record, .. } | Change::Deleted { record, .. } => record,
        }
    }

    /// The feed's position after this change: persist it once the change is handled.
    pub fn watermark(&self) -> &Watermark {
        match self {
            Change::Modified { watermark, .. } | Change::Deleted { watermark, .. } => watermark,
        }
    }

    /// Whether the record was deleted.
    pub fn is_deleted(&self) -> bool {
        matches!(self, Change::Deleted { .. })
    }
}

/// A change feed, from [`ListRequest::changes_since`](crate::ListRequest::changes_since) (or
/// `client.product().changes_since(…)`, or [`DynamicList::changes_since`](crate::DynamicList::changes_since)):
/// the list's filter and selection apply, its page size is the feed's; call
/// [`stream`](Self::stream).
pub struct ChangeFeed<R> {
    pager: Box<dyn Pager>,
    watermark: Watermark,
    page_size: u64,
    settle: Duration,
    deletions: bool,
    /// A list setting the feed cannot keep (its own sort order).
    error: Option<Error>,
    _record: std::marker::PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for ChangeFeed<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("path", &self.pager.path())
            .field("watermark", &self.watermark)
            .field("page_size", &self.page_size)
            .field("settle", &self.settle)
            .field("deletions", &self.deletions)
            .finish_non_exhaustive()
    }
}

impl<R: DeserializeOwned + Send + 'static> ChangeFeed<R> {
    /// A feed over the pages of `pager`; `sort_by` is the list's own sort, which the feed
    /// cannot keep.
    pub(crate) fn new(
        pager: Box<dyn Pager>,
        watermark: &Watermark,
        page_size: u64,
        sort_by: Option<&str>,
    ) -> Self {
        let error = sort_by.filter(|f| *f != "modifiedAt").map(|field| {
            Error::builder(format!(
                "a change feed follows (modifiedAt, id) and cannot keep the sort by `{field}`: \
                 drop sort_by"
            ))
            .with_request(&Method::GET, &pager.path())
        });
        Self {
            pager,
            watermark: watermark.clone(),
            page_size,
            settle: DEFAULT_SETTLE,
            deletions: true,
            error,
            _record: std::marker::PhantomData,
        }
    }

    /// How long a change settles before the feed delivers it (default 10 s): a run delivers
    /// the changes stamped before the server's clock minus this. It covers saves still running
    /// when a run starts (AtroCore stamps a record before writing it) and clock steps. Raise it
    /// above a minute where link changes stamp the parent through AtroCore's "modified extended
    /// relations" jobs (they stamp the start of the minute, later); zero is for a test server
    /// that writes at once.
    #[must_use]
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Whether deletions are delivered (default: yes), as [`Change::Deleted`] after the run's
    /// modifications. Without them a run makes one request fewer.
    #[must_use]
    pub fn deletions(mut self, deliver: bool) -> Self {
        self.deletions = deliver;
        self
    }

    /// The changes up to the horizon, in `(modifiedAt, id)` order: modifications first, then
    /// deletions. The stream ends when it reaches the horizon (run it again later for more)
    /// or after the first error; the next page is requested while the current one is
    /// consumed.
    pub fn stream(self) -> BoxStream<Change<R>> {
        if let Some(e) = self.error {
            return Box::pin(stream::once(async move { Err(e) }));
        }
        let walk = FeedWalk::new(
            self.pager,
            self.watermark,
            self.page_size,
            self.settle,
            self.deletions,
        );
        Box::pin(futures_util::TryStreamExt::map_ok(
            PageStream::<R, _>::new(walk),
            |((kind, watermark), record)| match kind {
                Kind::Modified => Change::Modified { record, watermark },
                Kind::Deleted => Change::Deleted { record, watermark },
            },
        ))
    }
}

/// Which records a walk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Modified,
    Deleted,
}

/// What the next page asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// The records stamped `at`, by id after `after`.
    Tie { at: DateTime, after: Option<String> },
    /// The records stamped after `after` (at or after, when `inclusive`; all, when none), by
    /// `modifiedAt`.
    Forward {
        after: Option<DateTime>,
        inclusive: bool,
    },
}

impl Phase {
    fn from_mark(mark: Option<&Mark>) -> Self {
        match mark {
            None => Phase::Forward {
                after: None,
                inclusive: false,
            },
            Some(m) => Phase::Tie {
                at: m.at,
                after: m.id.clone(),
            },
        }
    }
}

/// The walk behind a feed: modifications, then deletions.
struct FeedWalk {
    pager: Box<dyn Pager>,
    size: u64,
    settle: Duration,
    deletions: bool,
    /// Fixed by the first answer.
    horizon: Option<DateTime>,
    kind: Kind,
    phase: Phase,
    watermark: Watermark,
}

/// A record's key, read from its raw JSON.
#[derive(Deserialize)]
struct Key {
    id: String,
    #[serde(rename = "modifiedAt")]
    modified_at: Option<DateTime>,
}

impl FeedWalk {
    fn new(
        pager: Box<dyn Pager>,
        watermark: Watermark,
        size: u64,
        settle: Duration,
        deletions: bool,
    ) -> Self {
        Self {
            phase: Phase::from_mark(watermark.modified.as_ref()),
            pager,
            size: size.max(1),
            settle,
            deletions,
            horizon: None,
            kind: Kind::Modified,
            watermark,
        }
    }

    fn mark_mut(&mut self) -> &mut Option<Mark> {
        match self.kind {
            Kind::Modified => &mut self.watermark.modified,
            Kind::Deleted => &mut self.watermark.deleted,
        }
    }

    /// Moves on to the deletions, or ends: whether another page follows.
    fn walk_done(&mut self) -> bool {
        if self.kind == Kind::Modified && self.deletions {
            self.kind = Kind::Deleted;
            self.phase = Phase::from_mark(self.watermark.deleted.as_ref());
            true
        } else {
            false
        }
    }

    fn error(&self, what: String) -> Error {
        Error::new(ErrorKind::Decode)
            .with_message(format!(
                "change feed: {what}; the feed stops here rather than skip or repeat a change"
            ))
            .with_request(&Method::GET, &self.pager.path())
    }

    fn keys(&self, page: &Page<'_>) -> Result<Vec<(String, DateTime)>> {
        let path = self.pager.path();
        page.list
            .iter()
            .map(|raw: &&RawValue| {
                // The fast path: both plain strings, read without parsing the record.
                if let Some([Member::Text(id), Member::Text(at)]) =
                    json_keys::top_level(raw.get(), ["id", "modifiedAt"])
                    && let Ok(at) = at.parse::<DateTime>()
                {
                    return Ok((id.to_owned(), at));
                }
                let key: Key =
                    serde_json::from_str(raw.get()).map_err(|e| decode_error(&path, e))?;
                match key.modified_at {
                    Some(at) => Ok((key.id, at)),
                    None => Err(self.error(format!("record {} has no modifiedAt", key.id))),
                }
            })
            .collect()
    }

    /// Delivers `take` (indexes into `keys`, in order): the watermark after each.
    fn deliver(
        &mut self,
        keys: &[(String, DateTime)],
        take: impl IntoIterator<Item = usize>,
    ) -> Vec<(usize, (Kind, Watermark))> {
        let kind = self.kind;
        let mut out = Vec::new();
        for i in take {
            let (id, at) = &keys[i];
            *self.mark_mut() = Some(Mark {
                at: *at,
                id: Some(id.clone()),
            });
            out.push((i, (kind, self.watermark.clone())));
        }
        out
    }
}

impl Walk for FeedWalk {
    type Key = (Kind, Watermark);

    fn request(&self) -> RequestBuilder {
        let mut spec = PageSpec::new(self.size);
        let at = |op: &str, t: DateTime| {
            Condition::new(op)
                .attribute("modifiedAt")
                .value(t.to_string())
        };
        match &self.phase {
            Phase::Tie { at: t, after } => {
                spec.sort = Some(("id", true));
                spec.conditions.push(at("equals", *t));
                if let Some(id) = after {
                    spec.conditions.push(
                        Condition::new("greaterThan")
                            .attribute("id")
                            .value(id.as_str()),
                    );
                }
            }
            Phase::Forward { after, inclusive } => {
                spec.sort = Some(("modifiedAt", true));
                match after {
                    Some(t) if *inclusive => spec.conditions.push(at("greaterThanOrEquals", *t)),
                    Some(t) => spec.conditions.push(at("greaterThan", *t)),
                    // Records never stamped (written around AtroCore) are not changes.
                    None => spec
                        .conditions
                        .push(Condition::new("isNotNull").attribute("modifiedAt")),
                }
                if let Some(h) = self.horizon {
                    spec.conditions.push(at("lessThan", h));
                }
            }
        }
        if self.kind == Kind::Deleted {
            spec.conditions.push(
                Condition::new("bool")
                    .value(WhereValue::List(vec![WhereValue::from("onlyDeleted")])),
            );
        }
        self.pager.page(spec)
    }

    fn take(&mut self, page: &Page<'_>) -> Result<Step<Self::Key>> {
        let horizon = *self.horizon.get_or_insert_with(|| {
            let now = page.date.unwrap_or_else(SystemTime::now);
            DateTime::from(now.checked_sub(self.settle).unwrap_or(now))
        });
        let keys = self.keys(page)?;
        let full = keys.len() as u64 >= self.size;
        match self.phase.clone() {
            Phase::Tie { at, after } => {
                if at >= horizon {
                    // The group is not settled yet: nothing more in this run.
                    self.phase = Phase::from_mark(None);
                    let more = self.walk_done();
                    return Ok(Step {
                        take: Vec::new(),
                        more,
                    });
                }
                let mut last = after.clone();
                for (id, t) in &keys {
                    if *t != at {
                        return Err(self.error(format!(
                            "asked for the records stamped {at}, the server sent {id} stamped {t}"
                        )));
                    }
                    if last.as_ref().is_some_and(|l| id.as_str() <= l.as_str()) {
                        return Err(self.error(format!(
                            "asked for the records stamped {at} after id {}, by id, the server \
                             sent {id} after it",
                            last.as_deref().unwrap_or_default()
                        )));
                    }
                    last = Some(id.clone());
                }
                let take = self.deliver(&keys, 0..keys.len());
                self.phase = if full {
                    Phase::Tie { at, after: last }
                } else {
                    Phase::Forward {
                        after: Some(at),
                        inclusive: false,
                    }
                };
                Ok(Step { take, more: true })
            }
            Phase::Forward { after, inclusive } => {
                let mut previous = after;
                let mut cut = keys.len();
                for (i, (id, t)) in keys.iter().enumerate() {
                    let before_start = after.is_some_and(|a| *t < a || (*t == a && !inclusive));
                    if before_start || previous.is_some_and(|p| *t < p) {
                        return Err(self.error(format!(
                            "asked for the records stamped {} {} by modifiedAt, the server sent \
                             {id} stamped {t} out of that order",
                            if inclusive { "from" } else { "after" },
                            after.map(|a| a.to_string()).unwrap_or_default()
                        )));
                    }
                    previous = Some(*t);
                    if *t >= horizon && cut == keys.len() {
                        cut = i;
                    }
                }
                let reached_horizon = cut < keys.len();
                let mut order: Vec<usize> = (0..cut).collect();
                // Within a timestamp, by id (the server leaves ties in any order).
                order.sort_by(|&a, &b| (keys[a].1, &keys[a].0).cmp(&(keys[b].1, &keys[b].0)));
                if full && !reached_horizon {
                    // The last timestamp's group may go on past this page: the next page starts
                    // at it, or, when it fills this whole page, it is read by id.
                    let last_at = keys[keys.len() - 1].1;
                    order.retain(|&i| keys[i].1 < last_at);
                    self.phase = if keys[0].1 == last_at {
                        Phase::Tie {
                            at: last_at,
                            after: None,
                        }
                    } else {
                        Phase::Forward {
                            after: Some(last_at),
                            inclusive: true,
                        }
                    };
                    let take = self.deliver(&keys, order);
                    return Ok(Step { take, more: true });
                }
                let take = self.deliver(&keys, order);
                self.phase = Phase::from_mark(None);
                let more = self.walk_done();
                Ok(Step { take, more })
            }
        }
    }

    fn path(&self) -> String {
        self.pager.path()
    }
}
