//! [`ObjectMap`]: a JSON object by key, as the spec's `additionalProperties` describe it, that
//! also reads what PHP writes for an empty one: `[]` (`json_encode` of an empty array; both
//! 2.2's controllers and 2.3's `JsonResponse` send it, e.g. for `/entityScriptDefaultFields`).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON object by key (sorted), read from an object or from PHP's empty `[]`.
///
/// ```
/// use atrocore_runtime::ObjectMap;
///
/// let m: ObjectMap<String> = serde_json::from_str(r#"{"a": "x"}"#).unwrap();
/// assert_eq!(m["a"], "x");
/// let empty: ObjectMap<String> = serde_json::from_str("[]").unwrap();
/// assert!(empty.is_empty());
/// assert!(serde_json::from_str::<ObjectMap<String>>(r#"["x"]"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMap<V>(pub BTreeMap<String, V>);

impl<V> Default for ObjectMap<V> {
    fn default() -> Self {
        ObjectMap(BTreeMap::new())
    }
}

impl<V> Deref for ObjectMap<V> {
    type Target = BTreeMap<String, V>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<V> DerefMut for ObjectMap<V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<V> From<BTreeMap<String, V>> for ObjectMap<V> {
    fn from(map: BTreeMap<String, V>) -> Self {
        ObjectMap(map)
    }
}

impl<V> From<ObjectMap<V>> for BTreeMap<String, V> {
    fn from(map: ObjectMap<V>) -> Self {
        map.0
    }
}

impl<V> IntoIterator for ObjectMap<V> {
    type Item = (String, V);
    type IntoIter = std::collections::btree_map::IntoIter<String, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<V> FromIterator<(String, V)> for ObjectMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        ObjectMap(iter.into_iter().collect())
    }
}

impl<V: Serialize> Serialize for ObjectMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for ObjectMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Shape<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Shape<V> {
            type Value = ObjectMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object (or PHP's empty `[]`)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.insert(k, v);
                }
                Ok(ObjectMap(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                match seq.next_element::<serde::de::IgnoredAny>()? {
                    None => Ok(ObjectMap(BTreeMap::new())),
                    Some(_) => Err(serde::de::Error::invalid_type(
                        serde::de::Unexpected::Seq,
                        &self,
                    )),
                }
            }
        }
        d.deserialize_any(Shape(PhantomData))
    }
}
