//! The only send loop of the runtime.

use std::future::Future;
use std::pin::Pin;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, DATE, HeaderMap, USER_AGENT};
use reqwest::{Method, Response, StatusCode};
use tracing::Instrument;

use super::body::{RequestBody, error_from_response, read_limited};
use super::config::Settings;
use super::retry_after;
use super::secret::{Credentials, Secret};
use crate::error::{Error, ErrorKind, Result};

/// How a request authenticates.
pub(crate) enum AuthMode<'a> {
    /// The client's token (logging in first if needed), renewed once on `401`; sent only to the
    /// instance's own origin.
    Session(&'a dyn Tokens),
    /// Basic credentials: the login request itself.
    Basic(&'a Credentials),
    /// Nothing (public links).
    Anonymous,
}

/// Where a session's token comes from (the session above this layer: `session.rs`), so that the
/// send loop can log in, and again once on `401`, without knowing how.
pub(crate) trait Tokens: Send + Sync {
    /// The token to send, logging in first if there is none yet.
    fn current(&self) -> Pin<Box<dyn Future<Output = Result<Option<Secret>>> + Send + '_>>;
    /// After a `401` with `stale`: log in again, unless another task already did.
    fn renew<'a>(
        &'a self,
        stale: Option<&'a Secret>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
    /// Whether there are credentials to log in again with.
    fn can_renew(&self) -> bool;
    /// Whether `token`, just refused, came from this session's own login moments ago (revoked
    /// by another login as the same user).
    fn revoked_by_another_login(&self, token: &Secret) -> bool;
}

/// After which failures a request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Never: the server may act twice (a create).
    Never,
    /// A login: after a failure without an answer or a `502`–`504` (the credentials were not
    /// checked), never after `401` or `429` (repeating those could lock the account).
    Login,
    /// After a failure without an answer, a body cut short, or a `429`/`502`/`503`/`504`.
    Safe,
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A route under the API base (`/Product/{id}`).
    Api(String),
    /// An absolute URL (a download link); `shown` is the URL without query and credentials.
    Url { url: reqwest::Url, shown: String },
}

/// A request ready to send any number of times.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) target: Target,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<RequestBody>,
    pub(crate) resend: Resend,
    /// Retries allowed on top of the client's `max_retries` (file chunks).
    pub(crate) extra_retries: u32,
    pub(crate) timeout: Option<std::time::Duration>,
    /// A streamed answer whose body the timeout limits per wait, not as a whole (downloads):
    /// the timeout then holds until the headers arrive, and the reader applies it to each
    /// piece (`files/download.rs`).
    pub(crate) idle_body: bool,
}

/// What a successful request gives.
enum Output {
    /// The answer, its body not read yet.
    Stream(Response),
    /// The whole body, read within the client's size limit.
    Bytes(Buffered),
}

/// A whole answer body with the server's clock when it answered (its `Date` header, when it
/// sent a valid one).
pub(crate) struct Buffered {
    pub(crate) body: Bytes,
    pub(crate) date: Option<SystemTime>,
}

/// Statuses worth retrying for a safe request.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Refuses a path with an empty, `.` or `..` segment (also percent-encoded): the URL parser
/// would resolve it, so `read("..")` would request the API root and `read("")` the list route.
pub(crate) fn check_path_segments(path: &str) -> Result<()> {
    if path == "/" {
        return Ok(());
    }
    path.trim_start_matches('/')
        .split('/')
        .try_for_each(check_path_value)
}

/// Refuses an id or other path value that is empty, `.` or `..` (also percent-encoded), naming
/// it; also for ids sent as query parameters (2.3 `/entityRelation`).
pub(crate) fn check_path_value(value: &str) -> Result<()> {
    let plain = value.replace("%2e", ".").replace("%2E", ".");
    if matches!(plain.as_str(), "" | "." | "..") {
        return Err(Error::builder(format!(
            "a path value is {}: ids and other path values cannot be empty, `.` or `..`",
            if value.is_empty() {
                "empty".to_owned()
            } else {
                format!("`{value}`")
            }
        )));
    }
    Ok(())
}

/// The redirect rule of every client the runtime builds: follow a redirect only within the
/// origin (scheme, host and port) of the first request, at most 10 times. A redirect elsewhere,
/// or from `https` to `http`, is not followed (its `3xx` answer becomes an error): the
/// `Authorization-Token` header is not one reqwest strips on its own.
pub(crate) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if attempt.previous().len() > 10 {
            return attempt.error("more than 10 redirects");
        }
        if attempt.url().origin() == first.origin() {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

impl Prepared {
    /// The path or URL named in errors and traces (never a query string).
    pub(crate) fn label(&self) -> &str {
        match &self.target {
            Target::Api(path) => path,
            Target::Url { shown, .. } => shown,
        }
    }

    fn fail(&self, e: Error) -> Error {
        let e = if e.is_forbidden() && e.status() == Some(403) {
            let body = match &self.body {
                Some(RequestBody::Json(b)) => serde_json::from_slice::<serde_json::Value>(b).ok(),
                _ => None,
            };
            let path = match &self.target {
                Target::Api(p) => p.as_str(),
                Target::Url { .. } => "",
            };
            e.with_refused(
                crate::error::addressed_entity(path, &self.query, body.as_ref()),
                crate::error::filter_fields(&self.query, body.as_ref()),
            )
        } else {
            e
        };
        e.with_request(&self.method, self.label())
    }

    fn url(&self, client: &Settings) -> Result<reqwest::Url> {
        client.php_limits.check(&self.query)?;
        let mut url = match &self.target {
            Target::Api(path) => {
                check_path_segments(path)?;
                let mut s = String::with_capacity(client.base_url.len() + path.len() + 1);
                s.push_str(&client.base_url);
                if !path.starts_with('/') {
                    s.push('/');
                }
                s.push_str(path);
                reqwest::Url::parse(&s)
                    .map_err(|e| Error::builder("invalid request path").with_source(e))?
            }
            Target::Url { url, .. } => url.clone(),
        };
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }

    /// The request of one attempt, limited as a whole by the timeout, but for an `idle_body`
    /// answer, which is limited only until its headers arrive (`run`).
    fn build(
        &self,
        client: &Settings,
        url: &reqwest::Url,
        auth: &AuthMode<'_>,
        token: Option<&Secret>,
        buffered: bool,
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
            AuthMode::Session(_) | AuthMode::Anonymous => {
                if let Some(t) = token {
                    req = req.header("Authorization-Token", t.header_value()?);
                }
            }
        }
        if let Some(body) = &self.body {
            if !self.headers.contains_key(CONTENT_TYPE) {
                req = req.header(CONTENT_TYPE, "application/json");
            }
            req = req
                .header(CONTENT_LENGTH, body.len())
                .body(body.for_attempt());
        }
        if let Some(t) = self.timeout.or(client.timeout)
            && (buffered || !self.idle_body)
        {
            req = req.timeout(t);
        }
        req.build().map_err(Error::from_reqwest)
    }

    /// Sends until success or a final failure and returns the answer, its body unread (a
    /// download streams it). See [`execute_bytes`](Self::execute_bytes) for buffered answers.
    pub(crate) async fn execute(&self, client: &Settings, auth: AuthMode<'_>) -> Result<Response> {
        match self.traced(client, auth, false).await? {
            Output::Stream(r) => Ok(r),
            Output::Bytes(_) => unreachable!("streamed requests return the response"),
        }
    }

    /// Sends until success or a final failure and reads the whole answer within the client's
    /// size limit; a safe request whose answer is cut short is sent again.
    pub(crate) async fn execute_bytes(
        &self,
        client: &Settings,
        auth: AuthMode<'_>,
    ) -> Result<Bytes> {
        match self.traced(client, auth, true).await? {
            Output::Bytes(b) => Ok(b.body),
            Output::Stream(_) => unreachable!("buffered requests return the body"),
        }
    }

    /// Like [`execute_bytes`](Self::execute_bytes), with the answer's `Date`.
    pub(crate) async fn execute_buffered(
        &self,
        client: &Settings,
        auth: AuthMode<'_>,
    ) -> Result<Buffered> {
        match self.traced(client, auth, true).await? {
            Output::Bytes(b) => Ok(b),
            Output::Stream(_) => unreachable!("buffered requests return the body"),
        }
    }

    /// One tracing span per request: method, path, status, attempts and duration.
    async fn traced(
        &self,
        client: &Settings,
        auth: AuthMode<'_>,
        buffered: bool,
    ) -> Result<Output> {
        let span = tracing::debug_span!(
            "atrocore_request",
            method = %self.method,
            path = %self.label(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self
            .run(client, auth, &span, buffered)
            .instrument(span.clone())
            .await
            .map_err(|e| self.fail(e));
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        match &result {
            Ok(Output::Stream(r)) => {
                span.record("status", r.status().as_u16());
            }
            Ok(Output::Bytes(_)) => {
                span.record("status", 200);
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
        client: &Settings,
        auth: AuthMode<'_>,
        span: &tracing::Span,
        buffered: bool,
    ) -> Result<Output> {
        let url = self.url(client)?;
        // The token goes only to the instance's own origin.
        let session = match &auth {
            AuthMode::Session(c) if client.same_origin(&url) => Some(*c),
            _ => None,
        };
        let policy = &client.retry;
        let max_retries = policy.max_retries.saturating_add(self.extra_retries);
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let token = match session {
                Some(c) => c.current().await?,
                None => None,
            };
            let request = self.build(client, &url, &auth, token.as_ref(), buffered)?;
            let sent = client.http.execute(request);
            let header_limit = self.timeout.or(client.timeout);
            let answer = match header_limit.filter(|_| self.idle_body && !buffered) {
                // Streamed with an idle limit: the timeout covers the wait for the headers.
                Some(t) => match tokio::time::timeout(t, sent).await {
                    Ok(answer) => answer.map_err(Error::from_reqwest),
                    Err(_) => Err(Error::new(ErrorKind::Timeout)
                        .with_message(format!("no answer within {} s", t.as_secs_f64()))),
                },
                None => sent.await.map_err(Error::from_reqwest),
            };
            let error = match answer {
                Ok(response) if response.status().is_success() => {
                    if !buffered {
                        return Ok(Output::Stream(response));
                    }
                    let date = response
                        .headers()
                        .get(DATE)
                        .and_then(|d| d.to_str().ok())
                        .and_then(|d| httpdate::parse_http_date(d).ok());
                    match read_limited(response, client.max_response_bytes).await {
                        Ok(body) => return Ok(Output::Bytes(Buffered { body, date })),
                        // Cut short: a transport error, retried below for safe requests.
                        Err(e) => e,
                    }
                }
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::UNAUTHORIZED
                        && let (Some(c), Some(t)) = (session, token.as_ref())
                        && c.revoked_by_another_login(t)
                    {
                        return Err(error_from_response(response).await.with_message(
                            "the token of this client's login moments ago was refused: another \
                             login as the same user revoked it (the instance allows one token per \
                             user, AtroCore's \"Only one auth token per user\" setting); not \
                             logging in again, which would revoke the other session in turn: give \
                             each process its own API user, or share one token \
                             (ClientBuilder::token)",
                        ));
                    }
                    if status == StatusCode::UNAUTHORIZED
                        && !renewed
                        && let Some(c) = session
                        && c.can_renew()
                    {
                        renewed = true;
                        drop(response);
                        tracing::debug!(attempt, "401: logging in again, then replaying once");
                        c.renew(token.as_ref()).await?;
                        continue;
                    }
                    let wait = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after::parse(v, SystemTime::now()));
                    let location = status
                        .is_redirection()
                        .then(|| redirect_origin(&response))
                        .flatten();
                    let mut error = error_from_response(response).await;
                    if status.is_redirection() {
                        error = error.with_message(format!(
                            "the server redirected to {}: not followed (credentials are never \
                             sent to another origin or from https to http)",
                            location.as_deref().unwrap_or("another location")
                        ));
                    }
                    let resend_status = match self.resend {
                        Resend::Safe => retryable_status(status),
                        Resend::Login => matches!(status.as_u16(), 502..=504),
                        Resend::Never => false,
                    };
                    if resend_status && retries < max_retries {
                        match wait {
                            Some(w) if w > policy.max_retry_after => {
                                tracing::debug!(
                                    wait_s = w.as_secs(),
                                    "Retry-After beyond the policy's cap: not retrying"
                                );
                            }
                            wait => {
                                let delay = wait.unwrap_or_else(|| policy.backoff(retries));
                                retries += 1;
                                tracing::debug!(
                                    attempt,
                                    status = status.as_u16(),
                                    delay_ms = delay.as_millis() as u64,
                                    "retrying"
                                );
                                tokio::time::sleep(delay).await;
                                continue;
                            }
                        }
                    }
                    return Err(error);
                }
                Err(e) => e,
            };
            let resend = match self.resend {
                Resend::Never => false,
                Resend::Login | Resend::Safe => error.is_transport() || error.is_timeout(),
            };
            if resend && retries < max_retries {
                let delay = policy.backoff(retries);
                retries += 1;
                tracing::debug!(attempt, error = %error, delay_ms = delay.as_millis() as u64, "retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(error);
        }
    }
}

/// The origin a redirect points to (`https://host:port`), without path or query.
fn redirect_origin(response: &Response) -> Option<String> {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let url = response.url().join(location).ok()?;
    Some(url.origin().ascii_serialization())
}
