//! The benchmark server: AtroCore 2.2-shaped answers from memory, fast enough that the client's
//! own cost is what the benchmarks see (the simulator's SQLite store would hide it).
//!
//! Routes (base path `/api/v1`, as a 2.2 instance):
//! - `GET /App/user`: Basic `admin:admin` → `{authorizationToken}` (the field the runtime's
//!   login reads, as the simulator's token route answers it);
//! - `GET /Product`: pages of the records, by `offset`/`maxSize` or by keyset
//!   (`where[0]` = `greaterThan` on `id`, `sortBy=id`), with AtroCore's `{total, list}` where
//!   `total` counts the filter's matches ([`list`]);
//! - `GET /File`: no files (the runtime's name check before an upload);
//! - `POST /File` with `piecesCount`: one chunk, decoded, hashed in order and discarded
//!   ([`chunks`]);
//! - `POST /MassActions/action/upsert`: every item parsed and answered ([`upsert`]);
//! - `GET /bench/stats` (no auth): what the server received, for the driver's checks.
//!
//! Every other request, and every `where` or sort it does not serve, is an error: a benchmark
//! that asks for something else fails instead of measuring something else.

mod chunks;
mod list;
mod upsert;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use clap::Args;
use serde_json::{Value, json};

/// `server` arguments.
#[derive(Args)]
pub(crate) struct ServerArgs {
    /// Product records to serve.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Port on 127.0.0.1 (0: any free port; the address is printed on the first line).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// The token handed out by the login.
const TOKEN: &str = "bench-token-5f2b9c";

/// Everything the handlers share.
pub(crate) struct Shared {
    products: list::Products,
    uploads: Mutex<chunks::Uploads>,
    upserts: Mutex<upsert::Upserts>,
    requests: AtomicU64,
}

type App = Arc<Shared>;

/// Starts the server, prints `listening http://127.0.0.1:PORT`, and serves until stdin closes
/// (so that it never outlives the driver).
pub(crate) fn run(args: ServerArgs) -> Result<(), String> {
    let started = std::time::Instant::now();
    let shared = Arc::new(Shared {
        products: list::Products::generate(args.records),
        uploads: Mutex::new(chunks::Uploads::default()),
        upserts: Mutex::new(upsert::Upserts::default()),
        requests: AtomicU64::new(0),
    });
    eprintln!(
        "bench server: {} records made in {:.2?}",
        args.records,
        started.elapsed()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            let _ = stop_tx.send(());
        });
        println!("listening http://{addr}");
        axum::serve(listener, router(shared))
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await
            .map_err(|e| format!("server: {e}"))
    })
}

fn router(shared: App) -> Router {
    Router::new()
        .route("/api/v1/App/user", get(login))
        .route("/api/v1/Product", get(list::products))
        .route("/api/v1/File", get(no_files).post(chunks::chunk))
        .route("/api/v1/MassActions/action/upsert", post(upsert::upsert))
        .route("/bench/stats", get(stats))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not served by the bench server") })
        // Chunks of up to 256 MiB (Base64 in JSON: a third more).
        .layer(axum::extract::DefaultBodyLimit::max(384 << 20))
        .with_state(shared)
}

/// An error answer with AtroCore's `X-Status-Reason`.
pub(crate) fn error(status: StatusCode, reason: &str) -> Response {
    let mut r = (status, reason.to_owned()).into_response();
    if let Ok(v) = HeaderValue::from_str(reason) {
        r.headers_mut().insert("X-Status-Reason", v);
    }
    r
}

/// A JSON answer from bytes already serialized.
pub(crate) fn json_bytes(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Counts the request and checks its `Authorization-Token`: the `401` answer when it is wrong.
pub(crate) fn unauthorized(app: &Shared, headers: &HeaderMap) -> Option<Response> {
    app.requests.fetch_add(1, Ordering::Relaxed);
    match headers.get("Authorization-Token") {
        Some(t) if t.as_bytes() == TOKEN.as_bytes() => None,
        _ => Some(error(
            StatusCode::UNAUTHORIZED,
            "no valid Authorization-Token",
        )),
    }
}

async fn login(
    axum::extract::State(app): axum::extract::State<App>,
    headers: HeaderMap,
) -> Response {
    app.requests.fetch_add(1, Ordering::Relaxed);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:admin")
    );
    let basic_ok = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == expected.as_bytes());
    let token_ok = headers
        .get("Authorization-Token")
        .is_some_and(|v| v.as_bytes() == TOKEN.as_bytes());
    if !basic_ok && !token_ok {
        return error(StatusCode::UNAUTHORIZED, "wrong user name or password");
    }
    json_bytes(
        serde_json::to_vec(&json!({
            "authorizationToken": TOKEN,
            "user": { "id": "1", "userName": "admin", "name": "Admin" },
        }))
        .unwrap_or_default(),
    )
}

async fn no_files(
    axum::extract::State(app): axum::extract::State<App>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = unauthorized(&app, &headers) {
        return r;
    }
    json_bytes(br#"{"total":0,"list":[]}"#.to_vec())
}

async fn stats(axum::extract::State(app): axum::extract::State<App>) -> Response {
    let uploads: BTreeMap<String, Value> = app
        .uploads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .completed()
        .iter()
        .map(|(id, c)| (id.clone(), json!({ "bytes": c.bytes, "md5": c.md5 })))
        .collect();
    let upserts = app
        .upserts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .stats();
    json_bytes(
        serde_json::to_vec(&json!({
            "uploads": uploads,
            "upsert": upserts,
            "requests": app.requests.load(Ordering::Relaxed),
        }))
        .unwrap_or_default(),
    )
}
