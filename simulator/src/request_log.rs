//! The request log: what the simulator received, for tests to assert on
//! ([`Simulator::requests`](crate::Simulator::requests)).
//!
//! An axum layer around the whole router (`http::record`) records every request (API routes, the spec, public
//! downloads; faulted ones included) with its outcome. The log is bounded: it keeps the last
//! [`SimConfig::request_log`](crate::SimConfig::request_log) requests (the oldest are dropped),
//! and a body only up to [`BODY_LIMIT`] bytes. Secrets are never kept: the values of
//! `Authorization` (its scheme stays), `Authorization-Token`, `Cookie` and
//! `Proxy-Authorization`, and every query parameter and JSON body field whose name holds
//! `password`, `secret` or `token` are replaced by [`REDACTED`].

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::query::phpqs;

/// Bodies up to this many bytes are kept (parsed as JSON); larger ones only by their length.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// One request the simulator received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as sent (percent-encoded), e.g. `/api/v1/Product`.
    pub path: String,
    /// The query parameters in order, names and values decoded, brackets kept as sent
    /// (`where[0][type]` = `equals`); secrets redacted.
    pub query: Vec<(String, String)>,
    /// The headers in order, names lower-case; secrets redacted.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: LoggedBody,
    /// The status answered; `None` when the connection was dropped (an injected fault).
    pub status: Option<u16>,
}

/// A request body as logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LoggedBody {
    /// No body.
    Empty,
    /// A JSON body (secrets redacted).
    Json(Value),
    /// A body that is not JSON: only its length.
    NotJson {
        /// Bytes received.
        len: usize,
    },
    /// A body larger than [`BODY_LIMIT`]: only its length.
    TooLarge {
        /// Bytes received.
        len: usize,
    },
    /// Not read: the request was refused before its body (not addressed to a loopback name,
    /// unknown credentials, or larger than [`SimConfig::max_body_bytes`](crate::SimConfig)).
    Unread,
}

impl LoggedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name` (as sent, e.g. `where[0][attribute]`).
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body, if the body was JSON and within [`BODY_LIMIT`].
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            LoggedBody::Json(v) => Some(v),
            _ => None,
        }
    }

    /// `METHOD path` (without the query), handy in assertions.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Marks a response whose connection is dropped (no status reaches the client).
#[derive(Debug, Clone, Copy)]
pub struct Dropped;

/// The bounded log shared by all requests.
#[derive(Debug)]
pub struct RequestLog {
    capacity: usize,
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    /// A log keeping the last `capacity` requests (0: none).
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// Whether requests are logged at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<LoggedRequest>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, entry: LoggedRequest) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The logged requests, oldest first.
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        self.lock().iter().cloned().collect()
    }

    /// The logged requests, oldest first, leaving the log empty.
    pub fn take(&self) -> Vec<LoggedRequest> {
        self.lock().drain(..).collect()
    }
}

/// The log entry of a request, before its outcome.
pub(crate) fn entry_of(parts: &axum::http::request::Parts, body: LoggedBody) -> LoggedRequest {
    LoggedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: query_pairs(parts.uri.query().unwrap_or("")),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes());
                (k.as_str().to_owned(), redact_header(k.as_str(), &value))
            })
            .collect(),
        body,
        status: None,
    }
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|s| name.contains(s))
}

fn redact_header(name: &str, value: &str) -> String {
    match name {
        // The scheme tells a test which kind of credentials was sent; the rest is the secret.
        "authorization" | "proxy-authorization" => match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        },
        "authorization-token" | "cookie" | "set-cookie" => REDACTED.to_owned(),
        _ if is_secret_name(name) => REDACTED.to_owned(),
        _ => value.to_owned(),
    }
}

/// `a=1&where[0][type]=equals` → decoded pairs in order, secrets redacted.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = phpqs::urldecode(k);
            let v = if is_secret_name(&k) {
                REDACTED.to_owned()
            } else {
                phpqs::urldecode(v)
            };
            (k, v)
        })
        .collect()
}

pub(crate) fn logged_body(bytes: &[u8]) -> LoggedBody {
    if bytes.is_empty() {
        return LoggedBody::Empty;
    }
    if bytes.len() > BODY_LIMIT {
        return LoggedBody::TooLarge { len: bytes.len() };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            redact_json(&mut v);
            LoggedBody::Json(v)
        }
        Err(_) => LoggedBody::NotJson { len: bytes.len() },
    }
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_everywhere() {
        assert_eq!(
            redact_header("authorization", "Basic YWRtaW46YWRtaW4="),
            "Basic [redacted]"
        );
        assert_eq!(redact_header("authorization", "opaque"), REDACTED);
        assert_eq!(
            redact_header("authorization-token", "YWRtaW46dA=="),
            REDACTED
        );
        assert_eq!(redact_header("cookie", "auth-token=abc"), REDACTED);
        assert_eq!(redact_header("x-api-token", "abc"), REDACTED);
        assert_eq!(redact_header("with-meta", "true"), "true");
        assert_eq!(
            query_pairs("select=name%2Ccode&where%5B0%5D%5Btype%5D=equals&password=p%40ss&x"),
            [
                ("select".to_owned(), "name,code".to_owned()),
                ("where[0][type]".to_owned(), "equals".to_owned()),
                ("password".to_owned(), REDACTED.to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        let body = json!({"userName": "a", "password": "p", "nested": [{"newPassword": "q", "apiToken": 1, "name": "n"}]});
        assert_eq!(
            logged_body(body.to_string().as_bytes()),
            LoggedBody::Json(json!({"userName": "a", "password": REDACTED,
                "nested": [{"newPassword": REDACTED, "apiToken": REDACTED, "name": "n"}]}))
        );
    }

    #[test]
    fn bodies_are_bounded() {
        assert_eq!(logged_body(b""), LoggedBody::Empty);
        assert_eq!(logged_body(b"\x00\x01"), LoggedBody::NotJson { len: 2 });
        let big = format!("[{}]", "1,".repeat(BODY_LIMIT / 2) + "1");
        assert_eq!(
            logged_body(big.as_bytes()),
            LoggedBody::TooLarge { len: big.len() }
        );
    }

    #[test]
    fn the_log_keeps_the_last_requests() {
        let log = RequestLog::new(2);
        for i in 0..3 {
            log.push(LoggedRequest {
                method: "GET".into(),
                path: format!("/{i}"),
                query: Vec::new(),
                headers: Vec::new(),
                body: LoggedBody::Empty,
                status: Some(200),
            });
        }
        let paths: Vec<_> = log.snapshot().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/1", "/2"]);
        assert_eq!(log.take().len(), 2);
        assert!(log.snapshot().is_empty());
        assert!(!RequestLog::new(0).enabled());
    }
}
