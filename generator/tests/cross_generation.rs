//! The routes whose types the generator takes from AtroCore's source rather than the spec (the
//! attribute value routes, whose schemas differ between the generations' specs while the
//! server answers the same) map to the same Rust types in the 2.2 and 2.3 crates.

use std::collections::BTreeMap;

use atrocore_codegen::ir::{Api, Response, Type};
use atrocore_codegen::{Settings, generate, spec::Spec};

/// The IR of the reference spec `file`, or `None` (the test skips) when it is missing.
fn api(file: &str) -> Option<Api> {
    let path = atrocore_testkit::reference(&format!("specs/{file}"))?;
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = Spec::parse(file, &text).unwrap();
    Some(generate(&spec, &Settings::default()).unwrap().api)
}

/// A type as text, named types by name.
fn text(api: &Api, t: &Type) -> String {
    match t {
        Type::Named(id) => api.types.get(*id).name.clone(),
        Type::Array(item) => format!("Vec<{}>", text(api, item)),
        other => format!("{other:?}"),
    }
}

/// `METHOD /E/{id}/tail` → (body, answer) of every entity's attribute value routes.
fn attribute_routes(api: &Api) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for e in &api.entities {
        for op in &e.operations {
            let tail = op.path.rsplit('/').next().unwrap_or("");
            if !["attributeValues", "upsertAttributeValues"].contains(&tail) {
                continue;
            }
            let body = op.body.as_ref().map_or("-".into(), |b| text(api, &b.ty));
            let answer = match &op.response {
                Response::Json(t) => text(api, t),
                other => format!("{other:?}"),
            };
            out.insert(
                format!("{} /{}/{{id}}/{tail}", op.method.as_str(), e.name),
                (body, answer),
            );
        }
    }
    out
}

#[test]
fn attribute_routes_have_one_type_in_both_generations() {
    let Some(v22) = api("atrocore-2.2-pim-multilang.json") else {
        return;
    };
    let Some(v23) = api("atrocore-pim-multilang.json") else {
        return;
    };
    let (a, b) = (attribute_routes(&v22), attribute_routes(&v23));
    let common: Vec<&String> = a.keys().filter(|k| b.contains_key(*k)).collect();
    assert!(
        common.iter().any(|k| k.starts_with("GET /Product/")),
        "Product's attribute routes are in both specs: {common:?}"
    );
    for route in common {
        assert_eq!(a[route], b[route], "{route}: 2.2 vs 2.3");
    }
    let get = &a["GET /Product/{id}/attributeValues"];
    assert_eq!(get.1, "Vec<AttributeValue>");
    let delete = &a["DELETE /Product/{id}/attributeValues"];
    assert_eq!(delete.1, "RemovedAttributes");
}
