//! Compile checks and benchmarks over the real AtroCore specs in `../shared/specs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use atrocore_codegen::spec::Spec;
use clap::Args;

use crate::{Loaded, SourceArgs, runtime_path_dep, settings_for, workspace_root};

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// Only specs whose file name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Run `cargo check` only (no clippy).
    #[arg(long)]
    no_clippy: bool,
    /// Folder with the specs (default: ../shared/specs).
    #[arg(long)]
    specs: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Iterations per spec.
    #[arg(long, default_value_t = 5)]
    iterations: u32,
    /// Also time `cargo check` of each generated crate from an empty target dir, and a rebuild
    /// after touching one file.
    #[arg(long)]
    compile: bool,
    /// Only specs whose file name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Folder with the specs (default: ../shared/specs).
    #[arg(long)]
    specs: Option<PathBuf>,
    /// Generate only these entities (comma-separated) when timing compiles.
    #[arg(long, value_delimiter = ',')]
    include: Vec<String>,
}

fn spec_files(dir: Option<&Path>, only: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join("../shared/specs"));
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

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Generate a standalone crate for `spec_path` into `out`.
fn generate_into(spec_path: &Path, out: &Path, include: &[String]) -> Result<Duration, String> {
    let source = SourceArgs {
        spec: Some(spec_path.to_path_buf()),
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

fn cargo(args: &[&str], dir: &Path, target: &Path) -> Result<Duration, String> {
    let start = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo {}` failed in {}",
            args.join(" "),
            dir.display()
        ));
    }
    Ok(start.elapsed())
}

pub(crate) fn check(args: CheckArgs) -> Result<(), String> {
    let root = workspace_root();
    let work = root.join("target/real-specs");
    let target = work.join("target");
    let mut rows = Vec::new();
    for spec in spec_files(args.specs.as_deref(), args.only.as_deref())? {
        let out = work.join(stem(&spec));
        let gen_time = generate_into(&spec, &out, &[])?;
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub(crate) fn bench(args: BenchArgs) -> Result<(), String> {
    let root = workspace_root();
    println!(
        "{:<34} {:>10} {:>10} {:>12} {:>8}",
        "spec", "parse ms", "gen ms", "gen/parse", "target"
    );
    for spec_path in spec_files(args.specs.as_deref(), args.only.as_deref())? {
        let text = std::fs::read_to_string(&spec_path).map_err(|e| e.to_string())?;
        // Baseline measured in the same run: parsing the spec text into JSON, the least any
        // generator must do.
        let mut parse = Vec::new();
        let mut generate = Vec::new();
        for _ in 0..args.iterations.max(1) {
            let t = Instant::now();
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            parse.push(t.elapsed());
            drop(v);
            let t = Instant::now();
            let spec =
                Spec::parse(spec_path.display().to_string(), &text).map_err(|e| e.to_string())?;
            let loaded = Loaded {
                spec,
                label: stem(&spec_path),
                metadata: None,
            };
            let settings = settings_for(
                &loaded,
                &SourceArgs::default(),
                "bench",
                atrocore_codegen::RuntimeDependency::Version("0.1".into()),
                "bench".into(),
                true,
            );
            let t_lower = Instant::now();
            let api = atrocore_codegen::lower::lower(&loaded.spec, &settings)
                .map_err(|e| e.to_string())?;
            let lower_time = t_lower.elapsed();
            let t_emit = Instant::now();
            let out = atrocore_codegen::emit::emit(&api, &settings).map_err(|e| e.to_string())?;
            let emit_time = t_emit.elapsed();
            generate.push(t.elapsed());
            if std::env::var_os("XTASK_BENCH_STAGES").is_some() {
                let bytes: usize = out.values().map(String::len).sum();
                eprintln!(
                    "  lower {:.0} ms, emit {:.0} ms, {} files, {} KiB",
                    lower_time.as_secs_f64() * 1e3,
                    emit_time.as_secs_f64() * 1e3,
                    out.len(),
                    bytes / 1024
                );
            }
            drop(out);
        }
        let (p, g) = (median(parse), median(generate));
        println!(
            "{:<34} {:>10.1} {:>10.1} {:>11.1}x {:>8}",
            stem(&spec_path),
            p.as_secs_f64() * 1e3,
            g.as_secs_f64() * 1e3,
            g.as_secs_f64() / p.as_secs_f64(),
            if g <= Duration::from_millis(500) {
                "<=500ms"
            } else {
                "MISSED"
            }
        );
        if args.compile {
            let work = root.join("target/bench-compile").join(stem(&spec_path));
            let target = work.join("target");
            let _ = std::fs::remove_dir_all(&work);
            let out = work.join("crate");
            generate_into(&spec_path, &out, &args.include)?;
            let cold = cargo(&["check", "--quiet"], &out, &target)?;
            let lib = out.join("src/lib.rs");
            let text = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
            std::fs::write(&lib, format!("{text}\n")).map_err(|e| e.to_string())?;
            let warm = cargo(&["check", "--quiet"], &out, &target)?;
            println!(
                "    cargo check: {:.1} s from an empty target dir, {:.1} s after touching src/lib.rs",
                cold.as_secs_f64(),
                warm.as_secs_f64()
            );
        }
    }
    Ok(())
}
