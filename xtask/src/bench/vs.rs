//! `cargo xtask bench --vs`: our figures and the anchors' side by side, in one run: generation
//! time per real spec (us, progenitor, openapi-generator), cold and touched `cargo check` of our
//! crates and progenitor's, the runtime's dependency floor, and the client-overhead benchmarks.
//! Everything left out is listed at the end with the reason.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::anchors::{self, Anchor, Skip};
use super::compile::{self, CheckTimes};
use super::report::{median, ms, secs};
use super::{BenchArgs, cache_dir, client, generation, report};
use crate::real_specs::{spec_files, stem};

fn ratio(ours: Duration, theirs: Duration) -> String {
    format!("{:.2}", ours.as_secs_f64() / theirs.as_secs_f64())
}

fn crate_name(prefix: &str, spec: &Path) -> String {
    format!("{prefix}-{}", stem(spec).replace('.', "-"))
}

fn tool_version(cmd: &str, arg: &str) -> String {
    Command::new(cmd)
        .arg(arg)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Runs the whole comparison.
pub(super) fn run(args: &BenchArgs) -> Result<(), String> {
    let cache = cache_dir(args)?;
    let work = cache.join("work");
    let specs = spec_files(args.specs.as_deref(), args.only.as_deref())?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "atrocore-rs bench --vs: {cores} cores, {}, {}; cache {}",
        tool_version("rustc", "-V"),
        tool_version("java", "-version"),
        cache.display()
    );
    let mut skipped: Vec<String> = Vec::new();
    let mut anchor = |r: Result<Anchor, Skip>, what: &str| match r {
        Ok(a) => Some(a),
        Err(Skip(why)) => {
            skipped.push(format!("{what}: {why}"));
            None
        }
    };
    let progenitor = anchor(anchors::progenitor(&cache), "progenitor");
    let oag = anchor(anchors::openapi_generator(&cache), "openapi-generator");

    // 1. Generation.
    println!();
    println!(
        "== generation: wall time of the command a user runs, spec file → crate folder \
         (ours: `cargo xtask generate --metadata …`, median of {}; progenitor \
         {}: median of 3; openapi-generator {} `-g rust`: 1 run, a JVM start included); \
         ratio = ours / anchor, below 1 = ours is faster",
        args.iterations,
        anchors::PROGENITOR_VERSION,
        anchors::OPENAPI_GENERATOR_VERSION
    );
    println!(
        "{:<30} {:>10} {:>12} {:>7} {:>12} {:>7}",
        "spec", "ours ms", "progenitor", "ratio", "openapi-gen", "ratio"
    );
    let mut accepted = Vec::new();
    for spec in &specs {
        let dir = work.join(stem(spec));
        let ours = generation::process_time(spec, &dir.join("ours"), args.iterations)?;
        let mut cells = Vec::new();
        for (a, runs) in [(&progenitor, 3), (&oag, 1)] {
            let Some(a) = a else {
                cells.push(("skipped".to_owned(), String::new()));
                continue;
            };
            let out = dir.join(a.name());
            match a.generate(spec, &out, &crate_name("anchor", spec), runs) {
                Ok(t) => {
                    if matches!(a, Anchor::Progenitor(_)) {
                        accepted.push((spec.clone(), out));
                    }
                    cells.push((ms(t), ratio(ours, t)));
                }
                Err(Skip(why)) => {
                    skipped.push(format!("{} on {}: {why}", a.name(), stem(spec)));
                    cells.push(("rejected".to_owned(), String::new()));
                }
            }
        }
        println!(
            "{:<30} {:>10} {:>12} {:>7} {:>12} {:>7}",
            stem(spec),
            ms(ours),
            cells[0].0,
            cells[0].1,
            cells[1].0,
            cells[1].1
        );
    }
    println!();
    generation::print_stages(&specs, args.iterations)?;

    // 2. Compile times.
    if args.no_compile {
        skipped.push("cargo check timings: --no-compile".into());
    } else {
        println!();
        println!(
            "== cargo check, cold (empty target dir, dependencies downloaded beforehand) and after \
             touching src/lib.rs; ours with every entity and without TLS (--no-default-features \
             --features full) like progenitor's crate (reqwest without TLS); against progenitor \
             medians of {} rounds, ours and progenitor's alternating; ratio = ours / progenitor, \
             below 1 = ours is faster",
            args.cold_runs.max(1)
        );
        let floor_none = compile::floor(&work, false)?;
        let floor_tls = compile::floor(&work, true)?;
        println!(
            "runtime dependency floor (an empty crate on atrocore-runtime): {} without TLS, {} \
             with rustls",
            secs(floor_none),
            secs(floor_tls)
        );
        println!(
            "{:<30} {:>10} {:>12} {:>7} {:>12} {:>14} {:>7}",
            "spec", "ours cold", "progenitor", "ratio", "ours touched", "prog. touched", "ratio"
        );
        for spec in &specs {
            let dir = work.join(stem(spec));
            let ours_args = compile::no_tls_all_entities(&dir.join("ours"))?;
            let ours_args: Vec<&str> = ours_args.iter().map(String::as_str).collect();
            let check_ours =
                || compile::check_crate(&dir.join("ours"), &dir.join("target-ours"), &ours_args);
            let prog = accepted.iter().find(|(s, _)| s == spec).map(|(_, out)| out);
            // Against progenitor: `--cold-runs` rounds, the order alternating from round to
            // round (neither always on a warmer or busier machine), medians; alone: one run.
            let rounds = if prog.is_some() {
                args.cold_runs.max(1)
            } else {
                1
            };
            let (mut ours_runs, mut prog_runs) = (Vec::new(), Vec::new());
            let mut prog_failed = false;
            for round in 0..rounds {
                let mut check_prog = |runs: &mut Vec<CheckTimes>| {
                    let Some(out) = prog.filter(|_| !prog_failed) else {
                        return;
                    };
                    match compile::check_crate(out, &dir.join("target-progenitor"), &[]) {
                        Ok(t) => runs.push(t),
                        Err(e) => {
                            prog_failed = true;
                            skipped.push(format!(
                                "cargo check of progenitor's crate for {}: {e}",
                                stem(spec)
                            ));
                        }
                    }
                };
                if round % 2 == 0 {
                    ours_runs.push(check_ours()?);
                    check_prog(&mut prog_runs);
                } else {
                    check_prog(&mut prog_runs);
                    ours_runs.push(check_ours()?);
                }
            }
            let medians = |runs: &[CheckTimes]| CheckTimes {
                cold: median(runs.iter().map(|t| t.cold).collect()),
                touched: median(runs.iter().map(|t| t.touched).collect()),
            };
            let ours = medians(&ours_runs);
            let theirs = (!prog_runs.is_empty() && !prog_failed).then(|| medians(&prog_runs));
            let (pc, rc, pt, rt) = match theirs {
                Some(t) => (
                    secs(t.cold),
                    ratio(ours.cold, t.cold),
                    secs(t.touched),
                    ratio(ours.touched, t.touched),
                ),
                None => ("-".into(), String::new(), "-".into(), String::new()),
            };
            println!(
                "{:<30} {:>10} {:>12} {:>7} {:>12} {:>14} {:>7}",
                stem(spec),
                secs(ours.cold),
                pc,
                rc,
                secs(ours.touched),
                pt,
                rt
            );
            if ours_runs.len() > 1 {
                let list = |runs: &[CheckTimes]| {
                    runs.iter()
                        .map(|t| format!("{}/{}", secs(t.cold), secs(t.touched)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                println!(
                    "  {} rounds, cold/touched: ours {}; progenitor {} (medians above)",
                    ours_runs.len(),
                    list(&ours_runs),
                    list(&prog_runs)
                );
            }
        }
        // The goal "5 entities enabled ≤ the floor + 3 s": on the 2.3 core crate (the issue's),
        // else the first crate that has them.
        let mut dirs: Vec<_> = specs.iter().map(|spec| work.join(stem(spec))).collect();
        dirs.sort_by_key(|dir| !dir.ends_with("atrocore-core"));
        match dirs
            .into_iter()
            .find(|dir| compile::has_five_entities(&dir.join("ours")))
        {
            None => skipped.push(format!(
                "5-entity check: no generated crate has the features {}",
                compile::FIVE_ENTITIES.join(", ")
            )),
            Some(dir) => {
                let runs = args.cold_runs;
                println!();
                println!(
                    "== cold cargo check with only 5 entities ({}; no TLS) against the dependency \
                     floor (no TLS), alternating, {runs} runs each, crate {}",
                    compile::FIVE_ENTITIES.join(", "),
                    dir.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                );
                let (floors, five) = compile::floor_vs_five(
                    &work,
                    &dir.join("ours"),
                    &dir.join("target-five"),
                    runs,
                )?;
                let list =
                    |v: &[Duration]| v.iter().map(|d| secs(*d)).collect::<Vec<_>>().join(", ");
                let (f, c) = (median(floors.clone()), median(five.clone()));
                println!("floor:      {}  median {}", list(&floors), secs(f));
                println!("5 entities: {}  median {}", list(&five), secs(c));
                let over = c.as_secs_f64() - f.as_secs_f64();
                println!(
                    "5 entities - floor = {over:+.1} s (goal <= +3.0 s: {})",
                    if over <= 3.0 { "met" } else { "MISSED" }
                );
            }
        }
    }

    // 3. Client overhead.
    println!();
    println!("== client overhead");
    let cfg = args.sizes.resolve(false);
    let rows = client::run(&cfg)?;
    report::print_client(
        &rows,
        &report::ClientRun {
            smoke: cfg.smoke,
            runs: cfg.runs,
            upload_runs: cfg.upload_runs,
        },
    );

    println!();
    if skipped.is_empty() {
        println!("nothing skipped");
    } else {
        println!("skipped:");
        for s in &skipped {
            println!("- {s}");
        }
    }
    Ok(())
}
