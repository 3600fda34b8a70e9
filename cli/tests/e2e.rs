//! The built `atro` binary against the simulator, in both API generations: export totals, resume,
//! import rejects by line, upload/download round trips, the filter language against the
//! runtime's filter, exit codes, and the progress bar in a real pseudo-terminal.

mod support;

use atrocore_runtime::{Condition, Where};
use futures_util::TryStreamExt;
use serde_json::Value;
use support::{Env, Gen, jsonl_ids, read};

/// `N of M records` from `atro list`'s stderr.
fn list_total(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.ends_with(" records") && l.contains(" of "))
        .unwrap_or_else(|| panic!("no total in {stderr}"));
    line.split(" of ")
        .nth(1)
        .unwrap()
        .trim_end_matches(" records")
        .parse()
        .unwrap()
}

#[test]
fn export_count_equals_the_list_total_and_resumes_without_loss() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        env.seed_brands(450);
        let listed = env
            .atro(&[
                "list", "Brand", "--where", "isActive", "--limit", "1", "--format", "json",
            ])
            .ok();
        let total = list_total(&listed.stderr);
        assert_eq!(total, 300, "{generation:?}");
        // More than a page: read page by page.
        let many = env
            .atro(&[
                "list", "Brand", "-n", "420", "-s", "code", "-f", "jsonl", "--sort", "code",
            ])
            .ok();
        assert_eq!(jsonl_ids(&many.stdout).len(), 420);
        assert!(
            many.stderr.contains("420 of 450 records"),
            "{}",
            many.stderr
        );

        let run = env
            .atro(&[
                "export",
                "Brand",
                "--where",
                "isActive",
                "-o",
                "active.jsonl",
                "--page-size",
                "70",
            ])
            .ok();
        // Not a terminal: plain progress lines, the last one complete.
        assert!(
            run.stderr.contains("export: 300/300 records"),
            "{}",
            run.stderr
        );
        let full = read(&env.path("active.jsonl"));
        let ids = jsonl_ids(&full);
        assert_eq!(ids.len() as u64, total, "{generation:?}");
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ids, "ascending ids, no duplicates");

        // CSV with a selection.
        env.atro(&[
            "export",
            "Brand",
            "-w",
            "isActive",
            "-s",
            "name,code",
            "-o",
            "active.csv",
        ])
        .ok();
        let mut csv = csv::Reader::from_path(env.path("active.csv")).unwrap();
        assert_eq!(csv.headers().unwrap(), vec!["id", "name", "code"]);
        assert_eq!(csv.records().count() as u64, total);

        // An interrupted export (cut inside record 151) resumes to the same file.
        let cut = full.match_indices('\n').nth(149).unwrap().0 + 1 + 10;
        std::fs::write(env.path("part.jsonl"), &full[..cut]).unwrap();
        let refused = env
            .atro(&["export", "Brand", "-w", "isActive", "-o", "part.jsonl"])
            .code(2);
        assert!(refused.stderr.contains("--resume"), "{}", refused.stderr);
        let resumed = env
            .atro(&[
                "export",
                "Brand",
                "-w",
                "isActive",
                "-o",
                "part.jsonl",
                "--resume",
                "--page-size",
                "40",
            ])
            .ok();
        assert!(
            resumed.stderr.contains("exported 150 records")
                && resumed.stderr.contains("export: 300/300 records"),
            "{}",
            resumed.stderr
        );
        assert_eq!(read(&env.path("part.jsonl")), full, "{generation:?}");

        // The same for CSV, cut inside a record.
        let full_csv = read(&env.path("active.csv"));
        let cut = full_csv.match_indices('\n').nth(100).unwrap().0 + 5;
        std::fs::write(env.path("part.csv"), &full_csv[..cut]).unwrap();
        env.atro(&[
            "export",
            "Brand",
            "-w",
            "isActive",
            "-s",
            "name,code",
            "-o",
            "part.csv",
            "--resume",
        ])
        .ok();
        assert_eq!(read(&env.path("part.csv")), full_csv, "{generation:?}");
    }
}

#[test]
fn import_reports_bad_rows_by_line_and_exits_1() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        let input = "code,name,isActive,description\n\
                     imp1,Imported 1,true,x\n\
                     imp2,Imported 2,maybe,x\n\
                     imp3,,true,x\n\
                     imp4,\"Imported, 4\",0,x\n\
                     imp5,\"Two\nlines\",1,x\n\
                     imp6,Imported 6,perhaps,x\n";
        std::fs::write(env.path("brands.csv"), input).unwrap();

        // The reject file never replaces the input.
        let refused = env
            .atro(&["import", "Brand", "brands.csv", "--rejects", "./brands.csv"])
            .code(2);
        assert!(refused.stderr.contains("--rejects"), "{}", refused.stderr);
        assert_eq!(read(&env.path("brands.csv")), input);

        let dry = env
            .atro(&["import", "Brand", "brands.csv", "--dry-run"])
            .code(1);
        assert!(
            dry.stdout.contains("4 rows valid, 2 invalid"),
            "{}",
            dry.stdout
        );

        let run = env
            .atro(&[
                "import",
                "Brand",
                "brands.csv",
                "--batch-size",
                "2",
                "--concurrency",
                "2",
            ])
            .code(1);
        assert!(
            run.stdout
                .contains("created 3, updated 0, unchanged 0, failed 3"),
            "{generation:?}\n{}\n{}",
            run.stdout,
            run.stderr
        );
        let mut rejects = csv::Reader::from_path(env.path("brands.rejects.csv")).unwrap();
        assert_eq!(
            rejects.headers().unwrap(),
            vec!["line", "error", "code", "name", "isActive", "description"]
        );
        let mut rows: Vec<csv::StringRecord> = rejects.records().map(Result::unwrap).collect();
        // Batches run concurrently: rejects come in the order they were decided.
        rows.sort_by_key(|r| r[0].parse::<u64>().unwrap());
        let lines: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        // imp5 spans lines 6 and 7: imp6 is on line 8.
        assert_eq!(lines, ["3", "4", "8"], "{rows:?}");
        assert!(
            rows[0][1].contains("isActive") && rows[0][1].contains("true or false"),
            "{rows:?}"
        );
        // Refused by the server: its message.
        assert!(rows[1][1].contains("'Name' is required"), "{rows:?}");
        assert_eq!(&rows[1][2], "imp3");

        // The stored records; importing again changes nothing, a changed name updates.
        let listed = env
            .atro(&[
                "list",
                "Brand",
                "-w",
                "code starts with imp",
                "-s",
                "code,name",
                "-f",
                "csv",
                "--sort",
                "code",
            ])
            .ok();
        let codes: Vec<String> = csv::Reader::from_reader(listed.stdout.as_bytes())
            .records()
            .map(|r| r.unwrap()[1].to_owned())
            .collect();
        assert_eq!(codes, ["imp1", "imp4", "imp5"]);
        std::fs::write(
            env.path("again.jsonl"),
            "{\"code\":\"imp1\",\"name\":\"Imported 1\"}\n{\"code\":\"imp4\",\"name\":\"Renamed\"}\n",
        )
        .unwrap();
        let again = env.atro(&["import", "Brand", "again.jsonl"]).ok();
        assert!(
            again
                .stdout
                .contains("created 0, updated 1, unchanged 1, failed 0"),
            "{}",
            again.stdout
        );

        // JSONL rejects: one entry per line, with the line number and the record.
        std::fs::write(
            env.path("bad.jsonl"),
            "{\"name\":\"Ok\",\"code\":\"j1\"}\n\n{\"name\":\"X\",\"isActive\":\"maybe\"}\nnot json\n",
        )
        .unwrap();
        let bad = env.atro(&["import", "Brand", "bad.jsonl"]).code(1);
        assert!(
            bad.stdout
                .contains("created 1, updated 0, unchanged 0, failed 2"),
            "{}",
            bad.stdout
        );
        let entries: Vec<Value> = read(&env.path("bad.rejects.jsonl"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut lines: Vec<u64> = entries
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect();
        lines.sort();
        assert_eq!(lines, [3, 4], "{entries:?}");
        assert!(
            entries.iter().any(|e| e["record"]["isActive"] == "maybe"),
            "{entries:?}"
        );

        // Links: find-or-create by name, and an option outside the enum refused before sending.
        std::fs::write(
            env.path("products.csv"),
            "name,number,status,brand.name,price\n\
             Lamp,P-1,draft,Lookup Brand,12.5\n\
             Desk,P-2,drafty,Lookup Brand,80\n",
        )
        .unwrap();
        let products = env.atro(&["import", "Product", "products.csv"]).code(1);
        assert!(
            products.stdout.contains("created 1,"),
            "{}",
            products.stdout
        );
        let rejects = read(&env.path("products.rejects.csv"));
        assert!(
            rejects.contains("\n3,") && rejects.contains("no option \"\"drafty\"\""),
            "{rejects}"
        );
        let lamp = env
            .atro(&[
                "list",
                "Product",
                "-w",
                "number = P-1",
                "-s",
                "brand",
                "-f",
                "jsonl",
            ])
            .ok();
        let lamp: Value = serde_json::from_str(lamp.stdout.trim()).unwrap();
        assert_eq!(lamp["brandName"], "Lookup Brand", "{generation:?}");
    }
}

#[test]
fn upload_then_download_is_byte_identical() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        // 300 KiB of varied bytes: 5 chunks of 64 KiB.
        let big: Vec<u8> = (0u32..300 * 1024)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(env.path("big.bin"), &big).unwrap();
        std::fs::write(env.path("small.txt"), b"hello atro\n").unwrap();
        let up = env
            .atro(&[
                "upload",
                "big.bin",
                "small.txt",
                "--chunk-kib",
                "64",
                "--parallel-chunks",
                "3",
            ])
            .ok();
        let ids: Vec<(String, String)> = up
            .stdout
            .lines()
            .map(|l| {
                let mut parts = l.split('\t');
                (
                    parts.next().unwrap().to_owned(),
                    parts.next().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(ids.len(), 2, "{}", up.stdout);
        for (id, name) in &ids {
            let out = format!("copy-{name}");
            env.atro(&["download", id, "-o", &out]).ok();
            let original = std::fs::read(env.path(name)).unwrap();
            assert_eq!(
                std::fs::read(env.path(&out)).unwrap(),
                original,
                "{generation:?} {name}"
            );
        }
        // The state folder holds no unfinished session.
        let left = std::fs::read_dir(env.path("state/uploads"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(left, 0);
        // Uploading the same name again: fail (default), reuse, rename. The refusal speaks in
        // this command's flags, once.
        let refused = env.atro(&["upload", "small.txt"]).code(5);
        assert!(
            refused.stderr.contains("--on-conflict reuse"),
            "{}",
            refused.stderr
        );
        assert!(
            !refused.stderr.contains("NameConflict"),
            "{}",
            refused.stderr
        );
        assert_eq!(
            refused.stderr.matches("already exists").count(),
            1,
            "{}",
            refused.stderr
        );
        let reused = env
            .atro(&["upload", "small.txt", "--on-conflict", "reuse"])
            .ok();
        assert!(reused.stdout.starts_with(&ids[1].0), "{}", reused.stdout);
        let renamed = env
            .atro(&["upload", "small.txt", "--on-conflict", "rename"])
            .ok();
        assert!(
            renamed.stdout.contains("small (1).txt"),
            "{}",
            renamed.stdout
        );
        // Downloading over an existing file needs --force.
        env.atro(&["download", &ids[1].0, "-o", "copy-small.txt"])
            .code(2);
        // `-o -`: the content on standard output.
        let piped = env.atro(&["download", &ids[1].0, "-o", "-"]).ok();
        assert_eq!(piped.stdout, "hello atro\n");
        // --replace: new content (in chunks here) for the record, which keeps its id.
        let replaced = env
            .atro(&[
                "upload",
                "big.bin",
                "--replace",
                &ids[1].0,
                "--chunk-kib",
                "64",
            ])
            .ok();
        assert!(
            replaced.stdout.starts_with(&ids[1].0),
            "{}",
            replaced.stdout
        );
        env.atro(&["download", &ids[1].0, "-o", "replaced.bin"])
            .ok();
        assert_eq!(std::fs::read(env.path("replaced.bin")).unwrap(), big);
        env.atro(&["upload", "big.bin", "small.txt", "--replace", &ids[1].0])
            .code(2);
    }
}

#[test]
fn an_interrupted_upload_resumes_where_it_stopped() {
    for generation in Gen::BOTH {
        // Every answer takes 30 ms: 40 chunks sent one at a time take over a second.
        let faults = atrocore_sim::Faults {
            latency: std::time::Duration::from_millis(30),
            ..Default::default()
        };
        let env = Env::start_with(generation, faults);
        let data: Vec<u8> = (0u32..40 * 16 * 1024)
            .map(|i| (i.wrapping_mul(2_246_822_519) >> 11) as u8)
            .collect();
        std::fs::write(env.path("video.bin"), &data).unwrap();
        let args = [
            "upload",
            "video.bin",
            "--chunk-kib",
            "16",
            "--parallel-chunks",
            "1",
        ];
        let mut child = env.cmd(&args).spawn().unwrap();
        // Stop it (our own child, by its handle) once some chunks are stored.
        let sim = env.sim.as_ref().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while sim.request_count() < 15 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        let _ = child.wait();
        let saved = std::fs::read_dir(env.path("state/uploads"))
            .unwrap()
            .count();
        assert_eq!(saved, 1, "the chunk session is kept for the next run");

        let run = env.atro(&args).ok();
        let skipped: u64 = run
            .stderr
            .split("resumed, ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not resumed: {}", run.stderr));
        assert!(skipped > 0 && skipped < 40, "{skipped}");
        let id = run.stdout.split('\t').next().unwrap().to_owned();
        env.atro(&["download", &id, "-o", "copy.bin"]).ok();
        assert_eq!(
            std::fs::read(env.path("copy.bin")).unwrap(),
            data,
            "{generation:?}"
        );
        assert_eq!(
            std::fs::read_dir(env.path("state/uploads"))
                .unwrap()
                .count(),
            0
        );
    }
}

/// The ids `atro list --where` gives, and those of the runtime's own filter.
fn same_records(env: &Env, expr: &str, w: Where) -> usize {
    let run = env
        .atro(&[
            "list", "Brand", "-w", expr, "-s", "code", "-f", "jsonl", "-n", "1000",
        ])
        .ok();
    let mut cli = jsonl_ids(&run.stdout);
    cli.sort();
    let client = env.client();
    let records: Vec<Value> = env
        .rt
        .block_on(async move {
            client
                .records("Brand")
                .list()
                .filter(w)
                .max_size(200)
                .keyset_stream()
                .try_collect()
                .await
        })
        .unwrap();
    let runtime: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(cli, runtime, "{:?} {expr}", env.generation);
    cli.len()
}

/// `--where` gives the records of the generated crates' typed filters (both generations).
#[test]
fn filter_expressions_give_the_records_of_the_generated_typed_filter() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        env.seed_brands(60);
        let expr = r#"(name like "Brand 00001%" and not isActive) or code in (b000040, b000041)"#;
        let run = env
            .atro(&[
                "list", "Brand", "-w", expr, "-s", "code", "-f", "jsonl", "-n", "1000",
            ])
            .ok();
        let mut cli = jsonl_ids(&run.stdout);
        cli.sort();
        let runtime = env.client();
        let typed: Vec<String> = env.rt.block_on(async move {
            match generation {
                Gen::V22 => {
                    use atrocore_client::brand::{BrandField, filter as b};
                    let c = atrocore_client::Client::from(runtime);
                    let f = (b::name().like("Brand 00001%") & !b::is_active().is_true())
                        | b::code().in_(["b000040", "b000041"]);
                    let list = c.brand().list().filter(f).select([BrandField::Id]);
                    let all: Vec<_> = list.keyset_stream().try_collect().await.unwrap();
                    all.into_iter()
                        .filter_map(|r| r.id.map(String::from))
                        .collect()
                }
                Gen::V23 => {
                    use atrocore_client_23::brand::{BrandField, filter as b};
                    let c = atrocore_client_23::Client::from(runtime);
                    let f = (b::name().like("Brand 00001%") & !b::is_active().is_true())
                        | b::code().in_(["b000040", "b000041"]);
                    let list = c.brand().list().filter(f).select([BrandField::Id]);
                    let all: Vec<_> = list.keyset_stream().try_collect().await.unwrap();
                    all.into_iter()
                        .filter_map(|r| r.id.map(String::from))
                        .collect()
                }
            }
        });
        assert_eq!(cli, typed, "{generation:?}");
        // The inactive ones of 10..19 (12, 15, 18; every third brand is inactive) and two codes.
        assert_eq!(cli.len(), 5, "{generation:?}");
    }
}

#[test]
fn filter_expressions_give_the_records_of_the_runtime_filter() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        env.seed_brands(60);
        let cases = [
            (
                r#"name like "Brand 00001%" and not isActive"#,
                Where::from(vec![
                    Condition::new("like")
                        .attribute("name")
                        .value("Brand 00001%"),
                    Condition::not([Condition::new("isTrue").attribute("isActive")]),
                ]),
                3,
            ),
            (
                r#"code in (b000001, b000002, b000003) or name = "Brand 000010""#,
                Where::from(Condition::or([
                    Condition::new("in")
                        .attribute("code")
                        .value(vec!["b000001", "b000002", "b000003"]),
                    Condition::new("equals")
                        .attribute("name")
                        .value("Brand 000010"),
                ])),
                4,
            ),
            (
                "not (isActive and name starts with \"Brand 00002\") and code < b000030",
                Where::from(vec![
                    Condition::not([
                        Condition::new("isTrue").attribute("isActive"),
                        Condition::new("startsWith")
                            .attribute("name")
                            .value("Brand 00002"),
                    ]),
                    Condition::new("lessThan")
                        .attribute("code")
                        .value("b000030"),
                ]),
                // 0..30 without the active ones of 20..29 (all but 21, 24, 27).
                23,
            ),
            (
                "createdAt in last 7 days and code ends with 5",
                Where::from(vec![
                    Condition::new("lastXDays")
                        .attribute("createdAt")
                        .value(7)
                        .with("dateTime", true),
                    Condition::new("endsWith").attribute("code").value("5"),
                ]),
                6,
            ),
        ];
        for (expr, w, expected) in cases {
            assert_eq!(
                same_records(&env, expr, w),
                expected,
                "{generation:?} {expr}"
            );
        }
    }
}

#[test]
fn exit_codes_for_scripts() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        let bad = env
            .cmd(&["entities", "--no-counts"])
            .env("ATROCORE_PASSWORD", "not-the-password")
            .output()
            .unwrap();
        let bad = support::Run::of(bad).code(3);
        assert!(!bad.stderr.contains("not-the-password"), "{}", bad.stderr);

        let missing = env.atro(&["get", "Brand", "a01doesnotexist"]).code(4);
        assert!(missing.stderr.contains("404"), "{}", missing.stderr);
        env.atro(&["delete", "Brand", "a01doesnotexist"]).code(4);

        let syntax = env
            .atro(&["list", "Brand", "--where", "name lik \"x\""])
            .code(2);
        assert!(
            syntax.stderr.contains("column 6") && syntax.stderr.contains("\n       ^^^"),
            "{}",
            syntax.stderr
        );
        let name = env
            .atro(&["list", "Brand", "--where", "isActive and nmae = x"])
            .code(2);
        assert!(
            name.stderr.contains("did you mean `name`"),
            "{}",
            name.stderr
        );
        let help = env.atro(&["--help"]).ok();
        assert!(
            help.stdout.contains("Exit codes:\n  0  success"),
            "{}",
            help.stdout
        );
        env.atro(&["list"]).code(2);
        let entity = env.atro(&["list", "Brnd"]).code(2);
        assert!(
            entity.stderr.contains("did you mean `Brand`"),
            "{}",
            entity.stderr
        );
        env.cmd(&["entities"])
            .env_remove("ATROCORE_URL")
            .output()
            .map(support::Run::of)
            .unwrap()
            .code(2);

        // The generation is detected; naming it works too.
        let label = if generation == Gen::V22 { "2.2" } else { "2.3" };
        env.atro(&["--generation", label, "fields", "Brand"]).ok();
        let entities = env.atro(&["entities"]).ok();
        assert!(entities.stdout.contains("Brand"), "{}", entities.stdout);
    }
}

#[test]
fn profiles_name_the_connection() {
    let env = Env::start(Gen::V23);
    let config = format!(
        "default = \"sim\"\n[profiles.sim]\nurl = \"{}\"\nuser = \"admin\"\npassword_env = \"SIM_PW\"\ngeneration = \"2.3\"\n",
        env.url
    );
    std::fs::write(env.path("atro.toml"), config).unwrap();
    let run = env
        .cmd(&["--config", "atro.toml", "fields", "Brand"])
        .env_remove("ATROCORE_URL")
        .env_remove("ATROCORE_USER")
        .env_remove("ATROCORE_PASSWORD")
        .env("SIM_PW", "admin")
        .output()
        .unwrap();
    let run = support::Run::of(run).ok();
    assert!(run.stdout.contains("isActive"), "{}", run.stdout);

    // A profile named on the command line wins over the environment.
    let named = env
        .cmd(&[
            "--config",
            "atro.toml",
            "--profile",
            "sim",
            "fields",
            "Brand",
        ])
        .env("ATROCORE_URL", "http://127.0.0.1:9")
        .env("ATROCORE_PASSWORD", "wrong")
        .env("SIM_PW", "admin")
        .output()
        .unwrap();
    support::Run::of(named).ok();
    // The default profile does not: the environment's wrong password is used.
    let default = env
        .cmd(&["--config", "atro.toml", "fields", "Brand"])
        .env("ATROCORE_PASSWORD", "wrong")
        .env("SIM_PW", "admin")
        .output()
        .unwrap();
    support::Run::of(default).code(3);
}

/// The progress bar as a person sees it: `script` runs `atro` in a pseudo-terminal.
#[test]
fn progress_bar_in_a_pseudo_terminal() {
    let env = Env::start(Gen::V22);
    env.seed_brands(120);
    let command = format!(
        "{} export Brand -o tty.jsonl --page-size 30",
        env!("CARGO_BIN_EXE_atro")
    );
    let mut cmd = env.cmd(&[]);
    cmd.env("COLUMNS", "120").env("LINES", "40");
    let out = cmd.output_with_script(&command);
    let run = support::Run::of(out).ok();
    let screen = run.stdout;
    // A drawn bar (redrawn in place with escape sequences), complete at the end.
    assert!(screen.contains("120/120 records"), "{screen:?}");
    assert!(
        screen.contains('\u{1b}') || screen.contains('\r'),
        "{screen:?}"
    );
    assert!(screen.contains("[====="), "{screen:?}");
    assert!(
        !screen.contains("export: 120/120"),
        "plain lines instead of a bar: {screen:?}"
    );
    assert_eq!(jsonl_ids(&read(&env.path("tty.jsonl"))).len(), 120);
}

trait Script {
    fn output_with_script(self, command: &str) -> std::process::Output;
}

impl Script for std::process::Command {
    /// Runs `command` under `script` (util-linux), which gives it a pseudo-terminal and copies
    /// what it draws to our stdout.
    fn output_with_script(self, command: &str) -> std::process::Output {
        let mut c = std::process::Command::new("script");
        c.args(["-q", "-e", "-c", command, "/dev/null"]);
        for (k, v) in self.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = self.get_current_dir() {
            c.current_dir(d);
        }
        c.stdin(std::process::Stdio::null());
        c.output().expect("script runs (util-linux)")
    }
}

/// `atro sim` serves a simulator that `atro` itself can use.
#[cfg(feature = "sim")]
#[test]
fn sim_runs_the_simulator_by_hand() {
    use std::io::BufRead;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let dir = tempfile::tempdir().unwrap();
    /// Our own child, stopped by its handle when the test ends (also on failure).
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sim = std::process::Command::new(env!("CARGO_BIN_EXE_atro"))
        .args([
            "sim",
            "--spec",
            &format!("{root}/specs/atrocore-2.3-pim-small.json"),
            "--metadata",
            &format!("{root}/specs/atrocore-2.3-pim-small.metadata.json"),
            "--seed-demo-data",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map(Child)
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(sim.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    assert!(first.contains("2.3"), "{first}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atro"))
        .args(["entities"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("ATROCORE_TOKEN")
        .env_remove("ATRO_PROFILE")
        .env_remove("ATRO_CONFIG")
        .env("ATROCORE_URL", &url)
        .env("ATROCORE_USER", "admin")
        .env("ATROCORE_PASSWORD", "admin")
        .output()
        .unwrap();
    drop(sim);
    let run = support::Run::of(out).ok();
    let brands = run
        .stdout
        .lines()
        .find(|l| l.contains("Brand"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(!brands.contains(" 0 "), "demo data seeded: {brands}");
}

/// Batches whose answer is lost: every row is reported, with the warning that it may be stored.
#[test]
fn import_reports_rows_of_lost_batches() {
    let faults = atrocore_sim::Faults {
        after_write_error_rate: 1.0,
        ..Default::default()
    };
    let env = Env::start_with(Gen::V23, faults);
    std::fs::write(
        env.path("lost.csv"),
        "code,name\nl1,Lost 1\nl2,Lost 2\nl3,Lost 3\n",
    )
    .unwrap();
    let run = env
        .atro(&["import", "Brand", "lost.csv", "--batch-size", "2"])
        .code(5);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert!(
        run.stdout.contains("failed 3"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let rejects = read(&env.path("lost.rejects.csv"));
    assert_eq!(rejects.lines().count(), 4, "{rejects}");
    assert!(rejects.contains("may have stored the row"), "{rejects}");
}

/// A token instead of a password, in both generations (detection works with it too).
#[test]
fn a_token_from_the_environment() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        let client = env.client();
        let path = generation.runtime().token_path();
        let session: Value = env
            .rt
            .block_on(async move {
                client
                    .request(atrocore_runtime::Method::GET, path)
                    .header("Authorization-Token-Only", "true")
                    .send_json()
                    .await
            })
            .unwrap();
        let token = session["authorizationToken"].as_str().unwrap().to_owned();
        let run = env
            .cmd(&["fields", "Brand"])
            .env_remove("ATROCORE_USER")
            .env_remove("ATROCORE_PASSWORD")
            .env("ATROCORE_TOKEN", &token)
            .output()
            .unwrap();
        let run = support::Run::of(run).ok();
        assert!(run.stdout.contains("isActive"), "{}", run.stdout);
        let refused = env
            .cmd(&["fields", "Brand"])
            .env_remove("ATROCORE_PASSWORD")
            .env("ATROCORE_TOKEN", "not-a-token")
            .output()
            .unwrap();
        let refused = support::Run::of(refused).code(3);
        assert!(
            !refused.stderr.contains("not-a-token"),
            "{}",
            refused.stderr
        );
    }
}

/// `atro list … | head -1`: the closed pipe ends the output quietly.
#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::BufRead;
    let env = Env::start(Gen::V22);
    env.seed_brands(450);
    let mut child = env
        .cmd(&["list", "Brand", "-n", "450", "-f", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"id\""), "{first}");
    // The reader is gone now (dropped above); the rest (over 64 KiB) cannot be written.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn mass_update_and_delete_by_filter_need_yes_and_report_what_they_did() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        env.seed_brands(30);
        let inactive = "not isActive";
        let total = |expr: &str| list_total(&env.atro(&["list", "Brand", "-w", expr]).ok().stderr);
        assert_eq!(total(inactive), 10);

        // Without --yes: counted, nothing changed, exit 2.
        let dry = env
            .atro(&[
                "update",
                "Brand",
                "-w",
                inactive,
                "--set",
                "description=old",
            ])
            .code(2);
        assert!(
            dry.stderr
                .contains("10 Brand records match; nothing changed"),
            "{}",
            dry.stderr
        );
        assert_eq!(total(r#"description = "old""#), 0);

        let run = env
            .atro(&[
                "update",
                "Brand",
                "-w",
                inactive,
                "--set",
                "description=old",
                "--yes",
                "--wait",
            ])
            .ok();
        match generation {
            // 2.2 runs up to 200 records in the request; 2.3 queues a job for a filter.
            Gen::V22 => assert!(
                run.stdout.contains("updated 10 Brand records"),
                "{}",
                run.stdout
            ),
            Gen::V23 => {
                assert!(
                    run.stdout
                        .contains("queued: the Brand records to be updated by job "),
                    "{}",
                    run.stdout
                );
                assert!(run.stdout.contains(" done"), "--wait: {}", run.stdout);
            }
        }
        assert_eq!(total(r#"description = "old""#), 10);

        // By ids: one missing id is reported, exit 1.
        let ids = jsonl_ids(
            &env.atro(&[
                "list", "Brand", "-w", "isActive", "-n", "2", "-f", "jsonl", "-s", "name",
            ])
            .ok()
            .stdout,
        );
        let run = env
            .atro(&[
                "update",
                "Brand",
                &ids[0],
                &ids[1],
                "nobody",
                "--set",
                "isActive=false",
            ])
            .code(1);
        assert!(
            run.stdout.contains("updated 3 Brand records"),
            "{}",
            run.stdout
        );
        assert!(run.stderr.contains("Error for 'nobody'"), "{}", run.stderr);
        assert_eq!(total(inactive), 12);

        // A bad --set value changes nothing.
        let bad = env
            .atro(&[
                "update",
                "Brand",
                "--all",
                "--yes",
                "--set",
                "isActive=perhaps",
            ])
            .code(2);
        assert!(bad.stderr.contains("isActive"), "{}", bad.stderr);
        assert_eq!(total(inactive), 12);

        // Delete by filter; one id keeps the plain delete (a missing record is exit 4).
        env.atro(&["delete", "Brand", "-w", inactive]).code(2);
        assert_eq!(total(inactive), 12);
        env.atro(&["delete", "Brand", "-w", inactive, "--yes"]).ok();
        assert_eq!(list_total(&env.atro(&["list", "Brand"]).ok().stderr), 18);
        env.atro(&["delete", "Brand", "nobody"]).code(4);
        env.atro(&["delete", "Brand"]).code(2);
        env.atro(&["delete", "Brand", "--all", "--yes", "--permanently"])
            .ok();
        assert_eq!(list_total(&env.atro(&["list", "Brand"]).ok().stderr), 0);
    }
}

/// `--wait` gives up after `--wait-timeout` when the job does not finish (AtroCore runs jobs from
/// its cron: a stopped cron keeps them pending), saying so, with the timeout's exit code (5).
#[test]
fn wait_gives_up_after_the_wait_timeout() {
    let env = support::Env::start_config(Gen::V23, |c| c.cron_stopped(true));
    env.seed_brands(5);
    let run = env
        .atro(&[
            "update",
            "Brand",
            "--all",
            "--set",
            "description=x",
            "--yes",
            "--wait",
            "--wait-timeout",
            "1",
        ])
        .code(5);
    assert!(
        run.stderr.contains("not done after 1 s (--wait-timeout)"),
        "{}",
        run.stderr
    );
    // --wait-timeout needs --wait.
    env.atro(&[
        "update",
        "Brand",
        "--all",
        "--set",
        "description=x",
        "--yes",
        "--wait-timeout",
        "1",
    ])
    .code(2);
}

/// `export --since-state`: a first run writes every record, the next ones only what changed
/// (deletions marked), the state moves only after a complete run, and a run killed midway
/// resumes with the same command: each change written once.
#[test]
fn export_since_state_writes_each_change_once_and_resumes() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        let sim = env.sim.as_ref().unwrap();
        sim.clock().freeze_at(1_780_000_000);
        env.seed_brands(40);
        sim.clock().advance(1);
        let feed = |out: &str| {
            env.atro(&[
                "export",
                "Brand",
                "--since-state",
                "brand.state",
                "--settle",
                "0",
                "--page-size",
                "7",
                "-o",
                out,
            ])
        };
        let lines = |out: &str| -> Vec<Value> {
            read(&env.path(out))
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let first = feed("c1.jsonl").ok();
        assert!(
            first.stderr.contains("exported 40 changes (0 deletions)"),
            "{}",
            first.stderr
        );
        assert_eq!(lines("c1.jsonl").len(), 40);
        assert!(lines("c1.jsonl").iter().all(|r| r["_change"] == "modified"));
        assert!(!env.path("brand.state.partial").exists());

        // Two renames and a deletion.
        let client = env.client();
        let ids = jsonl_ids(&read(&env.path("c1.jsonl")));
        env.rt.block_on(async {
            for id in &ids[..2] {
                let method = match client.generation() {
                    atrocore_runtime::ApiGeneration::V2_2 => atrocore_runtime::Method::PUT,
                    _ => atrocore_runtime::Method::PATCH,
                };
                client
                    .request(method, format!("/Brand/{id}"))
                    .json(&serde_json::json!({"name": format!("Renamed {id}")}))
                    .send_empty()
                    .await
                    .unwrap();
            }
            assert!(client.records("Brand").delete(&ids[2]).await.unwrap());
        });
        // Not settled yet (same second): nothing, and the state stays.
        let none = feed("c2.jsonl").ok();
        assert!(
            none.stderr.contains("exported 0 changes"),
            "{}",
            none.stderr
        );
        sim.clock().advance(1);
        // An output holding changes is not overwritten without --force.
        let refused = feed("c1.jsonl").code(2);
        assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
        feed("c2.jsonl").ok();
        let second = lines("c2.jsonl");
        let changes: Vec<(&str, &str)> = second
            .iter()
            .map(|r| (r["id"].as_str().unwrap(), r["_change"].as_str().unwrap()))
            .collect();
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(changes.contains(&(ids[0].as_str(), "modified")));
        assert!(changes.contains(&(ids[1].as_str(), "modified")));
        assert_eq!(
            changes[2],
            (ids[2].as_str(), "deleted"),
            "deletions come last"
        );

        // A run killed midway resumes with the same command.
        env.seed_brands_from(1_000, 150);
        sim.clock().advance(1);
        let before = read(&env.path("brand.state"));
        sim.set_faults(atrocore_sim::Faults {
            latency: std::time::Duration::from_millis(40),
            ..Default::default()
        });
        let args = [
            "export",
            "Brand",
            "--since-state",
            "brand.state",
            "--settle",
            "0",
            "--page-size",
            "5",
            "-o",
            "c3.jsonl",
        ];
        let mut child = env.cmd(&args).spawn().unwrap();
        // Killed once some pages are in the file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let written = || {
            std::fs::read_to_string(env.path("c3.jsonl"))
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        while written() < 20 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().unwrap();
        let _ = child.wait();
        assert!(env.path("brand.state.partial").exists());
        assert_eq!(
            read(&env.path("brand.state")),
            before,
            "the state moves only when done"
        );
        sim.set_faults(atrocore_sim::Faults::default());
        let resumed = env.atro(&args).ok();
        assert!(
            resumed.stderr.contains("(150 in the file)"),
            "{}",
            resumed.stderr
        );
        let third = jsonl_ids(&read(&env.path("c3.jsonl")));
        let mut unique = third.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((third.len(), unique.len()), (150, 150), "{generation:?}");
        assert!(!env.path("brand.state.partial").exists());
    }
}

/// `atro fields E` lists the entity's attributes after its fields: code, type, multilingual,
/// measure, name (2.2: the example's bundled definitions seeded into the simulator).
#[test]
fn fields_lists_attributes_with_their_types() {
    let env = Env::start(Gen::V22);
    let definitions: Value = serde_json::from_str(&read(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/atrocore-2.2-pim-default.attributes.json"
    ))))
    .unwrap();
    env.sim
        .as_ref()
        .unwrap()
        .seed_attributes(&definitions)
        .unwrap();
    let run = env.atro(&["fields", "Product"]).ok();
    let line = |code: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!(" {code} ")))
            .unwrap_or_else(|| panic!("no line for {code} in\n{}", run.stdout))
            .to_owned()
    };
    assert!(line("weight").contains("float") && line("weight").contains("Mass"));
    assert!(line("colour").contains("extensibleEnum"));
    assert!(line("careInstructions").contains("yes"), "multilingual");

    // Values by code: a filter (`attr:CODE`, resolved to the attribute's id) and an export with
    // attribute columns.
    let client = env.client();
    env.rt.block_on(async {
        for (name, weight) in [("Light", 1.5), ("Heavy", 9.0)] {
            let product: Value = client
                .request(atrocore_runtime::Method::POST, "/Product")
                .json(&serde_json::json!({"name": name, "number": format!("N-{name}"), "status": "draft"}))
                .send_json()
                .await
                .unwrap();
            let id = product["id"].as_str().unwrap();
            client
                .request(atrocore_runtime::Method::PUT, format!("/Product/{id}"))
                .header("Flatten-Attributes", "true")
                .json(&serde_json::json!({"weight": weight}))
                .send_empty()
                .await
                .unwrap();
        }
    });
    let heavy = env
        .atro(&["list", "Product", "--where", "attr:weight > 5"])
        .ok();
    assert_eq!(list_total(&heavy.stderr), 1, "{}", heavy.stderr);
    let unknown = env.atro(&["list", "Product", "--where", "attr:volume > 5"]);
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("`volume`"), "{}", unknown.stderr);
    env.atro(&[
        "export",
        "Product",
        "--select",
        "name",
        "--attributes",
        "weight,colour",
        "-o",
        "p.csv",
    ])
    .ok();
    let mut csv = csv::Reader::from_path(env.path("p.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap(),
        vec!["id", "name", "weight", "colour"]
    );
    let rows: Vec<(String, String)> = csv
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_owned(), r[2].to_owned())
        })
        .collect();
    assert!(
        rows.contains(&("Heavy".to_owned(), "9.0".to_owned())),
        "{rows:?}"
    );

    // Imported back: `attr:CODE` headers, or the export's own columns named by --attributes.
    std::fs::write(
        env.path("new.csv"),
        "name,number,status,attr:weight\nStool,N-stool,draft,3.5\n",
    )
    .unwrap();
    env.atro(&["import", "Product", "new.csv"]).ok();
    let over_three = env
        .atro(&["list", "Product", "--where", "attr:weight > 3"])
        .ok();
    assert_eq!(list_total(&over_three.stderr), 2, "{}", over_three.stderr);
    let text = read(&env.path("p.csv")).replace(",9.0,", ",1.0,");
    std::fs::write(env.path("p.csv"), text).unwrap();
    env.atro(&[
        "import",
        "Product",
        "p.csv",
        "--attributes",
        "weight,colour",
    ])
    .ok();
    let over_three = env
        .atro(&["list", "Product", "--where", "attr:weight > 3"])
        .ok();
    assert_eq!(list_total(&over_three.stderr), 1, "{}", over_three.stderr);
}

/// Listings for scripts and the shell: `-f json` on `entities` and `fields`, `-o -` for
/// exports, completion scripts.
#[test]
fn json_listings_stdout_exports_and_completions() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        env.seed_brands(3);
        let entities = env.atro(&["entities", "-f", "json", "--no-counts"]).ok();
        let list: Value = serde_json::from_str(&entities.stdout).unwrap();
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|e| e["entity"] == "Brand"),
            "{generation:?}: {}",
            entities.stdout
        );
        let counted = env.atro(&["entities", "-f", "jsonl"]).ok();
        let brand: Value = counted
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|e| e["entity"] == "Brand")
            .unwrap();
        assert_eq!(brand["records"], 3, "{generation:?}");
        let fields = env.atro(&["fields", "Brand", "-f", "json"]).ok();
        let fields: Value = serde_json::from_str(&fields.stdout).unwrap();
        let name = fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "name")
            .unwrap();
        assert_eq!(name["attribute"], false);
        assert!(name["kind"].is_string());

        let exported = env
            .atro(&["export", "Brand", "-f", "jsonl", "-o", "-"])
            .ok();
        assert_eq!(exported.stdout.lines().count(), 3, "{generation:?}");
        assert!(
            !exported.stdout.contains("exported"),
            "the summary goes to stderr"
        );
        env.atro(&["export", "Brand", "-o", "-"]).code(2);
        assert!(!env.path("-").exists(), "no file named `-`");
    }
    let env = Env::start(Gen::V22);
    let bash = env.atro(&["completions", "bash"]).ok();
    assert!(bash.stdout.contains("_atro"), "{}", bash.stdout);
    assert!(bash.stdout.contains("export"));
}

/// CSV as spreadsheets write it: a German Excel's `;`-separated Windows-1252 file imports
/// (delimiter and encoding detected, the reject file written alike), and an export for Excel
/// (`--delimiter ';' --bom`) reads back the same.
#[test]
fn csv_from_and_for_excel() {
    for generation in Gen::BOTH {
        let env = Env::start(generation);
        // "name;description" rows in Windows-1252: ü = 0xFC, ß = 0xDF.
        std::fs::write(
            env.path("de.csv"),
            b"name;description\nM\xfcller AG;S\xfc\xdfwaren\n;no name\n",
        )
        .unwrap();
        let run = env.atro(&["import", "Brand", "de.csv"]).code(1);
        assert!(run.stderr.contains("Windows-1252"), "{}", run.stderr);
        let listed = env
            .atro(&[
                "list",
                "Brand",
                "-f",
                "jsonl",
                "--select",
                "name,description",
            ])
            .ok();
        assert!(listed.stdout.contains("\"Müller AG\""), "{}", listed.stdout);
        assert!(listed.stdout.contains("Süßwaren"), "{}", listed.stdout);
        let rejects = std::fs::read_to_string(env.path("de.rejects.csv")).unwrap();
        assert!(
            rejects.starts_with("line;error;name;description"),
            "{rejects}"
        );

        env.atro(&[
            "export",
            "Brand",
            "-o",
            "excel.csv",
            "--select",
            "name,description",
            "--delimiter",
            ";",
            "--bom",
        ])
        .ok();
        let bytes = std::fs::read(env.path("excel.csv")).unwrap();
        assert!(bytes.starts_with("\u{feff}id;name;description".as_bytes()));
        // Back in: the mark and the delimiter are recognised (the ids make it an update).
        env.atro(&["import", "Brand", "excel.csv"]).ok();
        env.atro(&["import", "Brand", "excel.csv", "--delimiter", ","])
            .code(2);
    }
}

/// An interrupted import leaves a progress log; a rerun refuses to start over silently, and
/// `--resume` continues after the rows the log says were handled: rows without an id or
/// unique field are not created twice (at most the batch in flight when it stopped).
#[test]
fn an_interrupted_import_resumes_after_the_handled_rows() {
    for generation in Gen::BOTH {
        let faults = atrocore_sim::Faults {
            latency: std::time::Duration::from_millis(30),
            ..Default::default()
        };
        let env = Env::start_with(generation, faults);
        let rows: String = (0..200)
            .map(|i| format!("{{\"name\":\"Resumed {i:03}\"}}\n"))
            .collect();
        std::fs::write(env.path("brands.jsonl"), rows).unwrap();
        let args = [
            "import",
            "Brand",
            "brands.jsonl",
            "--batch-size",
            "10",
            "--concurrency",
            "1",
        ];
        let mut child = env.cmd(&args).spawn().unwrap();
        let sim = env.sim.as_ref().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while sim.request_count() < 10 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        let _ = child.wait();
        assert!(env.path("brands.jsonl.import-progress").exists());

        let refused = env.atro(&args).code(2);
        assert!(refused.stderr.contains("--resume"), "{}", refused.stderr);
        let mut resumed = args.to_vec();
        resumed.push("--resume");
        let run = env.atro(&resumed).ok();
        assert!(run.stderr.contains("resuming"), "{}", run.stderr);
        assert!(!env.path("brands.jsonl.import-progress").exists());
        let listed = env
            .atro(&[
                "export", "Brand", "-f", "jsonl", "-o", "-", "--select", "name",
            ])
            .ok();
        let names: Vec<&str> = listed.stdout.lines().collect();
        let distinct: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(distinct.len(), 200, "{generation:?}: every row stored");
        assert!(
            names.len() <= 210,
            "{generation:?}: at most the batch in flight twice, not {}",
            names.len()
        );
    }
}
