//! What an upload does when its folder already holds a file of the same name.
//!
//! AtroCore makes file names unique per folder only on storages that keep folder links (a
//! storage syncing folders, or one that is not local): there a second file of the same name is a
//! `400` on create and on every chunk (`app/Atro/Repositories/File.php::validateItemName`). On
//! the default local storage nothing is checked and duplicates pile up. So the runtime looks
//! before it uploads, and applies one [`NameConflict`] policy whatever the storage does.

use reqwest::Method;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::filter::{Condition, Where};

/// What an upload does when a file of the same name is already in the target folder (see
/// [`FileUpload::on_name_conflict`](crate::FileUpload::on_name_conflict)). Names are compared
/// without regard to case, as a case-insensitive database would.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NameConflict {
    /// Fail with an [`ErrorKind::Conflict`] error that names the file and the folder; nothing is
    /// uploaded (the default).
    #[default]
    Fail,
    /// Upload nothing and return the existing file.
    Reuse,
    /// Upload under the first free name `stem (1).ext`, `stem (2).ext`, …
    Rename,
}

/// What to do about the name: upload under this name, or return this existing record.
pub(crate) enum NameDecision {
    Upload(String),
    Existing(Value),
}

/// The files in `folder` (the root when `None`) whose names start with `prefix` (without regard
/// to case), at most `max`.
async fn files_like(
    client: &Client,
    prefix: &str,
    folder: Option<&str>,
    max: u64,
) -> Result<Vec<Value>> {
    let folder = match folder {
        Some(f) => Condition::new("equals").attribute("folderId").value(f),
        None => Condition::new("isNull").attribute("folderId"),
    };
    let w = Where::from(vec![
        Condition::new("startsWith").attribute("name").value(prefix),
        folder,
    ]);
    let page: Value = client
        .request(Method::GET, "/File")
        .filter("where", &w)
        .query("select", "id,name,folderId")
        .query("maxSize", max)
        .send_json()
        .await?;
    Ok(page
        .get("list")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

fn name_of(record: &Value) -> &str {
    record
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `stem (n).ext` for `name`.
fn numbered(name: &str, n: u32) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Applies `policy` to an upload of `name` into `folder`.
pub(crate) async fn decide(
    client: &Client,
    policy: NameConflict,
    name: &str,
    folder: Option<&str>,
) -> Result<NameDecision> {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let prefix = if policy == NameConflict::Rename {
        stem
    } else {
        name
    };
    let found = files_like(client, prefix, folder, 1000).await?;
    let taken = |n: &str| found.iter().any(|r| name_of(r).eq_ignore_ascii_case(n));
    let Some(existing) = found.iter().find(|r| name_of(r).eq_ignore_ascii_case(name)) else {
        return Ok(NameDecision::Upload(name.to_owned()));
    };
    match policy {
        NameConflict::Reuse => {
            let id = existing
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let record: Value = client
                .request(
                    Method::GET,
                    format!("/File/{}", crate::encode_path_segment(id)),
                )
                .send_json()
                .await?;
            Ok(NameDecision::Existing(record))
        }
        NameConflict::Rename => (1..=1000)
            .map(|n| numbered(name, n))
            .find(|candidate| !taken(candidate))
            .map(NameDecision::Upload)
            .ok_or_else(|| conflict(name, folder, existing)),
        NameConflict::Fail => Err(conflict(name, folder, existing)),
    }
}

fn conflict(name: &str, folder: Option<&str>, existing: &Value) -> Error {
    let id = existing.get("id").and_then(Value::as_str).unwrap_or("?");
    let folder = folder.map_or("the root folder".to_owned(), |f| format!("folder `{f}`"));
    Error::new(ErrorKind::Conflict).with_message(format!(
        "a file named `{name}` already exists in {folder} (File `{id}`); upload with \
         NameConflict::Reuse or NameConflict::Rename, or choose another name"
    ))
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("photo.jpg", 1), "photo (1).jpg");
        assert_eq!(numbered("archive.tar.gz", 2), "archive.tar (2).gz");
        assert_eq!(numbered("README", 3), "README (3)");
        assert_eq!(numbered(".env", 1), ".env (1)");
    }
}
