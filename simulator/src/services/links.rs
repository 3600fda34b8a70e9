//! Linked records: per-entity link routes (2.2) and `/entityRelation` (2.3).

use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use crate::http::request::Req;
use crate::model::{Entity, LinkKind};
use crate::services::lists::{list_params, run_list};
use crate::services::records::{fetch, ids_of, resolve_code, set_m2m};
use crate::state::Ctx;
use crate::store::{Record, ident};
use crate::util::{ApiError, now_ts, truthy};

/// The ids linked to record `id` through `link`, with the related entity.
fn linked_condition<'m>(
    ctx: &Ctx<'m>,
    e: &Entity,
    id: &str,
    link_name: &str,
) -> Result<(&'m Entity, String, Vec<SqlValue>), ApiError> {
    let rec = fetch(ctx, e, id)?;
    let link = e.link(link_name).ok_or_else(|| {
        ApiError::not_found(format!("Link '{link_name}' not found in '{}'.", e.name))
    })?;
    let te = link
        .entity
        .as_deref()
        .and_then(|t| ctx.app.model.entity(t))
        .ok_or_else(|| {
            ApiError::bad(format!(
                "Link '{link_name}' is not available in the simulator."
            ))
        })?;
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_string();
    if let Some(col) = &link.column {
        let ids: Vec<SqlValue> = match rec.get(col) {
            Some(Value::String(s)) => vec![SqlValue::Text(s.clone())],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|s| SqlValue::Text(s.into()))
                .collect(),
            _ => Vec::new(),
        };
        if ids.is_empty() {
            return Ok((te, "0".into(), Vec::new()));
        }
        let marks = vec!["?"; ids.len()].join(",");
        return Ok((te, format!("t.\"id\" IN ({marks})"), ids));
    }
    let fl = link
        .foreign
        .as_deref()
        .and_then(|f| te.link(f))
        .and_then(|l| l.column.clone().map(|c| (c, l.kind)));
    let Some(fl) = fl else {
        return Ok((
            te,
            "t.\"id\" IN (SELECT r.other_id FROM _sim_rel r WHERE r.entity = ? AND r.id = ? AND r.link = ?)".into(),
            vec![SqlValue::Text(e.name.clone()), SqlValue::Text(id), SqlValue::Text(link_name.to_string())],
        ));
    };
    let sql = match fl.1 {
        LinkKind::BelongsTo => format!("t.{} = ?", ident(&fl.0)),
        LinkKind::HasMany => format!(
            "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(t.{c}) THEN t.{c} ELSE '[]' END) j WHERE j.value = ?)",
            c = ident(&fl.0)
        ),
    };
    Ok((te, sql, vec![SqlValue::Text(id)]))
}

/// `GET /E/{id}/{link}`: the related records as `{total, list}`.
pub fn linked_list(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    link: &str,
    req: &Req,
) -> Result<Value, ApiError> {
    let (te, sql, params) = linked_condition(ctx, e, id, link)?;
    let p = list_params(ctx, te, req)?;
    run_list(ctx, te, p, Some((sql, params)), true)
}

fn relate(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    link_name: &str,
    ids: &[String],
    add: bool,
) -> Result<Value, ApiError> {
    let rec = fetch(ctx, e, id)?;
    ctx.check_write(&e.name, "edit")?;
    let link = e.link(link_name).ok_or_else(|| {
        ApiError::not_found(format!("Link '{link_name}' not found in '{}'.", e.name))
    })?;
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_string();
    let now = Value::String(now_ts());
    if let Some(col) = &link.column {
        let mut upd = Record::new();
        match link.kind {
            LinkKind::BelongsTo => {
                let v = if add {
                    ids.first()
                        .map(|s| Value::String(s.clone()))
                        .unwrap_or(Value::Null)
                } else {
                    Value::Null
                };
                upd.insert(col.clone(), v);
            }
            LinkKind::HasMany => {
                let mut cur = rec.get(col).map(ids_of).unwrap_or_default();
                if add {
                    for i in ids {
                        if !cur.contains(i) {
                            cur.push(i.clone());
                        }
                    }
                } else {
                    cur.retain(|c| !ids.contains(c));
                }
                upd.insert(col.clone(), json!(cur));
            }
        }
        upd.insert("modifiedAt".into(), now);
        ctx.store.update(e, &id, &upd)?;
        return Ok(Value::Bool(true));
    }
    let te = link.entity.as_deref().and_then(|t| ctx.app.model.entity(t));
    let fl = te.and_then(|te| {
        link.foreign
            .as_deref()
            .and_then(|f| te.link(f))
            .and_then(|l| l.column.clone().map(|c| (te, c, l.kind)))
    });
    let Some((te, col, kind)) = fl else {
        if link.entity.is_none() {
            return Err(ApiError::bad(format!(
                "Link '{link_name}' is not available in the simulator."
            )));
        }
        for other in ids {
            set_m2m(ctx, e, &id, link_name, other, add)?;
        }
        return Ok(Value::Bool(true));
    };
    for other in ids {
        let Some(orec) = ctx.store.get(te, other)? else {
            continue;
        };
        let mut upd = Record::new();
        match kind {
            LinkKind::BelongsTo => {
                upd.insert(
                    col.clone(),
                    if add {
                        Value::String(id.clone())
                    } else {
                        Value::Null
                    },
                );
            }
            LinkKind::HasMany => {
                let mut cur = orec.get(&col).map(ids_of).unwrap_or_default();
                cur.retain(|c| c != &id);
                if add {
                    cur.push(id.clone());
                }
                upd.insert(col.clone(), json!(cur));
            }
        }
        ctx.store.update(te, other, &upd)?;
    }
    Ok(Value::Bool(true))
}

/// `POST /E/{id}/{link}` with `{ids}` (or `{id}`).
pub fn link(ctx: &Ctx, e: &Entity, id: &str, link: &str, body: &Value) -> Result<Value, ApiError> {
    let ids = body
        .get("ids")
        .map(ids_of)
        .or_else(|| body.get("id").map(ids_of))
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::bad("No 'ids' given."));
    }
    relate(ctx, e, id, link, &ids, true)
}

/// `DELETE /E/{id}/{link}?ids=a,b`.
pub fn unlink(ctx: &Ctx, e: &Entity, id: &str, link: &str, req: &Req) -> Result<Value, ApiError> {
    let ids = match req.param_value("ids") {
        Some(v) => ids_of(&v.to_json()),
        None => req.json()?.get("ids").map(ids_of).unwrap_or_default(),
    };
    if ids.is_empty() {
        return Err(ApiError::bad("No 'ids' given."));
    }
    relate(ctx, e, id, link, &ids, false)
}

fn relation_target<'m>(ctx: &Ctx<'m>, entity: Option<&str>) -> Result<&'m Entity, ApiError> {
    let name = entity.unwrap_or_default();
    ctx.app
        .model
        .entity(name)
        .ok_or_else(|| ApiError::not_found(format!("Entity '{name}' not found.")))
}

/// 2.3 `GET /entityRelation?entityName=&id=&link=` (`Atro\Handlers\Global\
/// EntityRelationListHandler`): the linked records, with the usual list parameters. `id` may be
/// the record's code (`resolveIdByCode`, `EntityRelationListHandler.php` line 172).
pub fn relation_list(ctx: &Ctx, req: &Req) -> Result<Value, ApiError> {
    let e = relation_target(ctx, req.param("entityName"))?;
    let (id, link) = (
        req.param("id").unwrap_or_default(),
        req.param("link").unwrap_or_default(),
    );
    if id.is_empty() || link.is_empty() {
        return Err(ApiError::not_found("Not Found"));
    }
    linked_list(ctx, e, &resolve_code(ctx, e, id)?, link, req)
}

/// 2.3 `POST /entityRelation` with `{entityName, id, link, ids | id}`: links records; `true`.
pub fn relation_link(ctx: &Ctx, body: &Value) -> Result<Value, ApiError> {
    let e = relation_target(ctx, body.get("entityName").and_then(Value::as_str))?;
    let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
    let link_name = body.get("link").and_then(Value::as_str).unwrap_or_default();
    let ids = body.get("ids").map(ids_of).unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::bad("No 'ids' given."));
    }
    relate(ctx, e, id, link_name, &ids, true)
}

/// 2.3 `DELETE /entityRelation?entityName=&id=&link=&ids=a,b` (or `all=true`, or `ids`/`id` in
/// a JSON body): unlinks records; `true`.
pub fn relation_unlink(ctx: &Ctx, req: &Req) -> Result<Value, ApiError> {
    let e = relation_target(ctx, req.param("entityName"))?;
    let id = req.param("id").unwrap_or_default();
    let link_name = req.param("link").unwrap_or_default();
    let ids = if truthy(req.param("all")) {
        let (te, sql, params) = linked_condition(ctx, e, id, link_name)?;
        ctx.store
            .select(te, &sql, params, "t.rowid", None, 0)?
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    } else if let Some(v) = req.param_value("ids") {
        ids_of(&v.to_json())
    } else {
        let body = req.json()?;
        let mut ids = body.get("ids").map(ids_of).unwrap_or_default();
        ids.extend(body.get("id").map(ids_of).unwrap_or_default());
        ids
    };
    if ids.is_empty() {
        if truthy(req.param("all")) {
            return Ok(Value::Bool(true));
        }
        return Err(ApiError::bad("No 'ids' given."));
    }
    relate(ctx, e, id, link_name, &ids, false)
}
