//! [`Client`] and [`ClientBuilder`]: connection settings, the retry policy, and the shared
//! token cache (one login for all clones and tasks, renewed once on `401`).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderValue;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::http::config::Settings;
pub use crate::http::config::{ApiGeneration, DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy};
use crate::http::execute::redirect_policy;
use crate::http::secret::{Credentials, Secret};
pub use crate::http::session::DEFAULT_REVOKED_WITHIN;
use crate::http::session::{Auth, ClientRef};
use crate::php_limits::PhpLimits;
use crate::request::RequestBuilder;

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
        RequestBuilder::new(self.inner.clone(), method, path.into())
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

    /// The time limit of each attempt of a request, from sending to the end of the answer. A
    /// download is the exception: the limit holds until its headers arrive and then for each
    /// wait for more of its body, so a long healthy transfer is never cut while a stalled one
    /// fails.
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
    /// Fails with [`ErrorKind::Builder`](crate::ErrorKind::Builder) when the instance URL is not an `http(s)` URL, or the
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
                settings: Settings {
                    http,
                    base_url,
                    api_base_path,
                    generation: self.generation,
                    retry: self.retry,
                    timeout: self.timeout,
                    user_agent,
                    php_limits: self.php_limits,
                    time_zone: self.time_zone,
                    max_response_bytes: self.max_response_bytes,
                    origin,
                },
                auth: Auth {
                    credentials: self.credentials,
                    token: Mutex::new(self.token),
                    failure: std::sync::Mutex::new(None),
                    failure_ttl: self.login_failure_ttl,
                    logged_in: std::sync::Mutex::new(None),
                    revoked_within: self.revoked_within,
                },
                attribute_ids: std::sync::Mutex::new(None),
                code_ids: std::sync::Mutex::new(Default::default()),
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
