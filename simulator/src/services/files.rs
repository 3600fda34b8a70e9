//! Files: upload by Base64 data URI, by URL, or by chunks; downloads; Sharing links served publicly.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::file_store::{Content, FileDir};
use crate::http::auth::Caller;
use crate::http::request::Req;
use crate::model::Entity;
use crate::services::file_output::{self, file_entity};
use crate::services::records::{self, create_record};
use crate::state::{App, Ctx};
use crate::store::{Record, StoreError};
use crate::util::{ApiError, decode_data_uri, json, mime_for};

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

/// Runs `f` on the file folder in a blocking thread (file I/O, never under the database lock).
async fn on_files<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&FileDir) -> std::io::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let files = app.files.clone();
    tokio::task::spawn_blocking(move || f(&files))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("file storage task failed: {e}"),
            )
        })?
        .map_err(|e| StoreError::from(e).into())
}

/// `POST /File`: Base64 content, URL download, or (when `piecesCount` is present) one chunk.
pub async fn create_file(app: &Arc<App>, req: &Req, caller: &Caller) -> Result<Response, ApiError> {
    let body = body_object(req.json()?)?;
    upload(app, req, caller, body, None).await
}

/// A reupload: new content for the File record `reupload` names (2.2
/// `PUT /File/action/reupload`, body `{reupload, fileContents | url | piece…}`; 2.3
/// `PATCH /File/{id}/reupload`, `Handlers/File/FileReuploadHandler.php`). Both go through the
/// service's `createEntity` with `reupload` set, so Base64, URL and chunks all work
/// (`Services/File.php::createFileEntity`: the record is updated, not created, 2.2.31 and
/// 2.3.13). No `reupload` is a 400; the File scope's `edit` right is checked
/// (`Controllers/File.php::actionReupload`, 2.3 `Services/File.php::reuploadEntity`); an
/// unknown id is the update's 404.
pub async fn reupload(
    app: &Arc<App>,
    req: &Req,
    caller: &Caller,
    id: Option<&str>,
) -> Result<Response, ApiError> {
    let mut body = body_object(req.json()?)?;
    if let Some(id) = id {
        body.insert("reupload".into(), Value::String(id.to_owned()));
    }
    let target = match body.get("reupload") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ApiError::bad("Bad Request")),
    };
    {
        let store = app.store();
        let ctx = Ctx::for_request(app, &store, caller, req);
        ctx.check_scope("File", crate::roles::Action::Edit)?;
    }
    upload(app, req, caller, body, Some(target)).await
}

/// An upload of new content: a new File record, or the content of `replace`.
async fn upload(
    app: &Arc<App>,
    req: &Req,
    caller: &Caller,
    mut body: Map<String, Value>,
    replace: Option<String>,
) -> Result<Response, ApiError> {
    if body.contains_key("piecesCount") {
        return create_chunk(app, req, caller, Value::Object(body))
            .await
            .map(|v| json(&v));
    }
    let (bytes, mime) = if let Some(contents) = body.get("fileContents").and_then(Value::as_str) {
        let (mime, bytes) = decode_data_uri(contents).map_err(ApiError::bad)?;
        (bytes, mime)
    } else if let Some(url) = body.get("url").and_then(Value::as_str).map(str::to_string) {
        if !body.contains_key("name") && replace.is_none() {
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
        if replace.is_none() {
            check_name(&body)?;
        }
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
    // The content is written first, outside the lock; the record only once it is complete.
    let content = on_files(app, move |files| files.content_from(&bytes)).await?;
    let store = app.store();
    let ctx = Ctx::for_request(app, &store, caller, req);
    match replace {
        Some(id) => store_replaced_file(&ctx, &id, body, content, mime).map(|v| json(&v)),
        None => store_new_file(&ctx, body, content, mime).map(|v| json(&v)),
    }
}

/// The content, type, size and hash of `content` (written whole) for the File record `id`,
/// with the other fields of `body` (a new `name`, …) updated as an update would: in one
/// transaction, the old content removed after it; the record as read back is the answer.
fn store_replaced_file(
    ctx: &Ctx,
    id: &str,
    mut body: Map<String, Value>,
    content: Content,
    mime: Option<String>,
) -> Result<Value, ApiError> {
    let e = file_entity(ctx.app)?;
    let existing = records::fetch(ctx, e, id)?;
    for k in UPLOAD_KEYS {
        body.remove(*k);
    }
    body.remove("id");
    let name = body
        .get("name")
        .or_else(|| existing.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let tx = ctx
        .store
        .conn()
        .unchecked_transaction()
        .map_err(StoreError::from)?;
    let (id, _) = records::update_record(ctx, e, id, body)?;
    let mut over = content_fields(ctx, e, &name, mime, &content);
    if e.field("modifiedAt").is_some() {
        over.insert("modifiedAt".into(), json!(ctx.now_ts()));
    }
    ctx.store.update(e, &id, &over)?;
    let replaced = ctx.store.set_content(&id, &content)?;
    tx.commit().map_err(StoreError::from)?;
    content.keep();
    if let Some(old) = replaced {
        ctx.app.files.remove_content(&old);
    }
    records::read_unchecked(ctx, e, &id)
}

/// The fields a File record takes from its content: type (the one sent, else from the name),
/// size, MD5 hash and time (those the entity has).
fn content_fields(
    ctx: &Ctx,
    e: &Entity,
    name: &str,
    mime: Option<String>,
    content: &Content,
) -> Record {
    let mime = mime
        .filter(|m| !m.is_empty() && m != "application/octet-stream")
        .unwrap_or_else(|| mime_for(name).to_string());
    [
        ("mimeType", json!(mime)),
        ("fileSize", json!(content.size)),
        ("hash", json!(content.md5)),
        ("fileMtime", json!(ctx.now_ts())),
    ]
    .into_iter()
    .filter(|(k, _)| e.field(k).is_some())
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Creates the File record of `content` (already written whole): the record and the name of
/// its content in one transaction, so that there is never a record without its content; when
/// the record is refused, the transaction rolls back and dropping `content` removes its file.
fn store_new_file(
    ctx: &Ctx,
    mut body: Map<String, Value>,
    content: Content,
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
    let over = content_fields(ctx, e, &name, mime, &content);
    let tx = ctx
        .store
        .conn()
        .unchecked_transaction()
        .map_err(StoreError::from)?;
    let id = create_record(ctx, e, body, over, true)?;
    let replaced = ctx.store.set_content(&id, &content)?;
    tx.commit().map_err(StoreError::from)?;
    content.keep();
    if let Some(old) = replaced {
        ctx.app.files.remove_content(&old);
    }
    let mut out = records::read_unchecked(ctx, e, &id)?;
    if share {
        out["sharedUrl"] = json!(share_file(ctx, &id)?);
    }
    Ok(out)
}

/// One chunk (2.2 `POST /File` with `piecesCount`, 2.3 `POST /File/createChunk`). The chunk is
/// written to its own file without the database's lock, like `LocalStorage::createChunk`; the
/// chunk that completes the set claims the chunks (under the lock), assembles them into the
/// content file by streaming, and only then creates the record.
pub async fn create_chunk(
    app: &Arc<App>,
    req: &Req,
    caller: &Caller,
    body: Value,
) -> Result<Value, ApiError> {
    let e = file_entity(app)?;
    let body = body_object(body)?;
    // A chunk of a reupload (`reupload` names the record whose content it replaces, 2.3
    // `Handlers/File/FileChunkHandler.php`; 2.2 through `PUT /File/action/reupload`).
    let replace = match body.get("reupload") {
        Some(Value::String(r)) if !r.is_empty() => Some(r.clone()),
        _ => None,
    };
    let id = match body.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ApiError::bad("'id' is required for chunk uploads.")),
    };
    let pieces = body
        .get("piecesCount")
        .ok_or_else(|| ApiError::bad("'piecesCount' is required for chunk uploads."))?
        .clone();
    {
        let store = app.store();
        let ctx = Ctx::for_request(app, &store, caller, req);
        match &replace {
            Some(target) => {
                ctx.check_scope("File", crate::roles::Action::Edit)?;
                records::fetch(&ctx, e, target)?;
            }
            None => ctx.check_scope("File", crate::roles::Action::Create)?,
        }
        check_name(&body)?;
        for r in &e.required {
            if r != "name" && body.get(r).is_none_or(Value::is_null) {
                return Err(ApiError::bad(format!(
                    "Validation failed. '{r}' is required."
                )));
            }
        }
        // Every chunk checks the name (`Services/File.php` createEntity 2.2 / createChunk 2.3):
        // with folder-syncing storage a chunk sent after its file was completed is a 400 here.
        file_output::validate_item_name(
            &ctx,
            e,
            body.get("name").and_then(Value::as_str).unwrap_or_default(),
            body.get("folderId").and_then(Value::as_str),
            replace.as_deref(),
        )?;
    }
    let start = match body.get("start") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
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
    let chunk_key = key.clone();
    let starts = on_files(app, move |files| files.put_chunk(&chunk_key, start, &bytes)).await?;
    let chunks: Vec<Value> = starts
        .iter()
        .map(|s| Value::String(s.to_string()))
        .collect();
    // Complete when the number of stored chunks equals `piecesCount` (compared strictly: a JSON
    // integer). A chunk resent after completion lands in a fresh chunk folder (the old one was
    // removed with the assembled file).
    let complete = pieces.as_u64().is_some_and(|n| n == starts.len() as u64) && pieces.is_u64();
    if !complete {
        return Ok(json!({ "chunks": chunks }));
    }
    let claimed = {
        let store = app.store();
        if replace.is_none() && store.get(e, &id)?.is_some() {
            // The record exists (a completing chunk sent twice): creating it again violates the
            // primary key, which AtroCore answers with a database error.
            app.files.drop_chunks(&key).map_err(StoreError::from)?;
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "SQLSTATE[23505]: Unique violation: duplicate key value (id)=({id}) already exists"
                ),
            ));
        }
        app.files.claim_chunks(&key).map_err(StoreError::from)?
    };
    // Another chunk completed the set at the same time and creates the file: AtroCore's second
    // completion fails with NotUnique, answered `{created: true}` with the chunks
    // (`Services/File.php` 2.2.31 createEntity: `catch (NotUnique $e) { $result['created'] =
    // true; }`). The same when the record appeared between the claim and the insert.
    let created = json!({ "created": true, "chunks": chunks });
    let Some(claimed) = claimed else {
        return Ok(created);
    };
    let content = on_files(app, move |files| files.assemble(claimed)).await?;
    let store = app.store();
    let ctx = Ctx::for_request(app, &store, caller, req);
    if let Some(target) = &replace {
        let mut out = store_replaced_file(&ctx, target, body, content, None)?;
        out["chunks"] = Value::Array(chunks);
        return Ok(out);
    }
    match store_new_file(&ctx, body, content, None) {
        Ok(mut out) => {
            out["chunks"] = Value::Array(chunks);
            Ok(out)
        }
        Err(_) if store.get(e, &id)?.is_some() => Ok(created),
        Err(err) => Err(err),
    }
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
    let out = records::read_unchecked(ctx, se, &sid)?;
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
