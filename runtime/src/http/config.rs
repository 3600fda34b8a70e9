//! A client's configuration, fixed when it is built: the API generation, the retry policy, the
//! PHP input limits and the rest of the connection [`Settings`].

use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::php_limits::PhpLimits;

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
/// [`RequestBuilder::idempotent`](crate::RequestBuilder::idempotent). They are retried after a connection failure, a timeout, a
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

/// The largest answer read whole when not set: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// The connection settings every clone of a [`Client`](crate::Client) shares: what the send
/// loop needs besides the token.
pub(crate) struct Settings {
    pub(crate) http: reqwest::Client,
    /// Instance root plus API base path, without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_base_path: String,
    pub(crate) generation: ApiGeneration,
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
    pub(crate) origin: reqwest::Url,
}

impl Settings {
    /// Whether `url` is on the instance's origin (scheme, host and port).
    pub(crate) fn same_origin(&self, url: &reqwest::Url) -> bool {
        url.origin() == self.origin.origin()
    }
}
