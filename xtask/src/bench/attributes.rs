//! `cargo xtask bench --attributes`: what typed attributes cost. The default spec generated
//! with its metadata, without attribute definitions and with 200 made-up attributes on
//! `Product` (every kind: measured numbers, enums of five options, multilingual texts, dates,
//! …): generation time in process (median of `iterations`), and `cargo check` of each crate
//! alone (its dependencies built once, `cargo clean -p` before each of the alternating rounds)
//! and after touching its `src/lib.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{EXAMPLES, Loaded, SourceArgs, settings_for, workspace_root};
use atrocore_codegen::AttributeDefinitions;

/// Attribute definitions: `n` attributes of `Product`, every kind in turn.
pub(super) fn synthetic(n: usize) -> Value {
    let kinds = [
        "float",
        "int",
        "bool",
        "varchar",
        "text",
        "date",
        "datetime",
        "extensibleEnum",
        "extensibleMultiEnum",
        "rangeFloat",
    ];
    let attributes: Vec<Value> = (0..n)
        .map(|i| {
            let kind = kinds[i % kinds.len()];
            let mut a = json!({
                "id": format!("a01bench{i:019}"),
                "entity": "Product",
                "code": format!("attr{i:03}"),
                "name": format!("Attribute {i}"),
                "type": kind,
            });
            match kind {
                "float" | "int" | "rangeFloat" => a["measure"] = json!("Mass"),
                "text" | "varchar" => a["multilingual"] = json!(i % 2 == 0),
                "extensibleEnum" | "extensibleMultiEnum" => {
                    a["options"] = json!((0..5)
                        .map(|o| json!({"value": format!("a01opt{i:03}{o:018}"), "label": format!("Option {o}")}))
                        .collect::<Vec<_>>());
                }
                _ => {}
            }
            a
        })
        .collect();
    json!({ "attributes": attributes })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs the benchmark and prints its two lines.
pub(super) fn run(iterations: u32, rounds: u32) -> Result<(), String> {
    let root = workspace_root();
    let ex = &EXAMPLES[0];
    let source = SourceArgs {
        spec: Some(root.join(ex.spec)),
        metadata: Some(root.join(ex.metadata)),
        ..SourceArgs::default()
    };
    let base = crate::load(&source)?;
    let with = Loaded {
        spec: base.spec.clone(),
        label: base.label.clone(),
        metadata: base.metadata.clone(),
        attributes: Some(AttributeDefinitions {
            origin: "200 synthetic attributes".into(),
            file: synthetic(200),
        }),
    };
    let work = root.join("target/bench-attributes");
    let target = work.join("target");
    let mut gen_times = [Vec::new(), Vec::new()];
    let mut dirs = Vec::new();
    for (k, (loaded, name)) in [(&base, "plain"), (&with, "attributes")]
        .into_iter()
        .enumerate()
    {
        let out = work.join(name);
        let crate_name = format!("bench-{name}");
        let settings = settings_for(
            loaded,
            &source,
            &crate_name,
            crate::runtime_path_dep(&out, &root.join("runtime")),
            "cargo xtask bench --attributes".into(),
            true,
        );
        let mut files = None;
        for _ in 0..iterations.max(1) {
            let start = Instant::now();
            let generated =
                atrocore_codegen::generate(&loaded.spec, &settings).map_err(|e| e.to_string())?;
            gen_times[k].push(start.elapsed());
            files = Some(generated.files);
        }
        let files = files.expect("at least one iteration");
        let _ = std::fs::remove_dir_all(&out);
        crate::output::write(&out, &files, false)?;
        let lines: usize = files.values().map(|f| f.lines().count()).sum();
        dirs.push((out, crate_name, lines));
    }
    let [plain_gen, attr_gen] = gen_times.map(median);
    println!(
        "generation of the default crate: {:.0} ms without attributes, {:.0} ms with 200 ({} vs {} lines)",
        plain_gen.as_secs_f64() * 1e3,
        attr_gen.as_secs_f64() * 1e3,
        dirs[0].2,
        dirs[1].2
    );
    // Dependencies once, then the crates alone, alternating.
    for (dir, _, _) in &dirs {
        cargo(dir, &target, &["check", "--quiet"])?;
    }
    let mut crate_only = [Vec::new(), Vec::new()];
    let mut touched = [Vec::new(), Vec::new()];
    for round in 0..rounds.max(1) {
        for i in 0..2 {
            let k = (i + round as usize) % 2;
            let (dir, name, _) = &dirs[k];
            cargo(dir, &target, &["clean", "--quiet", "-p", name])?;
            crate_only[k].push(cargo(dir, &target, &["check", "--quiet"])?);
            let lib = dir.join("src/lib.rs");
            let text =
                std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
            std::fs::write(&lib, text).map_err(|e| format!("{}: {e}", lib.display()))?;
            touched[k].push(cargo(dir, &target, &["check", "--quiet"])?);
        }
    }
    let [c0, c1] = crate_only.map(median);
    let [t0, t1] = touched.map(median);
    println!(
        "cargo check of the crate alone: {:.2} s without, {:.2} s with 200 attributes ({:.2}x); touched: {:.2} s vs {:.2} s (medians of {rounds}, alternating)",
        c0.as_secs_f64(),
        c1.as_secs_f64(),
        c1.as_secs_f64() / c0.as_secs_f64(),
        t0.as_secs_f64(),
        t1.as_secs_f64()
    );
    Ok(())
}

fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<Duration, String> {
    let start = Instant::now();
    let o = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "`cargo {}` failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(start.elapsed())
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_definitions_generate() {
        let file = super::synthetic(20);
        assert_eq!(file["attributes"].as_array().unwrap().len(), 20);
    }
}
