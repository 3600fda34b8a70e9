//! [`RequestBuilder`]: one request to any route, and the send loop shared by every request
//! (token, retries with backoff, re-login on `401`, error mapping, tracing).

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Method, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::client::{Client, ClientRef, Credentials, Secret};
use crate::encode::php_query_pairs;
use crate::error::{Error, Result, cap_reason};
use crate::filter::Where;
use crate::outcome::WriteOutcome;

/// Most bytes of an error answer read to find its reason.
const MAX_ERROR_BODY: usize = 4096;

/// A request to any route of the API, built by [`Client::request`] and sent by one of the
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
    client: Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: Option<bool>,
    timeout: Option<Duration>,
    error: Option<Error>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, path: String) -> Self {
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

    /// Adds a `where` filter as parameter `name`, in PHP bracket notation; an empty `where`
    /// sends nothing.
    ///
    /// AtroCore ignores `not`, so negations are pushed down to the leaves first (see
    /// [`Condition::not`](crate::Condition::not)); a negation the server cannot express, or an
    /// operator it does not know, makes the request fail with
    /// [`ErrorKind::Query`](crate::ErrorKind::Query) before anything is sent.
    #[must_use]
    pub fn filter(self, name: &str, w: &Where) -> Self {
        match crate::filter::server_form(w, self.client.inner.time_zone.as_deref()) {
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
                self.body = Some(Bytes::from(bytes));
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
        self.body = Some(body.into());
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

    pub(crate) fn into_prepared(self) -> Result<(Client, Prepared)> {
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
                path: self.path,
                query: self.query,
                headers: self.headers,
                body: self.body,
                idempotent,
                timeout: self.timeout,
            },
        ))
    }

    /// Sends the request and returns the answer of a `2xx` status; any other status is an
    /// [`Error`]. The body is not read.
    pub async fn send(self) -> Result<Response> {
        let (client, prepared) = self.into_prepared()?;
        prepared
            .execute(&client.inner, AuthMode::Session(&client))
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

    /// Sends the request and returns the body of a `2xx` answer.
    pub async fn send_bytes(self) -> Result<Bytes> {
        let (method, path) = (self.method.clone(), self.path.clone());
        let response = self.send().await?;
        response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(e).with_request(&method, &path))
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
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("idempotent", &self.idempotent)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// How a request authenticates.
pub(crate) enum AuthMode<'a> {
    /// The client's token (logging in first if needed), renewed once on `401`.
    Session(&'a Client),
    /// Basic credentials: the login request itself.
    Basic(&'a Credentials),
}

/// A request ready to send any number of times.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) idempotent: bool,
    pub(crate) timeout: Option<Duration>,
}

/// Refuses a path with an empty, `.` or `..` segment (also percent-encoded): the URL parser
/// would resolve it, so `read("..")` would request the API root and `read("")` the list route.
fn check_path_segments(path: &str) -> Result<()> {
    if path == "/" {
        return Ok(());
    }
    for segment in path.trim_start_matches('/').split('/') {
        let plain = segment.replace("%2e", ".").replace("%2E", ".");
        if matches!(plain.as_str(), "" | "." | "..") {
            return Err(Error::builder(format!(
                "a path value is {}: ids and other path values cannot be empty, `.` or `..`",
                if segment.is_empty() {
                    "empty".to_owned()
                } else {
                    format!("`{segment}`")
                }
            )));
        }
    }
    Ok(())
}

/// Statuses worth retrying for a safe request.
fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form is ignored: the backoff applies then).
fn retry_after(response: &Response) -> Option<Duration> {
    let v = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl Prepared {
    fn url(&self, client: &ClientRef) -> Result<reqwest::Url> {
        check_path_segments(&self.path).map_err(|e| e.with_request(&self.method, &self.path))?;
        client
            .php_limits
            .check(&self.query)
            .map_err(|e| e.with_request(&self.method, &self.path))?;
        let mut s = String::with_capacity(client.base_url.len() + self.path.len() + 1);
        s.push_str(&client.base_url);
        if !self.path.starts_with('/') {
            s.push('/');
        }
        s.push_str(&self.path);
        let mut url = reqwest::Url::parse(&s).map_err(|e| {
            Error::builder("invalid request path")
                .with_source(e)
                .with_request(&self.method, &self.path)
        })?;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }

    fn build(
        &self,
        client: &ClientRef,
        url: &reqwest::Url,
        auth: &AuthMode<'_>,
        token: Option<&Secret>,
    ) -> Result<reqwest::Request> {
        let mut req = client
            .http
            .request(self.method.clone(), url.clone())
            .header(ACCEPT, "application/json")
            .headers(self.headers.clone());
        if let Some(ua) = &client.user_agent {
            req = req.header(USER_AGENT, ua.clone());
        }
        match auth {
            AuthMode::Basic(c) => {
                req = req.basic_auth(&c.user, Some(c.password.expose()));
            }
            AuthMode::Session(_) => {
                if let Some(t) = token {
                    req = req.header("Authorization-Token", t.header_value()?);
                }
            }
        }
        if let Some(body) = &self.body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(t) = self.timeout.or(client.timeout) {
            req = req.timeout(t);
        }
        req.build()
            .map_err(|e| Error::from_reqwest(e).with_request(&self.method, &self.path))
    }

    /// Sends until success or a final failure: retries safe requests, renews the token once on
    /// `401`. Runs inside one tracing span with method, path, status, attempt and duration.
    pub(crate) async fn execute(&self, client: &ClientRef, auth: AuthMode<'_>) -> Result<Response> {
        let span = tracing::debug_span!(
            "atrocore_request",
            method = %self.method,
            path = %self.path,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self.run(client, auth, &span).instrument(span.clone()).await;
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        match &result {
            Ok(r) => {
                span.record("status", r.status().as_u16());
            }
            Err(e) => {
                if let Some(s) = e.status() {
                    span.record("status", s);
                }
                span.in_scope(|| tracing::debug!(error = %e, "request failed"));
            }
        }
        result
    }

    async fn run(
        &self,
        client: &ClientRef,
        auth: AuthMode<'_>,
        span: &tracing::Span,
    ) -> Result<Response> {
        let url = self.url(client)?;
        let policy = &client.retry;
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let token = match &auth {
                AuthMode::Session(c) => c.current_token().await?,
                AuthMode::Basic(_) => None,
            };
            let request = self.build(client, &url, &auth, token.as_ref())?;
            match client.http.execute(request).await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        return Ok(response);
                    }
                    if status == StatusCode::UNAUTHORIZED && !renewed {
                        if let AuthMode::Session(c) = &auth {
                            if c.can_renew() {
                                renewed = true;
                                drop(response);
                                tracing::debug!(
                                    attempt,
                                    "401: logging in again, then replaying once"
                                );
                                c.renew_token(token.as_ref()).await?;
                                continue;
                            }
                        }
                    }
                    if self.idempotent && retries < policy.max_retries && retryable_status(status) {
                        let wait = retry_after(&response);
                        if wait.is_none_or(|w| w <= policy.max_retry_after) {
                            let delay = wait.unwrap_or_else(|| policy.backoff(retries));
                            retries += 1;
                            tracing::debug!(
                                attempt,
                                status = status.as_u16(),
                                delay_ms = delay.as_millis() as u64,
                                "retrying"
                            );
                            drop(response);
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    return Err(error_from_response(response)
                        .await
                        .with_request(&self.method, &self.path));
                }
                Err(e) => {
                    let err = Error::from_reqwest(e).with_request(&self.method, &self.path);
                    if self.idempotent
                        && retries < policy.max_retries
                        && (err.is_transport() || err.is_timeout())
                    {
                        let delay = policy.backoff(retries);
                        retries += 1;
                        tracing::debug!(attempt, error = %err, delay_ms = delay.as_millis() as u64, "retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }
}

/// The error for a non-success answer: the reason from `X-Status-Reason`, else from the body.
async fn error_from_response(mut response: Response) -> Error {
    let status = response.status().as_u16();
    let headers = response.headers();
    let header_reason = headers
        .get("X-Status-Reason")
        .and_then(|v| cap_reason(&String::from_utf8_lossy(v.as_bytes())));
    let password_expired = headers
        .get("Password-Expired")
        .is_some_and(|v| matches!(v.as_bytes(), b"true" | b"1"));
    let reason = match header_reason {
        Some(r) => Some(r),
        None => {
            let mut body = Vec::new();
            while body.len() < MAX_ERROR_BODY {
                match response.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            body.truncate(MAX_ERROR_BODY);
            cap_reason(&String::from_utf8_lossy(&body))
        }
    };
    Error::from_status(status, reason).with_password_expired(password_expired)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400, 401, 404, 409, 500, 501] {
            assert!(!retryable_status(StatusCode::from_u16(s).unwrap()));
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
            assert!(super::check_path_segments(ok).is_ok(), "{ok}");
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
            let e = super::check_path_segments(bad).unwrap_err();
            assert!(e.is_builder(), "{bad}");
        }
    }
}
