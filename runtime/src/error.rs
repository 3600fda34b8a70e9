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
    /// The entity the request addressed (path or `entityName`), kept for a `403`.
    entity: Option<String>,
    /// The fields the request's `where` named, kept for a `403`.
    filter_fields: Vec<String>,
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
                entity: None,
                filter_fields: Vec::new(),
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
                entity: i.entity.clone(),
                filter_fields: i.filter_fields.clone(),
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

    /// For a `403`: what the refused request addressed. AtroCore's refusals carry no message at
    /// all (every check throws a message-less `Forbidden`: 2.2 and 2.3 alike, see
    /// `simulator/FIDELITY.md`, "Permissions"), so the error names the entity itself and, for a
    /// request with a `where`, the fields it filters on (a filter on a field the role may not
    /// read is refused the same way, `Core/SelectManagers/Base.php::checkWhere`).
    pub(crate) fn with_refused(
        mut self,
        entity: Option<String>,
        filter_fields: Vec<String>,
    ) -> Self {
        if self.inner.kind != ErrorKind::Forbidden {
            return self;
        }
        self.inner.entity = entity;
        self.inner.filter_fields = filter_fields;
        if self.inner.message.is_none()
            && self.inner.reason.is_none()
            && let Some(e) = &self.inner.entity
        {
            let mut m = format!("the user's role does not allow this on `{e}`");
            if !self.inner.filter_fields.is_empty() {
                let names: Vec<String> = self
                    .inner
                    .filter_fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect();
                m.push_str(&format!(
                    ", or does not allow reading a field the filter names ({})",
                    names.join(", ")
                ));
            }
            self.inner.message = Some(m.into());
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

    /// For a `403 Forbidden`: the entity the refused request addressed (`Product` for
    /// `PATCH /Product/{id}`, the `entityName` of 2.3's `/entityMassUpdate` or
    /// `/entityRelation`). AtroCore's refusals say nothing themselves (empty body and
    /// `X-Status-Reason`), so this comes from the request; `None` for other errors.
    pub fn entity(&self) -> Option<&str> {
        self.inner.entity.as_deref()
    }

    /// For a `403 Forbidden`: the fields the refused request's `where` names (a filter on a
    /// field the role may not read is refused as a whole, without saying which); empty for
    /// other errors and requests without a filter.
    pub fn filter_fields(&self) -> &[String] {
        &self.inner.filter_fields
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

/// The entity a request addresses: the first path segment when it is an entity name (capital
/// first letter: `/Product/x`, `/Product/action/massUpdate`), else the `entityName` of the query
/// or of a JSON body (2.3's `/entityMassUpdate`, `/entityRelation`).
pub(crate) fn addressed_entity(
    path: &str,
    query: &[(String, String)],
    body: Option<&serde_json::Value>,
) -> Option<String> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if first.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Some(first.to_owned());
    }
    query
        .iter()
        .find(|(k, _)| k == "entityName")
        .map(|(_, v)| v.clone())
        .or_else(|| body?.get("entityName")?.as_str().map(str::to_owned))
        .filter(|e| !e.is_empty())
}

/// The fields a request's `where` names: `where[…][attribute]` (or `[field]`) query variables,
/// and the `attribute`/`field` members anywhere in a JSON body's `where`; in order, once each.
pub(crate) fn filter_fields(
    query: &[(String, String)],
    body: Option<&serde_json::Value>,
) -> Vec<String> {
    fn push(out: &mut Vec<String>, name: &str) {
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => {
                for k in ["attribute", "field"] {
                    if let Some(n) = o.get(k).and_then(serde_json::Value::as_str) {
                        push(out, n);
                    }
                }
                if let Some(inner) = o.get("value") {
                    walk(inner, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in query {
        if k.starts_with("where[") && (k.ends_with("[attribute]") || k.ends_with("[field]")) {
            push(&mut out, v);
        }
    }
    if let Some(w) = body.and_then(|b| b.get("where")) {
        walk(w, &mut out);
    }
    out
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
        if let Some(e) = &i.entity {
            d.field("entity", e);
        }
        if !i.filter_fields.is_empty() {
            d.field("filter_fields", &i.filter_fields);
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
    fn a_refusal_names_the_entity_and_the_filtered_fields() {
        // AtroCore's 403 has neither body nor reason: the request says what was refused.
        let query = vec![
            ("where[0][type]".to_owned(), "or".to_owned()),
            ("where[0][value][0][attribute]".to_owned(), "mpn".to_owned()),
            ("where[0][value][1][field]".to_owned(), "brand".to_owned()),
            ("select".to_owned(), "name".to_owned()),
        ];
        let e = Error::from_status(403, None)
            .with_refused(
                addressed_entity("/Product", &query, None),
                filter_fields(&query, None),
            )
            .with_request(&Method::GET, "/Product");
        assert_eq!(e.entity(), Some("Product"));
        assert_eq!(e.filter_fields(), ["mpn", "brand"]);
        assert_eq!(
            e.to_string(),
            "GET /Product: 403 Forbidden: the user's role does not allow this on `Product`, or \
             does not allow reading a field the filter names (`mpn`, `brand`)"
        );
        // 2.3's global routes name the entity in the body.
        let body = serde_json::json!({
            "entityName": "Brand", "where": [{"type": "equals", "attribute": "code", "value": "x"}]
        });
        let e = Error::from_status(403, None)
            .with_refused(
                addressed_entity("/entityMassUpdateAsync", &[], Some(&body)),
                filter_fields(&[], Some(&body)),
            )
            .with_request(&Method::PATCH, "/entityMassUpdateAsync");
        assert_eq!(e.entity(), Some("Brand"));
        assert!(e.to_string().contains("on `Brand`"), "{e}");
        assert!(e.to_string().contains("(`code`)"), "{e}");
        let e = Error::from_status(403, None)
            .with_refused(addressed_entity("/Brand/x", &[], None), Vec::new())
            .with_request(&Method::DELETE, "/Brand/x");
        assert_eq!(
            e.to_string(),
            "DELETE /Brand/x: 403 Forbidden: the user's role does not allow this on `Brand`"
        );
        // A 403 with a message keeps it; other statuses get nothing.
        let e = Error::from_status(403, Some("Max failed login attempts exceeded.".into()))
            .with_refused(Some("App".into()), Vec::new());
        assert!(!e.to_string().contains("role"), "{e}");
        let e = Error::from_status(404, None).with_refused(Some("Brand".into()), Vec::new());
        assert_eq!(e.entity(), None);
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
