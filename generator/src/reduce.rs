//! Write a reduced spec: only the selected entities (plus every non-entity route), with the
//! component schemas they need, optionally without prose. Used to cut the project's default
//! spec from a real one, and by users who vendor a smaller spec.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::lower::entity_names;
use crate::select::{Selection, select_entities};
use crate::spec::Spec;
use crate::{EntityFilter, Error};

/// Options for [`reduce`].
#[derive(Debug, Clone, Default)]
pub struct ReduceOptions {
    /// Entities to keep.
    pub filter: EntityFilter,
    /// Drop `summary` and `description` everywhere (and `info.description`).
    pub strip_prose: bool,
}

/// A reduced spec and how its entities were chosen.
#[derive(Debug, Clone)]
pub struct Reduced {
    /// The reduced document.
    pub spec: Value,
    /// The kept entities, and the targets of required links added to them (or left unmet).
    pub selection: Selection,
}

/// Reduce `spec` to the entities `options.filter` selects; with instance `metadata`, the
/// targets of their required links are kept too (see [`select_entities`]).
pub fn reduce(
    spec: &Spec,
    metadata: Option<&Value>,
    options: &ReduceOptions,
) -> Result<Reduced, Error> {
    let all = entity_names(spec);
    let selection = select_entities(&all, &options.filter, metadata)?;
    let keep = &selection.entities;
    let dropped: BTreeSet<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|e| !keep.contains(*e))
        .collect();
    let mut root = spec.root.clone();
    let obj = root.as_object_mut().expect("Spec checked it is an object");

    // Paths: drop routes tagged with a dropped entity.
    let mut paths = Map::new();
    for (path, item) in spec.paths() {
        let Some(item) = item.as_object() else {
            continue;
        };
        let kept: Map<String, Value> = item
            .iter()
            .filter(|(_, op)| {
                let tag = op.pointer("/tags/0").and_then(Value::as_str);
                !tag.is_some_and(|t| dropped.contains(t))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if kept
            .keys()
            .any(|k| crate::ir::Method::from_key(k).is_some())
        {
            paths.insert(path.clone(), Value::Object(kept));
        }
    }
    obj.insert("paths".into(), Value::Object(paths.clone()));

    // Schemas: the kept entities, their Post/Patch forms, and everything referenced.
    let schemas = spec.schemas();
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = Vec::new();
    for e in keep {
        for name in [e.clone(), format!("{e}Post"), format!("{e}Patch")] {
            if schemas.contains_key(&name) {
                queue.push(name);
            }
        }
    }
    collect_refs(&Value::Object(paths), &mut queue);
    while let Some(name) = queue.pop() {
        if dropped.contains(name.as_str()) || !wanted.insert(name.clone()) {
            continue;
        }
        if let Some(s) = schemas.get(&name) {
            collect_refs(s, &mut queue);
        }
    }
    let kept_schemas: Map<String, Value> = schemas
        .iter()
        .filter(|(n, _)| wanted.contains(*n))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(components) = obj.get_mut("components").and_then(Value::as_object_mut) {
        components.insert("schemas".into(), Value::Object(kept_schemas));
    }
    if let Some(tags) = obj.get_mut("tags").and_then(Value::as_array_mut) {
        tags.retain(|t| {
            !t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| dropped.contains(n))
        });
    }
    if options.strip_prose {
        strip(&mut root, false);
    }
    Ok(Reduced {
        spec: root,
        selection,
    })
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = Spec::ref_component(v) {
                out.push(name);
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Remove `summary`/`description` keys that hold prose (not properties named so).
fn strip(v: &mut Value, in_properties: bool) {
    match v {
        Value::Object(m) => {
            if !in_properties {
                m.retain(|k, v| {
                    !(matches!(k.as_str(), "summary" | "description") && v.is_string())
                });
            }
            for (k, x) in m.iter_mut() {
                strip(x, k == "properties" && !in_properties);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip(x, false)),
        _ => {}
    }
}

/// Cut instance metadata down to what the generator reads (`entityDefs` fields, links and
/// unique indexes) for the entities `spec_reduced` still has, and the attribute types
/// (`attributes`, the values of `Attribute.type`).
pub fn reduce_metadata(metadata: &Value, spec_reduced: &Spec) -> Value {
    let keep: BTreeSet<String> = entity_names(spec_reduced).into_iter().collect();
    let mut defs = Map::new();
    if let Some(all) = metadata.get("entityDefs").and_then(Value::as_object) {
        for (name, def) in all.iter().filter(|(n, _)| keep.contains(*n)) {
            let mut cut = Map::new();
            for key in ["fields", "links", "uniqueIndexes"] {
                if let Some(v) = def.get(key) {
                    cut.insert(key.to_owned(), v.clone());
                }
            }
            defs.insert(name.clone(), Value::Object(cut));
        }
    }
    let mut cut = serde_json::json!({ "entityDefs": defs });
    if let Some(types) = metadata.get("attributes") {
        cut["attributes"] = types.clone();
    }
    cut
}
