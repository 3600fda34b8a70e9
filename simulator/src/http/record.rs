//! The layer that fills the request log (`request_log.rs`): every request the router sees, with
//! its outcome.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::request_log::{Dropped, LoggedBody, entry_of, logged_body};
use crate::state::App;

/// The axum layer: logs each request with its outcome, then hands it on unchanged.
pub(crate) async fn record(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    // What the router refuses before reading a body is passed on unread (see
    // `http::admission::admitted`); the rest is read up to the router's own limit.
    let (bytes, logged) =
        if crate::http::admission::admitted(&app, &parts.headers, parts.uri.path()) {
            match axum::body::to_bytes(body, app.max_body_bytes).await {
                Ok(b) => {
                    let logged = logged_body(&b);
                    (Body::from(b), logged)
                }
                Err(_) => {
                    let mut entry = entry_of(&parts, LoggedBody::Unread);
                    let response = crate::util::ApiError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "The request body is larger than {} bytes (SimConfig::max_body_bytes).",
                            app.max_body_bytes
                        ),
                    )
                    .into_response();
                    entry.status = Some(response.status().as_u16());
                    app.request_log.push(entry);
                    return response;
                }
            }
        } else {
            (body, LoggedBody::Unread)
        };
    let mut entry = entry_of(&parts, logged);
    let response = next.run(Request::from_parts(parts, bytes)).await;
    if response.extensions().get::<Dropped>().is_none() {
        entry.status = Some(response.status().as_u16());
    }
    app.request_log.push(entry);
    response
}
