//! The README's promise: one new field in the spec gives a one-field diff. A field added to the
//! `Brand` schema of the bundled default spec (read, create and patch bodies) changes only the
//! lines about that field in `brand.rs` (its struct fields, field enum variant, filter handle)
//! and in the API summary (`api.json`), and no other file.

use std::collections::BTreeSet;

use atrocore_codegen::{Settings, generate, spec::Spec};
use serde_json::{Value, json};

fn files(spec: &Value, metadata: &Value) -> std::collections::BTreeMap<String, String> {
    let spec = Spec::parse("spec.json", &serde_json::to_string(spec).unwrap()).unwrap();
    let settings = Settings {
        metadata: Some(metadata.clone()),
        ..Settings::default()
    };
    generate(&spec, &settings).unwrap().files
}

#[test]
fn one_new_field_gives_a_one_field_diff() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/{p}")).unwrap()).unwrap()
    };
    let spec = read("atrocore-2.2-pim-default.json");
    let metadata = read("atrocore-2.2-pim-default.metadata.json");
    let before = files(&spec, &metadata);

    // `loyaltyTier`: a new varchar field of Brand, wherever Brand's fields are listed.
    let mut changed = spec.clone();
    let field = json!({ "type": "string" });
    let mut added = 0;
    let schemas = [
        "/components/schemas/Brand/properties".to_owned(),
        "/paths/~1Brand/post/requestBody/content/application~1json/schema/properties".to_owned(),
        "/paths/~1Brand~1{id}/put/requestBody/content/application~1json/schema/properties"
            .to_owned(),
    ];
    for pointer in &schemas {
        if let Some(props) = changed.pointer_mut(pointer).and_then(Value::as_object_mut) {
            props.insert("loyaltyTier".into(), field.clone());
            added += 1;
        }
    }
    assert!(added >= 2, "the Brand schemas were not found");
    let after = files(&changed, &metadata);

    let changed_files: BTreeSet<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|f| before.get(*f) != after.get(*f))
        .collect();
    assert_eq!(
        changed_files,
        BTreeSet::from([&"api.json".to_owned(), &"src/brand.rs".to_owned()])
    );
    for file in changed_files {
        let added = added_lines(&before[file], &after[file]);
        let unrelated: Vec<&String> = added.iter().filter(|l| !about_field(l)).collect();
        assert!(
            unrelated.is_empty(),
            "{file}: unrelated lines added: {unrelated:#?}"
        );
        assert!(added.len() <= 40, "{file}: {} lines added", added.len());
        assert!(
            added.iter().any(|l| l.contains("loyalty")),
            "{file}: the field is missing"
        );
    }
}

/// The lines of `new` that `old` lacks (as multisets); panics when `new` lost a line.
fn added_lines(old: &str, new: &str) -> Vec<String> {
    let mut removed: Vec<&str> = old.lines().collect();
    let mut added = Vec::new();
    for line in new.lines() {
        if let Some(i) = removed.iter().position(|l| *l == line) {
            removed.swap_remove(i);
        } else {
            added.push(line.to_owned());
        }
    }
    assert!(removed.is_empty(), "lines removed: {removed:#?}");
    added
}

/// A line about the new field, or only punctuation / attributes around it.
fn about_field(line: &str) -> bool {
    let t = line.trim().to_lowercase();
    t.contains("loyalty")
        || t.is_empty()
        || t == "///"
        || t.starts_with("#[serde(")
        || t.chars().all(|c| "{}[](),;".contains(c))
}
