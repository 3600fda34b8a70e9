//! A fresh clone of this repository, in a folder of its own with no `../shared` beside it,
//! passes the README's test command: the tests that need AtroCore's reference specs say they
//! are skipped and the rest pass.
//!
//! Ignored by `cargo test` (it builds the whole workspace a second time) and run by `.ci/run`
//! (`cargo test -p xtask --test fresh_clone -- --ignored`). It clones the committed `HEAD`.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The README's test command: the first `sh` block after "Run the tests:".
fn readme_test_command() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let after = readme
        .split_once("Run the tests:")
        .expect("README says \"Run the tests:\"")
        .1;
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, b)| b.split_once("```"))
        .expect("a ```sh block follows \"Run the tests:\"")
        .0;
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one command: {block}");
    lines[0].split_whitespace().map(str::to_owned).collect()
}

#[test]
#[ignore = "builds and tests a clone of the workspace (minutes); .ci/run runs it"]
fn a_fresh_clone_passes_the_readme_test_command() {
    let command = readme_test_command();
    assert_eq!(command[0], "cargo", "{command:?}");
    // The workspace's target folder: the dependencies are built already (cargo does not hold
    // its lock while tests run).
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), std::path::PathBuf::from);
    // The clone lives in the target folder (no `../shared` beside it) and stays there after
    // the run: cargo keys the workspace's crates by their path inside the workspace and their
    // freshness by file times, so a later build of the main checkout may reuse the clone's test
    // binaries, which name the clone's folder (`CARGO_MANIFEST_DIR`). A removed temporary
    // folder made them fail to find their fixtures.
    let parent = target.join("fresh-clone");
    let clone = parent.join("atrocore-rs");
    if clone.exists() {
        std::fs::remove_dir_all(&clone).unwrap();
    }
    std::fs::create_dir_all(&parent).unwrap();
    assert!(!parent.join("shared").exists());
    let o = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(root())
        .arg(&clone)
        .output()
        .expect("git runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(&command[1..])
        .current_dir(&clone)
        .env("CARGO_TARGET_DIR", &target)
        // As on a developer's machine: not CI (skipping allowed), no reference folder.
        .env_remove("CI")
        .env_remove("ATROCORE_SHARED")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "`{}` failed in a fresh clone:\n{stdout}\n{stderr}",
        command.join(" ")
    );
    let skipped: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("skipped "))
        .collect();
    assert!(
        skipped.iter().any(|l| l.contains("shared/specs")),
        "the tests that need the reference specs say they skipped:\n{stderr}"
    );
    eprintln!("{} tests skipped in the fresh clone", skipped.len());
}
