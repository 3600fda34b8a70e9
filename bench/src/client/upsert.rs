//! Bulk upsert of products: the generated client's `product().upsert(posts)` (the typed items
//! serialized batch by batch inside the clock, sent, every answer read into per-item results)
//! against a baseline whose batches were serialized before the clock started and that reads and
//! checks every answer (parsed into JSON, one result per item, each `Created` or `Updated`).
//! Same batch size, same requests in flight.

use std::time::Instant;

use atrocore_client::product::{ProductPost, ProductStatus};
use futures_util::{StreamExt as _, stream};
use serde::Serialize;
use serde_json::{Value, json};

use super::{ClientArgs, generated_client, raw_login};

/// The items of a run; `tag` keeps the ids of different runs apart.
fn posts(tag: &str, n: usize) -> Vec<ProductPost> {
    (0..n)
        .map(|i| ProductPost {
            id: Some(format!("u{tag}x{i:07}").into()),
            status: Some(ProductStatus::Draft),
            description: Some("A product upserted by the benchmark.".into()),
            price: Some((i % 1000) as f64 + 0.5),
            is_active: Some(i % 2 == 0),
            ean: Some(format!("{:013}", 4_000_000_000_000u64 + i as u64)),
            ..ProductPost::new(format!("Upserted product {i}"), format!("U-{i:07}"))
        })
        .collect()
}

/// The line of a run: checks that every item was answered and none failed.
fn line(args: &ClientArgs, secs: f64, answered: usize, failed: usize) -> Result<Value, String> {
    if answered != args.items || failed > 0 {
        return Err(format!(
            "{} items: {answered} answered, {failed} failed",
            args.items
        ));
    }
    Ok(json!({ "secs": secs, "items": answered, "failed": failed }))
}

/// The generated client: the batch outcomes as a stream, each checked and dropped (the same
/// work as the baseline's), or (`report`) awaited into the full report, which keeps every
/// item's result and, from a 2.2 server, its whole record.
pub(super) async fn runtime(args: &ClientArgs, report: bool) -> Result<Value, String> {
    let items = posts(&args.tag, args.items);
    let client = generated_client(&args.url).await?;
    let started = Instant::now();
    let request = client
        .product()
        .upsert(items)
        .batch_size(args.batch)
        .concurrency(args.concurrency);
    let (mut answered, mut failed) = (0, 0);
    if report {
        let report = request.await.map_err(|e| e.to_string())?;
        if let Some(b) = report.failed_batches.first() {
            return Err(format!("batch {:?} failed: {}", b.indices, b.error));
        }
        answered = report.results.len();
        failed = report.results.iter().filter(|r| !r.is_ok()).count();
    } else {
        let mut outcomes = request.stream();
        while let Some(outcome) = outcomes.next().await {
            let results =
                outcome.map_err(|b| format!("batch {:?} failed: {}", b.indices, b.error))?;
            answered += results.len();
            failed += results.iter().filter(|r| !r.is_ok()).count();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    line(args, secs, answered, failed)
}

#[derive(Serialize)]
struct Wire<'a> {
    entity: &'static str,
    payload: &'a ProductPost,
}

/// The batches' bodies, serialized before any clock starts: `(items, body)`.
fn bodies(args: &ClientArgs) -> Result<Vec<(usize, Vec<u8>)>, String> {
    let items = posts(&args.tag, args.items);
    items
        .chunks(args.batch.max(1))
        .map(|c| {
            let wire: Vec<Wire<'_>> = c
                .iter()
                .map(|p| Wire {
                    entity: "Product",
                    payload: p,
                })
                .collect();
            serde_json::to_vec(&wire).map(|b| (c.len(), b))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())
}

/// Checks one batch's answers: one per item, none failed; `(answered, failed)`.
fn check_answers(bytes: &[u8], n: usize) -> Result<(usize, usize), String> {
    let answers: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if answers.len() != n {
        return Err(format!("{} answers for {n} items", answers.len()));
    }
    let failed = answers
        .iter()
        .filter(|a| {
            !matches!(
                a["status"].as_str(),
                Some("Created" | "Updated" | "NotModified")
            )
        })
        .count();
    Ok((n, failed))
}

/// Sums the batches' `(answered, failed)` as they complete.
async fn sum(
    sends: impl futures_util::Stream<Item = Result<(usize, usize), String>>,
) -> Result<(usize, usize), String> {
    let mut sends = std::pin::pin!(sends);
    let (mut answered, mut failed) = (0, 0);
    while let Some(r) = sends.next().await {
        let (n, f) = r?;
        answered += n;
        failed += f;
    }
    Ok((answered, failed))
}

/// The baseline.
pub(super) async fn raw(args: &ClientArgs) -> Result<Value, String> {
    let bodies = bodies(args)?;
    let (http, token) = raw_login(&args.url).await?;
    let url = format!("{}/api/v1/MassActions/action/upsert", args.url);
    let started = Instant::now();
    let sends = stream::iter(bodies).map(|(n, body)| {
        let (http, token, url) = (&http, &token, &url);
        async move {
            let bytes = http
                .post(url)
                .header("Authorization-Token", token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| e.to_string())?
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            check_answers(&bytes, n)
        }
    });
    let (answered, failed) = sum(sends.buffer_unordered(args.concurrency.max(1))).await?;
    let secs = started.elapsed().as_secs_f64();
    line(args, secs, answered, failed)
}

/// A timing breakdown, not a comparison: the baseline's pre-serialized batches and answer
/// checks, but sent through the runtime's request core (`Client::request`) instead of reqwest,
/// to tell the request core's cost from the upsert layer's.
pub(super) async fn core(args: &ClientArgs) -> Result<Value, String> {
    let bodies = bodies(args)?;
    let client = generated_client(&args.url).await?;
    let rt = client.runtime();
    let started = Instant::now();
    let sends = stream::iter(bodies).map(|(n, body)| async move {
        let bytes = rt
            .request(
                atrocore_client::runtime::Method::POST,
                "/MassActions/action/upsert",
            )
            .json_bytes(body)
            .send_bytes()
            .await
            .map_err(|e| e.to_string())?;
        check_answers(&bytes, n)
    });
    let (answered, failed) = sum(sends.buffer_unordered(args.concurrency.max(1))).await?;
    let secs = started.elapsed().as_secs_f64();
    line(args, secs, answered, failed)
}
