//! `cargo check` times of generated crates: cold (an empty target dir; dependencies already
//! downloaded, so the network is not timed) and again after touching `src/lib.rs` (what a user
//! waits for after an edit or a regeneration).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::real_specs::{generate_into, stem};

/// The two times of one crate.
#[derive(Debug, Clone, Copy)]
pub(super) struct CheckTimes {
    pub(super) cold: Duration,
    pub(super) touched: Duration,
}

fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<Duration, String> {
    let start = Instant::now();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = err.lines().rev().take(12).collect();
        return Err(format!(
            "`cargo {}` failed in {}:\n{}",
            args.join(" "),
            dir.display(),
            lines.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(start.elapsed())
}

/// Cold and touched `cargo check` of the crate in `dir` (with `extra` arguments, e.g. feature
/// flags), with `target` as its own target dir (emptied first).
pub(super) fn check_crate(dir: &Path, target: &Path, extra: &[&str]) -> Result<CheckTimes, String> {
    let _ = std::fs::remove_dir_all(target);
    cargo(dir, target, &["fetch", "--quiet"])?;
    let mut args = vec!["check", "--quiet"];
    args.extend_from_slice(extra);
    let cold = cargo(dir, target, &args)?;
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    std::fs::write(&lib, format!("{text}\n")).map_err(|e| format!("{}: {e}", lib.display()))?;
    let touched = cargo(dir, target, &args)?;
    Ok(CheckTimes { cold, touched })
}

/// The runtime's dependency floor: cold `cargo check` of an empty crate that depends on the
/// runtime, with its `rustls` feature or with no TLS at all.
pub(super) fn floor(work: &Path, tls: bool) -> Result<Duration, String> {
    let name = if tls { "floor-rustls" } else { "floor-no-tls" };
    let dir = work.join(name);
    let runtime = crate::workspace_root().join("runtime");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\natrocore-runtime = {{ path = {:?}, default-features = false{} }}\n\n[workspace]\n",
        runtime.display().to_string(),
        if tls { ", features = [\"rustls\"]" } else { "" }
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/lib.rs"), "//! Empty.\n").map_err(|e| e.to_string())?;
    Ok(check_crate(&dir, &dir.join("target"), &[])?.cold)
}

/// The `cargo check` arguments that build our crate in `dir` without TLS (like progenitor's
/// crate, whose reqwest has none) but with every entity module (`full`, when the crate has
/// per-entity features: `--no-default-features` alone would drop them all).
pub(super) fn no_tls_all_entities(dir: &Path) -> Result<Vec<String>, String> {
    let manifest = dir.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut args = vec!["--no-default-features".to_owned()];
    if text.lines().any(|l| l.starts_with("full = [")) {
        args.extend(["--features".to_owned(), "full".to_owned()]);
    }
    Ok(args)
}

/// The entities of the "5 entities enabled" goal, as cargo features of a generated crate.
pub(super) const FIVE_ENTITIES: [&str; 5] = ["user", "team", "file", "folder", "job"];

/// Whether the crate in `dir` has every feature of [`FIVE_ENTITIES`].
pub(super) fn has_five_entities(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| {
        FIVE_ENTITIES
            .iter()
            .all(|f| text.lines().any(|l| l.starts_with(&format!("{f} = ["))))
    })
}

/// Cold checks of the dependency floor (no TLS) and of the crate in `dir` with only
/// [`FIVE_ENTITIES`] (no TLS), alternating, `runs` times each (so that neither always runs on a
/// warmer machine): every time, floor first then crate, and their medians.
pub(super) fn floor_vs_five(
    work: &Path,
    dir: &Path,
    target: &Path,
    runs: u32,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let features = FIVE_ENTITIES.join(",");
    let args = ["--no-default-features", "--features", features.as_str()];
    let (mut floors, mut five) = (Vec::new(), Vec::new());
    for run in 0..runs.max(1) {
        if run % 2 == 0 {
            floors.push(floor(work, false)?);
            five.push(check_crate(dir, target, &args)?.cold);
        } else {
            five.push(check_crate(dir, target, &args)?.cold);
            floors.push(floor(work, false)?);
        }
    }
    Ok((floors, five))
}

/// `cargo xtask bench --compile`: our crates only.
pub(super) fn print_ours(specs: &[PathBuf], include: &[String]) -> Result<(), String> {
    let root = crate::workspace_root();
    println!(
        "cargo check of the generated crates (default features), cold and after touching src/lib.rs"
    );
    for spec in specs {
        let work = root.join("target/bench-compile").join(stem(spec));
        let _ = std::fs::remove_dir_all(&work);
        let out = work.join("crate");
        generate_into(spec, None, &out, include)?;
        let t = check_crate(&out, &work.join("target"), &[])?;
        println!(
            "{:<30} cold {:>6.1} s, touched {:>5.1} s",
            stem(spec),
            t.cold.as_secs_f64(),
            t.touched.as_secs_f64()
        );
    }
    Ok(())
}
