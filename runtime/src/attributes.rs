//! Attribute values of records, through the simple endpoints of any entity with attributes
//! (`Product`, `Listing`, …): `GET /{E}/{id}/attributeValues`, `POST …/addAttributes`,
//! `POST …/upsertAttributeValues`, `DELETE …/attributeValues` (with a JSON body).
//!
//! A write that changes nothing is not an error: AtroCore answers some of them with
//! `304 Not Modified` and no body, which these calls report as [`WriteOutcome::NotModified`].

use std::fmt;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::client::Client;
use crate::encode::encode_path_segment;
use crate::entity::Entity;
use crate::error::Result;
use crate::outcome::WriteOutcome;
use crate::request::RequestBuilder;

/// The `value` of an attribute: its JSON shape as an enum.
///
/// ```
/// use atrocore_runtime::AttrValue;
///
/// assert_eq!(AttrValue::from(12.5).as_f64(), Some(12.5));
/// assert_eq!(AttrValue::from("red").as_str(), Some("red"));
/// assert_eq!(serde_json::to_string(&AttrValue::from(true)).unwrap(), "true");
/// let list: AttrValue = serde_json::from_str(r#"["a","b"]"#).unwrap();
/// assert!(matches!(list, AttrValue::List(ref v) if v.len() == 2));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AttrValue {
    /// No value (`null`).
    #[default]
    Null,
    /// `bool` attributes.
    Bool(bool),
    /// `int`, `float` and measured attributes.
    Number(Number),
    /// Text, enum option ids, dates.
    Text(String),
    /// Multi-value attributes (`array`, `extensibleMultiEnum`).
    List(Vec<Value>),
    /// Anything else the server sends.
    Object(Map<String, Value>),
    /// A float JSON cannot carry (NaN or an infinity), from `AttrValue::from(f64)`: kept so that
    /// sending it fails with an error naming the attribute, instead of storing `null`.
    NotFinite(f64),
}

impl AttrValue {
    /// The number as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

impl From<Value> for AttrValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(b),
            Value::Number(n) => Self::Number(n),
            Value::String(s) => Self::Text(s),
            Value::Array(a) => Self::List(a),
            Value::Object(o) => Self::Object(o),
        }
    }
}

impl From<AttrValue> for Value {
    fn from(v: AttrValue) -> Self {
        match v {
            AttrValue::Null => Value::Null,
            AttrValue::Bool(b) => Value::Bool(b),
            AttrValue::Number(n) => Value::Number(n),
            AttrValue::Text(s) => Value::String(s),
            AttrValue::List(a) => Value::Array(a),
            AttrValue::Object(o) => Value::Object(o),
            // JSON has no NaN: serializing an `AttrValue` fails instead.
            AttrValue::NotFinite(_) => Value::Null,
        }
    }
}

macro_rules! attr_from {
    ($($t:ty => $body:expr),* $(,)?) => {$(
        impl From<$t> for AttrValue {
            fn from(v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                ($body)(v)
            }
        }
    )*};
}

attr_from! {
    bool => AttrValue::Bool,
    i32 => |v: i32| AttrValue::Number(v.into()),
    i64 => |v: i64| AttrValue::Number(v.into()),
    u32 => |v: u32| AttrValue::Number(v.into()),
    u64 => |v: u64| AttrValue::Number(v.into()),
    f64 => |v: f64| Number::from_f64(v).map_or(AttrValue::NotFinite(v), AttrValue::Number),
    String => AttrValue::Text,
    &str => |v: &str| AttrValue::Text(v.to_owned()),
    Vec<String> => |v: Vec<String>| AttrValue::List(v.into_iter().map(Value::String).collect()),
}

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_unit(),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Number(n) => n.serialize(s),
            Self::Text(t) => s.serialize_str(t),
            Self::List(a) => a.serialize(s),
            Self::Object(o) => o.serialize(s),
            Self::NotFinite(f) => Err(serde::ser::Error::custom(format!(
                "the attribute value {f} is not a finite number: JSON cannot carry it"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Value::deserialize(d).map(Self::from)
    }
}

/// One attribute value of a record, as `GET …/attributeValues` returns it and as
/// `upsertAttributeValues` takes it.
///
/// Only `attributeId` and the `value…` input fields that are set are sent by
/// [`RecordAttributes::upsert`]; the read-only fields (`name`, `type`, `valueUnitName`, …) come
/// from the server.
///
/// ```
/// use atrocore_runtime::AttributeValue;
///
/// let weight = AttributeValue::new("a01weight", 12.5).unit("kg");
/// let colour = AttributeValue::new("a01colour", "red").localized("valueDeDe", "rot");
/// let json = serde_json::to_value(&weight).unwrap();
/// assert_eq!(json, serde_json::json!({ "attributeId": "a01weight", "value": 12.5, "valueUnitId": "kg" }));
/// # let _ = colour;
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AttributeValue {
    /// The attribute's id.
    #[serde(rename = "attributeId")]
    pub attribute_id: String,
    /// The value; `None` when absent or `null` (send `Some(AttrValue::Null)` to clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AttrValue>,
    /// The unit id of a measured value (`valueUnitId`).
    #[serde(
        rename = "valueUnitId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub value_unit_id: Option<String>,
    /// The unit's name (read-only).
    #[serde(
        rename = "valueUnitName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub value_unit_name: Option<String>,
    /// The lower bound of a range value (`valueFrom`).
    #[serde(rename = "valueFrom", default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<Number>,
    /// The upper bound of a range value (`valueTo`).
    #[serde(rename = "valueTo", default, skip_serializing_if = "Option::is_none")]
    pub value_to: Option<Number>,
    /// The linked record of a link attribute (`valueId`).
    #[serde(rename = "valueId", default, skip_serializing_if = "Option::is_none")]
    pub value_id: Option<String>,
    /// The linked records of a multi-link attribute (`valueIds`).
    #[serde(rename = "valueIds", default, skip_serializing_if = "Option::is_none")]
    pub value_ids: Option<Vec<String>>,
    /// The attribute's name (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The attribute's type, e.g. `varchar`, `float` (read-only).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether a value is required (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Whether the value may be changed (read-only).
    #[serde(rename = "readOnly", default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Every other field: per-language values (`valueDeDe`), option data, …
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Input fields set by typed handles as references by code (`attributeId`,
    /// `valueUnitId`), sent in place of the fields above and resolved to ids when sent
    /// (`code_refs.rs`).
    #[serde(skip)]
    by_code: Map<String, Value>,
}

impl AttributeValue {
    /// A value of the attribute `attribute_id`.
    pub fn new(attribute_id: impl Into<String>, value: impl Into<AttrValue>) -> Self {
        Self {
            attribute_id: attribute_id.into(),
            value: Some(value.into()),
            ..Self::default()
        }
    }

    /// A value of the attribute of `entity` with `code` (2.2 `code`, 2.3 `systemName`), which
    /// the request resolves to the attribute's id on the instance when it is sent; typed
    /// attribute handles make these (`attr::weight().value(2.5)`).
    pub fn by_code(entity: &str, code: &str, value: impl Into<AttrValue>) -> Self {
        let mut v = Self::new(code, value);
        v.by_code.insert(
            "attributeId".into(),
            crate::code_refs::attribute_reference(entity, code),
        );
        v
    }

    /// Sets the unit of a measured value: a `Unit` id, or a generated unit enum's variant
    /// (`MassUnit::Kg`, found by code on the instance when sent).
    #[must_use]
    pub fn unit(mut self, unit: impl Into<crate::code_refs::UnitRef>) -> Self {
        match unit.into() {
            crate::code_refs::UnitRef::Id(id) => {
                self.by_code.remove("valueUnitId");
                self.value_unit_id = Some(id);
            }
            code => {
                self.value_unit_id = None;
                self.by_code.insert("valueUnitId".into(), code.to_json());
            }
        }
        self
    }

    /// Sets a per-language value, e.g. `localized("valueDeDe", "rot")`.
    #[must_use]
    pub fn localized(mut self, field: impl Into<String>, value: impl Into<AttrValue>) -> Self {
        self.extra.insert(field.into(), Value::from(value.into()));
        self
    }

    /// The form sent to `upsertAttributeValues`: `attributeId` and the input `value…` fields.
    fn to_input(&self) -> Result<Value> {
        if let Some(AttrValue::NotFinite(f)) = &self.value {
            return Err(crate::error::Error::builder(format!(
                "attribute `{}`: the value {f} is not a finite number and cannot be sent",
                self.attribute_id
            )));
        }
        let mut m = Map::new();
        m.insert(
            "attributeId".into(),
            Value::String(self.attribute_id.clone()),
        );
        if let Some(v) = &self.value {
            m.insert("value".into(), Value::from(v.clone()));
        }
        let mut opt = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        opt("valueUnitId", self.value_unit_id.clone().map(Value::String));
        opt("valueFrom", self.value_from.clone().map(Value::Number));
        opt("valueTo", self.value_to.clone().map(Value::Number));
        opt("valueId", self.value_id.clone().map(Value::String));
        opt(
            "valueIds",
            self.value_ids
                .clone()
                .map(|v| Value::Array(v.into_iter().map(Value::String).collect())),
        );
        for (k, v) in &self.extra {
            if is_language_value(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in &self.by_code {
            m.insert(k.clone(), v.clone());
        }
        Ok(Value::Object(m))
    }
}

/// `valueDeDe`, `valueFrFr`, …: `value` and a four-letter language code.
fn is_language_value(k: &str) -> bool {
    k.strip_prefix("value").is_some_and(|l| {
        l.len() == 4
            && l.chars().all(|c| c.is_ascii_alphabetic())
            && l.starts_with(|c: char| c.is_ascii_uppercase())
    })
}

/// The answer of `DELETE …/attributeValues`: 2.2 sends `{count, errors}` (never `304`), 2.3 a
/// bare `true`, or `304 Not Modified` when none of the attributes was on the record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemovedAttributes {
    /// How many values were removed, when the server says (2.2).
    pub count: Option<u64>,
    /// The server's errors, if any.
    pub errors: Vec<Value>,
    /// [`WriteOutcome::NotModified`] when the server answered `304` (2.3) or a `count` of `0`
    /// (2.2).
    pub outcome: WriteOutcome,
}

/// Sends a write and reads `304 Not Modified` as "nothing changed" (`None`), not as an error.
///
/// AtroCore's attribute handlers pass the write to `updateEntity` and let its `NotModified`
/// through (2.2 `Base::actionUpsertAttributeValues`, 2.3 `UpsertAttributeValuesHandler`,
/// `DeleteAttributeValuesHandler`), so `304` is an ordinary answer of these routes.
async fn send_write<T: DeserializeOwned>(request: RequestBuilder) -> Result<Option<T>> {
    request.send_json_unless_not_modified().await
}

/// The attribute endpoints of one record; see [`Client::attributes`].
///
/// ```no_run
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::AttributeValue;
///
/// let attrs = client.attributes_of("Product", "a01product");
/// attrs.add(["a01weight", "a01colour"]).await?;
/// attrs
///     .upsert(&[
///         AttributeValue::new("a01weight", 12.5).unit("kg"),
///         AttributeValue::new("a01colour", "red"),
///     ])
///     .await?;
/// // The same values again change nothing: AtroCore answers 304, reported as `NotModified`.
/// let again = attrs.upsert(&[AttributeValue::new("a01colour", "red")]).await?;
/// assert!(again.is_not_modified());
/// for v in attrs.list().await? {
///     println!("{} = {:?} {:?}", v.attribute_id, v.value, v.value_unit_name);
/// }
/// let removed = attrs.remove(["a01colour"]).await?;
/// println!("{:?} removed ({:?})", removed.count, removed.outcome);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RecordAttributes {
    client: Client,
    entity: String,
    id: String,
}

impl fmt::Debug for RecordAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordAttributes")
            .field("entity", &self.entity)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl RecordAttributes {
    fn path(&self, action: &str) -> String {
        format!(
            "/{}/{}/{action}",
            encode_path_segment(&self.entity),
            encode_path_segment(&self.id)
        )
    }

    /// `GET …/attributeValues`: every attribute value of the record.
    pub async fn list(&self) -> Result<Vec<AttributeValue>> {
        self.client
            .request(Method::GET, self.path("attributeValues"))
            .send_json()
            .await
    }

    /// `GET …/attributeValues` with the `language` header: values in one language.
    pub async fn list_in(&self, language: &str) -> Result<Vec<AttributeValue>> {
        self.client
            .request(Method::GET, self.path("attributeValues"))
            .header("language", language)
            .send_json()
            .await
    }

    /// `POST …/addAttributes`: assigns attributes without values. Attributes already on the
    /// record are skipped and the answer is still `true`; 2.2 answers `false` when none of the
    /// ids names an attribute.
    pub async fn add<I>(&self, attribute_ids: I) -> Result<bool>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let ids: Vec<String> = attribute_ids.into_iter().map(Into::into).collect();
        self.client
            .request(Method::POST, self.path("addAttributes"))
            .json(&serde_json::json!({ "attributeIds": ids }))
            .idempotent(true)
            .send_json()
            .await
    }

    /// `POST …/upsertAttributeValues`: creates or changes these values (others stay).
    ///
    /// Values that change nothing are answered `304 Not Modified` by both generations; that
    /// resolves to [`WriteOutcome::NotModified`], not to an error.
    pub async fn upsert(&self, values: &[AttributeValue]) -> Result<WriteOutcome> {
        let body: Vec<Value> = values
            .iter()
            .map(AttributeValue::to_input)
            .collect::<Result<_>>()?;
        let answer: Option<Value> = send_write(
            self.client
                .request(Method::POST, self.path("upsertAttributeValues"))
                .json(&body)
                .idempotent(true),
        )
        .await?;
        Ok(match answer {
            Some(_) => WriteOutcome::Changed,
            None => WriteOutcome::NotModified,
        })
    }

    /// `DELETE …/attributeValues` with the body `{attributeIds}`: removes these attributes.
    ///
    /// Removing nothing is not an error: [`RemovedAttributes::outcome`] is then
    /// [`WriteOutcome::NotModified`] (2.3 answers `304`, 2.2 a `count` of `0`).
    pub async fn remove<I>(&self, attribute_ids: I) -> Result<RemovedAttributes>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let ids: Vec<String> = attribute_ids.into_iter().map(Into::into).collect();
        let answer: Option<Value> = send_write(
            self.client
                .request(Method::DELETE, self.path("attributeValues"))
                .json(&serde_json::json!({ "attributeIds": ids }))
                .idempotent(true),
        )
        .await?;
        Ok(removed_from(answer))
    }
}

/// Reads the answer of `DELETE …/attributeValues` (`None`: `304 Not Modified`).
pub(crate) fn removed_from(answer: Option<Value>) -> RemovedAttributes {
    match answer {
        None => RemovedAttributes {
            outcome: WriteOutcome::NotModified,
            ..RemovedAttributes::default()
        },
        Some(Value::Object(o)) => {
            let count = o.get("count").and_then(Value::as_u64);
            RemovedAttributes {
                count,
                errors: o
                    .get("errors")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                outcome: if count == Some(0) {
                    WriteOutcome::NotModified
                } else {
                    WriteOutcome::Changed
                },
            }
        }
        Some(_) => RemovedAttributes::default(),
    }
}

impl Client {
    /// The attribute endpoints of the record `id` of `E`.
    pub fn attributes<E: Entity>(&self, id: &str) -> RecordAttributes {
        self.attributes_of(E::NAME, id)
    }

    /// The attribute endpoints of the record `id` of the entity named `entity`.
    pub fn attributes_of(&self, entity: &str, id: &str) -> RecordAttributes {
        RecordAttributes {
            client: self.clone(),
            entity: entity.to_owned(),
            id: id.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_form_keeps_only_input_fields() {
        let mut v: AttributeValue = serde_json::from_value(json!({
            "attributeId": "a1", "type": "float", "value": 3, "valueUnitId": "kg",
            "valueUnitName": "Kilogram", "valueDeDe": "x", "valueOptionsData": [], "visible": true
        }))
        .unwrap();
        assert_eq!(v.kind.as_deref(), Some("float"));
        assert_eq!(v.value_unit_name.as_deref(), Some("Kilogram"));
        assert_eq!(v.value.as_ref().and_then(AttrValue::as_f64), Some(3.0));
        assert_eq!(
            v.to_input().unwrap(),
            json!({"attributeId": "a1", "value": 3, "valueUnitId": "kg", "valueDeDe": "x"})
        );
        v.value = Some(AttrValue::Null);
        assert_eq!(v.to_input().unwrap()["value"], Value::Null);
        // NaN is an error naming the attribute, not a silent null.
        for bad in [f64::NAN, f64::INFINITY] {
            v.value = Some(AttrValue::from(bad));
            let e = v.to_input().unwrap_err();
            assert!(e.is_builder() && e.to_string().contains("a1"), "{e}");
            assert!(serde_json::to_string(&AttrValue::from(bad)).is_err());
        }
        let read: AttributeValue =
            serde_json::from_value(json!({"attributeId": "a", "value": null})).unwrap();
        assert_eq!(read.value, None);
    }

    #[test]
    fn removal_answers_tell_whether_anything_changed() {
        let not_modified = removed_from(None);
        assert_eq!(not_modified.outcome, WriteOutcome::NotModified);
        let none = removed_from(Some(json!({"count": 0, "errors": []})));
        assert_eq!(
            (none.count, none.outcome),
            (Some(0), WriteOutcome::NotModified)
        );
        let one = removed_from(Some(json!({"count": 1, "errors": []})));
        assert_eq!((one.count, one.outcome), (Some(1), WriteOutcome::Changed));
        assert_eq!(
            removed_from(Some(json!(true))).outcome,
            WriteOutcome::Changed
        );
    }
}
