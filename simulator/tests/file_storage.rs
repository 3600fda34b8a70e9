//! File contents on disk (`<db>.files`, outside the SQLite lock): chunked uploads of several MiB
//! assembled by streaming and downloaded back, contents surviving a restart, and uploads whose
//! record is refused leaving no content and no record.

mod common;

use std::path::Path;

use base64::Engine as _;
use common::{BOTH, Gen, H, config, start_with};
use md5::Digest as _;
use reqwest::Method;
use serde_json::{Value, json};

const MIB: usize = 1 << 20;

fn data_uri(bytes: &[u8]) -> String {
    format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn chunk_path(g: Gen) -> &'static str {
    match g {
        Gen::V22 => "/File",
        Gen::V23 => "/File/createChunk",
    }
}

/// Files in `dir` (none when it does not exist).
fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// A content that is not one repeated byte (a wrong order of chunks would show).
fn content(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect()
}

async fn download(h: &H, record: &Value) -> Vec<u8> {
    let r =
        h.c.get(record["downloadUrl"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let len = r.content_length();
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(len, Some(bytes.len() as u64), "streamed with its length");
    bytes
}

#[tokio::test]
async fn chunked_uploads_are_assembled_on_disk_and_survive_a_restart() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sim.sqlite");
        let files = dir.path().join("sim.sqlite.files");
        let data = content(6 * MIB + 12_345);
        let count = data.len().div_ceil(MIB);
        let h = start_with(g, config(g).db_path(&db)).await;
        let chunk = |i: usize| {
            let (start, end) = (i * MIB, ((i + 1) * MIB).min(data.len()));
            json!({
                "id": "a01bigfile", "name": "big.bin", "fileUniqueHash": "4711", "start": start,
                "piece": data_uri(&data[start..end]), "piecesCount": count,
            })
        };
        // Out of order, the completing chunk last.
        let mut record = Value::Null;
        for i in (1..count).rev().chain([0]) {
            record = h.post_ok(chunk_path(g), chunk(i)).await;
        }
        assert_eq!(record["id"], "a01bigfile");
        assert_eq!(record["fileSize"], data.len());
        assert_eq!(
            record["hash"],
            format!("{:x}", md5::Md5::digest(&data)),
            "the MD5 of the assembled content"
        );
        assert_eq!(download(&h, &record).await, data);
        let contents = files_in(&files.join("content"));
        assert_eq!(contents.len(), 1);
        assert_eq!(
            std::fs::metadata(&contents[0]).unwrap().len(),
            data.len() as u64
        );
        for left in ["chunks", "assembling", "tmp"] {
            assert!(files_in(&files.join(left)).is_empty(), "{left} is empty");
        }
        h.sim.shutdown().await;

        let h = start_with(g, config(g).db_path(&db)).await;
        let again = h.get_ok("/File/a01bigfile").await;
        assert_eq!(download(&h, &again).await, data, "after a restart");
    }
}

#[tokio::test]
async fn a_refused_record_leaves_neither_content_nor_record() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sim.sqlite");
        let files = dir.path().join("sim.sqlite.files");
        let h = start_with(g, config(g).db_path(&db)).await;
        // The folder is checked when the record is created, after the content was written.
        let bad_folder = |mut v: Value| {
            v["folderId"] = json!("no-such-folder");
            v
        };
        let data = content(MIB + 7);
        let path = chunk_path(g);
        let first = json!({
            "id": "a01refused", "name": "refused.bin", "fileUniqueHash": "1", "start": 0,
            "piece": data_uri(&data[..MIB]), "piecesCount": 2,
        });
        let last = json!({
            "id": "a01refused", "name": "refused.bin", "fileUniqueHash": "1", "start": MIB,
            "piece": data_uri(&data[MIB..]), "piecesCount": 2,
        });
        h.post_ok(path, bad_folder(first)).await;
        let r = h
            .send(Method::POST, path, Some(&bad_folder(last)), &[])
            .await;
        assert!(r.status.is_client_error(), "{}: {}", r.status, r.text);
        let base64 = json!({ "name": "refused.txt", "fileContents": data_uri(b"hello") });
        let r = h
            .send(Method::POST, "/File", Some(&bad_folder(base64)), &[])
            .await;
        assert!(r.status.is_client_error(), "{}: {}", r.status, r.text);

        assert_eq!(
            h.send(Method::GET, "/File/a01refused", None, &[])
                .await
                .status,
            404
        );
        assert_eq!(h.get_ok("/File").await["total"], 0, "no record");
        for left in ["content", "chunks", "assembling", "tmp"] {
            assert!(files_in(&files.join(left)).is_empty(), "{left} is empty");
        }
        // The same content with a valid record is stored (the failure left nothing in the way).
        let ok = h
            .post_ok(
                "/File",
                json!({ "name": "fine.txt", "fileContents": data_uri(b"hello") }),
            )
            .await;
        assert_eq!(download(&h, &ok).await, b"hello");
        assert_eq!(files_in(&files.join("content")).len(), 1);
    }
}
