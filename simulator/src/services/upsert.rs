//! Bulk upsert (2.2 `MassActions/action/upsert`, 2.3 `/upsert`) and its queued form.

use serde_json::{Map, Value, json};

use crate::model::{Entity, Generation};
use crate::services::jobs::run_as_job;
use crate::services::records::{coerce, create_record, read_unchecked, update_record};
use crate::state::Ctx;
use crate::store::{Record, ident, to_sql};
use crate::util::ApiError;

fn upsert_lookup(
    ctx: &Ctx,
    e: &Entity,
    payload: &Map<String, Value>,
) -> Result<Option<String>, ApiError> {
    if let Some(id) = payload.get("id").and_then(Value::as_str)
        && ctx.store.get(e, id)?.is_some()
    {
        return Ok(Some(id.to_string()));
    }
    let mut conds = Vec::new();
    let mut params = Vec::new();
    let mut add = |field: &str, v: &Value| -> Result<(), ApiError> {
        let f = e
            .field(field)
            .ok_or_else(|| ApiError::bad(format!("Unknown field '{field}'.")))?;
        let v = coerce(f.kind, field, v)?;
        if v.is_null() {
            conds.push(format!("t.{} IS NULL", ident(field)));
        } else {
            conds.push(format!("t.{} = ?", ident(field)));
            params.push(to_sql(f.kind, &v));
        }
        Ok(())
    };
    if !e.unique.is_empty() {
        for u in &e.unique {
            if let Some(v) = payload.get(u).filter(|v| !v.is_null()) {
                add(u, v)?;
            }
        }
    } else if let Some(indexes) = ctx
        .app
        .model
        .metadata
        .pointer(&format!("/entityDefs/{}/uniqueIndexes", e.name))
        .and_then(Value::as_object)
    {
        for cols in indexes.values().filter_map(Value::as_array) {
            let fields: Vec<String> = cols
                .iter()
                .filter_map(Value::as_str)
                .filter(|c| *c != "deleted")
                .map(crate::model::snake_to_camel)
                .collect();
            if !fields.is_empty()
                && fields
                    .iter()
                    .all(|f| payload.contains_key(f) && e.field(f).is_some())
            {
                for f in &fields {
                    add(f, &payload[f])?;
                }
            }
        }
    }
    if conds.is_empty() {
        return Ok(None);
    }
    conds.push("COALESCE(t.\"deleted\", 0) = 0".into());
    let rows = ctx
        .store
        .select(e, &conds.join(" AND "), params, "t.rowid", Some(1), 0)?;
    Ok(rows
        .first()
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// Bulk upsert: one result per item, in input order; HTTP 200 even when items fail.
pub fn upsert(ctx: &Ctx, body: &Value) -> Result<Value, ApiError> {
    let items = body
        .as_array()
        .ok_or_else(|| ApiError::bad("Request body must be an array of {entity, payload}."))?;
    let g = ctx.generation();
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        // Items without `entity` or `payload` fail on their own, with these plain messages
        // (`app/Atro/Services/MassActions.php::upsert`); 2.3 rejects such a request as a whole
        // in its request validation (both are `required`).
        let missing = ["entity", "payload"]
            .into_iter()
            .find(|k| item.get(k).is_none_or(Value::is_null));
        if let Some(k) = missing {
            let mut failed = json!({
                "status": "Failed",
                "stored": false,
                "message": format!("'{k}' parameter is required."),
            });
            if g == Generation::V23 {
                failed["code"] = json!(400);
            }
            results.push(failed);
            continue;
        }
        let entity_name = item
            .get("entity")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let outcome = upsert_one(ctx, &entity_name, item);
        results.push(match (outcome, g) {
            (Ok((status, id)), Generation::V22) => {
                if status == "NotModified" {
                    json!({ "status": status, "stored": true })
                } else {
                    let e = ctx
                        .app
                        .model
                        .entity(&entity_name)
                        .ok_or_else(|| ApiError::bad("entity"))?;
                    json!({ "status": status, "stored": true, "entity": read_unchecked(ctx, e, &id)? })
                }
            }
            (Ok((status, id)), Generation::V23) => {
                json!({ "status": status, "stored": true, "entity": entity_name, "id": id })
            }
            // An unknown entity fails while creating its service, before the `Code: N.` wrapping
            // of create/update errors (`MassActions::upsert`).
            (Err(err), Generation::V22) if ctx.app.model.entity(&entity_name).is_none() => {
                json!({ "status": "Failed", "stored": false, "message": err.message })
            }
            (Err(err), Generation::V22) => json!({
                "status": "Failed",
                "stored": false,
                "message": format!("Code: {}. Message: {}", err.status.as_u16(), err.message),
            }),
            (Err(err), Generation::V23) => json!({
                "status": "Failed",
                "stored": false,
                "entity": entity_name,
                "message": err.message,
                "code": err.status.as_u16(),
            }),
        });
    }
    Ok(Value::Array(results))
}

fn upsert_one(
    ctx: &Ctx,
    entity_name: &str,
    item: &Value,
) -> Result<(&'static str, String), ApiError> {
    let e = ctx
        .app
        .model
        .entity(entity_name)
        .ok_or_else(|| ApiError::not_found(format!("Entity '{entity_name}' not found.")))?;
    let payload = item
        .get("payload")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| ApiError::bad("Item has no 'payload' object."))?;
    match upsert_lookup(ctx, e, &payload)? {
        Some(id) => {
            let (id, changed) = update_record(ctx, e, &id, payload)?;
            Ok((if changed { "Updated" } else { "NotModified" }, id))
        }
        None => Ok((
            "Created",
            create_record(ctx, e, payload, Record::new(), true)?,
        )),
    }
}

/// Queued bulk upsert (2.2 `Use-Queue: true`, 2.3 `POST /upsertAsync`): answers `{jobId}`.
///
/// The server stores a `Job` (name "Action Upsert", type "Upsert", the items as payload;
/// `app/Atro/Services/MassActions.php::upsertViaJob`) that its job manager runs later. The
/// simulator runs it at once, so the job is already `Success` when a client polls `GET /Job/{id}`.
pub fn upsert_via_job(ctx: &Ctx, body: &Value) -> Result<Value, ApiError> {
    if !body.is_array() {
        return Err(ApiError::bad(
            "Request body must be an array of {entity, payload}.",
        ));
    }
    // `app/Atro/Services/MassActions.php::upsertViaJob`: name "Action Upsert", type "Upsert",
    // the items as payload.
    let job_id = run_as_job(ctx, "Action Upsert", "Upsert", body, || {
        upsert(ctx, body).map(drop)
    })?;
    Ok(json!({ "jobId": job_id }))
}
