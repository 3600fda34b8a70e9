//! Shared by `resilience.rs` and `features.rs`: the simulator on the default spec, client set-up
//! with fast retries, a counting forward proxy, and bulk seeding.
#![allow(dead_code)]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use atrocore_client::Client;
use atrocore_runtime::{Method, RetryPolicy};
use atrocore_sim::{Faults, SimConfig, Simulator};
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn load(path: &str) -> Arc<Value> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    Arc::new(serde_json::from_slice(&text).unwrap())
}

/// The default spec (the one the example crate was generated from) and its instance metadata.
fn docs() -> &'static (Arc<Value>, Arc<Value>) {
    static DOCS: OnceLock<(Arc<Value>, Arc<Value>)> = OnceLock::new();
    DOCS.get_or_init(|| {
        (
            load(&format!("{ROOT}/specs/atrocore-2.2-pim-default.json")),
            load(&format!(
                "{ROOT}/specs/atrocore-2.2-pim-default.metadata.json"
            )),
        )
    })
}

/// The attribute definitions bundled with the default spec (what the example crate's typed
/// attributes were generated from; `Simulator::seed_attributes` takes them).
pub fn bundled_attributes() -> Value {
    (*load(&format!(
        "{ROOT}/specs/atrocore-2.2-pim-default.attributes.json"
    )))
    .clone()
}

/// Simulator settings for the default spec and its metadata.
pub fn config() -> SimConfig {
    let (spec, meta) = docs();
    SimConfig::from_spec_value(spec.clone()).metadata_value(meta.clone())
}

/// Writes `n` brands (`Brand 000000`…, ids in an order unrelated to insertion) straight into a
/// simulator database file through the simulator's public `store` API, in one transaction: far
/// faster than thousands of HTTP creates. Start the simulator with `config().db_path(path)`.
pub fn seed_brands_in_db(path: &std::path::Path, n: usize) {
    let (spec, meta) = docs();
    let model = atrocore_sim::model::Model::from_spec(spec, Some(meta)).unwrap();
    let store = atrocore_sim::store::Store::open(Some(path), &model).unwrap();
    let brand = model.entity("Brand").unwrap();
    store.conn().execute_batch("BEGIN").unwrap();
    for k in 0..n {
        let mixed = (k as u64 + 1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17);
        let record = json!({
            "id": format!("a01{mixed:016x}{k:07}"),
            "name": format!("Brand {k:06}"),
            "code": format!("b{k:06}"),
            "isActive": true,
            "deleted": false,
            "createdAt": "2026-01-01 00:00:00",
            "modifiedAt": "2026-01-01 00:00:00",
            "createdById": "1",
            "modifiedById": "1",
        });
        store.insert(brand, record.as_object().unwrap()).unwrap();
    }
    store.conn().execute_batch("COMMIT").unwrap();
}

/// Retries with millisecond backoffs, so that tests stay fast.
pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(2),
    }
}

pub async fn start_with(faults: Faults) -> Simulator {
    Simulator::start(config().faults(faults))
        .await
        .expect("simulator starts")
}

/// An admin client of `sim` with fast retries.
pub fn client(sim: &Simulator, retries: u32) -> Client {
    Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .retry_policy(fast_retries(retries))
        .build()
        .expect("client builds")
}

/// Upserts `n` brands named `Brand 000000`… through the bulk upsert route, in batches.
pub async fn seed_brands(client: &Client, n: usize, batch: usize) {
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let items: Vec<Value> = (i..end)
            .map(|k| {
                json!({
                    "entity": "Brand",
                    "payload": { "name": format!("Brand {k:06}"), "code": format!("b{k:06}") }
                })
            })
            .collect();
        let answer: Vec<Value> = client
            .runtime()
            .request(Method::POST, "/MassActions/action/upsert")
            .json(&items)
            .idempotent(true)
            .send_json()
            .await
            .expect("bulk upsert");
        assert_eq!(answer.len(), end - i);
        assert!(
            answer.iter().all(|r| r["status"] == "Created"),
            "{:?}",
            answer.iter().find(|r| r["status"] != "Created")
        );
        i = end;
    }
}

/// One request seen by the [`CountingProxy`].
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub status: u16,
    pub user_agent: Option<String>,
}

/// A plain-HTTP forward proxy that records every request it forwards: it counts logins (the
/// token route) exactly, and checks the runtime's `proxy` and `user_agent` settings.
#[derive(Debug)]
pub struct CountingProxy {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct ProxyState {
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl CountingProxy {
    pub async fn start() -> CountingProxy {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = ProxyState {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            seen: seen.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CountingProxy { url, seen, task }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests to the 2.2 token route `GET /App/user`.
    pub fn logins(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == "GET" && s.path.ends_with("/App/user"))
            .count()
    }

    /// Answers with this status.
    pub fn with_status(&self, status: u16) -> usize {
        self.seen().iter().filter(|s| s.status == status).count()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    axum::extract::State(state): axum::extract::State<ProxyState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    // A forward proxy gets the absolute URL in the request line.
    let url = parts.uri.to_string();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut out = state.http.request(parts.method.clone(), &url).body(body);
    for (k, v) in &parts.headers {
        if !matches!(
            k.as_str(),
            "host" | "connection" | "proxy-connection" | "content-length" | "transfer-encoding"
        ) {
            out = out.header(k, v);
        }
    }
    let user_agent = parts
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let record = |status: u16| Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        status,
        user_agent: user_agent.clone(),
    };
    match out.send().await {
        Ok(r) => {
            let status = r.status();
            let mut headers = r.headers().clone();
            headers.remove("content-length");
            headers.remove("transfer-encoding");
            headers.remove("connection");
            let bytes = r.bytes().await.unwrap_or_default();
            state.seen.lock().unwrap().push(record(status.as_u16()));
            (status, headers, bytes).into_response()
        }
        Err(_) => {
            state.seen.lock().unwrap().push(record(502));
            axum::http::StatusCode::BAD_GATEWAY.into_response()
        }
    }
}
