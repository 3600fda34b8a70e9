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
        Just(json!({"$ref": "#/components/schemas/%aé"})),
        Just(json!({"$ref": "#/components/schemas/a~1b%20c"})),
        Just(json!({"$ref": "#"})),
        // References to a random place of the same document (`@` is replaced by its
        // pointer): cycles through `$ref`, `allOf` and `items`.
        Just(json!({"$ref": "@"})),
        Just(json!({"allOf": [{"$ref": "@"}]})),
        Just(json!({"type": "array", "items": {"$ref": "@"}})),
        Just(json!({"type": "object", "properties": {"self": {"$ref": "@"}}})),
        "[a-zA-Z0-9_{}/ -]{0,12}".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

/// Replace `$ref: "@"` by a reference to `pointer`.
fn point_refs_at(v: &mut Value, pointer: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "$ref" && x == "@" {
                    *x = Value::String(format!("#{pointer}"));
                } else {
                    point_refs_at(x, pointer);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| point_refs_at(x, pointer)),
        _ => {}
    }
}

fn mutate(mut doc: Value, picks: &[(usize, Value)]) -> Value {
    for (pick, replacement) in picks {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let target = &all[pick % all.len()];
        if target.is_empty() {
            continue;
        }
        let mut replacement = replacement.clone();
        let to = &all[pick.wrapping_mul(31) % all.len()];
        point_refs_at(&mut replacement, to);
        if let Some(slot) = doc.pointer_mut(target) {
            *slot = replacement;
        }
    }
    doc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

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

/// A spec with one entity `Brand` whose read schema is `brand` plus more component schemas.
fn brand_spec(brand: Value, more: Value) -> Spec {
    let mut schemas = json!({ "Brand": brand });
    for (k, v) in more.as_object().unwrap() {
        schemas[k] = v.clone();
    }
    Spec::from_value(
        "hostile.json",
        json!({
            "openapi": "3.0.0",
            "paths": {
                "/Brand": {"get": {"tags": ["Brand"]}},
                "/Brand/{id}": {"get": {"tags": ["Brand"]}}
            },
            "components": {"schemas": schemas}
        }),
    )
    .unwrap()
}

/// Generate on a small stack: a runaway recursion fails the test instead of hiding in 8 MiB.
fn generate_small_stack(spec: Spec) -> Result<atrocore_codegen::Output, String> {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || generate(&spec, &Settings::default()).map_err(|e| e.to_string()))
        .unwrap()
        .join()
        .expect("generation panicked")
}

#[test]
fn all_of_cycles_are_located_errors() {
    // Directly…
    let spec = brand_spec(
        json!({"allOf": [{"$ref": "#/components/schemas/Brand"}]}),
        json!({}),
    );
    let err = generate_small_stack(spec).unwrap_err();
    assert!(
        err.starts_with("hostile.json#/components/schemas/Brand") && err.contains("itself"),
        "{err}"
    );
    // …and through other schemas.
    let spec = brand_spec(
        json!({"allOf": [{"$ref": "#/components/schemas/A"}]}),
        json!({
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}, {"properties": {"a": {"type": "string"}}}]},
            "B": {"allOf": [{"$ref": "#/components/schemas/Brand"}]}
        }),
    );
    let err = generate_small_stack(spec).unwrap_err();
    assert!(
        err.starts_with("hostile.json#/components/schemas/Brand") && err.contains("allOf"),
        "{err}"
    );
    // A shared (non-entity) type whose `allOf` includes itself.
    let spec = brand_spec(
        json!({"properties": {"x": {"$ref": "#/components/schemas/Loop"}}}),
        json!({"Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}]}}),
    );
    let err = generate_small_stack(spec).unwrap_err();
    assert!(
        err.starts_with("hostile.json#/components/schemas/Loop"),
        "{err}"
    );
}

#[test]
fn inline_schemas_that_contain_themselves_are_located_errors() {
    // A reference into a schema (not to a component) is inlined: a loop of those never ends.
    let spec = brand_spec(
        json!({"properties": {
            "x": {"$ref": "#/components/schemas/Brand/properties/y"},
            "y": {"type": "object", "properties": {"z": {"$ref": "#/components/schemas/Brand/properties/y"}}}
        }}),
        json!({}),
    );
    let err = generate_small_stack(spec).unwrap_err();
    assert!(
        err.starts_with("hostile.json#/components/schemas/Brand/properties/y")
            && err.contains("contains itself"),
        "{err}"
    );
    // Arrays of themselves, through `paths`.
    let spec = brand_spec(
        json!({"properties": {"x": {"$ref": "#/paths/~1Brand/get/x-schema"}}}),
        json!({}),
    );
    let mut root = spec.root.clone();
    root["paths"]["/Brand"]["get"]["x-schema"] =
        json!({"type": "array", "items": {"$ref": "#/paths/~1Brand/get/x-schema"}});
    let err = generate_small_stack(Spec::from_value("hostile.json", root).unwrap()).unwrap_err();
    assert!(
        err.starts_with("hostile.json#/paths/~1Brand/get/x-schema"),
        "{err}"
    );
}

#[test]
fn long_chains_of_schemas_are_refused_not_overflowed() {
    let mut more = serde_json::Map::new();
    for i in 0..2000 {
        more.insert(
            format!("S{i}"),
            json!({"allOf": [{"$ref": format!("#/components/schemas/S{}", i + 1)}]}),
        );
    }
    more.insert(
        "S2000".into(),
        json!({"properties": {"a": {"type": "string"}}}),
    );
    let spec = brand_spec(
        json!({"allOf": [{"$ref": "#/components/schemas/S0"}]}),
        Value::Object(more),
    );
    let err = generate_small_stack(spec).unwrap_err();
    assert!(err.contains("nested more than"), "{err}");

    // Inline types in inline types, through references outside components.
    let chain: Vec<Value> = (0..2000)
        .map(|i| json!({"type": "object", "properties": {"n": {"$ref": format!("#/x-chain/{}", i + 1)}}}))
        .collect();
    let mut root = brand_spec(
        json!({"properties": {"x": {"$ref": "#/x-chain/0"}}}),
        json!({}),
    )
    .root;
    root["x-chain"] = Value::Array(chain);
    let err = generate_small_stack(Spec::from_value("hostile.json", root).unwrap()).unwrap_err();
    assert!(err.contains("nested more than"), "{err}");
}

#[test]
fn escaped_references_resolve_to_the_named_schema() {
    // `~1` (a `/` in the name), `~0` (a `~`) and percent-escapes (a space, non-ASCII).
    for (name, reference) in [
        ("a/b", "#/components/schemas/a~1b"),
        ("a~b", "#/components/schemas/a~0b"),
        ("Shared Type", "#/components/schemas/Shared%20Type"),
        ("Größe", "#/components/schemas/Gr%C3%B6%C3%9Fe"),
        ("Größe", "#/components/schemas/Größe"),
    ] {
        let spec = brand_spec(
            json!({"properties": {"x": {"$ref": reference}}}),
            json!({ name: {"type": "object", "properties": {"v": {"type": "integer"}}} }),
        );
        let out = generate_small_stack(spec).unwrap_or_else(|e| panic!("{reference}: {e}"));
        let types = &out.files["src/types.rs"];
        assert!(
            types.contains("pub v: Option<i64>"),
            "{reference}:\n{types}"
        );
    }
}

#[test]
fn odd_references_resolve_or_say_where() {
    let odd = [
        // Into a component, and outside components: inlined.
        ("#/components/schemas/Other/properties/p", true),
        ("#/paths/~1Brand/get/x-schema", true),
        // Broken escapes, non-ASCII right after `%`, dangling and non-local references.
        ("#/components/schemas/%", false),
        ("#/components/schemas/%zz", false),
        ("#/components/schemas/%aé", false),
        ("#/components/schemas/%é", false),
        ("#/components/schemas/%C3", false),
        ("#/components/schemas/~2", false),
        ("#/components/schemas/", false),
        // Resolve to documents that are no schema: read as any JSON value.
        ("#/components/schemas", true),
        ("#", true),
        ("#components", false),
        ("other.json#/components/schemas/Other", false),
        ("", false),
    ];
    for (reference, resolves) in odd {
        let spec = brand_spec(
            json!({"properties": {"x": {"$ref": reference}}}),
            json!({"Other": {"properties": {"p": {"type": "object", "properties": {"q": {"type": "boolean"}}}}}}),
        );
        let mut root = spec.root.clone();
        root["paths"]["/Brand"]["get"]["x-schema"] =
            json!({"type": "object", "properties": {"q": {"type": "boolean"}}});
        let spec = Spec::from_value("hostile.json", root).unwrap();
        match generate_small_stack(spec) {
            Ok(out) => {
                assert!(resolves, "{reference}: expected an error");
                let brand = &out.files["src/brand.rs"];
                assert!(
                    brand.contains("pub q: Option<bool>")
                        || brand.contains("pub x: Option<::atrocore_runtime::serde_json::Value>"),
                    "{reference}"
                );
            }
            Err(err) => {
                assert!(!resolves, "{reference}: {err}");
                assert!(
                    err.starts_with("hostile.json#/components/schemas/Brand/properties/x"),
                    "{reference}: {err}"
                );
            }
        }
    }
}

#[test]
fn huge_and_non_ascii_names_do_not_panic() {
    let huge = "Ab".repeat(20_000);
    for name in [
        huge.as_str(),
        "Продукт",
        "製品",
        "e\u{301}x",
        "a\u{0}b",
        "🦀",
        "_",
        "9",
    ] {
        let mut root = brand_spec(json!({"properties": {}}), json!({})).root;
        root["components"]["schemas"][name] =
            json!({"properties": {name: {"type": "string", "enum": [name, "é", ""]}}});
        root["paths"][format!("/{name}")] = json!({"get": {"tags": [name]}});
        root["paths"][format!("/{name}/{{id}}")] = json!({"get": {"tags": [name]}});
        root["paths"][format!("/{name}/{{é}}/ü{{{name}}}")] = json!({"post": {"tags": [name], "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}]}});
        let spec = Spec::from_value("hostile.json", root).unwrap();
        generate_small_stack(spec).unwrap_or_else(|e| panic!("{name:.40}: {e}"));
    }
}

/// A YAML "billion laughs" (aliases of aliases) is refused by the parser's repetition limit
/// instead of expanding into gigabytes.
#[test]
fn yaml_alias_bombs_are_refused() {
    let mut yaml = String::from(
        "openapi: 3.0.0\ninfo: {title: bomb, version: \"1\"}\npaths: {}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        yaml.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    let err = Spec::parse("bomb.yaml", &yaml).unwrap_err().to_string();
    assert!(
        err.contains("bomb.yaml") && err.contains("repetition limit"),
        "{err}"
    );
}

/// Spec prose reaches doc comments inert: in the crate generated from `hostile_prose.json`
/// (descriptions, summaries, enum values and a property name that hold fenced, indented, quoted
/// and listed code blocks and HTML), no doc comment holds a code block or raw HTML, as
/// rustdoc's Markdown parser reads them. (`.ci/run` also runs the crate's doctests:
/// `xtask/tests/vendoring.rs`.)
#[test]
fn spec_prose_in_doc_comments_is_inert() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hostile_prose.json"
    );
    let spec = Spec::parse(path, &std::fs::read_to_string(path).unwrap()).unwrap();
    let out = generate(&spec, &Settings::default()).unwrap();
    let mut blocks = 0;
    for (file, contents) in &out.files {
        // Each run of `///` or `//!` lines is one doc comment.
        let mut comments: Vec<Vec<&str>> = Vec::new();
        let mut open = false;
        for line in contents.lines() {
            let doc = line
                .trim_start()
                .strip_prefix("///")
                .or_else(|| line.trim_start().strip_prefix("//!"));
            match doc {
                Some(text) if open => comments.last_mut().unwrap().push(text),
                Some(text) => comments.push(vec![text]),
                None => {}
            }
            open = doc.is_some();
        }
        for comment in comments {
            let text = comment.join("\n");
            blocks += 1;
            // The generator's own example (`lib.rs`) is a code block; none holds spec text.
            let mut in_code = false;
            for event in Parser::new_ext(&text, Options::all()) {
                match &event {
                    Event::Start(Tag::CodeBlock(_)) => in_code = true,
                    Event::End(TagEnd::CodeBlock) => in_code = false,
                    Event::Text(t) if in_code && t.contains("pwned") => {
                        panic!("{file}: spec text in a code block\n{text}")
                    }
                    Event::Html(_) | Event::InlineHtml(_) => {
                        panic!("{file}: {event:?} in the doc comment\n{text}")
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(blocks > 20, "only {blocks} doc comments");
    let all: String = out.files.values().map(String::as_str).collect();
    assert!(
        all.contains("pwned-name-field"),
        "the prose is kept, made inert"
    );
}
