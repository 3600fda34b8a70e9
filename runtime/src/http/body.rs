//! What a request sends and how much of an answer it reads.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::Response;

use crate::error::{Error, ErrorKind, Result, cap_reason};

/// Most bytes of an error answer read to find its reason.
pub(crate) const MAX_ERROR_BODY: usize = 4096;

/// A request body that can be sent again on a retry.
#[derive(Clone)]
pub(crate) enum RequestBody {
    /// Serialized JSON, kept whole.
    Json(Bytes),
    /// A body streamed as it is sent (a file chunk encoded piece by piece): `make` builds a
    /// fresh stream for every attempt, of exactly `len` bytes.
    Stream {
        make: Arc<dyn Fn() -> reqwest::Body + Send + Sync>,
        len: u64,
    },
}

impl RequestBody {
    /// Bytes on the wire.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Json(b) => b.len() as u64,
            Self::Stream { len, .. } => *len,
        }
    }

    /// The body for one attempt.
    pub(crate) fn for_attempt(&self) -> reqwest::Body {
        match self {
            Self::Json(b) => reqwest::Body::from(b.clone()),
            Self::Stream { make, .. } => make(),
        }
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(b) => write!(f, "Json({} bytes)", b.len()),
            Self::Stream { len, .. } => write!(f, "Stream({len} bytes)"),
        }
    }
}

/// The error of an answer larger than the limit.
fn too_large(size: Option<u64>, limit: usize) -> Error {
    Error::new(ErrorKind::Decode).with_message(match size {
        Some(size) => format!(
            "the answer has {size} bytes, more than the {limit} this client reads \
             (ClientBuilder::max_response_bytes)"
        ),
        None => format!(
            "the answer is larger than the {limit} bytes this client reads \
             (ClientBuilder::max_response_bytes)"
        ),
    })
}

/// Reads a whole answer, failing as soon as it exceeds `limit` bytes (before reading anything
/// when `Content-Length` says so). A body cut short is a transport error.
pub(crate) async fn read_limited(mut response: Response, limit: usize) -> Result<Bytes> {
    if let Some(len) = response.content_length()
        && len > limit as u64
    {
        return Err(too_large(Some(len), limit));
    }
    let mut out = Vec::with_capacity(
        response
            .content_length()
            .map_or(0, |l| l as usize)
            .min(limit),
    );
    while let Some(chunk) = response.chunk().await.map_err(Error::body_cut)? {
        if out.len() + chunk.len() > limit {
            return Err(too_large(None, limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// The error for a non-success answer: the reason from `X-Status-Reason`, else from the first
/// [`MAX_ERROR_BODY`] bytes of the body (the rest is not read).
pub(crate) async fn error_from_response(mut response: Response) -> Error {
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
