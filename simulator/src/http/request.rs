//! A parsed request: method, path segments, query as PHP sees it, headers and body.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use serde_json::Value;

use crate::query::phpqs::PhpValue;
use crate::util::ApiError;

/// A parsed request.
#[derive(Debug)]
pub struct Req {
    /// HTTP method.
    pub method: Method,
    /// Path segments after the API base, percent-decoded.
    pub segs: Vec<String>,
    /// Query parameters as PHP would see them.
    pub query: Vec<(String, PhpValue)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Bytes,
}

impl Req {
    /// A scalar query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_str())
    }

    /// A query parameter as a PHP value.
    pub fn param_value(&self, name: &str) -> Option<&PhpValue> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON; malformed JSON is a 400, an empty body is `null`.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad(format!("Invalid JSON in request body: {e}.")))
    }
}
