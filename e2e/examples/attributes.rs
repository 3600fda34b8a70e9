//! Attribute values of a product: add, upsert with units and per-language values, list, remove.
//!
//! `cargo run -p atrocore-e2e --example attributes`

#[path = "support/mod.rs"]
mod support;

use atrocore_client::product::{Product, ProductPost};
use atrocore_runtime::{AttributeValue, Method};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = support::connect().await?;
    let post = |path: &'static str, body: Value| {
        let client = client.clone();
        async move {
            let v: Value = client
                .request(Method::POST, path)
                .json(&body)
                .send_json()
                .await?;
            Ok::<_, atrocore_runtime::Error>(v["id"].as_str().unwrap_or_default().to_owned())
        }
    };
    let product: Value = client
        .request(Method::POST, "/Product")
        .json(&ProductPost {
            status: Some("draft".into()),
            ..ProductPost::new("Kitchen scale", format!("KS-{}", std::process::id()))
        })
        .send_json()
        .await?;
    let product_id = product["id"].as_str().unwrap_or_default().to_owned();
    let measure = post("/Measure", json!({ "name": "Weight", "code": "ex-weight" })).await?;
    let kg = post(
        "/Unit",
        json!({ "name": "kg", "code": "ex-kg", "measureId": measure, "multiplier": 1 }),
    )
    .await?;
    let attribute = |code: &str, kind: &str| {
        json!({ "name": code, "code": code, "type": kind, "entityId": "Product",
                "attributePanelId": "main" })
    };
    let weight = post("/Attribute", attribute("ex-weight", "float")).await?;
    let colour = post("/Attribute", attribute("ex-colour", "varchar")).await?;

    let attrs = client.attributes::<Product>(&product_id);
    attrs.add([weight.clone(), colour.clone()]).await?;
    attrs
        .upsert(&[
            AttributeValue::new(weight.clone(), 1.25).unit(kg),
            AttributeValue::new(colour.clone(), "white").localized("valueDeDe", "weiß"),
        ])
        .await?;
    for v in attrs.list().await? {
        println!(
            "{} ({:?}): {:?} {:?}",
            v.name.as_deref().unwrap_or(&v.attribute_id),
            v.kind,
            v.value,
            v.value_unit_name
        );
    }
    let removed = attrs.remove([colour]).await?;
    println!(
        "removed: {:?}; left: {}",
        removed.count,
        attrs.list().await?.len()
    );
    Ok(())
}
