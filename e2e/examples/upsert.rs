//! Bulk upsert of typed records in batches, with per-item results, through the generated
//! entity API (`client.brand().upsert(&posts)`).
//!
//! `cargo run -p atrocore-e2e --example upsert` (against `ATROCORE_URL`, or an in-process
//! simulator when it is not set; `EXAMPLE_ITEMS` sets the number of brands, default 1000).

#[path = "support/mod.rs"]
mod support;

use atrocore_client::brand::BrandPost;
use atrocore_runtime::UpsertStatus;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = support::connect_typed().await?;
    let n = support::size("EXAMPLE_ITEMS", 1_000);
    let mut brands: Vec<BrandPost> = (0..n)
        .map(|i| BrandPost {
            code: Some(format!("example-{i}")),
            ..BrandPost::new(format!("Example brand {i}"))
        })
        .collect();
    // One item the server rejects (the name is required): reported by its index.
    brands[n / 2].name = String::new();
    let report = client
        .brand()
        .upsert(&brands)
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
    for failed in report.failed_items() {
        println!("item {} failed: {:?}", failed.index, failed.message);
    }
    for batch in &report.failed_batches {
        println!("items {:?} not sent: {}", batch.indices, batch.error);
    }
    // Found again by their unique `code`: the same items change nothing.
    brands[n / 2].name = format!("Example brand {}", n / 2);
    let again = client.brand().upsert(&brands).batch_size(200).await?;
    println!(
        "second run: {} created, {} unchanged",
        again.count(UpsertStatus::Created),
        again.count(UpsertStatus::NotModified)
    );
    if report.count(UpsertStatus::Created) != n - 1
        || again.count(UpsertStatus::NotModified) != n - 1
    {
        return Err("unexpected upsert results".into());
    }
    Ok(())
}
