//! Compile checks over the real AtroCore specs in `../shared/specs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Args;

use crate::{SourceArgs, runtime_path_dep, settings_for, workspace_root};

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// Only specs whose file name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Run `cargo check` only (no clippy).
    #[arg(long)]
    no_clippy: bool,
    /// Folder with the specs (default: $ATROCORE_SHARED/specs, else ../shared/specs).
    #[arg(long)]
    specs: Option<PathBuf>,
}

/// The folder of AtroCore's reference documents: `ATROCORE_SHARED`, else `../shared` beside the
/// workspace (as the tests find it: `atrocore-testkit`).
pub(crate) fn shared_dir() -> PathBuf {
    match std::env::var_os("ATROCORE_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("../shared"),
    }
}

pub(crate) fn spec_files(dir: Option<&Path>, only: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| shared_dir().join("specs"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "json" || x == "yaml" || x == "yml")
        })
        .filter(|p| {
            only.is_none_or(|o| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(o))
            })
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no specs found in {}", dir.display()));
    }
    Ok(files)
}

pub(crate) fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The instance metadata that goes with a spec, if present: `../metadata/<stem>.metadata.json`
/// beside a reference spec's folder (`../shared/specs` → `../shared/metadata`), or
/// `metadata/<stem>.json` beside a fixture.
pub(crate) fn metadata_for(spec: &Path) -> Option<PathBuf> {
    let dir = spec.parent()?;
    let beside_folder = dir.parent().map(|p| {
        p.join("metadata")
            .join(format!("{}.metadata.json", stem(spec)))
    });
    let beside_fixture = dir.join("metadata").join(format!("{}.json", stem(spec)));
    beside_folder
        .into_iter()
        .chain([beside_fixture])
        .find(|p| p.is_file())
}

/// Generate a standalone crate for `spec_path` (with `metadata` when given) into `out`.
pub(crate) fn generate_into(
    spec_path: &Path,
    metadata: Option<&Path>,
    out: &Path,
    include: &[String],
) -> Result<Duration, String> {
    let source = SourceArgs {
        spec: Some(spec_path.to_path_buf()),
        metadata: metadata.map(Path::to_path_buf),
        include: include.to_vec(),
        ..SourceArgs::default()
    };
    let start = Instant::now();
    let loaded = crate::load(&source)?;
    let crate_name = format!(
        "atrocore-{}",
        stem(spec_path)
            .trim_start_matches("atrocore-")
            .replace('.', "-")
    );
    let settings = settings_for(
        &loaded,
        &source,
        &crate_name,
        runtime_path_dep(out, &workspace_root().join("runtime")),
        format!("cargo xtask check-real-specs ({})", loaded.label),
        true,
    );
    let generated =
        atrocore_codegen::generate(&loaded.spec, &settings).map_err(|e| e.to_string())?;
    let took = start.elapsed();
    crate::output::write(out, &generated.files, false)?;
    Ok(took)
}

pub(crate) fn check(args: CheckArgs) -> Result<(), String> {
    let root = workspace_root();
    let work = root.join("target/real-specs");
    let target = work.join("target");
    let mut rows = Vec::new();
    for spec in spec_files(args.specs.as_deref(), args.only.as_deref())? {
        let out = work.join(stem(&spec));
        // With the instance metadata when there is some, as users are told to generate.
        let gen_time = generate_into(&spec, metadata_for(&spec).as_deref(), &out, &[])?;
        let check_args: Vec<&str> = if args.no_clippy {
            vec!["check", "--all-targets", "--quiet"]
        } else {
            vec!["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"]
        };
        // Warnings are errors in generated code too.
        let took = {
            let start = Instant::now();
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(&check_args)
                .current_dir(&out)
                .env("CARGO_TARGET_DIR", &target)
                .env("RUSTFLAGS", "-D warnings")
                .status()
                .map_err(|e| format!("running cargo: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "the crate generated from {} does not compile cleanly ({})",
                    spec.display(),
                    out.display()
                ));
            }
            start.elapsed()
        };
        println!(
            "ok {}: generated in {:.0} ms, {} in {:.1} s",
            stem(&spec),
            gen_time.as_secs_f64() * 1e3,
            check_args[0],
            took.as_secs_f64()
        );
        rows.push(stem(&spec));
    }
    println!("{} generated crates compile cleanly", rows.len());
    Ok(())
}
