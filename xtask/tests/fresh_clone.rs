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
    // the run. Cargo keys the workspace's crates by their path inside the workspace and checks
    // their freshness by the times of the files of their last build: after the clone's build,
    // the main checkout's would reuse the clone's artifacts (older sources, test binaries that
    // name the clone's folder) however its own files changed. So the workspace crates'
    // fingerprints are removed after the run (`forget_workspace_builds`): the next build of the
    // main checkout compiles them again; the dependencies stay built.
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
    forget_workspace_builds(&target);
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

/// Removes the build fingerprints of the workspace's own packages from `target`, so that the
/// next build compiles them from the main checkout (see the test).
fn forget_workspace_builds(target: &std::path::Path) {
    let o = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    let metadata: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let names: Vec<String> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(|n| format!("{n}-")))
        .collect();
    for profile in std::fs::read_dir(target).into_iter().flatten().flatten() {
        let fingerprints = profile.path().join(".fingerprint");
        for entry in std::fs::read_dir(&fingerprints)
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            // `atrocore-cli-<hash>`: the package name, then the hash (no other dash).
            let ours = names.iter().any(|n| {
                name.strip_prefix(n.as_str())
                    .is_some_and(|hash| !hash.contains('-'))
            });
            if ours {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
