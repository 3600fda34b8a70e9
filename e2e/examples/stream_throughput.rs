//! Measures how many records per second the runtime streams from the simulator, with offset
//! paging (`ListRequest::stream`) and keyset paging (`ListRequest::keyset_stream`), and prints
//! both and their ratio.
//!
//! ```sh
//! cargo run -p atrocore-e2e --example stream_throughput --release            # 100 000 records
//! cargo run -p atrocore-e2e --example stream_throughput --release -- 20000 500  # records, page size
//! ```
//!
//! The records are written straight into a simulator database file through the simulator's
//! public `store` API (one transaction), then the simulator serves that file over HTTP and the
//! generated client (`atrocore_client`) streams every `Brand` through the runtime.

use std::time::{Duration, Instant};

use atrocore_client::Client;
use atrocore_client::brand::BrandField;
use atrocore_runtime::BoxStream;
use atrocore_sim::{SimConfig, Simulator};
use futures_util::TryStreamExt;

mod support;

async fn drain(stream: BoxStream<atrocore_client::brand::Brand>) -> (usize, Duration) {
    let started = Instant::now();
    let n = stream
        .try_fold(0usize, |n, b| async move {
            assert!(b.id.is_some());
            Ok(n + 1)
        })
        .await
        .expect("stream");
    (n, started.elapsed())
}

async fn stream_both(sim: &Simulator, client: &Client, n: usize, page: u64) {
    let list = || client.brand().list().sort_by(BrandField::Id).max_size(page);
    let before = sim.request_count();
    let (offset_n, offset_t) = drain(list().stream()).await;
    let offset_requests = sim.request_count() - before;
    let before = sim.request_count();
    let (keyset_n, keyset_t) = drain(list().keyset_stream()).await;
    let keyset_requests = sim.request_count() - before;
    assert_eq!(offset_n, n);
    assert_eq!(keyset_n, n);

    let rate = |n: usize, t: Duration| n as f64 / t.as_secs_f64();
    let (offset_rate, keyset_rate) = (rate(offset_n, offset_t), rate(keyset_n, keyset_t));
    println!("page size {page}");
    println!(
        "offset paging: {offset_n} records in {offset_t:.2?} ({offset_requests} requests): {offset_rate:.0} records/s"
    );
    println!(
        "keyset paging: {keyset_n} records in {keyset_t:.2?} ({keyset_requests} requests): {keyset_rate:.0} records/s"
    );
    println!("keyset / offset: {:.2}x", keyset_rate / offset_rate);
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(100_000, |a| a.parse().expect("record count"));
    let page: u64 = args.next().map_or(200, |a| a.parse().expect("page size"));
    // `pages-only`: skip the two full streams, time single pages only.
    let streams = args.next().is_none_or(|a| a != "pages-only");

    let (spec, meta) = support::default_docs();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("sim.sqlite");
    let started = Instant::now();
    support::seed_brands(&db, &spec, &meta, n);
    println!("seeded {n} brands in {:.2?}", started.elapsed());

    let sim = Simulator::start(
        SimConfig::from_spec_value(spec)
            .metadata_value(meta)
            .db_path(&db),
    )
    .await
    .expect("simulator");
    let client = Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let total = client
        .brand()
        .list()
        .max_size(1)
        .await
        .expect("warm-up")
        .total;
    assert_eq!(total, n as i64);

    if streams {
        stream_both(&sim, &client, n, page).await;
    }

    // Where the time goes: one page near the start and one at the end, by offset and by keyset
    // (server and transfer), and decoding one page into the generated type (client).
    let last_id = {
        let page = client
            .brand()
            .list()
            .sort_by(BrandField::Id)
            .asc(false)
            .offset(page)
            .max_size(1)
            .await
            .expect("id near the end");
        page.list[0].id.clone().expect("id")
    };
    let rt = client.runtime();
    let time_page = |offset: Option<u64>, after: Option<&str>| {
        let mut request = rt
            .request(atrocore_runtime::Method::GET, "/Brand")
            .query("sortBy", "id")
            .query("maxSize", page);
        if let Some(o) = offset {
            request = request.query("offset", o);
        }
        if let Some(id) = after {
            request = request
                .query("where[0][type]", "greaterThan")
                .query("where[0][attribute]", "id")
                .query("where[0][value]", id);
        }
        async move {
            let started = Instant::now();
            let bytes = request.send_bytes().await.expect("page");
            (started.elapsed(), bytes)
        }
    };
    let (first, bytes) = time_page(Some(0), None).await;
    let (deep_offset, _) = time_page(Some(n as u64 - page), None).await;
    let (deep_keyset, _) = time_page(None, Some(&last_id)).await;
    let started = Instant::now();
    let decoded: atrocore_runtime::ListResult<atrocore_client::brand::Brand> =
        serde_json::from_slice(&bytes).expect("decode");
    let decode = started.elapsed();
    println!(
        "one page of {page}: first {first:.2?}, last by offset {deep_offset:.2?}, last by keyset {deep_keyset:.2?}; decoding it {decode:.2?} ({} bytes, {} records)",
        bytes.len(),
        decoded.list.len()
    );
    sim.shutdown().await;
}
