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
        .link_products(brand_id, &[] as &[&str])
        .header("X-Trace", "1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Builder, "{err}");
    assert_eq!(sim.request_count(), before);
    sim.shutdown().await;
}
