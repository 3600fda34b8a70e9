//! File uploads: Base64, by URL, and a large file streamed in parallel chunks with progress,
//! then downloaded and compared.
//!
//! `cargo run -p atrocore-e2e --example upload [PATH]` (a generated file of `EXAMPLE_MB` MiB,
//! default 20, when no path). Uses the generated `file()` API: records come back typed.

#[path = "support/mod.rs"]
mod support;

use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = support::connect_typed().await?;

    let small = client
        .file()
        .upload_bytes("hello.txt", b"Hello, AtroCore!".to_vec())
        .on_name_conflict(atrocore_runtime::NameConflict::Rename)
        .await?;
    let url = small.record.download_url.clone();
    println!(
        "Base64 upload: File {} ({:?}) at {url:?}",
        small.id, small.record.name
    );

    if let Some(url) = url {
        let copy = client
            .file()
            .upload_url(url)
            .name("hello-copy.txt")
            .on_name_conflict(atrocore_runtime::NameConflict::Rename)
            .await?;
        println!("URL upload: File {} ({:?})", copy.id, copy.record.name);
    }

    let (path, _tmp) = match std::env::args().nth(1) {
        Some(p) => (std::path::PathBuf::from(p), None),
        None => {
            let mut tmp = tempfile::NamedTempFile::new()?;
            let block: Vec<u8> = (0..1 << 20).map(|i| (i * 31 % 251) as u8).collect();
            for _ in 0..support::size("EXAMPLE_MB", 20) {
                tmp.write_all(&block)?;
            }
            tmp.flush()?;
            (tmp.path().to_owned(), Some(tmp))
        }
    };
    let size = std::fs::metadata(&path)?.len();
    let upload = client
        .file()
        .upload_path(&path)
        .name("large.bin")
        .on_name_conflict(atrocore_runtime::NameConflict::Rename)
        .chunk_size(2 << 20)
        .parallel_chunks(4)
        .on_progress(|p| {
            println!(
                "  {:>5.1}% ({} of {} chunks)",
                p.bytes_done as f64 * 100.0 / p.total_bytes as f64,
                p.chunks_done,
                p.chunks_total
            )
        });
    println!(
        "chunked upload, session {:?} (reuse it to resume)",
        upload.chunk_session()
    );
    let file = upload.await?;
    println!("File {}: {} chunks sent", file.id, file.chunks_sent);

    let mut download = client.file().download(&file.id).await?;
    let mut received = 0u64;
    let mut source = tokio::fs::File::open(&path).await?;
    let mut same = true;
    use futures_util::TryStreamExt;
    use tokio::io::AsyncReadExt;
    while let Some(piece) = download.try_next().await? {
        let mut expected = vec![0u8; piece.len()];
        source.read_exact(&mut expected).await?;
        same &= expected[..] == piece[..];
        received += piece.len() as u64;
    }
    println!(
        "downloaded {received} of {size} bytes, identical: {}",
        same && received == size
    );
    if !(same && received == size) {
        return Err("the download differs from the file".into());
    }
    Ok(())
}
