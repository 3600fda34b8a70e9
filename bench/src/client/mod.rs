//! One measured client run per process: the generated client through the runtime, or its
//! hand-written reqwest + serde_json baseline doing the same work against the same server.
//! Each run checks its own result (and fails otherwise), then prints one JSON line: `secs` (the
//! timed part), the figures the driver checks, `hwm` (peak RSS, VmHWM, bytes) and `cpu` (user +
//! system seconds of the whole process).

mod stream;
mod upload;
mod upsert;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

/// What one client run does.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Role {
    /// Generated client: `product().list().stream()` (offset paging).
    StreamOffset,
    /// Generated client: `product().list().keyset_stream()`.
    StreamKeyset,
    /// Generated client: `product().changes_since(beginning)`, every product once.
    Changes,
    /// Baseline: reqwest + serde_json, offset pages.
    RawStreamOffset,
    /// Baseline: reqwest + serde_json, keyset pages.
    RawStreamKeyset,
    /// Runtime: chunked `upload_path` (MD5 of the content checked against the server's).
    Upload,
    /// Runtime: chunked `upload_path` with `checksum(false)` (no MD5, like the baseline).
    UploadNoChecksum,
    /// Baseline: the same chunks, Base64 in JSON, same parallelism.
    RawUpload,
    /// Generated client: `product().upsert(posts).stream()`, each batch's results checked.
    Upsert,
    /// Generated client: `product().upsert(posts).await`, the full report.
    UpsertReport,
    /// Baseline: pre-serialized batches, answers read and checked.
    RawUpsert,
    /// Breakdown: the baseline's batches sent through the runtime's request core.
    CoreUpsert,
}

/// `client` arguments.
#[derive(Args)]
pub(crate) struct ClientArgs {
    /// What to run.
    #[arg(value_enum)]
    role: Role,
    /// The server's root URL.
    #[arg(long)]
    url: String,
    /// Streams: records the server holds (each run checks it saw exactly these, distinct).
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Streams: page size.
    #[arg(long, default_value_t = 200)]
    page: u64,
    /// Uploads: the source file.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Uploads: chunk size in bytes.
    #[arg(long, default_value_t = 8 << 20)]
    chunk: usize,
    /// Uploads: chunks in flight at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Upserts: items.
    #[arg(long, default_value_t = 20_000)]
    items: usize,
    /// Upserts: items per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Upserts: requests in flight at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Upserts: a tag that makes this run's ids its own.
    #[arg(long, default_value = "0")]
    tag: String,
}

/// Runs one role and prints its JSON line.
pub(crate) fn run(args: ClientArgs) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut out = rt.block_on(async {
        match args.role {
            Role::StreamOffset => stream::runtime(&args, false).await,
            Role::StreamKeyset => stream::runtime(&args, true).await,
            Role::Changes => stream::changes(&args).await,
            Role::RawStreamOffset => stream::raw(&args, false).await,
            Role::RawStreamKeyset => stream::raw(&args, true).await,
            Role::Upload => upload::runtime(&args, true).await,
            Role::UploadNoChecksum => upload::runtime(&args, false).await,
            Role::RawUpload => upload::raw(&args).await,
            Role::Upsert => upsert::runtime(&args, false).await,
            Role::UpsertReport => upsert::runtime(&args, true).await,
            Role::RawUpsert => upsert::raw(&args).await,
            Role::CoreUpsert => upsert::core(&args).await,
        }
    })?;
    out["hwm"] = json!(peak_rss());
    out["cpu"] = json!(cpu_secs());
    println!("{out}");
    Ok(())
}

/// A generated client logged in to `url` (the login is not timed).
async fn generated_client(url: &str) -> Result<atrocore_client::Client, String> {
    let client = atrocore_client::Client::builder(url)
        .basic_auth("admin", "admin")
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| e.to_string())?;
    client.runtime().login().await.map_err(|e| e.to_string())?;
    Ok(client)
}

/// The baseline's HTTP client and token: a plain `GET /api/v1/App/user` with Basic auth.
async fn raw_login(url: &str) -> Result<(reqwest::Client, String), String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| e.to_string())?;
    let answer: Value = http
        .get(format!("{url}/api/v1/App/user"))
        .basic_auth("admin", Some("admin"))
        .header("Authorization-Token-Only", "true")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("login: {e}"))?
        .json()
        .await
        .map_err(|e| format!("login: {e}"))?;
    let token = answer["authorizationToken"]
        .as_str()
        .ok_or("the login answer has no authorizationToken")?
        .to_owned();
    Ok((http, token))
}

/// Peak resident set size of this process (VmHWM), in bytes.
fn peak_rss() -> u64 {
    proc_status_kb("VmHWM:").map_or(0, |kb| kb * 1024)
}

fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, 100 ticks a second).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
