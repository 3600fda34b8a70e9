//! Which requests the simulator reads at all: addressed to a loopback name, with credentials it
//! knows (or to the login route). Checked before a body is read, by the router and by the
//! request log's layer.

use crate::state::App;

/// Whether the request is addressed to a loopback name (`127.0.0.1`, `localhost`, `[::1]`, any
/// port). The simulator listens on loopback with well-known demo users: a page in a browser must
/// not reach it through a DNS name rebound to 127.0.0.1, whose requests carry that name.
pub(crate) fn loopback_host(headers: &axum::http::HeaderMap) -> bool {
    let Some(host) = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the router reads this request's body: it is addressed to a loopback name, and it is
/// the login route (no body) or carries credentials the server knows. Anything else is refused
/// before its body is read.
pub(crate) fn admitted(app: &App, headers: &axum::http::HeaderMap, path: &str) -> bool {
    let g = app.model.generation;
    let is_login = path
        .strip_prefix(g.api_base())
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| rest.split('/').eq(g.login_route().iter().copied()));
    loopback_host(headers) && (is_login || app.auth.recognizes(headers))
}
