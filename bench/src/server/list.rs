//! `GET /Product`: pages of pre-serialized records, by offset or by keyset on `id`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{App, error, json_bytes, unauthorized};
use crate::data::{product_id, product_record};

/// The served records, sorted by `id` (the order of `sortBy=id`), each serialized once.
pub(crate) struct Products {
    ids: Vec<String>,
    json: Vec<Box<str>>,
}

impl Products {
    /// Makes `n` product records.
    pub(crate) fn generate(n: u64) -> Self {
        let mut rows: Vec<(String, Box<str>)> = (0..n)
            .map(|k| {
                (
                    product_id(k),
                    product_record(k).to_string().into_boxed_str(),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let (ids, json) = rows.into_iter().unzip();
        Self { ids, json }
    }

    /// The number of records matching the query's filter, and the rows of its page.
    fn page(&self, q: &Query) -> (usize, std::ops::Range<usize>) {
        let first = q.after.as_deref().map_or(0, |after| {
            self.ids.partition_point(|id| id.as_str() <= after)
        });
        let start = first.saturating_add(q.offset).min(self.ids.len());
        let end = start.saturating_add(q.max_size).min(self.ids.len());
        (self.ids.len() - first, start..end)
    }
}

/// What a list request asks for.
#[derive(Debug, Default, PartialEq)]
struct Query {
    offset: usize,
    max_size: usize,
    /// `where[0]`: `greaterThan` on `id`.
    after: Option<String>,
}

/// Reads the query the way AtroCore's list does for the parameters the benchmarks send, and
/// refuses anything else that would change the answer (other sorts, other `where` conditions).
fn parse_query(raw: &str) -> Result<Query, String> {
    let mut q = Query {
        max_size: 20,
        ..Query::default()
    };
    let (mut w_type, mut w_attr, mut w_value) = (None, None, None);
    for (k, v) in url_pairs(raw) {
        match k.as_str() {
            "offset" => q.offset = v.parse().map_err(|_| format!("bad offset {v:?}"))?,
            "maxSize" => q.max_size = v.parse().map_err(|_| format!("bad maxSize {v:?}"))?,
            "sortBy" if v == "id" => {}
            "asc" if v == "true" => {}
            "where[0][type]" => w_type = Some(v),
            "where[0][attribute]" => w_attr = Some(v),
            "where[0][value]" => w_value = Some(v),
            "sortBy" | "asc" => {
                return Err(format!("only sortBy=id ascending is served, not {k}={v}"));
            }
            other if other.starts_with("where") => {
                return Err(format!(
                    "only one `greaterThan` on `id` is served, not {other}"
                ));
            }
            // Parameters that do not change these records' answer.
            "select" | "collectionOnly" | "totalOnly" => {}
            other => return Err(format!("parameter {other} is not served")),
        }
    }
    match (w_type.as_deref(), w_attr.as_deref(), w_value) {
        (None, None, None) => {}
        (Some("greaterThan"), Some("id"), Some(v)) => q.after = Some(v),
        other => return Err(format!("unsupported where {other:?}")),
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
    let rows = &app.products.json[rows];
    let mut body = Vec::with_capacity(32 + rows.iter().map(|r| r.len() + 1).sum::<usize>());
    body.extend_from_slice(format!("{{\"total\":{total},\"list\":[").as_bytes());
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(r.as_bytes());
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
                after: None
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
        assert!(parse_query("foo=1").is_err());
    }

    #[test]
    fn keyset_and_offset_pages_cover_every_record_once() {
        let p = Products::generate(1000);
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let q = Query {
                offset: 0,
                max_size: 97,
                after: after.clone(),
            };
            let (total, rows) = p.page(&q);
            assert_eq!(total, 1000 - seen.len());
            if rows.is_empty() {
                break;
            }
            seen.extend_from_slice(&p.ids[rows]);
            after = seen.last().cloned();
        }
        assert_eq!(seen, p.ids);
        let mut by_offset = Vec::new();
        for offset in (0..1000).step_by(97) {
            let (total, rows) = p.page(&Query {
                offset,
                max_size: 97,
                after: None,
            });
            assert_eq!(total, 1000);
            by_offset.extend_from_slice(&p.ids[rows]);
        }
        assert_eq!(by_offset, p.ids);
        assert!(p.ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(decode("where%5B0%5D+x%2"), "where[0] x%2");
    }
}
