//! Bulk upsert of typed records in batches, with per-item results.
//!
//! `cargo run -p atrocore-e2e --example upsert` (against `ATROCORE_URL`, or an in-process
//! simulator when it is not set).

#[path = "support/mod.rs"]
mod support;

use atrocore_client::brand::{Brand, BrandPost};
use atrocore_runtime::{UpsertItem, UpsertStatus};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = support::connect().await?;
    let items = (0..1_000)
        .map(|i| {
            UpsertItem::new::<Brand>(&BrandPost {
                name: format!("Example brand {i}"),
                code: Some(format!("example-{i}")),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let report = client
        .upsert(items.clone())
        .batch_size(200)
        .concurrency(2)
        .await?;
    println!(
        "first run: {} created, {} updated, {} unchanged, {} failed, {} batches failed",
        report.count(UpsertStatus::Created),
        report.count(UpsertStatus::Updated),
        report.count(UpsertStatus::NotModified),
        report.count(UpsertStatus::Failed),
        report.failed_batches.len()
    );
    // Upsert is idempotent: the same items again change nothing.
    let again = client.upsert(items).batch_size(200).await?;
    println!(
        "second run: {} unchanged",
        again.count(UpsertStatus::NotModified)
    );
    for failed in report.failed_items().take(5) {
        println!("item {} failed: {:?}", failed.index, failed.message);
    }
    for batch in &report.failed_batches {
        println!("items {:?} not sent: {}", batch.indices, batch.error);
    }
    Ok(())
}
