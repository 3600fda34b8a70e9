//! Benchmarks of the bulk flows against the simulator (not a test: `cargo bench -p atrocore-e2e
//! --bench flows`; it builds in release mode).
//!
//! 1. Chunked upload of a large file (default 1 GiB; `BENCH_FILE_MIB`), chunk size
//!    `BENCH_CHUNK_MIB` (8) × `BENCH_PARALLEL` (4): throughput, and the client's peak memory
//!    (VmHWM of a separate client process) against the goal `64 MiB + chunk × parallel`.
//!    Baseline, same run, same process kind: reading the file and Base64-encoding every chunk,
//!    plus pushing the encoded volume through a loopback TCP socket to a sink.
//! 2. Bulk upsert of `BENCH_RECORDS` (100 000) Brand records: records/s and peak memory, against
//!    a baseline of the same batches pre-serialized and posted with `Client::request` (no item
//!    building, no answer parsing).
//!
//! The simulator runs in this process; every measured client runs in a child process (this
//! binary again, with `BENCH_ROLE` set) so that its VmHWM is its own.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use atrocore_runtime::{Client, UpsertItem, UpsertStatus};
use atrocore_sim::{SimConfig, Simulator};
use base64::Engine as _;
use futures_util::StreamExt;
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const MIB: u64 = 1 << 20;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set of this process, in bytes.
fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system) of this process so far, in seconds (clock ticks of 1/100 s).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok(role) => child(role),
        Err(_) => parent(),
    }
}

// ---------------------------------------------------------------------------------------------
// Parent: simulator, file, child processes, report
// ---------------------------------------------------------------------------------------------

fn parent() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let file_mib = env_u64("BENCH_FILE_MIB", 1024);
    let chunk_mib = env_u64("BENCH_CHUNK_MIB", 8);
    let parallel = env_u64("BENCH_PARALLEL", 4);
    let records = env_u64("BENCH_RECORDS", 100_000);

    let spec = std::fs::read(format!("{ROOT}/specs/atrocore-2.2-pim-default.json")).unwrap();
    let spec: Arc<Value> = Arc::new(serde_json::from_slice(&spec).unwrap());
    let sim = rt
        .block_on(Simulator::start(SimConfig::from_spec_value(spec.clone())))
        .unwrap();
    let url = sim.base_url().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.bin");
    write_file(&path, file_mib * MIB);
    let size = file_mib * MIB;
    println!(
        "== chunked upload: {file_mib} MiB, chunk {chunk_mib} MiB x {parallel} in parallel =="
    );
    let common = [
        ("BENCH_PATH", path.display().to_string()),
        ("BENCH_CHUNK_MIB", chunk_mib.to_string()),
        ("BENCH_PARALLEL", parallel.to_string()),
        ("BENCH_RECORDS", records.to_string()),
        ("ATROCORE_URL", url.clone()),
    ];
    let base = run_child("baseline", &common);
    let up = run_child("upload", &common);
    let base_secs = base["base64_secs"].as_f64().unwrap() + base["loopback_secs"].as_f64().unwrap();
    let up_secs = up["secs"].as_f64().unwrap();
    let mib = size as f64 / MIB as f64;
    let goal = 64 * MIB + chunk_mib * MIB * parallel;
    println!(
        "baseline (read + Base64 {:.2} s, loopback {:.2} s): {:.2} s, {:.0} MiB/s, peak {} MiB",
        base["base64_secs"].as_f64().unwrap(),
        base["loopback_secs"].as_f64().unwrap(),
        base_secs,
        mib / base_secs,
        base["hwm"].as_u64().unwrap() / MIB
    );
    println!(
        "upload: {:.2} s, {:.0} MiB/s, client peak {} MiB (goal < {} MiB: {})",
        up_secs,
        mib / up_secs,
        up["hwm"].as_u64().unwrap() / MIB,
        goal / MIB,
        if up["hwm"].as_u64().unwrap() < goal {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "ratio upload / baseline time: {:.2}x (1.0 = as fast as encoding and loopback alone)",
        up_secs / base_secs
    );
    println!(
        "client CPU: upload {:.2} s vs baseline {:.2} s (ratio {:.2}); the rest of the wall time \
         is the simulator (one SQLite store behind a lock)",
        up["cpu"].as_f64().unwrap(),
        base["cpu"].as_f64().unwrap(),
        up["cpu"].as_f64().unwrap() / base["cpu"].as_f64().unwrap().max(0.01)
    );
    match rt.block_on(verify(&url, up["id"].as_str().unwrap(), &path)) {
        Ok(same) => println!("downloaded file byte-identical to the source: {same}"),
        Err(e) => println!("download for the byte comparison failed: {e}"),
    }
    drop(dir);

    rt.block_on(sim.shutdown());

    // Each upsert run on a fresh simulator, items looked up by id (the simulator's lookup by
    // unique fields scans the table, which would make the later run slower).
    println!("== bulk upsert: {records} Brand records (by id), batches of 1000 ==");
    let upsert_run = |role: &str| {
        let sim = rt
            .block_on(Simulator::start(SimConfig::from_spec_value(spec.clone())))
            .unwrap();
        let mut env = common.clone();
        env[4].1 = sim.base_url().to_owned();
        let out = run_child(role, &env);
        rt.block_on(sim.shutdown());
        out
    };
    let ups = upsert_run("upsert");
    let raw = upsert_run("upsert-raw");
    let raw_rate = records as f64 / raw["secs"].as_f64().unwrap();
    let rate = records as f64 / ups["secs"].as_f64().unwrap();
    println!(
        "baseline (pre-serialized batches, plain request API, answers not parsed): {raw_rate:.0} records/s, peak {} MiB",
        raw["hwm"].as_u64().unwrap() / MIB
    );
    println!(
        "runtime upsert: {rate:.0} records/s, peak {} MiB, created {}",
        ups["hwm"].as_u64().unwrap() / MIB,
        ups["created"]
    );
    println!(
        "ratio runtime / baseline throughput: {:.2}",
        rate / raw_rate
    );
    println!(
        "client CPU: runtime {:.2} s, baseline {:.2} s",
        ups["cpu"].as_f64().unwrap(),
        raw["cpu"].as_f64().unwrap()
    );
}

fn write_file(path: &Path, size: u64) {
    let mut f = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(path).unwrap());
    let mut block = vec![0u8; MIB as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..size / MIB {
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 32) as u8;
        }
        block[0] = i as u8;
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

fn run_child(role: &str, env: &[(&str, String)]) -> Value {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("BENCH_ROLE", role);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        panic!(
            "child {role} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("child {role}: {e}: {text}"))
}

async fn verify(url: &str, id: &str, path: &Path) -> atrocore_runtime::Result<bool> {
    use futures_util::TryStreamExt;
    let client = Client::builder(url)
        .basic_auth("admin", "admin")
        .build()
        .unwrap();
    let mut dl = client.download_file(id).await?;
    let mut src = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut n = 0u64;
    while let Some(piece) = dl.try_next().await? {
        let mut want = vec![0u8; piece.len()];
        if src.read_exact(&mut want).is_err() || want[..] != piece[..] {
            return Ok(false);
        }
        n += piece.len() as u64;
    }
    Ok(n == std::fs::metadata(path).unwrap().len())
}

// ---------------------------------------------------------------------------------------------
// Children: one measurement each, one JSON line on stdout
// ---------------------------------------------------------------------------------------------

fn child(role: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = PathBuf::from(std::env::var("BENCH_PATH").unwrap());
    let chunk = (env_u64("BENCH_CHUNK_MIB", 8) * MIB) as usize;
    let parallel = env_u64("BENCH_PARALLEL", 4) as usize;
    let records = env_u64("BENCH_RECORDS", 100_000) as usize;
    let url = std::env::var("ATROCORE_URL").unwrap();
    let client = Client::builder(&url)
        .basic_auth("admin", "admin")
        .build()
        .unwrap();
    let result = match role {
        "baseline" => baseline(&path, chunk),
        "upload" => rt.block_on(async {
            client.login().await.unwrap();
            let t = Instant::now();
            let up = client
                .upload_path(&path)
                .chunk_size(chunk)
                .parallel_chunks(parallel)
                .await
                .unwrap();
            json!({ "secs": t.elapsed().as_secs_f64(), "id": up.id, "chunks": up.chunks_sent })
        }),
        "upsert" => rt.block_on(async {
            client.login().await.unwrap();
            let items = (0..records).map(|i| {
                UpsertItem::from_value(
                    "Brand",
                    json!({ "id": format!("rt{i:07}"), "name": format!("Runtime brand {i}") }),
                )
            });
            let t = Instant::now();
            // The stream keeps one batch's results at a time (2.2 answers full records).
            let mut outcomes = client
                .upsert(items)
                .batch_size(1000)
                .concurrency(env_u64("BENCH_UPSERT_CONCURRENCY", 1) as usize)
                .stream();
            let mut created = 0usize;
            while let Some(outcome) = outcomes.next().await {
                let results =
                    outcome.unwrap_or_else(|f| panic!("batch {:?}: {}", f.indices, f.error));
                created += results
                    .iter()
                    .filter(|r| r.status == UpsertStatus::Created)
                    .count();
            }
            json!({ "secs": t.elapsed().as_secs_f64(), "created": created })
        }),
        "upsert-raw" => rt.block_on(async {
            let bodies: Vec<Vec<u8>> = (0..records)
                .collect::<Vec<_>>()
                .chunks(1000)
                .map(|c| {
                    let items: Vec<Value> = c
                        .iter()
                        .map(|i| {
                            json!({ "entity": "Brand", "payload": {
                            "id": format!("rw{i:07}"), "name": format!("Raw brand {i}") } })
                        })
                        .collect();
                    serde_json::to_vec(&items).unwrap()
                })
                .collect();
            client.login().await.unwrap();
            let t = Instant::now();
            for body in bodies {
                client
                    .request(atrocore_runtime::Method::POST, "/MassActions/action/upsert")
                    .json_bytes(body)
                    .send_bytes()
                    .await
                    .unwrap();
            }
            json!({ "secs": t.elapsed().as_secs_f64() })
        }),
        other => panic!("unknown BENCH_ROLE {other}"),
    };
    let mut result = result;
    result["hwm"] = json!(vm_hwm());
    result["cpu"] = json!(cpu_secs());
    println!("{result}");
}

/// Reading and Base64-encoding every chunk, then sending the encoded volume over loopback TCP.
fn baseline(path: &Path, chunk: usize) -> Value {
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; chunk];
    let mut encoded = Vec::with_capacity(base64::encoded_len(chunk, true).unwrap());
    let mut encoded_total = 0u64;
    let t = Instant::now();
    loop {
        let n = read_full(&mut f, &mut buf);
        if n == 0 {
            break;
        }
        encoded.clear();
        encoded.resize(base64::encoded_len(n, true).unwrap(), 0);
        let w = engine.encode_slice(&buf[..n], &mut encoded).unwrap();
        encoded_total += w as u64;
    }
    let base64_secs = t.elapsed().as_secs_f64();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut b = vec![0u8; 1 << 20];
        let mut n = 0u64;
        loop {
            match s.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k as u64,
            }
        }
        n
    });
    let t = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut left = encoded_total;
    while left > 0 {
        let k = left.min(encoded.len() as u64) as usize;
        s.write_all(&encoded[..k]).unwrap();
        left -= k as u64;
    }
    drop(s);
    let received = sink.join().unwrap();
    assert_eq!(received, encoded_total);
    json!({ "base64_secs": base64_secs, "loopback_secs": t.elapsed().as_secs_f64() })
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => panic!("read: {e}"),
        }
    }
    n
}
