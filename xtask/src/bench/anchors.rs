//! The anchors: other generators, installed on demand into the bench cache (never into the
//! repository) and run on the same specs. Whatever cannot be installed or run is a [`Skip`]
//! with its reason, printed with the results.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::report::median;

/// progenitor's CLI, pinned so that runs compare.
pub(super) const PROGENITOR_VERSION: &str = "0.15.1";
/// openapi-generator, from PyPI's `openapi-generator-cli` wheel, which carries the jar.
pub(super) const OPENAPI_GENERATOR_VERSION: &str = "7.26.0";

/// Why an anchor (or one of its runs) was left out.
#[derive(Debug, Clone)]
pub(super) struct Skip(pub(super) String);

/// An installed anchor.
#[derive(Debug, Clone)]
pub(super) enum Anchor {
    /// `cargo-progenitor` (run as `cargo-progenitor progenitor -i … -o … -n … -v …`).
    Progenitor(PathBuf),
    /// `java -jar openapi-generator.jar generate -g rust …`.
    OpenApiGenerator(PathBuf),
}

/// Why a command failed, for a skip reason: its first line that reads as an error, else its
/// last lines.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(e) = lines
        .iter()
        .find(|l| l.starts_with("Error") || l.starts_with("error") || l.contains("Exception"))
    {
        return (*e).to_owned();
    }
    let start = lines.len().saturating_sub(3);
    lines[start..].join(" | ")
}

/// `cargo install cargo-progenitor` into `<cache>/progenitor` unless it is there.
pub(super) fn progenitor(cache: &Path) -> Result<Anchor, Skip> {
    let root = cache.join("progenitor");
    let bin = root.join("bin/cargo-progenitor");
    if bin.is_file() {
        return Ok(Anchor::Progenitor(bin));
    }
    eprintln!(
        "installing cargo-progenitor {PROGENITOR_VERSION} into {} (once; several minutes)",
        root.display()
    );
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "install",
            "cargo-progenitor",
            "--locked",
            "--version",
            PROGENITOR_VERSION,
        ])
        .arg("--root")
        .arg(&root)
        .env("CARGO_TARGET_DIR", cache.join("progenitor-build"))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| Skip(format!("cannot run cargo install: {e}")))?;
    if !output.status.success() || !bin.is_file() {
        return Err(Skip(format!(
            "`cargo install cargo-progenitor` failed: {}",
            tail(&output.stderr)
        )));
    }
    Ok(Anchor::Progenitor(bin))
}

/// openapi-generator's jar from the `openapi-generator-cli` wheel (`pip install --target`),
/// run with the machine's Java.
pub(super) fn openapi_generator(cache: &Path) -> Result<Anchor, Skip> {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .map_err(|e| Skip(format!("no Java to run openapi-generator ({e})")))?;
    if !java.status.success() {
        return Err(Skip("`java -version` fails: no usable Java".into()));
    }
    let dir = cache.join(format!("openapi-generator-{OPENAPI_GENERATOR_VERSION}"));
    let jar = dir.join("openapi_generator_cli/openapi-generator.jar");
    if jar.is_file() {
        return Ok(Anchor::OpenApiGenerator(jar));
    }
    eprintln!(
        "installing openapi-generator-cli {OPENAPI_GENERATOR_VERSION} (pip) into {}",
        dir.display()
    );
    let output = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--target"])
        .arg(&dir)
        .arg(format!(
            "openapi-generator-cli=={OPENAPI_GENERATOR_VERSION}"
        ))
        .output()
        .map_err(|e| Skip(format!("cannot run `python3 -m pip` ({e})")))?;
    if !output.status.success() {
        return Err(Skip(format!(
            "`pip install openapi-generator-cli` failed: {}",
            tail(&output.stderr)
        )));
    }
    if !jar.is_file() {
        return Err(Skip(format!(
            "the openapi-generator-cli wheel holds no jar at {}",
            jar.display()
        )));
    }
    Ok(Anchor::OpenApiGenerator(jar))
}

impl Anchor {
    /// The anchor's name in tables.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Progenitor(_) => "progenitor",
            Self::OpenApiGenerator(_) => "openapi-generator",
        }
    }

    fn command(&self, spec: &Path, out: &Path, crate_name: &str) -> Command {
        match self {
            Self::Progenitor(bin) => {
                let mut c = Command::new(bin);
                c.arg("progenitor")
                    .arg("-i")
                    .arg(spec)
                    .arg("-o")
                    .arg(out)
                    .args(["-n", crate_name, "-v", "0.1.0"]);
                c
            }
            Self::OpenApiGenerator(jar) => {
                let mut c = Command::new("java");
                // Validation off: AtroCore's specs do not pass openapi-generator's strict
                // validator, and the generator works on them without it.
                c.arg("-jar")
                    .arg(jar)
                    .args(["generate", "-g", "rust", "--skip-validate-spec"])
                    .args(["--package-name", crate_name])
                    .arg("-i")
                    .arg(spec)
                    .arg("-o")
                    .arg(out);
                c
            }
        }
    }

    /// Generates a crate from `spec` into `out` (emptied first) `runs` times; the median wall
    /// time, or why the anchor refused the spec.
    pub(super) fn generate(
        &self,
        spec: &Path,
        out: &Path,
        crate_name: &str,
        runs: u32,
    ) -> Result<Duration, Skip> {
        let mut times = Vec::new();
        for _ in 0..runs.max(1) {
            let _ = std::fs::remove_dir_all(out);
            let mut cmd = self.command(spec, out, crate_name);
            // No backtraces in the reasons.
            cmd.env("RUST_BACKTRACE", "0")
                .env("RUST_LIB_BACKTRACE", "0");
            let t = Instant::now();
            let output = cmd
                .output()
                .map_err(|e| Skip(format!("cannot run {}: {e}", self.name())))?;
            times.push(t.elapsed());
            if !output.status.success() {
                let mut why = tail(&output.stderr);
                if why.is_empty() {
                    why = tail(&output.stdout);
                }
                return Err(Skip(format!("{} rejected the spec: {why}", self.name())));
            }
        }
        Ok(median(times))
    }
}
