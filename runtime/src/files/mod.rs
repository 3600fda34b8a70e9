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

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncRead;

use crate::client::{ApiGeneration, Client};
use crate::error::{Error, Result};
use crate::file_names::{NameConflict, NameDecision, decide};

mod chunks;
mod download;
mod uploaded;

use chunks::{ChunkPlan, ChunkReader};
pub use download::FileDownload;
use download::io_error;
pub use uploaded::{ChunkSession, UploadProgress, UploadedFile};
use uploaded::{ProgressFn, finish};

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
pub struct FileUpload<T = Value, I = String> {
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
    checksum: bool,
    /// A reupload: the File record whose content this replaces.
    replacing: Option<String>,
    error: Option<Error>,
    _record: PhantomData<fn() -> (T, I)>,
}

impl<T, I> fmt::Debug for FileUpload<T, I> {
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
            .field("checksum", &self.checksum)
            .field("replacing", &self.replacing)
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
            checksum: true,
            replacing: None,
            error: None,
            _record: PhantomData,
        }
    }
}

impl<T, I> FileUpload<T, I> {
    /// The same upload, its File record read as `U` (a generated crate's `File`) when awaited.
    pub fn typed<U>(self) -> FileUpload<U, I> {
        self.retyped()
    }

    /// The same upload, the File record's id read as `J` (a generated crate's `FileId`).
    pub fn typed_id<J>(self) -> FileUpload<T, J> {
        self.retyped()
    }

    fn retyped<U, J>(self) -> FileUpload<U, J> {
        FileUpload {
            client: self.client,
            name: self.name,
            source: self.source,
            fields: self.fields,
            method: self.method,
            mime_type: self.mime_type,
            chunk_size: self.chunk_size,
            parallel: self.parallel,
            threshold: self.threshold,
            chunk_retries: self.chunk_retries,
            share: self.share,
            session: self.session,
            progress: self.progress,
            on_conflict: self.on_conflict,
            checksum: self.checksum,
            replacing: self.replacing,
            error: self.error,
            _record: PhantomData,
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
    pub fn fields<F: Serialize + ?Sized>(mut self, fields: &F) -> Self {
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

    /// Whether to hash the content (MD5, as it is read) and compare it with the `hash` the
    /// server stores for the file, failing the upload when they differ; default on. Off saves
    /// the hashing (about a second of CPU per 600 MB); the size is still checked.
    #[must_use]
    pub fn checksum(mut self, on: bool) -> Self {
        self.checksum = on;
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

    /// Makes this a reupload: the content replaces that of the existing File record `id`,
    /// which keeps its id (and its links); its name becomes the upload's name, its type, size
    /// and hash the new content's. AtroCore's `reupload` (2.2 `PUT /File/action/reupload`,
    /// 2.3 `PATCH /File/{id}/reupload`; chunks carry `reupload` to the chunk route): the File
    /// scope's `edit` right is needed, an unknown id is a 404. The name-conflict policy does
    /// not apply (the record keeps its place).
    #[must_use]
    pub fn replacing(mut self, id: impl Into<String>) -> Self {
        self.replacing = Some(id.into());
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
        let name = match &self.replacing {
            Some(id) if id.trim().is_empty() => {
                return Err(Error::builder("a reupload needs the id of a File record"));
            }
            Some(_) => name,
            None => match decide(&self.client, self.on_conflict, &name, folder).await? {
                NameDecision::Upload(name) => name,
                NameDecision::Existing(record) => return finish(record, 0, 0, false),
            },
        };
        let mut base = self.fields.clone();
        base.insert("name".into(), Value::String(name.clone()));
        if self.share {
            base.insert("share".into(), Value::Bool(true));
        }
        if let Some(id) = &self.replacing {
            base.insert("reupload".into(), Value::String(id.clone()));
        }
        // Where a one-request upload goes: `POST /File`, or a reupload's route.
        let (single_method, single_path) =
            single_route(self.client.generation(), self.replacing.as_deref());
        let size = match &self.source {
            Source::Url(url) => {
                base.insert("url".into(), Value::String(url.clone()));
                let record: Value = self
                    .client
                    .request(single_method, &single_path)
                    .json(&base)
                    .send_json()
                    .await?;
                return finish(record, 0, 0, false);
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
                file: Some(
                    tokio::fs::File::open(&p)
                        .await
                        .map_err(|e| io_error("cannot open the file", e))?
                        .into_std()
                        .await,
                ),
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
            let md5 = self.checksum.then(|| {
                use md5::Digest as _;
                format!("{:x}", md5::Md5::digest(&content))
            });
            let mime = self
                .mime_type
                .clone()
                .unwrap_or_else(|| guess_mime(&name).to_owned());
            let body = json_with_data_uri(&base, "fileContents", &mime, &content)?;
            drop(content);
            let record: Value = self
                .client
                .request(single_method.clone(), &single_path)
                .json_bytes(body)
                .send_json()
                .await?;
            let verified = chunks::check_md5(&record, md5.as_deref())
                .map_err(|e| e.with_request(&single_method, &single_path))?;
            return finish(record, 0, 0, verified);
        }
        let (method, path) = chunk_route(self.client.generation(), self.replacing.is_some());
        let plan = ChunkPlan {
            client: self.client,
            method,
            path,
            replacing: self.replacing.is_some(),
            base,
            session: self.session,
            size,
            chunk_size: self.chunk_size as u64,
            parallel: self.parallel,
            retries: self.chunk_retries,
            progress: self.progress,
            checksum: self.checksum,
            wire_hash: String::new(),
        };
        plan.run(reader).await
    }
}

impl<T: DeserializeOwned + Send + 'static, I: From<String> + Send + 'static> IntoFuture
    for FileUpload<T, I>
{
    type Output = Result<UploadedFile<T, I>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UploadedFile<T, I>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let up = self.run().await?;
            let record = T::deserialize(&up.record)
                .map_err(|e| Error::decode(e).with_request(&Method::POST, "/File"))?;
            Ok(UploadedFile {
                id: I::from(up.id),
                record,
                shared_url: up.shared_url,
                chunks_sent: up.chunks_sent,
                chunks_skipped: up.chunks_skipped,
                verified: up.verified,
            })
        })
    }
}

/// The chunk route of a generation: 2.2 `POST /File` (a reupload's chunks `PUT
/// /File/action/reupload`: `POST /File` checks the `create` right, the reupload action `edit`,
/// `Controllers/File.php`), 2.3 `POST /File/createChunk` (with `reupload` in the body).
fn chunk_route(generation: ApiGeneration, replacing: bool) -> (Method, &'static str) {
    match (generation, replacing) {
        (ApiGeneration::V2_2, false) => (Method::POST, "/File"),
        (ApiGeneration::V2_2, true) => (Method::PUT, "/File/action/reupload"),
        _ => (Method::POST, "/File/createChunk"),
    }
}

/// The route of a one-request upload: `POST /File`, or a reupload's (2.2 `PUT
/// /File/action/reupload`, 2.3 `PATCH /File/{id}/reupload`).
fn single_route(generation: ApiGeneration, replacing: Option<&str>) -> (Method, String) {
    match (generation, replacing) {
        (_, None) => (Method::POST, "/File".to_owned()),
        (ApiGeneration::V2_2, Some(_)) => (Method::PUT, "/File/action/reupload".to_owned()),
        (_, Some(id)) => (
            Method::PATCH,
            format!("/File/{}/reupload", crate::encode_path_segment(id)),
        ),
    }
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
}

#[cfg(test)]
mod tests {
    use super::uploaded::random_id;
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
}
