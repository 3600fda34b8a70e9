//! Records: create, read, update, delete, find-or-create links, the checks of a write (required,
//! unique, link ids, file names). Lists are in `lists`, the output shape in `output`.

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value, json};

use crate::model::{Entity, Generation, Kind, LinkKind};
use crate::roles::Action;
use crate::services::attributes::{self};
use crate::services::file_output;
use crate::services::output::{Shape, audit_entry, output};
use crate::state::Ctx;
use crate::store::{Record, ident, to_sql};
use crate::util::{ApiError, new_id};

const SYSTEM_FIELDS: &[&str] = &[
    "deleted",
    "createdAt",
    "modifiedAt",
    "createdById",
    "modifiedById",
];

fn ucfirst(field: &str) -> String {
    let mut c = field.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A field's label in messages. The server uses the translated label; without translations the
/// simulator capitalises the name, and names a language field like the guide does
/// (`nameDeDe` → `Name / de_DE`).
pub(crate) fn label(e: &Entity, field: &str) -> String {
    if field.len() > 4 && field.is_char_boundary(field.len() - 4) {
        let (base, suffix) = field.split_at(field.len() - 4);
        let b = suffix.as_bytes();
        if b[0].is_ascii_uppercase()
            && b[1].is_ascii_lowercase()
            && b[2].is_ascii_uppercase()
            && b[3].is_ascii_lowercase()
            && e.field(base).is_some()
        {
            return format!(
                "{} / {}_{}",
                ucfirst(base),
                suffix[..2].to_ascii_lowercase(),
                suffix[2..].to_ascii_uppercase()
            );
        }
    }
    ucfirst(field)
}

/// A unique-constraint violation as the server reports it: `Espo\Services\Record::storeEntity`
/// catches the database's `UniqueConstraintViolationException` and throws `NotUnique`, which is
/// HTTP 400 (`app/Atro/Core/Exceptions/NotUnique.php`), not 409, with the message
/// `exceptions.notUniqueValue` (`app/Atro/Resources/i18n/en_US/Global.json`) followed by the
/// database error as hidden HTML details. 409 (`Conflict`) is only for edit conflicts and the
/// duplicate check, which AtroCore's base `getDuplicateWhereClause` disables.
fn not_unique(e: &Entity, field: &str, value: &Value) -> ApiError {
    let value = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let table = camel_to_snake(&e.name);
    let key = if field == "id" {
        "PRIMARY".to_string()
    } else {
        format!("IDX_{}_UNIQUE_{}", table, camel_to_snake(field)).to_ascii_uppercase()
    };
    ApiError::bad(format!(
        "The record cannot be created/updated due to database constraints. <a href=\"javascript:\" class=\"show-hidden\">Details</a><textarea class=\"hidden\">SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry '{value}' for key '{table}.{key}'</textarea>"
    ))
}

fn camel_to_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Converts an input value to the field's storage kind, as PHP/AtroCore would accept it.
pub fn coerce(kind: Kind, name: &str, v: &Value) -> Result<Value, ApiError> {
    let bad = || ApiError::bad(format!("Field '{name}' has an invalid value."));
    Ok(match (kind, v) {
        (_, Value::Null) | (Kind::Json, _) => v.clone(),
        (Kind::Str, Value::String(_)) => v.clone(),
        (Kind::Str, Value::Number(n)) => Value::String(n.to_string()),
        (Kind::Str, Value::Bool(b)) => Value::String(if *b { "1".into() } else { String::new() }),
        (Kind::Int, Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => Value::from(n.as_f64().map(|f| f.trunc() as i64).ok_or_else(bad)?),
        },
        (Kind::Int, Value::String(s)) => Value::from(s.trim().parse::<i64>().map_err(|_| bad())?),
        (Kind::Int, Value::Bool(b)) => Value::from(i64::from(*b)),
        (Kind::Float, Value::Number(_)) => v.clone(),
        (Kind::Float, Value::String(s)) => {
            let f = s.trim().parse::<f64>().map_err(|_| bad())?;
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(bad)?
        }
        (Kind::Bool, Value::Bool(_)) => v.clone(),
        (Kind::Bool, Value::Number(n)) => Value::Bool(n.as_f64() != Some(0.0)),
        (Kind::Bool, Value::String(s)) => match s.as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" | "" => Value::Bool(false),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    })
}

pub(crate) fn body_object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::bad("Request body must be a JSON object.")),
    }
}

/// Replaces link objects (`"brand": {"name": "Apple"}`) by ids, finding or creating the records.
fn resolve_links(
    ctx: &Ctx,
    e: &Entity,
    body: &mut Map<String, Value>,
) -> Result<Pending, ApiError> {
    let mut pending = Pending::new();
    let keys: Vec<String> = body.keys().cloned().collect();
    for k in keys {
        // `xIds` of a many-to-many link without a column: relate after saving.
        if let Some(base) = k.strip_suffix("Ids")
            && e.field(&k).is_none()
            && let Some(l) = e
                .link(base)
                .filter(|l| l.column.is_none() && l.kind == LinkKind::HasMany)
        {
            pending.push((l.name.clone(), ids_of(&body[&k])));
            continue;
        }
        let v = body[&k].clone();
        if let Some(list_id) = e.enum_lists.get(&k) {
            let resolved = match &v {
                Value::Object(o) => Value::String(find_or_create_option(ctx, list_id, &k, o)?),
                Value::Array(items) if items.iter().any(Value::is_object) => Value::Array(
                    items
                        .iter()
                        .map(|i| match i {
                            Value::Object(o) => {
                                find_or_create_option(ctx, list_id, &k, o).map(Value::String)
                            }
                            other => Ok(other.clone()),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => continue,
            };
            body.insert(k, resolved);
            continue;
        }
        let Some(link) = e.link(&k) else { continue };
        if link.column.is_none()
            && link.kind == LinkKind::HasMany
            && let Value::Array(items) = &v
            && let Some(te) = link.entity.as_deref().and_then(|t| ctx.app.model.entity(t))
        {
            let mut ids = Vec::new();
            for item in items {
                match item {
                    Value::Object(o) => ids.push(find_or_create(ctx, te, &k, o, None)?),
                    Value::String(s) => ids.push(s.clone()),
                    _ => return Err(ApiError::bad(format!("Invalid item in link '{k}'."))),
                }
            }
            body.remove(&k);
            pending.push((k.clone(), ids));
            continue;
        }
        let (Some(col), Some(target)) = (link.column.clone(), link.entity.clone()) else {
            if v.is_object() {
                return Err(ApiError::bad(format!(
                    "Link '{k}' cannot be resolved from an object."
                )));
            }
            continue;
        };
        let Some(te) = ctx.app.model.entity(&target) else {
            continue;
        };
        match (link.kind, &v) {
            (LinkKind::BelongsTo, Value::Object(o)) => {
                let id = find_or_create(ctx, te, &k, o, None)?;
                body.remove(&k);
                body.insert(col, Value::String(id));
            }
            (LinkKind::HasMany, Value::Array(items)) if items.iter().any(Value::is_object) => {
                let mut ids = Vec::new();
                for item in items {
                    match item {
                        Value::Object(o) => {
                            ids.push(Value::String(find_or_create(ctx, te, &k, o, None)?))
                        }
                        Value::String(s) => ids.push(Value::String(s.clone())),
                        _ => return Err(ApiError::bad(format!("Invalid item in link '{k}'."))),
                    }
                }
                body.remove(&k);
                body.insert(col, Value::Array(ids));
            }
            _ => {}
        }
    }
    Ok(pending)
}

/// Link targets whose records a fresh instance ships (the admin user `1`, teams, measures such
/// as `currency`, attribute panels, entity definitions, the option lists its metadata names in
/// `extensibleEnumId`) but the simulator does not seed; ids of these are not checked.
const SHIPPED_TARGETS: [&str; 6] = [
    "User",
    "Team",
    "Measure",
    "AttributePanel",
    "Entity",
    "ExtensibleEnum",
];

/// A create or update that links a record by id needs that record to exist (and not be
/// deleted): 400 naming the field and the id otherwise.
///
/// This follows the REST guide ("Standard Behavior (Using ID)": "The related record must
/// already exist. If the ID does not exist — the request fails."); the core source has no
/// generic check (`app/Atro/Core/ORM/Repositories/RDB.php` validates types only), only
/// entity-specific ones such as `app/Atro/Repositories/Attribute.php` ("Attribute panel '<id>'
/// does not exist.", 400). Find-or-create objects are resolved before this and always exist.
fn check_link_ids(
    ctx: &Ctx,
    e: &Entity,
    body: &Map<String, Value>,
    pending: &Pending,
) -> Result<(), ApiError> {
    let given = e.links.values().filter_map(|l| {
        let col = l.column.as_deref()?;
        Some((
            col.to_string(),
            l.entity.as_deref()?,
            body.get(col).map(ids_of)?,
        ))
    });
    let related = pending.iter().filter_map(|(link, ids)| {
        let target = e.link(link)?.entity.as_deref()?;
        Some((format!("{link}Ids"), target, ids.clone()))
    });
    for (field, target, ids) in given.chain(related) {
        let Some(te) = ctx.app.model.entity(target) else {
            continue;
        };
        if SHIPPED_TARGETS.contains(&target) {
            continue;
        }
        for id in ids.iter().filter(|i| !i.is_empty()) {
            if ctx.store.get(te, id)?.is_none() {
                return Err(ApiError::bad(format!(
                    "Field '{field}': {target} '{id}' does not exist."
                )));
            }
        }
    }
    Ok(())
}

/// Many-to-many relations to set once the record is saved: link name and related ids.
type Pending = Vec<(String, Vec<String>)>;

fn apply_pending(ctx: &Ctx, e: &Entity, id: &str, pending: Pending) -> Result<bool, ApiError> {
    let mut changed = false;
    for (link, ids) in pending {
        let current = related_ids(ctx, e, id, &link)?;
        for old in current.iter().filter(|c| !ids.contains(c)) {
            set_m2m(ctx, e, id, &link, old, false)?;
            changed = true;
        }
        for new in ids.iter().filter(|i| !current.contains(i)) {
            set_m2m(ctx, e, id, &link, new, true)?;
            changed = true;
        }
    }
    Ok(changed)
}

fn related_ids(ctx: &Ctx, e: &Entity, id: &str, link: &str) -> Result<Vec<String>, ApiError> {
    let mut st = ctx
        .store
        .conn()
        .prepare("SELECT other_id FROM _sim_rel WHERE entity=? AND id=? AND link=? ORDER BY rowid")
        .map_err(crate::store::StoreError::from)?;
    let rows = st
        .query_map([e.name.as_str(), id, link], |r| r.get::<_, String>(0))
        .map_err(crate::store::StoreError::from)?;
    Ok(rows
        .collect::<Result<_, _>>()
        .map_err(crate::store::StoreError::from)?)
}

pub(crate) fn set_m2m(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    link: &str,
    other: &str,
    add: bool,
) -> Result<(), ApiError> {
    let l = e.link(link);
    let back = l.and_then(|l| Some((l.entity.clone()?, l.foreign.clone()?)));
    if add {
        ctx.store.rel_add(&e.name, id, link, other)?;
        if let Some((te, f)) = &back {
            ctx.store.rel_add(te, other, f, id)?;
        }
    } else {
        ctx.store.rel_remove(&e.name, id, link, other)?;
        if let Some((te, f)) = &back {
            ctx.store.rel_remove(te, other, f, id)?;
        }
    }
    Ok(())
}

fn find_or_create_option(
    ctx: &Ctx,
    list_id: &str,
    field: &str,
    o: &Map<String, Value>,
) -> Result<String, ApiError> {
    let te = ctx
        .app
        .model
        .entity("ExtensibleEnumOption")
        .ok_or_else(|| ApiError::bad("Entity 'ExtensibleEnumOption' is not available."))?;
    let list_col = te
        .field("extensibleEnumsIds")
        .map(|_| "extensibleEnumsIds")
        .or_else(|| te.field("extensibleEnumId").map(|_| "extensibleEnumId"));
    find_or_create(ctx, te, field, o, list_col.map(|c| (c, list_id)))
}

/// Finds a record of `te` whose fields equal `o`, or creates it. `list` restricts options to a list.
fn find_or_create(
    ctx: &Ctx,
    te: &Entity,
    link: &str,
    o: &Map<String, Value>,
    list: Option<(&str, &str)>,
) -> Result<String, ApiError> {
    if o.is_empty() {
        return Err(ApiError::bad(format!(
            "Link '{link}' needs at least one field to search by."
        )));
    }
    let mut conds = vec!["COALESCE(t.\"deleted\", 0) = 0".to_string()];
    let mut params = Vec::new();
    for (k, v) in o {
        if v.is_object() || v.is_array() {
            return Err(ApiError::bad(format!(
                "Nested linking is not supported: '{link}.{k}'. Only one level of link resolution is allowed."
            )));
        }
        let f = te.field(k).ok_or_else(|| {
            ApiError::bad(format!("Field '{k}' does not exist in '{}'.", te.name))
        })?;
        let val = coerce(f.kind, k, v)?;
        if val.is_null() {
            conds.push(format!("t.{} IS NULL", ident(k)));
        } else {
            conds.push(format!("t.{} = ?", ident(k)));
            params.push(to_sql(f.kind, &val));
        }
    }
    if let Some((col, list_id)) = list {
        if col.ends_with("Ids") {
            conds.push(format!(
                "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(t.{c}) THEN t.{c} ELSE '[]' END) j WHERE j.value = ?)",
                c = ident(col)
            ));
        } else {
            conds.push(format!("t.{} = ?", ident(col)));
        }
        params.push(SqlValue::Text(list_id.to_string()));
    }
    let found = ctx
        .store
        .select(te, &conds.join(" AND "), params, "t.rowid", Some(1), 0)?;
    if let Some(r) = found.first() {
        return Ok(r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string());
    }
    let mut body = o.clone();
    if let Some((col, list_id)) = list {
        let v = if col.ends_with("Ids") {
            json!([list_id])
        } else {
            json!(list_id)
        };
        body.insert(col.to_string(), v);
    }
    create_record(ctx, te, body, Record::new(), false)
}

fn apply_defaults(ctx: &Ctx, e: &Entity, rec: &mut Record) {
    if !ctx.app.model.metadata_given {
        return;
    }
    let Some(fields) = ctx
        .app
        .model
        .metadata
        .pointer(&format!("/entityDefs/{}/fields", e.name))
        .and_then(Value::as_object)
    else {
        return;
    };
    for f in &e.fields {
        if rec.contains_key(&f.name) || SYSTEM_FIELDS.contains(&f.name.as_str()) {
            continue;
        }
        if let Some(d) = fields.get(&f.name).and_then(|d| d.get("default"))
            && !d.is_null()
            && let Ok(v) = coerce(f.kind, &f.name, d)
        {
            rec.insert(f.name.clone(), v);
        }
    }
}

fn is_empty_value(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Required fields: `Espo\Services\Record::checkRequiredFields` throws `BadRequest` with
/// `exceptions.fieldIsRequired` = "Validation failed. '%s' is required." and the field's label
/// (`app/Atro/Resources/i18n/en_US/Global.json`).
fn check_required(e: &Entity, rec: &Record, creating: bool) -> Result<(), ApiError> {
    for r in &e.required {
        if (creating || rec.contains_key(r)) && is_empty_value(rec.get(r)) {
            return Err(ApiError::bad(format!(
                "Validation failed. '{}' is required.",
                label(e, r)
            )));
        }
    }
    Ok(())
}

fn check_unique(ctx: &Ctx, e: &Entity, rec: &Record, self_id: &str) -> Result<(), ApiError> {
    for u in &e.unique {
        let Some(v) = rec.get(u).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(f) = e.field(u) else { continue };
        let n = ctx.store.count(
            e,
            &format!(
                "t.{} = ? AND t.\"id\" <> ? AND COALESCE(t.\"deleted\", 0) = 0",
                ident(u)
            ),
            vec![to_sql(f.kind, v), SqlValue::Text(self_id.to_string())],
        )?;
        if n > 0 {
            return Err(not_unique(e, u, v));
        }
    }
    Ok(())
}

/// Removes from a create or update body what the caller's role may not edit, silently: the
/// attributes of every field with `edit: no` (`filterInput` unsets
/// `getScopeForbiddenAttributeList($entityType, 'edit')`; atrocore-legacy, last in-tree copy
/// `app/Espo/Services/Record.php` before `b33a0dffc`), and the field's own key (a find-or-create
/// link object).
pub(crate) fn drop_uneditable(ctx: &Ctx, e: &Entity, body: &mut Map<String, Value>) {
    for a in ctx.forbidden_attributes(e, false) {
        body.remove(&a);
    }
}

/// Copies the writable fields of `body` into a record, converting their types.
fn input_fields(e: &Entity, body: &Map<String, Value>, out: &mut Record) -> Result<(), ApiError> {
    for f in &e.fields {
        if f.name == "id" || f.read_only || SYSTEM_FIELDS.contains(&f.name.as_str()) {
            continue;
        }
        if let Some(v) = body.get(&f.name) {
            out.insert(f.name.clone(), coerce(f.kind, &f.name, v)?);
        }
    }
    Ok(())
}

/// Creates a record and returns its id. `overrides` are server-set fields (file size, …).
pub fn create_record(
    ctx: &Ctx,
    e: &Entity,
    mut body: Map<String, Value>,
    overrides: Record,
    resolve: bool,
) -> Result<String, ApiError> {
    // The service's own check (atrocore-legacy `Services/Record.php::createEntity`; the 2.2
    // controller and the 2.3 `CreateHandler` check the same first): `create` is yes or no.
    ctx.check_scope(&e.name, Action::Create)?;
    drop_uneditable(ctx, e, &mut body);
    // `resolve`: the body comes from a client (links are resolved and their ids checked).
    let pending = if resolve {
        let pending = resolve_links(ctx, e, &mut body)?;
        check_link_ids(ctx, e, &body, &pending)?;
        pending
    } else {
        Pending::new()
    };
    let mut rec = Record::new();
    input_fields(e, &body, &mut rec)?;
    for (k, v) in overrides {
        rec.insert(k, v);
    }
    apply_defaults(ctx, e, &mut rec);
    // `setOwnerAndAssignedUser` (atrocore-legacy `Services/Record.php`, on create and update):
    // an empty `ownerUserId` / `assignedUserId` becomes the caller, which is what makes a
    // record the caller's own for the `own` access level. (Modelled on create only.)
    for k in ["ownerUserId", "assignedUserId"] {
        if e.field(k).is_some() && rec.get(k).is_none_or(|v| v.is_null() || v == "") {
            rec.insert(k.into(), Value::String(ctx.caller.user_id.clone()));
        }
    }
    // `autoincrement` fields (`Cluster.number`, `Selection.number`) are numbered by the
    // database, whatever the input says (read-only in the spec).
    for f in e
        .fields
        .iter()
        .filter(|f| f.meta_type.as_deref() == Some("autoincrement"))
    {
        if rec.get(&f.name).is_none_or(Value::is_null) {
            let n = ctx.store.next_number(e, &f.name)?;
            rec.insert(f.name.clone(), json!(n));
        }
    }
    check_required(e, &rec, true)?;
    let id = match body.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => new_id(ctx.generation()),
    };
    if let Some(existing) = ctx.store.get_any(e, &id)? {
        if existing.get("deleted") == Some(&Value::Bool(true)) {
            ctx.store.purge(e, &id)?;
        } else {
            return Err(not_unique(e, "id", &Value::String(id)));
        }
    }
    check_unique(ctx, e, &rec, &id)?;
    if e.name == "File" {
        let pick = |k: &str| rec.get(k).and_then(Value::as_str);
        file_output::validate_item_name(
            ctx,
            e,
            pick("name").unwrap_or_default(),
            pick("folderId"),
            None,
        )?;
    }
    let now = ctx.now_ts();
    rec.insert("id".into(), Value::String(id.clone()));
    rec.insert("deleted".into(), Value::Bool(false));
    rec.insert("createdAt".into(), Value::String(now.clone()));
    rec.insert("modifiedAt".into(), Value::String(now));
    rec.insert(
        "createdById".into(),
        Value::String(ctx.caller.user_id.clone()),
    );
    rec.insert(
        "modifiedById".into(),
        Value::String(ctx.caller.user_id.clone()),
    );
    ctx.store.insert(e, &rec)?;
    if let Some(entry) = audit_entry(ctx) {
        ctx.store
            .set_audit(&e.name, &id, "createdBy", Some(&entry))?;
        ctx.store
            .set_audit(&e.name, &id, "modifiedBy", Some(&entry))?;
    }
    apply_pending(ctx, e, &id, pending)?;
    if ctx.flatten && e.has_attributes {
        attributes::apply_flat_input(ctx, e, &id, &body)?;
    }
    Ok(id)
}

/// `POST /E`: creates a record and returns it.
pub fn create(ctx: &Ctx, e: &Entity, body: Value, resolve: bool) -> Result<Value, ApiError> {
    let body = body_object(body)?;
    let id = create_record(ctx, e, body, Record::new(), resolve)?;
    read_unchecked(ctx, e, &id)
}

/// The record `id` of `e` (not deleted), or 404. Ids only: only a read resolves codes
/// ([`resolve_code`]).
pub(crate) fn fetch(ctx: &Ctx, e: &Entity, id: &str) -> Result<Record, ApiError> {
    ctx.store.get(e, id)?.ok_or_else(|| {
        ApiError::not_found(format!("Record '{}' with ID '{id}' not found.", e.name))
    })
}

/// 2.3: the id of the record whose id or code field (`isCode` in the metadata) is `id`; `id`
/// itself when there is no code field or no match, so the caller's id lookup then answers 404.
/// `app/Atro/Services/Record.php::resolveIdByCode`, called only by
/// `Core/EntityTypeHandlers/ReadHandler.php` (`GET /E/{id}`) and
/// `Handlers/Global/EntityRelationListHandler.php` (`GET /entityRelation`); 2.2 has no
/// `isCode`, and every other route takes ids only.
pub(crate) fn resolve_code(ctx: &Ctx, e: &Entity, id: &str) -> Result<String, ApiError> {
    let Some(code) = e.code_field.as_deref().and_then(|c| e.field(c)) else {
        return Ok(id.to_string());
    };
    // Reads by code arrived in 2.3.14 (`2.3.14-rc2`; absent from 2.3.13).
    if ctx.generation() != Generation::V23
        || ctx.app.version < (2, 3, 14)
        || ctx.store.get(e, id)?.is_some()
    {
        return Ok(id.to_string());
    }
    // An `int`/`autoincrement` code matches only a numeric id (PHP `is_numeric`, then `(int)`).
    let value = if matches!(code.meta_type.as_deref(), Some("int" | "autoincrement")) {
        match id.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => SqlValue::Integer(n.trunc() as i64),
            _ => return Ok(id.to_string()),
        }
    } else {
        SqlValue::Text(id.to_string())
    };
    let rows = ctx.store.select(
        e,
        &format!(
            "t.{} = ? AND COALESCE(t.\"deleted\", 0) = 0",
            ident(&code.name)
        ),
        vec![value],
        "t.rowid",
        Some(1),
        0,
    )?;
    Ok(rows
        .first()
        .and_then(|r| r.get("id").and_then(Value::as_str))
        .unwrap_or(id)
        .to_string())
}

/// `GET /E/{id}`: 404 for an unknown id, then the record-level `read` check (403, empty body:
/// atrocore-legacy `Services/Record.php::getEntity`, called by 2.2
/// `AbstractRecordController::actionRead` and 2.3 `Core/EntityTypeHandlers/ReadHandler.php`;
/// neither checks the scope first).
pub fn read(ctx: &Ctx, e: &Entity, id: &str) -> Result<Value, ApiError> {
    let rec = fetch(ctx, e, &resolve_code(ctx, e, id)?)?;
    ctx.check_record(e, &rec, Action::Read)?;
    output_record(ctx, e, &rec)
}

/// A record as a single-record answer (no access check: what a write answers).
pub(crate) fn read_unchecked(ctx: &Ctx, e: &Entity, id: &str) -> Result<Value, ApiError> {
    let rec = fetch(ctx, e, id)?;
    output_record(ctx, e, &rec)
}

fn output_record(ctx: &Ctx, e: &Entity, rec: &Record) -> Result<Value, ApiError> {
    output(
        ctx,
        e,
        rec,
        &Shape {
            single: true,
            ..Shape::default()
        },
    )
}

/// Updates a record; returns whether anything changed.
pub(crate) fn update_record(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    mut body: Map<String, Value>,
) -> Result<(String, bool), ApiError> {
    let existing = fetch(ctx, e, id)?;
    let id = existing
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_string();
    // `updateEntity` (atrocore-legacy `Services/Record.php`): `filterInput` drops what the role
    // may not edit, then the record-level `edit` check (own/team: the caller's records only),
    // then `isEntityUpdated` (304 when nothing is left to change).
    drop_uneditable(ctx, e, &mut body);
    ctx.check_record(e, &existing, Action::Edit)?;
    let pending = resolve_links(ctx, e, &mut body)?;
    check_link_ids(ctx, e, &body, &pending)?;
    let mut attr_changed = apply_pending(ctx, e, &id, pending)?;
    if ctx.flatten && e.has_attributes {
        attr_changed |= attributes::apply_flat_input(ctx, e, &id, &body)?;
    }
    let mut rec = Record::new();
    input_fields(e, &body, &mut rec)?;
    rec.retain(|k, v| existing.get(k).is_none_or(|old| !same(old, v)));
    check_required(e, &rec, false)?;
    check_unique(ctx, e, &rec, &id)?;
    if e.name == "File" && (rec.contains_key("name") || rec.contains_key("folderId")) {
        let pick = |k: &str| {
            rec.get(k)
                .or_else(|| existing.get(k))
                .and_then(Value::as_str)
        };
        file_output::validate_item_name(
            ctx,
            e,
            pick("name").unwrap_or_default(),
            pick("folderId"),
            Some(&id),
        )?;
    }
    let changed = !rec.is_empty();
    if changed || attr_changed {
        rec.insert("modifiedAt".into(), Value::String(ctx.now_ts()));
        rec.insert(
            "modifiedById".into(),
            Value::String(ctx.caller.user_id.clone()),
        );
        ctx.store.update(e, &id, &rec)?;
        ctx.store
            .set_audit(&e.name, &id, "modifiedBy", audit_entry(ctx).as_ref())?;
    }
    Ok((id, changed || attr_changed))
}

pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `PUT`/`PATCH /E/{id}`: partial update; returns the record, or 304 when nothing changes
/// (`updateEntity` throws `NotModified` unless `isEntityUpdated`; unknown fields do not count).
///
/// The scope-level `edit` check comes first, before the record is looked up (2.2
/// `Controllers/AbstractRecordController.php::actionUpdate`, 2.3
/// `Core/EntityTypeHandlers/UpdateHandler.php`): without it even an unknown id is a 403.
pub fn update(ctx: &Ctx, e: &Entity, id: &str, body: Value) -> Result<Value, ApiError> {
    ctx.check_scope(&e.name, Action::Edit)?;
    let body = body_object(body)?;
    let (id, changed) = update_record(ctx, e, id, body)?;
    if !changed {
        return Err(ApiError::not_modified());
    }
    read_unchecked(ctx, e, &id)
}

/// `DELETE /E/{id}`: soft delete, or for good with the `permanently` header. A record already
/// in the trash is deleted for good too, answering `true` like any other: `deleteEntityPermanently`
/// (`Services/Record.php`, 2.2.31 and 2.3) catches the `NotFound` of the soft delete and goes on
/// when `markedAsDeleted` finds the row. (That path skips the record's ACL check in the source;
/// the simulator still applies the user's write permission.)
pub fn delete(ctx: &Ctx, e: &Entity, id: &str, permanently: bool) -> Result<Value, ApiError> {
    let rec = if permanently {
        ctx.store.get_any(e, id)?.ok_or_else(|| {
            ApiError::not_found(format!("Record '{}' with ID '{id}' not found.", e.name))
        })?
    } else {
        fetch(ctx, e, id)?
    };
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_string();
    // The record-level `delete` check after the look-up (atrocore-legacy
    // `Services/Record.php::deleteEntity`; no scope check in 2.2 `actionDelete` or 2.3
    // `DeleteHandler`): an unknown id is a 404 whatever the role.
    ctx.check_record(e, &rec, Action::Delete)?;
    if permanently {
        ctx.store.purge(e, &id)?;
    } else {
        let mut upd = Record::new();
        upd.insert("deleted".into(), Value::Bool(true));
        upd.insert("modifiedAt".into(), Value::String(ctx.now_ts()));
        ctx.store.update(e, &id, &upd)?;
    }
    Ok(Value::Bool(true))
}

pub(crate) fn ids_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}
