//! What every example shares: a client of `ATROCORE_URL` when set, else of a simulator started
//! in this process with the bundled default spec.
//!
//! Environment: `ATROCORE_URL` (the instance root), `ATROCORE_USER` / `ATROCORE_PASSWORD`
//! (default `admin` / `admin`), `ATROCORE_GENERATION` (`2.2`, the default, or `2.3`).

#![allow(dead_code)] // each example uses a part of it

use std::sync::Arc;

use serde_json::{Value, json};

use atrocore_runtime::{ApiGeneration, Client};
use atrocore_sim::{SimConfig, Simulator};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The client, and the simulator behind it when one was started (keep it alive).
pub async fn connect() -> Result<(Client, Option<Simulator>), Box<dyn std::error::Error>> {
    let user = std::env::var("ATROCORE_USER").unwrap_or_else(|_| "admin".into());
    let password = std::env::var("ATROCORE_PASSWORD").unwrap_or_else(|_| "admin".into());
    if let Ok(url) = std::env::var("ATROCORE_URL") {
        let generation = match std::env::var("ATROCORE_GENERATION").as_deref() {
            Ok("2.3") => ApiGeneration::V2_3,
            _ => ApiGeneration::V2_2,
        };
        let client = Client::builder(&url)
            .generation(generation)
            .basic_auth(user, password)
            .build()?;
        println!("using {url} ({generation:?})");
        return Ok((client, None));
    }
    let spec = std::fs::read(format!("{ROOT}/specs/atrocore-2.2-pim-default.json"))?;
    let meta = std::fs::read(format!(
        "{ROOT}/specs/atrocore-2.2-pim-default.metadata.json"
    ));
    let mut config = SimConfig::from_spec_value(Arc::new(serde_json::from_slice(&spec)?));
    if let Ok(meta) = meta {
        config = config.metadata_value(Arc::new(serde_json::from_slice(&meta)?));
    }
    let sim = Simulator::start(config).await?;
    println!("no ATROCORE_URL: started a simulator at {}", sim.base_url());
    let client = Client::builder(sim.base_url())
        .basic_auth(user, password)
        .build()?;
    Ok((client, Some(sim)))
}

/// The generated client (typed entity API) on the same connection as [`connect`].
#[allow(dead_code)]
pub async fn connect_typed()
-> Result<(atrocore_client::Client, Option<Simulator>), Box<dyn std::error::Error>> {
    let (runtime, sim) = connect().await?;
    Ok((atrocore_client::Client::from(runtime), sim))
}

/// A size from the environment variable `name` (for small runs in CI), else `default`.
#[allow(dead_code)]
pub fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bundled default spec and its metadata, parsed.
pub fn default_docs() -> (Arc<Value>, Arc<Value>) {
    let load = |path: String| -> Arc<Value> {
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        Arc::new(serde_json::from_slice(&text).expect("JSON"))
    };
    (
        load(format!("{ROOT}/specs/atrocore-2.2-pim-default.json")),
        load(format!(
            "{ROOT}/specs/atrocore-2.2-pim-default.metadata.json"
        )),
    )
}

/// Writes `n` brands (`Brand 000000`…, codes `b000000`…, ids in an order unrelated to insertion
/// order, like AtroCore's) straight into the simulator database file at `path` through the
/// simulator's public `store` API, in one transaction: far faster than HTTP creates. Serve the
/// file with `SimConfig::db_path`.
pub fn seed_brands(path: &std::path::Path, spec: &Value, meta: &Value, n: usize) {
    let model = atrocore_sim::model::Model::from_spec(spec, Some(meta)).expect("model");
    let store = atrocore_sim::store::Store::open(Some(path), &model).expect("store");
    let brand = model.entity("Brand").expect("Brand entity");
    store.conn().execute_batch("BEGIN").expect("begin");
    for k in 0..n {
        let mixed = (k as u64 + 1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17);
        let record = json!({
            "id": format!("a01{mixed:016x}{k:07}"),
            "name": format!("Brand {k:06}"),
            "code": format!("b{k:06}"),
            "description": "A brand seeded for a throughput measurement.",
            "isActive": k % 3 != 0,
            "deleted": false,
            "createdAt": "2026-01-01 00:00:00",
            "modifiedAt": "2026-01-01 00:00:00",
            "createdById": "1",
            "modifiedById": "1",
        });
        store
            .insert(brand, record.as_object().expect("object"))
            .expect("insert");
    }
    store.conn().execute_batch("COMMIT").expect("commit");
}
