//! The JSON shapes of generated structs, through their `Serialize` and `Deserialize` impls (the
//! runtime-driven ones of `atrocore_runtime::fields` and serde's derive where a struct keeps it):
//! what goes on the wire and what is read back, without a server.

use atrocore_client::brand::{BrandPatch, BrandPost};
use atrocore_client::product::{Product, ProductPatch, ProductPost};
use atrocore_runtime::{LinkMany, LinkOne, Patch};
use serde_json::{Value, json};

#[test]
fn records_read_every_field_and_keep_unknown_ones() {
    let wire = json!({
        "id": "p1",
        "name": "Phone",
        "price": 9.5,
        "brandId": "b1",
        "brandName": "Acme",
        "teamsIds": ["t1", "t2"],
        "isActive": null,
        "customField": {"deep": [1, 2]},
        "_meta": {"permissions": {"edit": true}}
    });
    let p: Product = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(p.id.as_deref(), Some("p1"));
    assert_eq!(p.price, Some(9.5));
    assert_eq!(p.brand_id.as_deref(), Some("b1"));
    assert_eq!(p.teams_ids.as_ref().map(Vec::len), Some(2));
    assert_eq!(p.is_active, None, "null reads as unset");
    assert_eq!(p.extra["customField"], json!({"deep": [1, 2]}));
    assert!(p.meta.is_some());
    // Written back: the fields that are set and the unknown ones; nothing invented.
    let back = serde_json::to_value(&p).unwrap();
    let mut want = wire.clone();
    want.as_object_mut().unwrap().remove("isActive");
    assert_eq!(back["customField"], want["customField"]);
    assert_eq!(back["brandId"], "b1");
    assert!(back.get("isActive").is_none());
    assert_eq!(serde_json::from_value::<Product>(back).unwrap(), p);
    // From text with escapes, and errors that say what was wrong.
    let p: Product = serde_json::from_str(r#"{"n\u0061me":"x"}"#).unwrap();
    assert_eq!(p.name.as_deref(), Some("x"));
    let e = serde_json::from_str::<Product>(r#"{"price":"cheap"}"#).unwrap_err();
    assert!(e.to_string().contains("expected f64"), "{e}");
    let e = serde_json::from_str::<Product>("[]").unwrap_err();
    assert!(e.to_string().contains("`Product` object"), "{e}");
}

#[test]
fn updates_write_only_what_changes_and_read_links_back() {
    let patch = ProductPatch {
        price: Patch::Null,
        brand: Some(LinkOne::id("b2")),
        teams: Some(LinkMany::ids(["t1"])),
        ..Default::default()
    };
    let wire = serde_json::to_value(&patch).unwrap();
    assert_eq!(
        wire,
        json!({"price": null, "brandId": "b2", "teamsIds": ["t1"]})
    );
    let back: ProductPatch = serde_json::from_value(wire).unwrap();
    assert_eq!(back, patch);
    assert!(back.extra.is_empty());
    // A cleared link writes its id key as null and reads back cleared.
    let clear = ProductPatch {
        brand: Some(LinkOne::clear()),
        ..Default::default()
    };
    let wire = serde_json::to_value(&clear).unwrap();
    assert_eq!(wire, json!({"brandId": null}));
    // Both keys of one link: not a link; both stay in `extra`. A value that is not the link's
    // (a number for an id) stays there too.
    let both: ProductPatch =
        serde_json::from_value(json!({"brandId": "b1", "brand": {"code": "acme"}})).unwrap();
    assert!(both.brand.is_none());
    assert_eq!(both.extra.len(), 2);
    let odd: ProductPatch = serde_json::from_value(json!({"teamsIds": 7})).unwrap();
    assert!(odd.teams.is_none());
    assert_eq!(odd.extra["teamsIds"], json!(7));
    // Unchanged is not written; an empty update is an empty object.
    assert_eq!(
        serde_json::to_value(ProductPatch::default()).unwrap(),
        json!({})
    );
    let named = BrandPatch {
        name: Some("New".into()),
        code: Patch::Set("c".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&named).unwrap(),
        json!({"name": "New", "code": "c"})
    );
}

#[test]
fn new_records_write_required_fields_and_round_trip() {
    let post = ProductPost {
        brand: Some(LinkOne::id("b1")),
        ..ProductPost::new("Phone", "SKU-1")
    };
    let wire = serde_json::to_value(&post).unwrap();
    assert_eq!(wire["name"], "Phone");
    assert_eq!(wire["brandId"], "b1");
    assert!(
        wire.get("price").is_none(),
        "unset fields are not sent: {wire}"
    );
    assert_eq!(serde_json::from_value::<ProductPost>(wire).unwrap(), post);
    let brand = BrandPost {
        extra: [("custom".to_owned(), Value::from(1))]
            .into_iter()
            .collect(),
        ..BrandPost::new("Acme")
    };
    let wire = serde_json::to_value(&brand).unwrap();
    assert_eq!(wire, json!({"name": "Acme", "custom": 1}));
    assert_eq!(serde_json::from_value::<BrandPost>(wire).unwrap(), brand);
    // A required field must be there; a required link too.
    let e = serde_json::from_value::<BrandPost>(json!({"code": "x"})).unwrap_err();
    assert!(e.to_string().contains("missing field `name`"), "{e}");
    let e = serde_json::from_str::<BrandPost>(r#"{"name": 5}"#).unwrap_err();
    assert!(e.to_string().contains("expected a string"), "{e}");
}
