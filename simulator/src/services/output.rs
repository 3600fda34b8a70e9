//! The output shape of a record: `select`, link names, derived file fields, flattened
//! attributes, `_meta` (permissions, options, audit).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::model::{Entity, LinkKind};
use crate::roles::Action;
use crate::services::attributes::{self, AttrSel};
use crate::services::{file_output, language, timezone};
use crate::state::Ctx;
use crate::store::Record;
use crate::util::ApiError;

/// How to shape an output record.
#[derive(Debug, Default)]
pub struct Shape {
    /// Fields asked for with `select` (none = all).
    pub select: Option<Vec<String>>,
    /// A single-record answer (full attribute definitions).
    pub single: bool,
    /// Attributes for list items.
    pub attrs: AttrSel,
    /// The record is listed as linked to another (adds `unlink` permission).
    pub linked: bool,
}

/// Turns a stored record into the API's JSON shape.
pub fn output(ctx: &Ctx, e: &Entity, rec: &Record, shape: &Shape) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for f in &e.fields {
        let v = rec.get(&f.name).cloned().unwrap_or(Value::Null);
        let v = if f.name == "deleted" {
            Value::Bool(v == Value::Bool(true))
        } else {
            v
        };
        out.insert(f.name.clone(), v);
    }
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for l in e.links.values() {
        let (Some(col), Some(target)) = (&l.column, &l.entity) else {
            continue;
        };
        let Some(te) = ctx.app.model.entity(target) else {
            continue;
        };
        match l.kind {
            LinkKind::BelongsTo => {
                let key = format!("{}Name", l.name);
                if !e.properties.contains(&key) {
                    continue;
                }
                let name = match out.get(col).and_then(Value::as_str) {
                    Some(tid) => ctx.store.name_of(te, tid).unwrap_or(Value::Null),
                    None => Value::Null,
                };
                out.insert(key, name);
            }
            LinkKind::HasMany => {
                let key = format!("{}Names", l.name);
                if !e.properties.contains(&key) {
                    continue;
                }
                let mut names = Map::new();
                if let Some(ids) = out.get(col).and_then(Value::as_array) {
                    for tid in ids.iter().filter_map(Value::as_str) {
                        names.insert(
                            tid.to_string(),
                            ctx.store.name_of(te, tid).unwrap_or(Value::Null),
                        );
                    }
                }
                out.insert(key, Value::Object(names));
            }
        }
    }
    file_output::decorate(ctx, e, &mut out)?;
    language::apply(ctx, &e.name, &mut out)?;
    timezone::apply(ctx, e, &mut out)?;
    let mut keep_extra: BTreeSet<String> = BTreeSet::new();
    if ctx.flatten && e.has_attributes {
        let sel = if shape.single {
            AttrSel::All
        } else {
            shape.attrs.clone()
        };
        keep_extra = attributes::flatten_into(ctx, e, &id, &mut out, &sel, shape.single)?;
    }
    // `prepareEntityForOutput` clears every attribute of the fields the role may not read
    // (`getScopeForbiddenAttributeList($entityType, 'read')`; atrocore-legacy, last in-tree
    // copy `app/Espo/Services/Record.php` before `b33a0dffc`): the keys are absent, in reads,
    // lists (whatever `select` asks for) and the answers of writes.
    for a in ctx.forbidden_attributes(e, true) {
        out.remove(&a);
    }
    if let Some(select) = &shape.select {
        let wanted: BTreeSet<&str> = select.iter().map(String::as_str).collect();
        out.retain(|k, _| {
            k == "id"
                || wanted.contains(k.as_str())
                || keep_extra.contains(k)
                || k.strip_suffix("Name").is_some_and(|b| {
                    wanted.contains(format!("{b}Id").as_str()) || wanted.contains(b)
                })
                || k.strip_suffix("Names").is_some_and(|b| {
                    wanted.contains(format!("{b}Ids").as_str()) || wanted.contains(b)
                })
                || k.strip_suffix("Id").is_some_and(|b| wanted.contains(b))
                || k.strip_suffix("Ids").is_some_and(|b| wanted.contains(b))
        });
    }
    if ctx.with_meta {
        // The role's answer for this record (own/team: the caller's records only).
        let w = ctx.allows_record(e, rec, Action::Edit);
        let mut perms = json!({
            "edit": w,
            "delete": ctx.allows_record(e, rec, Action::Delete),
            "stream": ctx.allows_record(e, rec, Action::Stream),
        });
        if shape.linked {
            perms["unlink"] = json!(w);
        }
        let mut meta = json!({ "permissions": perms });
        let options = enum_options_meta(ctx, e, rec)?;
        if !options.is_empty() {
            meta["options"] = Value::Object(options);
        }
        let audit = ctx.store.audit(&e.name, &id)?;
        if !audit.is_empty() {
            meta["audit"] = Value::Object(audit);
        }
        out.insert("_meta".into(), meta);
    }
    Ok(Value::Object(out))
}

/// `_meta.audit` entry of a change made in a delegated session: the real actor and the user on
/// whose behalf they acted (the REST guide's "With-Meta" section). Absent for ordinary sessions.
pub(crate) fn audit_entry(ctx: &Ctx) -> Option<Value> {
    let d = ctx.caller.delegation.as_ref()?;
    Some(json!({
        "actor": { "id": d.actor_id, "name": d.actor_name, "isSystem": false },
        "delegator": { "id": d.delegator_id, "name": d.delegator_name, "isSystem": false },
    }))
}

fn enum_options_meta(ctx: &Ctx, e: &Entity, rec: &Record) -> Result<Map<String, Value>, ApiError> {
    let mut options = Map::new();
    let Some(oe) = ctx.app.model.entity("ExtensibleEnumOption") else {
        return Ok(options);
    };
    let option = |oid: &str| -> Result<Option<Value>, ApiError> {
        Ok(ctx.store.get(oe, oid)?.map(|o| {
            let mut m = Map::new();
            for k in ["id", "code", "name", "color", "sortOrder"] {
                m.insert(k.to_string(), o.get(k).cloned().unwrap_or(Value::Null));
            }
            Value::Object(m)
        }))
    };
    for field in e.enum_lists.keys() {
        match rec.get(field) {
            Some(Value::String(oid)) => {
                if let Some(o) = option(oid)? {
                    options.insert(field.clone(), o);
                }
            }
            Some(Value::Array(ids)) => {
                let mut list = Vec::new();
                for oid in ids.iter().filter_map(Value::as_str) {
                    if let Some(o) = option(oid)? {
                        list.push(o);
                    }
                }
                options.insert(field.clone(), Value::Array(list));
            }
            _ => {}
        }
    }
    Ok(options)
}
