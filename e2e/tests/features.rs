//! Flatten-Attributes, attribute filters, `With-Meta` options, paging streams over thousands of
//! records and linked-record lists, end to end: the generated client → runtime → HTTP →
//! simulator.

mod support;

use std::collections::BTreeSet;

use atrocore_client::Client;
use atrocore_client::attribute::AttributePost;
use atrocore_client::attribute_panel::AttributePanelPost;
use atrocore_client::brand::{self, BrandField, BrandPost};
use atrocore_client::extensible_enum_option::ExtensibleEnumOptionPost;
use atrocore_client::ids::{AttributeId, MeasureId, ProductId, UnitId};
use atrocore_client::measure::MeasurePost;
use atrocore_client::product::{self, ProductPatch, ProductPost};
use atrocore_client::unit::UnitPost;
use atrocore_client::user::UserPost;
use atrocore_runtime::{AttributeChanges, Filter, FlatAttributes, OptionRecords};
use atrocore_sim::Faults;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use support::{client, seed_brands, seed_brands_in_db, start_with};

async fn new_product(c: &Client, name: &str) -> ProductId {
    c.product()
        .create(&ProductPost {
            status: Some("draft".into()),
            ..ProductPost::new(name, format!("N-{name}"))
        })
        .await
        .unwrap()
        .id
        .unwrap()
}

async fn new_attribute(
    c: &Client,
    panel: &str,
    code: &str,
    kind: &str,
    measure_id: Option<MeasureId>,
) -> AttributeId {
    c.attribute()
        .create(&AttributePost {
            code: Some(code.into()),
            type_: Some(kind.into()),
            measure: measure_id.map(Into::into),
            ..AttributePost::new(format!("Attr {code}"), panel, "Product")
        })
        .await
        .unwrap()
        .id
        .unwrap()
}

/// A measure `mass` with the unit `kg`, an attribute panel `main`, a float attribute `weight`
/// measured in it and a text attribute `colour`; returns (weight id, colour id, kg id).
async fn attributes(c: &Client) -> (AttributeId, AttributeId, UnitId) {
    let mass = c
        .measure()
        .create(&MeasurePost {
            code: Some("mass".into()),
            ..MeasurePost::new("Mass")
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let kg = c
        .unit()
        .create(&UnitPost {
            code: Some("kg".into()),
            multiplier: Some(1.0),
            ..UnitPost::new("Kilogram", mass.clone())
        })
        .await
        .unwrap()
        .id
        .unwrap();
    // AtroCore requires every attribute to sit on an existing panel.
    let panel = c
        .attribute_panel()
        .create(&AttributePanelPost::new("Main", "main", "Product", 0.0))
        .await
        .unwrap()
        .id
        .unwrap();
    let weight = new_attribute(c, &panel, "weight", "float", Some(mass)).await;
    let colour = new_attribute(c, &panel, "colour", "varchar", None).await;
    (weight, colour, kg)
}

#[tokio::test]
async fn flatten_attributes_read_patch_add_and_remove() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let (weight, colour, kg) = attributes(&c).await;
    let id = new_product(&c, "Chair").await;

    // Assign both attributes and set values (with a unit) in one flattened PUT, through the
    // generated patch struct's `extra` map.
    let mut patch = ProductPatch::default();
    AttributeChanges::new()
        .assign([weight.clone(), colour.clone()])
        .set_with_unit("weight", 12.5, kg.clone())
        .set("colour", "red")
        .apply_to(&mut patch.extra);
    let updated = c
        .product()
        .update(&id, &patch)
        .flatten_attributes(true)
        .await
        .unwrap();
    let attrs = FlatAttributes::from_parts(&updated.extra, updated.attributes_defs.as_ref());
    assert_eq!(attrs.len(), 2, "{:?}", updated.extra);
    let w = attrs.get("weight").expect("weight is a virtual field");
    assert_eq!(w.as_f64(), Some(12.5));
    assert_eq!(w.unit_id(), Some(kg.as_str()));
    assert_eq!(w.unit_name(), Some("Kilogram"));
    assert_eq!(w.attribute_id(), Some(weight.as_str()));
    assert_eq!(w.kind(), Some("float"));
    let def = attrs.def("weight").unwrap();
    assert_eq!(
        def.label.as_deref(),
        Some("Attr weight"),
        "full defs on one record"
    );
    assert!(def.measure_id.is_some());
    assert_eq!(attrs.get("colour").and_then(|a| a.as_str()), Some("red"));
    assert_eq!(attrs.code_of(&colour), Some("colour"));

    // A read without the header has no attribute fields.
    let plain = c.product().read(&id).await.unwrap();
    assert!(FlatAttributes::from_record(&plain).unwrap().is_empty());
    assert!(plain.attributes_defs.is_none());
    assert!(!plain.extra.contains_key("weight"));

    // Change a value by code, remove the other attribute (AttributeChanges as the whole body).
    let changes = AttributeChanges::new()
        .set("weight", 13)
        .unassign([colour.clone()]);
    let _: Value = c
        .runtime()
        .update::<product::Product, _>(atrocore_runtime::Method::PATCH, &id, &changes)
        .flatten_attributes(true)
        .into_request()
        .send_json()
        .await
        .unwrap();
    let read = c
        .product()
        .read(&id)
        .flatten_attributes(true)
        .await
        .unwrap();
    let attrs = FlatAttributes::from_record(&read).unwrap();
    assert_eq!(attrs.codes().collect::<Vec<_>>(), ["weight"]);
    assert_eq!(attrs.value_as::<f64>("weight").unwrap(), Some(13.0));
    assert_eq!(attrs.get("weight").unwrap().unit_id(), Some(kg.as_str()));
    assert!(attrs.get("colour").is_none());
    // The simple endpoint agrees.
    let values = c
        .runtime()
        .attributes::<product::Product>(&id)
        .list()
        .await
        .unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0].attribute_id, weight);
}

#[tokio::test]
async fn lists_take_all_attributes_or_selected_ones() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let (weight, colour, kg) = attributes(&c).await;
    for (i, name) in ["A", "B", "C"].into_iter().enumerate() {
        let id = new_product(&c, name).await;
        let mut patch = ProductPatch::default();
        AttributeChanges::new()
            .assign([weight.clone(), colour.clone()])
            .set_with_unit("weight", i as f64 + 0.5, kg.clone())
            .set("colour", format!("c{i}"))
            .apply_to(&mut patch.extra);
        c.product()
            .update(&id, &patch)
            .flatten_attributes(true)
            .await
            .unwrap();
    }
    let page = c
        .product()
        .list()
        .sort_by(product::ProductField::Name)
        .all_attributes(true)
        .await
        .unwrap();
    assert_eq!(page.list.len(), 3);
    for (i, p) in page.list.iter().enumerate() {
        let attrs = FlatAttributes::from_parts(&p.extra, p.attributes_defs.as_ref());
        assert_eq!(attrs.get("weight").unwrap().as_f64(), Some(i as f64 + 0.5));
        assert_eq!(attrs.get("weight").unwrap().unit_id(), Some(kg.as_str()));
        assert_eq!(
            attrs.get("colour").unwrap().as_str(),
            Some(format!("c{i}").as_str())
        );
        // List answers carry the minimal definitions.
        assert_eq!(
            attrs.def("weight").unwrap().attribute_id.as_deref(),
            Some(weight.as_str())
        );
        assert_eq!(attrs.def("weight").unwrap().label, None);
    }
    let only_colour = c
        .product()
        .list()
        .attributes([colour.clone()])
        .await
        .unwrap();
    for p in &only_colour.list {
        let attrs = FlatAttributes::from_record(p).unwrap();
        assert_eq!(attrs.codes().collect::<Vec<_>>(), ["colour"]);
        assert!(!p.extra.contains_key("weight"));
    }
    // Without allAttributes/attributes a flattened list carries no attribute fields.
    let none = c.product().list().await.unwrap();
    assert!(none.list.iter().all(|p| !p.extra.contains_key("colour")));
}

#[tokio::test]
async fn attribute_conditions_filter_on_attribute_values() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let (weight, colour, kg) = attributes(&c).await;
    for (name, w, col) in [
        ("Light", 1.0, "red"),
        ("Medium", 5.0, "blue"),
        ("Heavy", 20.0, "red"),
    ] {
        let id = new_product(&c, name).await;
        let mut patch = ProductPatch::default();
        AttributeChanges::new()
            .assign([weight.clone(), colour.clone()])
            .set_with_unit("weight", w, kg.clone())
            .set("colour", col)
            .apply_to(&mut patch.extra);
        c.product()
            .update(&id, &patch)
            .flatten_attributes(true)
            .await
            .unwrap();
    }
    new_product(&c, "No attributes").await;

    let names = |page: atrocore_runtime::ListResult<product::Product>| -> Vec<String> {
        page.list.into_iter().filter_map(|p| p.name).collect()
    };
    let heavier = c
        .product()
        .list()
        .filter(Filter::attribute(weight.clone()).greater_than(2))
        .sort_by(product::ProductField::Name)
        .await
        .unwrap();
    assert_eq!(names(heavier), ["Heavy", "Medium"]);

    // Attribute and field conditions combine like any other.
    let red_and_light = c
        .product()
        .list()
        .filter(
            Filter::attribute(colour.clone()).equals("red")
                & Filter::attribute(weight.clone()).less_than_or_equals(10)
                & product::filter::name().starts_with("L"),
        )
        .await
        .unwrap();
    assert_eq!(names(red_and_light), ["Light"]);

    let no_colour = c
        .product()
        .list()
        .filter(Filter::attribute(colour.clone()).is_null())
        .await
        .unwrap();
    assert_eq!(names(no_colour), ["No attributes"]);

    let either = c
        .product()
        .list()
        .filter(
            Filter::attribute(colour).in_(["blue", "green"])
                | product::filter::name().equals("Heavy"),
        )
        .sort_by(product::ProductField::Name)
        .await
        .unwrap();
    assert_eq!(names(either), ["Heavy", "Medium"]);
}

#[tokio::test]
async fn with_meta_gives_option_records_of_extensible_enum_fields() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    // `User.gender` is an extensibleEnum field on the list `gender` in the default spec.
    let female = c
        .extensible_enum_option()
        .create(&ExtensibleEnumOptionPost {
            name: Some("Female".into()),
            code: Some("female".into()),
            extensible_enums: Some(vec!["gender".into()].into()),
            color: Some("#ff00ff".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let user = c
        .user()
        .create(&UserPost {
            gender: Some(female.to_string()),
            ..UserPost::new("jane", "Jane")
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let read = c.user().read(&user).with_meta(true).await.unwrap();
    let meta = read.meta.expect("_meta with With-Meta");
    match meta.options_of("gender") {
        Some(OptionRecords::One(o)) => {
            assert_eq!(o["id"], json!(female));
            assert_eq!(o["code"], "female");
            assert_eq!(o["name"], "Female");
            assert_eq!(o["color"], "#ff00ff");
        }
        other => panic!("option record expected, got {other:?}"),
    }
    assert!(meta.can_edit());

    // Lists carry `_meta` per record too; without the header there is none.
    let page = c
        .user()
        .list()
        .filter(atrocore_client::user::filter::user_name().equals("jane"))
        .with_meta(true)
        .await
        .unwrap();
    let listed = page.list[0].meta.as_ref().expect("_meta on list items");
    assert!(
        matches!(listed.options_of("gender"), Some(OptionRecords::One(o)) if o["code"] == "female")
    );
    assert!(c.user().read(&user).await.unwrap().meta.is_none());
}

#[tokio::test]
async fn keyset_and_offset_streams_agree_over_thousands_of_records() {
    const N: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sim.sqlite");
    seed_brands_in_db(&db, N);
    let sim = atrocore_sim::Simulator::start(support::config().db_path(&db))
        .await
        .unwrap();
    let c = client(&sim, 0);

    let by_offset: Vec<_> = c
        .brand()
        .list()
        .select([BrandField::Id, BrandField::Name])
        .sort_by(BrandField::Id)
        .max_size(200)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let by_keyset: Vec<_> = c
        .brand()
        .list()
        .select([BrandField::Name])
        .max_size(200)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_offset.len(), N);
    assert_eq!(by_keyset.len(), N);
    let offset_ids: Vec<_> = by_offset.iter().map(|b| b.id.clone().unwrap()).collect();
    let keyset_ids: Vec<_> = by_keyset.iter().map(|b| b.id.clone().unwrap()).collect();
    assert_eq!(
        offset_ids, keyset_ids,
        "same records in the same (id) order"
    );
    assert_eq!(
        keyset_ids.iter().collect::<BTreeSet<_>>().len(),
        N,
        "no duplicates"
    );

    // A filter applies to every page of both.
    let filtered: Vec<_> = c
        .brand()
        .list()
        .filter(brand::filter::name().starts_with("Brand 0012"))
        .max_size(7)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 100);
    let mut stream = c
        .brand()
        .list()
        .filter(brand::filter::name().starts_with("Brand 0012"))
        .max_size(7)
        .stream();
    let mut n = 0;
    while let Some(b) = stream.try_next().await.unwrap() {
        assert!(b.name.unwrap().starts_with("Brand 0012"));
        n += 1;
    }
    assert_eq!(n, 100);
}

#[tokio::test]
async fn keyset_stream_sees_every_survivor_while_records_are_deleted() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    seed_brands(&c, 1000, 1000).await;

    // Delete 50 already-seen records after the first page of each stream.
    async fn run(c: &Client, keyset: bool) -> (usize, usize) {
        let list = c.brand().list().sort_by(BrandField::Id).max_size(100);
        let mut stream = if keyset {
            list.keyset_stream()
        } else {
            list.stream()
        };
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen.push(stream.try_next().await.unwrap().unwrap().id.unwrap());
        }
        for id in &seen[..50] {
            assert!(c.brand().delete(id).await.unwrap());
        }
        while let Some(b) = stream.try_next().await.unwrap() {
            seen.push(b.id.unwrap());
        }
        let total = c.brand().list().max_size(1).await.unwrap().total as usize;
        (seen.len(), total)
    }
    // Offset paging skips as many records as were deleted before its position.
    let (seen, remaining) = run(&c, false).await;
    assert_eq!(remaining, 950);
    assert_eq!(seen, 1000 - 50, "offset paging skipped 50 survivors");
    // Keyset paging sees every record that still exists exactly once.
    let (seen, remaining) = run(&c, true).await;
    assert_eq!(remaining, 900);
    assert_eq!(seen, 950);
}

#[tokio::test]
async fn linked_record_lists_through_the_runtime_by_link_name() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let acme = c
        .brand()
        .create(&BrandPost::new("Acme"))
        .await
        .unwrap()
        .id
        .unwrap();
    let other = c
        .brand()
        .create(&BrandPost::new("Other"))
        .await
        .unwrap()
        .id
        .unwrap();
    for (name, brand) in [("P1", &acme), ("P2", &acme), ("P3", &other), ("P4", &acme)] {
        c.product()
            .create(&ProductPost {
                status: Some("draft".into()),
                brand: Some(brand.clone().into()),
                ..ProductPost::new(name, name)
            })
            .await
            .unwrap();
    }
    // has-many: the products of a brand.
    // By the link's name, for links the metadata did not type (the generated link lists
    // call the same).
    let linked = c
        .runtime()
        .linked::<product::Product>("Brand", &acme, "products")
        .await
        .unwrap();
    assert_eq!(linked.total, 3);
    let mut names: Vec<_> = linked.list.into_iter().filter_map(|p| p.name).collect();
    names.sort();
    assert_eq!(names, ["P1", "P2", "P4"]);

    // belongs-to: the brand of a product, as a one-record list.
    let p3 = c
        .product()
        .list()
        .filter(product::filter::name().equals("P3"))
        .await
        .unwrap()
        .list
        .remove(0)
        .id
        .unwrap();
    let brand_of = c
        .runtime()
        .linked::<atrocore_client::brand::Brand>("Product", &p3, "brand")
        .await
        .unwrap();
    assert_eq!(brand_of.total, 1);
    assert_eq!(brand_of.list[0].id.as_ref(), Some(&other));

    // An unknown link is a clear 404.
    let err = c
        .runtime()
        .linked::<product::Product>("Brand", &acme, "nope")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// An attribute write that changes nothing is answered 304 by AtroCore; the generated method
/// reports it as `WriteOutcome::NotModified`, not as an error.
#[tokio::test]
async fn generated_attribute_writes_report_not_modified() {
    use atrocore_runtime::{AttributeValue, WriteOutcome};
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let (_weight, colour, _kg) = attributes(&c).await;
    let id = new_product(&c, "Painted").await;
    let set = |v: &str| vec![AttributeValue::new(&colour, v)];
    let first = c
        .product()
        .attributes(&id)
        .upsert(&set("red"))
        .await
        .unwrap();
    assert_eq!(first, WriteOutcome::Changed);
    let again = c
        .product()
        .attributes(&id)
        .upsert(&set("red"))
        .await
        .unwrap();
    assert_eq!(again, WriteOutcome::NotModified);
    let changed = c
        .product()
        .attributes(&id)
        .upsert(&set("blue"))
        .await
        .unwrap();
    assert_eq!(changed, WriteOutcome::Changed);
    sim.shutdown().await;
}

/// Attribute values are the runtime's `AttributeValue` in both generations
/// (the spec says `string` for every value): a float attribute's number reads as a number.
#[tokio::test]
async fn attribute_values_keep_their_types() {
    use atrocore_runtime::{AttrValue, AttributeValue, WriteOutcome};
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let (weight, colour, kg) = attributes(&c).await;
    let id = new_product(&c, "Weighed").await;
    let items = [
        AttributeValue::new(&weight, 2.5).unit(&kg),
        AttributeValue::new(&colour, "red"),
    ];
    c.product().attributes(&id).upsert(&items).await.unwrap();
    let values = c.product().attributes(&id).list().await.unwrap();
    let of = |a: &AttributeId| {
        values
            .iter()
            .find(|v| v.attribute_id == *a)
            .unwrap_or_else(|| panic!("{a} in {values:?}"))
    };
    assert_eq!(
        of(&weight).value.as_ref().and_then(AttrValue::as_f64),
        Some(2.5)
    );
    assert_eq!(of(&weight).value_unit_id.as_deref(), Some(kg.as_str()));
    assert_eq!(
        of(&colour).value.as_ref().and_then(AttrValue::as_str),
        Some("red")
    );
    // Removal reads 2.2's `{count, errors}` as the runtime's `RemovedAttributes`.
    let removed = c
        .product()
        .attributes(&id)
        .remove([colour.clone()])
        .await
        .unwrap();
    assert_eq!(
        (removed.count, removed.outcome),
        (Some(1), WriteOutcome::Changed)
    );
    let again = c
        .product()
        .attributes(&id)
        .remove([colour.clone()])
        .await
        .unwrap();
    assert_eq!(
        (again.count, again.outcome),
        (Some(0), WriteOutcome::NotModified)
    );
    sim.shutdown().await;
}

/// Attribute values through the generated entity API: `product().attributes(id)` (typed values,
/// a no-op upsert is `NotModified`) and the flattened view as `Product::flat_attributes()`.
#[tokio::test]
async fn generated_attributes_and_flat_view() {
    use atrocore_runtime::{AttributeValue, WriteOutcome};
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let (_weight, colour, _kg) = attributes(&c).await;
    let id = new_product(&c, "Lamp").await;
    let attrs = c.product().attributes(&id);
    assert!(attrs.add([colour.clone()]).await.unwrap());
    let set = [AttributeValue::new(&colour, "red")];
    assert_eq!(attrs.upsert(&set).await.unwrap(), WriteOutcome::Changed);
    assert_eq!(attrs.upsert(&set).await.unwrap(), WriteOutcome::NotModified);
    let values = attrs.list().await.unwrap();
    let red = values.iter().find(|v| v.attribute_id == colour).unwrap();
    assert_eq!(red.value.as_ref().and_then(|v| v.as_str()), Some("red"));
    let p = c
        .product()
        .read(&id)
        .flatten_attributes(true)
        .await
        .unwrap();
    let flat = p.flat_attributes();
    assert_eq!(flat.value("colour"), Some(&json!("red")));
    sim.shutdown().await;
}

/// The `language` header: `main` or an input language of the instance (multilingual fields read
/// in it, the language variants left out); anything else, even the main language's own code, is
/// AtroCore's 400 "No such language is available." (`AbstractService::getHeaderLanguage`).
#[tokio::test]
async fn the_language_header_reads_multilingual_fields_in_one_language() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let id = c
        .product()
        .create(&ProductPost {
            name_de_de: Some("Stuhl".into()),
            status: Some("draft".into()),
            ..ProductPost::new("Chair", "C-1")
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let plain = c.product().read(&id).await.unwrap();
    assert_eq!(
        (plain.name.as_deref(), plain.name_de_de.as_deref()),
        (Some("Chair"), Some("Stuhl"))
    );
    let german = c.product().read(&id).language("de_DE").await.unwrap();
    assert_eq!(
        (german.name.as_deref(), german.name_de_de.as_deref()),
        (Some("Stuhl"), None)
    );
    let main = c.product().read(&id).language("main").await.unwrap();
    assert_eq!(
        (main.name.as_deref(), main.name_de_de.as_deref()),
        (Some("Chair"), None)
    );
    let listed = c.product().list().language("de_DE").await.unwrap();
    assert_eq!(listed.list[0].name.as_deref(), Some("Stuhl"));
    for unknown in ["en_US", "de_de", "xx"] {
        let err = c.product().read(&id).language(unknown).await.unwrap_err();
        assert_eq!(err.status(), Some(400), "{unknown}: {err}");
        assert_eq!(
            err.reason(),
            Some("No such language is available."),
            "{unknown}"
        );
    }
    sim.shutdown().await;
}

/// The `timezone` query parameter moves date-times of the output from UTC to the zone (AtroCore's
/// `Record::modifyEntityFieldsByTimezone`); an unknown zone is a 400 with PHP's message.
#[tokio::test]
async fn the_timezone_parameter_moves_output_date_times() {
    use atrocore_runtime::Method;
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let id = c
        .brand()
        .create(&BrandPost::new("Acme"))
        .await
        .unwrap()
        .id
        .unwrap();
    let path = format!("/Brand/{id}");
    let read = |zone: Option<&'static str>| {
        let request = c.runtime().request(Method::GET, path.clone());
        let request = match zone {
            Some(z) => request.query("timezone", z),
            None => request,
        };
        request.send_json::<Value>()
    };
    let utc = read(None).await.unwrap();
    let tokyo = read(Some("Asia/Tokyo")).await.unwrap();
    // Read as written (the runtime would take it for UTC).
    let at = |v: &Value| {
        v["createdAt"]
            .as_str()
            .unwrap()
            .parse::<atrocore_runtime::DateTime>()
            .unwrap()
            .unix_seconds()
    };
    // Tokyo is UTC+9 all year: the same instant written nine hours later.
    assert_eq!(at(&tokyo) - at(&utc), 9 * 3600);
    let err = read(Some("Mars/Olympus")).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(
        err.reason(),
        Some("DateTimeZone::__construct(): Unknown or bad timezone (Mars/Olympus)")
    );
    sim.shutdown().await;
}

/// What the change feed sees of attribute values on 2.2: a value written through
/// `upsertAttributeValues` goes through `updateEntity`, which stamps the product, so the feed
/// delivers it again; assigning an attribute (`addAttributes`) writes the value table directly
/// and stamps nothing, so the feed does not.
#[tokio::test]
async fn the_change_feed_sees_attribute_value_writes_not_assignments() {
    use atrocore_runtime::{AttributeValue, Watermark};
    use futures_util::TryStreamExt;
    let sim = start_with(Faults::default()).await;
    sim.clock().freeze_at(1_780_000_000);
    let c = client(&sim, 0);
    let (weight, colour, kg) = attributes(&c).await;
    let id = new_product(&c, "Chair").await;
    sim.clock().advance(1);
    let feed = |from: Watermark| {
        c.product()
            .changes_since(&from)
            .settle(std::time::Duration::ZERO)
            .stream()
    };
    let changes: Vec<_> = feed(Watermark::beginning()).try_collect().await.unwrap();
    assert_eq!(changes.len(), 1);
    let mark = changes[0].watermark().clone();

    c.product()
        .attributes(&id)
        .upsert(&[AttributeValue::new(&weight, 2.5).unit(&kg)])
        .await
        .unwrap();
    sim.clock().advance(1);
    let changes: Vec<_> = feed(mark).try_collect().await.unwrap();
    assert_eq!(changes.len(), 1, "the value write stamped the product");
    assert_eq!(changes[0].record().id.as_ref(), Some(&id));
    let mark = changes[0].watermark().clone();

    c.product()
        .attributes(&id)
        .add([colour.as_str()])
        .await
        .unwrap();
    sim.clock().advance(1);
    let changes: Vec<_> = feed(mark).try_collect().await.unwrap();
    assert!(
        changes.is_empty(),
        "2.2 assigns without a stamp: {changes:?}"
    );
}

/// Typed attribute handles by code: writes (a patch of flattened fields), filters (codes
/// resolved to ids when sent, once per client) and reads; the same handles on a second
/// instance whose attribute ids differ; an attribute deleted and made anew (a stale index) is
/// found again; a code the instance lacks is a clear error.
#[tokio::test]
async fn typed_attribute_handles_are_portable_across_instances() {
    use atrocore_runtime::typed_attributes::{Attr, kind};
    const WEIGHT: Attr<product::Product, kind::Float> = Attr::new("weight");
    const COLOUR: Attr<product::Product, kind::Text> = Attr::new("colour");
    const MISSING: Attr<product::Product, kind::Bool> = Attr::new("organic");

    let mut seen_ids = Vec::new();
    for instance in 0..2 {
        let sim = start_with(Faults::default()).await;
        let c = client(&sim, 0);
        if instance == 1 {
            // Other ids on the second instance: an unrelated attribute first.
            let panel = c
                .attribute_panel()
                .create(&AttributePanelPost::new("Other", "other", "Product", 1.0))
                .await
                .unwrap()
                .id
                .unwrap();
            new_attribute(&c, &panel, "extra", "varchar", None).await;
        }
        let (weight, _colour, kg) = attributes(&c).await;
        seen_ids.push(weight.to_string());
        let light = new_product(&c, "Light").await;
        let heavy = new_product(&c, "Heavy").await;
        for (id, w, colour) in [(&light, 1.5, "red"), (&heavy, 4.0, "blue")] {
            let saved = c
                .product()
                .set_attributes(
                    id,
                    &WEIGHT.set_with_unit(w, kg.as_str()).and(COLOUR.set(colour)),
                )
                .await
                .unwrap();
            let flat = FlatAttributes::from_record(&saved).unwrap();
            assert_eq!(WEIGHT.get(&flat).unwrap(), Some(w));
            assert_eq!(WEIGHT.unit_id(&flat), Some(kg.as_str()));
        }
        sim.take_requests();
        let found = c
            .product()
            .list()
            .filter(WEIGHT.greater_than(2.0) & COLOUR.equals("blue"))
            .await
            .unwrap();
        assert_eq!(found.total, 1);
        assert_eq!(found.list[0].id.as_ref(), Some(&heavy));
        // The index was read once; a second filter reads it from the client.
        c.product()
            .list()
            .filter(WEIGHT.less_than(2.0))
            .await
            .unwrap();
        let reads = sim
            .take_requests()
            .iter()
            .filter(|r| r.path.ends_with("/Attribute"))
            .count();
        assert_eq!(reads, 1);

        // Deleted and made anew under the same code: a new id, found on the next request.
        c.attribute().delete(&weight).await.unwrap();
        let panel = c
            .attribute_panel()
            .list()
            .await
            .unwrap()
            .list
            .remove(0)
            .id
            .unwrap();
        new_attribute(&c, &panel, "weight", "float", None).await;
        let none = c
            .product()
            .list()
            .filter(WEIGHT.greater_than(2.0))
            .await
            .unwrap();
        assert_eq!(none.total, 0, "the new attribute has no values yet");

        let e = c
            .product()
            .list()
            .filter(MISSING.is_true())
            .await
            .unwrap_err();
        assert!(e.is_builder(), "{e}");
        assert!(e.to_string().contains("`organic`"), "{e}");
    }
    assert_ne!(seen_ids[0], seen_ids[1], "the instances' ids differ");
}

/// The typed attributes of the generated crate (from the bundled definitions,
/// `specs/atrocore-2.2-pim-default.attributes.json`): set, filter, read and bulk-upsert
/// attribute values with no ids or strings in user code, on a simulator seeded with the same
/// file (the instance the crate was generated from) and on one whose every id differs
/// (attributes, list options, units): handles carry codes, resolved on the instance a client
/// talks to.
#[tokio::test]
async fn typed_attributes_of_the_generated_crate() {
    for instance in ["generated from", "other ids"] {
        let definitions = support::bundled_attributes();
        let definitions = if instance == "other ids" {
            with_other_ids(definitions)
        } else {
            definitions
        };
        typed_attribute_tour(&definitions, instance).await;
    }
}

/// `definitions` with every id (attributes, options, units) replaced by another.
fn with_other_ids(mut definitions: Value) -> Value {
    let other = |v: &mut Value| {
        let id = v.as_str().unwrap().to_owned();
        *v = json!(format!("b{}", &id[1..]));
    };
    for a in definitions["attributes"].as_array_mut().unwrap() {
        other(&mut a["id"]);
        for o in a["options"].as_array_mut().into_iter().flatten() {
            other(&mut o["value"]);
        }
        for u in a["units"].as_array_mut().into_iter().flatten() {
            other(&mut u["id"]);
        }
    }
    definitions
}

async fn typed_attribute_tour(definitions: &Value, instance: &str) {
    use atrocore_client::product::attr::{self, Colour, LengthUnit, MassUnit, Materials};
    use atrocore_runtime::typed_attributes::Range;
    use atrocore_runtime::{Date, UpsertStatus};
    let sim = start_with(Faults::default()).await;
    assert_eq!(sim.seed_attributes(definitions).unwrap(), 11);
    let c = client(&sim, 0);
    let chair = new_product(&c, "Chair").await;
    let table = new_product(&c, "Table").await;
    let changes = attr::weight()
        .set_with_unit(7.5, MassUnit::Kg)
        .and(attr::colour().set(Colour::NaturalOak))
        .and(attr::materials().set([Materials::Wood, Materials::Wool]))
        .and(attr::care_instructions().set("Dry clean"))
        .and(
            attr::care_instructions()
                .language("de_DE")
                .set("Chemisch reinigen"),
        )
        .and(attr::organic().set(true))
        .and(attr::release_date().set(Date::new(2026, 3, 1).unwrap()))
        .and(attr::seat_depth().set(Some(40.0), Some(55.5)));
    let saved = c.product().set_attributes(&chair, &changes).await.unwrap();
    let values = attr::Values::of(&saved.flat_attributes()).unwrap();
    assert_eq!(values.weight, Some(7.5), "{instance}");
    assert_eq!(
        attr::weight().unit::<MassUnit>(&saved.flat_attributes()),
        Some(MassUnit::Kg),
        "{instance}"
    );
    assert_eq!(values.colour, Some(Colour::NaturalOak), "{instance}");
    assert_eq!(
        values.seat_depth,
        Some(Range {
            from: Some(40.0),
            to: Some(55.5)
        })
    );
    assert_eq!(
        values.materials,
        Some(vec![Materials::Wood, Materials::Wool])
    );
    assert_eq!(values.care_instructions.as_deref(), Some("Dry clean"));
    assert_eq!(values.organic, Some(true));
    assert_eq!(values.release_date, Date::new(2026, 3, 1));
    assert_eq!(values.height, None);
    assert_eq!(
        attr::care_instructions()
            .language("de_DE")
            .get(&saved.flat_attributes())
            .unwrap()
            .as_deref(),
        Some("Chemisch reinigen")
    );
    c.product()
        .set_attributes(
            &table,
            &attr::weight()
                .set_with_unit(30.0, MassUnit::G)
                .and(attr::colour().set(Colour::Red)),
        )
        .await
        .unwrap();

    // Filters by code, resolved to the seeded ids.
    let heavy_oak = c
        .product()
        .list()
        .filter(attr::weight().greater_than(5.0) & attr::colour().equals(Colour::NaturalOak))
        .await
        .unwrap();
    assert_eq!(heavy_oak.total, 1, "{instance}");
    assert_eq!(heavy_oak.list[0].id.as_ref(), Some(&chair));
    let organic = c
        .product()
        .list()
        .filter(attr::organic().is_true())
        .await
        .unwrap();
    assert_eq!(organic.total, 1);

    // A bulk upsert with attribute values: the typed changes in the create structs' `extra`,
    // sent with `Flatten-Attributes` as AtroCore's web UI sends every request.
    let posts: Vec<ProductPost> = (0..3)
        .map(|i| {
            let mut post = ProductPost {
                status: Some("draft".into()),
                ..ProductPost::new(format!("Stool {i}"), format!("N-stool-{i}"))
            };
            attr::warranty_years()
                .set(i + 1)
                .and(attr::colour().set(Colour::Blue))
                .apply_to(&mut post.extra);
            post
        })
        .collect();
    let report = c
        .product()
        .upsert(&posts)
        .flatten_attributes(true)
        .await
        .unwrap();
    assert_eq!(report.count(UpsertStatus::Created), 3, "{report:?}");
    let blue = c
        .product()
        .list()
        .filter(attr::colour().equals(Colour::Blue) & attr::warranty_years().greater_than(1))
        .await
        .unwrap();
    assert_eq!(blue.total, 2, "{instance}");
    let light = c
        .product()
        .list()
        .filter(attr::colour().in_([Colour::Red, Colour::Blue]))
        .await
        .unwrap();
    assert_eq!(light.total, 4, "{instance}");
    let woolly = c
        .product()
        .list()
        .filter(attr::materials().any_of([Materials::Wool]))
        .await
        .unwrap();
    assert_eq!(woolly.total, 1, "{instance}");

    // What the instance stores is its own ids.
    let stored = c
        .product()
        .read(&table)
        .flatten_attributes(true)
        .await
        .unwrap();
    let option = definitions["attributes"][3]["options"][0]["value"].as_str();
    assert_eq!(stored.extra["colour"].as_str(), option, "{instance}");
    let gram = definitions["attributes"][0]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "g")
        .and_then(|u| u["id"].as_str());
    assert_eq!(stored.extra["weightUnitId"].as_str(), gram, "{instance}");

    // The attribute-values route with typed items: attributes, options and units by code.
    c.product()
        .attributes(&table)
        .upsert(&[
            attr::height().value(80.0).unit(LengthUnit::Cm),
            attr::colour().value(Colour::NaturalOak),
            attr::materials().value([Materials::Steel]),
            attr::care_instructions()
                .language("de_DE")
                .value("Feucht abwischen"),
            attr::seat_depth().value(Some(41.0), None),
        ])
        .await
        .unwrap();
    let flat = c
        .product()
        .read(&table)
        .flatten_attributes(true)
        .await
        .unwrap()
        .flat_attributes();
    let values = attr::Values::of(&flat).unwrap();
    assert_eq!(values.height, Some(80.0), "{instance}");
    assert_eq!(
        attr::height().unit::<LengthUnit>(&flat),
        Some(LengthUnit::Cm)
    );
    assert_eq!(values.colour, Some(Colour::NaturalOak), "{instance}");
    assert_eq!(values.materials, Some(vec![Materials::Steel]));
    assert_eq!(
        attr::care_instructions()
            .language("de_DE")
            .get(&flat)
            .unwrap()
            .as_deref(),
        Some("Feucht abwischen")
    );
    assert_eq!(values.seat_depth.and_then(|r| r.from), Some(41.0));

    // An option whose code the instance lacks: a clear error naming it, nothing sent.
    let oak = definitions["attributes"][3]["options"][2]["value"]
        .as_str()
        .unwrap();
    let patch = atrocore_client::extensible_enum_option::ExtensibleEnumOptionPatch {
        code: atrocore_runtime::Patch::Set("oak".into()),
        ..Default::default()
    };
    c.extensible_enum_option()
        .update(oak, &patch)
        .await
        .unwrap();
    let fresh = client(&sim, 0);
    let e = fresh
        .product()
        .list()
        .filter(attr::colour().equals(Colour::NaturalOak))
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e}");
    assert!(
        e.to_string()
            .contains("no list option with the code `naturalOak`"),
        "{e}"
    );
}

/// `check_schema`: the simulator serves the metadata and attributes the example crate was
/// generated with, so nothing differs; an attribute added and one deleted on the instance are
/// reported, the deletion as breaking.
#[tokio::test]
async fn check_schema_reports_attribute_drift() {
    use atrocore_runtime::schema::{Change, Item};
    let sim = start_with(Faults::default()).await;
    let definitions = support::bundled_attributes();
    sim.seed_attributes(&definitions).unwrap();
    let c = client(&sim, 0);
    let drift = c.check_schema().await.unwrap();
    assert!(drift.is_empty(), "{drift}");

    let organic = definitions["attributes"][6]["id"].as_str().unwrap();
    assert_eq!(definitions["attributes"][6]["code"], "organic");
    c.attribute().delete(organic).await.unwrap();
    let panel = c
        .attribute_panel()
        .list()
        .await
        .unwrap()
        .list
        .remove(0)
        .id
        .unwrap();
    new_attribute(&c, &panel, "voltage", "int", None).await;
    let drift = c.check_schema().await.unwrap();
    let shown: Vec<String> = drift.differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "Product.organic (attribute): removed from the instance (bool)",
            "Product.voltage (attribute): added on the instance (int)",
        ]
    );
    assert!(drift.differences.iter().all(|d| d.item == Item::Attribute));
    let breaking: Vec<_> = drift.breaking().collect();
    assert_eq!(breaking.len(), 1);
    assert!(matches!(breaking[0].change, Change::Removed { .. }));
}
