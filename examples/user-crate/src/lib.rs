//! A user-shaped crate: the kind of code an integration writes on a generated AtroCore client
//! (here the workspace's `atrocore-client`), with its own integration test against the
//! simulator in `tests/against_simulator.rs`.
//!
//! Two jobs: import brands from another system (a bulk upsert keyed by the brand's code), and
//! list the names of a brand's active products.

use atrocore_client::Client;
use atrocore_client::brand::BrandPost;
use atrocore_client::product::{ProductField, filter};
use atrocore_client::runtime::prelude::TryStreamExt;
use atrocore_client::runtime::{Result, UpsertStatus};

/// A brand as another system (an ERP) knows it.
#[derive(Debug, Clone)]
pub struct BrandRow {
    /// The ERP's key, stored in the brand's unique `code`.
    pub code: String,
    /// The display name.
    pub name: String,
}

/// What [`import_brands`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Brands created.
    pub created: usize,
    /// Brands whose name changed.
    pub updated: usize,
    /// Brands that were already as given.
    pub unchanged: usize,
    /// Rows the server refused: their position in the input and its message.
    pub failed: Vec<(usize, String)>,
}

/// Creates or updates one brand per row, found by its `code`, in batches of `batch_size`.
pub async fn import_brands(
    client: &Client,
    rows: &[BrandRow],
    batch_size: usize,
) -> Result<ImportSummary> {
    let posts: Vec<BrandPost> = rows
        .iter()
        .map(|row| BrandPost {
            code: Some(row.code.clone()),
            ..BrandPost::new(row.name.as_str())
        })
        .collect();
    let report = client.brand().upsert(&posts).batch_size(batch_size).await?;
    let mut failed: Vec<(usize, String)> = report
        .failed_items()
        .map(|r| (r.index, r.message.clone().unwrap_or_default()))
        .collect();
    for batch in &report.failed_batches {
        failed.extend(batch.indices.clone().map(|i| (i, batch.error.to_string())));
    }
    failed.sort();
    Ok(ImportSummary {
        created: report.count(UpsertStatus::Created),
        updated: report.count(UpsertStatus::Updated),
        unchanged: report.count(UpsertStatus::NotModified),
        failed,
    })
}

/// The names of the active products of brand `brand_id`, sorted (all pages).
pub async fn active_product_names(client: &Client, brand_id: &str) -> Result<Vec<String>> {
    client
        .brand()
        .products(brand_id)
        .filter(filter::is_active().is_true())
        .select([ProductField::Id, ProductField::Name])
        .sort_by(ProductField::Name)
        .max_size(2)
        .stream()
        .try_filter_map(|p| async move { Ok(p.name) })
        .try_collect()
        .await
}
