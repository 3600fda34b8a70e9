//! Linked records: per-entity link routes (2.2) and `/entityRelation` (2.3).

use axum::http::StatusCode;
use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use crate::http::request::Req;
use crate::model::{Entity, LinkKind};
use crate::query::where_sql;
use crate::roles::Action;
use crate::services::lists::{list_params, run_list, select_ids};
use crate::services::records::{fetch, ids_of, resolve_code, set_m2m};
use crate::state::Ctx;
use crate::store::{Record, ident};
use crate::util::{ApiError, php_truthy};

/// The ids linked to record `id` through `link`, with the related entity.
pub(crate) fn linked_condition<'m>(
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
    // `findLinkedEntities` (atrocore-legacy `Services/Record.php`): the record's own `read`
    // check, then the linked entity's scope `read` check, both a 403 with an empty body.
    if let Some(rec) = ctx.store.get(e, id)? {
        ctx.check_record(e, &rec, Action::Read)?;
    }
    let (te, sql, params) = linked_condition(ctx, e, id, link)?;
    ctx.check_scope(&te.name, Action::Read)?;
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
    // `linkEntity` / `unlinkEntity` (atrocore-legacy `Services/Record.php`): the record's
    // `edit` check, then, for a to-many link, each foreign record's `edit` check (403, empty
    // body). (A belongs-to link goes through `updateEntity` there, which checks the record
    // only; a one-to-many link through the foreign record's `updateEntity`.)
    let rec = fetch(ctx, e, id)?;
    ctx.check_record(e, &rec, Action::Edit)?;
    let link = e.link(link_name).ok_or_else(|| {
        ApiError::not_found(format!("Link '{link_name}' not found in '{}'.", e.name))
    })?;
    let to_many = link.kind == LinkKind::HasMany;
    if let Some(te) = link
        .entity
        .as_deref()
        .and_then(|t| ctx.app.model.entity(t))
        .filter(|_| to_many)
    {
        for fid in ids {
            if let Some(foreign) = ctx.store.get(te, fid)? {
                ctx.check_record(te, &foreign, Action::Edit)?;
            }
        }
    }
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_string();
    let now = Value::String(ctx.now_ts());
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
        // The foreign record is saved, so stamped (`RDB::relate` of a has-many link saves it:
        // atrocore-legacy, last in-tree copy `app/Espo/ORM/Repositories/RDB.php` before commit
        // `b33a0dffc`; `app/Atro/Core/ORM/Repositories/RDB.php::save` stamps `modifiedAt`).
        upd.insert("modifiedAt".into(), now.clone());
        ctx.store.update(te, other, &upd)?;
    }
    Ok(Value::Bool(true))
}

/// What AtroCore answers when a link or unlink request names no record: `throw new Error()`,
/// a 500 without a message (2.2.31 `app/Atro/Controllers/AbstractRecordController.php`
/// `actionCreateLink`/`actionRemoveLink`; 2.3 `app/Atro/Handlers/Global/
/// EntityRelationCreateHandler.php` and `EntityRelationDeleteHandler.php`).
fn nothing_to_relate() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "")
}

/// `massRelate` with `where`: links every record of the link's target that matches `where`
/// (both generations hand it to the record service's `linkEntityMass`). `where` must be a JSON
/// array (`!is_array($data->where)` is a 400); an empty one matches every record.
fn mass_relate(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    link_name: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let Some(where_ @ Value::Array(_)) = body.get("where") else {
        return Err(ApiError::bad("Bad Request"));
    };
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
    // `linkEntityMass` (atrocore-legacy): the record's `edit` check, the linked entity's scope
    // `edit` check, then the foreign service's select parameters: its `where` checked for
    // unreadable fields, its rows limited to the readable ones.
    let rec = fetch(ctx, e, id)?;
    ctx.check_record(e, &rec, Action::Edit)?;
    ctx.check_scope(&te.name, Action::Edit)?;
    ctx.check_where(te, where_)?;
    let filter = where_sql::build_where(&ctx.app.model, te, where_)?;
    let mut sql = "COALESCE(t.\"deleted\", 0) = 0".to_string();
    let mut params = Vec::new();
    if let Some((x, xp)) = ctx.read_access_sql(te) {
        sql.push_str(&format!(" AND {x}"));
        params.extend(xp);
    }
    if !filter.sql.is_empty() {
        sql.push_str(&format!(" AND {}", filter.sql));
        params.extend(filter.params);
    }
    let ids = select_ids(ctx, te, &sql, params)?;
    if ids.is_empty() {
        return Ok(Value::Bool(true));
    }
    relate(ctx, e, id, link_name, &ids, true)
}

/// The foreign ids of a link request's JSON body: `id`, then the members of `ids`.
fn body_ids(body: &Value) -> Vec<String> {
    let mut ids = body.get("id").map(ids_of).unwrap_or_default();
    if let Some(list @ Value::Array(_)) = body.get("ids") {
        ids.extend(ids_of(list));
    }
    ids
}

/// 2.2 `POST /E/{id}/{link}` with `{id}` and/or `{ids}`, or `{massRelate: true, where}`
/// (`actionCreateLink`): `true`; nothing named is a 500.
pub fn link(ctx: &Ctx, e: &Entity, id: &str, link: &str, body: &Value) -> Result<Value, ApiError> {
    if php_truthy(body.get("massRelate")) {
        return mass_relate(ctx, e, id, link, body);
    }
    let ids = body_ids(body);
    if ids.is_empty() {
        return Err(nothing_to_relate());
    }
    relate(ctx, e, id, link, &ids, true)
}

/// 2.2 `DELETE /E/{id}/{link}` (`actionRemoveLink`): the ids of the query's `ids` (comma
/// separated), else the body's `id` and `ids`; `true`; nothing named is a 500.
pub fn unlink(ctx: &Ctx, e: &Entity, id: &str, link: &str, req: &Req) -> Result<Value, ApiError> {
    let ids = match req.param("ids").filter(|s| !s.is_empty()) {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => body_ids(&req.json()?),
    };
    if ids.is_empty() {
        return Err(nothing_to_relate());
    }
    relate(ctx, e, id, link, &ids, false)
}

/// 2.2 `POST /E/action/unlinkAll` with `{id, link}` (`actionUnlinkAll`): unlinks every record
/// linked through `link`; `true`. Either key missing is a 400.
pub fn unlink_all(ctx: &Ctx, e: &Entity, body: &Value) -> Result<Value, ApiError> {
    let (Some(id), Some(link)) = (body.get("id"), body.get("link")) else {
        return Err(ApiError::bad("Bad Request"));
    };
    let (id, link) = (php_string(id), php_string(link));
    unlink_every(ctx, e, &id, &link)
}

/// PHP's `(string)` cast of a decoded JSON scalar.
fn php_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "1".into(),
        Value::Null | Value::Bool(false) => String::new(),
        other => other.to_string(),
    }
}

/// Unlinks every record linked to `id` through `link`.
fn unlink_every(ctx: &Ctx, e: &Entity, id: &str, link: &str) -> Result<Value, ApiError> {
    let (te, sql, params) = linked_condition(ctx, e, id, link)?;
    // `unlinkAll` (atrocore-legacy): the record's `edit` check, then the linked entity's scope
    // `edit` check.
    if let Some(rec) = ctx.store.get(e, id)? {
        ctx.check_record(e, &rec, Action::Edit)?;
    }
    ctx.check_scope(&te.name, Action::Edit)?;
    let ids = select_ids(ctx, te, &sql, params)?;
    if ids.is_empty() {
        return Ok(Value::Bool(true));
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

/// 2.3 `entityName`, `id` and `link` of an `/entityRelation` write, each required (400).
fn relation_keys<'v>(
    entity: Option<&'v str>,
    id: Option<&'v str>,
    link: Option<&'v str>,
) -> Result<(&'v str, &'v str, &'v str), ApiError> {
    match (entity, id, link) {
        (Some(e), Some(i), Some(l)) if !e.is_empty() && !i.is_empty() && !l.is_empty() => {
            Ok((e, i, l))
        }
        _ => Err(ApiError::bad("Bad Request")),
    }
}

/// 2.3 `POST /entityRelation` with `{entityName, id, link, ids}` or `{…, massRelate: true,
/// where}` (`app/Atro/Handlers/Global/EntityRelationCreateHandler.php`): `true`. Unlike the
/// 2.2 route, a singular `id` of the foreign record is not read (it is the record's own id
/// here), so `ids` is the only list; an empty one is a 500.
pub fn relation_link(ctx: &Ctx, body: &Value) -> Result<Value, ApiError> {
    let str_of = |k: &str| body.get(k).and_then(Value::as_str);
    let (entity, id, link_name) =
        relation_keys(str_of("entityName"), str_of("id"), str_of("link"))?;
    let e = relation_target(ctx, Some(entity))?;
    // `EntityRelationCreateHandler.php`: the scope `edit` check first.
    ctx.check_scope(&e.name, Action::Edit)?;
    if php_truthy(body.get("massRelate")) {
        return mass_relate(ctx, e, id, link_name, body);
    }
    let ids = match body.get("ids") {
        Some(list @ Value::Array(_)) => ids_of(list),
        _ => Vec::new(),
    };
    if ids.is_empty() {
        return Err(nothing_to_relate());
    }
    relate(ctx, e, id, link_name, &ids, true)
}

/// 2.3 `DELETE /entityRelation?entityName=&id=&link=` with `ids=a,b` in the query, or `id`/`ids`
/// in a JSON body, or `all=true` (`app/Atro/Handlers/Global/EntityRelationDeleteHandler.php`):
/// `true`; nothing named is a 500.
pub fn relation_unlink(ctx: &Ctx, req: &Req) -> Result<Value, ApiError> {
    let (entity, id, link_name) =
        relation_keys(req.param("entityName"), req.param("id"), req.param("link"))?;
    let e = relation_target(ctx, Some(entity))?;
    if req.param("all").is_some_and(|v| !v.is_empty() && v != "0") {
        return unlink_every(ctx, e, id, link_name);
    }
    let ids = match req.param("ids").filter(|s| !s.is_empty()) {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => body_ids(&req.json()?),
    };
    if ids.is_empty() {
        return Err(nothing_to_relate());
    }
    relate(ctx, e, id, link_name, &ids, false)
}

/// 2.2 `GET /ExtensibleEnum/action/getExtensibleEnumsOptions?extensibleEnumIds=…` (a JSON
/// array, or a PHP array): the options of each list by list id, each option `{id, code, color,
/// name, sortOrder, sorting, preparedName}` in the list's order; an unknown list has `[]`, no
/// ids is a 400 (2.2.31 `Controllers/ExtensibleEnum.php::actionGetExtensibleEnumsOptions`,
/// `Services/ExtensibleEnum.php`, `Repositories/ExtensibleEnumOption.php::getPreparedOptions`).
pub fn extensible_enums_options(ctx: &Ctx, req: &Req) -> Result<Value, ApiError> {
    use crate::query::phpqs::PhpValue;
    let ids: Vec<String> = match req.param_value("extensibleEnumIds") {
        Some(PhpValue::Str(text)) => serde_json::from_str::<Vec<Value>>(text)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(PhpValue::Arr(items)) => items
            .iter()
            .filter_map(|(_, v)| match v {
                PhpValue::Str(s) => Some(s.clone()),
                PhpValue::Arr(_) => None,
            })
            .collect(),
        None => Vec::new(),
    };
    if ids.is_empty() {
        return Err(ApiError::bad("Bad Request"));
    }
    let lists = ctx
        .app
        .model
        .entity("ExtensibleEnum")
        .ok_or_else(|| ApiError::bad("Entity 'ExtensibleEnum' is not available."))?;
    let mut out = serde_json::Map::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let mut options = Vec::new();
        if ctx.store.get(lists, &id)?.is_some() {
            let (oe, sql, params) = linked_condition(ctx, lists, &id, "extensibleEnumOptions")?;
            let rows = ctx.store.select(
                oe,
                &format!("({sql}) AND t.\"deleted\" = 0"),
                params,
                "t.\"sortOrder\", t.\"id\"",
                None,
                0,
            )?;
            for (i, o) in rows.iter().enumerate() {
                let name = o.get("name").cloned().unwrap_or(Value::Null);
                options.push(json!({
                    "id": o.get("id"), "code": o.get("code"), "color": o.get("color"),
                    "name": name, "sortOrder": o.get("sortOrder"), "sorting": i,
                    "preparedName": name,
                }));
            }
        }
        out.insert(id, Value::Array(options));
    }
    Ok(Value::Object(out))
}
