//! The generated client end to end: generated code → runtime → real HTTP → simulator.

#[macro_use]
mod typed;

use std::sync::{Arc, OnceLock};

use atrocore_client::Client;
use atrocore_client::brand::{self, BrandField, BrandPatch, BrandPost};
use atrocore_client::product::{self, ProductPost};
use atrocore_runtime::{Filter, Patch};
use atrocore_sim::{SimConfig, SimUser, Simulator};
use futures_util::TryStreamExt;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn load(path: &str) -> Arc<Value> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    Arc::new(serde_json::from_slice(&text).unwrap())
}

/// The default spec (the one the example crate was generated from) and its instance metadata.
fn config() -> SimConfig {
    static SPEC: OnceLock<Arc<Value>> = OnceLock::new();
    static META: OnceLock<Arc<Value>> = OnceLock::new();
    let spec = SPEC.get_or_init(|| load(&format!("{ROOT}/specs/atrocore-2.2-pim-default.json")));
    let meta = META.get_or_init(|| {
        load(&format!(
            "{ROOT}/specs/atrocore-2.2-pim-default.metadata.json"
        ))
    });
    SimConfig::from_spec_value(spec.clone()).metadata_value(meta.clone())
}

async fn start() -> (Simulator, Client) {
    let sim = Simulator::start(config()).await.expect("simulator starts");
    let client = Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .build()
        .expect("client builds");
    (sim, client)
}

#[tokio::test]
async fn crud_roundtrip() {
    let (_sim, client) = start().await;
    let created = client
        .brand()
        .create(&BrandPost {
            code: Some("apple".into()),
            ..BrandPost::new("Apple")
        })
        .await
        .unwrap();
    let id = created.id.clone().expect("the server assigns an id");
    assert_eq!(created.name.as_deref(), Some("Apple"));

    let read = client.brand().read(&id).await.unwrap();
    assert_eq!(read.code.as_deref(), Some("apple"));
    assert!(read.created_at.is_some(), "server fields come back");

    // Unchanged fields are not sent; Null clears.
    let updated = client
        .brand()
        .update(
            &id,
            &BrandPatch {
                name: Some("Apple Inc.".into()),
                code: Patch::Null,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Apple Inc."));
    assert_eq!(updated.code, None);

    assert!(client.brand().delete(&id).await.unwrap());
    let err = client.brand().read(&id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn list_with_select_typed_filter_sort_and_paging() {
    let (_sim, client) = start().await;
    for (name, active) in [
        ("Alpha", true),
        ("Beta", false),
        ("Gamma", true),
        ("Alpine", true),
    ] {
        client
            .brand()
            .create(&BrandPost {
                is_active: Some(active),
                ..BrandPost::new(name)
            })
            .await
            .unwrap();
    }
    let page = client
        .brand()
        .list()
        .select([BrandField::Name, BrandField::IsActive])
        .filter(
            brand::filter::name()
                .starts_with("Al")
                .and(brand::filter::is_active().is_true()),
        )
        .sort_by(BrandField::Name)
        .asc(false)
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    let names: Vec<_> = page.list.iter().filter_map(|b| b.name.as_deref()).collect();
    assert_eq!(names, ["Alpine", "Alpha"]);

    let any = Filter::any([
        brand::filter::name().equals("Beta"),
        brand::filter::name().equals("Gamma"),
    ]);
    let page = client
        .brand()
        .list()
        .filter(any)
        .sort_by(BrandField::Name)
        .asc(true)
        .max_size(1)
        .offset(1)
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.list.len(), 1);
    assert_eq!(page.list[0].name.as_deref(), Some("Gamma"));
}

#[tokio::test]
async fn stream_pages_through_every_record() {
    let (_sim, client) = start().await;
    for i in 0..45 {
        client
            .brand()
            .create(&BrandPost::new(format!("Brand {i:02}")))
            .await
            .unwrap();
    }
    let all: Vec<_> = client
        .brand()
        .list()
        .max_size(10)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 45);
    let by_keyset: Vec<_> = client
        .brand()
        .list()
        .max_size(10)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_keyset.len(), 45);
    let mut ids: Vec<_> = by_keyset.iter().filter_map(|b| b.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 45, "no record twice");
    // Descending by id, and a sort that keyset paging cannot keep is refused, not dropped.
    let down: Vec<_> = client
        .brand()
        .list()
        .max_size(10)
        .sort_by(BrandField::Id)
        .asc(false)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    let down_ids: Vec<_> = down.iter().filter_map(|b| b.id.clone()).collect();
    let mut expected = ids.clone();
    expected.sort();
    expected.reverse();
    assert_eq!(down_ids, expected);
    let refused: Result<Vec<_>, _> = client
        .brand()
        .list()
        .sort_by(BrandField::Name)
        .keyset_stream()
        .try_collect()
        .await;
    let e = refused.unwrap_err();
    assert!(e.is_builder() && e.to_string().contains("`name`"), "{e}");
}

#[tokio::test]
async fn with_meta_gives_typed_permissions() {
    let (_sim, client) = start().await;
    let b = client
        .brand()
        .create(&BrandPost::new("Meta"))
        .await
        .unwrap();
    let read = client
        .brand()
        .read(b.id.as_deref().unwrap())
        .with_meta(true)
        .await
        .unwrap();
    let meta = read.meta.expect("_meta present with With-Meta");
    assert_eq!(meta.permissions.and_then(|p| p.edit), Some(true));
}

#[tokio::test]
async fn entity_specific_routes_are_typed_methods() {
    let (_sim, client) = start().await;
    let product = client
        .product()
        .create(&ProductPost {
            status: Some("draft".into()),
            ..ProductPost::new("Phone", "P-1")
        })
        .await
        .unwrap();
    let id = product.id.unwrap();
    let attr: Value = client
        .runtime()
        .request(atrocore_runtime::Method::POST, "/Attribute")
        .json(&serde_json::json!({"name": "Colour", "code": "colour", "type": "varchar", "entityId": "Product", "attributePanelId": "main"}))
        .send_json()
        .await
        .unwrap();
    let attr_id = attr["id"].as_str().unwrap().to_owned();
    let attributes = client.product().attributes(&id);
    let added = attributes.add([attr_id.as_str()]).await.unwrap();
    assert!(added);
    let values = attributes.list().await.unwrap();
    assert!(
        values.iter().any(|v| v.attribute_id == attr_id),
        "{values:?}"
    );
    let _ = product::filter::name();
}

#[tokio::test]
async fn wrong_credentials_and_forbidden_writes_are_clear_errors() {
    let sim = Simulator::start(config().users(vec![
        SimUser::admin("admin", "admin"),
        SimUser::limited("reader", "reader", ["*"]),
    ]))
    .await
    .unwrap();
    let bad = Client::builder(sim.base_url())
        .basic_auth("admin", "wrong-password")
        .build()
        .unwrap();
    let err = bad.brand().list().await.unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert!(
        !format!("{err} {err:?}").contains("wrong-password"),
        "secrets never appear in errors"
    );

    let reader = Client::builder(sim.base_url())
        .basic_auth("reader", "reader")
        .build()
        .unwrap();
    assert_eq!(reader.brand().list().await.unwrap().total, 0);
    let err = reader
        .brand()
        .create(&BrandPost::new("x"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
}

#[tokio::test]
async fn find_or_create_links_from_typed_create_structs() {
    let (_sim, client) = start().await;
    let first = client
        .product()
        .create(&ProductPost {
            brand: Some(atrocore_runtime::LinkOne::find(
                atrocore_runtime::LinkTo::named("Apple"),
            )),
            ..ProductPost::new("Phone", "P-1")
        })
        .await
        .unwrap();
    let brand_id = first
        .brand_id
        .clone()
        .expect("the brand was created and linked");
    // The second product finds the same brand instead of creating another.
    let second = client
        .product()
        .create(&ProductPost {
            brand: Some(atrocore_runtime::LinkOne::find(
                atrocore_runtime::Lookup::new().field("name", "Apple"),
            )),
            ..ProductPost::new("Tablet", "P-2")
        })
        .await
        .unwrap();
    assert_eq!(second.brand_id.as_deref(), Some(brand_id.as_str()));
    let brands = client
        .brand()
        .list()
        .filter(brand::filter::name().equals("Apple"))
        .await
        .unwrap();
    assert_eq!(brands.total, 1);
    // By id works too.
    let third = client
        .product()
        .create(&ProductPost {
            brand: Some(atrocore_runtime::LinkOne::find(
                atrocore_runtime::LinkTo::id(brand_id.clone()),
            )),
            ..ProductPost::new("Watch", "P-3")
        })
        .await
        .unwrap();
    assert_eq!(third.brand_id.as_deref(), Some(brand_id.as_str()));
}

#[tokio::test]
async fn an_update_that_changes_nothing_still_returns_the_record() {
    let (_sim, client) = start().await;
    let b = client
        .brand()
        .create(&BrandPost::new("Same"))
        .await
        .unwrap();
    let id = b.id.unwrap();
    // AtroCore answers 304 Not Modified with no body; the client reads the record back.
    let same = client
        .brand()
        .update(
            &id,
            &BrandPatch {
                name: Some("Same".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(same.name.as_deref(), Some("Same"));
    assert_eq!(same.id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn a_brand_code_is_not_an_id_and_a_missing_brand_id_is_a_validation_error() {
    let (_sim, c) = start().await;
    let brand = c
        .brand()
        .create(&BrandPost {
            code: Some("acme".into()),
            ..BrandPost::new("Acme")
        })
        .await
        .unwrap();
    // 2.2 reads by id only.
    let err = c.brand().read("acme").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(c.brand().read(brand.id.as_deref().unwrap()).await.is_ok());

    // A link id naming no record fails (the REST guide); the server's message is kept.
    let err = c
        .product()
        .create(&ProductPost {
            status: Some("draft".into()),
            brand: Some(atrocore_runtime::LinkOne::id("no-such-brand")),
            ..ProductPost::new("Phone", "P-1")
        })
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    let reason = err.reason().unwrap_or_default();
    assert!(
        reason.contains("brandId") && reason.contains("no-such-brand"),
        "{reason}"
    );
}

/// Typed bulk upsert through the generated entity API: borrowed create structs, batches, per-item
/// results by input index, keyed by the unique `code` (so batches may be retried).
#[tokio::test]
async fn typed_upsert_of_create_structs() {
    use atrocore_runtime::UpsertStatus;
    let (_sim, client) = start().await;
    let mut brands: Vec<BrandPost> = (0..1200)
        .map(|i| BrandPost {
            code: Some(format!("b{i:04}")),
            ..BrandPost::new(format!("Brand {i}"))
        })
        .collect();
    brands[700].name = String::new(); // rejected: the name is required
    let report = client
        .brand()
        .upsert(&brands)
        .batch_size(250)
        .await
        .unwrap();
    assert_eq!(report.results.len(), 1200);
    assert_eq!(report.count(UpsertStatus::Created), 1199);
    let failed: Vec<usize> = report.failed_items().map(|r| r.index).collect();
    assert_eq!(failed, vec![700]);
    // Again, owned, with one change: found by `code`, not created twice.
    brands[700].name = "Brand 700".into();
    let report = client.brand().upsert(brands).batch_size(500).await.unwrap();
    assert_eq!(report.count(UpsertStatus::Created), 1);
    assert_eq!(report.count(UpsertStatus::NotModified), 1199);
    assert_eq!(client.brand().list().max_size(1).await.unwrap().total, 1200);
}

/// A payload that cannot be serialized fails its own batch (nothing of it is sent) and the other
/// batches go on; the stream yields the outcomes in input order.
#[tokio::test]
async fn an_item_that_does_not_serialize_fails_only_its_batch() {
    use atrocore_client::brand::Brand;
    use atrocore_runtime::{UpsertItem, UpsertPayload};
    use futures_util::StreamExt as _;
    struct Flaky(BrandPost, bool);
    impl UpsertPayload<Brand> for Flaky {
        fn upsert_item(&self) -> atrocore_runtime::Result<UpsertItem> {
            if self.1 {
                // Not a JSON object: refused by the runtime.
                UpsertItem::new::<Brand>(&["not", "an", "object"])
            } else {
                UpsertPayload::<Brand>::upsert_item(&self.0)
            }
        }
    }
    let (_sim, client) = start().await;
    let items: Vec<Flaky> = (0..25)
        .map(|i| {
            let post = BrandPost {
                code: Some(format!("f{i:02}")),
                ..BrandPost::new(format!("Flaky {i}"))
            };
            Flaky(post, i == 12)
        })
        .collect();
    let outcomes: Vec<_> = client
        .brand()
        .upsert(&items)
        .batch_size(10)
        .stream()
        .collect()
        .await;
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].as_ref().unwrap().len(), 10);
    let failed = outcomes[1].as_ref().unwrap_err();
    assert_eq!(failed.indices, 10..20);
    assert!(!failed.may_have_been_applied);
    assert!(failed.error.is_builder(), "{}", failed.error);
    assert_eq!(outcomes[2].as_ref().unwrap()[0].index, 20);
    // Batches 1 and 3 stored, nothing of batch 2.
    assert_eq!(client.brand().list().max_size(1).await.unwrap().total, 15);
}

/// Typed uploads and downloads through the generated `file()` API (2.2 serves `POST /File`
/// without documenting it).
#[tokio::test]
async fn typed_file_uploads_and_downloads() {
    use atrocore_runtime::NameConflict;
    let (_sim, client) = start().await;
    let up = client
        .file()
        .upload_bytes("hello.txt", b"hello".to_vec())
        .await
        .unwrap();
    let file: &atrocore_client::file::File = &up.record;
    assert_eq!(file.name.as_deref(), Some("hello.txt"));
    assert_eq!(file.id.as_deref(), Some(up.id.as_str()));
    let bytes = client
        .file()
        .download(&up.id)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"hello");
    let shared = client.file().share(&up.id).await.unwrap();
    assert!(shared.link.contains("/sharings/"), "{shared:?}");
    // Large enough for chunks, from a reader; the same name again follows the policy.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let big = client
        .file()
        .upload_reader(
            "big.bin",
            std::io::Cursor::new(data.clone()),
            data.len() as u64,
        )
        .chunk_size(64 * 1024)
        .await
        .unwrap();
    assert!(big.chunks_sent > 1);
    assert_eq!(big.record.name.as_deref(), Some("big.bin"));
    let again = client
        .file()
        .upload_bytes("big.bin", b"other".to_vec())
        .on_name_conflict(NameConflict::Rename)
        .await
        .unwrap();
    assert_eq!(again.record.name.as_deref(), Some("big (1).bin"));
    let back = client
        .file()
        .download(&big.id)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&back[..], &data[..]);
}

/// One typed list per to-many link (from the instance metadata): `brand().products(id)` with
/// filter, select, sort, paging and streams.
#[tokio::test]
async fn link_lists_are_typed_list_requests() {
    use atrocore_client::product::{ProductField, ProductPost, filter as p};
    let (_sim, client) = start().await;
    let brand = client
        .brand()
        .create(&BrandPost::new("Acme"))
        .await
        .unwrap();
    let bid = brand.id.unwrap();
    for i in 0..7 {
        client
            .product()
            .create(&ProductPost {
                status: Some("draft".into()),
                brand: (i < 5).then(|| bid.clone().into()),
                ..ProductPost::new(format!("Chair {i}"), format!("C{i}"))
            })
            .await
            .unwrap();
    }
    let page = client
        .brand()
        .products(&bid)
        .filter(p::name().like("Chair%"))
        .select([ProductField::Id, ProductField::Name])
        .sort_by(ProductField::Name)
        .asc(false)
        .max_size(2)
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    let names: Vec<_> = page.list.iter().filter_map(|r| r.name.clone()).collect();
    assert_eq!(names, ["Chair 4", "Chair 3"]);
    let all: Vec<_> = client
        .brand()
        .products(&bid)
        .max_size(2)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let e = client.brand().products("").await.unwrap_err();
    assert!(e.is_builder(), "{e}");
}

/// Typed link and unlink for each to-many link, read back through the link list.
#[tokio::test]
async fn typed_link_and_unlink() {
    use atrocore_client::category::{self, CategoryPost};
    use atrocore_client::product::ProductPost;
    let (_sim, client) = start().await;
    let pid = client
        .product()
        .create(&ProductPost {
            status: Some("draft".into()),
            ..ProductPost::new("Desk", "D1")
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let mut cats = Vec::new();
    for name in ["Office", "Home"] {
        let c = client
            .category()
            .create(&CategoryPost::new(name, "1", "1"))
            .await
            .unwrap();
        cats.push(c.id.unwrap());
    }
    client.product().categories(&pid).add(&cats).await.unwrap();
    let linked = client.product().categories(&pid).await.unwrap();
    assert_eq!(linked.total, 2);
    // The other side sees it too.
    assert_eq!(client.category().products(&cats[0]).await.unwrap().total, 1);
    client
        .product()
        .categories(&pid)
        .remove(&cats[..1])
        .await
        .unwrap();
    let left = client.product().categories(&pid).await.unwrap();
    assert_eq!(left.list.len(), 1);
    assert_eq!(left.list[0].id.as_deref(), Some(cats[1].as_str()));
    let e = client
        .product()
        .categories(&pid)
        .add::<&str>(&[])
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e}");

    // By filter (`massRelate`): the server links every category named "Off…".
    client
        .category()
        .create(&CategoryPost::new("Garden", "1", "1"))
        .await
        .unwrap();
    client
        .product()
        .categories(&pid)
        .add_matching(category::filter::name().starts_with("Off"))
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
    assert_eq!(names, ["Home", "Office"]);
    // Everything at once; the categories stay.
    client.product().categories(&pid).clear().await.unwrap();
    assert_eq!(client.product().categories(&pid).await.unwrap().total, 0);
    assert_eq!(client.category().list().await.unwrap().total, 3);
}

/// Mass update and delete on 2.2 (`/{E}/action/massUpdate`, `massDelete`), by typed filter and
/// by ids; the outcome reads the server's `{count, sync, errors}` although the spec says `true`.
#[tokio::test]
async fn mass_update_and_delete() {
    let (_sim, client) = start().await;
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
    assert_eq!(done.count, Some(2));
    assert!(done.is_complete(), "{done:?}");
    let described = client
        .brand()
        .list()
        .filter(brand::filter::description().equals("A brand"))
        .await
        .unwrap();
    assert_eq!(described.total, 2);

    // A missing id is counted and reported, the others are updated.
    let done = client
        .brand()
        .update_ids(&[ids[2].as_str(), "nobody"], &changes)
        .await
        .unwrap();
    assert_eq!(done.count, Some(2));
    assert_eq!(done.errors.len(), 2, "{done:?}");
    assert!(done.errors[1].starts_with("Error for 'nobody'"), "{done:?}");

    // Nothing to set, or no ids: refused before sending.
    let e = client
        .brand()
        .update_ids(&[ids[0].as_str()], &BrandPatch::default())
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e}");
    let e = client.brand().delete_ids::<&str>(&[]).await.unwrap_err();
    assert!(e.is_builder(), "{e}");

    let done = client.brand().delete_ids(&ids[2..]).await.unwrap();
    assert_eq!((done.count, done.queued), (Some(1), false));
    let done = client
        .brand()
        .delete_matching(brand::filter::name().starts_with("A"))
        .permanently(true)
        .await
        .unwrap();
    assert_eq!(done.count, Some(2));
    assert_eq!(client.brand().list().await.unwrap().total, 0);
}

typed_client_tests!();

/// AtroCore's unique-constraint message carries HTML for its web UI (a "Details" link and the
/// database's message in a hidden `<textarea>`): the error reads as text, and the message as sent
/// stays reachable.
#[tokio::test]
async fn html_in_server_messages_reads_as_text() {
    let (sim, client) = start().await;
    let post = BrandPost {
        code: Some("dup".into()),
        ..BrandPost::new("A")
    };
    client.brand().create(&post).await.unwrap();
    let e = client.brand().create(&post).await.unwrap_err();
    assert!(e.is_validation(), "{e}");
    let reason = e.reason().unwrap();
    assert!(!reason.contains('<'), "{reason}");
    assert!(
        reason.contains("Details: SQLSTATE[23000]") && reason.contains("Duplicate entry 'dup'"),
        "{reason}"
    );
    assert!(!e.to_string().contains("<textarea"), "{e}");
    assert!(e.raw_reason().unwrap().contains("<textarea"));
    let sent = sim.take_requests();
    assert_eq!(sent.last().unwrap().status, Some(400));
}
