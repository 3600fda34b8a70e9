//! Files: upload from bytes (a Base64 data URI), from a URL, or by chunks streamed from a path
//! or any [`AsyncRead`]; download of a file's bytes as a stream.
//!
//! Both generations take `POST /File` with `fileContents` (a `data:<mime>;base64,…` URI) or
//! `url`. Large files go in chunks: `POST /File` (2.2) or `POST /File/createChunk` (2.3) with
//! the same client-made `id` and `fileUniqueHash` on every chunk, its `start` offset, the
//! `piece` as a data URI and `piecesCount`. Each answer lists the offsets the server holds
//! (`chunks`); the one that completes the set returns the File record.
//!
//! A chunked upload reads one chunk at a time per slot (never the whole file), sends up to
//! [`parallel_chunks`](FileUpload::parallel_chunks) at once, retries failed chunks, and reports
//! progress. It is resumable: an upload with the same [`ChunkSession`] first asks the server
//! which chunks it already holds and sends only the others.

use std::collections::BTreeSet;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use reqwest::Method;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::client::{ApiGeneration, Client};
use crate::encode::encode_path_segment;
use crate::error::{Error, ErrorKind, Result};
use crate::file_names::{NameConflict, NameDecision, decide};
use crate::http::execute::{AuthMode, Prepared, Resend, Target};

/// Chunk size when none is set: 4 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;
/// Chunks in flight at once when not set.
pub const DEFAULT_PARALLEL_CHUNKS: usize = 3;

/// How a file's content travels; see [`FileUpload::method`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UploadMethod {
    /// Base64 up to the [chunk threshold](FileUpload::chunk_threshold) (by default one chunk
    /// size), chunks above.
    #[default]
    Auto,
    /// One request with `fileContents` (the whole file in memory).
    Base64,
    /// Chunks, whatever the size (an empty file still goes in one Base64 request).
    Chunked,
}

/// Where a chunked upload stands, passed to the [progress callback](FileUpload::on_progress)
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
    file_id: String,
    #[serde(rename = "fileUniqueHash")]
    unique_hash: String,
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
fn random_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::from("a01");
    for _ in 0..24 {
        s.push(char::from(
            ALPHABET[crate::rng::range_inclusive(0, ALPHABET.len() as u64 - 1) as usize],
        ));
    }
    s
}

/// The result of an upload: the File record the server created.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    /// The File record's id.
    pub id: String,
    /// The File record as the server returned it.
    pub record: Value,
    /// The public link, when [`share`](FileUpload::share) was set.
    pub shared_url: Option<String>,
    /// Chunks sent by this run (0 for Base64 and URL uploads).
    pub chunks_sent: u64,
    /// Chunks found already stored on the server and skipped (a resumed upload).
    pub chunks_skipped: u64,
}

impl UploadedFile {
    /// The record as a typed struct, e.g. a generated crate's `File`.
    pub fn record_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.record).map_err(Error::decode)
    }

    /// The `downloadUrl` (or `url`) field of the record, when present.
    pub fn download_url(&self) -> Option<&str> {
        download_url_of(&self.record)
    }
}

type ProgressFn = Arc<dyn Fn(&UploadProgress) + Send + Sync>;

enum Source {
    Bytes(Bytes),
    Url(String),
    Path(PathBuf),
    Reader {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        len: u64,
    },
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Self::Url(_) => f.write_str("Url"),
            Self::Path(p) => write!(f, "Path({})", p.display()),
            Self::Reader { len, .. } => write!(f, "Reader({len} bytes)"),
        }
    }
}

/// An upload of one file. Start it with [`Client::upload_bytes`], [`Client::upload_url`],
/// [`Client::upload_path`] or [`Client::upload_reader`]; `.await` sends it and returns the
/// [`UploadedFile`].
///
/// ```no_run
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::{ChunkSession, UploadMethod};
///
/// // Small content: one request with a Base64 data URI.
/// let note = client.upload_bytes("note.txt", b"hello".to_vec()).await?;
///
/// // A URL the server downloads itself.
/// let logo = client.upload_url("https://example.com/logo.png").name("logo.png").await?;
///
/// // A large file from disk: 8 MiB chunks, 4 in flight, progress, resumable.
/// let upload = client
///     .upload_path("/data/video.mp4")
///     .chunk_size(8 << 20)
///     .parallel_chunks(4)
///     .field("folderId", "f01")
///     .on_progress(|p| println!("{}/{} bytes", p.bytes_done, p.total_bytes));
/// let session: ChunkSession = upload.chunk_session().clone(); // keep it to resume after a failure
/// let video = match upload.await {
///     Ok(file) => file,
///     Err(_) => client.upload_path("/data/video.mp4").chunk_size(8 << 20).session(session).await?,
/// };
/// println!("{} {:?} {}", note.id, logo.download_url(), video.chunks_skipped);
/// # let _ = UploadMethod::Chunked;
/// # Ok(())
/// # }
/// ```
pub struct FileUpload {
    client: Client,
    name: Option<String>,
    source: Source,
    fields: Map<String, Value>,
    method: UploadMethod,
    mime_type: Option<String>,
    chunk_size: usize,
    parallel: usize,
    threshold: Option<u64>,
    chunk_retries: u32,
    share: bool,
    session: ChunkSession,
    progress: Option<ProgressFn>,
    on_conflict: NameConflict,
    error: Option<Error>,
}

impl fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUpload")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("method", &self.method)
            .field("chunk_size", &self.chunk_size)
            .field("parallel", &self.parallel)
            .field("threshold", &self.threshold)
            .field("chunk_retries", &self.chunk_retries)
            .field("share", &self.share)
            .field("session", &self.session)
            .field("on_conflict", &self.on_conflict)
            .finish_non_exhaustive()
    }
}

impl FileUpload {
    fn new(client: &Client, name: Option<String>, source: Source) -> Self {
        Self {
            client: client.clone(),
            name,
            source,
            fields: Map::new(),
            method: UploadMethod::Auto,
            mime_type: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            parallel: DEFAULT_PARALLEL_CHUNKS,
            threshold: None,
            chunk_retries: 3,
            share: false,
            session: ChunkSession::new(),
            progress: None,
            on_conflict: NameConflict::default(),
            error: None,
        }
    }

    /// The file name (with its extension); required by AtroCore. Defaults to the path's file
    /// name, or the URL's last segment.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets one more field of the File record (`folderId`, `typeId`, `description`, …).
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Sets the fields of `fields` (a struct or map serializing to a JSON object, e.g. a
    /// generated `File` with only some fields set).
    #[must_use]
    pub fn fields<T: Serialize + ?Sized>(mut self, fields: &T) -> Self {
        match serde_json::to_value(fields) {
            Ok(Value::Object(o)) => {
                self.fields
                    .extend(o.into_iter().filter(|(_, v)| !v.is_null()));
            }
            Ok(_) => self.error = Some(Error::builder("the file fields are not a JSON object")),
            Err(e) => {
                self.error = Some(
                    Error::builder("the file fields cannot be serialized as JSON").with_source(e),
                );
            }
        }
        self
    }

    /// Base64, chunks, or chosen by size (the default).
    #[must_use]
    pub fn method(mut self, method: UploadMethod) -> Self {
        self.method = method;
        self
    }

    /// The MIME type in the Base64 data URI; guessed from the name's extension by default.
    #[must_use]
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime_type = Some(mime.into());
        self
    }

    /// Bytes per chunk (at least 1 KiB); default [`DEFAULT_CHUNK_SIZE`]. A resumed upload must
    /// use the size of the interrupted one.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1024);
        self
    }

    /// Chunks in flight at once (at least 1); default [`DEFAULT_PARALLEL_CHUNKS`]. Memory use is
    /// about `chunk_size × (parallel + 1)`: the raw chunks in flight and the one being read (the
    /// Base64 request bodies are encoded piece by piece while they are sent).
    #[must_use]
    pub fn parallel_chunks(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// With [`UploadMethod::Auto`], the largest size sent in one Base64 request; default
    /// the chunk size (a file of one chunk goes in one request).
    #[must_use]
    pub fn chunk_threshold(mut self, bytes: u64) -> Self {
        self.threshold = Some(bytes);
        self
    }

    /// How often a chunk that failed (after the client's own request retries) is sent again
    /// before the upload gives up; default 3.
    #[must_use]
    pub fn chunk_retries(mut self, n: u32) -> Self {
        self.chunk_retries = n;
        self
    }

    /// Asks the server for a public link too (`share: true`): see
    /// [`UploadedFile::shared_url`].
    #[must_use]
    pub fn share(mut self, share: bool) -> Self {
        self.share = share;
        self
    }

    /// The chunk session to use: pass the one of an interrupted upload to resume it.
    #[must_use]
    pub fn session(mut self, session: ChunkSession) -> Self {
        self.session = session;
        self
    }

    /// The chunk session this upload uses (random unless set): keep it to resume later.
    pub fn chunk_session(&self) -> &ChunkSession {
        &self.session
    }

    /// What to do when the target folder (`folderId`, or the root) already holds a file of the
    /// same name: fail naming file and folder (the default), reuse that file, or upload under a
    /// free name. Checked before anything is uploaded, whatever the server's storage enforces
    /// (see [`NameConflict`]).
    #[must_use]
    pub fn on_name_conflict(mut self, policy: NameConflict) -> Self {
        self.on_conflict = policy;
        self
    }

    /// Calls `f` after each chunk (and once for skipped chunks when resuming).
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&UploadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    async fn run(self) -> Result<UploadedFile> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let name = match (&self.name, &self.source) {
            (Some(n), _) => n.clone(),
            (None, Source::Path(p)) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            (None, Source::Url(u)) => u
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned(),
            (None, _) => String::new(),
        };
        if name.trim().is_empty() {
            return Err(Error::builder("a file upload needs a name"));
        }
        let folder = self.fields.get("folderId").and_then(Value::as_str);
        let name = match decide(&self.client, self.on_conflict, &name, folder).await? {
            NameDecision::Upload(name) => name,
            NameDecision::Existing(record) => return finish(record, 0, 0),
        };
        let mut base = self.fields.clone();
        base.insert("name".into(), Value::String(name.clone()));
        if self.share {
            base.insert("share".into(), Value::Bool(true));
        }
        let size = match &self.source {
            Source::Url(url) => {
                base.insert("url".into(), Value::String(url.clone()));
                let record: Value = self
                    .client
                    .request(Method::POST, "/File")
                    .json(&base)
                    .send_json()
                    .await?;
                return finish(record, 0, 0);
            }
            Source::Bytes(b) => b.len() as u64,
            Source::Path(p) => tokio::fs::metadata(p)
                .await
                .map_err(|e| io_error("cannot read the file's size", e))?
                .len(),
            Source::Reader { len, .. } => *len,
        };
        let chunked = size > 0
            && match self.method {
                UploadMethod::Base64 => false,
                UploadMethod::Chunked => true,
                _ => size > self.threshold.unwrap_or(self.chunk_size as u64),
            };
        let mut reader = match self.source {
            Source::Bytes(b) => ChunkReader::Bytes(b),
            Source::Path(p) => ChunkReader::File {
                file: tokio::fs::File::open(&p)
                    .await
                    .map_err(|e| io_error("cannot open the file", e))?,
                pos: 0,
            },
            Source::Reader { reader, .. } => ChunkReader::Stream { reader, pos: 0 },
            Source::Url(_) => unreachable!("handled above"),
        };
        if !chunked {
            let len = usize::try_from(size)
                .map_err(|_| Error::builder("the file is too large for one Base64 request"))?;
            let content = reader.read_at(0, len).await?;
            reader.ensure_end(size).await?;
            let mime = self
                .mime_type
                .clone()
                .unwrap_or_else(|| guess_mime(&name).to_owned());
            let body = json_with_data_uri(&base, "fileContents", &mime, &content)?;
            drop(content);
            let record: Value = self
                .client
                .request(Method::POST, "/File")
                .json_bytes(body)
                .send_json()
                .await?;
            return finish(record, 0, 0);
        }
        let path = chunk_path(self.client.generation());
        let plan = ChunkPlan {
            client: self.client,
            path,
            base,
            session: self.session,
            size,
            chunk_size: self.chunk_size as u64,
            parallel: self.parallel,
            retries: self.chunk_retries,
            progress: self.progress,
            wire_hash: String::new(),
        };
        plan.run(reader).await
    }
}

impl IntoFuture for FileUpload {
    type Output = Result<UploadedFile>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UploadedFile>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn io_error(message: &'static str, e: io::Error) -> Error {
    Error::new(ErrorKind::Builder)
        .with_message(message)
        .with_source(e)
}

/// The chunk route of a generation.
fn chunk_path(generation: ApiGeneration) -> &'static str {
    match generation {
        ApiGeneration::V2_2 => "/File",
        _ => "/File/createChunk",
    }
}

/// The upload result from the File record the server answered.
fn finish(record: Value, sent: u64, skipped: u64) -> Result<UploadedFile> {
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
    })
}

/// Serializes `fields` as a JSON object with one more string member `key` holding a Base64 data
/// URI of `content`, encoded straight into the body (no intermediate string).
fn json_with_data_uri(
    fields: &Map<String, Value>,
    key: &str,
    mime: &str,
    content: &[u8],
) -> Result<Bytes> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let encoded_len = base64::encoded_len(content.len(), true)
        .ok_or_else(|| Error::builder("the content is too large to encode"))?;
    let mut body = serde_json::to_vec(fields).map_err(|e| {
        Error::builder("the file fields cannot be serialized as JSON").with_source(e)
    })?;
    body.reserve(encoded_len + key.len() + mime.len() + 32);
    body.pop(); // the closing brace
    if !fields.is_empty() {
        body.push(b',');
    }
    serde_json::to_writer(&mut body, key).map_err(Error::decode)?;
    body.extend_from_slice(b":\"data:");
    // A MIME type is plain ASCII without quotes; anything else is left out.
    if mime
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b',')
    {
        body.extend_from_slice(mime.as_bytes());
    }
    body.extend_from_slice(b";base64,");
    let at = body.len();
    body.resize(at + encoded_len, 0);
    let written = engine
        .encode_slice(content, &mut body[at..])
        .map_err(|_| Error::builder("Base64 encoding failed"))?;
    body.truncate(at + written);
    body.extend_from_slice(b"\"}");
    Ok(Bytes::from(body))
}

/// A MIME type from the extension of `name`.
fn guess_mime(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
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
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Reads chunks in increasing offset order from the upload's source.
enum ChunkReader {
    Bytes(Bytes),
    File {
        file: tokio::fs::File,
        pos: u64,
    },
    Stream {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        pos: u64,
    },
}

impl ChunkReader {
    /// After the last byte was read: fails when the source holds more than `size` bytes (a
    /// reader longer than declared, a file that grew), which would upload a truncated file.
    async fn ensure_end(&mut self, size: u64) -> Result<()> {
        let longer = || {
            Error::builder(format!(
                "the source holds more than its declared {size} bytes: the upload would be cut"
            ))
        };
        match self {
            Self::Bytes(b) => {
                if b.len() as u64 > size {
                    return Err(longer());
                }
            }
            Self::File { file, .. } => {
                let len = file
                    .metadata()
                    .await
                    .map_err(|e| io_error("cannot read the file's size", e))?
                    .len();
                if len != size {
                    return Err(Error::builder(format!(
                        "the file changed size during the upload ({size} bytes, now {len})"
                    )));
                }
            }
            Self::Stream { reader, pos } => {
                if *pos == size {
                    let mut one = [0u8; 1];
                    let n = reader
                        .read(&mut one)
                        .await
                        .map_err(|e| io_error("cannot read the source", e))?;
                    if n > 0 {
                        return Err(longer());
                    }
                }
            }
        }
        Ok(())
    }

    /// The `len` bytes at `start` (`start` never goes back for a stream).
    async fn read_at(&mut self, start: u64, len: usize) -> Result<Bytes> {
        let short = || {
            Error::builder("the source ended before its announced length")
                .with_source(io::Error::from(io::ErrorKind::UnexpectedEof))
        };
        match self {
            Self::Bytes(b) => {
                let s = usize::try_from(start).map_err(|_| short())?;
                if s + len > b.len() {
                    return Err(short());
                }
                Ok(b.slice(s..s + len))
            }
            Self::File { file, pos } => {
                if *pos != start {
                    file.seek(io::SeekFrom::Start(start))
                        .await
                        .map_err(|e| io_error("cannot seek in the file", e))?;
                    *pos = start;
                }
                let mut buf = vec![0u8; len];
                file.read_exact(&mut buf).await.map_err(|e| {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        short()
                    } else {
                        io_error("cannot read the file", e)
                    }
                })?;
                *pos += len as u64;
                Ok(Bytes::from(buf))
            }
            Self::Stream { reader, pos } => {
                if start < *pos {
                    return Err(Error::builder("a stream cannot go back"));
                }
                if start > *pos {
                    let gap = start - *pos;
                    let skipped = tokio::io::copy(&mut reader.take(gap), &mut tokio::io::sink())
                        .await
                        .map_err(|e| io_error("cannot read the source", e))?;
                    if skipped != gap {
                        return Err(short());
                    }
                    *pos = start;
                }
                let mut buf = vec![0u8; len];
                reader.read_exact(&mut buf).await.map_err(|e| {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        short()
                    } else {
                        io_error("cannot read the source", e)
                    }
                })?;
                *pos += len as u64;
                Ok(Bytes::from(buf))
            }
        }
    }
}

/// Everything one chunked upload needs.
struct ChunkPlan {
    client: Client,
    path: &'static str,
    base: Map<String, Value>,
    session: ChunkSession,
    size: u64,
    chunk_size: u64,
    parallel: usize,
    retries: u32,
    progress: Option<ProgressFn>,
    /// The `fileUniqueHash` sent: the session's, mixed with the upload's fingerprint.
    wire_hash: String,
}

/// What the chunk answers told so far.
#[derive(Default)]
struct ChunkState {
    stored: BTreeSet<u64>,
    record: Option<Value>,
    created: bool,
    sent: u64,
    skipped: u64,
}

impl ChunkPlan {
    fn count(&self) -> u64 {
        self.size.div_ceil(self.chunk_size)
    }

    fn len_at(&self, start: u64) -> usize {
        // At most chunk_size, which is a usize.
        (self.size - start).min(self.chunk_size) as usize
    }

    /// A number from the session's hash, the chunk size, the file size and the first chunk
    /// (FNV-1a, stable across versions and platforms).
    fn fingerprint(&self, first: &[u8]) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(self.session.unique_hash.as_bytes());
        feed(&self.chunk_size.to_le_bytes());
        feed(&self.size.to_le_bytes());
        feed(first);
        (h % 100_000_000_000).to_string()
    }

    /// The fields every chunk carries (everything but `start` and `piece`).
    fn chunk_fields(&self, start: u64) -> Map<String, Value> {
        let mut m = self.base.clone();
        m.insert("id".into(), Value::String(self.session.file_id.clone()));
        m.insert(
            "fileUniqueHash".into(),
            Value::String(self.wire_hash.clone()),
        );
        m.insert("start".into(), Value::from(start));
        m.insert("piecesCount".into(), Value::from(self.count()));
        m
    }

    /// The file record, if the server has created it (a `404` is `None`).
    async fn created_record(&self) -> Result<Option<Value>> {
        let path = format!("/File/{}", encode_path_segment(&self.session.file_id));
        match self
            .client
            .request(Method::GET, path)
            .send_json::<Value>()
            .await
        {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends one chunk and folds its answer into `state`. A chunk is sent through the request
    /// core like any safe request (retried on failures without an answer, `429`, `502`–`504`,
    /// with `retries` more attempts than the client's policy; the token renewed on `401`).
    ///
    /// The `completing` chunk (sent alone, after every other one was acknowledged) is never
    /// sent again blindly: when its answer is lost the server may already have assembled the
    /// file, and a second copy would be refused (AtroCore checks the name on every chunk: 400 on
    /// storages with unique names) or would create the record twice (a database error). So the
    /// record is looked up by its id first, and the upload finishes from it when it exists.
    async fn send_chunk(
        &self,
        start: u64,
        data: Bytes,
        state: &Mutex<ChunkState>,
        completing: bool,
    ) -> Result<()> {
        let len = data.len();
        let answer = if completing {
            self.send_completing(start, data).await?
        } else {
            let body = self
                .chunk_request(start, data)?
                .idempotent(true)
                .send_bytes_with_retries(self.retries)
                .await?;
            self.decode_answer(&body)?
        };
        let progress = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.sent += 1;
            st.stored.insert(start);
            self.absorb(&mut st, answer);
            self.progress_of(&st)
        };
        tracing::trace!(start, len, "chunk stored");
        if let Some(f) = &self.progress {
            f(&progress);
        }
        Ok(())
    }

    fn decode_answer(&self, body: &[u8]) -> Result<Value> {
        serde_json::from_slice(body)
            .map_err(|e| Error::decode(e).with_request(&Method::POST, self.path))
    }

    /// The completing chunk: sent once per attempt; after a failure that may have reached the
    /// server, the record is looked up before the chunk is sent again.
    async fn send_completing(&self, start: u64, data: Bytes) -> Result<Value> {
        let max = self
            .client
            .inner
            .retry
            .max_retries
            .saturating_add(self.retries);
        let mut failures = 0;
        let mut maybe_sent = false;
        loop {
            if maybe_sent && let Some(record) = self.created_record().await? {
                tracing::debug!(
                    start,
                    "the completing chunk's answer was lost, but the file exists"
                );
                return Ok(record);
            }
            match self
                .chunk_request(start, data.clone())?
                .idempotent(false)
                .send_bytes()
                .await
            {
                Ok(body) => return self.decode_answer(&body),
                Err(e)
                    if failures < max
                        && (e.is_transport()
                            || e.is_timeout()
                            || e.is_server()
                            || e.kind() == ErrorKind::RateLimited) =>
                {
                    maybe_sent |= e.kind() != ErrorKind::RateLimited;
                    let delay = self.client.inner.retry.backoff(failures);
                    failures += 1;
                    tracing::debug!(start, failures, error = %e, "completing chunk failed");
                    tokio::time::sleep(delay).await;
                }
                // The resend was refused (the name is taken, or the record exists): by the
                // first attempt, if the file is there now.
                Err(e) if maybe_sent => {
                    return match self.created_record().await? {
                        Some(record) => Ok(record),
                        None => Err(e),
                    };
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The JSON of a chunk up to the opening of the `piece` data URI's Base64 text.
    fn chunk_prefix(&self, start: u64) -> Result<Bytes> {
        let mut body = serde_json::to_vec(&self.chunk_fields(start)).map_err(|e| {
            Error::builder("the file fields cannot be serialized as JSON").with_source(e)
        })?;
        body.pop(); // the closing brace; the object is never empty (it has `id`)
        body.extend_from_slice(b",\"piece\":\"data:application/octet-stream;base64,");
        Ok(Bytes::from(body))
    }

    /// The `POST` of a chunk, its body streamed: the prefix, then the chunk Base64-encoded piece
    /// by piece as the connection takes it, then the closing `"}`; so a chunk in flight costs
    /// its raw bytes only, and a retry encodes again from them.
    fn chunk_request(&self, start: u64, data: Bytes) -> Result<crate::RequestBuilder> {
        const PIECE: usize = 3 * 16 * 1024; // a multiple of 3: no padding inside the text
        const SUFFIX: &[u8] = b"\"}";
        let prefix = self.chunk_prefix(start)?;
        let encoded = base64::encoded_len(data.len(), true)
            .ok_or_else(|| Error::builder("the chunk is too large to encode"))?;
        let total = (prefix.len() + encoded + SUFFIX.len()) as u64;
        let make = move || {
            let data = data.clone();
            let pieces = data.len().div_ceil(PIECE);
            let body = stream::once(std::future::ready(prefix.clone()))
                .chain(stream::iter(0..pieces).map(move |i| {
                    let end = ((i + 1) * PIECE).min(data.len());
                    let text =
                        base64::engine::general_purpose::STANDARD.encode(&data[i * PIECE..end]);
                    Bytes::from(text)
                }))
                .chain(stream::once(std::future::ready(Bytes::from_static(SUFFIX))))
                .map(Ok::<Bytes, io::Error>);
            reqwest::Body::wrap_stream(body)
        };
        Ok(self
            .client
            .request(Method::POST, self.path)
            .json_stream(total, make))
    }

    /// Reads a chunk answer: the offsets stored, and the record when it completed the file.
    fn absorb(&self, st: &mut ChunkState, answer: Value) {
        let Value::Object(mut o) = answer else {
            return;
        };
        if let Some(Value::Array(chunks)) = o.get("chunks") {
            for c in chunks {
                let off = match c {
                    Value::String(s) => s.trim().parse().ok(),
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                };
                if let Some(off) = off.filter(|o| *o < self.size) {
                    st.stored.insert(off);
                }
            }
        }
        if o.get("created").and_then(Value::as_bool) == Some(true) && !o.contains_key("id") {
            st.created = true;
        } else if o.contains_key("id") {
            o.remove("chunks");
            st.record = Some(Value::Object(o));
        }
    }

    fn progress_of(&self, st: &ChunkState) -> UploadProgress {
        let bytes_done = st.stored.iter().map(|s| self.len_at(*s) as u64).sum();
        UploadProgress {
            bytes_done,
            total_bytes: self.size,
            chunks_done: st.stored.len() as u64,
            chunks_skipped: st.skipped,
            chunks_total: self.count(),
        }
    }

    async fn run(self, mut reader: ChunkReader) -> Result<UploadedFile> {
        let state = Arc::new(Mutex::new(ChunkState::default()));
        // The first chunk alone: its answer says which chunks the server already holds (a
        // resumed upload), so that the others are sent only when missing.
        let first = reader.read_at(0, self.len_at(0)).await?;
        if self.count() == 1 {
            reader.ensure_end(self.size).await?;
        }
        // The chunk folder on the server is named by a hash of the session, the chunk size, the
        // file size and the first chunk: a resume with other content or another chunk size
        // finds nothing stored and starts over, instead of mixing chunks of two files.
        let mut this = self;
        this.wire_hash = this.fingerprint(&first);
        let plan = Arc::new(this);
        plan.send_chunk(0, first, &state, plan.count() == 1).await?;
        let done = {
            let st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.record.is_some() || st.created
        };
        if !done {
            // Chunks are read here, in order, one at a time; each is sent by its own task, at
            // most `parallel` at once, so at most that many chunks are in memory. Dropping the
            // upload aborts the tasks.
            let mut tasks = tokio::task::JoinSet::new();
            let sent = plan.send_rest(&mut reader, &state, &mut tasks).await;
            if sent.is_err() {
                // Let the chunks in flight land, so that a resumed upload can skip them.
                while tasks.join_next().await.is_some() {}
            }
            sent?;
        }
        let st = std::mem::take(&mut *state.lock().unwrap_or_else(|p| p.into_inner()));
        plan.finish_run(st).await
    }

    /// Sends chunks 1.. that the server does not hold yet, at most `parallel` at once, the last
    /// of them alone once all others are acknowledged: AtroCore assembles the file when the
    /// number of stored chunks reaches `piecesCount`, so a completing chunk racing others could
    /// assemble a file whose other chunks are still being written.
    async fn send_rest(
        self: &Arc<Self>,
        reader: &mut ChunkReader,
        state: &Arc<Mutex<ChunkState>>,
        tasks: &mut tokio::task::JoinSet<Result<()>>,
    ) -> Result<()> {
        let missing: Vec<u64> = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            let all: Vec<u64> = (1..self.count()).map(|i| i * self.chunk_size).collect();
            let missing: Vec<u64> = all
                .iter()
                .copied()
                .filter(|s| !st.stored.contains(s))
                .collect();
            st.skipped += (all.len() - missing.len()) as u64;
            missing
        };
        let Some((&completing, rest)) = missing.split_last() else {
            return Ok(());
        };
        for &start in rest {
            while tasks.len() >= self.parallel {
                join_one(tasks).await?;
            }
            let data = reader.read_at(start, self.len_at(start)).await?;
            let (p, s) = (self.clone(), state.clone());
            tasks.spawn(async move { p.send_chunk(start, data, &s, false).await });
        }
        while !tasks.is_empty() {
            join_one(tasks).await?;
        }
        let data = reader.read_at(completing, self.len_at(completing)).await?;
        if completing + data.len() as u64 == self.size {
            reader.ensure_end(self.size).await?;
        }
        self.send_chunk(completing, data, state, true).await
    }

    /// After the last chunk: the File record (from the completing answer, else read back),
    /// checked against the source's size.
    async fn finish_run(&self, st: ChunkState) -> Result<UploadedFile> {
        let count = self.count();
        if st.skipped > 0
            && let Some(f) = &self.progress
        {
            f(&self.progress_of(&st));
        }
        let record = match st.record {
            Some(r) => r,
            None => self.created_record().await?.ok_or_else(|| {
                Error::new(ErrorKind::Other)
                    .with_message(format!(
                        "the server holds {} of {} chunks but created no file",
                        st.stored.len(),
                        count
                    ))
                    .with_request(&Method::POST, self.path)
            })?,
        };
        if let Some(stored_size) = record.get("fileSize").and_then(Value::as_u64)
            && stored_size != self.size
        {
            return Err(Error::new(ErrorKind::Decode)
                .with_message(format!(
                    "the server stored {stored_size} bytes of a {}-byte file",
                    self.size
                ))
                .with_request(&Method::POST, self.path));
        }
        finish(record, st.sent, st.skipped)
    }
}

/// Waits for one chunk task; a failed chunk (or a panicked task) fails the upload.
async fn join_one(tasks: &mut tokio::task::JoinSet<Result<()>>) -> Result<()> {
    match tasks.join_next().await {
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(Error::new(ErrorKind::Other)
            .with_message("a chunk upload task failed")
            .with_source(e)),
        None => Ok(()),
    }
}

impl Client {
    /// Uploads `content` as the file `name` (Base64, or chunks above the threshold).
    pub fn upload_bytes(&self, name: impl Into<String>, content: impl Into<Bytes>) -> FileUpload {
        FileUpload::new(self, Some(name.into()), Source::Bytes(content.into()))
    }

    /// Has the server download `url` (`POST /File` with `url`); the name defaults to the URL's
    /// last segment.
    pub fn upload_url(&self, url: impl Into<String>) -> FileUpload {
        FileUpload::new(self, None, Source::Url(url.into()))
    }

    /// Uploads the file at `path`, streamed from disk in chunks when larger than the threshold;
    /// the name defaults to the path's file name.
    pub fn upload_path(&self, path: impl AsRef<Path>) -> FileUpload {
        FileUpload::new(self, None, Source::Path(path.as_ref().to_owned()))
    }

    /// Uploads `len` bytes read from `reader` as the file `name`.
    pub fn upload_reader<R>(&self, name: impl Into<String>, reader: R, len: u64) -> FileUpload
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        FileUpload::new(
            self,
            Some(name.into()),
            Source::Reader {
                reader: Box::new(reader),
                len,
            },
        )
    }

    /// Downloads the content of the File record `file_id`: reads the record for its
    /// `downloadUrl` and streams that.
    ///
    /// ```no_run
    /// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
    /// use futures_util::TryStreamExt;
    ///
    /// let mut download = client.download_file("a01file").await?;
    /// println!("{:?} bytes of {:?}", download.content_length(), download.content_type());
    /// while let Some(piece) = download.try_next().await? {
    ///     println!("{} bytes", piece.len());
    /// }
    /// let saved: u64 = client.download_file("a01file").await?.save("/tmp/copy.bin").await?;
    /// # let _ = saved;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_file(&self, file_id: &str) -> Result<FileDownload> {
        let path = format!("/File/{}", encode_path_segment(file_id));
        let record: Value = self.request(Method::GET, path.clone()).send_json().await?;
        let url = download_url_of(&record).ok_or_else(|| {
            Error::new(ErrorKind::Decode)
                .with_message("the File record has no `downloadUrl`")
                .with_request(&Method::GET, &path)
        })?;
        self.download_url(url).await
    }

    /// Streams the content at `url`: absolute, or relative to the instance root
    /// (`/downloads/…`). The token is sent only to the instance's own origin.
    pub async fn download_url(&self, url: &str) -> Result<FileDownload> {
        self.fetch_url(url, true).await
    }

    /// The instance root URL (the base URL without the API base path).
    pub(crate) fn instance_root(&self) -> &str {
        let base = self.base_url();
        base.strip_suffix(self.api_base_path()).unwrap_or(base)
    }

    /// GET of an absolute or root-relative URL, with retries for transport errors and
    /// retryable statuses; with `auth`, the token goes along to the instance's own origin.
    pub(crate) async fn fetch_url(&self, url: &str, auth: bool) -> Result<FileDownload> {
        let root = self.instance_root();
        let full = if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!(
                "{}/{}",
                root.trim_end_matches('/'),
                url.trim_start_matches('/')
            )
        };
        let shown = strip_url(&full);
        let parsed = reqwest::Url::parse(&full).map_err(|e| {
            Error::builder("invalid download URL")
                .with_source(e)
                .with_request(&Method::GET, &shown)
        })?;
        let prepared = Prepared {
            method: Method::GET,
            target: Target::Url {
                url: parsed,
                shown: shown.clone(),
            },
            query: Vec::new(),
            headers: reqwest::header::HeaderMap::new(),
            body: None,
            resend: Resend::Safe,
            extra_retries: 0,
            timeout: None,
        };
        // The token goes only to the instance's origin (the core checks it).
        let mode = if auth {
            AuthMode::Session(self)
        } else {
            AuthMode::Anonymous
        };
        let response = prepared.execute(&self.inner, mode).await?;
        Ok(FileDownload::from_response(response, shown))
    }
}

/// The URL without query string (it may carry a secret), for error messages.
fn strip_url(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or("").to_owned()
}

/// `downloadUrl`, else `url`, of a File record.
pub(crate) fn download_url_of(record: &Value) -> Option<&str> {
    ["downloadUrl", "url"]
        .iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// The content of a file, streamed: a [`Stream`] of byte pieces, or written out with
/// [`write_to`](Self::write_to) / [`save`](Self::save), or gathered with [`bytes`](Self::bytes).
pub struct FileDownload {
    content_length: Option<u64>,
    content_type: Option<String>,
    file_name: Option<String>,
    url: String,
    stream: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
}

impl fmt::Debug for FileDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDownload")
            .field("url", &self.url)
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .finish_non_exhaustive()
    }
}

impl FileDownload {
    fn from_response(resp: reqwest::Response, url: String) -> Self {
        let headers = resp.headers();
        let text = |h| {
            headers
                .get(h)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_length = text(CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let content_type = text(CONTENT_TYPE);
        let file_name = text(CONTENT_DISPOSITION).and_then(|d| {
            d.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix("filename="))
                .map(|n| n.trim_matches('"').to_owned())
        });
        let shown = url.clone();
        let stream = resp
            .bytes_stream()
            .map(move |r| r.map_err(|e| Error::body_cut(e).with_request(&Method::GET, &shown)));
        Self {
            content_length,
            content_type,
            file_name,
            url,
            stream: Box::pin(stream),
        }
    }

    /// The size announced by the server (`Content-Length`).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The file name from `Content-Disposition`.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// Reads the whole content into memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let mut out = Vec::with_capacity(
            self.content_length
                .map_or(0, |l| usize::try_from(l.min(1 << 30)).unwrap_or(0)),
        );
        while let Some(piece) = self.stream.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(Bytes::from(out))
    }

    /// Writes the content to `out` piece by piece; returns the number of bytes.
    pub async fn write_to<W: AsyncWrite + Unpin + ?Sized>(mut self, out: &mut W) -> Result<u64> {
        let mut n = 0u64;
        while let Some(piece) = self.stream.next().await {
            let piece = piece?;
            out.write_all(&piece)
                .await
                .map_err(|e| io_error("cannot write the download", e))?;
            n += piece.len() as u64;
        }
        out.flush()
            .await
            .map_err(|e| io_error("cannot write the download", e))?;
        Ok(n)
    }

    /// Writes the content to the file at `path`; returns the number of bytes. The content goes
    /// to a temporary file beside it, renamed to `path` only once complete: an interrupted
    /// download never leaves a partial file under the final name (nor replaces an older one).
    pub async fn save(self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| Error::builder("the download path has no file name"))?;
        let temp = path.with_file_name(format!(
            ".{}.part-{}",
            name.to_string_lossy(),
            crate::rng::range_inclusive(0, u64::MAX)
        ));
        let result = async {
            let mut file = tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .await
                .map_err(|e| io_error("cannot create the download file", e))?;
            let n = self.write_to(&mut file).await?;
            file.sync_all()
                .await
                .map_err(|e| io_error("cannot write the download", e))?;
            drop(file);
            tokio::fs::rename(&temp, path)
                .await
                .map_err(|e| io_error("cannot move the download into place", e))?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// Whether the content equals `expected`, compared piece by piece as it arrives.
    pub async fn matches(mut self, expected: &[u8]) -> Result<bool> {
        let mut at = 0usize;
        while let Some(piece) = self.stream.next().await {
            let piece = piece?;
            let end = at + piece.len();
            if end > expected.len() || expected[at..end] != piece[..] {
                return Ok(false);
            }
            at = end;
        }
        Ok(at == expected.len())
    }
}

impl Stream for FileDownload {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uri_bodies_are_json() {
        let mut fields = Map::new();
        fields.insert("name".into(), Value::String("a \"b\".txt".into()));
        let body = json_with_data_uri(&fields, "fileContents", "text/plain", b"hello").unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["name"], "a \"b\".txt");
        assert_eq!(v["fileContents"], "data:text/plain;base64,aGVsbG8=");
        let empty = json_with_data_uri(&Map::new(), "piece", "x\"y", b"").unwrap();
        let v: Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["piece"], "data:;base64,");
    }

    #[test]
    fn ids_and_mimes() {
        let id = random_id();
        assert_eq!(id.len(), 27);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(ChunkSession::new(), ChunkSession::new());
        assert_eq!(guess_mime("A.PNG"), "image/png");
        assert_eq!(guess_mime("noext"), "application/octet-stream");
    }

    #[tokio::test]
    async fn stream_reader_skips_forward() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut r = ChunkReader::Stream {
            reader: Box::new(std::io::Cursor::new(data)),
            pos: 0,
        };
        assert_eq!(
            &r.read_at(0, 10).await.unwrap()[..],
            &(0..10u8).collect::<Vec<_>>()[..]
        );
        assert_eq!(&r.read_at(50, 5).await.unwrap()[..], &[50, 51, 52, 53, 54]);
        assert!(r.read_at(10, 5).await.is_err(), "no going back");
        assert!(r.read_at(98, 5).await.is_err(), "short read");
    }
}
