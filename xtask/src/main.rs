//! `cargo xtask`: the project's tasks. The only code that touches the disk or the network for
//! the generator.
//!
//! - `generate`: spec (file or live instance) → crate folder (defaults: the bundled default spec
//!   → `generated-example/`), printing what was written and what changed in the API;
//! - `verify`: check mode: fail when the example crate is stale or has orphaned files;
//! - `reduce`: cut a spec down to some entities (how `specs/` was made);
//! - `check-real-specs`: generate a crate from every spec in `../shared/specs` and compile it;
//! - `bench`: time generation of the real specs (and optionally their compile times).

mod fetch;
mod output;
mod real_specs;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use atrocore_codegen::{EntityFilter, RuntimeDependency, Settings, spec::Spec};
use clap::{Args, Parser, Subcommand};

/// The project's default spec, relative to the workspace root.
pub const DEFAULT_SPEC: &str = "specs/atrocore-2.2-pim-default.json";
/// Instance metadata for the default spec (cut from the real instance's), relative to the root.
pub const DEFAULT_METADATA: &str = "specs/atrocore-2.2-pim-default.metadata.json";
/// Where the example crate lives.
pub const EXAMPLE_DIR: &str = "generated-example";

#[derive(Parser)]
#[command(name = "cargo xtask", about = "atrocore-rs project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a client crate (default: the example crate from the default spec).
    Generate(GenerateArgs),
    /// Fail if the example crate is out of date with the default spec.
    Verify,
    /// Write a reduced spec with only some entities (and no prose with --strip-prose).
    Reduce(ReduceArgs),
    /// Generate and compile (check + clippy) a crate from every spec in ../shared/specs.
    CheckRealSpecs(real_specs::CheckArgs),
    /// Time generation of every real spec (release-like: the generator is optimised in dev).
    Bench(real_specs::BenchArgs),
}

#[derive(Args, Default, Clone)]
pub(crate) struct SourceArgs {
    /// Spec file (JSON or YAML).
    #[arg(long, conflicts_with = "url")]
    spec: Option<PathBuf>,
    /// A live instance: its root, its /apidocs/ page, or the spec URL itself.
    #[arg(long)]
    url: Option<String>,
    /// User for Basic auth when fetching (instances behind a proxy).
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// Password for Basic auth.
    #[arg(long, requires = "user")]
    password: Option<String>,
    /// An AtroCore token (sent as Authorization-Token).
    #[arg(long, conflicts_with = "user")]
    token: Option<String>,
    /// Instance metadata JSON (`GET …/Metadata`) for real field kinds.
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// With --url and credentials: fetch the instance's metadata too.
    #[arg(long, requires = "url")]
    fetch_metadata: bool,
    /// Only these entities (comma-separated).
    #[arg(long, value_delimiter = ',')]
    include: Vec<String>,
    /// Never these entities (comma-separated).
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output folder (default: generated-example).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Package name of the generated crate.
    #[arg(long, default_value = "atrocore-client")]
    crate_name: String,
    /// Depend on the runtime by this crates.io version instead of by path.
    #[arg(long, conflicts_with = "runtime_path")]
    runtime_version: Option<String>,
    /// Depend on the runtime by this path (default: the workspace's runtime/, relative).
    #[arg(long)]
    runtime_path: Option<PathBuf>,
    /// Add an empty [workspace] so the crate builds on its own inside another workspace.
    #[arg(long)]
    standalone: bool,
    /// Do not write: fail when the output folder differs.
    #[arg(long)]
    check: bool,
}

#[derive(Args)]
struct ReduceArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Where to write the reduced spec.
    #[arg(long)]
    out: PathBuf,
    /// Remove summary/description prose.
    #[arg(long)]
    strip_prose: bool,
    /// Also cut the --metadata file down to the kept entities and write it here.
    #[arg(long, requires = "metadata")]
    metadata_out: Option<PathBuf>,
}

/// The workspace root (xtask's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => generate(GenerateArgs::default_example()),
        Some(Command::Generate(args)) => generate(args),
        Some(Command::Verify) => {
            let mut args = GenerateArgs::default_example();
            args.check = true;
            generate(args)
        }
        Some(Command::Reduce(args)) => reduce(args),
        Some(Command::CheckRealSpecs(args)) => real_specs::check(args),
        Some(Command::Bench(args)) => real_specs::bench(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

impl GenerateArgs {
    fn default_example() -> GenerateArgs {
        GenerateArgs {
            source: SourceArgs::default(),
            out: None,
            crate_name: "atrocore-client".into(),
            runtime_version: None,
            runtime_path: None,
            standalone: false,
            check: false,
        }
    }
}

/// A loaded spec plus how to name it in preambles.
pub(crate) struct Loaded {
    pub spec: Spec,
    pub label: String,
    pub metadata: Option<serde_json::Value>,
}

pub(crate) fn load(source: &SourceArgs) -> Result<Loaded, String> {
    let root = workspace_root();
    let (spec, label) = if let Some(url) = &source.url {
        let (text, spec_url) = fetch::spec(url, &fetch::Auth::from_args(source))?;
        (
            Spec::parse(spec_url.clone(), &text).map_err(|e| e.to_string())?,
            spec_url,
        )
    } else {
        let path = source
            .spec
            .clone()
            .unwrap_or_else(|| root.join(DEFAULT_SPEC));
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let label = display_path(&path, &root);
        (
            Spec::parse(path.display().to_string(), &text).map_err(|e| e.to_string())?,
            label,
        )
    };
    let default_metadata = (source.spec.is_none() && source.url.is_none())
        .then(|| root.join(DEFAULT_METADATA))
        .filter(|p| p.exists());
    let metadata_path = source.metadata.clone().or(default_metadata);
    let metadata = match (&metadata_path, source.fetch_metadata) {
        (Some(path), _) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?,
            )
        }
        (None, true) => {
            let url = source.url.as_deref().expect("clap requires --url");
            Some(fetch::metadata(
                url,
                &spec,
                &fetch::Auth::from_args(source),
            )?)
        }
        (None, false) => None,
    };
    Ok(Loaded {
        spec,
        label,
        metadata,
    })
}

/// A path as written in preambles: relative to the workspace when inside it, else its file name
/// (never an absolute local path, so output does not depend on where it ran).
pub fn display_path(path: &Path, root: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if let Ok(rel) = abs.strip_prefix(&root) {
        return rel.display().to_string();
    }
    if let Some(shared) = root.parent().map(|p| p.join("shared")) {
        if let Ok(rel) = abs.strip_prefix(&shared) {
            return format!("../shared/{}", rel.display());
        }
    }
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn command_line(args: &GenerateArgs, is_default: bool) -> String {
    if is_default {
        return "cargo xtask generate".into();
    }
    let mut cmd = vec!["cargo xtask generate".to_owned()];
    if let Some(url) = &args.source.url {
        cmd.push(format!("--url {url}"));
    }
    if let Some(spec) = &args.source.spec {
        cmd.push(format!("--spec {}", display_path(spec, &workspace_root())));
    }
    if args.crate_name != "atrocore-client" {
        cmd.push(format!("--crate-name {}", args.crate_name));
    }
    if !args.source.include.is_empty() {
        cmd.push(format!("--include {}", args.source.include.join(",")));
    }
    if !args.source.exclude.is_empty() {
        cmd.push(format!("--exclude {}", args.source.exclude.join(",")));
    }
    cmd.join(" ")
}

/// Settings for generating into `out`.
pub(crate) fn settings_for(
    loaded: &Loaded,
    source: &SourceArgs,
    out: &Path,
    crate_name: &str,
    runtime: RuntimeDependency,
    command: String,
    standalone: bool,
) -> Settings {
    let _ = out;
    Settings {
        crate_name: crate_name.to_owned(),
        runtime,
        filter: EntityFilter {
            include: source.include.clone(),
            exclude: source.exclude.clone(),
        },
        spec_label: loaded.label.clone(),
        command,
        standalone_workspace: standalone,
        metadata: loaded.metadata.clone(),
    }
}

/// The runtime dependency for a crate written to `out`: a relative path when possible.
pub(crate) fn runtime_path_dep(out: &Path, runtime_dir: &Path) -> RuntimeDependency {
    let out_abs = absolute(out);
    let rt_abs = absolute(runtime_dir);
    RuntimeDependency::Path(relative_path(&out_abs, &rt_abs).display().to_string())
}

fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    // Normalise `.` and `..` without touching the disk (the folder may not exist yet).
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c);
    }
    rel
}

fn generate(args: GenerateArgs) -> Result<(), String> {
    let start = Instant::now();
    let root = workspace_root();
    let is_default = args.source.spec.is_none() && args.source.url.is_none() && args.out.is_none();
    let loaded = load(&args.source)?;
    let out = args.out.clone().unwrap_or_else(|| root.join(EXAMPLE_DIR));
    let runtime = match (&args.runtime_version, &args.runtime_path) {
        (Some(v), _) => RuntimeDependency::Version(v.clone()),
        (None, Some(p)) => runtime_path_dep(&out, p),
        (None, None) => runtime_path_dep(&out, &root.join("runtime")),
    };
    let settings = settings_for(
        &loaded,
        &args.source,
        &out,
        &args.crate_name,
        runtime,
        command_line(&args, is_default),
        args.standalone,
    );
    let generated =
        atrocore_codegen::generate(&loaded.spec, &settings).map_err(|e| e.to_string())?;
    let gen_time = start.elapsed();
    for w in &generated.api.warnings {
        eprintln!("warning: {}#{}: {}", loaded.label, w.pointer, w.message);
    }
    if args.check {
        let problems = output::check(&out, &generated.files)?;
        if problems.is_empty() {
            println!("{} is up to date with {}", out.display(), loaded.label);
            return Ok(());
        }
        let mut msg = format!("{} is stale:\n", out.display());
        for p in problems {
            msg.push_str(&format!("  {p}\n"));
        }
        msg.push_str("run `cargo xtask generate` to regenerate it");
        return Err(msg);
    }
    let report = output::write(&out, &generated.files)?;
    let api = &generated.api;
    let ops: usize = api
        .entities
        .iter()
        .map(|e| e.operations.len() + standard_count(e))
        .sum::<usize>()
        + api.groups.iter().map(|g| g.operations.len()).sum::<usize>();
    println!(
        "generated {} from {} in {:.0} ms: {} entities, {} route groups, {} operations, {} files ({} written, {} unchanged, {} removed)",
        out.display(),
        loaded.label,
        gen_time.as_secs_f64() * 1000.0,
        api.entities.len(),
        api.groups.len(),
        ops,
        generated.files.len(),
        report.written,
        report.unchanged,
        report.removed,
    );
    match report.api_changes {
        None => println!("no earlier api.json: nothing to compare"),
        Some(changes) if changes.is_empty() => println!("API unchanged since the last generation"),
        Some(changes) => {
            println!("API changes since the last generation:");
            for c in changes {
                println!("  {c}");
            }
        }
    }
    Ok(())
}

fn standard_count(e: &atrocore_codegen::ir::Entity) -> usize {
    let s = &e.standard;
    [
        s.list.is_some(),
        s.read.is_some(),
        s.create.is_some(),
        s.update.is_some(),
        s.delete.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

fn reduce(args: ReduceArgs) -> Result<(), String> {
    let loaded = load(&args.source)?;
    let options = atrocore_codegen::reduce::ReduceOptions {
        filter: EntityFilter {
            include: args.source.include.clone(),
            exclude: args.source.exclude.clone(),
        },
        strip_prose: args.strip_prose,
    };
    let reduced =
        atrocore_codegen::reduce::reduce(&loaded.spec, &options).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&reduced).map_err(|e| e.to_string())?;
    text.push('\n');
    output::write_file_atomic(&args.out, text.as_bytes())?;
    println!(
        "wrote {} ({} bytes) from {}",
        args.out.display(),
        text.len(),
        loaded.label
    );
    if let (Some(out), Some(metadata)) = (&args.metadata_out, &loaded.metadata) {
        let reduced_spec =
            Spec::from_value(args.out.display().to_string(), reduced).map_err(|e| e.to_string())?;
        let cut = atrocore_codegen::reduce::reduce_metadata(metadata, &reduced_spec);
        let mut text = serde_json::to_string_pretty(&cut).map_err(|e| e.to_string())?;
        text.push('\n');
        output::write_file_atomic(out, text.as_bytes())?;
        println!("wrote {} ({} bytes)", out.display(), text.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in example crate must be what the generator makes of the default spec.
    #[test]
    fn example_is_up_to_date() {
        let root = workspace_root();
        let loaded = load(&SourceArgs::default()).expect("the default spec loads");
        let out = root.join(EXAMPLE_DIR);
        let args = GenerateArgs::default_example();
        let settings = settings_for(
            &loaded,
            &args.source,
            &out,
            &args.crate_name,
            runtime_path_dep(&out, &root.join("runtime")),
            command_line(&args, true),
            false,
        );
        let generated = atrocore_codegen::generate(&loaded.spec, &settings)
            .expect("the default spec generates");
        let problems =
            output::check(&out, &generated.files).expect("the example folder is readable");
        assert!(
            problems.is_empty(),
            "generated-example/ is out of date with {}:\n  {}\nrun `cargo xtask generate` to regenerate it",
            DEFAULT_SPEC,
            problems.join("\n  ")
        );
    }

    #[test]
    fn relative_runtime_paths() {
        assert_eq!(
            relative_path(Path::new("/w/generated-example"), Path::new("/w/runtime")),
            PathBuf::from("../runtime")
        );
        assert_eq!(
            relative_path(Path::new("/w/target/x/y"), Path::new("/w/runtime")),
            PathBuf::from("../../../runtime")
        );
    }
}
