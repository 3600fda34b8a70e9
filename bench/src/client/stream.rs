//! Streaming every product: the generated client's `stream()` / `keyset_stream()` against a
//! hand-written loop of reqwest `GET`s decoded with serde_json into the same generated
//! `Product`. Both keep every id (moved out of the record) and check, after the clock stopped,
//! that they saw exactly the server's records, each once.

use std::time::Instant;

use atrocore_client::product::{Product, ProductField};
use futures_util::TryStreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ClientArgs, generated_client, raw_login};

/// The generated client through the runtime.
pub(super) async fn runtime(args: &ClientArgs, keyset: bool) -> Result<Value, String> {
    let client = generated_client(&args.url).await?;
    let started = Instant::now();
    let list = client
        .product()
        .list()
        .sort_by(ProductField::Id)
        .max_size(args.page);
    let mut stream = if keyset {
        list.keyset_stream()
    } else {
        list.stream()
    };
    let mut ids = Vec::with_capacity(args.records);
    while let Some(p) = stream.try_next().await.map_err(|e| e.to_string())? {
        ids.push(p.id.map(String::from).ok_or("a record without id")?);
    }
    let secs = started.elapsed().as_secs_f64();
    report(args, ids, secs)
}

/// The generated client's change feed from the beginning: every product once, in
/// `(modifiedAt, id)` order (tie groups of a bulk write read by id), then the (empty) trash.
pub(super) async fn changes(args: &ClientArgs) -> Result<Value, String> {
    use atrocore_client::runtime::{Change, Watermark};
    let client = generated_client(&args.url).await?;
    let started = Instant::now();
    let mut feed = client
        .product()
        .list()
        .max_size(args.page)
        .changes_since(&Watermark::beginning())
        .settle(std::time::Duration::ZERO)
        .stream();
    let mut ids = Vec::with_capacity(args.records);
    while let Some(change) = feed.try_next().await.map_err(|e| e.to_string())? {
        let Change::Modified { record, .. } = change else {
            return Err("a deletion from a server that deleted nothing".into());
        };
        ids.push(record.id.map(String::from).ok_or("a record without id")?);
    }
    let secs = started.elapsed().as_secs_f64();
    report(args, ids, secs)
}

/// AtroCore's list answer, decoded by the baseline.
#[derive(Deserialize)]
struct Page {
    total: i64,
    list: Vec<Product>,
}

/// The baseline: the same requests by hand.
pub(super) async fn raw(args: &ClientArgs, keyset: bool) -> Result<Value, String> {
    let (http, token) = raw_login(&args.url).await?;
    let url = format!("{}/api/v1/Product", args.url);
    let page_size = args.page.to_string();
    let started = Instant::now();
    let mut ids: Vec<String> = Vec::with_capacity(args.records);
    let mut offset = 0u64;
    loop {
        let mut query: Vec<(&str, String)> =
            vec![("maxSize", page_size.clone()), ("sortBy", "id".into())];
        if keyset {
            query.push(("asc", "true".into()));
            if let Some(last) = ids.last() {
                query.push(("where[0][type]", "greaterThan".into()));
                query.push(("where[0][attribute]", "id".into()));
                query.push(("where[0][value]", last.clone()));
            }
        } else {
            query.push(("offset", offset.to_string()));
        }
        let bytes = http
            .get(&url)
            .query(&query)
            .header("Authorization-Token", &token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        let page: Page = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let n = page.list.len() as u64;
        for p in page.list {
            ids.push(p.id.map(String::from).ok_or("a record without id")?);
        }
        offset += n;
        // The last page: nothing more, or (keyset) everything that matched was in this one.
        let done = n == 0
            || if keyset {
                n >= page.total as u64
            } else {
                offset >= page.total as u64
            };
        if done {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    report(args, ids, secs)
}

/// Checks the ids (untimed) and makes the run's line.
fn report(args: &ClientArgs, mut ids: Vec<String>, secs: f64) -> Result<Value, String> {
    let seen = ids.len();
    ids.sort_unstable();
    ids.dedup();
    if seen != args.records || ids.len() != args.records {
        return Err(format!(
            "expected {} distinct records, got {seen} records of which {} distinct",
            args.records,
            ids.len()
        ));
    }
    Ok(json!({ "secs": secs, "records": seen, "distinct": ids.len() }))
}
