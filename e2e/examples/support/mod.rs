//! What every example shares: a client of `ATROCORE_URL` when set, else of a simulator started
//! in this process with the bundled default spec.
//!
//! Environment: `ATROCORE_URL` (the instance root), `ATROCORE_USER` / `ATROCORE_PASSWORD`
//! (default `admin` / `admin`), `ATROCORE_GENERATION` (`2.2`, the default, or `2.3`).

use std::sync::Arc;

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
