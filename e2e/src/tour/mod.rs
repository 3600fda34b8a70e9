//! The tour: every task of AtroCore's REST API guide through a generated crate's typed API, with
//! no `runtime()`, no `serde_json::Value` and no field named by a string. One module per API
//! generation, each on the crate generated for it; `examples/tour.rs` runs one against an
//! instance or a simulator, `tests/tour.rs` runs both against simulators and checks the report.

use std::path::PathBuf;
use std::sync::Arc;

use atrocore_runtime::UpsertReport;

pub mod v22;
pub mod v23;

/// Called with (bytes stored, file size) as an upload advances.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What the tour works with.
pub struct Config {
    /// The instance root (for the client with a wrong password).
    pub instance_url: String,
    /// Products whose name contains this word are listed.
    pub word: String,
    /// The brand code the new product links to (found or created by the server).
    pub brand_code: String,
    /// The brand's name, should it be created.
    pub brand_name: String,
    /// How many products the bulk upsert sends (every 1000th is invalid on purpose).
    pub upsert_items: usize,
    /// The file uploaded in chunks.
    pub upload_path: PathBuf,
    /// Chunk size of the upload.
    pub chunk_size: usize,
    /// A measured attribute of products, and a unit of its measure.
    pub attribute_id: String,
    /// The unit set with the attribute value.
    pub unit_id: String,
    /// Upload progress.
    pub progress: Progress,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("instance_url", &self.instance_url)
            .field("word", &self.word)
            .field("upsert_items", &self.upsert_items)
            .field("upload_path", &self.upload_path)
            .finish_non_exhaustive()
    }
}

/// What the tour saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Names of the active products containing the word, sorted.
    pub matching: Vec<String>,
    /// Products seen by streaming all of them.
    pub streamed: usize,
    /// The product created with a brand by code.
    pub product_id: String,
    /// Its brand, as linked by the server.
    pub brand_id: Option<String>,
    /// Its price after the update.
    pub price: Option<f64>,
    /// Whether the update cleared its EAN.
    pub ean_cleared: bool,
    /// Upsert items created or updated.
    pub upsert_ok: usize,
    /// Indexes of the upsert items that failed.
    pub upsert_failed: Vec<usize>,
    /// The uploaded file.
    pub file_id: String,
    /// Its size as the server recorded it.
    pub file_size: Option<i64>,
    /// Files linked to the product afterwards.
    pub attached: i64,
    /// The attribute's value and unit as read back.
    pub weight: Option<(Option<f64>, Option<String>)>,
    /// A read of a missing id failed as "not found".
    pub not_found: bool,
    /// A wrong password failed as "not authenticated".
    pub unauthorized: bool,
}

/// The indexes (in the items given) of the upsert items that failed, ascending: those the
/// server refused, and those of batches whose request failed as a whole.
pub fn failed_indexes(report: &UpsertReport) -> Vec<usize> {
    let mut failed: Vec<usize> = report
        .failed_items()
        .map(|r| r.index)
        .chain(report.unsent_indices())
        .collect();
    failed.sort_unstable();
    failed
}
