//! Files: upload by Base64 data URI, by URL, or by chunks; downloads; Sharing links served publicly.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::app::{App, Ctx, Req};
use crate::auth::Caller;
use crate::model::Entity;
use crate::records::{self, create_record};
use crate::store::Record;
use crate::util::{
    ApiError, content_hash, decode_data_uri, extension, format_ts, json, mime_for, now_ts, truthy,
    unix_now,
};

const UPLOAD_KEYS: &[&str] = &[
    "fileContents",
    "url",
    "piece",
    "piecesCount",
    "start",
    "fileUniqueHash",
    "share",
    "reupload",
];

fn file_entity(app: &App) -> Result<&Entity, ApiError> {
    app.model
        .entity("File")
        .ok_or_else(|| ApiError::not_found("The spec has no 'File' entity."))
}

fn body_object(v: Value) -> Result<Map<String, Value>, ApiError> {
    match v {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::bad("Request body must be a JSON object.")),
    }
}

fn check_name(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        _ => Err(ApiError::bad("Validation failed. 'Name' is required.")),
    }
}

/// `POST /File`: Base64 content, URL download, or (when `piecesCount` is present) one chunk.
pub async fn create_file(app: &Arc<App>, req: &Req, caller: &Caller) -> Result<Response, ApiError> {
    let mut body = body_object(req.json()?)?;
    let ctx_flags = (
        truthy(req.header("with-meta")),
        truthy(req.header("flatten-attributes")),
    );
    if body.contains_key("piecesCount") {
        let store = app.store();
        let ctx = Ctx {
            app,
            store: &store,
            caller,
            with_meta: ctx_flags.0,
            flatten: ctx_flags.1,
        };
        return create_chunk(&ctx, &Value::Object(body)).map(|v| json(&v));
    }
    let (bytes, mime) = if let Some(contents) = body.get("fileContents").and_then(Value::as_str) {
        let (mime, bytes) = decode_data_uri(contents).map_err(ApiError::bad)?;
        (bytes, mime)
    } else if let Some(url) = body.get("url").and_then(Value::as_str).map(str::to_string) {
        if !body.contains_key("name") {
            let base = url
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            body.insert("name".into(), Value::String(base));
        }
        check_name(&body)?;
        let resp = app
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| ApiError::bad(format!("Cannot download '{url}': {e}.")))?;
        if !resp.status().is_success() {
            return Err(ApiError::bad(format!(
                "Cannot download '{url}': HTTP {}.",
                resp.status()
            )));
        }
        let mime = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or("").trim().to_string());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::bad(format!("Cannot download '{url}': {e}.")))?;
        (bytes.to_vec(), mime)
    } else {
        return Err(ApiError::bad(
            "Either 'fileContents', 'url' or chunk fields are required.",
        ));
    };
    let store = app.store();
    let ctx = Ctx {
        app,
        store: &store,
        caller,
        with_meta: ctx_flags.0,
        flatten: ctx_flags.1,
    };
    store_new_file(&ctx, body, &bytes, mime).map(|v| json(&v))
}

fn store_new_file(
    ctx: &Ctx,
    mut body: Map<String, Value>,
    bytes: &[u8],
    mime: Option<String>,
) -> Result<Value, ApiError> {
    let e = file_entity(ctx.app)?;
    check_name(&body)?;
    let share = body
        .get("share")
        .is_some_and(|v| v == &Value::Bool(true) || v == "true" || v == &json!(1));
    for k in UPLOAD_KEYS {
        body.remove(*k);
    }
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mime = mime
        .filter(|m| !m.is_empty() && m != "application/octet-stream")
        .unwrap_or_else(|| mime_for(&name).to_string());
    let mut over = Record::new();
    let mut set = |k: &str, v: Value| {
        if e.field(k).is_some() {
            over.insert(k.to_string(), v);
        }
    };
    set("mimeType", json!(mime));
    set("fileSize", json!(bytes.len()));
    set("hash", json!(content_hash(bytes)));
    set("fileMtime", json!(now_ts()));
    let id = create_record(ctx, e, body, over, true)?;
    ctx.store.put_blob(&id, bytes)?;
    let mut out = records::read(ctx, e, &id)?;
    if share {
        out["sharedUrl"] = json!(share_file(ctx, &id)?);
    }
    Ok(out)
}

/// One chunk (2.2 `POST /File` with `piecesCount`, 2.3 `POST /File/createChunk`).
pub fn create_chunk(ctx: &Ctx, body: &Value) -> Result<Value, ApiError> {
    let e = file_entity(ctx.app)?;
    let body = body_object(body.clone())?;
    let id = match body.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ApiError::bad("'id' is required for chunk uploads.")),
    };
    let pieces = body
        .get("piecesCount")
        .ok_or_else(|| ApiError::bad("'piecesCount' is required for chunk uploads."))?
        .clone();
    ctx.check_write("File", "create")?;
    check_name(&body)?;
    for r in &e.required {
        if r != "name" && body.get(r).is_none_or(Value::is_null) {
            return Err(ApiError::bad(format!(
                "Validation failed. '{r}' is required."
            )));
        }
    }
    let start = match body.get("start") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s| *s >= 0)
    .ok_or_else(|| ApiError::bad("'start' must be a non-negative integer."))?;
    let piece = body
        .get("piece")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("'piece' is required for chunk uploads."))?;
    let (_, bytes) = decode_data_uri(piece).map_err(ApiError::bad)?;
    let key = match body.get("fileUniqueHash") {
        Some(Value::String(h)) if !h.is_empty() => format!("{id}/{h}"),
        Some(Value::Number(h)) => format!("{id}/{h}"),
        _ => id.clone(),
    };
    let starts = ctx.store.put_chunk(&key, start, &bytes)?;
    let chunks: Vec<Value> = starts
        .iter()
        .map(|s| Value::String(s.to_string()))
        .collect();
    if ctx.store.get(e, &id)?.is_some() {
        return Ok(json!({ "created": true, "chunks": chunks }));
    }
    let complete = pieces.as_u64().is_some_and(|n| n == starts.len() as u64) && pieces.is_u64();
    if !complete {
        return Ok(json!({ "chunks": chunks }));
    }
    let all = ctx.store.take_chunks(&key)?;
    let mut out = store_new_file(ctx, body, &all, None)?;
    out["chunks"] = Value::Array(chunks);
    Ok(out)
}

fn sharing_entity<'m>(ctx: &Ctx<'m>) -> Result<&'m Entity, ApiError> {
    ctx.app
        .model
        .entity("Sharing")
        .ok_or_else(|| ApiError::not_found("The spec has no 'Sharing' entity."))
}

fn share_file(ctx: &Ctx, file_id: &str) -> Result<String, ApiError> {
    let se = sharing_entity(ctx)?;
    let mut body = Map::new();
    body.insert("fileId".into(), json!(file_id));
    body.insert("active".into(), json!(true));
    let sid = create_record(ctx, se, body, Record::new(), false)?;
    let out = records::read(ctx, se, &sid)?;
    Ok(out
        .get("link")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

/// `POST /File/{id}/createSharedUrl` (2.3): `{sharedUrl}`.
pub fn create_shared_url(ctx: &Ctx, file_id: &str) -> Result<Value, ApiError> {
    let e = file_entity(ctx.app)?;
    if ctx.store.get(e, file_id)?.is_none() {
        return Err(ApiError::not_found(format!("File '{file_id}' not found.")));
    }
    Ok(json!({ "sharedUrl": share_file(ctx, file_id)? }))
}

fn download_url(root: &str, id: &str, name: &str) -> String {
    format!("{root}/downloads/{id}.{}", extension(name))
}

/// Adds the derived fields of File and Sharing records to an output record.
pub fn decorate(ctx: &Ctx, e: &Entity, out: &mut Map<String, Value>) -> Result<(), ApiError> {
    let root = &ctx.app.root;
    let id = out
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match e.name.as_str() {
        "File" => {
            let name = out
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let url = download_url(root, &id, &name);
            out.insert("extension".into(), json!(extension(&name)));
            out.insert("downloadUrl".into(), json!(url));
            out.insert("url".into(), json!(url));
        }
        "Sharing" => {
            let fe = file_entity(ctx.app)?;
            let file = match out.get("fileId").and_then(Value::as_str) {
                Some(fid) => ctx.store.get(fe, fid)?,
                None => None,
            };
            let fname = file
                .as_ref()
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let link = format!("{root}/sharings/{id}.{}", extension(&fname));
            out.insert("available".into(), json!(available(out)));
            out.insert("viewLink".into(), json!(format!("{link}?view=1")));
            out.insert("link".into(), json!(link));
            out.insert(
                "fileName".into(),
                if file.is_some() {
                    json!(fname)
                } else {
                    Value::Null
                },
            );
            let fid = out
                .get("fileId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            out.insert(
                "filePathsData".into(),
                json!({
                    "download": download_url(root, &fid, &fname),
                    "thumbnails": { "small": null, "medium": null, "large": null },
                }),
            );
        }
        _ => {}
    }
    Ok(())
}

fn available(s: &Map<String, Value>) -> bool {
    if s.get("active") == Some(&Value::Bool(false)) {
        return false;
    }
    if let Some(till) = s.get("validTill").and_then(Value::as_str)
        && !till.is_empty()
        && till < format_ts(unix_now()).as_str()
    {
        return false;
    }
    let allowed = s.get("allowedUsage").and_then(Value::as_i64).unwrap_or(0);
    let used = s.get("used").and_then(Value::as_i64).unwrap_or(0);
    allowed <= 0 || used < allowed
}

fn bytes_response(bytes: Vec<u8>, mime: &str, name: &str, inline: bool) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert("content-type", v);
    }
    let disp = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        name.replace(['"', '\\', '\r', '\n'], "_")
    );
    if let Ok(v) = HeaderValue::from_str(&disp) {
        h.insert("content-disposition", v);
    }
    r
}

fn file_bytes(
    app: &App,
    store: &crate::store::Store,
    file_id: &str,
) -> Result<(Vec<u8>, String, String), ApiError> {
    let fe = file_entity(app)?;
    let rec = store
        .get(fe, file_id)?
        .ok_or_else(|| ApiError::not_found("File not found."))?;
    let bytes = store
        .blob(file_id)?
        .ok_or_else(|| ApiError::not_found("File content not found."))?;
    let name = rec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("file")
        .to_string();
    let mime = rec
        .get("mimeType")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| mime_for(&name).to_string());
    Ok((bytes, mime, name))
}

/// `GET /downloads/{id}.{ext}`: the stored bytes of a file.
pub fn public_download(app: &App, file: &str) -> Result<Response, ApiError> {
    let id = file.split('.').next().unwrap_or_default();
    let store = app.store();
    let (bytes, mime, name) = file_bytes(app, &store, id)?;
    Ok(bytes_response(bytes, &mime, &name, false))
}

/// `GET /sharings/{id}.{ext}`: the shared file, while the Sharing is available; counts the use.
pub fn public_sharing(app: &App, file: &str, view: bool) -> Result<Response, ApiError> {
    let id = file.split('.').next().unwrap_or_default();
    let store = app.store();
    let se = app
        .model
        .entity("Sharing")
        .ok_or_else(|| ApiError::not_found("Sharing not found."))?;
    let s = store
        .get(se, id)?
        .ok_or_else(|| ApiError::not_found("Sharing not found."))?;
    if !available(&s) {
        return Err(ApiError::not_found("Sharing not found."));
    }
    let fid = s
        .get("fileId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (bytes, mime, name) = file_bytes(app, &store, &fid)?;
    let mut upd = Record::new();
    upd.insert(
        "used".into(),
        json!(s.get("used").and_then(Value::as_i64).unwrap_or(0) + 1),
    );
    store.update(se, id, &upd)?;
    Ok(bytes_response(bytes, &mime, &name, view))
}
