//! Records named by code where AtroCore stores ids: the options of 2.2 extensible enums
//! (`ExtensibleEnumOption.code`), the units of measured values (`Unit.code`) and, in the body
//! of `upsertAttributeValues`, attributes (by entity and code, through `attribute_index.rs`).
//! Option and unit codes are unique on an instance (`"unique": true` in
//! `Resources/metadata/entityDefs/ExtensibleEnumOption.json` (2.2.31) and `Unit.json` (2.2.31,
//! 2.3.13)), and the same on every instance an admin set up alike, where ids are not.
//!
//! A typed attribute handle writes such a value as a *reference*, a JSON object
//! `{"@code": "kg", "@of": "Unit"}` (`"@in": "Product"` too for an attribute), in a filter's
//! operand or in a request body (a patch, an upsert item's payload; anywhere in it). When the
//! request is sent, every reference is replaced by the id of the record with that code on the
//! instance the client talks to: one `GET /<Entity>?where=[code in …]` for the codes the
//! client has not seen yet, cached per client. A code the instance lacks is an error naming
//! it, before anything is sent; a reference never reaches the server (AtroCore would reject an
//! object where an id belongs).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::encode::php_query_pairs;
use crate::error::{Error, Result};
use crate::filter::{Condition, Where, WhereValue};
use crate::http::session::ClientRef;

/// The key of a reference's code.
const CODE: &str = "@code";
/// The key of a reference's entity.
const OF: &str = "@of";
/// The key of the entity an attribute reference belongs to.
const IN: &str = "@in";
/// Codes per lookup request (kept well inside PHP's `max_input_vars`).
const CHUNK: usize = 100;

/// What a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum CodeOf {
    /// An option of a 2.2 extensible enum (`ExtensibleEnumOption`).
    EnumOption,
    /// A unit of a measure (`Unit`).
    Unit,
    /// An attribute of an entity (2.2 `code`, 2.3 `systemName`).
    Attribute,
}

impl CodeOf {
    /// The entity whose records it names.
    pub const fn entity(self) -> &'static str {
        match self {
            CodeOf::EnumOption => "ExtensibleEnumOption",
            CodeOf::Unit => "Unit",
            CodeOf::Attribute => "Attribute",
        }
    }

    fn from_entity(entity: &str) -> Option<Self> {
        [CodeOf::EnumOption, CodeOf::Unit, CodeOf::Attribute]
            .into_iter()
            .find(|c| c.entity() == entity)
    }

    fn noun(self) -> &'static str {
        match self {
            CodeOf::EnumOption => "list option",
            CodeOf::Unit => "unit",
            CodeOf::Attribute => "attribute",
        }
    }
}

/// What a reference names: the kind, the entity an attribute belongs to (empty for options
/// and units) and the code.
pub(crate) type Key = (CodeOf, String, String);

/// The reference to the record of `of` with `code`, resolved to its id when sent.
pub(crate) fn reference(of: CodeOf, code: &str) -> Value {
    json!({ CODE: code, OF: of.entity() })
}

/// The reference to the attribute of `entity` with `code`.
pub(crate) fn attribute_reference(entity: &str, code: &str) -> Value {
    json!({ CODE: code, OF: CodeOf::Attribute.entity(), IN: entity })
}

/// The key of a reference object.
fn as_reference(m: &Map<String, Value>) -> Option<Key> {
    let code = m.get(CODE)?.as_str()?;
    let of = CodeOf::from_entity(m.get(OF)?.as_str()?)?;
    let scope = match (of, m.get(IN)) {
        (CodeOf::Attribute, Some(Value::String(e))) if m.len() == 3 => e.clone(),
        (CodeOf::Attribute, _) => return None,
        (_, None) if m.len() == 2 => String::new(),
        _ => return None,
    };
    Some((of, scope, code.to_owned()))
}

/// A unit: its id on an instance, or its code (`Unit.code`, unique on an instance), resolved
/// to the id when sent. Generated unit enums convert into it; a `&str` or `String` is an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitRef {
    /// The unit's id.
    Id(String),
    /// The unit's code.
    Code(std::borrow::Cow<'static, str>),
}

impl UnitRef {
    /// The unit with code `code`.
    pub const fn code(code: &'static str) -> Self {
        UnitRef::Code(std::borrow::Cow::Borrowed(code))
    }

    /// What is sent: the id, or a reference to the code.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            UnitRef::Id(id) => Value::String(id.clone()),
            UnitRef::Code(code) => reference(CodeOf::Unit, code),
        }
    }
}

impl From<&str> for UnitRef {
    fn from(id: &str) -> Self {
        UnitRef::Id(id.to_owned())
    }
}

impl From<String> for UnitRef {
    fn from(id: String) -> Self {
        UnitRef::Id(id)
    }
}

impl From<&String> for UnitRef {
    fn from(id: &String) -> Self {
        UnitRef::Id(id.clone())
    }
}

impl<E> From<&crate::Id<E>> for UnitRef {
    fn from(id: &crate::Id<E>) -> Self {
        UnitRef::Id(id.as_str().to_owned())
    }
}

impl<E> From<crate::Id<E>> for UnitRef {
    fn from(id: crate::Id<E>) -> Self {
        UnitRef::Id(id.as_str().to_owned())
    }
}

/// Whether serialized JSON may hold a reference (a cheap scan before any parse).
pub(crate) fn may_hold_references(json: &[u8]) -> bool {
    memchr::memmem::find(json, b"\"@code\"").is_some()
}

/// Every reference in `v`.
fn collect_json(v: &Value, out: &mut BTreeSet<Key>) {
    match v {
        Value::Object(m) => match as_reference(m) {
            Some(key) => {
                out.insert(key);
            }
            None => m.values().for_each(|v| collect_json(v, out)),
        },
        Value::Array(items) => items.iter().for_each(|v| collect_json(v, out)),
        _ => {}
    }
}

/// `v` with every reference replaced by its id in `ids`.
fn replace_json(v: &mut Value, ids: &Ids) {
    match v {
        Value::Object(m) => {
            if let Some(key) = as_reference(m) {
                if let Some(id) = ids.get(&key) {
                    *v = Value::String(id.clone());
                }
            } else {
                m.values_mut().for_each(|v| replace_json(v, ids));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_json(v, ids)),
        _ => {}
    }
}

fn collect_where_value(v: &WhereValue, out: &mut BTreeSet<Key>) {
    match v {
        WhereValue::Object(m) => collect_json(&Value::Object(m.clone()), out),
        WhereValue::List(items) => items.iter().for_each(|v| collect_where_value(v, out)),
        WhereValue::Conditions(cs) => cs.iter().for_each(|c| collect_condition(c, out)),
        _ => {}
    }
}

fn collect_condition(c: &Condition, out: &mut BTreeSet<Key>) {
    if let Some(v) = &c.value {
        collect_where_value(v, out);
    }
}

fn replace_where_value(v: &mut WhereValue, ids: &Ids) {
    match v {
        WhereValue::Object(m) => {
            if let Some(key) = as_reference(m)
                && let Some(id) = ids.get(&key)
            {
                *v = WhereValue::String(id.clone());
            }
        }
        WhereValue::List(items) => items.iter_mut().for_each(|v| replace_where_value(v, ids)),
        WhereValue::Conditions(cs) => cs.iter_mut().for_each(|c| replace_condition(c, ids)),
        _ => {}
    }
}

fn replace_condition(c: &mut Condition, ids: &Ids) {
    if let Some(v) = &mut c.value {
        replace_where_value(v, ids);
    }
}

/// The references of a filter.
pub(crate) fn in_where(w: &Where) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    w.conditions()
        .iter()
        .for_each(|c| collect_condition(c, &mut out));
    out
}

/// The references of a JSON body.
pub(crate) fn in_json(v: &Value) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    collect_json(v, &mut out);
    out
}

/// `w` with its references replaced by ids (all of them are in `ids`: see [`resolve`]).
pub(crate) fn replace_in_where(w: &Where, ids: &Ids) -> Where {
    let mut conditions = w.conditions().to_vec();
    conditions
        .iter_mut()
        .for_each(|c| replace_condition(c, ids));
    Where::from(conditions)
}

/// `v` with its references replaced by ids.
pub(crate) fn replace_in_json(v: &mut Value, ids: &Ids) {
    replace_json(v, ids);
}

/// Ids by reference.
pub(crate) type Ids = BTreeMap<Key, String>;

/// The ids of `wanted` on the client's instance: from the client's cache, the others read
/// (one request per entity and [`CHUNK`] codes) and kept; attributes from the client's
/// attribute index (read again once when a code is missing). A code the instance lacks is an
/// error naming it.
pub(crate) async fn resolve(client: &Arc<ClientRef>, wanted: &BTreeSet<Key>) -> Result<Arc<Ids>> {
    let mut ids = Ids::new();
    let mut missing: BTreeMap<CodeOf, Vec<String>> = BTreeMap::new();
    let mut attributes = Vec::new();
    {
        let known = client.code_ids.lock().unwrap_or_else(|e| e.into_inner());
        for key in wanted {
            if key.0 == CodeOf::Attribute {
                attributes.push(key);
            } else if let Some(id) = known.get(&(key.0.entity(), key.2.clone())) {
                ids.insert(key.clone(), id.clone());
            } else {
                missing.entry(key.0).or_default().push(key.2.clone());
            }
        }
    }
    for (of, codes) in missing {
        for chunk in codes.chunks(CHUNK) {
            let found = lookup(client, of, chunk).await?;
            if let Some(lacking) = chunk.iter().find(|c| !found.contains_key(*c)) {
                return Err(Error::builder(format!(
                    "the instance has no {} with the code `{lacking}` ({} codes are looked up \
                     on the instance a client talks to): was it renamed, or is the crate \
                     generated from another instance?",
                    of.noun(),
                    of.entity()
                )));
            }
            let mut known = client.code_ids.lock().unwrap_or_else(|e| e.into_inner());
            for (code, id) in found {
                ids.insert((of, String::new(), code.clone()), id.clone());
                known.insert((of.entity(), code), id);
            }
        }
    }
    if !attributes.is_empty() {
        let mut index = crate::attribute_index::index(client, false).await?;
        let id_of = |index: &crate::http::session::AttributeIds, k: &Key| {
            index.get(&(k.1.clone(), k.2.clone())).cloned()
        };
        if attributes.iter().any(|k| id_of(&index, k).is_none()) {
            index = crate::attribute_index::index(client, true).await?;
        }
        for key in attributes {
            let Some(id) = id_of(&index, key) else {
                return Err(Error::builder(format!(
                    "the instance has no attribute `{}` of {}: was it renamed, or is the crate \
                     generated from another instance's attributes?",
                    key.2, key.1
                )));
            };
            ids.insert(key.clone(), id);
        }
    }
    Ok(Arc::new(ids))
}

/// `GET /<Entity>?select=id,code&where=[code in codes]`: ids by code.
async fn lookup(
    client: &Arc<ClientRef>,
    of: CodeOf,
    codes: &[String],
) -> Result<BTreeMap<String, String>> {
    let mut query = vec![
        ("select".to_owned(), "id,code".to_owned()),
        ("maxSize".to_owned(), (codes.len() + 1).to_string()),
    ];
    let w = json!([{ "type": "in", "attribute": "code", "value": codes }]);
    php_query_pairs("where", &w, &mut query);
    let list =
        crate::attribute_index::list_page(client, &format!("/{}", of.entity()), query).await?;
    Ok(list
        .iter()
        .filter_map(|r| {
            let text = |k: &str| r.get(k)?.as_str().filter(|s| !s.is_empty());
            Some((text("code")?.to_owned(), text("id")?.to_owned()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_and_replaced_anywhere_in_a_body() {
        let mut body = json!([{ "entity": "Product", "payload": {
            "colour": reference(CodeOf::EnumOption, "red"),
            "materials": [reference(CodeOf::EnumOption, "oak"), "a01plainid"],
            "weightUnitId": reference(CodeOf::Unit, "kg"),
            "note": { "@code": "x" },
        }}]);
        let found = in_json(&body);
        assert_eq!(
            found
                .iter()
                .map(|(o, _, c)| (*o, c.as_str()))
                .collect::<Vec<_>>(),
            [
                (CodeOf::EnumOption, "oak"),
                (CodeOf::EnumOption, "red"),
                (CodeOf::Unit, "kg")
            ]
        );
        let ids: Ids = found
            .into_iter()
            .map(|k| {
                let id = format!("id-{}", k.2);
                (k, id)
            })
            .collect();
        replace_in_json(&mut body, &ids);
        let p = &body[0]["payload"];
        assert_eq!(p["colour"], "id-red");
        assert_eq!(p["materials"], json!(["id-oak", "a01plainid"]));
        assert_eq!(p["weightUnitId"], "id-kg");
        assert_eq!(p["note"], json!({ "@code": "x" }), "not a reference");
        let attribute = attribute_reference("Product", "weight");
        assert_eq!(
            in_json(&attribute).into_iter().collect::<Vec<_>>(),
            [(CodeOf::Attribute, "Product".to_owned(), "weight".to_owned())]
        );
        assert!(may_hold_references(br#"{"a":{"@code":"kg","@of":"Unit"}}"#));
        assert!(!may_hold_references(br#"{"code":"kg"}"#));
    }

    #[test]
    fn references_in_filters_are_replaced() {
        let c = Condition::new("in")
            .attribute("colour")
            .value(WhereValue::List(vec![
                WhereValue::Object(
                    reference(CodeOf::EnumOption, "red")
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
                WhereValue::String("a01raw".into()),
            ]));
        let w = Where::from(vec![Condition::or([c])]);
        let found = in_where(&w);
        assert_eq!(found.len(), 1);
        let ids: Ids = found.into_iter().map(|k| (k, "id-red".into())).collect();
        let json = replace_in_where(&w, &ids).to_json();
        assert_eq!(json[0]["value"][0]["value"], json!(["id-red", "a01raw"]));
    }
}
