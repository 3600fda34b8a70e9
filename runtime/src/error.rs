//! The one opaque [`Error`] type of the runtime, its [`ErrorKind`], and how HTTP answers map to it.
//!
//! Nothing secret is ever stored in an [`Error`]: it keeps the method, the path (without the
//! query string), the status, AtroCore's reason text and a source error whose URL was stripped.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use reqwest::Method;

/// A `Result` whose error is the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest reason text kept from a plain-text error body, in bytes.
pub(crate) const MAX_REASON_LEN: usize = 512;

/// What went wrong, in broad categories; see [`Error::kind`].
///
/// New kinds may be added in minor releases, so a `match` needs a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request could not be sent or its answer not read: connection refused or reset, DNS,
    /// TLS, a body cut short.
    Transport,
    /// The request or the connection attempt timed out.
    Timeout,
    /// `401 Unauthorized`: wrong user name or password, or an expired token that could not be
    /// renewed.
    Auth,
    /// `403 Forbidden`: the user's role does not allow this.
    Forbidden,
    /// `404 Not Found`: no such record or route.
    NotFound,
    /// `400 Bad Request`: AtroCore rejected the input (a missing required field, a request that
    /// does not match the spec); [`Error::reason`] says why.
    Validation,
    /// `409 Conflict`: typically a duplicate of a unique field.
    Conflict,
    /// `429 Too Many Requests` still answered after the retries allowed by the
    /// [`RetryPolicy`](crate::RetryPolicy).
    RateLimited,
    /// A `5xx` status.
    Server,
    /// A `2xx` answer whose body is not what was expected.
    Decode,
    /// The client or a request was set up wrongly: an invalid instance URL, header value or
    /// proxy, or a body that cannot be serialized.
    Builder,
    /// Any other status (for example `405`, `413`, or `304 Not Modified`).
    Other,
    /// Refused before sending because the server would not read the request as meant: the query
    /// string has more variables than PHP's `max_input_vars` or nests deeper than
    /// `max_input_nesting_level` (PHP would drop the rest silently), or a `where` uses an
    /// operator the runtime does not know (AtroCore would skip it silently).
    Query,
    /// `400` for the server's own answer, not for the request: AtroCore 2.3 checks every answer
    /// against its spec after the route ran (`Core/Middleware/ApiValidationMiddleware.php`, no
    /// transaction around it) and sends this instead when they disagree. A write was carried
    /// out: the change is most likely stored. [`Error::reason`] holds the validator's message
    /// (`… for Response [post /{entityName} 200] …`).
    AnswerRejected,
}

impl ErrorKind {
    /// The kind that fits an HTTP status that is not a success.
    pub(crate) fn from_status(status: u16) -> Self {
        match status {
            400 => Self::Validation,
            401 => Self::Auth,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            429 => Self::RateLimited,
            500..=599 => Self::Server,
            _ => Self::Other,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Transport => "transport error",
            Self::Timeout => "timed out",
            Self::Auth => "not authenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not found",
            Self::Validation => "invalid request",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate limited",
            Self::Server => "server error",
            Self::Decode => "unexpected answer",
            Self::Builder => "invalid setup",
            Self::Other => "request failed",
            Self::Query => "request not sent: the server would not read it as meant",
            Self::AnswerRejected => {
                "the server carried the request out, then refused its own answer (the change is \
                 likely stored)"
            }
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The error of every fallible operation of the runtime and of generated clients.
///
/// Opaque on purpose: ask it what happened with [`kind`](Self::kind), [`status`](Self::status),
/// [`reason`](Self::reason) and the `is_*` shortcuts. It never contains a password, a token or a
/// query string (which may carry filter values), so it is safe to log.
///
/// ```
/// use atrocore_runtime::{Error, ErrorKind};
///
/// fn describe(e: &Error) -> String {
///     match e.kind() {
///         ErrorKind::NotFound => "gone".to_owned(),
///         ErrorKind::Validation => format!("rejected: {}", e.reason().unwrap_or("?")),
///         _ if e.is_timeout() => "slow server".to_owned(),
///         _ => e.to_string(),
///     }
/// }
/// # let _ = describe;
/// ```
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    method: Option<Method>,
    path: Option<String>,
    status: Option<u16>,
    /// The reason as a person reads it (see `reason.rs`).
    reason: Option<String>,
    /// The reason as the server sent it (capped).
    raw_reason: Option<String>,
    message: Option<Cow<'static, str>>,
    password_expired: bool,
    source: Option<BoxError>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                method: None,
                path: None,
                status: None,
                reason: None,
                raw_reason: None,
                message: None,
                password_expired: false,
                source: None,
            }),
        }
    }

    pub(crate) fn query(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Query).with_message(message)
    }

    /// A copy without the source error (errors are not `Clone`): what a shared failure hands
    /// to every caller.
    pub(crate) fn duplicate(&self) -> Self {
        let i = &self.inner;
        Self {
            inner: Box::new(Inner {
                kind: i.kind,
                method: i.method.clone(),
                path: i.path.clone(),
                status: i.status,
                reason: i.reason.clone(),
                raw_reason: i.raw_reason.clone(),
                message: i.message.clone(),
                password_expired: i.password_expired,
                source: None,
            }),
        }
    }

    pub(crate) fn builder(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Builder).with_message(message)
    }

    pub(crate) fn from_status(status: u16, reason: Option<String>) -> Self {
        // league/openapi-psr7-validator names what it checked: `Request [get /x]` for a request,
        // `Response [get /x 200]` for an answer.
        let kind = match (status, reason.as_deref()) {
            (400, Some(r)) if r.contains("for Response [") => ErrorKind::AnswerRejected,
            _ => ErrorKind::from_status(status),
        };
        let mut e = Self::new(kind);
        e.inner.status = Some(status);
        e.inner.reason = reason
            .as_deref()
            .map(crate::reason::readable)
            .filter(|r| !r.is_empty());
        e.inner.raw_reason = reason;
        e
    }

    /// Wraps a reqwest error: the URL is stripped (it may carry a query string).
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_builder() {
            ErrorKind::Builder
        } else if e.is_decode() {
            ErrorKind::Decode
        } else {
            ErrorKind::Transport
        };
        let connect = e.is_connect();
        // The host and port, never the rest of the URL (user info, path, query).
        let host = e.url().and_then(|u| {
            let host = u.host_str()?;
            Some(match u.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            })
        });
        let mut err = Self::new(kind).with_source(e.without_url());
        if connect && kind == ErrorKind::Transport {
            err = err.with_message(match host {
                Some(h) => format!("could not connect to {h}"),
                None => "could not connect".to_owned(),
            });
        }
        err
    }

    /// A body that could not be read to its end (the connection dropped mid-body): a transport
    /// failure, whatever reqwest calls it, so that safe requests are sent again.
    pub(crate) fn body_cut(e: reqwest::Error) -> Self {
        let timeout = e.is_timeout();
        let err = Self::new(if timeout {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        })
        .with_source(e.without_url());
        if timeout {
            err
        } else {
            err.with_message("the answer was cut short")
        }
    }

    pub(crate) fn decode(source: serde_json::Error) -> Self {
        Self::new(ErrorKind::Decode)
            .with_message("the answer does not have the expected shape")
            .with_source(source)
    }

    pub(crate) fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_request(mut self, method: &Method, path: &str) -> Self {
        if self.inner.method.is_none() {
            self.inner.method = Some(method.clone());
        }
        if self.inner.path.is_none() {
            self.inner.path = Some(strip_query(path).to_owned());
        }
        self
    }

    pub(crate) fn with_password_expired(mut self, expired: bool) -> Self {
        self.inner.password_expired = expired;
        self
    }

    /// The category of the failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// AtroCore's explanation (the `X-Status-Reason` header, else the body; at most 512 bytes) as
    /// text a person reads: the HTML some messages carry for AtroCore's web UI removed (a
    /// unique-constraint violation's hidden database message kept after `Details:`), control
    /// characters and line breaks as single spaces. Safe to print on a terminal.
    pub fn reason(&self) -> Option<&str> {
        self.inner.reason.as_deref()
    }

    /// The reason exactly as the server sent it (trimmed, at most 512 bytes): HTML and control
    /// characters included. Prefer [`reason`](Self::reason) for anything a person reads.
    pub fn raw_reason(&self) -> Option<&str> {
        self.inner.raw_reason.as_deref()
    }

    /// The method of the failed request.
    pub fn method(&self) -> Option<&Method> {
        self.inner.method.as_ref()
    }

    /// The path of the failed request relative to the API base path (`/Product/abc`), never with
    /// its query string.
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// The request or the connection attempt timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// `404 Not Found`.
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// `401 Unauthorized`: wrong credentials or a token that is no longer valid.
    pub fn is_auth(&self) -> bool {
        self.inner.kind == ErrorKind::Auth
    }

    /// `403 Forbidden`.
    pub fn is_forbidden(&self) -> bool {
        self.inner.kind == ErrorKind::Forbidden
    }

    /// `400 Bad Request`.
    pub fn is_validation(&self) -> bool {
        self.inner.kind == ErrorKind::Validation
    }

    /// `409 Conflict`.
    pub fn is_conflict(&self) -> bool {
        self.inner.kind == ErrorKind::Conflict
    }

    /// A `400` for the server's own answer ([`ErrorKind::AnswerRejected`]): the request was
    /// carried out.
    pub fn is_answer_rejected(&self) -> bool {
        self.kind() == ErrorKind::AnswerRejected
    }

    /// Whether the server may have carried the request out before it failed: the connection
    /// broke or timed out after sending, a `5xx`, an answer that could not be read, or an answer
    /// the server refused after the route ran ([`ErrorKind::AnswerRejected`]). Such a write must
    /// not be repeated blindly unless it is idempotent.
    pub fn may_have_been_applied(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Transport
                | ErrorKind::Timeout
                | ErrorKind::Server
                | ErrorKind::Decode
                | ErrorKind::AnswerRejected
        ) || (self.kind() == ErrorKind::Other && self.status().is_none_or(|s| s >= 500))
    }

    /// A `5xx` status.
    pub fn is_server(&self) -> bool {
        self.inner.kind == ErrorKind::Server
    }

    /// The request could not be sent or its answer not read.
    pub fn is_transport(&self) -> bool {
        self.inner.kind == ErrorKind::Transport
    }

    /// A success answer whose body did not have the expected shape.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// The request was refused before sending because the server would not read it as meant
    /// ([`ErrorKind::Query`]).
    pub fn is_query(&self) -> bool {
        self.inner.kind == ErrorKind::Query
    }

    /// The request was set up wrongly ([`ErrorKind::Builder`]).
    pub fn is_builder(&self) -> bool {
        self.inner.kind == ErrorKind::Builder
    }

    /// The server answered `401` with `Password-Expired: true`: the user must change the
    /// password in the web interface first.
    pub fn is_password_expired(&self) -> bool {
        self.inner.password_expired
    }
}

/// The path without query string or fragment.
fn strip_query(path: &str) -> &str {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

/// Cuts a reason text to at most [`MAX_REASON_LEN`] bytes on a character boundary.
pub(crate) fn cap_reason(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.len() <= MAX_REASON_LEN {
        return Some(text.to_owned());
    }
    let mut end = MAX_REASON_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}…", text[..end].trim_end()))
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("atrocore_runtime::Error");
        d.field("kind", &i.kind);
        if let Some(m) = &i.method {
            d.field("method", m);
        }
        if let Some(p) = &i.path {
            d.field("path", p);
        }
        if let Some(s) = &i.status {
            d.field("status", s);
        }
        if let Some(r) = &i.reason {
            d.field("reason", r);
        }
        if let Some(m) = &i.message {
            d.field("message", m);
        }
        if i.password_expired {
            d.field("password_expired", &true);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    /// `GET /Product/x: 404 Not Found: <reason>`; `GET /Product: timed out: <source>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        match (&i.method, &i.path) {
            (Some(m), Some(p)) => write!(f, "{m} {p}: ")?,
            (None, Some(p)) => write!(f, "{p}: ")?,
            _ => {}
        }
        match i.status {
            Some(status) => {
                write!(f, "{status}")?;
                if let Some(text) = reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                {
                    write!(f, " {text}")?;
                }
            }
            None => f.write_str(i.kind.describe())?,
        }
        if let Some(m) = &i.message {
            write!(f, ": {m}")?;
        }
        if let Some(r) = &i.reason {
            write!(f, ": {r}")?;
        } else if i.status.is_none()
            && let Some(s) = &i.source
        {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_status_and_reason() {
        let e = Error::from_status(404, Some("Record not found".into()))
            .with_request(&Method::GET, "/Product/x?select=name");
        assert_eq!(
            e.to_string(),
            "GET /Product/x: 404 Not Found: Record not found"
        );
        assert_eq!(e.path(), Some("/Product/x"));
        assert!(e.is_not_found());
        assert_eq!(e.status(), Some(404));
    }

    #[test]
    fn kinds_from_status() {
        for (status, kind) in [
            (400, ErrorKind::Validation),
            (401, ErrorKind::Auth),
            (403, ErrorKind::Forbidden),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
            (405, ErrorKind::Other),
            (304, ErrorKind::Other),
        ] {
            assert_eq!(Error::from_status(status, None).kind(), kind, "{status}");
        }
    }

    #[test]
    fn reason_is_trimmed_and_capped() {
        assert_eq!(cap_reason("  \n"), None);
        assert_eq!(cap_reason(" no \n").as_deref(), Some("no"));
        let long = "é".repeat(600);
        let capped = cap_reason(&long).unwrap();
        assert!(capped.len() <= MAX_REASON_LEN + '…'.len_utf8());
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn display_without_status() {
        let e = Error::builder("invalid instance URL").with_source(std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "invalid setup: invalid instance URL: boom");
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + StdError>() {}
        check::<Error>();
    }
}
