//! Typical flows of both generated crates run as a restricted user: AtroCore refuses with a
//! message-less 403 (empty body and `X-Status-Reason`, 2.2 and 2.3 alike), so the client's error
//! names what was refused from the request: the entity (`Error::entity`, in the message) and,
//! for a filtered list, the fields the filter names (`Error::filter_fields`). Fields the role
//! hides are absent from records; fields it may not edit are dropped by the server, an update of
//! only those answering 304 (the client reads the record back, unchanged).

use std::sync::Arc;

use atrocore_runtime::{Error, Patch};
use atrocore_sim::{EntityAccess, FieldAccess, SimConfig, SimRole, SimUser, Simulator};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn config(spec: &str) -> SimConfig {
    let load =
        |p: String| Arc::new(serde_json::from_slice::<Value>(&std::fs::read(&p).unwrap()).unwrap());
    SimConfig::from_spec_value(load(format!("{ROOT}/specs/{spec}.json")))
        .metadata_value(load(format!("{ROOT}/specs/{spec}.metadata.json")))
        .users(vec![
            SimUser::admin("admin", "admin"),
            SimUser::with_role(
                "clerk",
                "clerk",
                SimRole::new()
                    .entity("Brand", EntityAccess::NONE)
                    .field("Product", "mpn", FieldAccess::HIDDEN)
                    .field("Product", "ean", FieldAccess::READ_ONLY),
            ),
        ])
}

/// A 403 whose message names `entity` and the request.
#[track_caller]
fn assert_refused(e: &Error, entity: &str, request: &str) {
    assert!(e.is_forbidden(), "{e}");
    assert_eq!(e.status(), Some(403), "{e}");
    assert_eq!(e.reason(), None, "AtroCore sends no message: {e}");
    assert_eq!(e.entity(), Some(entity), "{e}");
    let text = e.to_string();
    assert!(text.starts_with(request), "{text}");
    assert!(
        text.contains(&format!("does not allow this on `{entity}`")),
        "{text}"
    );
}

/// The same flow through either generated crate (`$c`: the crate, `$post`: a `ProductPost`
/// for name and number).
macro_rules! restricted_flow {
    ($c:ident, $spec:expr, $update:expr, $mass:expr, $linked:expr, $post:expr) => {{
        use $c::brand::BrandPost;
        use $c::product::{self, ProductPatch};
        let sim = Simulator::start(config($spec)).await.unwrap();
        let client = |user: &str| {
            $c::Client::builder(sim.base_url())
                .basic_auth(user, user)
                .build()
                .unwrap()
        };
        let (admin, clerk) = (client("admin"), client("clerk"));
        let brand = admin.brand().create(&BrandPost::new("Acme")).await.unwrap();
        let brand_id = brand.id.clone().unwrap();
        let mut post = $post;
        post.mpn = Some("M-1".into());
        post.ean = Some("111".into());
        let p = admin.product().create(&post).await.unwrap();
        let pid = p.id.clone().unwrap();

        // No right on Brand: list, read, create, update, delete, mass update, linked list.
        let e = clerk.brand().list().await.unwrap_err();
        assert_refused(&e, "Brand", "GET /Brand: 403 Forbidden");
        let e = clerk.brand().read(&brand_id).await.unwrap_err();
        assert_refused(&e, "Brand", &format!("GET /Brand/{brand_id}: 403"));
        let e = clerk
            .brand()
            .create(&BrandPost::new("B"))
            .await
            .unwrap_err();
        assert_refused(&e, "Brand", "POST /Brand: 403");
        let e = clerk.brand().delete(&brand_id).await.unwrap_err();
        assert_refused(&e, "Brand", &format!("DELETE /Brand/{brand_id}: 403"));
        let changes = $c::brand::BrandPatch {
            name: Some("X".into()),
            ..Default::default()
        };
        let e = clerk.brand().update(&brand_id, &changes).await.unwrap_err();
        assert_refused(&e, "Brand", &format!("{} /Brand/{brand_id}: 403", $update));
        let e = clerk
            .brand()
            .update_ids(&[brand_id.as_str()], &changes)
            .await
            .unwrap_err();
        // 2.3 names the entity in the body of `/entityMassUpdate`, not in the path.
        assert_refused(&e, "Brand", $mass);
        let e = clerk.brand().products(&brand_id).await.unwrap_err();
        assert_refused(&e, "Brand", $linked);

        // A hidden field is absent from what the clerk reads, and filtering on it is refused;
        // the error names the filtered field.
        let read = clerk.product().read(&pid).await.unwrap();
        assert_eq!(read.mpn, None);
        assert_eq!(read.ean.as_deref(), Some("111"));
        let listed = clerk
            .product()
            .list()
            .filter(product::filter::number().equals(post.number.clone()))
            .await
            .unwrap();
        assert_eq!(listed.total, 1);
        assert_eq!(listed.list[0].mpn, None);
        let e = clerk
            .product()
            .list()
            .filter(product::filter::mpn().equals("M-1"))
            .await
            .unwrap_err();
        assert_refused(&e, "Product", "GET /Product: 403");
        assert_eq!(e.filter_fields(), ["mpn"]);
        assert!(
            e.to_string()
                .ends_with("or does not allow reading a field the filter names (`mpn`)"),
            "{e}"
        );

        // A field the clerk may not edit is dropped: updating only it changes nothing (the
        // server's 304, read back), alongside another it is left as it was.
        let same = clerk
            .product()
            .update(
                &pid,
                &ProductPatch {
                    ean: Patch::Set("222".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(same.ean.as_deref(), Some("111"));
        let changed = clerk
            .product()
            .update(
                &pid,
                &ProductPatch {
                    ean: Patch::Set("333".into()),
                    name: Some("Renamed".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (changed.name.as_deref(), changed.ean.as_deref()),
            (Some("Renamed"), Some("111"))
        );
        let seen = admin.product().read(&pid).await.unwrap();
        assert_eq!(
            (seen.ean.as_deref(), seen.mpn.as_deref()),
            (Some("111"), Some("M-1"))
        );
    }};
}

#[tokio::test]
async fn a_restricted_user_on_2_2_gets_errors_naming_what_was_refused() {
    restricted_flow!(
        atrocore_client,
        "atrocore-2.2-pim-default",
        "PUT",
        "PUT /Brand/action/massUpdate: 403",
        "GET /Brand/",
        atrocore_client::product::ProductPost::new("Chair", "P-1")
    );
}

#[tokio::test]
async fn a_restricted_user_on_2_3_gets_errors_naming_what_was_refused() {
    restricted_flow!(
        atrocore_client_23,
        "atrocore-2.3-pim-small",
        "PATCH",
        "PATCH /entityMassUpdate: 403",
        "GET /entityRelation: 403",
        atrocore_client_23::product::ProductPost::new(
            "Chair",
            "P-1",
            atrocore_client_23::product::ProductStatus::Draft
        )
    );
}
