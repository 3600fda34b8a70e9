//! `attributesDefs`, the definitions of a flattened record's attributes by virtual field name,
//! typed: [`AttributeDefs`]. PHP sends `[]` for an empty object, so an empty list (and `null`)
//! reads as no definitions; a definition that does not read as an [`AttributeDef`] is kept as
//! the default one rather than failing the whole record.

use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::flat::AttributeDef;

/// The attribute definitions of a record read with `Flatten-Attributes`, in the server's order,
/// by virtual field name (the attribute's code, or its id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeDefs {
    defs: Vec<(String, AttributeDef)>,
}

impl AttributeDefs {
    /// The definition of the virtual field `name`.
    pub fn get(&self, name: &str) -> Option<&AttributeDef> {
        self.defs.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }

    /// Every definition with its field name, in the server's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttributeDef)> {
        self.defs.iter().map(|(n, d)| (n.as_str(), d))
    }

    /// How many attributes are described.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// The definitions as pairs, in the server's order.
    pub fn into_vec(self) -> Vec<(String, AttributeDef)> {
        self.defs
    }
}

impl FromIterator<(String, AttributeDef)> for AttributeDefs {
    fn from_iter<I: IntoIterator<Item = (String, AttributeDef)>>(iter: I) -> Self {
        AttributeDefs {
            defs: iter.into_iter().collect(),
        }
    }
}

impl Serialize for AttributeDefs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.defs.len()))?;
        for (name, def) in &self.defs {
            map.serialize_entry(name, def)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AttributeDefs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Defs;
        impl<'de> Visitor<'de> for Defs {
            type Value = AttributeDefs;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of attribute definitions (or PHP's `[]` for none)")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut defs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    let def = AttributeDef::deserialize(value).unwrap_or_default();
                    defs.push((name, def));
                }
                Ok(AttributeDefs { defs })
            }

            // PHP encodes an empty associative array as `[]`; a list carries no field names.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(AttributeDefs::default())
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(AttributeDefs::default())
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(AttributeDefs::default())
            }
        }
        deserializer.deserialize_any(Defs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_objects_in_order_and_php_empty_arrays() {
        let defs: AttributeDefs = serde_json::from_value(json!({
            "weight": {"attributeId": "a2", "type": "float", "measureId": "mass"},
            "colour": {"attributeId": "a1", "type": "varchar"},
            "odd": 5
        }))
        .unwrap();
        let names: Vec<&str> = defs.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "colour", "odd"]);
        assert_eq!(
            defs.get("weight").unwrap().measure_id.as_deref(),
            Some("mass")
        );
        assert_eq!(defs.get("odd"), Some(&AttributeDef::default()));
        for empty in [json!([]), json!(null), json!({})] {
            let defs: AttributeDefs = serde_json::from_value(empty).unwrap();
            assert!(defs.is_empty());
        }
        assert!(serde_json::from_value::<AttributeDefs>(json!("x")).is_err());
    }

    #[test]
    fn writes_an_object() {
        let defs: AttributeDefs = [("colour".to_owned(), AttributeDef::default())]
            .into_iter()
            .collect();
        assert_eq!(serde_json::to_value(&defs).unwrap(), json!({"colour": {}}));
    }
}
