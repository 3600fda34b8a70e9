//! A tiny AtroCore stand-in for the runtime's integration tests: token routes, `401` on stale
//! tokens, scripted faults, a paged `Product` list, and an echo of what was received.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrocore_runtime::{ApiGeneration, Client, RetryPolicy};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "s3cr3t-Pa55";
/// `Basic base64("admin:s3cr3t-Pa55")`.
pub const BASIC: &str = "Basic YWRtaW46czNjcjN0LVBhNTU=";

/// One scripted answer of `/Faulty`.
#[derive(Clone, Debug)]
pub struct Fault {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Fault {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
}

/// A request as the mock saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    /// Raw (percent-encoded) path, including the API base path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Decoded query pairs.
    pub fn pairs(&self) -> Vec<(String, String)> {
        reqwest::Url::parse(&format!("http://x/?{}", self.query))
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
    pub fn param(&self, name: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[derive(Default)]
pub struct Mock {
    pub logins: AtomicUsize,
    pub login_delay_ms: AtomicUsize,
    token: Mutex<Option<String>>,
    /// Refuse every token (even fresh ones).
    pub reject_all: AtomicBool,
    pub faults: Mutex<VecDeque<Fault>>,
    pub seen: Mutex<Vec<Seen>>,
    pub products: Mutex<Vec<Value>>,
    /// Largest `maxSize` the list honours (AtroCore caps it too).
    pub max_page: AtomicUsize,
    /// Answer lists with `total: -1`.
    pub hide_total: AtomicBool,
}

impl Mock {
    pub fn set_token(&self, token: &str) {
        *self.token.lock().unwrap() = Some(token.to_owned());
    }
    pub fn expire_token(&self) {
        *self.token.lock().unwrap() = Some("nobody-has-this".to_owned());
    }
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.lock().unwrap().extend(faults);
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    /// Requests whose path ends with `suffix`.
    pub fn seen_at(&self, suffix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.ends_with(suffix))
            .collect()
    }
    pub fn logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }
    pub fn seed_products(&self, n: usize) {
        *self.products.lock().unwrap() = (0..n)
            .map(|i| json!({"id": format!("p{i:03}"), "name": format!("Product {i}"), "price": i}))
            .collect();
    }
}

pub struct Server {
    pub url: String,
    pub mock: Arc<Mock>,
}

impl Server {
    pub async fn start() -> Self {
        let mock = Arc::new(Mock::default());
        mock.max_page.store(1000, Ordering::SeqCst);
        let app = Router::new().fallback(handle).with_state(mock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            mock,
        }
    }

    /// A client with credentials, small backoffs and short timeouts.
    pub fn client(&self, generation: ApiGeneration) -> Client {
        Client::builder(&self.url)
            .generation(generation)
            .basic_auth(USER, PASSWORD)
            .retry_policy(fast_retries(3))
            .timeout(Duration::from_secs(5))
            // The mock refuses tokens right after issuing them, which AtroCore does only
            // after another login revoked them (tested in e2e against the simulator).
            .revoked_within(Duration::ZERO)
            .build()
            .unwrap()
    }
}

pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(2),
    }
}

fn error(status: u16, reason: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("X-Status-Reason", reason.to_owned())],
        reason.to_owned(),
    )
        .into_response()
}

fn json_response(v: Value) -> Response {
    axum::Json(v).into_response()
}

async fn handle(State(mock): State<Arc<Mock>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    mock.seen.lock().unwrap().push(seen.clone());

    let path = seen.path.clone();
    let rest = path
        .strip_prefix("/api/v1")
        .or_else(|| path.strip_prefix("/api"))
        .unwrap_or("")
        .to_owned();

    if rest == "/App/user" || rest == "/userSession" {
        return login(&mock, &seen).await;
    }
    let token = seen.header("authorization-token").map(str::to_owned);
    let valid = mock.token.lock().unwrap().clone();
    if mock.reject_all.load(Ordering::SeqCst) || token.is_none() || token != valid {
        return error(401, "Token is not valid");
    }

    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (seen.method.as_str(), segments.as_slice()) {
        (_, ["Faulty"]) => {
            let fault = mock.faults.lock().unwrap().pop_front();
            match fault {
                None => json_response(json!({"ok": true})),
                Some(f) => {
                    let mut r = (StatusCode::from_u16(f.status).unwrap(), f.body).into_response();
                    for (k, v) in f.headers {
                        r.headers_mut().insert(k, v.parse().unwrap());
                    }
                    r
                }
            }
        }
        ("GET", ["Slow"]) => {
            tokio::time::sleep(Duration::from_millis(400)).await;
            json_response(json!({"ok": true}))
        }
        ("GET", ["Echo"]) => json_response(json!({"query": seen.query})),
        ("GET", ["NotJson"]) => "certainly not json".into_response(),
        ("GET", ["Product"]) => list(&mock, &seen),
        ("POST", ["Product"]) => {
            let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            v["id"] = json!("new-id");
            json_response(v)
        }
        ("GET", ["Product", id]) => {
            let id = percent_decode(id);
            let products = mock.products.lock().unwrap();
            match products.iter().find(|p| p["id"] == id.as_str()) {
                Some(p) => {
                    let mut p = p.clone();
                    if seen.header("with-meta") == Some("true") {
                        p["_meta"] =
                            json!({"permissions": {"edit": true, "delete": false, "stream": true}});
                    }
                    json_response(p)
                }
                None if id == "echo me/ ok" => json_response(json!({"id": id})),
                None => error(404, &format!("Record {id} not found")),
            }
        }
        ("PUT" | "PATCH", ["Product", id]) => {
            let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            v["id"] = json!(percent_decode(id));
            json_response(v)
        }
        ("DELETE", ["Product", _]) => json_response(json!(true)),
        // A mass action job: `soon` is done at the third poll, `never` never.
        ("GET", ["Job", job @ ("soon" | "never"), "massActionStatus"]) => {
            let polls = mock
                .seen
                .lock()
                .unwrap()
                .iter()
                .filter(|s| s.path == seen.path)
                .count();
            let done = *job == "soon" && polls >= 3;
            json_response(json!({
                "done": done,
                "errors": if done { "Error for 'A': locked" } else { "" },
                "message": null,
            }))
        }
        _ => error(404, "No such route"),
    }
}

async fn login(mock: &Mock, seen: &Seen) -> Response {
    if seen.header("authorization-token-only") != Some("true") {
        return error(400, "expected Authorization-Token-Only");
    }
    if seen.header("authorization") != Some(BASIC) {
        return error(401, "Wrong username/password");
    }
    let n = mock.logins.fetch_add(1, Ordering::SeqCst) + 1;
    let delay = mock.login_delay_ms.load(Ordering::SeqCst) as u64;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let token = format!("tok-{n}-abcdef");
    mock.set_token(&token);
    json_response(json!({"authorizationToken": token}))
}

/// `GET /Product`: `where` (equals on name, greaterThan on id), sortBy id/name, offset, maxSize.
fn list(mock: &Mock, seen: &Seen) -> Response {
    let pairs = seen.pairs();
    let where_ = php_decode(&pairs, "where");
    let mut rows: Vec<Value> = mock.products.lock().unwrap().clone();
    if let Some(Value::Array(conds)) = &where_ {
        for c in conds {
            let attr = c["attribute"].as_str().unwrap_or_default().to_owned();
            let value = c["value"].as_str().unwrap_or_default().to_owned();
            match c["type"].as_str() {
                Some("equals") => rows.retain(|r| r[&attr] == value.as_str()),
                Some("greaterThan") => {
                    rows.retain(|r| r[&attr].as_str().unwrap_or_default() > value.as_str())
                }
                other => return error(400, &format!("mock cannot filter with {other:?}")),
            }
        }
    }
    let sort_by = seen.param("sortBy");
    if let Some(field) = &sort_by {
        rows.sort_by(|a, b| a[field].to_string().cmp(&b[field].to_string()));
        if seen.param("asc").as_deref() == Some("false") {
            rows.reverse();
        }
    }
    let total = rows.len() as i64;
    let offset: usize = seen
        .param("offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cap = mock.max_page.load(Ordering::SeqCst);
    let max: usize = seen
        .param("maxSize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .min(cap);
    let page: Vec<Value> = rows.into_iter().skip(offset).take(max).collect();
    let total = if mock.hide_total.load(Ordering::SeqCst) {
        -1
    } else {
        total
    };
    json_response(json!({"total": total, "list": page}))
}

fn percent_decode(s: &str) -> String {
    reqwest::Url::parse(&format!("http://x/?k={}", s.replace('+', "%2B")))
        .unwrap()
        .query_pairs()
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A small `parse_str` for the mock: the pairs under `name[...]` as nested JSON (lists when the
/// keys are 0..n).
pub fn php_decode(pairs: &[(String, String)], name: &str) -> Option<Value> {
    let mut root = Map::new();
    let mut found = false;
    for (k, v) in pairs {
        let Some(rest) = k.strip_prefix(name) else {
            continue;
        };
        if rest.is_empty() {
            return Some(Value::String(v.clone()));
        }
        found = true;
        let keys: Vec<&str> = rest
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split("][")
            .collect();
        let mut node = &mut root;
        for key in &keys[..keys.len() - 1] {
            node = node
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .unwrap();
        }
        node.insert(keys[keys.len() - 1].to_owned(), Value::String(v.clone()));
    }
    fn listify(v: Value) -> Value {
        match v {
            Value::Object(m) => {
                let is_list = m.keys().enumerate().all(|(i, k)| k == &i.to_string());
                if is_list {
                    Value::Array(m.into_iter().map(|(_, v)| listify(v)).collect())
                } else {
                    Value::Object(m.into_iter().map(|(k, v)| (k, listify(v))).collect())
                }
            }
            other => other,
        }
    }
    found.then(|| listify(Value::Object(root)))
}
