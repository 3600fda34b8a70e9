//! How the simulator scales with the records it holds, each figure against a baseline measured in
//! the same run:
//!
//! - **writes**: a bulk upsert of N brands (unique `code`) into an empty simulator, then N more
//!   into the one holding the first N; the second should take at most 1.3x the first (unique
//!   checks and upsert look-ups by value use indexes, not table scans);
//! - **keyset pages**: a page of 200 brands after a random id, served from a database of `SMALL`
//!   records and from one of `LARGE`, median of many pages; both without the count (AtroCore's
//!   `disabledCountQueryEntityList`, so the page itself is timed) and with it (a count of what
//!   follows the key: linear in the records on every server, AtroCore's too).
//!
//! ```sh
//! cargo run -p atrocore-e2e --example sim_scale --release                 # 20 000, 1 000 / 1 000 000
//! cargo run -p atrocore-e2e --example sim_scale --release -- 2000 1000 100000
//! ```

use std::time::{Duration, Instant};

use atrocore_client::Client;
use atrocore_client::brand::{BrandField, BrandPost};
use atrocore_sim::{SimConfig, Simulator};

mod support;

/// Prints `what`, the figure, the baseline, the ratio and the verdict against `goal`.
fn report(what: &str, value: Duration, baseline: Duration, goal: f64) {
    let ratio = value.as_secs_f64() / baseline.as_secs_f64();
    let verdict = if ratio <= goal { "met" } else { "MISSED" };
    println!("{what}: {value:.2?} vs {baseline:.2?}: {ratio:.2}x (goal <= {goal:.1}x: {verdict})");
}

async fn client(sim: &Simulator) -> Client {
    Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client")
}

/// Upserts brands `from..to` (new codes), timed.
async fn upsert(client: &Client, from: usize, to: usize) -> Duration {
    let items: Vec<BrandPost> = (from..to)
        .map(|k| BrandPost {
            code: Some(format!("u{k:07}")),
            ..BrandPost::new(format!("Upserted {k:07}"))
        })
        .collect();
    let started = Instant::now();
    let outcome = client
        .brand()
        .upsert(&items)
        .await
        .expect("the upsert runs");
    assert_eq!(outcome.failed_items().count(), 0, "every item stored");
    started.elapsed()
}

/// The median time of `pages` keyset pages of 200 after ids spread over the table.
async fn keyset_pages(db: &std::path::Path, n: usize, pages: usize, counted: bool) -> Duration {
    let (spec, meta) = support::default_docs();
    let mut config = SimConfig::from_spec_value(spec)
        .metadata_value(meta)
        .db_path(db);
    if !counted {
        config = config.count_disabled(["Brand"]);
    }
    let sim = Simulator::start(config).await.expect("simulator");
    let client = client(&sim).await;
    // Keys spread over the id order, each with a full page after it (so both databases serve
    // pages of the same size).
    let ids: Vec<String> = {
        let step = (n.saturating_sub(201) / pages).max(1) as u64;
        let mut ids = Vec::new();
        for k in 0..pages as u64 {
            let page = client
                .brand()
                .list()
                .sort_by(BrandField::Id)
                .offset((k * step) % n.saturating_sub(201).max(1) as u64)
                .max_size(1)
                .await
                .expect("a key");
            ids.push(page.list[0].id.clone().expect("id").into_string());
        }
        ids
    };
    let mut times = Vec::new();
    for id in &ids {
        let request = client
            .runtime()
            .request(atrocore_runtime::Method::GET, "/Brand")
            .query("sortBy", "id")
            .query("maxSize", 200)
            .query("where[0][type]", "greaterThan")
            .query("where[0][attribute]", "id")
            .query("where[0][value]", id);
        let started = Instant::now();
        let page: atrocore_runtime::ListResult<serde_json::Value> =
            request.send_json().await.expect("a page");
        times.push(started.elapsed());
        assert!(page.list.len() <= 200);
    }
    sim.shutdown().await;
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut arg = |default: usize| {
        args.next()
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let (n, small, large) = (arg(20_000), arg(1_000), arg(1_000_000));

    let (spec, meta) = support::default_docs();
    let sim = Simulator::start(SimConfig::from_spec_value(spec).metadata_value(meta))
        .await
        .expect("simulator");
    let c = client(&sim).await;
    let first = upsert(&c, 0, n).await;
    let second = upsert(&c, n, 2 * n).await;
    sim.shutdown().await;
    report(
        &format!("upsert of {n} brands into {n} (baseline: into none)"),
        second,
        first,
        1.3,
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let (small_db, large_db) = (
        dir.path().join("small.sqlite"),
        dir.path().join("large.sqlite"),
    );
    let (spec, meta) = support::default_docs();
    support::seed_brands(&small_db, &spec, &meta, small);
    support::seed_brands(&large_db, &spec, &meta, large);
    for counted in [false, true] {
        let base = keyset_pages(&small_db, small, 100, counted).await;
        let big = keyset_pages(&large_db, large, 100, counted).await;
        let what = if counted {
            "counted (informative: a count is linear)"
        } else {
            "not counted"
        };
        let goal = if counted { f64::INFINITY } else { 1.3 };
        report(
            &format!("keyset page at {large} records vs {small}, {what}"),
            big,
            base,
            goal,
        );
    }
}
