//! Snapshot tests: one fixture spec per AtroCore quirk (plus a names torture fixture).
//!
//! For each `tests/fixtures/*.{json,yaml}`: the IR and every generated file are snapshotted,
//! and generation must be deterministic. A new case is a new fixture file.

use atrocore_codegen::{Settings, generate, spec::Spec};

fn check(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let spec = Spec::parse(name.clone(), &text).unwrap();
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    // Instance metadata for a fixture, when it has some, lives in `fixtures/metadata/<stem>.json`.
    let metadata_path = path
        .parent()
        .unwrap()
        .join("metadata")
        .join(format!("{stem}.json"));
    let metadata = std::fs::read_to_string(&metadata_path)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap());
    let settings = Settings {
        metadata,
        spec_label: format!("tests/fixtures/{name}"),
        command: "cargo test -p atrocore-codegen --test fixtures".into(),
        ..Settings::default()
    };
    let out = generate(&spec, &settings).unwrap();
    let again = generate(&spec, &settings).unwrap();
    assert_eq!(
        out.files, again.files,
        "{name}: generation is not deterministic"
    );

    insta::with_settings!({snapshot_suffix => stem.clone(), prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("ir", out.api);
        let mut all = String::new();
        for (file, contents) in &out.files {
            all.push_str(&format!("===== {file} =====\n{contents}\n"));
        }
        insta::assert_snapshot!("files", all);
    });
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/*.{json,yaml}", check);
}
