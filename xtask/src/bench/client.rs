//! Client overhead: drives the `atrocore-bench` binary (crate `bench/`). One server process,
//! then one client process per run, ours and the baseline alternating (so that neither always
//! runs on a warmer machine). Every run's result is checked here too, against what the server
//! says it received: the records counted, the uploaded bytes' length and MD5, the upserted
//! items. A failed check is an error, never a figure.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::Value;

use super::report::{Row, median_f64};

const MIB: u64 = 1 << 20;

/// Sizes of the client benchmarks (defaults: the figures; `--smoke`: tiny).
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct Sizes {
    /// Runs of each client (the median is shown; default 5, uploads 3; smoke 1).
    #[arg(long)]
    runs: Option<u32>,
    /// Records the server holds and the streams fetch (default 100000).
    #[arg(long)]
    records: Option<usize>,
    /// Page size of the streams (default 200).
    #[arg(long)]
    page: Option<u64>,
    /// Upload size in MiB (default 1024).
    #[arg(long)]
    file_mib: Option<u64>,
    /// Chunk size in MiB (default 8).
    #[arg(long)]
    chunk_mib: Option<u64>,
    /// Chunks in flight (default 4).
    #[arg(long)]
    parallel: Option<usize>,
    /// Upsert items (default 20000).
    #[arg(long)]
    items: Option<usize>,
    /// Upsert items per request (default 1000).
    #[arg(long)]
    batch: Option<usize>,
    /// Upsert requests in flight (default 1).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Run this prebuilt `atrocore-bench` binary instead of building one (to compare two builds
    /// of the runtime: copy the binary of one aside, then run both).
    #[arg(long)]
    bench_bin: Option<PathBuf>,
}

/// Resolved sizes.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(super) smoke: bool,
    pub(super) runs: u32,
    pub(super) upload_runs: u32,
    pub(super) records: usize,
    pub(super) page: u64,
    pub(super) file_bytes: u64,
    pub(super) chunk: u64,
    pub(super) parallel: usize,
    pub(super) items: usize,
    pub(super) batch: usize,
    pub(super) concurrency: usize,
    pub(super) bench_bin: Option<PathBuf>,
}

impl Sizes {
    pub(super) fn resolve(&self, smoke: bool) -> Config {
        let (runs, upload_runs) = match (self.runs, smoke) {
            (Some(n), _) => (n.max(1), n.max(1)),
            (None, true) => (1, 1),
            (None, false) => (5, 3),
        };
        let pick =
            |v: Option<u64>, full: u64, tiny: u64| v.unwrap_or(if smoke { tiny } else { full });
        Config {
            smoke,
            runs,
            upload_runs,
            records: pick(self.records.map(|v| v as u64), 100_000, 3_000) as usize,
            page: pick(self.page, 200, 200),
            file_bytes: self
                .file_mib
                .map_or(if smoke { 3 * MIB + 12_345 } else { 1024 * MIB }, |m| {
                    m * MIB
                }),
            chunk: pick(self.chunk_mib, 8, 1) * MIB,
            parallel: pick(self.parallel.map(|v| v as u64), 4, 2) as usize,
            items: pick(self.items.map(|v| v as u64), 20_000, 2_000) as usize,
            batch: pick(self.batch.map(|v| v as u64), 1000, 500) as usize,
            concurrency: pick(self.concurrency.map(|v| v as u64), 1, 1) as usize,
            bench_bin: self.bench_bin.clone(),
        }
    }
}

/// Builds the bench binary (release, or debug for smoke runs) and returns its path.
fn build(smoke: bool) -> Result<PathBuf, String> {
    let mut args = vec![
        "build",
        "--quiet",
        "-p",
        "atrocore-bench",
        "--message-format=json",
    ];
    if !smoke {
        args.push("--release");
    }
    eprintln!(
        "building atrocore-bench ({})",
        if smoke { "debug" } else { "release" }
    );
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(&args)
        .current_dir(crate::workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running cargo build: {e}"))?;
    if !output.status.success() {
        return Err("building atrocore-bench failed".into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["target"]["name"] == "atrocore-bench")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo build named no atrocore-bench executable".into())
}

/// The server process; it stops when its stdin closes (on drop).
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
}

impl Server {
    fn start(exe: &Path, records: usize) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .args(["server", "--records", &records.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the bench server: {e}"))?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let url = line
            .trim()
            .strip_prefix("listening ")
            .map(str::to_owned)
            .ok_or_else(|| format!("the bench server did not start (said {line:?})"))?;
        Ok(Self { child, stdin, url })
    }

    fn stats(&self) -> Result<Value, String> {
        let url = format!("{}/bench/stats", self.url);
        let text = ureq::get(&url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?
            .into_string()
            .map_err(|e| format!("{url}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One client run: its JSON line.
fn client(exe: &Path, role: &str, url: &str, args: &[String]) -> Result<Value, String> {
    let output = Command::new(exe)
        .args(["client", role, "--url", url])
        .args(args)
        .output()
        .map_err(|e| format!("running the {role} client: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the {role} client failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("the {role} client printed {line:?}: {e}"))
}

fn num(v: &Value, key: &str) -> Result<f64, String> {
    v[key]
        .as_f64()
        .ok_or_else(|| format!("a client line without `{key}`: {v}"))
}

/// Runs each role `runs` times, the order rotating from run to run (so that no role always
/// runs first, on a warmer or colder machine); `check` sees each line (and its role) and fails
/// the bench when the work was not done. The lines, by role.
fn runs_of(
    exe: &Path,
    url: &str,
    roles: &[&str],
    runs: u32,
    args: &dyn Fn(&str, u32) -> Vec<String>,
    check: &mut dyn FnMut(&str, &Value) -> Result<(), String>,
) -> Result<Vec<Vec<Value>>, String> {
    let mut lines: Vec<Vec<Value>> = vec![Vec::new(); roles.len()];
    for run in 0..runs {
        for k in 0..roles.len() {
            let i = (k + run as usize) % roles.len();
            let line = client(exe, roles[i], url, &args(roles[i], run))?;
            check(roles[i], &line)?;
            lines[i].push(line);
        }
    }
    Ok(lines)
}

/// `work / secs` of each line, and its median.
fn rate(lines: &[Value], work: f64) -> Result<f64, String> {
    let rates: Result<Vec<f64>, String> = lines
        .iter()
        .map(|l| num(l, "secs").map(|s| work / s))
        .collect();
    Ok(median_f64(rates?))
}

fn cpu(lines: &[Value]) -> f64 {
    median_f64(lines.iter().filter_map(|l| l["cpu"].as_f64()).collect())
}

fn peak(lines: &[Value]) -> u64 {
    lines
        .iter()
        .filter_map(|l| l["hwm"].as_u64())
        .max()
        .unwrap_or(0)
}

/// Runs the three benchmarks and returns their rows.
pub(crate) fn run(cfg: &Config) -> Result<Vec<Row>, String> {
    let exe = match &cfg.bench_bin {
        Some(exe) => exe.clone(),
        None => build(cfg.smoke)?,
    };
    let server = Server::start(&exe, cfg.records)?;
    let mut rows = Vec::new();
    streams(cfg, &exe, &server, &mut rows)?;
    upload(cfg, &exe, &server, &mut rows)?;
    upsert(cfg, &exe, &server, &mut rows)?;
    Ok(rows)
}

fn streams(cfg: &Config, exe: &Path, server: &Server, rows: &mut Vec<Row>) -> Result<(), String> {
    let args = |_: &str, _: u32| {
        vec![
            "--records".into(),
            cfg.records.to_string(),
            "--page".into(),
            cfg.page.to_string(),
        ]
    };
    let mut check = |role: &str, l: &Value| {
        let (n, d) = (num(l, "records")?, num(l, "distinct")?);
        if n as usize != cfg.records || d as usize != cfg.records {
            return Err(format!(
                "{role}: {n} records, {d} distinct, not {}",
                cfg.records
            ));
        }
        Ok(())
    };
    let n = cfg.records as f64;
    let mut compare = |name: String, ours: &str, base: &str| -> Result<Row, String> {
        let lines = runs_of(exe, &server.url, &[ours, base], cfg.runs, &args, &mut check)?;
        Ok(Row::ratio(
            name,
            "records/s",
            rate(&lines[0], n)?,
            rate(&lines[1], n)?,
            0.9,
            format!(
                "client CPU {:.2} s vs {:.2} s",
                cpu(&lines[0]),
                cpu(&lines[1])
            ),
        ))
    };
    for mode in ["offset", "keyset"] {
        rows.push(compare(
            format!("stream {mode} ({} records, page {})", cfg.records, cfg.page),
            &format!("stream-{mode}"),
            &format!("raw-stream-{mode}"),
        )?);
    }
    // The change feed catching up every record (one in ten in tie groups of a thousand)
    // against the keyset stream of the same records: ours against ours.
    rows.push(compare(
        format!(
            "change feed vs keyset stream ({} records, page {})",
            cfg.records, cfg.page
        ),
        "changes",
        "stream-keyset",
    )?);
    Ok(())
}

/// `{size, md5}` of the file `make-file` wrote.
fn make_file(exe: &Path, path: &Path, bytes: u64) -> Result<(u64, String), String> {
    let output = Command::new(exe)
        .args(["make-file", "--bytes", &bytes.to_string(), "--path"])
        .arg(path)
        .output()
        .map_err(|e| format!("make-file: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "make-file failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let v: Value = serde_json::from_slice(&output.stdout).map_err(|e| format!("make-file: {e}"))?;
    let md5 = v["md5"]
        .as_str()
        .ok_or("make-file printed no md5")?
        .to_owned();
    Ok((bytes, md5))
}

fn upload(cfg: &Config, exe: &Path, server: &Server, rows: &mut Vec<Row>) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("atrocore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("upload.bin");
    let result = (|| {
        let (size, md5) = make_file(exe, &path, cfg.file_bytes)?;
        let args = |_: &str, run: u32| {
            vec![
                "--file".into(),
                path.display().to_string(),
                "--chunk".into(),
                cfg.chunk.to_string(),
                "--parallel".into(),
                cfg.parallel.to_string(),
                "--tag".into(),
                format!("u{run}"),
            ]
        };
        let mut check = |role: &str, l: &Value| {
            let id = l["id"]
                .as_str()
                .ok_or_else(|| format!("{role}: no file id"))?;
            let stats = server.stats()?;
            let got = &stats["uploads"][id];
            if got["bytes"].as_u64() != Some(size) || got["md5"].as_str() != Some(md5.as_str()) {
                return Err(format!(
                    "{role}: the server received {got} for file {id}, not {size} bytes with MD5 {md5}"
                ));
            }
            if l["md5"].as_str() != Some(md5.as_str()) {
                return Err(format!(
                    "{role}: the client saw MD5 {}, not {md5}",
                    l["md5"]
                ));
            }
            Ok(())
        };
        let lines = runs_of(
            exe,
            &server.url,
            &["upload", "raw-upload", "upload-no-checksum"],
            cfg.upload_runs,
            &args,
            &mut check,
        )?;
        let (ours, base, unhashed) = (&lines[0], &lines[1], &lines[2]);
        let mib = size as f64 / MIB as f64;
        let name = format!(
            "upload {:.0} MiB ({} MiB x {})",
            mib,
            cfg.chunk / MIB,
            cfg.parallel
        );
        rows.push(Row::ratio(
            name.clone(),
            "MiB/s",
            rate(ours, mib)?,
            rate(base, mib)?,
            0.8,
            format!(
                "with the MD5 check (default); client CPU {:.2} s vs {:.2} s",
                cpu(ours),
                cpu(base)
            ),
        ));
        rows.push(Row::ratio(
            "upload, checksum(false)".to_owned(),
            "MiB/s",
            rate(unhashed, mib)?,
            rate(base, mib)?,
            0.8,
            format!(
                "no MD5, like the baseline; client CPU {:.2} s",
                cpu(unhashed)
            ),
        ));
        let limit = 64 * MIB + cfg.chunk * cfg.parallel as u64;
        rows.push(Row::limit(
            "upload peak RSS of the client".into(),
            peak(ours).max(peak(unhashed)),
            peak(base),
            limit,
        ));
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn upsert(cfg: &Config, exe: &Path, server: &Server, rows: &mut Vec<Row>) -> Result<(), String> {
    let args = |role: &str, run: u32| {
        vec![
            "--items".into(),
            cfg.items.to_string(),
            "--batch".into(),
            cfg.batch.to_string(),
            "--concurrency".into(),
            cfg.concurrency.to_string(),
            "--tag".into(),
            format!("{role}{run}"),
        ]
    };
    let counts = |s: &Value| {
        (
            s["upsert"]["created"].as_u64(),
            s["upsert"]["failed"].as_u64(),
        )
    };
    let mut before = counts(&server.stats()?);
    let mut check = |role: &str, l: &Value| {
        let after = counts(&server.stats()?);
        let created = after.0.zip(before.0).map(|(a, b)| a - b);
        let failed = after.1.zip(before.1).map(|(a, b)| a - b);
        before = after;
        if created != Some(cfg.items as u64) || failed != Some(0) || num(l, "failed")? != 0.0 {
            return Err(format!(
                "{role}: the server created {created:?} of {} items, {failed:?} failed",
                cfg.items
            ));
        }
        Ok(())
    };
    let lines = runs_of(
        exe,
        &server.url,
        &["upsert", "raw-upsert", "upsert-report", "core-upsert"],
        cfg.runs,
        &args,
        &mut check,
    )?;
    let (ours, base, report, core) = (&lines[0], &lines[1], &lines[2], &lines[3]);
    let n = cfg.items as f64;
    let name = format!("upsert {} ({} x {})", cfg.items, cfg.batch, cfg.concurrency);
    rows.push(Row::ratio(
        format!("{name} .stream()"),
        "items/s",
        rate(ours, n)?,
        rate(base, n)?,
        0.95,
        format!(
            "client CPU {:.2} s vs {:.2} s; peak RSS {:.0} MiB vs {:.0} MiB",
            cpu(ours),
            cpu(base),
            peak(ours) as f64 / MIB as f64,
            peak(base) as f64 / MIB as f64
        ),
    ));
    rows.push(Row::breakdown(
        "upsert batches via the request core".to_owned(),
        "items/s",
        rate(core, n)?,
        rate(base, n)?,
        "the baseline's bodies and checks, sent with Client::request: the request core's share"
            .into(),
    ));
    rows.push(Row::ratio(
        "upsert .await (report)".to_owned(),
        "items/s",
        rate(report, n)?,
        rate(base, n)?,
        0.95,
        format!(
            "keeps every result and record: client CPU {:.2} s, peak RSS {:.0} MiB",
            cpu(report),
            peak(report) as f64 / MIB as f64
        ),
    ));
    Ok(())
}
