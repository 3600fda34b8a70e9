//! [`UpsertItem`]: one record to upsert, its payload kept as JSON text, and what makes it safe
//! to send twice.

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::entity::Entity;
use crate::error::{Error, Result};

/// One record to create or update: the entity's wire name and the fields to store.
///
/// Build it from any entity's create struct (the payload is serialized now), or from a name and
/// a JSON value when the entity is known only at run time:
///
/// ```
/// use atrocore_runtime::UpsertItem;
/// # use atrocore_runtime::{Entity, EntityField};
/// # #[derive(serde::Deserialize)] struct Brand;
/// # #[derive(Clone, Copy)] struct BrandField;
/// # impl EntityField for BrandField { fn name(self) -> &'static str { "id" } }
/// # impl Entity for Brand { const NAME: &'static str = "Brand"; type Record = Brand; type Field = BrandField; type Id = atrocore_runtime::Id<Brand>; }
/// # #[derive(serde::Serialize)] struct BrandPost { code: String, name: String }
///
/// # fn main() -> atrocore_runtime::Result<()> {
/// // From a generated create struct (`BrandPost`) of the entity `Brand`:
/// let typed = UpsertItem::new::<Brand>(&BrandPost { code: "acme".into(), name: "Acme".into() })?;
/// assert_eq!(typed.entity(), "Brand");
/// assert_eq!(typed.payload()["code"], "acme");
///
/// let untyped = UpsertItem::from_value("Product", serde_json::json!({ "id": "p1", "name": "Phone" }));
/// assert_eq!(untyped.entity(), "Product");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ItemWire")]
pub struct UpsertItem {
    pub(super) entity: String,
    payload: Payload,
    /// The entity's unique fields: with `id`, what makes sending the item twice safe.
    key_fields: &'static [&'static str],
}

/// An item's fields: the JSON text a typed payload was serialized to (written into request
/// bodies as is, parsed only when [`UpsertItem::payload`] asks), or a value given as one.
#[derive(Debug, Clone)]
pub(super) enum Payload {
    Json {
        text: Box<RawValue>,
        parsed: OnceLock<Value>,
    },
    Value(Value),
}

/// The serialized form of an item: `{entity, payload}` (what the request bodies carry).
#[derive(Deserialize)]
pub(super) struct ItemWire {
    pub(super) entity: String,
    payload: Value,
}

impl From<ItemWire> for UpsertItem {
    fn from(w: ItemWire) -> Self {
        Self::from_value(w.entity, w.payload)
    }
}

impl Serialize for UpsertItem {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a, P: Serialize> {
            entity: &'a str,
            payload: &'a P,
        }
        match &self.payload {
            Payload::Json { text, .. } => Wire {
                entity: &self.entity,
                payload: text,
            }
            .serialize(serializer),
            Payload::Value(v) => Wire {
                entity: &self.entity,
                payload: v,
            }
            .serialize(serializer),
        }
    }
}

/// Items are equal when their entities, unique fields and payloads (as JSON values) are.
impl PartialEq for UpsertItem {
    fn eq(&self, other: &Self) -> bool {
        self.entity == other.entity
            && self.key_fields == other.key_fields
            && self.payload() == other.payload()
    }
}

/// Whether a field's value identifies a record: present, not `null`, not an empty string.
pub(super) fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Whether the JSON object `text` sets `id` or one of `keys`, read without building the object:
/// the other members are skipped.
pub(super) fn sets_a_key(text: &str, keys: &[&str]) -> bool {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Wanted<'k>(&'k [&'k str]);
    impl<'de> DeserializeSeed<'de> for Wanted<'_> {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl Visitor<'_> for Wanted<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }
        fn visit_str<E: serde::de::Error>(self, k: &str) -> std::result::Result<bool, E> {
            Ok(k == "id" || self.0.contains(&k))
        }
    }
    struct Find<'k>(&'k [&'k str]);
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<bool, A::Error> {
            let mut found = false;
            while let Some(wanted) = map.next_key_seed(Wanted(self.0))? {
                if wanted && !found {
                    found = is_set(&map.next_value::<Value>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_map(Find(keys))
        .unwrap_or(false)
}

impl UpsertItem {
    /// An item of the entity `E` whose fields are `payload` (usually `E`'s generated `…Post`
    /// struct). Fails when `payload` does not serialize to a JSON object. The payload is
    /// serialized to its JSON text now, which goes into the request body as is.
    pub fn new<E: Entity>(payload: &(impl Serialize + ?Sized)) -> Result<Self> {
        let text = serde_json::value::to_raw_value(payload).map_err(|e| {
            Error::builder("the upsert payload cannot be serialized as JSON").with_source(e)
        })?;
        // Serialized compactly: an object starts with its brace.
        if !text.get().starts_with('{') {
            return Err(Error::builder(format!(
                "the upsert payload of `{}` is not a JSON object",
                E::NAME
            )));
        }
        Ok(Self {
            entity: E::NAME.to_owned(),
            payload: Payload::Json {
                text,
                parsed: OnceLock::new(),
            },
            key_fields: E::UNIQUE_FIELDS,
        })
    }

    /// An item of the entity named `entity` with the fields of `payload` (a JSON object). Only
    /// its `id` is known to identify a record; name the entity's unique fields with
    /// [`with_unique_fields`](Self::with_unique_fields) so that it can be retried by those too.
    pub fn from_value(entity: impl Into<String>, payload: Value) -> Self {
        Self {
            entity: entity.into(),
            payload: Payload::Value(payload),
            key_fields: &[],
        }
    }

    /// Declares the entity's unique fields (`unique` in the instance metadata), by which AtroCore
    /// finds an existing record when the item has no `id`.
    #[must_use]
    pub fn with_unique_fields(mut self, fields: &'static [&'static str]) -> Self {
        self.key_fields = fields;
        self
    }

    /// Whether the server finds the same record each time this item is sent (it has an `id` or
    /// a value for a unique field), so that sending it again cannot create a duplicate.
    pub fn is_keyed(&self) -> bool {
        match &self.payload {
            Payload::Json { text, parsed } => match parsed.get() {
                Some(v) => self.value_is_keyed(v),
                None => sets_a_key(text.get(), self.key_fields),
            },
            Payload::Value(v) => self.value_is_keyed(v),
        }
    }

    pub(super) fn value_is_keyed(&self, v: &Value) -> bool {
        let set = |k: &str| v.get(k).is_some_and(is_set);
        set("id") || self.key_fields.iter().any(|k| set(k))
    }

    /// About how many bytes the item takes in a request body.
    pub(super) fn encoded_size_hint(&self) -> usize {
        let payload = match &self.payload {
            Payload::Json { text, .. } => text.get().len(),
            Payload::Value(_) => 64,
        };
        self.entity.len() + payload + 26
    }

    /// The entity's wire name.
    pub fn entity(&self) -> &str {
        &self.entity
    }

    /// The fields to store.
    pub fn payload(&self) -> &Value {
        match &self.payload {
            Payload::Json { text, parsed } => parsed.get_or_init(|| {
                // The text was serialized by serde_json: it parses.
                serde_json::from_str(text.get()).unwrap_or(Value::Null)
            }),
            Payload::Value(v) => v,
        }
    }
}

/// A value that can be upserted as a record of `E`: the entity's generated create struct, owned
/// or borrowed (generated crates implement it). Its `id` or a unique field finds an existing
/// record; otherwise a record is created.
pub trait UpsertPayload<E: Entity> {
    /// The item to send.
    fn upsert_item(&self) -> Result<UpsertItem>;
}

impl<E: Entity, T: UpsertPayload<E> + ?Sized> UpsertPayload<E> for &T {
    fn upsert_item(&self) -> Result<UpsertItem> {
        (**self).upsert_item()
    }
}

impl<S: Into<String>> From<(S, Value)> for UpsertItem {
    fn from((entity, payload): (S, Value)) -> Self {
        Self::from_value(entity, payload)
    }
}
