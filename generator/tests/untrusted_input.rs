//! Specs are untrusted input: whatever the document holds, the generator returns files or an
//! error that says where the problem is; it never panics.

use atrocore_codegen::{Settings, generate, spec::Spec};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixtures() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Spec::parse(path.display().to_string(), &text).unwrap().root);
        }
    }
    out.sort_by_key(|v| v.to_string());
    out
}

/// Every JSON pointer of a document.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            pointers(
                x,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        _ => {}
    }
}

fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!([])),
        Just(json!({})),
        Just(json!("")),
        Just(json!(7)),
        Just(json!(true)),
        Just(json!({"$ref": "#/components/schemas/Missing"})),
        Just(json!({"$ref": "#/paths"})),
        Just(json!({"$ref": 3})),
        Just(json!({"type": "array", "items": []})),
        Just(json!({"type": ["string", "null"]})),
        Just(json!({"allOf": [{"$ref": "#/components/schemas/Missing"}]})),
        Just(json!({"type": "object", "properties": []})),
        Just(json!({"enum": ["", "", "a-b", "a_b"], "type": "string"})),
        "[a-zA-Z0-9_{}/ -]{0,12}".prop_map(Value::String),
    ]
}

fn mutate(mut doc: Value, picks: &[(usize, Value)]) -> Value {
    for (pick, replacement) in picks {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let target = &all[pick % all.len()];
        if target.is_empty() {
            continue;
        }
        if let Some(slot) = doc.pointer_mut(target) {
            *slot = replacement.clone();
        }
    }
    doc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_specs_never_panic(which in 0usize..64, picks in proptest::collection::vec((any::<usize>(), junk()), 1..4)) {
        let docs = fixtures();
        let doc = mutate(docs[which % docs.len()].clone(), &picks);
        if let Ok(spec) = Spec::from_value("mutated.json", doc) {
            match generate(&spec, &Settings::default()) {
                Ok(out) => prop_assert!(out.files.contains_key("src/lib.rs")),
                Err(e) => prop_assert!(e.to_string().contains("mutated.json") || e.to_string().starts_with("entity filter")),
            }
        }
    }
}

#[test]
fn errors_say_where() {
    let spec = Spec::parse(
        "bad.json",
        r##"{"openapi":"3.0.0","paths":{"/Brand":{"get":{"tags":["Brand"],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Nope"}}}}}}}}}"##,
    )
    .unwrap();
    let err = generate(&spec, &Settings::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "bad.json#/paths/~1Brand/get/responses/200/content/application~1json/schema/$ref"
        ),
        "{err}"
    );
    assert!(err.contains("Nope"), "{err}");

    let err = Spec::parse("notes.yaml", "just: [text")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("notes.yaml: invalid YAML"), "{err}");

    let spec = Spec::parse("f.json", r#"{"openapi":"3.0.0","paths":{}}"#).unwrap();
    let settings = Settings {
        filter: atrocore_codegen::EntityFilter {
            include: vec!["Prodcut".into()],
            ..Default::default()
        },
        ..Settings::default()
    };
    let err = generate(&spec, &settings).unwrap_err().to_string();
    assert!(err.contains("unknown entity Prodcut"), "{err}");
}
