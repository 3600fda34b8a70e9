//! `GET /Product`: pages of pre-serialized records, by offset or by keyset on `id`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{App, error, json_bytes, unauthorized};
use crate::data::{product_id, product_modified, product_record};

/// The served records, sorted by `id` (the order of `sortBy=id`), each serialized once, with
/// their `modifiedAt` (Unix seconds) and an order by `modifiedAt` whose ties are in no
/// particular order (AtroCore sorts by one field).
pub(crate) struct Products {
    ids: Vec<String>,
    json: Vec<Box<str>>,
    modified: Vec<i64>,
    /// Row numbers by `modifiedAt`; ties by a hash of the id, not by id.
    by_modified: Vec<usize>,
}

impl Products {
    /// Makes `n` product records.
    pub(crate) fn generate(n: u64) -> Self {
        let mut rows: Vec<(String, Box<str>, i64)> = (0..n)
            .map(|k| {
                (
                    product_id(k),
                    product_record(k).to_string().into_boxed_str(),
                    product_modified(k),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ids = Vec::with_capacity(rows.len());
        let mut json = Vec::with_capacity(rows.len());
        let mut modified = Vec::with_capacity(rows.len());
        for (id, j, m) in rows {
            ids.push(id);
            json.push(j);
            modified.push(m);
        }
        let mut by_modified: Vec<usize> = (0..ids.len()).collect();
        let scramble = |i: usize| (i as u64 + 7).wrapping_mul(0xD1B5_4A32_D192_ED03);
        by_modified.sort_by_key(|&i| (modified[i], scramble(i)));
        Self {
            ids,
            json,
            modified,
            by_modified,
        }
    }

    /// The number of records matching the query's filter, and the rows of its page, in order.
    fn page(&self, q: &Query) -> (usize, Vec<usize>) {
        if q.only_deleted {
            return (0, Vec::new());
        }
        let window = |from: usize, len: usize| {
            let start = from.saturating_add(q.offset).min(len);
            start..start.saturating_add(q.max_size).min(len)
        };
        let m = |i: &usize| self.modified[*i];
        let lo = self
            .by_modified
            .partition_point(|i| !q.modified.above_low(m(i)));
        let hi = self
            .by_modified
            .partition_point(|i| !q.modified.above_high(m(i)))
            .max(lo);
        let bounded = q.modified != Range::default();
        match (q.sort, bounded) {
            (Sort::Id, false) => {
                let first = q.after.as_deref().map_or(0, |after| {
                    self.ids.partition_point(|id| id.as_str() <= after)
                });
                let rows = window(first, self.ids.len());
                (self.ids.len() - first, rows.collect())
            }
            // A few records (a tie group): sorted by id here.
            (Sort::Id, true) => {
                let mut rows: Vec<usize> = self.by_modified[lo..hi]
                    .iter()
                    .copied()
                    .filter(|&i| q.after.as_deref().is_none_or(|a| self.ids[i].as_str() > a))
                    .collect();
                rows.sort_unstable();
                let w = window(0, rows.len());
                (rows.len(), rows[w].to_vec())
            }
            (Sort::ModifiedAt, _) if q.after.is_none() => {
                let w = window(lo, hi);
                (hi - lo, self.by_modified[w].to_vec())
            }
            (Sort::ModifiedAt, _) => {
                let rows: Vec<usize> = self.by_modified[lo..hi]
                    .iter()
                    .copied()
                    .filter(|&i| q.after.as_deref().is_none_or(|a| self.ids[i].as_str() > a))
                    .collect();
                let w = window(0, rows.len());
                (rows.len(), rows[w].to_vec())
            }
        }
    }
}

/// A list's order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Sort {
    #[default]
    Id,
    ModifiedAt,
}

/// Bounds on `modifiedAt` (Unix seconds, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    low: i64,
    high: i64,
}

impl Default for Range {
    fn default() -> Self {
        Self {
            low: i64::MIN,
            high: i64::MAX,
        }
    }
}

impl Range {
    /// Whether `t` is at or above the low bound.
    fn above_low(&self, t: i64) -> bool {
        t >= self.low
    }

    /// Whether `t` is above the high bound.
    fn above_high(&self, t: i64) -> bool {
        t > self.high
    }
}

/// What a list request asks for.
#[derive(Debug, Default, PartialEq)]
struct Query {
    offset: usize,
    max_size: usize,
    sort: Sort,
    /// `greaterThan` on `id`.
    after: Option<String>,
    /// Conditions on `modifiedAt`.
    modified: Range,
    /// The bool filter `onlyDeleted` (nothing is deleted here).
    only_deleted: bool,
}

/// Reads the query the way AtroCore's list does for the parameters the benchmarks send (the
/// streams' and the change feed's), and refuses anything else that would change the answer.
fn parse_query(raw: &str) -> Result<Query, String> {
    let mut q = Query {
        max_size: 20,
        ..Query::default()
    };
    let mut items: std::collections::BTreeMap<usize, [Option<String>; 3]> = Default::default();
    for (k, v) in url_pairs(raw) {
        match k.as_str() {
            "offset" => q.offset = v.parse().map_err(|_| format!("bad offset {v:?}"))?,
            "maxSize" => q.max_size = v.parse().map_err(|_| format!("bad maxSize {v:?}"))?,
            "sortBy" if v == "id" => q.sort = Sort::Id,
            "sortBy" if v == "modifiedAt" => q.sort = Sort::ModifiedAt,
            "asc" if v == "true" => {}
            "sortBy" | "asc" => {
                return Err(format!(
                    "only sortBy=id or modifiedAt ascending is served, not {k}={v}"
                ));
            }
            other if other.starts_with("where[") => {
                let rest = &other["where[".len()..];
                let (n, key) = rest
                    .split_once("][")
                    .ok_or_else(|| format!("unsupported where key {other}"))?;
                let n: usize = n.parse().map_err(|_| format!("bad where index {other}"))?;
                let slot = match key {
                    "type]" => 0,
                    "attribute]" => 1,
                    "value]" | "value][0]" => 2,
                    _ => return Err(format!("unsupported where key {other}")),
                };
                items.entry(n).or_default()[slot] = Some(v);
            }
            // Parameters that do not change these records' answer.
            "select" | "collectionOnly" | "totalOnly" => {}
            other => return Err(format!("parameter {other} is not served")),
        }
    }
    let seconds = |v: &str| {
        v.parse::<atrocore_client::runtime::DateTime>()
            .map(|t| t.unix_seconds())
            .map_err(|e| e.to_string())
    };
    for [ty, attr, value] in items.into_values() {
        match (ty.as_deref(), attr.as_deref(), value.as_deref()) {
            (Some("greaterThan"), Some("id"), Some(v)) => q.after = Some(v.to_owned()),
            (Some("bool"), None, Some("onlyDeleted")) => q.only_deleted = true,
            (Some("isNotNull"), Some("modifiedAt"), None) => {}
            (Some(op), Some("modifiedAt"), Some(v)) => {
                let t = seconds(v)?;
                let r = &mut q.modified;
                match op {
                    "equals" => (r.low, r.high) = (r.low.max(t), r.high.min(t)),
                    "greaterThan" => r.low = r.low.max(t + 1),
                    "greaterThanOrEquals" => r.low = r.low.max(t),
                    "lessThan" => r.high = r.high.min(t - 1),
                    _ => return Err(format!("unsupported where {op} on modifiedAt")),
                }
            }
            other => return Err(format!("unsupported where {other:?}")),
        }
    }
    Ok(q)
}

/// `application/x-www-form-urlencoded` pairs of a query string.
fn url_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /Product`.
pub(crate) async fn products(
    State(app): State<App>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = unauthorized(&app, &headers) {
        return r;
    }
    let q = match parse_query(raw.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let (total, rows) = app.products.page(&q);
    let json = &app.products.json;
    let mut body = Vec::with_capacity(32 + rows.iter().map(|&r| json[r].len() + 1).sum::<usize>());
    body.extend_from_slice(format!("{{\"total\":{total},\"list\":[").as_bytes());
    for (i, &r) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(json[r].as_bytes());
    }
    body.extend_from_slice(b"]}");
    json_bytes(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_offset_and_keyset_queries() {
        assert_eq!(
            parse_query("offset=200&maxSize=100&sortBy=id").unwrap(),
            Query {
                offset: 200,
                max_size: 100,
                ..Query::default()
            }
        );
        let q = parse_query(
            "maxSize=50&sortBy=id&asc=true&where%5B0%5D%5Btype%5D=greaterThan\
             &where%5B0%5D%5Battribute%5D=id&where%5B0%5D%5Bvalue%5D=p00ff",
        )
        .unwrap();
        assert_eq!(q.after.as_deref(), Some("p00ff"));
        assert_eq!(q.max_size, 50);
    }

    #[test]
    fn refuses_what_it_does_not_serve() {
        assert!(parse_query("sortBy=name").is_err());
        assert!(parse_query("asc=false").is_err());
        assert!(
            parse_query("where[0][type]=lessThan&where[0][attribute]=id&where[0][value]=x")
                .is_err()
        );
        assert!(parse_query("where[1][type]=isNull").is_err());
        assert!(
            parse_query("where[0][type]=like&where[0][attribute]=modifiedAt&where[0][value]=x")
                .is_err()
        );
        assert!(parse_query("foo=1").is_err());
    }

    #[test]
    fn keyset_and_offset_pages_cover_every_record_once() {
        let p = Products::generate(1000);
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let q = Query {
                max_size: 97,
                after: after.clone(),
                ..Query::default()
            };
            let (total, rows) = p.page(&q);
            assert_eq!(total, 1000 - seen.len());
            if rows.is_empty() {
                break;
            }
            seen.extend(rows.iter().map(|&r| p.ids[r].clone()));
            after = seen.last().cloned();
        }
        assert_eq!(seen, p.ids);
        let mut by_offset = Vec::new();
        for offset in (0..1000).step_by(97) {
            let (total, rows) = p.page(&Query {
                offset,
                max_size: 97,
                ..Query::default()
            });
            assert_eq!(total, 1000);
            by_offset.extend(rows.iter().map(|&r| p.ids[r].clone()));
        }
        assert_eq!(by_offset, p.ids);
        assert!(p.ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn feed_queries_read_modified_at_bounds_and_ties() {
        let q = parse_query(
            "sortBy=modifiedAt&asc=true&maxSize=5&where[0][type]=greaterThanOrEquals\
             &where[0][attribute]=modifiedAt&where[0][value]=2026-01-01+00:00:10\
             &where[1][type]=lessThan&where[1][attribute]=modifiedAt\
             &where[1][value]=2026-01-01+00:00:20&where[2][type]=bool&where[2][value][0]=onlyDeleted",
        )
        .unwrap();
        assert_eq!(q.sort, Sort::ModifiedAt);
        assert_eq!(q.modified.high - q.modified.low, 9);
        assert!(q.only_deleted);
        let p = Products::generate(1000);
        // A tie group (ten records share the first second) read by id.
        let base = product_modified(0);
        let group = |after: Option<String>| {
            p.page(&Query {
                max_size: 4,
                sort: Sort::Id,
                after,
                modified: Range {
                    low: base,
                    high: base,
                },
                ..Query::default()
            })
        };
        let (total, first) = group(None);
        assert_eq!(
            (total, first.len()),
            (p.modified.iter().filter(|&&m| m == base).count(), 4)
        );
        assert!(first.windows(2).all(|w| p.ids[w[0]] < p.ids[w[1]]));
        let (_, next) = group(Some(p.ids[first[3]].clone()));
        assert!(p.ids[next[0]] > p.ids[first[3]]);
        // By modifiedAt: non-decreasing.
        let (total, rows) = p.page(&Query {
            max_size: 1000,
            sort: Sort::ModifiedAt,
            ..Query::default()
        });
        assert_eq!((total, rows.len()), (1000, 1000));
        assert!(
            rows.windows(2)
                .all(|w| p.modified[w[0]] <= p.modified[w[1]])
        );
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(decode("where%5B0%5D+x%2"), "where[0] x%2");
    }
}
