//! The HTTP front: the router, faults, authentication and route dispatch to the services.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::admission;
use crate::http::auth::{Auth, Caller};
use crate::http::faults::Fault;
use crate::http::request::Req;
use crate::http::spec_check::{self, Hit};
use crate::model::Generation;
use crate::query::phpqs;
use crate::services::{attributes, file_output, files, jobs, links, lists, mass, records, upsert};
use crate::state::App;
use crate::state::Ctx;
use crate::util::{ApiError, json, truthy};

/// The axum router: one fallback handler that routes by hand (entities come from the spec).
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(axum::middleware::map_response_with_state(
            app.clone(),
            dated,
        ))
        .with_state(app)
}

/// Every answer's `Date` is the simulator's clock (`Clock`), as a web server's is the clock
/// AtroCore stamps records with.
async fn dated(State(app): State<Arc<App>>, mut response: Response) -> Response {
    let date = httpdate::fmt_http_date(app.clock.system_time());
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if !admission::loopback_host(&parts.headers) {
        return ApiError::forbidden(
            "The simulator answers only requests addressed to a loopback name (127.0.0.1, \
             localhost, [::1]).",
        )
        .into_response();
    }
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    if method == Method::GET && path == "/openapi.json" {
        let text = app
            .spec_text
            .get_or_init(|| Bytes::from(app.spec.to_string()))
            .clone();
        return ([("content-type", "application/json")], text).into_response();
    }
    // PHP cuts the query at `max_input_vars` with only a warning in its log: the request goes on
    // with what was parsed so far. One of the variables is the web server's: AtroCore's rewrite
    // sends every request to `index.php?atroq=<path>` with the client's query appended
    // (`copy/public/.htaccess`, `RewriteRule ^(.*)$ index.php?atroq=$1 [L,QSA]`; the nginx
    // configuration of the installation guide does the same with `treoq`), so the client's
    // query keeps `max_input_vars - 1`.
    let (query, cut) = phpqs::parse_str_limited(
        parts.uri.query().unwrap_or(""),
        app.max_input_vars.saturating_sub(1),
    );
    if cut {
        tracing::warn!(
            limit = app.max_input_vars,
            "Input variables exceeded; query string cut"
        );
    }
    if method == Method::GET {
        if let Some(file) = path.strip_prefix("/sharings/") {
            let view = query.iter().any(|(k, v)| k == "view" && truthy(v.as_str()));
            return file_output::public_sharing(&app, &phpqs::urldecode(file), view)
                .unwrap_or_else(IntoResponse::into_response);
        }
        if let Some(file) = path.strip_prefix("/downloads/") {
            return file_output::public_download(&app, &phpqs::urldecode(file))
                .unwrap_or_else(IntoResponse::into_response);
        }
    }
    let base = app.model.generation.api_base();
    let rest = match path.strip_prefix(base) {
        Some(r) if r.is_empty() || r.starts_with('/') => r.to_string(),
        _ => return ApiError::not_found(format!("Page '{path}' not found.")).into_response(),
    };
    app.requests.fetch_add(1, Ordering::Relaxed);
    let latency = app.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match app.faults.next() {
        // (An invalid answer only follows a write: `FaultState::after_write`.)
        Fault::None | Fault::InvalidAnswer => {}
        Fault::Drop => return dropped_connection(),
        Fault::Error => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable (injected)",
            )
            .into_response();
        }
        Fault::Throttle => {
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests (injected)",
            )
            .into_response();
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return r;
        }
    }
    // `OPTIONS` (a CORS preflight) is answered 200 with nothing, before routing and without
    // authentication: `Core/Application.php::runApi` (2.2.31 and 2.3) exits early.
    if method == Method::OPTIONS {
        return StatusCode::OK.into_response();
    }
    // 2.3 routes only GET, POST, PATCH and DELETE (no handler declares another method; updates
    // are PATCH only, `Core/EntityTypeHandlers/UpdateHandler.php`). Any other method is a route
    // failure, which `Core/Middleware/AuthMiddleware.php` lets through unauthenticated to
    // `NotFoundMiddleware`: a 404 with no message, not a 405 (`Core/Factories/HttpPipeline.php`
    // pipes no method-not-allowed stage). HEAD is left to the router.
    if app.model.generation == crate::model::Generation::V23
        && !matches!(
            method,
            Method::GET | Method::POST | Method::PATCH | Method::DELETE | Method::HEAD
        )
    {
        return not_routed().into_response();
    }
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(phpqs::urldecode_path)
        .collect();
    // Credentials before the body: an unauthenticated request is refused without reading what
    // it sends (the full check, with token use counting, is `route`'s). The login route reads
    // no body and counts refused logins itself.
    if !admission::admitted(&app, &parts.headers, &path) {
        // 2.3 routes first: a request no route matches skips authentication
        // (`Core/Middleware/AuthMiddleware.php` hands a route failure on) and ends in
        // `NotFoundMiddleware`: 404 with no message, whatever its credentials.
        if app.model.generation == crate::model::Generation::V23
            && app.check.find(&app.spec, &method, &segs).is_none()
        {
            return not_routed().into_response();
        }
        return unauthorized(app.model.generation, ApiError::unauthorized_default());
    }
    let body = match axum::body::to_bytes(body, app.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The request body is larger than {} bytes (SimConfig::max_body_bytes).",
                    app.max_body_bytes
                ),
            )
            .into_response();
        }
    };
    let req = Req {
        method,
        segs,
        query,
        headers: parts.headers,
        body,
    };
    let spec = app.spec.clone();
    let hit = app.check.find(&spec, &req.method, &req.segs);
    let method = req.method.clone();
    let has_select = req.param_value("select").is_some();
    let resp = match route(&app, req, hit.as_ref()).await {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => unauthorized(app.model.generation, e),
        Err(e) => e.into_response(),
    };
    let is_write = matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if is_write && resp.status().is_success() {
        match app.faults.after_write() {
            Some(Fault::Drop) => return dropped_connection(),
            Some(Fault::InvalidAnswer) if app.model.generation == Generation::V23 => {
                // The message league/openapi-psr7-validator gives a response that does not match
                // (`Core/Http/Validator.php::validateHandlerResponse` → `BadRequest`).
                let route = hit.as_ref().map_or("/", |h| h.template.as_str());
                return ApiError::bad(format!(
                    "Body does not match schema for content-type \"application/json\" for \
                     Response [{} {route} 200], Keyword validation failed: Data must match schema \
                     (injected)",
                    method.as_str().to_ascii_lowercase()
                ))
                .into_response();
            }
            Some(_) => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable (injected after the write)",
                )
                .into_response();
            }
            None => {}
        }
    }
    match hit {
        Some(hit) if app.check.validate_responses && resp.status() == StatusCode::OK => {
            check_response(&app, &spec, &method, &hit, has_select, resp).await
        }
        _ => resp,
    }
}

/// The debug layer: checks a 200 JSON answer against the route's documented schema and replaces
/// it by a 500 naming the route, JSON pointer and reason when it does not match.
async fn check_response(
    app: &App,
    spec: &Value,
    method: &Method,
    hit: &Hit<'_>,
    has_select: bool,
    resp: Response,
) -> Response {
    let is_json = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    let problems = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => app
            .check
            .check_response(app.model.generation, spec, method, hit, has_select, &v),
        Err(e) => vec![format!("{method} {}: not JSON: {e}", hit.template)],
    };
    if problems.is_empty() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "Simulator answer does not match the spec: {}",
            problems.join("; ")
        ),
    )
    .into_response()
}

/// A response whose body fails at once: hyper closes the connection without a complete answer.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection drop",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        "content-length",
        axum::http::HeaderValue::from_static("1048576"),
    );
    // The request log records a dropped connection, not the status it never completed.
    r.extensions_mut().insert(crate::request_log::Dropped);
    r
}

async fn route(app: &Arc<App>, req: Req, hit: Option<&Hit<'_>>) -> Result<Response, ApiError> {
    let g = app.model.generation;
    // The login route checks the failed-login limit before the credentials, and counts the
    // refused ones (see `Auth::check_login_limit`).
    let login = req.method == Method::GET && req.segs == g.login_route();
    if login {
        app.auth.check_login_limit()?;
    }
    let caller = match app.auth.authenticate(&req.headers) {
        Ok(c) => c,
        Err(e) => {
            if login {
                app.auth.note_denied_login();
            }
            return Err(e);
        }
    };
    // Like the real pipeline: routing (404), authentication (401), then validation (400).
    if app.check.validate_requests
        && let Some(hit) = hit
    {
        spec_check::validate_request(g, &app.model, &app.spec, hit, &req)?;
    }
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.clone();
    if login {
        return Ok(token_endpoint(app, &req, &caller));
    }
    let is_metadata = match g {
        Generation::V22 => segs == ["Metadata"],
        Generation::V23 => segs == ["metadata"],
    };
    if is_metadata && m == Method::GET {
        let text = app
            .metadata_text
            .get_or_init(|| Bytes::from(app.model.metadata.to_string()))
            .clone();
        return Ok(([("content-type", "application/json; charset=utf-8")], text).into_response());
    }
    // Routes that download or write files first (the lock is taken only around the database).
    if m == Method::POST && segs == ["File"] {
        return files::create_file(app, &req, &caller).await;
    }
    // Reuploads: new content for an existing File record (2.2 `Resources/routes.json`
    // `/File/action/reupload` (PUT), 2.3 `Handlers/File/FileReuploadHandler.php` (PATCH)).
    if g == Generation::V22 && segs == ["File", "action", "reupload"] && m == Method::PUT {
        return files::reupload(app, &req, &caller, None).await;
    }
    if g == Generation::V23
        && segs.len() == 3
        && segs[0] == "File"
        && segs[2] == "reupload"
        && m == Method::PATCH
    {
        return files::reupload(app, &req, &caller, Some(segs[1])).await;
    }
    if g == Generation::V23 && segs == ["File", "createChunk"] && m == Method::POST {
        return files::create_chunk(app, &req, &caller, req.json()?)
            .await
            .map(|v| json(&v));
    }
    let store = app.store();
    let ctx = Ctx::for_request(app, &store, &caller, &req);
    let is_upsert = match g {
        Generation::V22 => segs == ["MassActions", "action", "upsert"],
        Generation::V23 => segs == ["upsert"],
    };
    if is_upsert {
        if m != Method::POST {
            return Err(method_not_allowed_in(g));
        }
        let body = req.json()?;
        // 2.2: `Use-Queue: true` (or `1`) queues a job (`app/Atro/Controllers/MassActions.php`).
        let queued = req
            .header("use-queue")
            .is_some_and(|h| h == "1" || h.eq_ignore_ascii_case("true"));
        if g == Generation::V22 && queued {
            return upsert::upsert_via_job(&ctx, &body).map(|v| json(&v));
        }
        return upsert::upsert(&ctx, &body).map(|v| json(&v));
    }
    if g == Generation::V23 && segs == ["upsertAsync"] {
        if m != Method::POST {
            return Err(method_not_allowed_in(g));
        }
        return upsert::upsert_via_job(&ctx, &req.json()?).map(|v| json(&v));
    }
    if g == Generation::V23 {
        let mass = match segs.as_slice() {
            ["entityMassUpdate"] => Some((Method::PATCH, true, false)),
            ["entityMassUpdateAsync"] => Some((Method::PATCH, true, true)),
            ["entityMassDelete"] => Some((Method::POST, false, false)),
            ["entityMassDeleteAsync"] => Some((Method::POST, false, true)),
            _ => None,
        };
        if let Some((method, update, run_async)) = mass {
            if m != method {
                return Err(method_not_allowed_in(g));
            }
            return mass::v23(&ctx, update, run_async, &req.json()?).map(|v| json(&v));
        }
    }
    if g == Generation::V23 && segs == ["entityRelation"] {
        return match m {
            Method::GET => links::relation_list(&ctx, &req).map(|v| json(&v)),
            Method::POST => links::relation_link(&ctx, &req.json()?).map(|v| json(&v)),
            Method::DELETE => links::relation_unlink(&ctx, &req).map(|v| json(&v)),
            _ => Err(method_not_allowed_in(g)),
        };
    }
    // A mass action's status (served even when a cut spec has no `Job` entity).
    match (g, segs.as_slice()) {
        (Generation::V22, ["Job", "action", "massActionStatus"]) if m == Method::GET => {
            // 2.2.31 `Controllers/Job.php::actionMassActionStatus`: no `id` is a 400.
            return match req.param("id").filter(|id| !id.is_empty()) {
                Some(id) => jobs::mass_action_status(&ctx, id).map(|v| json(&v)),
                None => Err(ApiError::bad("Bad Request")),
            };
        }
        (Generation::V23, ["Job", id, "massActionStatus"]) if m == Method::GET => {
            // 2.3 `Handlers/Job/MassActionStatusHandler.php`.
            return jobs::mass_action_status(&ctx, id).map(|v| json(&v));
        }
        _ => {}
    }
    let Some(entity) = segs.first().and_then(|n| app.model.entity(n)) else {
        return Err(route_not_found(g, &req.segs));
    };
    match (segs.len(), &m) {
        (1, &Method::GET) => lists::list(&ctx, entity, &req).map(|v| json(&v)),
        (1, &Method::POST) => records::create(&ctx, entity, req.json()?, true).map(|v| json(&v)),
        (2, &Method::GET) => records::read(&ctx, entity, segs[1]).map(|v| json(&v)),
        (2, &Method::PUT) | (2, &Method::PATCH) => {
            records::update(&ctx, entity, segs[1], req.json()?).map(|v| json(&v))
        }
        (2, &Method::DELETE) => {
            records::delete(&ctx, entity, segs[1], truthy(req.header("permanently")))
                .map(|v| json(&v))
        }
        (3, _)
            if entity.has_attributes
                && matches!(
                    segs[2],
                    "attributeValues" | "addAttributes" | "upsertAttributeValues"
                ) =>
        {
            attributes::route(&ctx, entity, segs[1], segs[2], &m, &req)
        }
        (3, &Method::GET)
            if g == Generation::V22
                && entity.name == "ExtensibleEnum"
                && segs[1..] == ["action", "getExtensibleEnumsOptions"] =>
        {
            links::extensible_enums_options(&ctx, &req).map(|v| json(&v))
        }
        (3, &Method::PUT) if g == Generation::V22 && segs[1..] == ["action", "massUpdate"] => {
            mass::v22(&ctx, entity, true, &req.json()?).map(|v| json(&v))
        }
        (3, &Method::POST) if g == Generation::V22 && segs[1..] == ["action", "massDelete"] => {
            mass::v22(&ctx, entity, false, &req.json()?).map(|v| json(&v))
        }
        (3, &Method::POST) if g == Generation::V22 && segs[1..] == ["action", "unlinkAll"] => {
            links::unlink_all(&ctx, entity, &req.json()?).map(|v| json(&v))
        }
        (3, &Method::POST) if entity.name == "File" && segs[2] == "createSharedUrl" => {
            files::create_shared_url(&ctx, segs[1]).map(|v| json(&v))
        }
        // 2.3 has no per-entity link routes: its pipeline (`Core/Factories/HttpPipeline.php`)
        // routes only the compiled handlers, and `/entityRelation` is the one for links; the
        // rest falls to `NotFoundMiddleware`.
        (3, &Method::GET | &Method::POST | &Method::DELETE) if g == Generation::V23 => {
            Err(not_routed())
        }
        (3, &Method::GET) => {
            links::linked_list(&ctx, entity, segs[1], segs[2], &req).map(|v| json(&v))
        }
        (3, &Method::POST) => {
            links::link(&ctx, entity, segs[1], segs[2], &req.json()?).map(|v| json(&v))
        }
        (3, &Method::DELETE) => {
            links::unlink(&ctx, entity, segs[1], segs[2], &req).map(|v| json(&v))
        }
        (1..=3, _) => Err(method_not_allowed_in(g)),
        _ => Err(route_not_found(g, &req.segs)),
    }
}

/// No route takes the path: 2.2's router names it; 2.3's pipeline ends in
/// `NotFoundMiddleware` (see [`not_routed`]), authenticated or not.
fn route_not_found(g: crate::model::Generation, segs: &[String]) -> ApiError {
    match g {
        crate::model::Generation::V22 => {
            ApiError::not_found(format!("Route '{}' not found.", segs.join("/")))
        }
        crate::model::Generation::V23 => not_routed(),
    }
}

/// A known path with a method it does not take: 2.2 answers 405; on 2.3 it is a route failure
/// like any other (see [`not_routed`]).
fn method_not_allowed_in(g: crate::model::Generation) -> ApiError {
    match g {
        crate::model::Generation::V22 => {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
        }
        crate::model::Generation::V23 => not_routed(),
    }
}

/// 2.3's answer to a request no route takes: `Core/Middleware/NotFoundMiddleware.php` throws a
/// `NotFound` without a message, which `ErrorHandlerMiddleware` turns into a 404 with an empty
/// body and reason.
fn not_routed() -> ApiError {
    ApiError::not_found("")
}

fn token_endpoint(app: &App, req: &Req, caller: &Caller) -> Response {
    let lifetime = req
        .header("authorization-token-lifetime")
        .and_then(|h| h.trim().parse::<u64>().ok());
    let token = app.auth.issue(caller, lifetime);
    let header_value = Auth::header_value(caller, &token);
    if truthy(req.header("authorization-token-only")) {
        return json(&json!({ "authorizationToken": header_value }));
    }
    let u = &caller.user;
    json(&json!({
        "authorizationToken": header_value,
        "token": token,
        "user": {
            "id": caller.user_id,
            "userName": u.user_name,
            "name": u.user_name,
            "isAdmin": u.is_admin,
            "isActive": true,
            "type": if u.is_admin { "Admin" } else { "Regular" },
            "token": token,
        },
        "acl": { "table": {} },
        "preferences": {},
        "settings": {},
        "appParams": {},
    }))
}

/// A refused authentication. 2.3 answers `Core/Http/Response/ErrorResponse.php`'s `401
/// Unauthorized` (text/html, the message as body and `X-Status-Reason`); 2.2 a bare `401` with
/// an empty body and no reason (atrocore-legacy `Api\Auth::processUnauthorized`; last in-tree
/// copy `app/Espo/Core/Utils/Api/Auth.php` before commit `b33a0dffc`).
fn unauthorized(g: Generation, e: ApiError) -> Response {
    match g {
        Generation::V22 => StatusCode::UNAUTHORIZED.into_response(),
        Generation::V23 => e.into_response(),
    }
}
