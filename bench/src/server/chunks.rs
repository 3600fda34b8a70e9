//! `POST /File` with `piecesCount`: a chunk sink. Each chunk is decoded, fed to an MD5 in offset
//! order (chunks that arrive early wait in memory), and discarded; the chunk that completes the
//! set answers a File record with the size and MD5 of everything received, as AtroCore does
//! (`fileSize`, `hash`: the content's MD5, `Core/FileStorage/LocalStorage.php`). Intermediate
//! answers list the stored offsets (`chunks`), like AtroCore's `createChunk`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use md5::Digest as _;
use serde::Deserialize;
use serde_json::json;

use super::{App, error, json_bytes, unauthorized};

/// The fields of a chunk the sink reads.
#[derive(Deserialize)]
struct ChunkBody<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "fileUniqueHash", borrow)]
    unique_hash: Cow<'a, str>,
    start: u64,
    #[serde(rename = "piecesCount")]
    pieces: u64,
    #[serde(borrow)]
    piece: Cow<'a, str>,
    #[serde(default, borrow)]
    name: Cow<'a, str>,
}

/// One upload in progress.
struct Upload {
    pieces: u64,
    received: BTreeSet<u64>,
    /// Chunks received ahead of the hashed prefix.
    pending: BTreeMap<u64, Vec<u8>>,
    hashed_upto: u64,
    md5: md5::Md5,
}

/// What the server holds of a completed upload.
#[derive(Debug, Clone)]
pub(crate) struct Completed {
    pub(crate) bytes: u64,
    pub(crate) md5: String,
}

/// Uploads in progress and completed.
#[derive(Default)]
pub(crate) struct Uploads {
    open: HashMap<String, Upload>,
    completed: BTreeMap<String, Completed>,
}

impl Uploads {
    /// Completed uploads by File id.
    pub(crate) fn completed(&self) -> &BTreeMap<String, Completed> {
        &self.completed
    }

    /// Takes one decoded chunk; returns the stored offsets and, when it completed the set, the
    /// upload's size and MD5.
    fn take(
        &mut self,
        key: String,
        file_id: &str,
        start: u64,
        pieces: u64,
        data: Vec<u8>,
    ) -> Result<(Vec<u64>, Option<Completed>), String> {
        let up = self.open.entry(key.clone()).or_insert_with(|| Upload {
            pieces,
            received: BTreeSet::new(),
            pending: BTreeMap::new(),
            hashed_upto: 0,
            md5: md5::Md5::new(),
        });
        if up.pieces != pieces {
            return Err(format!(
                "piecesCount changed from {} to {pieces}",
                up.pieces
            ));
        }
        // A chunk sent again (a retry) is stored once.
        if up.received.insert(start) {
            up.pending.insert(start, data);
            while let Some(next) = up.pending.remove(&up.hashed_upto) {
                up.md5.update(&next);
                up.hashed_upto += next.len() as u64;
            }
        }
        let stored: Vec<u64> = up.received.iter().copied().collect();
        if (up.received.len() as u64) < up.pieces {
            return Ok((stored, None));
        }
        let up = self.open.remove(&key).expect("present above");
        if !up.pending.is_empty() {
            return Err(format!(
                "the chunks do not join: the bytes after offset {} are missing",
                up.hashed_upto
            ));
        }
        let done = Completed {
            bytes: up.hashed_upto,
            md5: format!("{:x}", up.md5.finalize()),
        };
        self.completed.insert(file_id.to_owned(), done.clone());
        Ok((stored, Some(done)))
    }
}

/// `POST /File`: one chunk.
pub(crate) async fn chunk(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = unauthorized(&app, &headers) {
        return r;
    }
    // Decoding and hashing are CPU work: off the I/O threads.
    let work = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let chunk: ChunkBody<'_> =
            serde_json::from_slice(&body).map_err(|e| format!("not a chunk: {e}"))?;
        let (_, b64) = chunk
            .piece
            .split_once(',')
            .ok_or("`piece` is not a data URI")?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("`piece` is not Base64: {e}"))?;
        let key = format!("{}/{}", chunk.id, chunk.unique_hash);
        let (stored, done) = app.uploads.lock().unwrap_or_else(|p| p.into_inner()).take(
            key,
            &chunk.id,
            chunk.start,
            chunk.pieces,
            data,
        )?;
        let chunks: Vec<String> = stored.iter().map(u64::to_string).collect();
        let answer = match done {
            None => json!({ "chunks": chunks }),
            Some(done) => json!({
                "id": chunk.id,
                "name": chunk.name,
                "fileSize": done.bytes,
                "hash": done.md5,
                "mimeType": "application/octet-stream",
                "chunks": chunks,
            }),
        };
        serde_json::to_vec(&answer).map_err(|e| e.to_string())
    })
    .await;
    match work {
        Ok(Ok(body)) => json_bytes(body),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, &e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_out_of_order_hash_in_order() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut u = Uploads::default();
        let parts = [(400u64, 400..800), (0, 0..400), (800, 800..1000)];
        let mut last = None;
        for (start, range) in parts {
            let (stored, done) = u
                .take("f/1".into(), "f", start, 3, data[range].to_vec())
                .unwrap();
            assert!(stored.contains(&start));
            last = done;
        }
        let done = last.expect("complete after three chunks");
        assert_eq!(done.bytes, 1000);
        assert_eq!(done.md5, format!("{:x}", md5::Md5::digest(&data)));
        assert_eq!(u.completed()["f"].bytes, 1000);
    }

    #[test]
    fn a_gap_is_an_error() {
        let mut u = Uploads::default();
        u.take("g/1".into(), "g", 0, 2, vec![1; 10]).unwrap();
        assert!(u.take("g/1".into(), "g", 20, 2, vec![1; 10]).is_err());
    }
}
