//! Find-or-create links: a link field of a create or update body given as a record's id or as
//! simple field values that AtroCore looks up, creating the record when none matches.
//!
//! AtroCore resolves one level only: the looked-up record's values must be simple (text,
//! numbers, booleans), which is all [`Lookup`] can hold, so a nested object cannot even be
//! written. For links to list options (`ExtensibleEnumOption`) the server finds the option in
//! the list bound to the field: no list id is needed.
//!
//! ```
//! use atrocore_runtime::{LinkTo, Lookup};
//!
//! let brand = LinkTo::find(Lookup::new().field("name", "Apple"));
//! assert_eq!(serde_json::to_value(&brand).unwrap(), serde_json::json!({"name": "Apple"}));
//! let existing = LinkTo::id("a01k5c597f5ef1s75edb6gkcbh0");
//! assert_eq!(serde_json::to_value(&existing).unwrap(), serde_json::json!({"id": "a01k5c597f5ef1s75edb6gkcbh0"}));
//! ```

use crate::entity::EntityField;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A simple value a lookup may hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Text.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident $(as $c:ty)?),*) => {
        $(impl From<$t> for Scalar {
            fn from(value: $t) -> Scalar {
                Scalar::$v((value $(as $c)?).into())
            }
        })*
    };
}

scalar_from!(String => Text, &str => Text, i64 => Integer, i32 => Integer as i64, u32 => Integer as i64, f64 => Number, bool => Bool);

/// Field values that identify (or, when nothing matches, create) a linked record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Lookup(BTreeMap<String, Scalar>);

impl Lookup {
    /// An empty lookup.
    pub fn new() -> Lookup {
        Lookup::default()
    }

    /// Add a field value.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Scalar>) -> Lookup {
        self.0.insert(name.into(), value.into());
        self
    }

    /// Add the value of a field named by the target entity's field enum
    /// (`Lookup::new().by(BrandField::Code, "acme")`).
    pub fn by<F: EntityField>(self, field: F, value: impl Into<Scalar>) -> Lookup {
        self.field(field.name(), value)
    }

    /// The values, by field name.
    pub fn values(&self) -> &BTreeMap<String, Scalar> {
        &self.0
    }
}

/// One linked record: by id, or found (or created) by simple field values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LinkTo {
    /// An existing record, by id (sent as `{"id": …}`).
    Id {
        /// The record's id.
        id: String,
    },
    /// Find a record with these values, or create one.
    Find(Lookup),
}

impl LinkTo {
    /// An existing record by id.
    pub fn id(id: impl Into<String>) -> LinkTo {
        LinkTo::Id { id: id.into() }
    }

    /// A record found by (or created with) `lookup`.
    pub fn find(lookup: Lookup) -> LinkTo {
        LinkTo::Find(lookup)
    }

    /// Find or create the record whose `field` (of the target entity's field enum) has
    /// `value`: `LinkTo::find_by(BrandField::Code, "acme")`.
    pub fn find_by<F: EntityField>(field: F, value: impl Into<Scalar>) -> LinkTo {
        LinkTo::Find(Lookup::new().by(field, value))
    }

    /// Shorthand for the common case: find or create by `name`.
    pub fn named(name: impl Into<String>) -> LinkTo {
        LinkTo::Find(Lookup::new().field("name", name.into()))
    }
}

impl From<Lookup> for LinkTo {
    fn from(lookup: Lookup) -> LinkTo {
        LinkTo::Find(lookup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms() {
        let many = vec![
            LinkTo::named("red"),
            LinkTo::id("x1"),
            LinkTo::find(Lookup::new().field("code", "g").field("rank", 2)),
        ];
        assert_eq!(
            serde_json::to_value(&many).unwrap(),
            serde_json::json!([{"name": "red"}, {"id": "x1"}, {"code": "g", "rank": 2}])
        );
        let back: Vec<LinkTo> =
            serde_json::from_value(serde_json::json!([{"id": "a"}, {"name": "b"}])).unwrap();
        assert_eq!(back, vec![LinkTo::id("a"), LinkTo::named("b")]);
    }
}

/// The names of linked records by id, as AtroCore adds them on read next to a link's ids
/// (`teamsNames`, `parentsNames`).
///
/// PHP encodes an empty array as `[]` and an array whose keys happen to be `0, 1, …` as a list,
/// so besides an object this reads `[]`, `null` (both empty) and a list (keyed by position).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LinkNames(BTreeMap<String, String>);

impl LinkNames {
    /// The name of the linked record `id`.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }

    /// `(id, name)` pairs, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No names.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The map of names by id.
    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for LinkNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Map(BTreeMap<String, Option<String>>),
            List(Vec<Option<String>>),
        }
        let names = match Option::<Wire>::deserialize(d)? {
            None => BTreeMap::new(),
            Some(Wire::Map(m)) => m
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
            Some(Wire::List(l)) => l
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.unwrap_or_default()))
                .collect(),
        };
        Ok(LinkNames(names))
    }
}

#[cfg(test)]
mod link_names_tests {
    use super::LinkNames;

    #[test]
    fn link_names_read_what_php_writes() {
        let read = |s: &str| serde_json::from_str::<LinkNames>(s).unwrap();
        assert_eq!(read(r#"{"a1":"Sales","b2":"Ops"}"#).get("b2"), Some("Ops"));
        assert!(read("[]").is_empty());
        assert!(read("null").is_empty());
        // `[0 => 'Admin']` (a user with id "0") comes as a list.
        assert_eq!(read(r#"["Admin"]"#).get("0"), Some("Admin"));
        assert_eq!(read(r#"{"1":null}"#).get("1"), Some(""));
        assert!(serde_json::from_str::<LinkNames>("7").is_err());
    }
}
