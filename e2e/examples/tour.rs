//! The tour: the guide's tasks through the typed API of a generated crate (`atrocore_e2e::tour`):
//! log in; list active products whose name contains a word (three fields, sorted); stream all
//! products; create a product with its brand linked by code; set one field and clear another;
//! bulk-upsert `EXAMPLE_ITEMS` products (default 10 000) and report the failed ones by index;
//! upload a file of `EXAMPLE_MB` MiB (default 2048) by chunks with progress and attach it to the
//! product; set an attribute with a unit and read the attributes back; tell a 404 from a 401.
//!
//! `cargo run --release -p atrocore-e2e --example tour [PATH]` runs it against a simulator started
//! in this process (2.2), or against `ATROCORE_URL` (`ATROCORE_GENERATION=2.3` for a 2.3
//! instance; `ATROCORE_ATTRIBUTE_ID` and `ATROCORE_UNIT_ID` name a measured product attribute and
//! one of its units there). `PATH` uploads that file instead of a generated one.

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::Arc;

use atrocore_client::attribute::AttributePost;
use atrocore_client::attribute_panel::AttributePanelPost;
use atrocore_client::measure::MeasurePost;
use atrocore_client::unit::UnitPost;
use atrocore_e2e::tour::{self, Config};
use atrocore_runtime::ApiGeneration;

/// A create answered without the record's id.
const NO_ID: &str = "the server answered a create without the record's id";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (runtime, sim) = support::connect().await?;
    let instance_url = runtime.base_url().to_owned();
    let generation = runtime.generation();
    let client = atrocore_client::Client::from(runtime.clone());

    let (attribute_id, unit_id) = match (
        std::env::var("ATROCORE_ATTRIBUTE_ID"),
        std::env::var("ATROCORE_UNIT_ID"),
    ) {
        (Ok(a), Ok(u)) => (a, u),
        _ if sim.is_some() => {
            // The simulator starts empty: a measure, a unit and a measured attribute first.
            let mass = client.measure().create(&MeasurePost::new("Mass")).await?;
            let mass = mass.id.ok_or(NO_ID)?;
            let kg = UnitPost {
                multiplier: Some(1.0),
                ..UnitPost::new("Kilogram", mass.clone())
            };
            let kg = client.unit().create(&kg).await?.id.ok_or(NO_ID)?;
            let panel = AttributePanelPost::new("Main", "main", "Product", 0.0);
            let panel = client.attribute_panel().create(&panel).await?;
            let weight = AttributePost {
                code: Some("weight".into()),
                type_: Some("float".into()),
                measure: Some(mass.into()),
                ..AttributePost::new("Weight", panel.id.ok_or(NO_ID)?, "Product")
            };
            let weight = client.attribute().create(&weight).await?;
            (weight.id.ok_or(NO_ID)?.into_string(), kg.into_string())
        }
        _ => return Err("set ATROCORE_ATTRIBUTE_ID and ATROCORE_UNIT_ID for this instance".into()),
    };

    let (upload_path, _tmp) = match std::env::args().nth(1) {
        Some(p) => (std::path::PathBuf::from(p), None),
        None => {
            let mut tmp = tempfile::NamedTempFile::new()?;
            let block: Vec<u8> = (0..1 << 20).map(|i| (i * 31 % 251) as u8).collect();
            for _ in 0..support::size("EXAMPLE_MB", 2048) {
                tmp.write_all(&block)?;
            }
            tmp.flush()?;
            (tmp.path().to_owned(), Some(tmp))
        }
    };
    let config = Config {
        instance_url,
        word: "chair".into(),
        brand_code: "acme".into(),
        brand_name: "Acme".into(),
        upsert_items: support::size("EXAMPLE_ITEMS", 10_000),
        upload_path,
        chunk_size: 8 << 20,
        attribute_id,
        unit_id,
        progress: Arc::new(|done, total| {
            eprint!(
                "\r  upload {:>5.1}%",
                done as f64 * 100.0 / total.max(1) as f64
            );
        }),
    };
    let report = match generation {
        ApiGeneration::V2_2 => tour::v22::run(&client, &config).await?,
        _ => {
            let client = atrocore_client_23::Client::from(runtime);
            tour::v23::run(&client, &config).await?
        }
    };
    eprintln!();
    println!("{report:#?}");
    if !(report.not_found && report.unauthorized) {
        return Err("404 and 401 were not told apart".into());
    }
    Ok(())
}
