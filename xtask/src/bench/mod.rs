//! `cargo xtask bench`: measurements, never tests.
//!
//! - default: generation of every real spec, in process, by stage (what `generate` does:
//!   reading and parsing the spec and the metadata, selecting, lowering, emitting, the API
//!   summary), against parsing the spec text alone;
//! - `--compile`: also `cargo check` of each generated crate, cold and after touching a file;
//! - `--client [--smoke]`: the client-overhead benchmarks (`bench/`, crate `atrocore-bench`):
//!   the generated client against hand-written baselines, on a fast static server, client and
//!   server in separate processes;
//! - `--vs`: everything side by side with the anchors (progenitor, openapi-generator), which
//!   are installed on demand into a cache folder outside the repository.
//!
//! One concern per module: [`generation`] (our generator), [`anchors`] (installing and running
//! the other generators), [`compile`] (check times), [`client`] (client overhead), [`vs`] (the
//! side-by-side run), [`report`] (medians and tables).

mod anchors;
mod attributes;
mod client;
mod compile;
mod generation;
mod report;
mod vs;

use std::path::PathBuf;

use clap::Args;

/// `cargo xtask bench` arguments.
#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Iterations per spec for generation timings (the median is shown).
    #[arg(long, default_value_t = 5)]
    iterations: u32,
    /// Also time `cargo check` of each generated crate from an empty target dir, and again
    /// after touching src/lib.rs.
    #[arg(long)]
    compile: bool,
    /// Only specs whose file name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Folder with the specs (default: $ATROCORE_SHARED/specs, else ../shared/specs; metadata from
    /// the `metadata` folder beside it).
    #[arg(long)]
    specs: Option<PathBuf>,
    /// Generate only these entities (comma-separated) when timing compiles.
    #[arg(long, value_delimiter = ',')]
    include: Vec<String>,
    /// Run the client-overhead benchmarks (streaming, chunked upload, bulk upsert).
    #[arg(long)]
    client: bool,
    /// What typed attributes cost: generation and `cargo check` of the default crate with
    /// 200 attributes against without.
    #[arg(long, conflicts_with_all = ["client", "compile", "vs"])]
    attributes: bool,
    /// With --client: tiny sizes, one run, a debug build; checks correctness only (CI).
    #[arg(long, requires = "client")]
    smoke: bool,
    /// Everything side by side with progenitor and openapi-generator.
    #[arg(long, conflicts_with_all = ["client", "compile"])]
    vs: bool,
    /// With --vs: skip the cold/incremental `cargo check` timings (the longest part).
    #[arg(long, requires = "vs")]
    no_compile: bool,
    /// With --vs: rounds of cold and touched checks of our crate and progenitor's, and of the
    /// 5-entity crate and the dependency floor, the order alternating (the medians are shown).
    #[arg(long, default_value_t = 3, requires = "vs")]
    cold_runs: u32,
    /// Folder for the anchors and the work files of --vs (default: $ATROCORE_BENCH_CACHE, else
    /// $XDG_CACHE_HOME/atrocore-bench, else ~/.cache/atrocore-bench).
    #[arg(long)]
    cache: Option<PathBuf>,
    #[command(flatten)]
    sizes: client::Sizes,
}

/// Runs the benchmark the arguments ask for.
pub(crate) fn run(args: BenchArgs) -> Result<(), String> {
    if args.vs {
        return vs::run(&args);
    }
    if args.attributes {
        return attributes::run(args.iterations, 3);
    }
    if args.client {
        let cfg = args.sizes.resolve(args.smoke);
        let rows = client::run(&cfg)?;
        report::print_client(
            &rows,
            &report::ClientRun {
                smoke: cfg.smoke,
                runs: cfg.runs,
                upload_runs: cfg.upload_runs,
            },
        );
        return Ok(());
    }
    let specs = crate::real_specs::spec_files(args.specs.as_deref(), args.only.as_deref())?;
    generation::print_stages(&specs, args.iterations)?;
    if args.compile {
        compile::print_ours(&specs, &args.include)?;
    }
    Ok(())
}

/// The cache folder for anchors and work files (outside the repository).
fn cache_dir(args: &BenchArgs) -> Result<PathBuf, String> {
    let dir = if let Some(d) = &args.cache {
        d.clone()
    } else if let Some(d) = std::env::var_os("ATROCORE_BENCH_CACHE") {
        PathBuf::from(d)
    } else if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        PathBuf::from(d).join("atrocore-bench")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".cache/atrocore-bench")
    } else {
        return Err("no cache folder: set --cache or ATROCORE_BENCH_CACHE".into());
    };
    let root = crate::workspace_root();
    let abs = if dir.is_absolute() {
        dir
    } else {
        std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(dir)
    };
    if abs.starts_with(&root) {
        // Crates generated there would belong to this workspace, and `cargo check` would refuse
        // them (and the anchors' files would show in `git status`).
        return Err(format!(
            "the bench cache {} must be outside the repository",
            abs.display()
        ));
    }
    std::fs::create_dir_all(&abs).map_err(|e| format!("{}: {e}", abs.display()))?;
    Ok(abs)
}
