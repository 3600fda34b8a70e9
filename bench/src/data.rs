//! The benchmarks' data, made deterministically: product records (served), the upload source
//! file, and the ids of upserted items.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use md5::Digest as _;
use serde_json::json;

/// `make-file` arguments.
#[derive(Args)]
pub(crate) struct MakeFileArgs {
    /// Where to write the file.
    #[arg(long)]
    path: PathBuf,
    /// Size in bytes.
    #[arg(long)]
    bytes: u64,
}

/// Writes `bytes` pseudo-random bytes (incompressible, the same on every run) and prints
/// `{"size": …, "md5": "…"}`.
pub(crate) fn make_file(args: &MakeFileArgs) -> Result<(), String> {
    let file = std::fs::File::create(&args.path)
        .map_err(|e| format!("cannot create {}: {e}", args.path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut hash = md5::Md5::new();
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut left = args.bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        for word in block[..n].chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bytes = x.to_le_bytes();
            word.copy_from_slice(&bytes[..word.len()]);
        }
        hash.update(&block[..n]);
        out.write_all(&block[..n])
            .map_err(|e| format!("cannot write {}: {e}", args.path.display()))?;
        left -= n as u64;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", args.path.display()))?;
    println!(
        "{}",
        json!({ "size": args.bytes, "md5": format!("{:x}", hash.finalize()) })
    );
    Ok(())
}

/// The id of the `k`-th product: unique (a bijection of `k`), in an order unrelated to `k` as
/// AtroCore's ids are.
pub(crate) fn product_id(k: u64) -> String {
    format!("p{:016x}", (k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// When the `k`-th product was last modified, in Unix seconds: most records one a second, and
/// one in ten in ten bulk writes of a thousand records sharing a second (a bulk upsert's tie
/// groups), so a change feed meets both.
pub(crate) fn product_modified(k: u64) -> i64 {
    const BASE: i64 = 1_767_225_600; // 2026-01-01 00:00:00 UTC
    if k.is_multiple_of(10) {
        BASE + 10_007 * ((k / 10) % 10) as i64
    } else {
        BASE + k as i64
    }
}

/// The `k`-th product as a 2.2 instance answers it in a list: every field, nulls included.
pub(crate) fn product_record(k: u64) -> serde_json::Value {
    let statuses = ["draft", "prepared", "reviewed", "notReady", "ready"];
    json!({
        "id": product_id(k),
        "name": format!("Product {k:06}"),
        "nameDeDe": format!("Produkt {k:06}"),
        "nameFrFr": format!("Produit {k:06}"),
        "description": "A product served by the benchmark server, with a sentence of text.",
        "descriptionDeDe": null,
        "descriptionFrFr": null,
        "longDescription": null,
        "longDescriptionDeDe": null,
        "longDescriptionFrFr": null,
        "deleted": false,
        "createdAt": "2026-01-01 10:00:00",
        "modifiedAt": atrocore_client::runtime::DateTime::from_unix_seconds(product_modified(k)).to_string(),
        "createdById": "1",
        "createdByName": "Admin",
        "modifiedById": "1",
        "modifiedByName": "Admin",
        "sortOrder": k,
        "number": format!("P-{k:07}"),
        "price": (k % 1000) as f64 + 0.99,
        "isActive": !k.is_multiple_of(3),
        "quantity": (k % 50) as f64,
        "productGroupId": null,
        "productGroupName": null,
        "customsNumber": null,
        "mpn": format!("MPN{k}"),
        "brandId": format!("b{:04}", k % 100),
        "brandName": format!("Brand {}", k % 100),
        "status": statuses[(k % 5) as usize],
        "ean": format!("{:013}", 4_006_381_000_000u64 + k),
        "rrp": (k % 1000) as f64 + 5.0,
        "tag": ["new", "sale"],
        "data": null,
        "teamsIds": [],
        "teamsNames": {},
        "ownerUserId": "1",
        "ownerUserName": "Admin",
        "assignedUserId": "1",
        "assignedUserName": "Admin",
        "isRoot": true,
        "hasChildren": false,
        "inheritedFields": [],
        "priceUnitId": "eur",
        "priceUnitName": "EUR",
        "classificationsIds": [],
        "classificationsNames": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_distinct() {
        let mut ids: Vec<String> = (0..10_000).map(product_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn records_decode_as_the_generated_product() {
        let p: atrocore_client::product::Product =
            serde_json::from_value(product_record(7)).unwrap();
        assert_eq!(p.id.as_deref(), Some(product_id(7).as_str()));
        assert_eq!(p.number.as_deref(), Some("P-0000007"));
        assert!(p.created_at.is_some());
    }
}
