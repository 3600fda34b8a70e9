//! A compact description of the generated API (entities, fields, typed attributes, operations)
//! written next to the crate as `api.json`, so a later run can tell a reviewer what changed in
//! the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ir::{Api, AttributeKind, Operation, Type, TypeSpace, TypedAttribute};

/// File name of the summary in the generated crate.
pub const FILE: &str = "api.json";

/// The API surface, keyed for diffing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Entity → field wire name → type text.
    pub entities: BTreeMap<String, BTreeMap<String, String>>,
    /// Module tag → route (`GET /X/{id}`) → Rust method name.
    pub operations: BTreeMap<String, BTreeMap<String, String>>,
    /// Entity → attribute code → type text (AtroCore type, languages, options, units): the
    /// typed attributes of `--attributes` (absent from summaries without them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, BTreeMap<String, String>>,
}

/// What a typed attribute's handle depends on, as one line.
fn attribute_text(a: &TypedAttribute) -> String {
    let mut text = a.atrocore_type.clone();
    if a.multilingual {
        text.push_str(", multilingual");
    }
    if let AttributeKind::Enum { options, .. } | AttributeKind::MultiEnum { options, .. } = &a.kind
    {
        let wires: Vec<&str> = options.iter().map(|o| o.wire.as_str()).collect();
        text.push_str(&format!(", options [{}]", wires.join(", ")));
    }
    if let Some(units) = &a.units {
        let wires: Vec<&str> = units.units.iter().map(|o| o.wire.as_str()).collect();
        text.push_str(&format!(", units [{}]", wires.join(", ")));
    }
    text
}

fn type_text(types: &TypeSpace, t: &Type) -> String {
    match t {
        Type::String => "string".into(),
        Type::Integer => "integer".into(),
        Type::Number => "number".into(),
        Type::Boolean => "boolean".into(),
        Type::Json => "json".into(),
        Type::Map(v) => format!("map<{}>", type_text(types, v)),
        Type::Array(i) => format!("array<{}>", type_text(types, i)),
        Type::Meta => "meta".into(),
        Type::AttributeDefs => "attribute definitions".into(),
        Type::AttrValue => "attribute value".into(),
        Type::AttributeValue => "attribute value record".into(),
        Type::Link(l) if l.many => format!("links<{}>", type_text(types, &l.id)),
        Type::Link(l) => format!("link<{}>", type_text(types, &l.id)),
        Type::LinkNames => "link names".into(),
        Type::Date => "date".into(),
        Type::DateTime => "datetime".into(),
        Type::Where => "where".into(),
        Type::Named(id) => types.get(*id).name.clone(),
    }
}

fn ops(list: &[Operation]) -> impl Iterator<Item = (String, String)> + '_ {
    list.iter()
        .map(|o| (format!("{} {}", o.method.as_str(), o.path), o.name.clone()))
}

impl Summary {
    /// Summarise an IR.
    pub fn of(api: &Api) -> Summary {
        let mut s = Summary::default();
        for e in &api.entities {
            let fields = e
                .fields
                .iter()
                .map(|f| {
                    (
                        f.wire.clone(),
                        format!(
                            "{}{}",
                            type_text(&api.types, &f.ty),
                            if f.required { " (required)" } else { "" }
                        ),
                    )
                })
                .collect();
            s.entities.insert(e.name.clone(), fields);
            if !e.attributes.is_empty() {
                s.attributes.insert(
                    e.name.clone(),
                    e.attributes
                        .iter()
                        .map(|a| (a.code.clone(), attribute_text(a)))
                        .collect(),
                );
            }
            let mut routes: BTreeMap<String, String> = ops(&e.operations).collect();
            let st = &e.standard;
            for (doc, name) in [
                (&st.list, "list"),
                (&st.read, "read"),
                (&st.create, "create"),
                (&st.delete, "delete"),
            ] {
                if let Some(d) = doc {
                    routes.insert(d.route.clone(), name.into());
                }
            }
            if let Some((_, d)) = &st.update {
                routes.insert(d.route.clone(), "update".into());
            }
            s.operations.insert(e.name.clone(), routes);
        }
        for g in &api.groups {
            s.operations
                .insert(g.tag.clone(), ops(&g.operations).collect());
        }
        s
    }

    /// Pretty JSON with a trailing newline (stable: all maps are sorted).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("summary always serializes");
        text.push('\n');
        text
    }

    /// Parse a summary written by an earlier run.
    pub fn from_json(text: &str) -> Option<Summary> {
        serde_json::from_str(text).ok()
    }

    /// Human-readable changes from `old` to `self`, one line each.
    pub fn changes_since(&self, old: &Summary) -> Vec<String> {
        let mut out = Vec::new();
        diff_maps(
            &old.entities,
            &self.entities,
            "entity",
            &mut out,
            |name, before, after, out| {
                diff_maps(
                    before,
                    after,
                    &format!("field {name}."),
                    out,
                    |field, b, a, out| {
                        if b != a {
                            out.push(format!("~ field {name}.{field}: {b} -> {a}"));
                        }
                    },
                );
            },
        );
        diff_maps(
            &old.attributes,
            &self.attributes,
            "attributes of",
            &mut out,
            |entity, before, after, out| {
                diff_maps(
                    before,
                    after,
                    &format!("attribute {entity}."),
                    out,
                    |code, b, a, out| {
                        if b != a {
                            out.push(format!("~ attribute {entity}.{code}: {b} -> {a}"));
                        }
                    },
                );
            },
        );
        diff_maps(
            &old.operations,
            &self.operations,
            "module",
            &mut out,
            |tag, before, after, out| {
                diff_maps(
                    before,
                    after,
                    &format!("operation {tag}:"),
                    out,
                    |route, b, a, out| {
                        if b != a {
                            out.push(format!("~ operation {tag}: {route} renamed {b} -> {a}"));
                        }
                    },
                );
            },
        );
        out
    }
}

fn diff_maps<V>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    what: &str,
    out: &mut Vec<String>,
    mut both: impl FnMut(&str, &V, &V, &mut Vec<String>),
) {
    let sep = if what.ends_with('.') || what.ends_with(':') {
        ""
    } else {
        " "
    };
    let sep = if what.ends_with(':') { " " } else { sep };
    for (k, v) in new {
        match old.get(k) {
            None => out.push(format!("+ {what}{sep}{k}")),
            Some(o) => both(k, o, v, out),
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        out.push(format!("- {what}{sep}{k}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_added_removed_and_changed() {
        let mut old = Summary::default();
        old.entities.insert(
            "Brand".into(),
            [
                ("name".into(), "string".into()),
                ("x".into(), "integer".into()),
            ]
            .into(),
        );
        old.entities.insert("Gone".into(), BTreeMap::new());
        let mut new = Summary::default();
        new.entities.insert(
            "Brand".into(),
            [
                ("name".into(), "json".into()),
                ("y".into(), "integer".into()),
            ]
            .into(),
        );
        new.operations.insert(
            "Brand".into(),
            [("GET /Brand".into(), "list".into())].into(),
        );
        old.attributes.insert(
            "Product".into(),
            [
                ("colour".into(), "enum, options [red, blue]".into()),
                ("organic".into(), "bool".into()),
            ]
            .into(),
        );
        new.attributes.insert(
            "Product".into(),
            [
                ("colour".into(), "enum, options [red, blue, green]".into()),
                ("weight".into(), "float, units [kg]".into()),
            ]
            .into(),
        );
        let changes = new.changes_since(&old);
        assert_eq!(
            changes,
            [
                "~ field Brand.name: string -> json",
                "+ field Brand.y",
                "- field Brand.x",
                "- entity Gone",
                "~ attribute Product.colour: enum, options [red, blue] -> enum, options [red, blue, green]",
                "+ attribute Product.weight",
                "- attribute Product.organic",
                "+ module Brand",
            ]
        );
        // Summaries written before attributes were summarised still read.
        let older = r#"{"entities": {}, "operations": {}}"#;
        assert_eq!(Summary::from_json(older).unwrap().attributes.len(), 0);
    }
}
