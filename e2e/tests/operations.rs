//! One operation style: every generated route (not only CRUD) is a builder with per-request
//! options (`timeout`, `with_meta`, `header`), `into_request()` and `.await`, end to end
//! against a slow simulator.

mod support;

use std::time::Duration;

use atrocore_client::brand::BrandPost;
use atrocore_runtime::ErrorKind;
use atrocore_sim::Faults;
use serde_json::Value;
use support::{client, start_with};

#[tokio::test]
async fn generated_routes_and_crud_builders_take_a_per_request_timeout() {
    let sim = start_with(Faults {
        latency: Duration::from_millis(400),
        ..Faults::default()
    })
    .await;
    let c = client(&sim, 0);
    c.runtime().login().await.unwrap();

    // A non-CRUD generated route: the client's timeout (none here) lets it through …
    let metadata = c.metadata().get().await.unwrap();
    assert!(metadata.get("entityDefs").is_some());
    // … and the per-request one cuts it short.
    let err = c
        .metadata()
        .get()
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");

    // CRUD builders take the same option.
    let brand = c.brand().create(&BrandPost::new("Timeout")).await.unwrap();
    let brand_id = brand.id.as_deref().unwrap();
    let err = c
        .brand()
        .read(brand_id)
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let err = c
        .brand()
        .list()
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // The streams' pages keep it too.
    use futures_util::StreamExt;
    for mut stream in [
        c.brand().list().timeout(Duration::from_millis(50)).stream(),
        c.brand()
            .list()
            .timeout(Duration::from_millis(50))
            .keyset_stream(),
    ] {
        let err = stream.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn generated_routes_give_their_plain_request_and_check_before_sending() {
    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let brand = c.brand().create(&BrandPost::new("Plain")).await.unwrap();
    let brand_id = brand.id.as_deref().unwrap();

    // `into_request()` hands over the prepared request: decode it another way.
    let raw: Value = c.metadata().get().into_request().send_json().await.unwrap();
    assert!(raw["entityDefs"]["Brand"].is_object());

    // `with_meta` on a generated link list route, and a header set by hand.
    let linked = c.brand().products(brand_id).with_meta(true).await.unwrap();
    assert_eq!(linked.total, 0);

    // A link call with no ids fails before anything is sent.
    let before = sim.request_count();
    let err = c
        .brand()
        .products(brand_id)
        .add(&[] as &[&str])
        .header("X-Trace", "1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Builder, "{err}");
    assert_eq!(sim.request_count(), before);
    sim.shutdown().await;
}

#[tokio::test]
async fn enum_fields_filter_with_their_enum_and_link_names_are_typed() {
    use atrocore_client::product::{self, ProductPost, ProductStatus};
    use atrocore_client::team::TeamPost;

    let sim = start_with(Faults::default()).await;
    let c = client(&sim, 0);
    let team = TeamPost {
        name: Some("Sales".into()),
        ..TeamPost::default()
    };
    let team_id = c.team().create(&team).await.unwrap().id;
    for (i, status) in [
        ProductStatus::Draft,
        ProductStatus::Ready,
        ProductStatus::Ready,
    ]
    .into_iter()
    .enumerate()
    {
        let post = ProductPost {
            status: Some(status),
            teams: team_id.clone().map(|t| vec![t].into()),
            ..ProductPost::new(format!("P{i}"), format!("N{i}"))
        };
        c.product().create(&post).await.unwrap();
    }
    let ready = c
        .product()
        .list()
        .filter(product::filter::status().in_([ProductStatus::Ready]))
        .await
        .unwrap();
    assert_eq!(ready.total, 2);
    let not_draft = c
        .product()
        .list()
        .filter(product::filter::status().not_equals(ProductStatus::Draft))
        .await
        .unwrap();
    assert_eq!(not_draft.total, 2);
    // `teamsNames` reads as the names by id (PHP's `[]` when empty is read as empty too).
    let team_id = team_id.unwrap();
    let p = c
        .product()
        .read(ready.list[0].id.as_deref().unwrap())
        .await
        .unwrap();
    let names = p.teams_names.unwrap_or_default();
    assert_eq!(names.get(&team_id), Some("Sales"), "{names:?}");
    sim.shutdown().await;
}
