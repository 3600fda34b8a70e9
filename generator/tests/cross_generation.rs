//! The routes the runtime serves typed (`lower/covered.rs`) are left out of the generated crates
//! in both generations alike: a record's attribute values, links and mass actions are reached
//! the same way on 2.2 and 2.3 (`attributes(id)`, the link lists, `update_matching`…), and no
//! raw method with a type of its own sits next to them.

use std::collections::BTreeSet;

use atrocore_codegen::ir::Api;
use atrocore_codegen::{Settings, generate, spec::Spec};

/// The IR of the reference spec `file`, or `None` (the test skips) when it is missing.
fn api(file: &str) -> Option<Api> {
    let path = atrocore_testkit::reference(&format!("specs/{file}"))?;
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = Spec::parse(file, &text).unwrap();
    Some(generate(&spec, &Settings::default()).unwrap().api)
}

/// The attribute routes of `Product`: (covered by the runtime, still generated).
fn product_attribute_routes(api: &Api) -> (BTreeSet<String>, BTreeSet<String>) {
    let product = api.entities.iter().find(|e| e.name == "Product").unwrap();
    let is_attribute = |route: &str| {
        ["attributeValues", "upsertAttributeValues", "addAttributes"]
            .iter()
            .any(|tail| route.ends_with(&format!("/{{id}}/{tail}")))
    };
    let covered = product
        .runtime_routes
        .iter()
        .map(|r| r.route.clone())
        .filter(|r| is_attribute(r))
        .collect();
    let generated = product
        .operations
        .iter()
        .map(|o| format!("{} {}", o.method.as_str(), o.path))
        .filter(|r| is_attribute(r))
        .collect();
    (covered, generated)
}

#[test]
fn attribute_routes_are_the_runtimes_in_both_generations() {
    let Some(v22) = api("atrocore-2.2-pim-multilang.json") else {
        return;
    };
    let Some(v23) = api("atrocore-pim-multilang.json") else {
        return;
    };
    let (a, b) = (
        product_attribute_routes(&v22),
        product_attribute_routes(&v23),
    );
    let expected: BTreeSet<String> = [
        "GET /Product/{id}/attributeValues",
        "DELETE /Product/{id}/attributeValues",
        "POST /Product/{id}/addAttributes",
        "POST /Product/{id}/upsertAttributeValues",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(a, (expected.clone(), BTreeSet::new()), "2.2");
    assert_eq!(b, (expected, BTreeSet::new()), "2.3");
    for api in [&v22, &v23] {
        let product = api.entities.iter().find(|e| e.name == "Product").unwrap();
        assert!(product.has_attributes);
    }
}
