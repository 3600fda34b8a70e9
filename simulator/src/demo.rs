//! Demo data: brands, categories, files and a few hundred products, for entities the spec has.

use serde_json::{Map, Value, json};

use crate::SimUser;
use crate::http::auth::Caller;
use crate::model::{Entity, Kind};
use crate::services::records::create_record;
use crate::state::{App, Ctx};
use crate::store::{Record, StoreError};

fn fill_required(e: &Entity, body: &mut Map<String, Value>, i: usize) {
    for r in &e.required {
        if body.contains_key(r) {
            continue;
        }
        let Some(f) = e.field(r) else { continue };
        let v = match (f.kind, e.enum_options.get(r)) {
            (Kind::Str, Some(opts)) => json!(opts[0]),
            (Kind::Str, None) => json!(format!("{}-{i}", r)),
            (Kind::Int, _) => json!(1),
            (Kind::Float, _) => json!(1.0),
            (Kind::Bool, _) => json!(true),
            (Kind::Json, _) => json!([]),
        };
        body.insert(r.clone(), v);
    }
}

fn make(ctx: &Ctx, name: &str, i: usize, mut body: Map<String, Value>) -> Option<String> {
    let e = ctx.app.model.entity(name)?;
    body.retain(|k, _| e.field(k).is_some());
    fill_required(e, &mut body, i);
    create_record(ctx, e, body, Record::new(), false).ok()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Seeds demo records unless the database already holds products.
pub fn seed(app: &App) -> Result<(), StoreError> {
    let store = app.store();
    if let Some(p) = app.model.entity("Product")
        && store.count(p, "1", Vec::new())? > 0
    {
        return Ok(());
    }
    let caller = Caller {
        user: SimUser::admin("admin", "admin"),
        user_id: "1".into(),
        token: None,
        delegation: None,
    };
    let ctx = Ctx {
        app,
        store: &store,
        caller: &caller,
        with_meta: false,
        flatten: false,
        language: None,
        timezone: None,
    };
    let brands: Vec<String> = (1..=20)
        .filter_map(|i| make(&ctx, "Brand", i, obj(json!({ "name": format!("Brand {i}"), "code": format!("brand-{i}"), "isActive": true }))))
        .collect();
    let categories: Vec<String> = (1..=10)
        .filter_map(|i| make(&ctx, "Category", i, obj(json!({ "name": format!("Category {i}"), "code": format!("category-{i}"), "isActive": true }))))
        .collect();
    let files: Vec<String> = (1..=5)
        .filter_map(|i| {
            let id = make(
                &ctx,
                "File",
                i,
                obj(json!({ "name": format!("demo-{i}.txt"), "mimeType": "text/plain" })),
            )?;
            let _ = store.put_blob(&id, format!("demo file {i}\n").as_bytes());
            Some(id)
        })
        .collect();
    for i in 1..=300usize {
        let mut body = obj(json!({
            "name": format!("Product {i:03}"),
            "number": format!("P-{i:05}"),
            "sku": format!("sku-{i:05}"),
            "price": (i as f64) * 1.5,
            "quantity": (i % 17) as f64,
            "isActive": i % 3 != 0,
            "ean": format!("{:013}", 4_000_000_000_000u64 + i as u64),
        }));
        if !brands.is_empty() {
            body.insert("brandId".into(), json!(brands[i % brands.len()]));
        }
        if !categories.is_empty() {
            body.insert(
                "categoriesIds".into(),
                json!([categories[i % categories.len()]]),
            );
        }
        if !files.is_empty() && i % 10 == 0 {
            body.insert("mainImageId".into(), json!(files[i % files.len()]));
        }
        make(&ctx, "Product", i, body);
    }
    Ok(())
}
