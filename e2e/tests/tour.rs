//! The tour (`atrocore_e2e::tour`) end to end in both API generations: every task of the guide
//! through the typed API, checked against what the simulator then holds.

mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use atrocore_e2e::tour::{self, Config, Report};
use atrocore_runtime::Method;
use atrocore_sim::{SimConfig, Simulator};
use serde_json::{Value, json};

const UPSERT_ITEMS: usize = 3000;

/// A temporary file of `mib` MiB with a recognisable pattern.
fn big_file(mib: usize) -> tempfile::NamedTempFile {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    let block: Vec<u8> = (0..1 << 20).map(|i| (i * 31 % 251) as u8).collect();
    for _ in 0..mib {
        tmp.write_all(&block).unwrap();
    }
    tmp.flush().unwrap();
    tmp
}

fn config(
    sim: &Simulator,
    file: &tempfile::NamedTempFile,
    ids: (String, String),
) -> (Config, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let config = Config {
        instance_url: sim.base_url().to_owned(),
        word: "chair".into(),
        brand_code: "acme".into(),
        brand_name: "Acme".into(),
        upsert_items: UPSERT_ITEMS,
        upload_path: file.path().to_owned(),
        chunk_size: 1 << 20,
        attribute_id: ids.0,
        unit_id: ids.1,
        progress: Arc::new(move |done, total| {
            assert!(done <= total);
            seen.fetch_add(1, Ordering::Relaxed);
        }),
    };
    (config, calls)
}

/// What both generations must report, given the seeded products.
fn check(report: &Report, calls: &AtomicU64, file_len: u64, seeded: usize) {
    assert_eq!(report.matching, ["Arm chair", "Chair", "Office chair"]);
    assert_eq!(report.streamed, seeded);
    assert!(report.brand_id.is_some(), "the brand was found or created");
    assert_eq!(report.price, Some(129.5));
    assert!(report.ean_cleared);
    let expected_failed: Vec<usize> = (0..UPSERT_ITEMS).filter(|i| i % 1000 == 999).collect();
    assert_eq!(report.upsert_failed, expected_failed);
    assert_eq!(report.upsert_ok, UPSERT_ITEMS - expected_failed.len());
    assert_eq!(report.file_size, Some(file_len as i64));
    assert_eq!(report.attached, 1);
    assert!(calls.load(Ordering::Relaxed) >= 2, "progress was reported");
    assert!(report.not_found && report.unauthorized, "{report:?}");
}

/// Products to list: three active ones containing "chair" (any case), one inactive.
fn seed_products() -> Vec<(&'static str, bool)> {
    vec![
        ("Office chair", true),
        ("Chair", true),
        ("Arm chair", true),
        ("Broken chair", false),
        ("Table", true),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_on_2_2() {
    use atrocore_client::attribute::AttributePost;
    use atrocore_client::attribute_panel::AttributePanelPost;
    use atrocore_client::measure::MeasurePost;
    use atrocore_client::product::ProductPost;
    use atrocore_client::unit::UnitPost;

    let sim = Simulator::start(support::config()).await.unwrap();
    let client = support::client(&sim, 2);
    for (name, active) in seed_products() {
        let post = ProductPost {
            is_active: Some(active),
            ..ProductPost::new(name, format!("S-{name}"))
        };
        client.product().create(&post).await.unwrap();
    }
    // A measured attribute (setup, through the typed API too).
    let mass = client
        .measure()
        .create(&MeasurePost::new("Mass"))
        .await
        .unwrap()
        .id
        .unwrap();
    let kg = client
        .unit()
        .create(&UnitPost {
            multiplier: Some(1.0),
            ..UnitPost::new("Kilogram", mass.clone())
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let panel = client
        .attribute_panel()
        .create(&AttributePanelPost::new("Main", "main", "Product", 0.0))
        .await
        .unwrap()
        .id
        .unwrap();
    let weight = client
        .attribute()
        .create(&AttributePost {
            code: Some("weight".into()),
            type_: Some("float".into()),
            measure: Some(mass.into()),
            ..AttributePost::new("Weight", panel, "Product")
        })
        .await
        .unwrap()
        .id
        .unwrap();

    let file = big_file(3);
    let (config, calls) = config(&sim, &file, (weight.to_string(), kg.to_string()));
    let report = tour::v22::run(&client, &config).await.unwrap();
    check(&report, &calls, 3 << 20, seed_products().len());
    assert_eq!(report.weight, Some((Some(2.5), Some(kg.into_string()))));
    sim.shutdown().await;
}

/// The full 2.3 PIM reference spec and metadata (the small one the crate was generated from
/// has no Attribute, Measure or Unit routes for the setup; the crate's routes are the same in
/// both), or `None` when they are missing: the test skips.
fn full_23_config() -> Option<SimConfig> {
    let spec = atrocore_testkit::reference_json("specs/atrocore-pim-multilang.json")?;
    let meta = atrocore_testkit::reference_json("metadata/atrocore-pim-multilang.metadata.json")?;
    Some(SimConfig::from_spec_value(Arc::new(spec)).metadata_value(Arc::new(meta)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_on_2_3() {
    use atrocore_client_23::product::{ProductPost, ProductStatus};

    let Some(sim_config) = full_23_config() else {
        return;
    };
    let sim = Simulator::start(sim_config).await.unwrap();
    let client = atrocore_client_23::Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .retry_policy(support::fast_retries(2))
        .build()
        .unwrap();
    for (name, active) in seed_products() {
        let post = ProductPost {
            is_active: Some(active),
            ..ProductPost::new(name, format!("S-{name}"), ProductStatus::Draft)
        };
        client.product().create(&post).await.unwrap();
    }
    // Setup only: this crate has no Measure, Unit or Attribute types, so they are made raw.
    let raw = client.runtime();
    let post = |path: &'static str, body: Value| async move {
        let v: Value = raw
            .request(Method::POST, path)
            .json(&body)
            .send_json()
            .await
            .unwrap();
        v["id"].as_str().unwrap().to_owned()
    };
    let mass = post("/Measure", json!({ "name": "Mass", "code": "mass" })).await;
    let kg = post(
        "/Unit",
        json!({ "name": "Kilogram", "code": "kg", "measureId": mass, "multiplier": 1.0 }),
    )
    .await;
    let weight = post(
        "/Attribute",
        json!({ "name": "Weight", "systemName": "weight", "type": "float", "measureId": mass,
                "entityId": "Product", "attributePanelId": "main" }),
    )
    .await;

    let file = big_file(3);
    let (config, calls) = config(&sim, &file, (weight, kg.clone()));
    let report = tour::v23::run(&client, &config).await.unwrap();
    check(&report, &calls, 3 << 20, seed_products().len());
    assert_eq!(report.weight.as_ref().map(|w| w.0), Some(Some(2.5)));
    sim.shutdown().await;
}
