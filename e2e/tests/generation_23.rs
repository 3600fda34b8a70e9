//! The 2.3 generation end to end: the crate generated from a 2.3 spec (`e2e/generated-23`)
//! logs in through `GET /api/userSession`, updates with `PATCH`, and reads its routes under `/api`.

#[macro_use]
mod typed;

use std::sync::{Arc, OnceLock};

use atrocore_client_23::Client;
use atrocore_client_23::brand::{self, BrandField, BrandPatch, BrandPost};
use atrocore_client_23::product::{ProductPost, ProductStatus};
use atrocore_runtime::{LinkOne, LinkTo};
use atrocore_sim::{SimConfig, Simulator};
use futures_util::TryStreamExt;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn config() -> SimConfig {
    static SPEC: OnceLock<Arc<Value>> = OnceLock::new();
    static META: OnceLock<Arc<Value>> = OnceLock::new();
    let load =
        |p: String| Arc::new(serde_json::from_slice::<Value>(&std::fs::read(&p).unwrap()).unwrap());
    let spec = SPEC.get_or_init(|| load(format!("{ROOT}/specs/atrocore-2.3-pim-small.json")));
    let meta =
        META.get_or_init(|| load(format!("{ROOT}/specs/atrocore-2.3-pim-small.metadata.json")));
    SimConfig::from_spec_value(spec.clone()).metadata_value(meta.clone())
}

/// The full 2.3 PIM reference spec and its metadata (the small spec has no Attribute routes;
/// the crate's Product routes are the same); `None`, the test skipping, without `../shared`.
fn full_pim_config() -> Option<SimConfig> {
    let spec = atrocore_testkit::reference_json("specs/atrocore-pim-multilang.json")?;
    let meta = atrocore_testkit::reference_json("metadata/atrocore-pim-multilang.metadata.json")?;
    Some(SimConfig::from_spec_value(Arc::new(spec)).metadata_value(Arc::new(meta)))
}

/// The generated 2.3 client logged in as the simulator's admin.
fn client(sim: &Simulator) -> Client {
    Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .build()
        .unwrap()
}

#[tokio::test]
async fn crud_filters_and_streams_on_2_3() {
    let sim = Simulator::start(config()).await.unwrap();
    assert_eq!(atrocore_client_23::API_BASE_PATH, "/api");
    let client = client(&sim);

    let created = client
        .brand()
        .create(&BrandPost::new("Acme"))
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    let patched = client
        .brand()
        .update(
            &id,
            &BrandPatch {
                name: Some("Acme Corp".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.name.as_deref(), Some("Acme Corp"));

    for i in 0..25 {
        client
            .brand()
            .create(&BrandPost::new(format!("B{i:02}")))
            .await
            .unwrap();
    }
    let page = client
        .brand()
        .list()
        .select([BrandField::Name])
        .filter(brand::filter::name().starts_with("B1"))
        .sort_by(BrandField::Name)
        .asc(true)
        .await
        .unwrap();
    assert_eq!(page.total, 10);
    assert_eq!(page.list[0].name.as_deref(), Some("B10"));
    let all: Vec<_> = client
        .brand()
        .list()
        .max_size(7)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 26);

    // Find-or-create through the typed create struct, on 2.3.
    let product = client
        .product()
        .create(&ProductPost {
            brand: Some(LinkOne::find(LinkTo::named("Acme Corp"))),
            ..ProductPost::new("Phone", "P-1", ProductStatus::Draft)
        })
        .await
        .unwrap();
    assert_eq!(product.brand_id.as_deref(), Some(id.as_str()));

    assert!(client.brand().delete(&id).await.unwrap());
    assert!(client.brand().read(&id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn reads_by_code_need_an_is_code_field_and_link_ids_must_exist_on_2_3() {
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let brand = client
        .brand()
        .create(&BrandPost {
            code: Some("acme".into()),
            ..BrandPost::new("Acme")
        })
        .await
        .unwrap();
    // `Brand.code` is unique but not `isCode`, so 2.3 does not read a Brand by its code.
    let err = client.brand().read("acme").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // A create or update naming a brand that does not exist fails with the server's message.
    let err = client
        .product()
        .create(&ProductPost {
            brand: Some(LinkOne::id("no-such-brand")),
            ..ProductPost::new("Phone", "P-1", ProductStatus::Draft)
        })
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    let reason = err.reason().unwrap_or_default();
    assert!(
        reason.contains("brandId") && reason.contains("no-such-brand"),
        "{reason}"
    );
    let product = client
        .product()
        .create(&ProductPost {
            brand: brand.id.clone().map(Into::into),
            ..ProductPost::new("Phone", "P-1", ProductStatus::Draft)
        })
        .await
        .unwrap();
    let err = client
        .product()
        .update(
            product.id.as_deref().unwrap(),
            &atrocore_client_23::product::ProductPatch {
                brand: Some(LinkOne::id("no-such-brand")),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
}

/// 2.3 attribute writes that change nothing (upsert, removal) are answered 304; the generated
/// attribute calls report `WriteOutcome::NotModified`.
#[tokio::test]
async fn attribute_writes_report_not_modified_on_2_3() {
    use atrocore_runtime::{AttributeValue, Method, WriteOutcome};
    let Some(full) = full_pim_config() else {
        return;
    };
    let sim = Simulator::start(full).await.unwrap();
    let client = client(&sim);
    let attr: Value = client
        .runtime()
        .request(Method::POST, "/Attribute")
        .json(
            &serde_json::json!({ "name": "Colour", "systemName": "colour", "type": "varchar",
                                   "entityId": "Product", "attributePanelId": "main" }),
        )
        .send_json()
        .await
        .unwrap();
    let attr = attr["id"].as_str().unwrap().to_owned();
    let product = client
        .product()
        .create(&ProductPost {
            ..ProductPost::new("Painted", "P-1", ProductStatus::Draft)
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let set = |v: &str| vec![AttributeValue::new(attr.as_str(), v)];
    let p = client.product().attributes(&product);
    assert_eq!(p.upsert(&set("red")).await.unwrap(), WriteOutcome::Changed);
    assert_eq!(
        p.upsert(&set("red")).await.unwrap(),
        WriteOutcome::NotModified
    );
    let remove = [attr.clone()];
    assert_eq!(
        p.remove(remove.clone()).await.unwrap().outcome,
        WriteOutcome::Changed
    );
    assert_eq!(
        p.remove(remove).await.unwrap().outcome,
        WriteOutcome::NotModified
    );
    sim.shutdown().await;
}

/// Typed bulk upsert on 2.3 (`POST /upsert`), keyed by the unique `code`.
#[tokio::test]
async fn typed_upsert_on_2_3() {
    use atrocore_runtime::UpsertStatus;
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let brands: Vec<BrandPost> = (0..300)
        .map(|i| BrandPost {
            code: Some(format!("b{i:03}")),
            ..BrandPost::new(format!("Brand {i}"))
        })
        .collect();
    let report = client
        .brand()
        .upsert(&brands)
        .batch_size(100)
        .await
        .unwrap();
    assert!(report.is_success(), "{:?}", report.failed_batches);
    assert_eq!(report.count(UpsertStatus::Created), 300);
    let again = client.brand().upsert(brands.iter()).await.unwrap();
    assert_eq!(again.count(UpsertStatus::NotModified), 300);
}

/// Typed uploads on 2.3 (`POST /File`, chunks through `POST /File/createChunk`).
#[tokio::test]
async fn typed_file_uploads_on_2_3() {
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let up = client
        .file()
        .upload_bytes("data.bin", data.clone())
        .chunk_size(50_000)
        .await
        .unwrap();
    assert!(up.chunks_sent >= 4);
    assert_eq!(up.record.name.as_deref(), Some("data.bin"));
    let back = client
        .file()
        .download(&up.id)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&back[..], &data[..]);

    // A reupload through the generated file API keeps the record and its typed id.
    let again = client
        .file()
        .upload_bytes("data-v2.bin", b"new".to_vec())
        .replacing(&up.id)
        .await
        .unwrap();
    assert_eq!(again.id, up.id);
    assert_eq!(again.record.name.as_deref(), Some("data-v2.bin"));
}

/// Link lists on 2.3 go through `GET /entityRelation`.
#[tokio::test]
async fn link_lists_on_2_3() {
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let bid = client
        .brand()
        .create(&BrandPost::new("Acme"))
        .await
        .unwrap()
        .id
        .unwrap();
    for i in 0..4 {
        client
            .product()
            .create(&ProductPost {
                brand: (i % 2 == 0).then(|| bid.clone().into()),
                ..ProductPost::new(format!("P{i}"), format!("N{i}"), ProductStatus::Draft)
            })
            .await
            .unwrap();
    }
    let linked: Vec<_> = client
        .brand()
        .products(&bid)
        .max_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut names: Vec<_> = linked.iter().filter_map(|p| p.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["P0", "P2"]);
}

/// Typed link and unlink on 2.3 (`/entityRelation`).
#[tokio::test]
async fn typed_link_and_unlink_on_2_3() {
    use atrocore_client_23::category::{self, CategoryPost};
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let pid = client
        .product()
        .create(&ProductPost {
            ..ProductPost::new("Desk", "D1", ProductStatus::Draft)
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let cid = client
        .category()
        .create(&CategoryPost::new("Office"))
        .await
        .unwrap()
        .id
        .unwrap();
    client
        .product()
        .categories(&pid)
        .add(&[&cid])
        .await
        .unwrap();
    assert_eq!(client.product().categories(&pid).await.unwrap().total, 1);
    client
        .product()
        .categories(&pid)
        .remove(&[&cid])
        .await
        .unwrap();
    assert_eq!(client.product().categories(&pid).await.unwrap().total, 0);

    // By filter (`massRelate` on `/entityRelation`), then everything at once (`all=true`).
    for name in ["Office chairs", "Garden"] {
        client
            .category()
            .create(&CategoryPost::new(name))
            .await
            .unwrap();
    }
    client
        .product()
        .categories(&pid)
        .add_matching(category::filter::name().starts_with("Office"))
        .await
        .unwrap();
    let mut names: Vec<_> = client
        .product()
        .categories(&pid)
        .await
        .unwrap()
        .list
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
    names.sort();
    assert_eq!(names, ["Office", "Office chairs"]);
    client.product().categories(&pid).clear().await.unwrap();
    assert_eq!(client.product().categories(&pid).await.unwrap().total, 0);
    assert_eq!(client.category().list().await.unwrap().total, 3);
}

/// Keyset paging on 2.3 while records are created: every record that existed before is seen
/// exactly once (new ones may or may not show up; none twice).
#[tokio::test]
async fn keyset_paging_while_records_are_created_on_2_3() {
    use std::collections::BTreeSet;
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let mut before = BTreeSet::new();
    for i in 0..60 {
        let b = client
            .brand()
            .create(&BrandPost::new(format!("Old {i:02}")))
            .await
            .unwrap();
        before.insert(b.id.unwrap());
    }
    let mut stream = client.brand().list().max_size(7).keyset_stream();
    let mut seen = Vec::new();
    let mut created = 0;
    while let Some(b) = stream.try_next().await.unwrap() {
        seen.push(b.id.unwrap());
        if seen.len() % 5 == 0 {
            client
                .brand()
                .create(&BrandPost::new(format!("New {created:02}")))
                .await
                .unwrap();
            created += 1;
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no record twice");
    assert!(before.is_subset(&unique), "every old record seen");
    assert!(created > 10);
}

/// Mass update and delete on 2.3: ids through `/entityMassUpdate` / `/entityMassDelete`, a
/// filter (or more than 200 ids) through the `…Async` routes, whose job the outcome names.
#[tokio::test]
async fn mass_update_and_delete_on_2_3() {
    use atrocore_runtime::Patch;
    let sim = Simulator::start(config()).await.unwrap();
    let client = client(&sim);
    let mut ids = Vec::new();
    for name in ["Alpha", "Arrow", "Beta"] {
        let b = client.brand().create(&BrandPost::new(name)).await.unwrap();
        ids.push(b.id.unwrap());
    }
    let changes = BrandPatch {
        description: Patch::Set("A brand".into()),
        ..Default::default()
    };
    let done = client
        .brand()
        .update_matching(brand::filter::name().starts_with("A"), &changes)
        .await
        .unwrap();
    assert!(done.queued && done.job_id.is_some(), "{done:?}");
    let status = client
        .runtime()
        .wait_for_mass_action(done.job_id.as_deref().unwrap())
        .poll_every(std::time::Duration::from_millis(10))
        .timeout(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(status.done && status.errors.is_empty(), "{status:?}");
    let e = client
        .runtime()
        .wait_for_mass_action("no-such-job")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let described = client
        .brand()
        .list()
        .filter(brand::filter::description().equals("A brand"))
        .await
        .unwrap();
    assert_eq!(described.total, 2);

    let done = client
        .brand()
        .update_ids(&ids[2..], &changes)
        .await
        .unwrap();
    assert_eq!(done.count, Some(1));
    assert!(done.is_complete(), "{done:?}");

    // More ids than the synchronous route takes: the async route with an `in` filter.
    let mut many: Vec<String> = (0..250).map(|i| format!("missing{i}")).collect();
    many.push(ids[0].to_string());
    let done = client.brand().delete_ids(&many).await.unwrap();
    assert!(done.queued, "{done:?}");
    let left = client.brand().list().await.unwrap();
    assert_eq!(left.total, 2);

    let done = client
        .brand()
        .delete_matching(brand::filter::name().starts_with("Ar"))
        .await
        .unwrap();
    assert!(done.job_id.is_some());
    let done = client.brand().delete_ids(&ids[2..]).await.unwrap();
    assert_eq!(done.count, Some(1));
    assert_eq!(client.brand().list().await.unwrap().total, 0);
}

typed_client_tests!();

/// 2.3 checks its own answers after the route ran (`Core/Middleware/ApiValidationMiddleware.php`):
/// a mismatch is a 400 for a write that was stored. The runtime reports it as
/// `AnswerRejected` (may have been applied), never as a rejected request; an upsert's items
/// without a key are `OutcomeUnknown`, and a batch of keyed ones is reported as possibly applied.
#[tokio::test]
async fn answers_refused_after_a_write_are_not_reported_as_rejected_on_2_3() {
    use atrocore_runtime::UpsertStatus;
    use atrocore_sim::Faults;
    let refuse = Faults {
        after_write_invalid_answer_rate: 1.0,
        ..Faults::default()
    };
    let sim = Simulator::start(config().faults(refuse.clone()))
        .await
        .unwrap();
    let client = client(&sim);
    let e = client
        .brand()
        .create(&BrandPost::new("Stored"))
        .await
        .unwrap_err();
    assert!(e.is_answer_rejected() && e.may_have_been_applied(), "{e}");
    assert!(!e.is_validation(), "{e}");
    assert!(e.reason().unwrap().contains("for Response ["), "{e}");

    let keyed = BrandPost {
        code: Some("keyed".into()),
        ..BrandPost::new("Keyed")
    };
    let unkeyed = BrandPost::new("Unkeyed");
    // Items without a key cannot be sent again (a second create): their outcome is unknown.
    let report = client.brand().upsert([&unkeyed]).await.unwrap();
    assert_eq!(report.count(UpsertStatus::OutcomeUnknown), 1, "{report:?}");
    // A keyed item is sent again on its own; when its answer is refused again, the batch is
    // reported as failed after it may have been applied, not as rejected.
    let report = client.brand().upsert([&keyed, &unkeyed]).await.unwrap();
    assert_eq!(report.failed_batches.len(), 1, "{report:?}");
    assert_eq!(report.failed_batches[0].indices, 0..2);
    assert!(report.failed_batches[0].may_have_been_applied);
    assert!(report.failed_batches[0].error.is_answer_rejected());

    // Everything was stored.
    sim.set_faults(Faults::default());
    let names: Vec<String> = client
        .brand()
        .list()
        .stream()
        .map_ok(|b| b.name.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    for name in ["Stored", "Keyed", "Unkeyed"] {
        assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
    }
}

/// The generated 2.3 crate's typed attributes (from `specs/atrocore-2.3-pim-small.attributes.json`)
/// against a simulator seeded with the same file and against one whose ids differ: codes are
/// `systemName`s, resolved to ids when a filter is sent (one index read); `enum` options are
/// codes already, units are named by code; set, filter, read and bulk-upsert with no ids or
/// strings in user code.
#[tokio::test]
async fn typed_attributes_of_the_generated_2_3_crate() {
    use atrocore_client_23::product::attr::{self, Colour, LengthUnit, MassUnit, Materials};
    use atrocore_runtime::typed_attributes::Range;
    use atrocore_runtime::{Date, UpsertStatus};
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{ROOT}/specs/atrocore-2.3-pim-small.attributes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for instance in ["generated from", "other ids"] {
        let mut definitions = file.clone();
        if instance == "other ids" {
            for a in definitions["attributes"].as_array_mut().unwrap() {
                let id = a["id"].as_str().unwrap().replacen("a01", "b02", 1);
                a["id"] = Value::from(id);
                for u in a["units"].as_array_mut().into_iter().flatten() {
                    let id = u["id"].as_str().unwrap().replacen("a01", "b02", 1);
                    u["id"] = Value::from(id);
                }
            }
        }
        let sim = Simulator::start(config()).await.unwrap();
        assert_eq!(sim.seed_attributes(&definitions).unwrap(), 8);
        let client = client(&sim);
        let mut ids = Vec::new();
        for (name, weight, organic, colour) in [
            ("Light", 1.0, true, Colour::Red),
            ("Heavy", 9.0, false, Colour::NaturalOak),
        ] {
            let id = client
                .product()
                .create(&ProductPost::new(
                    name,
                    format!("N-{name}"),
                    ProductStatus::Draft,
                ))
                .await
                .unwrap()
                .id
                .unwrap();
            let changes = attr::weight()
                .set_with_unit(weight, MassUnit::Kg)
                .and(attr::organic().set(organic))
                .and(attr::colour().set(colour.clone()))
                .and(attr::materials().set([Materials::Wood, Materials::Steel]))
                .and(attr::release_date().set(Date::new(2026, 5, 1).unwrap()))
                .and(attr::seat_depth().set_with_unit(Some(40.0), Some(45.0), LengthUnit::Cm))
                .and(
                    attr::care_instructions()
                        .language("de_DE")
                        .set(format!("{name} pflegen")),
                );
            let saved = client
                .product()
                .set_attributes(&id, &changes)
                .await
                .unwrap();
            let flat = saved.flat_attributes();
            let values = attr::Values::of(&flat).unwrap();
            assert_eq!(values.weight, Some(weight), "{instance}");
            assert_eq!(attr::weight().unit::<MassUnit>(&flat), Some(MassUnit::Kg));
            assert_eq!(values.organic, Some(organic));
            assert_eq!(values.colour, Some(colour));
            assert_eq!(
                values.materials,
                Some(vec![Materials::Wood, Materials::Steel])
            );
            assert_eq!(values.release_date, Date::new(2026, 5, 1));
            assert_eq!(
                values.seat_depth,
                Some(Range {
                    from: Some(40.0),
                    to: Some(45.0)
                })
            );
            assert_eq!(
                attr::care_instructions()
                    .language("de_DE")
                    .get(&flat)
                    .unwrap(),
                Some(format!("{name} pflegen"))
            );
            ids.push(id);
        }
        sim.take_requests();
        let heavy = client
            .product()
            .list()
            .filter(attr::weight().greater_than(5.0) & attr::organic().is_false())
            .await
            .unwrap();
        assert_eq!(heavy.total, 1, "{instance}");
        assert_eq!(heavy.list[0].id.as_ref(), Some(&ids[1]));
        let oak = client
            .product()
            .list()
            .filter(attr::colour().equals(Colour::NaturalOak))
            .await
            .unwrap();
        assert_eq!(oak.total, 1, "{instance}");
        let sent = sim.take_requests();
        let lookups: Vec<_> = sent
            .iter()
            .filter(|r| r.path.ends_with("/Attribute"))
            .collect();
        assert_eq!(lookups.len(), 1, "one index read per client");
        assert!(
            lookups[0]
                .query_value("select")
                .unwrap_or_default()
                .contains("systemName"),
            "2.3 names attributes by systemName"
        );

        // A bulk upsert with attribute values in the create structs' `extra`.
        let posts: Vec<ProductPost> = (0..3)
            .map(|i| {
                let mut post = ProductPost::new(
                    format!("Stool {i}"),
                    format!("N-stool-{i}"),
                    ProductStatus::Draft,
                );
                attr::warranty_years()
                    .set(i + 1)
                    .and(attr::colour().set(Colour::Blue))
                    .and(attr::weight().set_with_unit(500.0, MassUnit::G))
                    .apply_to(&mut post.extra);
                post
            })
            .collect();
        let report = client
            .product()
            .upsert(&posts)
            .flatten_attributes(true)
            .await
            .unwrap();
        assert_eq!(report.count(UpsertStatus::Created), 3, "{report:?}");
        let blue = client
            .product()
            .list()
            .filter(attr::colour().equals(Colour::Blue) & attr::warranty_years().greater_than(1))
            .await
            .unwrap();
        assert_eq!(blue.total, 2, "{instance}");
        let gram = definitions["attributes"][0]["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == "g")
            .and_then(|u| u["id"].as_str());
        let stored = client
            .product()
            .read(blue.list[0].id.as_ref().unwrap())
            .flatten_attributes(true)
            .await
            .unwrap();
        assert_eq!(stored.extra["weightUnitId"].as_str(), gram, "{instance}");
        sim.shutdown().await;
    }
}
