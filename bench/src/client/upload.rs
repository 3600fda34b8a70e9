//! Chunked upload of a file: the runtime's `upload_path` against a hand-written uploader doing
//! the same work: the same chunk requests (JSON with the piece as a Base64 data URI), the first
//! chunk alone, then at most `parallel` in flight, each encoded in its own task, the completing
//! one alone and last, every answer read. The runtime also MD5-hashes the source on the way
//! (to compare with the server's `hash`); the baseline does not, nor does the runtime with
//! `checksum(false)`.

use std::path::Path;
use std::time::Instant;

use atrocore_client::runtime::UploadMethod;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;

use super::{ClientArgs, generated_client, raw_login};

fn source(args: &ClientArgs) -> Result<&Path, String> {
    args.file
        .as_deref()
        .ok_or_else(|| "uploads need --file".to_owned())
}

/// The record's size and MD5 as the server answered them.
fn answer_line(secs: f64, id: &str, record: &Value) -> Value {
    json!({
        "secs": secs,
        "id": id,
        "bytes": record.get("fileSize").cloned().unwrap_or(Value::Null),
        "md5": record.get("hash").cloned().unwrap_or(Value::Null),
    })
}

/// The runtime, with or without its MD5 check of the content.
pub(super) async fn runtime(args: &ClientArgs, checksum: bool) -> Result<Value, String> {
    let path = source(args)?;
    let client = generated_client(&args.url).await?;
    let started = Instant::now();
    let up = client
        .runtime()
        .upload_path(path)
        .method(UploadMethod::Chunked)
        .chunk_size(args.chunk)
        .parallel_chunks(args.parallel)
        .checksum(checksum)
        .await
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    Ok(answer_line(secs, &up.id, &up.record))
}

/// The baseline.
pub(super) async fn raw(args: &ClientArgs) -> Result<Value, String> {
    let path = source(args)?;
    let (http, token) = raw_login(&args.url).await?;
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let chunk = args.chunk as u64;
    let count = size.div_ceil(chunk);
    if count == 0 {
        return Err("the source is empty".into());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload.bin".into());
    let id = format!("raw{}", args.tag);
    let sender = Sender {
        http,
        token,
        url: format!("{}/api/v1/File", args.url),
        prefix: move |start: u64| {
            serde_json::to_vec(&json!({
                "name": name,
                "id": id,
                "fileUniqueHash": "73021955",
                "start": start,
                "piecesCount": count,
            }))
        },
    };
    let sender = std::sync::Arc::new(sender);
    let started = Instant::now();
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // The first chunk alone, the middle ones `parallel` at a time, the last alone.
    let mut last = sender
        .send(0, read(&mut file, 0, size, chunk).await?)
        .await?;
    if count > 1 {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 1..count - 1 {
            while tasks.len() >= args.parallel {
                join(&mut tasks).await?;
            }
            let data = read(&mut file, i * chunk, size, chunk).await?;
            let s = sender.clone();
            tasks.spawn(async move { s.send(i * chunk, data).await });
        }
        while !tasks.is_empty() {
            join(&mut tasks).await?;
        }
        let start = (count - 1) * chunk;
        last = sender
            .send(start, read(&mut file, start, size, chunk).await?)
            .await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let id = last["id"]
        .as_str()
        .ok_or("the completing chunk's answer has no id")?
        .to_owned();
    Ok(answer_line(secs, &id, &last))
}

/// The chunk at `start` (read in order: the file position is `start`).
async fn read(
    file: &mut tokio::fs::File,
    start: u64,
    size: u64,
    chunk: u64,
) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; (size - start).min(chunk) as usize];
    file.read_exact(&mut buf)
        .await
        .map_err(|e| format!("reading the source: {e}"))?;
    Ok(buf)
}

async fn join(tasks: &mut tokio::task::JoinSet<Result<Value, String>>) -> Result<(), String> {
    match tasks.join_next().await {
        Some(Ok(r)) => r.map(drop),
        Some(Err(e)) => Err(format!("a chunk task failed: {e}")),
        None => Ok(()),
    }
}

/// Posts chunks: `prefix(start)` gives the chunk's JSON fields (an object, without `piece`).
struct Sender<P> {
    http: reqwest::Client,
    token: String,
    url: String,
    prefix: P,
}

impl<P: Fn(u64) -> serde_json::Result<Vec<u8>>> Sender<P> {
    async fn send(&self, start: u64, data: Vec<u8>) -> Result<Value, String> {
        const URI: &[u8] = b",\"piece\":\"data:application/octet-stream;base64,";
        let mut body = (self.prefix)(start).map_err(|e| e.to_string())?;
        body.pop(); // the closing brace
        body.extend_from_slice(URI);
        let at = body.len();
        let encoded = base64::encoded_len(data.len(), true).ok_or("chunk too large")?;
        body.resize(at + encoded, 0);
        base64::engine::general_purpose::STANDARD
            .encode_slice(&data, &mut body[at..])
            .map_err(|e| e.to_string())?;
        drop(data);
        body.extend_from_slice(b"\"}");
        let answer = self
            .http
            .post(&self.url)
            .header("Authorization-Token", &self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("chunk at {start}: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("chunk at {start}: {e}"))?;
        let answer: Value =
            serde_json::from_slice(&answer).map_err(|e| format!("chunk at {start}: {e}"))?;
        if answer.get("chunks").is_none() {
            return Err(format!("chunk at {start}: unexpected answer {answer}"));
        }
        Ok(answer)
    }
}
