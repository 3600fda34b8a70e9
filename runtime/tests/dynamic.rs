//! Records by entity name (`Client::records`): lists, offset and keyset streams (resumed with
//! `after_id`), and the count, against the in-test server.

mod support;

use atrocore_runtime::{ApiGeneration, Condition, Where};
use futures_util::TryStreamExt;
use serde_json::Value;
use support::Server;

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn keyset_stream_resumes_after_an_id() {
    let server = Server::start().await;
    server.mock.seed_products(45);
    let client = server.client(ApiGeneration::V2_2);
    let products = client.records("Product");
    let all: Vec<Value> = products
        .list()
        .max_size(10)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = (0..45).map(|i| format!("p{i:03}")).collect();
    assert_eq!(ids(&all), expected);

    let rest: Vec<Value> = products
        .list()
        .select(["name"])
        .after_id("p019")
        .max_size(10)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&rest), expected[20..].to_vec());
    let pages = server.mock.seen_at("/Product");
    let resumed = &pages[pages.len() - 3..];
    for (i, page) in resumed.iter().enumerate() {
        assert_eq!(page.param("sortBy").as_deref(), Some("id"));
        assert_eq!(page.param("select").as_deref(), Some("id,name"));
        assert_eq!(page.param("where[0][type]").as_deref(), Some("greaterThan"));
        assert_eq!(
            page.param("where[0][value]"),
            Some(format!("p{:03}", 19 + i * 10))
        );
    }
}

#[tokio::test]
async fn filters_offset_stream_and_count() {
    let server = Server::start().await;
    server.mock.seed_products(30);
    let client = server.client(ApiGeneration::V2_3);
    let products = client.records("Product");
    let one = Where::from(
        Condition::new("equals")
            .attribute("name")
            .value("Product 17"),
    );
    let found: Vec<Value> = products
        .list()
        .filter(one.clone())
        .max_size(7)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&found), ["p017"]);
    assert_eq!(products.list().filter(one).count().await.unwrap(), Some(1));
    assert_eq!(products.list().count().await.unwrap(), Some(30));
    let paged: Vec<Value> = products
        .list()
        .offset(5)
        .max_size(7)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(paged.len(), 25);
    let page = products.list().max_size(3).await.unwrap();
    assert_eq!((page.total, page.list.len()), (30, 3));
}
