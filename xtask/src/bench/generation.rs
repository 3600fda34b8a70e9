//! Our generator's time: in process by stage (what `generate` does, metadata and API summary
//! included), and as the command a user runs (`cargo xtask generate`, a process that also
//! writes the files), which is what the anchors' times compare with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use atrocore_codegen::RuntimeDependency;
use atrocore_codegen::spec::Spec;

use super::report::{median, ms};
use crate::real_specs::metadata_for;
use crate::real_specs::stem;
use crate::{Loaded, SourceArgs, settings_for};

/// Medians of one spec's stages.
struct Stages {
    json_parse: Duration,
    load_spec: Duration,
    load_metadata: Duration,
    generate: Duration,
    total: Duration,
    files: usize,
    bytes: usize,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn stages(spec_path: &Path, iterations: u32) -> Result<Stages, String> {
    let meta_path = metadata_for(spec_path);
    let (mut parse, mut load, mut meta, mut generate, mut total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut files, mut bytes) = (0, 0);
    for _ in 0..iterations.max(1) {
        // Baseline, same run: parsing the spec text into JSON, the least any generator does.
        let text = read(spec_path)?;
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        parse.push(t.elapsed());
        drop((v, text));

        let t0 = Instant::now();
        let text = read(spec_path)?;
        let spec =
            Spec::parse(spec_path.display().to_string(), &text).map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        let metadata = match &meta_path {
            Some(p) => Some(
                serde_json::from_str::<serde_json::Value>(&read(p)?)
                    .map_err(|e| format!("{}: {e}", p.display()))?,
            ),
            None => None,
        };
        let t2 = Instant::now();
        let loaded = Loaded {
            spec,
            label: stem(spec_path),
            metadata,
            attributes: None,
        };
        let settings = settings_for(
            &loaded,
            &SourceArgs::default(),
            "bench",
            RuntimeDependency::Version("0.1".into()),
            "bench".into(),
            true,
        );
        let out = atrocore_codegen::generate(&loaded.spec, &settings).map_err(|e| e.to_string())?;
        let t3 = Instant::now();
        load.push(t1 - t0);
        meta.push(t2 - t1);
        generate.push(t3 - t2);
        total.push(t3 - t0);
        files = out.files.len();
        bytes = out.files.values().map(String::len).sum();
    }
    Ok(Stages {
        json_parse: median(parse),
        load_spec: median(load),
        load_metadata: median(meta),
        generate: median(generate),
        total: median(total),
        files,
        bytes,
    })
}

/// Prints the in-process table for `specs`.
pub(super) fn print_stages(specs: &[PathBuf], iterations: u32) -> Result<(), String> {
    println!(
        "generation in process, median of {iterations} (spec and metadata read and parsed, \
         select + lower + emit + API summary; files not written)"
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7}",
        "spec", "json ms", "spec ms", "meta ms", "gen ms", "total ms", "total/json", "files"
    );
    for spec in specs {
        let s = stages(spec, iterations)?;
        println!(
            "{:<30} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9.1}x {:>7}  ({} KiB{})",
            stem(spec),
            ms(s.json_parse),
            ms(s.load_spec),
            ms(s.load_metadata),
            ms(s.generate),
            ms(s.total),
            s.total.as_secs_f64() / s.json_parse.as_secs_f64(),
            s.files,
            s.bytes / 1024,
            if metadata_for(spec).is_none() {
                ", no metadata"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// `cargo xtask generate --spec … [--metadata …] --out <out>` as a process (this binary), the
/// median wall time of `iterations` runs; the crate is left in `out`.
pub(super) fn process_time(spec: &Path, out: &Path, iterations: u32) -> Result<Duration, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let crate_name = format!("ours-{}", stem(spec).replace('.', "-"));
    let mut times = Vec::new();
    for _ in 0..iterations.max(1) {
        let mut cmd = Command::new(&exe);
        cmd.arg("generate")
            .arg("--spec")
            .arg(spec)
            .arg("--out")
            .arg(out)
            .args(["--crate-name", &crate_name, "--standalone"]);
        if let Some(m) = metadata_for(spec) {
            cmd.arg("--metadata").arg(m);
        }
        let t = Instant::now();
        let output = cmd
            .output()
            .map_err(|e| format!("running {}: {e}", exe.display()))?;
        times.push(t.elapsed());
        if !output.status.success() {
            return Err(format!(
                "`cargo xtask generate --spec {}` failed: {}",
                spec.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    Ok(median(times))
}
