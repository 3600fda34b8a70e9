//! Attribute values of records (entities with attribute routes): the simple endpoints and the
//! flattened format (`Flatten-Attributes: true`).

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::http::request::Req;
use crate::model::{Entity, Generation};
use crate::state::Ctx;
use crate::store::Record;
use crate::util::{ApiError, json};

/// An attribute definition from the `Attribute` entity.
struct AttrDef {
    id: String,
    key: String,
    rec: Record,
}

fn attribute_entity<'m>(ctx: &Ctx<'m>) -> Result<&'m Entity, ApiError> {
    ctx.app
        .model
        .entity("Attribute")
        .ok_or_else(|| ApiError::bad("The spec has no 'Attribute' entity."))
}

/// The name of an attribute's flattened fields (`Core/AttributeFieldConverter.php::prepareFieldName`):
/// 2.2 uses the `code` when it is a valid identifier (`^[a-zA-Z][a-zA-Z0-9_]*$`, `isValidCode`),
/// else the id; 2.3 uses `systemName` (migration `V2Dot3Dot5` renamed `code` to it and filled it
/// in; the simulator falls back to the id when it is empty).
fn key_of(rec: &Record, generation: Generation) -> String {
    let text = |k: &str| rec.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let id = || text("id").unwrap_or_default().to_string();
    match generation {
        Generation::V22 => match text("code") {
            Some(code) if is_valid_code(code) => code.to_string(),
            _ => id(),
        },
        Generation::V23 => text("systemName").map_or_else(id, str::to_string),
    }
}

/// `^[a-zA-Z][a-zA-Z0-9_]*$`.
fn is_valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn attr_def(ctx: &Ctx, id: &str) -> Result<Option<AttrDef>, ApiError> {
    let ae = attribute_entity(ctx)?;
    Ok(ctx.store.get(ae, id)?.map(|rec| AttrDef {
        id: id.to_string(),
        key: key_of(&rec, ctx.generation()),
        rec,
    }))
}

/// The ids of the attributes of entity `e` that `values` name by id or by code (`systemName`),
/// as `Repositories/Attribute.php::getAttributeIdsByIdOrCode` finds them (2.3): values naming
/// no attribute of this entity are dropped silently.
pub(crate) fn ids_by_id_or_code(
    ctx: &Ctx,
    e: &Entity,
    values: &[String],
) -> Result<Vec<String>, ApiError> {
    Ok(all_attr_defs(ctx)?
        .into_iter()
        .filter(|d| {
            d.rec
                .get("entityId")
                .and_then(Value::as_str)
                .is_none_or(|entity| entity == e.name)
        })
        .filter(|d| values.iter().any(|v| *v == d.id || *v == d.key))
        .map(|d| d.id)
        .collect())
}

fn all_attr_defs(ctx: &Ctx) -> Result<Vec<AttrDef>, ApiError> {
    let ae = attribute_entity(ctx)?;
    let rows = ctx.store.select(
        ae,
        "COALESCE(t.\"deleted\", 0) = 0",
        Vec::new(),
        "t.rowid",
        None,
        0,
    )?;
    Ok(rows
        .into_iter()
        .map(|rec| AttrDef {
            id: rec
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            key: key_of(&rec, ctx.generation()),
            rec,
        })
        .collect())
}

/// The record's `edit` check of the attribute writes (they go through `updateEntity`: 2.3
/// `Core/EntityTypeHandlers/{UpsertAttributeValues,AddAttributes,DeleteAttributeValues}Handler.php`;
/// atrocore-legacy `Services/Record.php::updateEntity`).
fn check_edit(ctx: &Ctx, e: &Entity, id: &str) -> Result<(), ApiError> {
    match ctx.store.get(e, id)? {
        Some(rec) => ctx.check_record(e, &rec, crate::roles::Action::Edit),
        None => Ok(()),
    }
}

fn ensure_record(ctx: &Ctx, e: &Entity, id: &str) -> Result<(), ApiError> {
    if ctx.store.get(e, id)?.is_none() {
        return Err(ApiError::not_found(format!(
            "Record '{}' with ID '{id}' not found.",
            e.name
        )));
    }
    Ok(())
}

fn unit_name(ctx: &Ctx, unit_id: &str) -> Value {
    ctx.app
        .model
        .entity("Unit")
        .and_then(|u| ctx.store.name_of(u, unit_id))
        .unwrap_or(Value::Null)
}

fn option_name(ctx: &Ctx, option_id: &str) -> Value {
    ctx.app
        .model
        .entity("ExtensibleEnumOption")
        .and_then(|o| ctx.store.name_of(o, option_id))
        .unwrap_or(Value::Null)
}

fn ids_from(body: &Value) -> Result<Vec<String>, ApiError> {
    body.get("attributeIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .ok_or_else(|| ApiError::bad("'attributeIds' is required."))
}

/// An empty `attributeIds` is a Bad Request (2.2 `Core/Templates/Controllers/Base.php`
/// `actionAddAttributes`/`actionDeleteAttributeValues`, 2.3 `AddAttributesHandler.php`,
/// `DeleteAttributeValuesHandler.php`).
fn non_empty(ids: Vec<String>) -> Result<Vec<String>, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::bad("Bad Request"));
    }
    Ok(ids)
}

/// Dispatches `/{E}/{id}/attributeValues|addAttributes|upsertAttributeValues`.
pub fn route(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    action: &str,
    m: &Method,
    req: &Req,
) -> Result<Response, ApiError> {
    ensure_record(ctx, e, id)?;
    match (action, m) {
        ("attributeValues", &Method::GET) => Ok(json(&Value::Array(values(ctx, e, id)?))),
        ("attributeValues", &Method::DELETE) => {
            check_edit(ctx, e, id)?;
            let ids = non_empty(ids_from(&req.json()?)?)?;
            match ctx.generation() {
                // 2.2 `Core/Templates/Controllers/Base.php::actionDeleteAttributeValues` →
                // `Services/Attribute.php::removeAttributeValues`: only values on the record are
                // removed; the answer is `{count, errors}`, never 304.
                Generation::V22 => {
                    let mut count = 0;
                    for a in ids {
                        if ctx.store.delete_attr_value(&e.name, id, &a)? {
                            count += 1;
                        }
                    }
                    Ok(json(&json!({ "count": count, "errors": [] })))
                }
                // 2.3 `Core/EntityTypeHandlers/DeleteAttributeValuesHandler.php`: the ids (or
                // codes, `Repositories/Attribute.php::getAttributeIdsByIdOrCode`) go to
                // `updateEntity` as `__attributesToRemove`; its `NotModified` is not caught, so
                // removing nothing answers 304. Otherwise `true`: the server checks its answers
                // against the route's `boolean` schema (`ApiValidationMiddleware`).
                Generation::V23 => {
                    let mut removed = false;
                    for a in ids_by_id_or_code(ctx, e, &ids)? {
                        removed |= ctx.store.delete_attr_value(&e.name, id, &a)?;
                    }
                    if !removed {
                        return Err(ApiError::not_modified());
                    }
                    // Saved through `updateEntity`, so stamped (2.2 removes the values
                    // directly, `Repositories/Attribute.php::removeAttributeValue`: no stamp).
                    ctx.stamp(e, id)?;
                    Ok(json(&json!(true)))
                }
            }
        }
        ("addAttributes", &Method::POST) => {
            check_edit(ctx, e, id)?;
            let ids = non_empty(ids_from(&req.json()?)?)?;
            match ctx.generation() {
                // 2.2 `Services/Attribute.php::addAttributeValue`: ids that name no attribute are
                // skipped; an attribute already on the record is ignored (its unique-constraint
                // error is caught). The answer is `true` even when no id names an attribute: the
                // `empty($attributes)` guard tests the collection `find()` returns, an object,
                // which PHP never finds empty.
                Generation::V22 => {
                    for a in ids {
                        if attr_def(ctx, &a)?.is_some() {
                            assign(ctx, e, id, &a)?;
                        }
                    }
                    Ok(json(&Value::Bool(true)))
                }
                // 2.3 `Core/EntityTypeHandlers/AddAttributesHandler.php`: the ids go to
                // `updateEntity` as `__attributes`, resolved by id or code among the entity's
                // attributes (`Core/AttributeFieldConverter.php` →
                // `getAttributeIdsByIdOrCode`: the others are dropped); `NotModified` (nothing
                // to add) is caught, so the answer is `true` whatever the ids named.
                Generation::V23 => {
                    let mut added = false;
                    for a in ids_by_id_or_code(ctx, e, &ids)? {
                        added |= assign(ctx, e, id, &a)?;
                    }
                    // A save through `updateEntity` stamps the record (2.2 inserts the values
                    // directly, `Repositories/Attribute.php::addAttributeValue`: no stamp).
                    if added {
                        ctx.stamp(e, id)?;
                    }
                    Ok(json(&Value::Bool(true)))
                }
            }
        }
        ("upsertAttributeValues", &Method::POST) => {
            check_edit(ctx, e, id)?;
            let body = req.json()?;
            let items = body.as_array().ok_or_else(|| {
                ApiError::bad("Request body must be an array of attribute values.")
            })?;
            // An empty body is a Bad Request (2.2 `Base.php::actionUpsertAttributeValues`,
            // 2.3 `UpsertAttributeValuesHandler.php`).
            if items.is_empty() {
                return Err(ApiError::bad("Bad Request"));
            }
            let mut changed = false;
            for item in items {
                let a = item
                    .get("attributeId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::bad("'attributeId' is required."))?;
                let assigned = is_assigned(ctx, e, id, a)?;
                let old = current(ctx, e, id, a)?;
                let mut data = old.clone();
                if let Some(o) = item.as_object() {
                    for (k, v) in o.iter().filter(|(k, _)| k.starts_with("value")) {
                        data.insert(k.clone(), v.clone());
                    }
                }
                if !assigned || !same_data(&data, &old) {
                    ctx.store.put_attr_value(&e.name, id, a, &data)?;
                    changed = true;
                }
            }
            // Both generations pass the values to `updateEntity` without catching its
            // `NotModified`: values that change nothing answer 304 with an empty body (2.2
            // `Core/Templates/Controllers/Base.php::actionUpsertAttributeValues`, 2.3
            // `Core/EntityTypeHandlers/UpsertAttributeValuesHandler.php`).
            if !changed {
                return Err(ApiError::not_modified());
            }
            // `updateEntity` saves the record, so stamps it.
            ctx.stamp(e, id)?;
            Ok(json(&Value::Bool(true)))
        }
        _ => Err(ApiError::new(
            axum::http::StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
        )),
    }
}

fn current(ctx: &Ctx, e: &Entity, id: &str, attribute_id: &str) -> Result<Record, ApiError> {
    if attr_def(ctx, attribute_id)?.is_none() {
        return Err(ApiError::not_found(format!(
            "Attribute '{attribute_id}' not found."
        )));
    }
    Ok(ctx
        .store
        .attr_values(&e.name, id)?
        .into_iter()
        .find(|(a, _)| a == attribute_id)
        .map(|(_, d)| d)
        .unwrap_or_else(|| {
            let mut m = Map::new();
            m.insert("value".into(), Value::Null);
            m
        }))
}

/// Equal attribute data, numbers compared by value (`150` and `150.0` are the same).
fn same_data(a: &Record, b: &Record) -> bool {
    let num = |v: &Value| v.as_f64();
    a.len() == b.len()
        && a.iter().all(|(k, x)| {
            b.get(k).is_some_and(|y| match (num(x), num(y)) {
                (Some(x), Some(y)) => x == y,
                _ => x == y,
            })
        })
}

fn is_assigned(ctx: &Ctx, e: &Entity, id: &str, attribute_id: &str) -> Result<bool, ApiError> {
    Ok(ctx
        .store
        .attr_values(&e.name, id)?
        .iter()
        .any(|(a, _)| a == attribute_id))
}

fn assign(ctx: &Ctx, e: &Entity, id: &str, attribute_id: &str) -> Result<bool, ApiError> {
    if is_assigned(ctx, e, id, attribute_id)? {
        return Ok(false);
    }
    let data = current(ctx, e, id, attribute_id)?;
    ctx.store.put_attr_value(&e.name, id, attribute_id, &data)?;
    Ok(true)
}

/// The attribute values of a record, as `GET …/attributeValues` returns them.
pub fn values(ctx: &Ctx, e: &Entity, id: &str) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for (a, data) in ctx.store.attr_values(&e.name, id)? {
        let def = attr_def(ctx, &a)?;
        let rec = def.as_ref().map(|d| &d.rec);
        let get = |k: &str| rec.and_then(|r| r.get(k)).cloned().unwrap_or(Value::Null);
        let mut v = json!({
            "attributeId": a,
            "name": get("name"),
            "type": get("type"),
            "required": get("isRequired").as_bool().unwrap_or(false),
            "visible": true,
            "readOnly": get("isReadOnly").as_bool().unwrap_or(false),
            "protected": get("isProtected").as_bool().unwrap_or(false),
            "value": Value::Null,
        });
        for (k, val) in &data {
            v[k] = val.clone();
        }
        if let Some(u) = data.get("valueUnitId").and_then(Value::as_str) {
            v["valueUnitName"] = unit_name(ctx, u);
        }
        out.push(v);
    }
    Ok(out)
}

/// Adds flattened attribute fields and `attributesDefs` to an output record; returns the keys added.
pub fn flatten_into(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    out: &mut Map<String, Value>,
    sel: &AttrSel,
    full_defs: bool,
) -> Result<BTreeSet<String>, ApiError> {
    let mut keys = BTreeSet::new();
    if matches!(sel, AttrSel::None) || ctx.app.model.entity("Attribute").is_none() {
        return Ok(keys);
    }
    let mut defs = Map::new();
    for (a, data) in ctx.store.attr_values(&e.name, id)? {
        if let AttrSel::Some(ids) = sel
            && !ids.contains(&a)
        {
            continue;
        }
        let Some(def) = attr_def(ctx, &a)? else {
            continue;
        };
        let key = def.key.clone();
        out.insert(
            key.clone(),
            data.get("value").cloned().unwrap_or(Value::Null),
        );
        keys.insert(key.clone());
        for (suffix, field) in [
            ("UnitId", "valueUnitId"),
            ("From", "valueFrom"),
            ("To", "valueTo"),
            ("Id", "valueId"),
            ("Ids", "valueIds"),
        ] {
            if let Some(v) = data.get(field) {
                out.insert(format!("{key}{suffix}"), v.clone());
                keys.insert(format!("{key}{suffix}"));
            }
        }
        if let Some(u) = data.get("valueUnitId").and_then(Value::as_str) {
            out.insert(format!("{key}UnitName"), unit_name(ctx, u));
            keys.insert(format!("{key}UnitName"));
        }
        // 2.2 extensible enums: the option's name beside its id (`<key>Name`), and the names
        // of a multi-enum's options by id (`<key>Names`) (2.2.31
        // `Core/AttributeFieldTypes/ExtensibleEnumType.php::convert`,
        // `ExtensibleMultiEnumType.php::convert`).
        match (
            def.rec.get("type").and_then(Value::as_str),
            data.get("value"),
        ) {
            (Some("extensibleEnum"), Some(Value::String(option))) => {
                out.insert(format!("{key}Name"), option_name(ctx, option));
                keys.insert(format!("{key}Name"));
            }
            (Some("extensibleMultiEnum"), Some(Value::Array(options))) if !options.is_empty() => {
                let names: Map<String, Value> = options
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|o| (o.to_owned(), option_name(ctx, o)))
                    .collect();
                out.insert(format!("{key}Names"), Value::Object(names));
                keys.insert(format!("{key}Names"));
            }
            _ => {}
        }
        for (k, v) in &data {
            if let Some(lang) = k
                .strip_prefix("value")
                .filter(|l| l.len() == 4 && l.chars().all(char::is_alphabetic))
            {
                out.insert(format!("{key}{lang}"), v.clone());
                keys.insert(format!("{key}{lang}"));
            }
        }
        let mut d = json!({ "attributeId": def.id, "type": def.rec.get("type").cloned().unwrap_or(Value::Null) });
        if full_defs {
            d["label"] = def.rec.get("name").cloned().unwrap_or(Value::Null);
            if let Some(m) = def.rec.get("measureId").filter(|m| !m.is_null()) {
                d["measureId"] = m.clone();
            }
        }
        defs.insert(key, d);
    }
    out.insert("attributesDefs".into(), Value::Object(defs));
    keys.insert("attributesDefs".into());
    Ok(keys)
}

/// Applies `__attributes`, `__attributesToRemove` and flattened attribute fields of a body.
pub fn apply_flat_input(
    ctx: &Ctx,
    e: &Entity,
    id: &str,
    body: &Map<String, Value>,
) -> Result<bool, ApiError> {
    if ctx.app.model.entity("Attribute").is_none() {
        return Ok(false);
    }
    let mut changed = false;
    let list = |k: &str| -> Vec<String> {
        body.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let defs = all_attr_defs(ctx)?;
    let by_key: BTreeMap<&str, &AttrDef> = defs
        .iter()
        .flat_map(|d| [(d.key.as_str(), d), (d.id.as_str(), d)])
        .collect();
    // By id or code among the entity's attributes; what names none is dropped
    // (`Core/AttributeFieldConverter.php`, `getAttributeIdsByIdOrCode`).
    for a in ids_by_id_or_code(ctx, e, &list("__attributes"))? {
        changed |= assign(ctx, e, id, &a)?;
    }
    for a in ids_by_id_or_code(ctx, e, &list("__attributesToRemove"))? {
        changed |= ctx.store.delete_attr_value(&e.name, id, &a)?;
    }
    for (k, v) in body {
        if k.starts_with("__") || e.field(k).is_some() || e.link(k).is_some() {
            continue;
        }
        let (def, field) = if let Some(d) = by_key.get(k.as_str()) {
            (*d, "value".to_string())
        } else {
            let found = [
                ("UnitId", "valueUnitId"),
                ("From", "valueFrom"),
                ("To", "valueTo"),
            ]
            .into_iter()
            .find_map(|(suffix, field)| {
                k.strip_suffix(suffix)
                    .and_then(|b| by_key.get(b))
                    .map(|d| (*d, field.to_string()))
            })
            // `<key>DeDe`: the value in an input language of a multilingual attribute
            // (`app/Atro/Core/AttributeFieldTypes/TextType.php`, `VarcharType.php`: one
            // `<key><Lang>` field per input language).
            .or_else(|| {
                ctx.app.model.input_languages.iter().find_map(|locale| {
                    let lang: String = locale
                        .split('_')
                        .map(|p| {
                            let mut c = p.chars();
                            c.next()
                                .map(|f| {
                                    f.to_ascii_uppercase().to_string()
                                        + &c.as_str().to_ascii_lowercase()
                                })
                                .unwrap_or_default()
                        })
                        .collect();
                    k.strip_suffix(lang.as_str())
                        .and_then(|b| by_key.get(b))
                        .filter(|d| d.rec.get("isMultilang") == Some(&Value::Bool(true)))
                        .map(|d| (*d, format!("value{lang}")))
                })
            });
            match found {
                Some(x) => x,
                None => continue,
            }
        };
        let mut data = current(ctx, e, id, &def.id)?;
        if data.get(&field) != Some(v) {
            data.insert(field, v.clone());
            ctx.store.put_attr_value(&e.name, id, &def.id, &data)?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Which attributes to add to list items in the flattened format.
#[derive(Debug, Default, Clone)]
pub enum AttrSel {
    /// None (lists without `allAttributes`/`attributes`).
    #[default]
    None,
    /// All assigned attributes.
    All,
    /// Only these attribute ids.
    Some(Vec<String>),
}
