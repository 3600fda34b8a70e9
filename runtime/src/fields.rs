//! The `Serialize` and `Deserialize` of generated structs, driven from here so that the generated
//! code is small: per struct, a list of statements that write its fields into a map
//! ([`EncodeFields`]) and, for structs that start from their `Default` (read structs, most update
//! structs, plain types), a `match` from wire name to field ([`DecodeFields`]).
//!
//! serde's derives wrote, per struct, a field enum and its visitor, a map visitor and (with the
//! `extra` map flattened) a buffer of every key and value as serde's private `Content` before
//! any field was decoded, plus a serializer with a flattening adapter. More than half of a
//! generated crate's check time went to those impls. The generated statements are a fraction of
//! their size; decoding goes straight from the input to each field, unknown keys into `extra`.
//!
//! Behaviour kept from the derives they replace (`#[serde(default)]` on the struct, `extra`
//! flattened, `skip_serializing_if` on optional fields): a missing field keeps its default,
//! `null` reads as a field's own null (`None`, `Patch::Null`), unknown keys go to `extra` (or are
//! skipped by structs without one); unset fields are not written, `extra` is written after the
//! fields. A key given twice keeps its last value (the derive refused duplicates; JSON objects
//! from AtroCore have none).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize as _;
use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::Patch;
use crate::link_field::{Link, LinkForm, LinkKeys};

/// A generated struct written field by field; see the [module](self). Not meant to be
/// implemented by hand.
#[doc(hidden)]
pub trait EncodeFields {
    /// Writes the fields that are set (and `extra`) into `map`.
    fn encode_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// `Serialize::serialize` of an [`EncodeFields`] struct (what generated impls call): a map of its
/// fields.
#[doc(hidden)]
pub fn encode_fields<T: EncodeFields + ?Sized, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    value.encode_fields(&mut map)?;
    map.end()
}

/// Writes an optional field when it is set.
#[doc(hidden)]
pub fn entry_opt<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(_) => map.serialize_entry(key, value),
        None => Ok(()),
    }
}

/// Writes an update's field unless it is left unchanged (`null` for [`Patch::Null`]).
#[doc(hidden)]
pub fn entry_patch<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: &Patch<T>,
) -> Result<(), M::Error> {
    if value.is_unchanged() {
        Ok(())
    } else {
        map.serialize_entry(key, value)
    }
}

/// Writes a link field's one key (`brandId` or `brand`) when it is set.
#[doc(hidden)]
pub fn entry_link<M: SerializeMap, V: LinkForm, K: LinkKeys>(
    map: &mut M,
    link: &Option<Link<V, K>>,
) -> Result<(), M::Error> {
    match link {
        Some(link) => link.write_entry(map),
        None => Ok(()),
    }
}

/// The type of the `extra` field of generated structs.
#[doc(hidden)]
pub type Extra = Map<String, Value>;

/// Writes the `extra` fields of a struct, after its own.
#[doc(hidden)]
pub fn encode_extra<M: SerializeMap>(
    extra: &Map<String, Value>,
    map: &mut M,
) -> Result<(), M::Error> {
    for (key, value) in extra {
        map.serialize_entry(key, value)?;
    }
    Ok(())
}

/// A generated struct read field by field; see the [module](self). Not meant to be implemented
/// by hand.
#[doc(hidden)]
pub trait DecodeFields: Default {
    /// What the input should have been, for errors.
    const EXPECTING: &'static str;

    /// Reads the next value of `map` into the field whose wire name is `key`; `Ok(false)` when
    /// there is no such field (the value is left unread).
    fn decode_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;

    /// Where keys without a field go (`extra`); `None`: they are skipped.
    fn extra_fields(&mut self) -> Option<&mut Map<String, Value>> {
        None
    }

    /// Runs after the last key: link fields take their key out of `extra` ([`take_link`]).
    fn finish(&mut self) {}
}

/// A link field read back: its one key (`brandId` or `brand`) taken out of `extra`, where the
/// visitor left it. Neither key, both keys (a body that is not one link), or a value that is not
/// the link's: no link, and the keys stay in `extra` (nothing is lost).
#[doc(hidden)]
pub fn take_link<V, K>(extra: &mut Map<String, Value>) -> Option<Link<V, K>>
where
    K: LinkKeys,
    Link<V, K>: DeserializeOwned,
{
    let key = match (extra.contains_key(K::ID), extra.contains_key(K::LINK)) {
        (true, false) => K::ID,
        (false, true) => K::LINK,
        _ => return None,
    };
    let (key, value) = extra.remove_entry(key)?;
    let one = Value::Object(Map::from_iter([(key, value)]));
    match Link::<V, K>::deserialize(&one) {
        Ok(link) => Some(link),
        Err(_) => {
            if let Value::Object(one) = one {
                extra.extend(one);
            }
            None
        }
    }
}

/// `Deserialize::deserialize` of a [`DecodeFields`] struct (what generated impls call).
#[doc(hidden)]
pub fn decode_fields<'de, T: DecodeFields, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(FieldsVisitor(PhantomData))
}

struct FieldsVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: DecodeFields> Visitor<'de> for FieldsVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if out.decode_field(key.as_str(), &mut map)? {
                continue;
            }
            match out.extra_fields() {
                Some(extra) => {
                    let value: Value = map.next_value()?;
                    extra.insert(key.into_string(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        out.finish();
        Ok(out)
    }
}

/// A key, borrowed from the input when it can be (no allocation per key for JSON text without
/// escapes).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Patch;
    use serde_json::json;

    /// What the generator writes for a read struct and an update struct.
    #[derive(Debug, Default, PartialEq)]
    struct Rec {
        id: Option<String>,
        price: Option<f64>,
        tags: Option<Vec<String>>,
        extra: Map<String, Value>,
    }
    impl DecodeFields for Rec {
        const EXPECTING: &'static str = "a `Rec` object";
        fn decode_field<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
        ) -> Result<bool, A::Error> {
            match key {
                "id" => self.id = map.next_value()?,
                "price" => self.price = map.next_value()?,
                "tags" => self.tags = map.next_value()?,
                _ => return Ok(false),
            }
            Ok(true)
        }
        fn extra_fields(&mut self) -> Option<&mut Map<String, Value>> {
            Some(&mut self.extra)
        }
    }
    impl<'de> serde::Deserialize<'de> for Rec {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            decode_fields(d)
        }
    }

    #[derive(Debug, Default, PartialEq)]
    struct Upd {
        name: Patch<String>,
    }
    impl DecodeFields for Upd {
        const EXPECTING: &'static str = "an `Upd` object";
        fn decode_field<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
        ) -> Result<bool, A::Error> {
            match key {
                "name" => self.name = map.next_value()?,
                _ => return Ok(false),
            }
            Ok(true)
        }
    }
    impl<'de> serde::Deserialize<'de> for Upd {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            decode_fields(d)
        }
    }

    #[test]
    fn fields_defaults_nulls_and_extra() {
        let text = r#"{"id":"p1","pr\u0069ce":2.5,"tags":null,"custom":{"a":[1]},"x\"y":1}"#;
        let rec: Rec = serde_json::from_str(text).unwrap();
        assert_eq!(rec.id.as_deref(), Some("p1"));
        assert_eq!(rec.price, Some(2.5), "an escaped key is still the field");
        assert_eq!(rec.tags, None);
        assert_eq!(
            Value::Object(rec.extra.clone()),
            json!({"custom": {"a": [1]}, "x\"y": 1})
        );
        // The same from a value (owned keys) and from bytes.
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::from_value::<Rec>(v).unwrap(), rec);
        assert_eq!(serde_json::from_slice::<Rec>(text.as_bytes()).unwrap(), rec);
        assert_eq!(serde_json::from_str::<Rec>("{}").unwrap(), Rec::default());
        // A key given twice keeps the last value.
        let twice: Rec = serde_json::from_str(r#"{"id":"a","id":"b"}"#).unwrap();
        assert_eq!(twice.id.as_deref(), Some("b"));
    }

    #[test]
    fn wrong_input_is_an_error() {
        let e = serde_json::from_str::<Rec>(r#"{"price":"cheap"}"#).unwrap_err();
        assert!(e.to_string().contains("expected f64"), "{e}");
        let e = serde_json::from_str::<Rec>("[1]").unwrap_err();
        assert!(e.to_string().contains("a `Rec` object"), "{e}");
        assert!(serde_json::from_str::<Rec>(r#"{"id":"a""#).is_err());
    }

    #[test]
    fn patches_and_skipped_keys() {
        let u: Upd = serde_json::from_str(r#"{"name":null,"other":[{"deep":true}]}"#).unwrap();
        assert_eq!(u.name, Patch::Null);
        let u: Upd = serde_json::from_str(r#"{"name":"n"}"#).unwrap();
        assert_eq!(u.name, Patch::Set("n".into()));
        assert_eq!(
            serde_json::from_str::<Upd>("{}").unwrap().name,
            Patch::Unchanged
        );
    }
}
