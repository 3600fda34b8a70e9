//! Drift between an instance and the crate generated from it: a generated crate records the
//! fields (from the instance metadata it was generated with) and the attributes (from the
//! attribute definitions) of each entity as a [`Schema`]; [`Client::check_schema`] reads the
//! live instance's metadata (`GET /Metadata`, 2.3 `/metadata`) and attributes and reports what
//! was added, removed or changed in type. A cheap call an application can make at start-up
//! (two requests, one more per 200 attributes); `cargo xtask generate --check` covers the same
//! for CI.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::Method;
use serde_json::Value;

use crate::attribute_index;
use crate::client::Client;
use crate::error::Result;
use crate::http::config::ApiGeneration;

/// What a generated crate knows of the instance it was generated from.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Its entities.
    pub entities: &'static [EntitySchema],
}

/// One entity of a [`Schema`].
#[derive(Debug, Clone, Copy)]
pub struct EntitySchema {
    /// The wire name.
    pub name: &'static str,
    /// Fields and their AtroCore types, from the metadata, as `name:type` items separated by
    /// commas (`"createdAt:datetime,name:varchar"`: one line of generated code per entity);
    /// empty when the crate was generated without metadata (fields are then not compared).
    pub fields: &'static str,
    /// Attributes by code and their types, likewise (`"weight:float"`); empty when generated
    /// without attribute definitions (attributes are then not compared).
    pub attributes: &'static str,
}

/// The `name:type` items of an [`EntitySchema`] list.
fn items(list: &'static str) -> Vec<(&'static str, &'static str)> {
    list.split(',')
        .filter(|i| !i.is_empty())
        .map(|i| i.split_once(':').unwrap_or((i, "")))
        .collect()
}

/// What a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Item {
    /// A field of the entity.
    Field,
    /// An attribute of the entity.
    Attribute,
}

/// How an item differs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// On the instance, not in the crate.
    Added {
        /// Its type on the instance.
        found: String,
    },
    /// In the crate, not on the instance (the crate's calls that use it will fail).
    Removed {
        /// Its type in the crate.
        expected: String,
    },
    /// Another type on the instance.
    TypeChanged {
        /// The crate's.
        expected: String,
        /// The instance's.
        found: String,
    },
}

/// One difference between the crate and the instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// The entity.
    pub entity: String,
    /// Field or attribute.
    pub item: Item,
    /// Its name (a field) or code (an attribute).
    pub name: String,
    /// How it differs.
    pub change: Change,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.item {
            Item::Field => "field",
            Item::Attribute => "attribute",
        };
        write!(f, "{}.{} ({what}): ", self.entity, self.name)?;
        match &self.change {
            Change::Added { found } => write!(f, "added on the instance ({found})"),
            Change::Removed { expected } => write!(f, "removed from the instance ({expected})"),
            Change::TypeChanged { expected, found } => {
                write!(f, "type changed from {expected} to {found}")
            }
        }
    }
}

/// The differences [`Client::check_schema`] found, sorted; empty when the instance matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaDrift {
    /// Every difference.
    pub differences: Vec<Difference>,
}

impl SchemaDrift {
    /// Whether the instance matches the crate.
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }

    /// The differences that break calls of the crate: removed items and changed types (an
    /// item added on the instance breaks nothing).
    pub fn breaking(&self) -> impl Iterator<Item = &Difference> {
        self.differences
            .iter()
            .filter(|d| !matches!(d.change, Change::Added { .. }))
    }
}

impl fmt::Display for SchemaDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.differences.is_empty() {
            return f.write_str("the instance matches the crate");
        }
        for (i, d) in self.differences.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The differences between `expected` and `found` (name → type) of one entity's items.
fn compare(
    entity: &str,
    item: Item,
    expected: &[(&str, &str)],
    found: &BTreeMap<String, String>,
    out: &mut Vec<Difference>,
) {
    let known: BTreeMap<&str, &str> = expected.iter().copied().collect();
    let mut push = |name: &str, change| {
        out.push(Difference {
            entity: entity.to_owned(),
            item,
            name: name.to_owned(),
            change,
        })
    };
    for (name, ty) in &known {
        match found.get(*name) {
            None => push(
                name,
                Change::Removed {
                    expected: (*ty).to_owned(),
                },
            ),
            Some(f) if f != ty => push(
                name,
                Change::TypeChanged {
                    expected: (*ty).to_owned(),
                    found: f.clone(),
                },
            ),
            Some(_) => {}
        }
    }
    for (name, ty) in found {
        if !known.contains_key(name.as_str()) {
            push(name, Change::Added { found: ty.clone() });
        }
    }
}

impl Client {
    /// Compares the live instance with `expected` (a generated crate's `SCHEMA`; its
    /// `Client::check_schema` passes it): fields by the instance metadata, attributes by the
    /// instance's `Attribute` records. Only the crate's entities are compared.
    pub async fn check_schema(&self, expected: &Schema) -> Result<SchemaDrift> {
        let mut differences = Vec::new();
        if expected.entities.iter().any(|e| !e.fields.is_empty()) {
            let route = match self.generation() {
                ApiGeneration::V2_2 => "/Metadata",
                _ => "/metadata",
            };
            let metadata: Value = self.request(Method::GET, route).send_json().await?;
            for e in expected.entities.iter().filter(|e| !e.fields.is_empty()) {
                let found = metadata
                    .pointer(&format!("/entityDefs/{}/fields", e.name))
                    .and_then(Value::as_object)
                    .map(|fields| {
                        fields
                            .iter()
                            .filter_map(|(name, def)| {
                                Some((name.clone(), def.get("type")?.as_str()?.to_owned()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                compare(
                    e.name,
                    Item::Field,
                    &items(e.fields),
                    &found,
                    &mut differences,
                );
            }
        }
        if expected.entities.iter().any(|e| !e.attributes.is_empty()) {
            let attributes = self.live_attributes().await?;
            for e in expected
                .entities
                .iter()
                .filter(|e| !e.attributes.is_empty())
            {
                let found = attributes.get(e.name).cloned().unwrap_or_default();
                compare(
                    e.name,
                    Item::Attribute,
                    &items(e.attributes),
                    &found,
                    &mut differences,
                );
            }
        }
        differences.sort();
        Ok(SchemaDrift { differences })
    }

    /// Every attribute's type by entity and code (2.2 `code`, or the id when it has none; 2.3
    /// `systemName`).
    async fn live_attributes(&self) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (id, entity, code, record) in attribute_index::read_all(&self.inner, &["type"]).await? {
            if let Some(ty) = record.get("type").and_then(Value::as_str) {
                out.entry(entity)
                    .or_default()
                    .insert(code.unwrap_or(id), ty.to_owned());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_names_and_types() {
        let found: BTreeMap<String, String> =
            [("name", "varchar"), ("price", "int"), ("ean", "varchar")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect();
        let mut out = Vec::new();
        compare(
            "Product",
            Item::Field,
            &[("name", "varchar"), ("price", "float"), ("sku", "varchar")],
            &found,
            &mut out,
        );
        out.sort();
        let shown: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "Product.ean (field): added on the instance (varchar)",
                "Product.price (field): type changed from float to int",
                "Product.sku (field): removed from the instance (varchar)",
            ]
        );
        let drift = SchemaDrift { differences: out };
        assert_eq!(drift.breaking().count(), 2);
    }
}
