//! [`Client`] and [`ClientBuilder`]: connection settings, the retry policy, and the shared
//! token cache (one login for all clones and tasks, renewed once on `401`).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::entity::{
    CreateRequest, DeleteRequest, Entity, ListRequest, ReadRequest, UpdateRequest,
};
use crate::error::{Error, ErrorKind, Result};
use crate::http::execute::{AuthMode, Prepared, Resend, Target, redirect_policy};
use crate::php_limits::PhpLimits;
use crate::request::RequestBuilder;

/// Which AtroCore API generation a spec (and so a generated client) comes from.
///
/// The generations differ in the API base path (`/api/v1` and `/api`) and the route that turns
/// credentials into a token (`GET /App/user` and `GET /userSession`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiGeneration {
    /// AtroCore 2.2.x: base path `/api/v1`, token from `GET /App/user`.
    V2_2,
    /// AtroCore 2.3.x: base path `/api`, token from `GET /userSession`.
    V2_3,
}

impl ApiGeneration {
    /// The API base path of this generation's specs.
    pub fn default_base_path(self) -> &'static str {
        match self {
            Self::V2_2 => "/api/v1",
            Self::V2_3 => "/api",
        }
    }

    /// The route, relative to the base path, that exchanges credentials for a token.
    pub fn token_path(self) -> &'static str {
        match self {
            Self::V2_2 => "/App/user",
            Self::V2_3 => "/userSession",
        }
    }
}

/// When and how often failed requests are retried, with exponential backoff and full jitter.
///
/// Only *safe* requests are retried: `GET`, `HEAD`, `OPTIONS`, and requests marked with
/// [`RequestBuilder::idempotent`]. They are retried after a connection failure, a timeout, a
/// transport error, `429 Too Many Requests` (waiting as long as its `Retry-After` says), and
/// `502`, `503`, `504`. The wait before retry `n` (from 0) is a random duration between zero and
/// `min(max_backoff, base_backoff * 2^n)`.
///
/// ```
/// use std::time::Duration;
/// use atrocore_runtime::RetryPolicy;
///
/// let patient = RetryPolicy { max_retries: 6, max_backoff: Duration::from_secs(30), ..RetryPolicy::default() };
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; `0` disables retries. Default 3.
    pub max_retries: u32,
    /// The backoff ceiling of the first retry; doubles with each retry. Default 200 ms.
    pub base_backoff: Duration,
    /// The largest backoff ceiling. Default 10 s.
    pub max_backoff: Duration,
    /// The longest `Retry-After` to honour; a `429` asking for longer is returned as an error
    /// at once. Default 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// A random wait before retry number `retry` (0-based): full jitter below the exponential
    /// ceiling.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        let ceiling = self
            .base_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(crate::rng::range_inclusive(0, nanos))
    }
}

/// A password or token: never printed.
#[derive(Clone)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Self {
        Self(Arc::from(s.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The value as a header value flagged sensitive (kept out of HTTP/2 header tables).
    pub(crate) fn header_value(&self) -> Result<HeaderValue> {
        let mut v = HeaderValue::from_str(&self.0)
            .map_err(|_| Error::builder("the token is not a valid header value"))?;
        v.set_sensitive(true);
        Ok(v)
    }

    pub(crate) fn same(&self, other: &Secret) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// User name and password, exchanged for a token.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &self.password)
            .finish()
    }
}

/// The token cache, shared by every clone of a [`Client`].
struct Auth {
    credentials: Option<Credentials>,
    token: Mutex<Option<Secret>>,
    /// The last failed login and when it failed. Callers that were waiting for that attempt get
    /// its error instead of an attempt of their own; when the credentials were refused (`401`,
    /// `403`), so does every caller within `failure_ttl` (many tasks with a wrong password must
    /// not make many attempts, which can lock the account).
    failure: std::sync::Mutex<Option<(Instant, Error)>>,
    failure_ttl: Duration,
    /// The token of this client's last login, and when it was obtained.
    logged_in: std::sync::Mutex<Option<(Secret, Instant)>>,
    /// See [`ClientBuilder::revoked_within`].
    revoked_within: Duration,
}

/// The default of [`ClientBuilder::revoked_within`].
pub const DEFAULT_REVOKED_WITHIN: Duration = Duration::from_secs(30);

impl Auth {
    /// The token to send, logging in first if there is none yet. Concurrent callers wait for the
    /// one login in progress (the lock is held across it), so there is exactly one.
    async fn current(&self, client: &ClientRef) -> Result<Option<Secret>> {
        let waiting_since = Instant::now();
        let mut guard = self.token.lock().await;
        if let Some(t) = &*guard {
            return Ok(Some(t.clone()));
        }
        let Some(credentials) = &self.credentials else {
            return Ok(None);
        };
        let token = self
            .login_shared(client, credentials, waiting_since)
            .await?;
        self.note_login(&token);
        *guard = Some(token.clone());
        Ok(Some(token))
    }

    fn note_login(&self, token: &Secret) {
        *self.logged_in.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((token.clone(), Instant::now()));
    }

    /// Whether `token`, just refused with `401`, came from this client's own login less than
    /// `revoked_within` ago: then it was not expired but revoked, by another login as the same
    /// user, on an instance with "Only one auth token per user" (`authTokenPreventConcurrent`:
    /// a new login deactivates the user's other tokens; atrocore-legacy's `Auth::login`, last
    /// in-tree copy `app/Espo/Core/Utils/Auth.php` before commit `b33a0dffc`). Logging in again
    /// would revoke the other session in turn, and so on.
    fn revoked_by_another_login(&self, token: &Secret) -> bool {
        self.logged_in
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|(t, at)| t.same(token) && at.elapsed() < self.revoked_within)
    }

    /// Logs in, unless a login failed less than `failure_ttl` ago: then that failure again.
    /// Called with the token lock held, so concurrent callers share one attempt.
    async fn login_shared(
        &self,
        client: &ClientRef,
        credentials: &Credentials,
        waiting_since: Instant,
    ) -> Result<Secret> {
        if let Some((at, e)) = &*self.failure.lock().unwrap_or_else(|p| p.into_inner()) {
            let refused = e.is_auth() || e.is_forbidden();
            let waited_for_it = *at >= waiting_since;
            if waited_for_it || (refused && at.elapsed() < self.failure_ttl) {
                return Err(e.duplicate());
            }
        }
        match client.login(credentials).await {
            Ok(token) => {
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(token)
            }
            Err(e) => {
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), e.duplicate()));
                Err(e)
            }
        }
    }

    /// After a `401` with `stale`: log in again, unless another task already did.
    async fn renew(&self, client: &ClientRef, stale: Option<&Secret>) -> Result<()> {
        let Some(credentials) = &self.credentials else {
            return Ok(());
        };
        let waiting_since = Instant::now();
        let mut guard = self.token.lock().await;
        match (&*guard, stale) {
            (Some(current), Some(stale)) if !current.same(stale) => return Ok(()),
            (Some(_), None) => return Ok(()),
            _ => {}
        }
        *guard = None;
        let token = self
            .login_shared(client, credentials, waiting_since)
            .await?;
        self.note_login(&token);
        *guard = Some(token);
        Ok(())
    }

    fn can_renew(&self) -> bool {
        self.credentials.is_some()
    }
}

/// The largest answer read whole when not set: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// What every clone of a [`Client`] shares.
pub(crate) struct ClientRef {
    pub(crate) http: reqwest::Client,
    /// Instance root plus API base path, without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_base_path: String,
    pub(crate) generation: ApiGeneration,
    auth: Auth,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Option<Duration>,
    /// Sent per request when the user brought their own reqwest client and set a user agent.
    pub(crate) user_agent: Option<HeaderValue>,
    /// The server's PHP input limits, checked before every request.
    pub(crate) php_limits: PhpLimits,
    /// The default `timeZone` of date-time filter conditions.
    pub(crate) time_zone: Option<String>,
    /// Most bytes of an answer read whole (JSON).
    pub(crate) max_response_bytes: usize,
    /// The origin of the instance: the only one a token is sent to.
    origin: reqwest::Url,
}

impl ClientRef {
    /// Whether `url` is on the instance's origin (scheme, host and port).
    pub(crate) fn same_origin(&self, url: &reqwest::Url) -> bool {
        url.origin() == self.origin.origin()
    }

    /// Exchanges credentials for a token at the generation's token route. (Boxed: sending a
    /// request may log in, so the future types would otherwise contain themselves.)
    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> Pin<Box<dyn Future<Output = Result<Secret>> + Send + 'a>> {
        Box::pin(self.login_inner(credentials))
    }

    async fn login_inner(&self, credentials: &Credentials) -> Result<Secret> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "authorizationToken")]
            authorization_token: String,
        }
        let path = self.generation.token_path();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("Authorization-Token-Only", HeaderValue::from_static("true"));
        let prepared = Prepared {
            method: Method::GET,
            target: Target::Api(path.to_owned()),
            query: Vec::new(),
            headers,
            body: None,
            // Never sent again after a 401 or a 429.
            resend: Resend::Login,
            extra_retries: 0,
            timeout: None,
        };
        tracing::debug!(user = %credentials.user, path, "logging in to AtroCore");
        let bytes = prepared
            .execute_bytes(self, AuthMode::Basic(credentials))
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Auth => {
                    e.with_message(format!("could not log in as `{}`", credentials.user))
                }
                // A refused login is an authentication failure, whatever its status. AtroCore
                // answers 403 "Max failed login attempts exceeded." to every login from an
                // address with more than `authMaxFailedAttemptNumber` (10) refused logins within
                // `authFailedAttemptsPeriod` (60 s), before it checks the password
                // (atrocore-legacy `Auth::checkFailedAttemptsLimit`; last in-tree copy
                // `app/Espo/Core/Utils/Auth.php` before commit `b33a0dffc`). Never retried.
                ErrorKind::Forbidden => {
                    let limit = e
                        .reason()
                        .is_some_and(|r| r.contains("Max failed login attempts"));
                    let message = if limit {
                        format!(
                            "could not log in as `{}`: the server refuses logins from this address \
                             after too many failed ones (AtroCore: more than 10 within 60 s); \
                             fix the credentials and wait a minute",
                            credentials.user
                        )
                    } else {
                        format!(
                            "could not log in as `{}`: the login was refused",
                            credentials.user
                        )
                    };
                    e.with_kind(ErrorKind::Auth).with_message(message)
                }
                _ => e,
            })?;
        // No serde error as source: its message could quote the answer, which holds the token.
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            Error::new(ErrorKind::Decode)
                .with_message("the token route answered without `authorizationToken`")
                .with_request(&Method::GET, path)
        })?;
        Ok(Secret::new(answer.authorization_token))
    }
}

/// A client of one AtroCore instance: settings, connection pool and token cache.
///
/// Cheap to clone (an [`Arc`] inside): clones share the connection pool and the token, so one
/// login serves every task. Generated crates wrap it in their own `Client` with one accessor per
/// entity; every route is also reachable here with [`request`](Self::request).
///
/// ```no_run
/// # async fn demo() -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::{ApiGeneration, Client, Method};
///
/// let client = Client::builder("https://pim.example.com")
///     .generation(ApiGeneration::V2_2)
///     .basic_auth("api-user", "secret")
///     .build()?;
/// let metadata: serde_json::Value = client.request(Method::GET, "/Metadata").send_json().await?;
/// # let _ = metadata;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientRef>,
}

impl Client {
    /// A builder for a client of the instance whose web root is `instance_url`.
    pub fn builder(instance_url: impl AsRef<str>) -> ClientBuilder<Client> {
        ClientBuilder::new(instance_url)
    }

    /// Starts a request to `path`, relative to the API base path (`"/Product/abc"`).
    ///
    /// `path` must already be percent-encoded: build it with
    /// [`encode_path_segment`](crate::encode_path_segment) for each parameter.
    pub fn request(&self, method: Method, path: impl Into<String>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path.into())
    }

    /// Lists records of `E`: `GET /{E}`.
    pub fn list<E: Entity>(&self) -> ListRequest<E> {
        ListRequest::new(self.clone())
    }

    /// The `E` records linked to the `entity` record `id` through `link` (generated crates call
    /// it from their link methods, e.g. `brand().products(id)`).
    pub fn linked<E: Entity>(
        &self,
        entity: &'static str,
        id: &str,
        link: &'static str,
    ) -> ListRequest<E> {
        ListRequest::linked(self.clone(), entity, id, link)
    }

    /// Reads one record of `E`: `GET /{E}/{id}`.
    pub fn read<E: Entity>(&self, id: &str) -> ReadRequest<E> {
        ReadRequest::new(self.clone(), id)
    }

    /// Creates a record of `E` from `body`: `POST /{E}`.
    pub fn create<E: Entity, B: Serialize + ?Sized>(&self, body: &B) -> CreateRequest<E> {
        CreateRequest::new(self.clone(), body)
    }

    /// Updates the record `id` of `E` with the fields of `body`: `PUT` (2.2 specs) or `PATCH`
    /// (2.3) `/{E}/{id}`.
    pub fn update<E: Entity, B: Serialize + ?Sized>(
        &self,
        method: Method,
        id: &str,
        body: &B,
    ) -> UpdateRequest<E> {
        UpdateRequest::new(self.clone(), method, id, body)
    }

    /// Deletes the record `id` of `E`: `DELETE /{E}/{id}`; resolves to AtroCore's `true`.
    pub fn delete<E: Entity>(&self, id: &str) -> DeleteRequest<E> {
        DeleteRequest::new(self.clone(), id)
    }

    /// Logs in now if this client has credentials and no token yet; otherwise does nothing.
    /// Useful to check credentials at start-up (requests log in on their own when needed).
    pub async fn login(&self) -> Result<()> {
        self.inner.auth.current(&self.inner).await.map(|_| ())
    }

    /// The instance URL joined with the API base path, e.g. `https://pim.example.com/api/v1`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The API base path, e.g. `/api/v1`.
    pub fn api_base_path(&self) -> &str {
        &self.inner.api_base_path
    }

    /// The API generation this client speaks.
    pub fn generation(&self) -> ApiGeneration {
        self.inner.generation
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(crate) async fn current_token(&self) -> Result<Option<Secret>> {
        self.inner.auth.current(&self.inner).await
    }

    pub(crate) async fn renew_token(&self, stale: Option<&Secret>) -> Result<()> {
        self.inner.auth.renew(&self.inner, stale).await
    }

    pub(crate) fn can_renew(&self) -> bool {
        self.inner.auth.can_renew()
    }

    pub(crate) fn token_revoked_by_another_login(&self, token: &Secret) -> bool {
        self.inner.auth.revoked_by_another_login(token)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("atrocore_runtime::Client")
            .field("base_url", &i.base_url)
            .field("generation", &i.generation)
            .field(
                "user",
                &i.auth.credentials.as_ref().map(|c| c.user.as_str()),
            )
            .field("retry", &i.retry)
            .field("timeout", &i.timeout)
            .finish_non_exhaustive()
    }
}

/// Sets up a [`Client`]; `build()` returns a `T` made from it (a generated crate's client type).
///
/// Required input goes to [`new`](Self::new); everything else has a default:
///
/// | setting | default |
/// |---|---|
/// | [`api_base_path`](Self::api_base_path) | the generation's: `/api/v1` (2.2), `/api` (2.3) |
/// | [`generation`](Self::generation) | [`ApiGeneration::V2_2`] |
/// | credentials | none: [`basic_auth`](Self::basic_auth) or [`token`](Self::token) |
/// | [`timeout`](Self::timeout) | 60 s per attempt |
/// | [`connect_timeout`](Self::connect_timeout) | 10 s |
/// | [`user_agent`](Self::user_agent) | `atrocore-rs/<version>` |
/// | [`proxy`](Self::proxy) | the system's (`HTTPS_PROXY`, …) |
/// | [`retry_policy`](Self::retry_policy) | [`RetryPolicy::default`] |
pub struct ClientBuilder<T = Client> {
    instance_url: String,
    api_base_path: Option<String>,
    generation: ApiGeneration,
    credentials: Option<Credentials>,
    token: Option<Secret>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    user_agent: Option<String>,
    proxy: Option<reqwest::Proxy>,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
    php_limits: PhpLimits,
    time_zone: Option<String>,
    max_response_bytes: usize,
    login_failure_ttl: Duration,
    revoked_within: Duration,
    _output: PhantomData<fn() -> T>,
}

impl<T: From<Client>> ClientBuilder<T> {
    /// A builder for the instance whose web root is `instance_url`
    /// (`https://pim.example.com`, or `https://example.com/atro` for an instance in a folder).
    pub fn new(instance_url: impl AsRef<str>) -> Self {
        Self {
            instance_url: instance_url.as_ref().to_owned(),
            api_base_path: None,
            generation: ApiGeneration::V2_2,
            credentials: None,
            token: None,
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
            user_agent: None,
            proxy: None,
            retry: RetryPolicy::default(),
            http: None,
            php_limits: PhpLimits::default(),
            time_zone: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            login_failure_ttl: Duration::from_secs(10),
            revoked_within: DEFAULT_REVOKED_WITHIN,
            _output: PhantomData,
        }
    }

    /// The API base path under the web root: `/api/v1` for 2.2, `/api` for 2.3 (a generated
    /// crate sets it from its spec's `servers`).
    #[must_use]
    pub fn api_base_path(mut self, path: impl Into<String>) -> Self {
        self.api_base_path = Some(path.into());
        self
    }

    /// The API generation (decides the token route, and the base path unless one is set).
    #[must_use]
    pub fn generation(mut self, g: ApiGeneration) -> Self {
        self.generation = g;
        self
    }

    /// Log in with user name and password: they are exchanged for a token on first use, the
    /// token is shared by every clone, and renewed once when a request gets `401`.
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials {
            user: user.into(),
            password: Secret::new(password),
        });
        self
    }

    /// Send this token as `Authorization-Token` as is. With [`basic_auth`](Self::basic_auth)
    /// too, the token is used first and the credentials only to renew it.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    /// The time limit of each attempt of a request, from sending to the end of the answer.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// No time limit on requests (the connect timeout still applies).
    #[must_use]
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// The time limit for opening a connection.
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The `User-Agent` header.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Send requests through this proxy.
    #[must_use]
    pub fn proxy(mut self, proxy: reqwest::Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// A token refused (`401`) within this time of the login that gave it is taken as revoked
    /// by another login as the same user, and the request fails with an error that says so
    /// instead of logging in again, which would revoke the other session in turn. AtroCore
    /// revokes like that when "Only one auth token per user" (`authTokenPreventConcurrent`) is
    /// on; it expires tokens by the hour, from a cron job, so a real expiry is never this quick.
    /// Default [`DEFAULT_REVOKED_WITHIN`] (30 s); `Duration::ZERO` turns the check off (a test
    /// server that expires tokens within seconds).
    #[must_use]
    pub fn revoked_within(mut self, d: Duration) -> Self {
        self.revoked_within = d;
        self
    }

    /// When and how often to retry safe requests.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The server's PHP `max_input_vars`, as its `php.ini` says (default 1000, PHP's default).
    /// PHP reads only that many query variables (each `name[..][..]=value` pair counts one) and
    /// silently drops the rest, so a long `in` list or a big filter tree would lose conditions.
    /// One of them is the web server's (AtroCore's rewrite adds `atroq=<path>`), so a request
    /// with more than `n - 1` is refused before sending with
    /// [`ErrorKind::Query`](crate::ErrorKind::Query). Raise it when the instance's `php.ini` does.
    #[must_use]
    pub fn max_input_vars(mut self, n: usize) -> Self {
        self.php_limits.max_input_vars = n;
        self
    }

    /// The largest answer read whole (JSON answers, error bodies aside), in bytes; default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]. A larger answer fails with
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) as soon as it is known to be larger
    /// (from its `Content-Length`, else while reading), instead of filling memory. Downloads
    /// stream and are not limited.
    #[must_use]
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// How long a login whose credentials were refused (`401`, `403`) is handed to every caller
    /// instead of a new attempt (default 10 seconds): many tasks with a wrong password make one
    /// login, not one each, which could lock the account. Other failures are shared only with
    /// the callers that were waiting for that attempt.
    #[must_use]
    pub fn login_failure_ttl(mut self, d: Duration) -> Self {
        self.login_failure_ttl = d;
        self
    }

    /// The IANA time zone (e.g. `"Europe/Berlin"`) in which date-time filter conditions read
    /// their days, unless a filter names its own with [`Filter::time_zone`](crate::Filter::time_zone).
    /// AtroCore takes the zone from each condition only (not from the user's preferences), and
    /// uses UTC when none is sent.
    #[must_use]
    pub fn time_zone(mut self, tz: impl Into<String>) -> Self {
        self.time_zone = Some(tz.into());
        self
    }

    /// The server's PHP `max_input_nesting_level` (default 64): PHP drops a whole query
    /// parameter (all of `where`) whose brackets nest deeper. A deeper request is refused before
    /// sending with [`ErrorKind::Query`](crate::ErrorKind::Query).
    #[must_use]
    pub fn max_input_nesting_level(mut self, n: usize) -> Self {
        self.php_limits.max_input_nesting_level = n;
        self
    }

    /// Use this reqwest client (its TLS, proxy, pool and connect settings) instead of building
    /// one; [`connect_timeout`](Self::connect_timeout) and [`proxy`](Self::proxy) are then
    /// ignored, while [`timeout`](Self::timeout) and an explicit
    /// [`user_agent`](Self::user_agent) still apply per request.
    #[must_use]
    pub fn with_reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// Fails with [`ErrorKind::Builder`] when the instance URL is not an `http(s)` URL, or the
    /// HTTP client cannot be set up. No request is sent: credentials are checked on first use
    /// (or by [`Client::login`]).
    pub fn build(self) -> Result<T> {
        let root = self.instance_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(root)
            .map_err(|e| Error::builder("invalid instance URL").with_source(e))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::builder(
                "the instance URL must be an http or https URL with a host",
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::builder(
                "the instance URL must not have a query or fragment",
            ));
        }
        // Credentials in the URL would reach `Debug`, `base_url()`, logs and error labels.
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::builder(
                "the instance URL must not hold a user name or password (they would show \
                 wherever the URL does): pass them with basic_auth",
            ));
        }
        let base = self
            .api_base_path
            .unwrap_or_else(|| self.generation.default_base_path().to_owned());
        let base = base.trim().trim_matches('/');
        let api_base_path = if base.is_empty() {
            String::new()
        } else {
            format!("/{base}")
        };
        let base_url = format!("{root}{api_base_path}");
        let origin = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::builder("invalid API base path").with_source(e))?;

        let (http, user_agent) = match self.http {
            Some(http) => {
                let ua = match self.user_agent {
                    Some(ua) => Some(
                        HeaderValue::from_str(&ua)
                            .map_err(|e| Error::builder("invalid user agent").with_source(e))?,
                    ),
                    None => None,
                };
                (http, ua)
            }
            None => {
                let ua = self.user_agent.unwrap_or_else(|| {
                    concat!("atrocore-rs/", env!("CARGO_PKG_VERSION")).to_owned()
                });
                let mut b = reqwest::Client::builder()
                    .user_agent(ua)
                    .redirect(redirect_policy())
                    .connect_timeout(self.connect_timeout);
                if let Some(proxy) = self.proxy {
                    b = b.proxy(proxy);
                }
                let http = b.build().map_err(|e| {
                    Error::builder("could not set up the HTTP client").with_source(e)
                })?;
                (http, None)
            }
        };
        let client = Client {
            inner: Arc::new(ClientRef {
                http,
                base_url,
                api_base_path,
                generation: self.generation,
                auth: Auth {
                    credentials: self.credentials,
                    token: Mutex::new(self.token),
                    failure: std::sync::Mutex::new(None),
                    failure_ttl: self.login_failure_ttl,
                    logged_in: std::sync::Mutex::new(None),
                    revoked_within: self.revoked_within,
                },
                retry: self.retry,
                timeout: self.timeout,
                user_agent,
                php_limits: self.php_limits,
                time_zone: self.time_zone,
                max_response_bytes: self.max_response_bytes,
                origin,
            }),
        };
        Ok(T::from(client))
    }
}

/// `url` with any `user:password@` replaced by `[redacted]@`, for `Debug` before `build`
/// refuses it.
fn without_user_info(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}[redacted]{}",
            &url[..scheme_end],
            &url[scheme_end + at..]
        )),
        None => Cow::Borrowed(url),
    }
}

impl<T> fmt::Debug for ClientBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("atrocore_runtime::ClientBuilder")
            .field("instance_url", &without_user_info(&self.instance_url))
            .field("api_base_path", &self.api_base_path)
            .field("generation", &self.generation)
            .field("credentials", &self.credentials)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("proxy", &self.proxy.is_some())
            .field("retry", &self.retry)
            .field("custom_http_client", &self.http.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Credentials in the instance URL are refused, and never printed on the way there.
    #[test]
    fn credentials_in_the_instance_url_are_refused_and_not_shown() {
        for url in [
            "https://api:s3cret@pim.example.com",
            "https://s3cret@pim.example.com/",
            "http://api:@pim.example.com:8080/x",
        ] {
            let builder = Client::builder(url);
            let debug = format!("{builder:?}");
            assert!(
                !debug.contains("s3cret") && !debug.contains("api:"),
                "{debug}"
            );
            let e = builder.build().unwrap_err();
            assert!(e.is_builder(), "{e}");
            assert!(e.to_string().contains("basic_auth"), "{e}");
            assert!(!e.to_string().contains("s3cret") && !format!("{e:?}").contains("s3cret"));
        }
        assert_eq!(
            without_user_info("https://a:b@h.example/p@q"),
            "https://[redacted]@h.example/p@q"
        );
        assert_eq!(
            without_user_info("https://h.example/p@q"),
            "https://h.example/p@q"
        );
    }

    #[test]
    fn base_url_joins_root_and_base_path() {
        let c = Client::builder("https://pim.example.com/").build().unwrap();
        assert_eq!(c.base_url(), "https://pim.example.com/api/v1");
        let c = Client::builder("https://x.example/atro")
            .generation(ApiGeneration::V2_3)
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "https://x.example/atro/api");
        let c = Client::builder("http://127.0.0.1:8080")
            .api_base_path("api/v1/")
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8080/api/v1");
        assert_eq!(c.api_base_path(), "/api/v1");
    }

    /// International domain names work: `url`'s `idna` runs on the unicode-rs back end the
    /// runtime pins (`idna_adapter` 1.1), not the ASCII-only stub.
    #[test]
    fn international_domain_names_become_punycode_origins() {
        let c = Client::builder("https://Bücher.example/pim")
            .build()
            .unwrap();
        assert_eq!(
            c.inner.origin.host_str(),
            Some("xn--bcher-kva.example"),
            "the host is normalized to its ASCII form"
        );
        let same = reqwest::Url::parse("https://xn--bcher-kva.example/pim/api/v1/Product").unwrap();
        assert!(c.inner.same_origin(&same));
        let other = reqwest::Url::parse("https://bucher.example/").unwrap();
        assert!(!c.inner.same_origin(&other));
    }

    #[test]
    fn invalid_urls_are_builder_errors() {
        for url in [
            "",
            "pim.example.com",
            "ftp://x.example",
            "https://x.example/?a=1",
        ] {
            let e = Client::builder(url).build().unwrap_err();
            assert!(e.is_builder(), "{url}: {e}");
        }
    }

    #[test]
    fn backoff_stays_below_the_ceiling() {
        let p = RetryPolicy {
            max_retries: 10,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            assert!(p.backoff(0) <= Duration::from_millis(100));
            assert!(p.backoff(1) <= Duration::from_millis(200));
            assert!(p.backoff(5) <= Duration::from_millis(250));
            assert!(p.backoff(40) <= Duration::from_millis(250));
        }
        let zero = RetryPolicy {
            base_backoff: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn client_is_send_sync_and_wraps() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
        struct Wrapper(#[allow(dead_code)] Client);
        impl From<Client> for Wrapper {
            fn from(c: Client) -> Self {
                Self(c)
            }
        }
        let _w: Wrapper = ClientBuilder::<Wrapper>::new("http://localhost")
            .build()
            .unwrap();
    }
}
