//! [`RequestBuilder`]: one request to any route, sent through the request core
//! ([`crate::http`]).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::attribute_index;
use crate::code_refs;
use crate::encode::php_query_pairs;
use crate::error::{Error, Result};
use crate::filter::Where;
use crate::http::body::RequestBody;
use crate::http::execute::{AuthMode, Prepared, Resend, Target};
use crate::http::session::ClientRef;
use crate::outcome::WriteOutcome;

/// A request to any route of the API, built by [`Client::request`](crate::Client::request) and sent by one of the
/// `send_*` methods.
///
/// Every setter consumes and returns the builder. Setters that can fail (an invalid header
/// name, a body that does not serialize) keep the first error and report it when the request is
/// sent, so chains need no `?` in the middle.
///
/// ```no_run
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::{Condition, Method, Where, encode_path_segment};
///
/// let id = "a01k5c597f";
/// let linked: serde_json::Value = client
///     .request(Method::GET, format!("/Product/{}/categories", encode_path_segment(id)))
///     .query("maxSize", 50)
///     .filter("where", &Where::from(Condition::new("isNotNull").attribute("code")))
///     .header("language", "de_DE")
///     .send_json()
///     .await?;
/// # let _ = linked;
/// # Ok(())
/// # }
/// ```
pub struct RequestBuilder {
    client: Arc<ClientRef>,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<RequestBody>,
    idempotent: Option<bool>,
    timeout: Option<Duration>,
    error: Option<Error>,
    /// Filters naming attributes by code: encoded once the codes are resolved to ids, when
    /// the request is sent.
    by_code: Vec<(String, Where)>,
    /// A JSON body whose `where` names attributes by code, completed likewise.
    body_by_code: Option<(serde_json::Map<String, serde_json::Value>, Where)>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Arc<ClientRef>, method: Method, path: String) -> Self {
        Self {
            client,
            method,
            path,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            idempotent: None,
            timeout: None,
            error: None,
            by_code: Vec::new(),
            body_by_code: None,
        }
    }

    pub(crate) fn fail(mut self, e: Error) -> Self {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self
    }

    /// Adds the query parameter `name=value`.
    #[must_use]
    pub fn query(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds `name=value` when `value` is `Some`; `None` sends nothing.
    #[must_use]
    pub fn query_opt<V: fmt::Display>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Adds a structured value in PHP bracket notation: `name[0][k]=v`. Strings and numbers are
    /// sent as they are, booleans as `1`/`0`; `null` and empty arrays or objects send nothing.
    #[must_use]
    pub fn query_json(mut self, name: &str, value: &serde_json::Value) -> Self {
        php_query_pairs(name, value, &mut self.query);
        self
    }

    /// Adds any serializable value in PHP bracket notation, as [`query_json`](Self::query_json)
    /// does; a value that cannot be serialized makes the request fail before it is sent.
    #[must_use]
    pub fn query_serialized<V: Serialize + ?Sized>(self, name: &str, value: &V) -> Self {
        match serde_json::to_value(value) {
            Ok(v) => self.query_json(name, &v),
            Err(e) => self.fail(
                Error::builder(format!("query parameter `{name}` cannot be serialized"))
                    .with_source(e),
            ),
        }
    }

    /// Sets the header `name` to `value` written as JSON (structured header parameters).
    #[must_use]
    pub fn header_json<V: Serialize + ?Sized>(self, name: &str, value: &V) -> Self {
        match serde_json::to_string(value) {
            Ok(v) => self.header(name, v),
            Err(e) => self.fail(
                Error::builder(format!("header `{name}` cannot be serialized")).with_source(e),
            ),
        }
    }

    /// Adds a `where` filter as parameter `name`, in PHP bracket notation; an empty `where`
    /// sends nothing.
    ///
    /// AtroCore ignores `not`, so negations are pushed down to the leaves first (see
    /// [`Condition::not`](crate::Condition::not)); a negation the server cannot express, or an
    /// operator it does not know, makes the request fail with
    /// [`ErrorKind::Query`](crate::ErrorKind::Query) before anything is sent.
    #[must_use]
    pub fn filter(mut self, name: &str, w: &Where) -> Self {
        if resolved_when_sent(w) {
            self.by_code.push((name.to_owned(), w.clone()));
            return self;
        }
        match crate::filter::server_form(w, self.client.time_zone.as_deref()) {
            Ok(w) => self.query_json(name, &w.to_json()),
            Err(e) => self.fail(e),
        }
    }

    /// Sets the header `name` (replacing an earlier value).
    #[must_use]
    pub fn header(mut self, name: &str, value: impl fmt::Display) -> Self {
        let name = match HeaderName::from_bytes(name.as_bytes()) {
            Ok(n) => n,
            Err(e) => {
                return self
                    .fail(Error::builder(format!("invalid header name `{name}`")).with_source(e));
            }
        };
        match HeaderValue::from_str(&value.to_string()) {
            Ok(v) => {
                self.headers.insert(name, v);
                self
            }
            // The value is not quoted: it could be a secret.
            Err(_) => self.fail(Error::builder(format!("invalid value for header `{name}`"))),
        }
    }

    /// Sets the header `name` when `value` is `Some`.
    #[must_use]
    pub fn header_opt<V: fmt::Display>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    /// Sends `body` as JSON. It is serialized now and kept, so that a retry can send it again.
    #[must_use]
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Some(RequestBody::Json(Bytes::from(bytes)));
                self
            }
            Err(e) => self.fail(
                Error::builder("the request body cannot be serialized as JSON").with_source(e),
            ),
        }
    }

    /// Sends this already serialized JSON body.
    #[must_use]
    pub fn json_bytes(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(RequestBody::Json(body.into()));
        self
    }

    /// Sends a JSON body that is streamed as it is sent: `make` builds a fresh stream of exactly
    /// `len` bytes for every attempt (a file chunk Base64-encoded piece by piece).
    #[must_use]
    pub(crate) fn json_stream(
        mut self,
        len: u64,
        make: impl Fn() -> reqwest::Body + Send + Sync + 'static,
    ) -> Self {
        self.body = Some(RequestBody::Stream {
            make: std::sync::Arc::new(make),
            len,
        });
        self
    }

    /// Marks the request as safe to send twice (`true`) or not (`false`), overriding the default
    /// by method (`GET`, `HEAD` and `OPTIONS` are safe). Only safe requests are retried; for
    /// example a bulk upsert is idempotent although it is a `POST`.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// The time limit of each attempt of this request, instead of the client's.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    pub(crate) fn timeout_opt(mut self, d: Option<Duration>) -> Self {
        if d.is_some() {
            self.timeout = d;
        }
        self
    }

    /// Retries on top of the client's `max_retries` (file chunks).
    pub(crate) fn into_prepared(self, extra_retries: u32) -> Result<(Arc<ClientRef>, Prepared)> {
        if let Some(e) = self.error {
            return Err(e.with_request(&self.method, &self.path));
        }
        let idempotent = self.idempotent.unwrap_or(matches!(
            self.method,
            Method::GET | Method::HEAD | Method::OPTIONS
        ));
        Ok((
            self.client,
            Prepared {
                method: self.method,
                target: Target::Api(self.path),
                query: self.query,
                headers: self.headers,
                body: self.body,
                resend: if idempotent {
                    Resend::Safe
                } else {
                    Resend::Never
                },
                extra_retries,
                timeout: self.timeout,
                idle_body: false,
            },
        ))
    }

    /// Sends the request and returns the answer of a `2xx` status; any other status is an
    /// [`Error`]. The body is not read (nor limited in size).
    pub async fn send(self) -> Result<Response> {
        self.with_codes(|b| async move {
            let (client, prepared) = b.into_prepared(0)?;
            prepared.execute(&client, AuthMode::Session(&*client)).await
        })
        .await
    }

    /// Sends the request and decodes the JSON body of a `2xx` answer as `T`.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        let (method, path) = (self.method.clone(), self.path.clone());
        let bytes = self.send_bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(e).with_request(&method, &path))
    }

    /// Sends the request and decodes the JSON body of a `2xx` answer as `T`; a `304 Not
    /// Modified` answer (no body) is `None`, not an error.
    pub async fn send_json_unless_not_modified<T: DeserializeOwned>(self) -> Result<Option<T>> {
        match self.send_json().await {
            Ok(answer) => Ok(Some(answer)),
            Err(e) if e.status() == Some(304) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a write whose answer says only that it was done: [`WriteOutcome::Changed`] for a
    /// `2xx` answer (its body is not read), [`WriteOutcome::NotModified`] for `304 Not
    /// Modified`, which AtroCore sends when the write changed nothing (attribute writes).
    pub async fn send_outcome(self) -> Result<WriteOutcome> {
        match self.send_bytes().await {
            Ok(_) => Ok(WriteOutcome::Changed),
            Err(e) if e.status() == Some(304) => Ok(WriteOutcome::NotModified),
            Err(e) => Err(e),
        }
    }

    /// Sends the request and ignores the body of a `2xx` answer.
    pub async fn send_empty(self) -> Result<()> {
        self.send_bytes().await.map(drop)
    }

    /// Sends the request and returns the body of a `2xx` answer, read whole within the client's
    /// [size limit](crate::ClientBuilder::max_response_bytes); a safe request whose answer is
    /// cut short is sent again.
    pub async fn send_bytes(self) -> Result<Bytes> {
        self.send_bytes_with_retries(0).await
    }

    /// Like [`send_bytes`](Self::send_bytes), with the server's clock from the answer's `Date`
    /// header (the change feed's horizon).
    pub(crate) async fn send_buffered(self) -> Result<crate::http::execute::Buffered> {
        self.with_codes(|b| async move {
            let (client, prepared) = b.into_prepared(0)?;
            prepared
                .execute_buffered(&client, AuthMode::Session(&*client))
                .await
        })
        .await
    }

    pub(crate) async fn send_bytes_with_retries(self, extra_retries: u32) -> Result<Bytes> {
        self.with_codes(move |b| async move {
            let (client, prepared) = b.into_prepared(extra_retries)?;
            prepared
                .execute_bytes(&client, AuthMode::Session(&*client))
                .await
        })
        .await
    }

    /// Sends with `send`, after resolving the attribute codes of its filters (if any) to ids;
    /// when the server then says an attribute does not exist (the index is stale: an
    /// attribute deleted and made anew), the index is read again and the request sent once
    /// more.
    async fn with_codes<T, F, Fut>(self, send: F) -> Result<T>
    where
        F: Fn(RequestBuilder) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let body_refs =
            matches!(&self.body, Some(RequestBody::Json(b)) if code_refs::may_hold_references(b));
        if (self.by_code.is_empty() && self.body_by_code.is_none() && !body_refs)
            || self.error.is_some()
        {
            return send(self).await;
        }
        let again = self.clone_unsent();
        match send(self.resolve_codes(false).await?).await {
            Err(e) if attribute_index::names_unknown_attribute(&e) => {
                send(again.resolve_codes(true).await?).await
            }
            answer => answer,
        }
    }

    /// The filters by attribute code encoded with ids from the client's index (read again
    /// when `refresh`, or when a code is missing from it).
    async fn resolve_codes(mut self, refresh: bool) -> Result<Self> {
        let mut pending = std::mem::take(&mut self.by_code);
        let body = self.body_by_code.take();
        if let Some((_, w)) = &body {
            pending.push((String::new(), w.clone()));
        }
        let mut index = Arc::new(Default::default());
        if pending.iter().any(|(_, w)| !w.attribute_codes().is_empty()) {
            index = attribute_index::index(&self.client, refresh).await?;
        }
        let mut refreshed = refresh;
        for (name, w) in pending {
            let resolved = if w.attribute_codes().is_empty() {
                w
            } else {
                loop {
                    match w.resolve_codes(&|entity, code| {
                        index.get(&(entity.to_owned(), code.to_owned())).cloned()
                    }) {
                        Ok(w) => break w,
                        Err(_) if !refreshed => {
                            index = attribute_index::index(&self.client, true).await?;
                            refreshed = true;
                        }
                        Err((entity, code)) => {
                            let e = Error::builder(format!(
                            "the instance has no attribute `{code}` of {entity} (looked up by {} \
                             among its attributes): was it renamed, or is the crate generated \
                             from another instance's attributes?",
                            match self.client.generation {
                                crate::ApiGeneration::V2_2 => "code",
                                _ => "system name",
                            }
                        ))
                        .with_request(&self.method, &self.path);
                            return Err(e);
                        }
                    }
                }
            };
            let refs = code_refs::in_where(&resolved);
            let resolved = if refs.is_empty() {
                resolved
            } else {
                let ids = code_refs::resolve(&self.client, &refs)
                    .await
                    .map_err(|e| e.with_request(&self.method, &self.path))?;
                code_refs::replace_in_where(&resolved, &ids)
            };
            self = match (&body, name.is_empty()) {
                (Some((fields, _)), true) => self.json_with_where(fields.clone(), &resolved),
                _ => self.filter(&name, &resolved),
            };
        }
        if let Some(RequestBody::Json(bytes)) = &self.body
            && code_refs::may_hold_references(bytes)
            && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(bytes)
        {
            let refs = code_refs::in_json(&json);
            if !refs.is_empty() {
                let ids = code_refs::resolve(&self.client, &refs)
                    .await
                    .map_err(|e| e.with_request(&self.method, &self.path))?;
                code_refs::replace_in_json(&mut json, &ids);
                self = self.json(&json);
            }
        }
        Ok(self)
    }

    /// Sets a JSON body of `fields` plus `where` (the filter in its server form, attribute
    /// codes resolved when the request is sent): the body of mass actions and `massRelate`.
    pub(crate) fn json_with_where(
        mut self,
        mut fields: serde_json::Map<String, serde_json::Value>,
        w: &Where,
    ) -> Self {
        if resolved_when_sent(w) {
            self.body_by_code = Some((fields, w.clone()));
            return self;
        }
        match crate::filter::server_form(w, self.client.time_zone.as_deref()) {
            Ok(w) => {
                fields.insert("where".into(), w.to_json());
                self.json(&fields)
            }
            Err(e) => self.fail(e),
        }
    }

    /// A copy of a builder that has no error yet, to send again.
    fn clone_unsent(&self) -> Self {
        Self {
            client: self.client.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            idempotent: self.idempotent,
            timeout: self.timeout,
            error: None,
            by_code: self.by_code.clone(),
            body_by_code: self.body_by_code.clone(),
        }
    }
}

impl fmt::Debug for RequestBuilder {
    /// Shows the method, path, parameter and header names, never their values (they may hold
    /// secrets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "headers",
                &self
                    .headers
                    .keys()
                    .map(HeaderName::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.as_ref().map(RequestBody::len))
            .field("idempotent", &self.idempotent)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Whether a filter names attributes by code or holds references by code
/// (`code_refs.rs`): it is encoded when the request is sent, once they are resolved.
fn resolved_when_sent(w: &Where) -> bool {
    !w.attribute_codes().is_empty() || !code_refs::in_where(w).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn builders_and_futures_are_send() {
        let client = Client::builder("http://localhost").build().unwrap();
        let request = client.request(Method::GET, "/x");
        assert_send(&request);
        assert_send(
            &client
                .request(Method::GET, "/x")
                .send_json::<serde_json::Value>(),
        );
        assert_send(&client.request(Method::GET, "/x").send_bytes());
        assert_send(&client.request(Method::GET, "/x").send_empty());
        assert_send(&client.request(Method::GET, "/x").send());
        assert_send(&client.login());
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 502, 503, 504] {
            assert!(crate::http::execute::retryable_status(
                reqwest::StatusCode::from_u16(s).unwrap()
            ));
        }
        for s in [400, 401, 404, 409, 500, 501] {
            assert!(!crate::http::execute::retryable_status(
                reqwest::StatusCode::from_u16(s).unwrap()
            ));
        }
    }

    #[test]
    fn debug_shows_names_not_values() {
        let client = Client::builder("http://localhost").build().unwrap();
        let r = client
            .request(Method::GET, "/x")
            .query("q", "hidden-value")
            .header("X-Key", "hidden-header")
            .json(&serde_json::json!({"a": 1}));
        let text = format!("{r:?}");
        assert!(text.contains("\"q\"") && text.contains("x-key"), "{text}");
        assert!(
            !text.contains("hidden-value") && !text.contains("hidden-header"),
            "{text}"
        );
    }

    #[test]
    fn dot_and_empty_segments_are_refused() {
        for ok in [
            "/Product",
            "/Product/a01x",
            "/Product/a.b",
            "/Product/...",
            "/",
        ] {
            assert!(
                crate::http::execute::check_path_segments(ok).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "/Product/",
            "/Product/.",
            "/Product/..",
            "/Product/%2e%2E",
            "/Product/.%2e/x",
            "/Product//x",
            "",
        ] {
            let e = crate::http::execute::check_path_segments(bad).unwrap_err();
            assert!(e.is_builder(), "{bad}");
        }
    }
}
