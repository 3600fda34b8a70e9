//! What an upload reports and resumes by: its progress, its chunk session, the uploaded file.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::download::download_url_of;
use crate::error::{Error, ErrorKind, Result};

/// Where a chunked upload stands, passed to the [progress callback](crate::FileUpload::on_progress)
/// after each chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes the server holds so far (sent in this run or found stored).
    pub bytes_done: u64,
    /// The file size.
    pub total_bytes: u64,
    /// Chunks the server holds so far.
    pub chunks_done: u64,
    /// Chunks found already stored (a resumed upload) and not sent again.
    pub chunks_skipped: u64,
    /// `piecesCount`.
    pub chunks_total: u64,
}

/// The identity of a chunked upload: the File `id` and `fileUniqueHash` sent with every chunk.
///
/// Uploading again with the same session (and the same file and chunk size) resumes: chunks the
/// server already holds are skipped. It serializes, so it can be saved across runs.
///
/// ```
/// use atrocore_runtime::ChunkSession;
///
/// let session = ChunkSession::new();
/// let saved = serde_json::to_string(&session).unwrap();
/// let restored: ChunkSession = serde_json::from_str(&saved).unwrap();
/// assert_eq!(session, restored);
/// assert_eq!(ChunkSession::with_id("a01abc").file_id(), "a01abc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChunkSession {
    #[serde(rename = "id")]
    pub(super) file_id: String,
    #[serde(rename = "fileUniqueHash")]
    pub(super) unique_hash: String,
}

impl Default for ChunkSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkSession {
    /// A new session with a random File id and hash.
    pub fn new() -> Self {
        Self::with_id(random_id())
    }

    /// A new session for the File id `file_id` (the record the upload creates).
    pub fn with_id(file_id: impl Into<String>) -> Self {
        Self {
            file_id: file_id.into(),
            unique_hash: crate::rng::range_inclusive(10_000_000, 99_999_999_999).to_string(),
        }
    }

    /// The id of the File record the upload creates.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// The `fileUniqueHash` naming the server's chunk folder.
    pub fn unique_hash(&self) -> &str {
        &self.unique_hash
    }
}

/// An AtroCore-like record id: `a01` and 24 lower-case letters and digits.
pub(super) fn random_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::from("a01");
    for _ in 0..24 {
        s.push(char::from(
            ALPHABET[crate::rng::range_inclusive(0, ALPHABET.len() as u64 - 1) as usize],
        ));
    }
    s
}

/// The result of an upload: the File record the server created, as JSON or (from a generated
/// crate's `file()` API) as its typed `File` with its typed id (`FileId`).
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile<T = Value, I = String> {
    /// The File record's id.
    pub id: I,
    /// The File record as the server returned it.
    pub record: T,
    /// The public link, when [`share`](crate::FileUpload::share) was set.
    pub shared_url: Option<String>,
    /// Chunks sent by this run (0 for Base64 and URL uploads).
    pub chunks_sent: u64,
    /// Chunks found already stored on the server and skipped (a resumed upload).
    pub chunks_skipped: u64,
    /// The server's MD5 of the stored file (`hash`) was compared with the MD5 of the whole
    /// source and matched. `false` when there was nothing to compare: no `hash` in the answer,
    /// `checksum(false)`, or a URL upload (the server fetched the content).
    pub verified: bool,
}

impl UploadedFile<Value> {
    /// The record as a typed struct, e.g. a generated crate's `File`.
    pub fn record_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.record).map_err(Error::decode)
    }

    /// The `downloadUrl` (or `url`) field of the record, when present.
    pub fn download_url(&self) -> Option<&str> {
        download_url_of(&self.record)
    }
}

pub(super) type ProgressFn = Arc<dyn Fn(&UploadProgress) + Send + Sync>;

/// The upload result from the File record the server answered.
pub(super) fn finish(
    record: Value,
    sent: u64,
    skipped: u64,
    verified: bool,
) -> Result<UploadedFile> {
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::new(ErrorKind::Decode).with_message("the upload answer has no File `id`")
        })?;
    let shared_url = record
        .get("sharedUrl")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(UploadedFile {
        id,
        record,
        shared_url,
        chunks_sent: sent,
        chunks_skipped: skipped,
        verified,
    })
}
