//! The two paging engines behind every stream of records (the typed [`ListRequest`] streams and
//! the by-name [`DynamicList`] ones): by `offset`, and by keyset on `id`. A [`Pager`] builds the
//! request of one page; the engines fetch pages one at a time, decode them and decide when to
//! stop, so only one page is held in memory.
//!
//! [`ListRequest`]: crate::ListRequest
//! [`DynamicList`]: crate::DynamicList

use futures_util::stream;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::entity::{BoxStream, ListResult};
use crate::error::{Error, ErrorKind, Result};
use crate::request::RequestBuilder;

/// Builds the request of one page of a list.
pub(crate) trait Pager: Clone + Send + 'static {
    /// The page of `size` records starting at `offset`, in the list's own order.
    fn offset_page(&self, offset: u64, size: u64) -> RequestBuilder;
    /// The page of `size` records sorted by `id`, after the record `after` (in the list's
    /// direction) when given.
    fn keyset_page(&self, after: Option<&str>, size: u64) -> RequestBuilder;
    /// The route, for errors.
    fn path(&self) -> String;
}

/// Every record, page by page with `offset` from `start`. The stream ends after an error.
pub(crate) fn offset_stream<R, P>(pager: P, start: u64, page_size: u64) -> BoxStream<R>
where
    R: DeserializeOwned + Send + 'static,
    P: Pager,
{
    struct State<R, P> {
        pager: P,
        next: u64,
        page_size: u64,
        page: std::vec::IntoIter<R>,
        done: bool,
    }
    let state = State {
        pager,
        next: start,
        page_size,
        page: Vec::new().into_iter(),
        done: false,
    };
    Box::pin(stream::unfold(state, |mut st| async move {
        loop {
            if let Some(record) = st.page.next() {
                return Some((Ok(record), st));
            }
            if st.done {
                return None;
            }
            let request = st.pager.offset_page(st.next, st.page_size);
            match request.send_json::<ListResult<R>>().await {
                Ok(page) => {
                    let n = page.list.len() as u64;
                    st.next += n;
                    st.done = n == 0
                        || if page.total >= 0 {
                            st.next >= page.total as u64
                        } else {
                            n < st.page_size
                        };
                    st.page = page.list.into_iter();
                }
                Err(e) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    }))
}

/// Every record in `id` order, each page asking for the ids beyond the last one seen (from
/// `after` when given). The stream ends after an error.
pub(crate) fn keyset_stream<R, P>(pager: P, after: Option<String>, page_size: u64) -> BoxStream<R>
where
    R: DeserializeOwned + Send + 'static,
    P: Pager,
{
    struct State<R, P> {
        pager: P,
        last_id: Option<String>,
        page_size: u64,
        page: std::vec::IntoIter<R>,
        done: bool,
    }
    let state = State {
        pager,
        last_id: after,
        page_size,
        page: Vec::new().into_iter(),
        done: false,
    };
    Box::pin(stream::unfold(state, |mut st| async move {
        loop {
            if let Some(record) = st.page.next() {
                return Some((Ok(record), st));
            }
            if st.done {
                return None;
            }
            let request = st.pager.keyset_page(st.last_id.as_deref(), st.page_size);
            let page = match request.send_bytes().await {
                Ok(bytes) => keyset_page::<R>(&bytes)
                    .map_err(|e| e.with_request(&Method::GET, &st.pager.path())),
                Err(e) => Err(e),
            };
            match page {
                Ok(page) => {
                    let n = page.records.len() as u64;
                    match page.last_id {
                        None => st.done = true,
                        Some(None) => {
                            st.done = true;
                            let e = Error::new(ErrorKind::Decode)
                                .with_message("keyset paging needs records with a string `id`")
                                .with_request(&Method::GET, &st.pager.path());
                            return Some((Err(e), st));
                        }
                        Some(Some(id)) => {
                            st.last_id = Some(id);
                            st.done = if page.total >= 0 {
                                n >= page.total as u64
                            } else {
                                n < st.page_size
                            };
                        }
                    }
                    st.page = page.records.into_iter();
                }
                Err(e) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    }))
}

/// One keyset page: its records decoded straight into `R` (no `Value` tree in between: the
/// page is split into raw records first), and the `id` of its last record (`Some(None)` when
/// that record has no string `id`; `None` for an empty page).
pub(crate) struct KeysetPage<R> {
    pub(crate) total: i64,
    pub(crate) records: Vec<R>,
    pub(crate) last_id: Option<Option<String>>,
}

pub(crate) fn keyset_page<R: DeserializeOwned>(bytes: &[u8]) -> Result<KeysetPage<R>> {
    #[derive(Deserialize)]
    struct IdOf {
        #[serde(default)]
        id: Option<Value>,
    }
    let page: ListResult<&serde_json::value::RawValue> =
        serde_json::from_slice(bytes).map_err(Error::decode)?;
    let last_id = match page.list.last() {
        None => None,
        Some(raw) => {
            let id = serde_json::from_str::<IdOf>(raw.get())
                .map_err(Error::decode)?
                .id;
            Some(match id {
                Some(Value::String(s)) => Some(s),
                _ => None,
            })
        }
    };
    let records = page
        .list
        .iter()
        .map(|raw| serde_json::from_str(raw.get()))
        .collect::<serde_json::Result<Vec<R>>>()
        .map_err(Error::decode)?;
    Ok(KeysetPage {
        total: page.total,
        records,
        last_id,
    })
}

#[cfg(test)]
mod keyset_page_tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Rec {
        id: Option<String>,
        n: i64,
    }

    #[test]
    fn decodes_records_and_the_last_id() {
        let page =
            keyset_page::<Rec>(br#"{"total":5,"list":[{"id":"a","n":1},{"n":2,"id":"b\u0063"}]}"#)
                .unwrap();
        assert_eq!(page.total, 5);
        assert_eq!(
            page.records[1],
            Rec {
                id: Some("bc".into()),
                n: 2
            }
        );
        assert_eq!(page.last_id, Some(Some("bc".into())));
    }

    #[test]
    fn empty_pages_and_odd_ids() {
        let empty = keyset_page::<Rec>(br#"{"list":[]}"#).unwrap();
        assert_eq!((empty.total, empty.last_id), (-1, None));
        let numeric = keyset_page::<Rec>(br#"{"total":1,"list":[{"id":7,"n":1}]}"#);
        assert!(
            numeric.is_err(),
            "a record that does not decode fails the page"
        );
        let page = keyset_page::<Value>(br#"{"total":1,"list":[{"id":7}]}"#).unwrap();
        assert_eq!(page.last_id, Some(None));
        assert!(keyset_page::<Rec>(br#"{"total":1,"list":[{"id":"x","n":"no"}]}"#).is_err());
    }
}
