//! `cargo xtask reduce` on a fixture (`tests/fixtures/reduce/`): a four-entity spec whose
//! metadata makes `Attribute.attributePanel` (→ AttributePanel) and `Attribute.entity` (→ Entity,
//! not in the spec) required, as AtroCore's does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/reduce";
const LABEL: &str = "xtask/tests/fixtures/reduce/spec.json";

/// A fresh folder for one test's output.
fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reduce-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run `cargo xtask reduce --spec <fixture> <args>` and return its output (checked to succeed).
fn reduce(args: &[&str]) -> (String, String) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("reduce")
        .arg("--spec")
        .arg(fixture.join("spec.json"))
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    );
    assert!(status.success(), "{stdout}\n{stderr}");
    (stdout, stderr)
}

fn metadata_arg() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FIXTURE)
        .join("metadata.json")
        .display()
        .to_string()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn required_links_pull_their_targets_in() {
    let dir = out_dir("required");
    let (out, meta_out) = (dir.join("spec.json"), dir.join("metadata.json"));
    let (stdout, stderr) = reduce(&[
        "--include",
        "Attribute",
        "--strip-prose",
        "--out",
        out.to_str().unwrap(),
        "--metadata",
        &metadata_arg(),
        "--metadata-out",
        meta_out.to_str().unwrap(),
    ]);
    assert_eq!(
        stderr,
        format!(
            "note: {LABEL}: Attribute.attributePanel is required → AttributePanel added\n\
             warning: {LABEL}: Attribute.entity is required, but its target Entity is not an entity of the spec (its ids must come from elsewhere)\n\
             warning: {LABEL}: AttributePanel.entity is required, but its target Entity is not an entity of the spec (its ids must come from elsewhere)\n"
        )
    );
    assert!(
        stdout.contains("entities: Attribute, AttributePanel\n"),
        "{stdout}"
    );

    let spec = read(&out);
    assert_eq!(
        keys(&spec["paths"]),
        [
            "/Attribute",
            "/Attribute/{id}",
            "/AttributePanel",
            "/AttributePanel/{id}",
            "/App/user"
        ]
    );
    assert_eq!(
        keys(&spec["components"]["schemas"]),
        ["Attribute", "AttributePanel"]
    );
    assert!(!spec.to_string().contains("summary"), "prose is stripped");
    // The metadata is cut to the kept entities, and to what the generator reads.
    let metadata = read(&meta_out);
    assert_eq!(keys(&metadata), ["entityDefs"]);
    assert_eq!(
        keys(&metadata["entityDefs"]),
        ["Attribute", "AttributePanel"]
    );
    assert_eq!(keys(&metadata["entityDefs"]["AttributePanel"]), ["fields"]);
}

#[test]
fn opt_out_keeps_the_include_list_and_warns() {
    let dir = out_dir("opt-out");
    let out = dir.join("spec.json");
    let (stdout, stderr) = reduce(&[
        "--include",
        "Attribute",
        "--no-required-links",
        "--out",
        out.to_str().unwrap(),
        "--metadata",
        &metadata_arg(),
    ]);
    assert!(
        stderr.contains(
            "warning: xtask/tests/fixtures/reduce/spec.json: Attribute.attributePanel is required, but its target AttributePanel is not selected (required links are not followed)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("added"), "{stderr}");
    assert!(stdout.contains("entities: Attribute\n"), "{stdout}");
    assert_eq!(keys(&read(&out)["components"]["schemas"]), ["Attribute"]);
}

#[test]
fn exclusion_wins_over_a_required_link() {
    let dir = out_dir("exclude");
    let out = dir.join("spec.json");
    let (_, stderr) = reduce(&[
        "--include",
        "Attribute",
        "--exclude",
        "AttributePanel",
        "--out",
        out.to_str().unwrap(),
        "--metadata",
        &metadata_arg(),
    ]);
    assert!(
        stderr.contains(
            "Attribute.attributePanel is required, but its target AttributePanel is excluded"
        ),
        "{stderr}"
    );
    assert_eq!(keys(&read(&out)["components"]["schemas"]), ["Attribute"]);
}

#[test]
fn without_metadata_the_include_list_is_all() {
    let dir = out_dir("no-metadata");
    let out = dir.join("spec.json");
    let (stdout, stderr) = reduce(&["--include", "Attribute", "--out", out.to_str().unwrap()]);
    assert_eq!(stderr, "");
    assert!(stdout.contains("entities: Attribute\n"), "{stdout}");
    assert_eq!(keys(&read(&out)["components"]["schemas"]), ["Attribute"]);
}
