//! Test helpers shared by this workspace's crates: where AtroCore's reference specs and
//! metadata are, and what a test does when something a fresh clone lacks is missing.
//!
//! The reference documents (`specs/*.json`, `metadata/*.metadata.json`, produced by AtroCore's
//! own spec generator for real instances) are not part of this repository: they live in the
//! folder named by `ATROCORE_SHARED`, else in `../shared` beside the workspace. A test that
//! needs one calls [`reference`](fn@reference); when the file is missing the test prints one line naming it
//! and returns, so `cargo test --workspace` passes on a fresh clone, except under `CI=true`
//! (this project's CI), where a missing file fails the test: CI never skips silently.
#![deny(missing_docs, missing_debug_implementations)]

use std::path::{Path, PathBuf};

/// Where the reference documents come from, said with every skip.
const HOW: &str =
    "AtroCore's reference specs, not in this repository: ../shared or ATROCORE_SHARED, see README";

/// The workspace root: the nearest folder with a `Cargo.lock` above the package whose test runs
/// (cargo sets `CARGO_MANIFEST_DIR` for a test process), read at run time so that an artifact
/// built from another checkout never points at that checkout; else this crate's parent.
fn workspace_root() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR"));
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| built_in.to_path_buf(), PathBuf::from);
    start
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .map_or_else(
            || built_in.parent().unwrap_or(built_in).to_path_buf(),
            Path::to_path_buf,
        )
}

/// The folder of the reference specs and metadata: `ATROCORE_SHARED`, else `../shared` beside
/// the workspace.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("ATROCORE_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("../shared"),
    }
}

/// Whether this run is CI's (`CI` set to anything but `false`/`0`/empty): nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The path of `rel` (such as `specs/atrocore-core.json`) in the reference folder, or `None`
/// when it is missing: then one line on stderr says the calling test is skipped and why.
///
/// # Panics
/// When the file is missing under `CI=true`.
#[track_caller]
pub fn reference(rel: &str) -> Option<PathBuf> {
    let path = shared_dir().join(rel);
    if path.is_file() {
        return Some(path);
    }
    skip(&format!("needs {} ({HOW})", path.display()));
    None
}

/// The reference folder itself, when it holds `specs/` (see [`reference`](fn@reference) for what happens
/// when it does not).
#[track_caller]
pub fn reference_dir() -> Option<PathBuf> {
    let dir = shared_dir();
    if dir.join("specs").is_dir() {
        return Some(dir);
    }
    skip(&format!("needs {}/specs ({HOW})", dir.display()));
    None
}

/// Reads and parses the reference JSON document `rel`, or `None` as [`reference`](fn@reference) does.
///
/// # Panics
/// When the file exists but is not JSON, or is missing under `CI=true`.
#[track_caller]
pub fn reference_json(rel: &str) -> Option<serde_json::Value> {
    let path = reference(rel)?;
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Some(serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display())))
}

/// Skips the calling test with one line on stderr naming `why`; under `CI=true` panics with it.
///
/// # Panics
/// Under `CI=true`.
#[track_caller]
pub fn skip(why: &str) {
    let at = std::panic::Location::caller();
    if in_ci() {
        panic!("{at}: {why}; CI=true, so this is a failure, not a skip");
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    // Straight to the process's stderr: libtest captures `eprintln!` of a passing test, and
    // a skip must be seen.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped {test} ({at}): {why}");
}
