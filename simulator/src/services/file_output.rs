//! How File and Sharing records look from outside: derived fields, downloads, sharing links.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value, json};

use crate::model::Entity;
use crate::state::App;
use crate::state::Ctx;
use crate::store::{Record, StoreError, StoredContent};
use crate::util::{ApiError, extension, format_ts, mime_for};

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
            out.insert(
                "available".into(),
                json!(available(out, ctx.app.clock.now())),
            );
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

fn available(s: &Map<String, Value>, now: i64) -> bool {
    if s.get("active") == Some(&Value::Bool(false)) {
        return false;
    }
    if let Some(till) = s.get("validTill").and_then(Value::as_str)
        && !till.is_empty()
        && till < format_ts(now).as_str()
    {
        return false;
    }
    let allowed = s.get("allowedUsage").and_then(Value::as_i64).unwrap_or(0);
    let used = s.get("used").and_then(Value::as_i64).unwrap_or(0);
    allowed <= 0 || used < allowed
}

/// A file's content as an answer: from memory, or streamed from its file on disk in pieces (a
/// download of a large file never holds it whole).
fn content_response(
    content: StoredContent,
    mime: &str,
    name: &str,
    inline: bool,
) -> Result<Response, ApiError> {
    let mut r = match content {
        StoredContent::Bytes(bytes) => (StatusCode::OK, bytes).into_response(),
        StoredContent::File(path) => {
            let file = std::fs::File::open(&path).map_err(StoreError::from)?;
            let len = file.metadata().map_err(StoreError::from)?.len();
            let pieces = futures_util::stream::unfold(
                Some(tokio::fs::File::from_std(file)),
                |file| async move {
                    use tokio::io::AsyncReadExt as _;
                    let mut file = file?;
                    let mut buf = vec![0u8; 256 * 1024];
                    match file.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(axum::body::Bytes::from(buf)), Some(file)))
                        }
                        Err(e) => Some((Err(e), None)),
                    }
                },
            );
            let mut r = (StatusCode::OK, axum::body::Body::from_stream(pieces)).into_response();
            r.headers_mut()
                .insert("content-length", HeaderValue::from(len));
            r
        }
    };
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
    Ok(r)
}

fn file_bytes(
    app: &App,
    store: &crate::store::Store,
    file_id: &str,
) -> Result<(StoredContent, String, String), ApiError> {
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
    content_response(bytes, &mime, &name, false)
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
    if !available(&s, app.clock.now()) {
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
    content_response(bytes, &mime, &name, view)
}

pub(crate) fn file_entity(app: &App) -> Result<&Entity, ApiError> {
    app.model
        .entity("File")
        .ok_or_else(|| ApiError::not_found("The spec has no 'File' entity."))
}

/// `Repositories/File.php::validateItemName` (2.2.31 and 2.3.16, called from `beforeSave` and on
/// every chunk by `Services/File.php`): a file name is unique in its folder (the root folder
/// counts as one), among records not deleted. AtroCore checks it in its folder-link table, which
/// only storages that sync folders (or are not local) write: on the default local storage
/// nothing is checked, so the simulator checks only with [`crate::SimConfig::unique_file_names`].
pub(crate) fn validate_item_name(
    ctx: &Ctx,
    e: &Entity,
    name: &str,
    folder_id: Option<&str>,
    self_id: Option<&str>,
) -> Result<(), ApiError> {
    if !ctx.app.unique_file_names || e.field("name").is_none() {
        return Ok(());
    }
    let folder_col = if e.field("folderId").is_some() {
        "COALESCE(t.\"folderId\", '')"
    } else {
        "''"
    };
    let n = ctx.store.count(
        e,
        &format!(
            "t.\"name\" = ? AND {folder_col} = ? AND t.\"id\" <> ? AND COALESCE(t.\"deleted\", 0) = 0"
        ),
        vec![
            SqlValue::Text(name.to_string()),
            SqlValue::Text(folder_id.unwrap_or_default().to_string()),
            SqlValue::Text(self_id.unwrap_or_default().to_string()),
        ],
    )?;
    if n > 0 {
        let folder = folder_id.map_or("the root folder".to_string(), |f| format!("folder '{f}'"));
        return Err(ApiError::bad(format!(
            "A file or folder named '{name}' already exists in {folder}: choose another name or folder."
        )));
    }
    Ok(())
}
