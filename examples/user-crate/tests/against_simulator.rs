//! `my-pim-sync`'s integration test: its functions against the simulator, started in-process
//! with the spec and metadata its client was generated from. Each test seeds the records it
//! starts from, calls the crate's code, and asserts on the results and on what the server
//! received.

use atrocore_client::Client;
use atrocore_sim::{Faults, SimConfig, Simulator};
use my_pim_sync::{BrandRow, ImportSummary, active_product_names, import_brands};
use serde_json::json;

const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs");

async fn start() -> (Simulator, Client) {
    let config = SimConfig::from_spec_path(format!("{SPECS}/atrocore-2.2-pim-default.json"))
        .metadata_path(format!("{SPECS}/atrocore-2.2-pim-default.metadata.json"));
    let sim = Simulator::start(config)
        .await
        .expect("the simulator starts");
    let client = Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .build()
        .expect("a client for the simulator");
    (sim, client)
}

fn product(name: &str, brand: &str, active: bool) -> serde_json::Value {
    json!({"name": name, "number": format!("N-{name}"), "status": "draft", "brandId": brand, "isActive": active})
}

/// Seeds two brands and their products; returns the ids of Acme and Globex.
fn seed_catalogue(sim: &Simulator) -> (String, String) {
    let brands = sim
        .seed(
            "Brand",
            [
                json!({"name": "Acme", "code": "acme"}),
                json!({"name": "Globex", "code": "globex"}),
            ],
        )
        .expect("brands seeded");
    let id = |i: usize| brands[i]["id"].as_str().unwrap_or_default().to_owned();
    let (acme, globex) = (id(0), id(1));
    sim.seed(
        "Product",
        [
            product("Table", &acme, true),
            product("Chair", &acme, true),
            product("Stool", &acme, false),
            product("Lamp", &globex, true),
            product("Bench", &acme, true),
        ],
    )
    .expect("products seeded");
    (acme, globex)
}

#[tokio::test]
async fn lists_the_active_products_of_a_brand() {
    let (sim, client) = start().await;
    let (acme, _) = seed_catalogue(&sim);

    let names = active_product_names(&client, &acme).await.unwrap();
    assert_eq!(names, ["Bench", "Chair", "Table"]);

    // What it sent: the login, then pages of two from the brand's product list, filtered on
    // `isActive` by the server (not after the fact).
    let requests = sim.take_requests();
    assert_eq!(requests[0].line(), "GET /api/v1/App/user");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Basic [redacted]")
    );
    let pages: Vec<_> = requests[1..].iter().collect();
    assert_eq!(pages.len(), 2, "{pages:#?}");
    for page in &pages {
        assert_eq!(page.line(), format!("GET /api/v1/Brand/{acme}/products"));
        assert_eq!(page.header("authorization-token"), Some("[redacted]"));
        assert_eq!(page.query_value("where[0][type]"), Some("isTrue"));
        assert_eq!(page.query_value("where[0][attribute]"), Some("isActive"));
        assert_eq!(page.query_value("maxSize"), Some("2"));
        assert_eq!(page.status, Some(200));
    }
    assert_eq!(pages[0].query_value("offset"), Some("0"));
    assert_eq!(pages[1].query_value("offset"), Some("2"));
}

#[tokio::test]
async fn imports_brands_by_code_and_reports_refused_rows() {
    let (sim, client) = start().await;
    seed_catalogue(&sim);
    let row = |code: &str, name: &str| BrandRow {
        code: code.into(),
        name: name.into(),
    };
    let rows = [
        row("acme", "ACME Corporation"), // renamed
        row("initech", "Initech"),       // new
        row("globex", ""),               // refused: the name is required
        row("globex", "Globex"),         // as it is
    ];
    let summary = import_brands(&client, &rows, 2).await.unwrap();
    let message = summary
        .failed
        .first()
        .map(|f| f.1.clone())
        .unwrap_or_default();
    assert!(message.contains("Name"), "{summary:?}");
    assert_eq!(
        summary,
        ImportSummary {
            created: 1,
            updated: 1,
            unchanged: 1,
            failed: vec![(2, message)],
        }
    );

    // Two batches of two, each item (`{entity, payload}`) carrying its code, which finds the
    // brand again.
    let upserts: Vec<_> = sim
        .take_requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(upserts.len(), 2, "{upserts:#?}");
    let codes: Vec<String> = upserts
        .iter()
        .flat_map(|r| {
            let items = r.json().and_then(|b| b.as_array()).cloned();
            items.unwrap_or_default()
        })
        .map(|item| {
            assert_eq!(item["entity"], "Brand", "{item}");
            item["payload"]["code"].as_str().unwrap_or("?").to_owned()
        })
        .collect();
    assert_eq!(codes, ["acme", "initech", "globex", "globex"]);
    for r in &upserts {
        assert_eq!(r.path, "/api/v1/MassActions/action/upsert");
    }
}

#[tokio::test]
async fn the_listing_survives_a_flaky_server() {
    let (sim, client) = start().await;
    let (acme, _) = seed_catalogue(&sim);
    // From now on a third of the requests are answered 503: the client retries them.
    sim.set_faults(Faults {
        error_rate: 0.3,
        seed: 7,
        ..Faults::default()
    });
    let names = active_product_names(&client, &acme).await.unwrap();
    assert_eq!(names, ["Bench", "Chair", "Table"]);
    let statuses: Vec<_> = sim.requests().iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&Some(503)) && statuses.last() == Some(&Some(200)),
        "{statuses:?}"
    );
}
