//! Chunked uploads: the source read chunk by chunk, chunks sent in parallel with the completing
//! one alone and last, resume from what the server holds.

use std::collections::BTreeSet;
use std::io;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use reqwest::Method;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::download::io_error;
use super::uploaded::{ChunkSession, ProgressFn, UploadProgress, UploadedFile, finish};
use crate::client::Client;
use crate::encode::encode_path_segment;
use crate::error::{Error, ErrorKind, Result};

/// Reads chunks in increasing offset order from the upload's source.
pub(super) enum ChunkReader {
    Bytes(Bytes),
    /// A file read on the blocking pool straight into each chunk's buffer (no copy through an
    /// async file's own buffer); `None` only while a read is in flight.
    File {
        file: Option<std::fs::File>,
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
    pub(super) async fn ensure_end(&mut self, size: u64) -> Result<()> {
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
                    .as_ref()
                    .ok_or_else(|| Error::builder("the file was lost by a failed read"))?
                    .metadata()
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
    pub(super) async fn read_at(&mut self, start: u64, len: usize) -> Result<Bytes> {
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
                use std::io::{Read as _, Seek as _};
                let mut f = file
                    .take()
                    .ok_or_else(|| Error::builder("the file was lost by a failed read"))?;
                let seek = *pos != start;
                let (f, read) = tokio::task::spawn_blocking(move || {
                    let read = (|| {
                        if seek {
                            f.seek(io::SeekFrom::Start(start))?;
                        }
                        let mut buf = vec![0u8; len];
                        f.read_exact(&mut buf)?;
                        Ok::<_, io::Error>(buf)
                    })();
                    (f, read)
                })
                .await
                .map_err(|e| {
                    Error::new(ErrorKind::Other)
                        .with_message("reading the file failed")
                        .with_source(e)
                })?;
                *file = Some(f);
                let buf = read.map_err(|e| {
                    // Where the file stands is unknown now: the next read seeks.
                    *pos = u64::MAX;
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        short()
                    } else {
                        io_error("cannot read the file", e)
                    }
                })?;
                *pos = start + len as u64;
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
pub(super) struct ChunkPlan {
    pub(super) client: Client,
    pub(super) method: Method,
    pub(super) path: &'static str,
    /// A reupload: the record exists before the upload completes, so a lost completing answer
    /// cannot be told from the record (the chunk is sent again).
    pub(super) replacing: bool,
    pub(super) base: Map<String, Value>,
    pub(super) session: ChunkSession,
    pub(super) size: u64,
    pub(super) chunk_size: u64,
    pub(super) parallel: usize,
    pub(super) retries: u32,
    pub(super) progress: Option<ProgressFn>,
    /// Whether the content is MD5-hashed and compared with the server's `hash`.
    pub(super) checksum: bool,
    /// The `fileUniqueHash` sent: the session's, mixed with the upload's fingerprint.
    pub(super) wire_hash: String,
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

    /// The file record, if the server has created it (a `404` is `None`; never for a
    /// reupload, whose record exists all along).
    async fn created_record(&self) -> Result<Option<Value>> {
        if self.replacing {
            return Ok(None);
        }
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
            .map_err(|e| Error::decode(e).with_request(&self.method, self.path))
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
            .request(self.method.clone(), self.path)
            .json_stream(total, make))
    }

    /// Reads a chunk answer: the offsets stored, and the record when it completed the file.
    fn absorb(&self, st: &mut ChunkState, answer: Value) {
        let Value::Object(mut o) = answer else {
            return;
        };
        if let Some(Value::Array(chunks)) = o.get("chunks") {
            st.stored.extend(
                chunks
                    .iter()
                    .filter_map(|c| stored_offset(c, self.size, self.chunk_size)),
            );
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

    pub(super) async fn run(self, reader: ChunkReader) -> Result<UploadedFile> {
        let mut reader = Hashed::new(reader, self.checksum);
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
        let md5 = reader.md5(plan.size).await?;
        plan.finish_run(st, md5).await
    }

    /// Sends chunks 1.. that the server does not hold yet, at most `parallel` at once, the last
    /// of them alone once all others are acknowledged: AtroCore assembles the file when the
    /// number of stored chunks reaches `piecesCount`, so a completing chunk racing others could
    /// assemble a file whose other chunks are still being written.
    async fn send_rest(
        self: &Arc<Self>,
        reader: &mut Hashed,
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
    /// checked against the source's size and, when every byte passed through this run, its MD5.
    async fn finish_run(&self, st: ChunkState, md5: Option<String>) -> Result<UploadedFile> {
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
                    .with_request(&self.method, self.path)
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
                .with_request(&self.method, self.path));
        }
        let verified = check_md5(&record, md5.as_deref())
            .map_err(|e| e.with_request(&self.method, self.path))?;
        finish(record, st.sent, st.skipped, verified)
    }
}

/// An offset of a chunk answer's `chunks` that this upload sends: a number (or numeric text)
/// that is chunk-aligned and inside the file. A chunk folder left by an upload of another chunk
/// size must not pass for this one's.
fn stored_offset(c: &Value, size: u64, chunk_size: u64) -> Option<u64> {
    let off = match c {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }?;
    (off < size && chunk_size > 0 && off % chunk_size == 0).then_some(off)
}

/// Compares the server's `hash` of the assembled file (AtroCore stores the content's MD5:
/// `Core/FileStorage/LocalStorage.php`) with the MD5 of what was sent, when both are known;
/// answers whether they were (the content verified), an error when they differ.
pub(super) fn check_md5(record: &Value, sent: Option<&str>) -> Result<bool> {
    let stored = record
        .get("hash")
        .and_then(Value::as_str)
        .filter(|h| h.len() == 32);
    match (stored, sent) {
        (Some(stored), Some(sent)) if !stored.eq_ignore_ascii_case(sent) => {
            Err(Error::new(ErrorKind::Decode).with_message(format!(
                "the server's copy differs from the source: MD5 {stored}, sent {sent}"
            )))
        }
        (Some(_), Some(_)) => Ok(true),
        _ => Ok(false),
    }
}

/// The source read in order, hashed on the way (MD5, what AtroCore stores); the chunks a resume
/// skips are read and hashed too, so the digest always covers the whole content.
///
/// The hashing runs on a thread of the blocking pool, fed the chunks in order: chunk `n` is
/// hashed while the next ones are read and sent, instead of delaying each chunk's send by its
/// hashing (MD5 is slower than Base64 and was ~40 % of an upload's CPU, all of it on the path
/// between a free slot and the next chunk's request). The chunks it holds are the same
/// reference-counted buffers the sends hold; the queue holds at most one waiting chunk.
pub(super) struct Hashed {
    reader: ChunkReader,
    md5: Option<Md5Pipe>,
    upto: u64,
}

/// MD5 on the blocking pool: chunks in through a bounded channel, the digest out at the end.
struct Md5Pipe {
    chunks: tokio::sync::mpsc::Sender<Bytes>,
    digest: tokio::task::JoinHandle<String>,
}

impl Md5Pipe {
    fn start() -> Self {
        let (chunks, mut rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        let digest = tokio::task::spawn_blocking(move || {
            use md5::Digest as _;
            let mut h = md5::Md5::new();
            while let Some(chunk) = rx.blocking_recv() {
                h.update(&chunk);
            }
            format!("{:x}", h.finalize())
        });
        Self { chunks, digest }
    }
}

impl Hashed {
    /// A reader that hashes what it reads when `hash` is set.
    pub(super) fn new(reader: ChunkReader, hash: bool) -> Self {
        Self {
            reader,
            md5: hash.then(Md5Pipe::start),
            upto: 0,
        }
    }

    pub(super) async fn read_at(&mut self, start: u64, len: usize) -> Result<Bytes> {
        // Chunks a resumed upload skips (the server holds them) are still read and hashed
        // here, so the MD5 covers every byte and a mixed copy on the server is caught.
        self.hash_up_to(start, len.max(1)).await?;
        let data = self.reader.read_at(start, len).await?;
        if start == self.upto {
            if let Some(pipe) = &self.md5
                && pipe.chunks.send(data.clone()).await.is_err()
            {
                // The hashing thread ended early: only a panic does that; `md5` reports it.
                tracing::debug!("the MD5 thread stopped");
            }
            self.upto += data.len() as u64;
        } else {
            // Dropping the pipe ends its thread.
            self.md5 = None;
        }
        Ok(data)
    }

    pub(super) async fn ensure_end(&mut self, size: u64) -> Result<()> {
        self.reader.ensure_end(size).await
    }

    /// Reads and hashes the source from where the hash stands up to `end`, in pieces of at most
    /// `piece` bytes (the chunks skipped by a resume).
    async fn hash_up_to(&mut self, end: u64, piece: usize) -> Result<()> {
        while self.md5.is_some() && self.upto < end {
            let len = usize::try_from(end - self.upto).map_or(piece, |gap| gap.min(piece));
            let data = self.reader.read_at(self.upto, len).await?;
            if let Some(pipe) = &self.md5
                && pipe.chunks.send(data.clone()).await.is_err()
            {
                tracing::debug!("the MD5 thread stopped");
            }
            self.upto += data.len() as u64;
        }
        Ok(())
    }

    /// The hex MD5 of the whole content (the chunks a resume skipped read and hashed here),
    /// waiting for the hashing to catch up.
    pub(super) async fn md5(&mut self, size: u64) -> Result<Option<String>> {
        self.hash_up_to(size, 4 << 20).await?;
        let Some(Md5Pipe { chunks, digest }) = self.md5.take() else {
            return Ok(None);
        };
        drop(chunks);
        let hex = digest.await.map_err(|e| {
            Error::new(ErrorKind::Other)
                .with_message("hashing the uploaded content failed")
                .with_source(e)
        })?;
        Ok((self.upto == size).then_some(hex))
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn only_chunk_aligned_offsets_inside_the_file_count_as_stored() {
        use serde_json::json;
        let at = |v: Value| stored_offset(&v, 250, 100);
        assert_eq!(at(json!(0)), Some(0));
        assert_eq!(at(json!("200")), Some(200));
        assert_eq!(at(json!(" 100 ")), Some(100));
        assert_eq!(at(json!(150)), None, "another chunk size's offset");
        assert_eq!(at(json!(300)), None, "past the end");
        assert_eq!(at(json!(-100)), None);
        assert_eq!(at(json!("x")), None);
        assert_eq!(stored_offset(&json!(0), 250, 0), None);
    }

    /// The digest of chunks hashed on the blocking pool is the MD5 of the whole content, also
    /// for a resume that skips chunks.
    #[tokio::test]
    async fn hashed_reads_give_the_md5_of_the_content_in_order() {
        let data = Bytes::from(b"The quick brown fox jumps over the lazy dog".to_vec());
        let mut r = Hashed::new(ChunkReader::Bytes(data.clone()), true);
        for start in (0..43).step_by(10) {
            let len = (43 - start).min(10);
            assert_eq!(
                r.read_at(start, len as usize).await.unwrap().len(),
                len as usize
            );
        }
        assert_eq!(
            r.md5(43).await.unwrap().as_deref(),
            Some("9e107d9d372bb6826bd81d3542a419d6")
        );
        assert_eq!(r.md5(43).await.unwrap(), None, "taken once");

        // A resume skips the chunks the server holds: they are still read and hashed here, so
        // the digest covers every byte (a mixed copy on the server is caught).
        let mut skipped = Hashed::new(ChunkReader::Bytes(data.clone()), true);
        skipped.read_at(0, 10).await.unwrap();
        skipped.read_at(20, 10).await.unwrap();
        assert_eq!(
            skipped.md5(43).await.unwrap().as_deref(),
            Some("9e107d9d372bb6826bd81d3542a419d6")
        );
        let mut tail = Hashed::new(ChunkReader::Bytes(data.clone()), true);
        tail.read_at(0, 10).await.unwrap();
        assert_eq!(
            tail.md5(43).await.unwrap().as_deref(),
            Some("9e107d9d372bb6826bd81d3542a419d6"),
            "the chunks after the last one sent are read too"
        );
        // A source shorter than its announced size is an error, not a digest of less.
        let mut short = Hashed::new(ChunkReader::Bytes(data.clone()), true);
        short.read_at(0, 10).await.unwrap();
        assert!(short.md5(50).await.is_err());

        let mut off = Hashed::new(ChunkReader::Bytes(data), false);
        off.read_at(0, 43).await.unwrap();
        assert_eq!(off.md5(43).await.unwrap(), None);
    }
}
