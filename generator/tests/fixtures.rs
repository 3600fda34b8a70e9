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
    // Attribute definitions likewise, in `fixtures/attributes/<stem>.json`.
    let attributes_path = path
        .parent()
        .unwrap()
        .join("attributes")
        .join(format!("{stem}.json"));
    let attributes = std::fs::read_to_string(&attributes_path).ok().map(|t| {
        atrocore_codegen::AttributeDefinitions {
            origin: format!("tests/fixtures/attributes/{stem}.json"),
            file: serde_json::from_str(&t).unwrap(),
        }
    });
    let settings = Settings {
        metadata,
        attributes,
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

/// Module names are unique and do not depend on the order of the spec: the collisions fixture
/// read with `paths` and `components/schemas` reversed gives the same files.
#[test]
fn module_names_are_unique_and_independent_of_spec_order() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/module_collisions.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let spec = Spec::parse("module_collisions.json", &text).unwrap();
    let out = generate(&spec, &Settings::default()).unwrap();
    let lib = &out.files["src/lib.rs"];
    let mods: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .collect();
    let unique: std::collections::BTreeSet<&&str> = mods.iter().collect();
    assert_eq!(unique.len(), mods.len(), "{mods:?}");
    for m in &mods {
        assert!(
            !["lib", "main"].contains(m),
            "{m} is a crate root file name"
        );
        assert!(out.files.contains_key(&format!("src/{m}.rs")), "{m}");
    }
    let modules = out.api.entities.len() + out.api.groups.len() + 2; // + types, ids
    assert_eq!(mods.len(), modules, "{mods:?}");

    let mut reversed = spec.root.clone();
    for at in ["/paths", "/components/schemas"] {
        let map = reversed.pointer_mut(at).unwrap().as_object_mut().unwrap();
        let entries: Vec<_> = std::mem::take(map).into_iter().rev().collect();
        map.extend(entries);
    }
    let reversed = Spec::from_value("module_collisions.json", reversed).unwrap();
    let again = generate(&reversed, &Settings::default()).unwrap();
    assert_eq!(out.files, again.files);
}
