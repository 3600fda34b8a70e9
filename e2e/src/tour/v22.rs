//! The tour on a 2.2 instance (`/api/v1`), through the crate generated from the bundled default
//! spec (`atrocore-client`).

use atrocore_client::Client;
use atrocore_client::brand::BrandField;
use atrocore_client::product::{self, ProductField, ProductPatch, ProductPost};
use atrocore_client::runtime::prelude::*;
use atrocore_client::runtime::{AttrValue, AttributeValue, ErrorKind, Lookup};

use super::{Config, Report, failed_indexes};

/// Runs every task of the tour against `client`; `config.instance_url` is used once more to show
/// what a wrong password gives.
pub async fn run(client: &Client, config: &Config) -> Result<Report> {
    // Log in now rather than on first use: wrong credentials fail here.
    client.login().await?;

    // Active products whose name contains a word: three fields, sorted by name.
    let page = client
        .product()
        .list()
        .filter(
            product::filter::is_active().is_true()
                & product::filter::name().like(format!("%{}%", config.word)),
        )
        .select([ProductField::Id, ProductField::Name, ProductField::Number])
        .sort_by(ProductField::Name)
        .await?;
    let matching: Vec<String> = page.list.into_iter().filter_map(|p| p.name).collect();

    // Every product, page by page on the id (nothing skipped while others are created).
    let streamed = client
        .product()
        .list()
        .max_size(200)
        .keyset_stream()
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await?;

    // A product with its brand linked by code: the server finds the brand by these values or
    // creates it from them (so they include the brand's required name).
    let brand = Lookup::new()
        .by(BrandField::Code, config.brand_code.as_str())
        .by(BrandField::Name, config.brand_name.as_str());
    let created = client
        .product()
        .create(&ProductPost {
            brand: Some(LinkOne::find(brand)),
            ean: Some("4006381333931".into()),
            ..ProductPost::new("Tour chair", "TOUR-1")
        })
        .await?;
    // AtroCore answers a create with the record, id included
    // (`app/Atro/Core/Controllers/AbstractRecordController.php::actionCreate`).
    let product_id = created
        .id
        .clone()
        .expect("a created record comes back with its id");

    // Set one field, clear another; fields left out stay as they are.
    let updated = client
        .product()
        .update(
            &product_id,
            &ProductPatch {
                price: Patch::Set(129.5),
                ean: Patch::Null,
                ..ProductPatch::default()
            },
        )
        .await?;

    // Bulk upsert; the report says, by index, which items failed and why.
    let items: Vec<ProductPost> = (0..config.upsert_items)
        .map(|i| {
            // Every 1000th item lacks its required name: the server refuses it, alone.
            let name = if i % 1000 == 999 {
                String::new()
            } else {
                format!("Bulk {i:05}")
            };
            ProductPost::new(name, format!("BULK-{i:05}"))
        })
        .collect();
    let upsert = client
        .product()
        .upsert(&items)
        .batch_size(500)
        .concurrency(4)
        .await?;
    let failed = failed_indexes(&upsert);

    // A large file from disk, in chunks with progress, attached to the product.
    let progress = config.progress.clone();
    let file = client
        .file()
        .upload_path(&config.upload_path)
        .chunk_size(config.chunk_size)
        .parallel_chunks(4)
        .on_name_conflict(NameConflict::Rename)
        .on_progress(move |p| progress(p.bytes_done, p.total_bytes))
        .await?;
    client.product().files(&product_id).add(&[&file.id]).await?;
    let attached = client.product().files(&product_id).await?.total;

    // Attributes: set the measured one with its unit, then read them all back typed.
    client
        .product()
        .attributes(&product_id)
        .upsert(&[
            AttributeValue::new(config.attribute_id.as_str(), 2.5).unit(config.unit_id.as_str())
        ])
        .await?;
    let attributes = client.product().attributes(&product_id).list().await?;
    let weight = attributes
        .iter()
        .find(|a| a.attribute_id == config.attribute_id)
        .map(|a| {
            (
                a.value.as_ref().and_then(AttrValue::as_f64),
                a.value_unit_id.clone(),
            )
        });

    // A missing record is not an authentication failure.
    let missing = client.product().read("no-such-product").await.unwrap_err();
    let intruder = Client::builder(&config.instance_url)
        .basic_auth("admin", "wrong password")
        .build()?;
    let refused = intruder.product().list().await.unwrap_err();

    Ok(Report {
        matching,
        streamed,
        product_id: product_id.into_string(),
        brand_id: created.brand_id.map(String::from),
        price: updated.price,
        ean_cleared: updated.ean.is_none(),
        upsert_ok: upsert.count(UpsertStatus::Created) + upsert.count(UpsertStatus::Updated),
        upsert_failed: failed,
        file_id: file.id.into_string(),
        file_size: file.record.file_size,
        attached,
        weight,
        not_found: missing.kind() == ErrorKind::NotFound,
        unauthorized: refused.kind() == ErrorKind::Auth,
    })
}
