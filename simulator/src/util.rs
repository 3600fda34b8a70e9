//! Small helpers shared by the handlers: errors as AtroCore sends them, time stamps, ids, data URIs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;

use crate::model::Generation;
use crate::store::StoreError;

/// An error answer: status, plain-text body, and the same text in `X-Status-Reason`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Message (body and `X-Status-Reason`).
    pub message: String,
}

impl ApiError {
    /// `401 Unauthorized`, as AtroCore words a refused authentication.
    pub fn unauthorized_default() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// Builds an error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// 400 Bad Request.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }
    /// 304 Not Modified: an update that changes nothing (`Atro\Core\Exceptions\NotModified`,
    /// thrown by `Espo\Services\Record::updateEntity` when `isEntityUpdated` is false).
    pub fn not_modified() -> ApiError {
        ApiError::new(StatusCode::NOT_MODIFIED, "")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::NOT_MODIFIED {
            return StatusCode::NOT_MODIFIED.into_response();
        }
        // `Core/Http/Response/ErrorResponse.php` (2.3): the message is the body, typed
        // `text/html; charset=utf-8`, and the `X-Status-Reason` header, where control characters
        // but the tab become spaces (`[\x00-\x08\x0A-\x1F\x7F]`) and UTF-8 stays as it is.
        // (2.2's legacy output sends the same header and body under Slim's default `text/html`.)
        let reason: String = self
            .message
            .chars()
            .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
            .collect();
        let mut r = (self.status, self.message).into_response();
        r.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_bytes(reason.as_bytes()) {
            r.headers_mut().insert("x-status-reason", v);
        }
        r
    }
}

/// A JSON answer with status 200.
pub fn json(v: &Value) -> Response {
    (
        [("content-type", "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

/// Formats Unix seconds as AtroCore's `Y-m-d H:i:s` (UTC).
pub fn format_ts(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A new record id shaped like the generation's: 2.2 `a` + 26 base-32 characters, 2.3 a UUID v7.
pub fn new_id(generation: Generation) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mix = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ u64::from(std::process::id());
    match generation {
        Generation::V22 => {
            const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
            let mut v: u128 =
                (u128::from(millis) << 80) | (u128::from(mix) << 16) | u128::from(n as u16);
            let mut s = [0u8; 26];
            for slot in s.iter_mut().rev() {
                *slot = ALPHABET[(v & 31) as usize];
                v >>= 5;
            }
            format!("a{}", String::from_utf8_lossy(&s))
        }
        Generation::V23 => {
            let rand_a = (mix >> 48) & 0x0fff;
            let rand_b = (mix & 0x3fff_ffff_ffff_ffff) ^ (n << 20);
            format!(
                "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
                millis >> 16,
                millis & 0xffff,
                rand_a,
                0x8000 | ((rand_b >> 48) & 0x3fff),
                rand_b & 0xffff_ffff_ffff
            )
        }
    }
}

/// Decodes a data URI (`data:<mime>;base64,<data>`): everything after the first comma is
/// Base64. Returns the MIME type (if given) and the bytes.
pub fn decode_data_uri(s: &str) -> Result<(Option<String>, Vec<u8>), String> {
    let (head, data) = match s.find(',') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => ("", s),
    };
    let mime = head
        .strip_prefix("data:")
        .map(|h| h.split(';').next().unwrap_or("").to_string())
        .filter(|m| !m.is_empty());
    let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(cleaned.trim_end_matches('='))
        })
        .map_err(|e| format!("Invalid base64 content: {e}."))?;
    Ok((mime, bytes))
}

/// The extension of a file name (after the last dot), lower-case; empty if none.
pub fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.contains('/') => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// A MIME type guessed from a file name.
pub fn mime_for(name: &str) -> &'static str {
    match extension(name).as_str() {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// PHP's `!empty($v)` for a value of a decoded JSON body (`$data->massRelate`, …): false for
/// absent, `null`, `false`, `0`, `""`, `"0"` and `[]`.
pub fn php_truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty() && s != "0",
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(_)) => true,
    }
}

/// True for PHP-ish truthy header/query values (`true`, `1`).
pub fn truthy(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.trim().to_ascii_lowercase()).as_deref(),
        Some("true") | Some("1")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(format_ts(0), "1970-01-01 00:00:00");
        assert_eq!(format_ts(1_758_123_564), "2025-09-17 15:39:24");
        assert_eq!(format_ts(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn ids_are_unique_and_shaped() {
        let a = new_id(Generation::V22);
        let b = new_id(Generation::V22);
        assert_ne!(a, b);
        assert_eq!(a.len(), 27);
        let u = new_id(Generation::V23);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "7");
    }

    #[test]
    fn data_uris() {
        assert_eq!(
            decode_data_uri("data:text/plain;base64,MTEx").unwrap(),
            (Some("text/plain".to_string()), b"111".to_vec())
        );
        assert!(decode_data_uri("data:text/plain;base64,@@@").is_err());
    }
}
