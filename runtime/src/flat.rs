//! Attributes in the flattened format (`Flatten-Attributes: true`): [`FlatAttributes`] reads the
//! virtual fields and `attributesDefs` of a record, [`AttributeChanges`] writes them.
//!
//! With the header `Flatten-Attributes: true` AtroCore adds every attribute value of a record
//! (`Product`, `Listing`, … with PIM) as *virtual fields*, keyed by the attribute's code (or its
//! id when it has no code). One attribute may give several fields: a measured float `weight`
//! comes as `weight`, `weightUnitId` and `weightUnitName`; a range as `weightFrom`/`weightTo`; a
//! multilingual text as `title`, `titleDeDe`, …. The object `attributesDefs` describes each
//! attribute (`attributeId`, `type`, and in single-record answers `label`, `measureId`, …).
//!
//! Generated record types keep these fields in their `extra` map, so
//! [`FlatAttributes::from_extra`] gives typed access to them (when the spec declares
//! `attributesDefs` as a field, as the 2.2 PIM specs do for `Product`, use
//! [`FlatAttributes::from_parts`] with that field, or [`FlatAttributes::from_record`]):
//!
//! ```
//! use atrocore_runtime::FlatAttributes;
//!
//! // `product.extra` of a record read with `.flatten_attributes(true)`:
//! let extra = serde_json::json!({
//!     "priceAttr": 100, "priceAttrUnitId": "usd", "priceAttrUnitName": "USD",
//!     "headline": "Hi", "headlineDeDe": "Hallo",
//!     "attributesDefs": {
//!         "priceAttr": { "attributeId": "a02", "type": "float", "measureId": "currency" },
//!         "headline": { "attributeId": "a01", "type": "varchar", "label": "Headline" }
//!     }
//! });
//! let attrs = FlatAttributes::from_extra(extra.as_object().unwrap());
//! let price = attrs.get("priceAttr").unwrap();
//! assert_eq!(price.as_f64(), Some(100.0));
//! assert_eq!(price.unit_id(), Some("usd"));
//! assert_eq!(price.unit_name(), Some("USD"));
//! assert_eq!(price.def().and_then(|d| d.measure_id.as_deref()), Some("currency"));
//! assert_eq!(attrs.get("headline").unwrap().localized("de_DE"), Some(&serde_json::json!("Hallo")));
//! assert_eq!(attrs.code_of("a01"), Some("headline"));
//! assert_eq!(attrs.def("headline").unwrap().label.as_deref(), Some("Headline"));
//! ```
//!
//! Changes go the other way: [`AttributeChanges`] collects virtual fields and the
//! `__attributes` / `__attributesToRemove` lists, and is put into a patch struct's `extra` map
//! (or sent as the body itself); send it with `Flatten-Attributes: true`:
//!
//! ```
//! use atrocore_runtime::AttributeChanges;
//!
//! let changes = AttributeChanges::new()
//!     .assign(["a01weight"])                   // __attributes
//!     .set_with_unit("weight", 12.5, "kg")      // weight = 12.5, weightUnitId = "kg"
//!     .localized("headline", "de_DE", "Hallo")  // headlineDeDe
//!     .unassign(["a03old"]);                    // __attributesToRemove
//! let mut extra = serde_json::Map::new();       // e.g. `ProductPatch::extra`
//! changes.apply_to(&mut extra);
//! assert_eq!(serde_json::Value::Object(extra), serde_json::json!({
//!     "__attributes": ["a01weight"],
//!     "weight": 12.5, "weightUnitId": "kg", "headlineDeDe": "Hallo",
//!     "__attributesToRemove": ["a03old"]
//! }));
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The key of the attribute definitions in a flattened record.
pub const ATTRIBUTES_DEFS: &str = "attributesDefs";
/// The key of the attribute ids to assign in a flattened update.
pub const ADD_ATTRIBUTES: &str = "__attributes";
/// The key of the attribute ids to unassign in a flattened update.
pub const REMOVE_ATTRIBUTES: &str = "__attributesToRemove";

/// Suffixes of the virtual fields an attribute may add besides its main one.
const SUFFIXES: [&str; 6] = ["UnitId", "UnitName", "From", "To", "Id", "Ids"];

/// One entry of `attributesDefs`: what the server says about an attribute's virtual field.
///
/// List answers carry a minimal form (`attributeId`, `type`), single-record answers the full one;
/// keys this type does not name are kept in [`other`](Self::other).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttributeDef {
    /// The attribute's id (`attributeId`).
    #[serde(rename = "attributeId", skip_serializing_if = "Option::is_none")]
    pub attribute_id: Option<String>,
    /// The attribute's type, e.g. `varchar`, `float`, `extensibleEnum` (`type`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The attribute's label (single-record answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The measure of a measured attribute (`measureId`).
    #[serde(rename = "measureId", skip_serializing_if = "Option::is_none")]
    pub measure_id: Option<String>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A typed view of the flattened attributes of one record: values, units and definitions by
/// attribute code. See the [module docs](self) for the format.
///
/// Built from a record's unknown fields ([`from_extra`](Self::from_extra), e.g.
/// `FlatAttributes::from_extra(&listing.extra)`, or [`from_parts`](Self::from_parts) when the
/// generated type has an `attributes_defs` field) or from a whole record
/// ([`from_record`](Self::from_record), e.g. `FlatAttributes::from_record(&product)?`). It copies what it needs, so the record may be dropped.
///
/// An attribute is known when `attributesDefs` describes it or, for answers without definitions,
/// when its main field is present (look it up with [`get`](Self::get) by code).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatAttributes {
    /// The record's fields (extra map or whole record), without `attributesDefs`.
    fields: Map<String, Value>,
    /// `attributesDefs`, by virtual field name, in the server's order.
    defs: Vec<(String, AttributeDef)>,
}

impl FlatAttributes {
    /// Reads the virtual fields and `attributesDefs` from a record's `extra` map (the fields its
    /// generated type does not know). A missing or malformed `attributesDefs` gives no
    /// definitions (PHP's `[]` for an empty object included).
    pub fn from_extra(extra: &Map<String, Value>) -> Self {
        Self::from_parts(extra, None)
    }

    /// Reads the virtual fields from a record's `extra` map and the definitions from
    /// `attributes_defs` (or, when that is `None`, from `attributesDefs` in `extra`).
    ///
    /// For record types whose spec declares `attributesDefs` as a field (the 2.2 PIM specs do
    /// for `Product`), the generated type keeps the definitions in its own field:
    /// `FlatAttributes::from_parts(&product.extra, product.attributes_defs.as_ref())`.
    pub fn from_parts(
        extra: &Map<String, Value>,
        attributes_defs: Option<&crate::AttributeDefs>,
    ) -> Self {
        let mut fields = extra.clone();
        let in_extra = fields.remove(ATTRIBUTES_DEFS);
        let defs = match attributes_defs {
            Some(defs) => defs.clone().into_vec(),
            None => in_extra
                .and_then(|v| crate::AttributeDefs::deserialize(v).ok())
                .unwrap_or_default()
                .into_vec(),
        };
        Self { fields, defs }
    }

    /// Reads them from a whole record: a JSON object, or any record type that serializes to one
    /// (generated record types do, with their `extra` map flattened in).
    ///
    /// Fails with [`ErrorKind::Decode`](crate::ErrorKind::Decode) when `record` does not
    /// serialize to a JSON object.
    pub fn from_record<T: Serialize + ?Sized>(record: &T) -> Result<Self> {
        match serde_json::to_value(record) {
            Ok(Value::Object(m)) => Ok(Self::from_extra(&m)),
            Ok(_) => Err(Error::new(crate::ErrorKind::Decode)
                .with_message("a flattened record must be a JSON object")),
            Err(e) => Err(Error::decode(e)),
        }
    }

    /// The attribute with this code (the virtual field's name: the attribute's code, or its id
    /// when it has none); `None` when the record has neither a definition nor a value for it.
    pub fn get(&self, code: &str) -> Option<FlatAttribute<'_>> {
        let def = self.def(code);
        if def.is_none() && !self.fields.contains_key(code) {
            return None;
        }
        Some(FlatAttribute {
            code: self.code_ref(code),
            def,
            fields: &self.fields,
        })
    }

    /// The attribute with this id (looked up through `attributesDefs`).
    pub fn by_id(&self, attribute_id: &str) -> Option<FlatAttribute<'_>> {
        self.code_of(attribute_id).and_then(|c| self.get(c))
    }

    /// The main value of the attribute `code` (`None` when absent; `Some(Value::Null)` when
    /// assigned without a value).
    pub fn value(&self, code: &str) -> Option<&Value> {
        self.fields.get(code)
    }

    /// The main value of the attribute `code`, decoded as `T` (`Ok(None)` when absent or `null`).
    pub fn value_as<T: DeserializeOwned>(&self, code: &str) -> Result<Option<T>> {
        match self.fields.get(code) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::deserialize(v).map(Some).map_err(Error::decode),
        }
    }

    /// The definition of the attribute `code`, from `attributesDefs`.
    pub fn def(&self, code: &str) -> Option<&AttributeDef> {
        self.defs.iter().find(|(k, _)| k == code).map(|(_, d)| d)
    }

    /// The code (virtual field name) of the attribute with this id.
    pub fn code_of(&self, attribute_id: &str) -> Option<&str> {
        self.defs
            .iter()
            .find(|(_, d)| d.attribute_id.as_deref() == Some(attribute_id))
            .map(|(k, _)| k.as_str())
    }

    /// The codes described by `attributesDefs`, in the server's order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.defs.iter().map(|(k, _)| k.as_str())
    }

    /// Every attribute described by `attributesDefs`, in the server's order.
    pub fn iter(&self) -> impl Iterator<Item = FlatAttribute<'_>> {
        self.defs.iter().map(|(k, d)| FlatAttribute {
            code: k,
            def: Some(d),
            fields: &self.fields,
        })
    }

    /// `attributesDefs` as a map from code to definition.
    pub fn defs(&self) -> BTreeMap<&str, &AttributeDef> {
        self.defs.iter().map(|(k, d)| (k.as_str(), d)).collect()
    }

    /// The number of attributes described by `attributesDefs`.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// `true` when `attributesDefs` describes no attribute.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// `true` when the record has the attribute `code` (a definition or a value).
    pub fn contains(&self, code: &str) -> bool {
        self.get(code).is_some()
    }

    /// `code` borrowed from a definition key when there is one (so the view outlives the
    /// argument), else from the field map.
    fn code_ref(&self, code: &str) -> &str {
        self.defs
            .iter()
            .find(|(k, _)| k == code)
            .map(|(k, _)| k.as_str())
            .or_else(|| self.fields.get_key_value(code).map(|(k, _)| k.as_str()))
            .unwrap_or_default()
    }
}

/// One attribute of a [`FlatAttributes`]: its value, unit, range, per-language values and
/// definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlatAttribute<'a> {
    code: &'a str,
    def: Option<&'a AttributeDef>,
    fields: &'a Map<String, Value>,
}

impl<'a> FlatAttribute<'a> {
    /// The attribute's code (its virtual field name).
    pub fn code(&self) -> &'a str {
        self.code
    }

    /// Its definition from `attributesDefs`, if the answer had one.
    pub fn def(&self) -> Option<&'a AttributeDef> {
        self.def
    }

    /// Its id, from the definition.
    pub fn attribute_id(&self) -> Option<&'a str> {
        self.def.and_then(|d| d.attribute_id.as_deref())
    }

    /// Its type (`float`, `varchar`, …), from the definition.
    pub fn kind(&self) -> Option<&'a str> {
        self.def.and_then(|d| d.kind.as_deref())
    }

    /// The main value; `null` when the attribute is assigned without a value.
    pub fn value(&self) -> &'a Value {
        self.fields.get(self.code).unwrap_or(&Value::Null)
    }

    /// The value decoded as `T` (`Ok(None)` when `null`).
    pub fn value_as<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        match self.value() {
            Value::Null => Ok(None),
            v => T::deserialize(v).map(Some).map_err(Error::decode),
        }
    }

    /// The value as a number (`int`, `float`, measured attributes).
    pub fn as_f64(&self) -> Option<f64> {
        self.value().as_f64()
    }

    /// The value as an integer.
    pub fn as_i64(&self) -> Option<i64> {
        self.value().as_i64()
    }

    /// The value as text (text attributes, dates, option ids of `extensibleEnum`).
    pub fn as_str(&self) -> Option<&'a str> {
        self.value().as_str()
    }

    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        self.value().as_bool()
    }

    /// `true` when the value is `null` or absent.
    pub fn is_null(&self) -> bool {
        self.value().is_null()
    }

    /// A companion field `<code><suffix>`, e.g. `field("UnitId")` for `weightUnitId`.
    pub fn field(&self, suffix: &str) -> Option<&'a Value> {
        self.fields.get(&format!("{}{suffix}", self.code))
    }

    /// The unit id of a measured value (`<code>UnitId`).
    pub fn unit_id(&self) -> Option<&'a str> {
        self.field("UnitId").and_then(Value::as_str)
    }

    /// The unit's name (`<code>UnitName`).
    pub fn unit_name(&self) -> Option<&'a str> {
        self.field("UnitName").and_then(Value::as_str)
    }

    /// The lower bound of a range attribute (`<code>From`).
    pub fn from(&self) -> Option<f64> {
        self.field("From").and_then(Value::as_f64)
    }

    /// The upper bound of a range attribute (`<code>To`).
    pub fn to(&self) -> Option<f64> {
        self.field("To").and_then(Value::as_f64)
    }

    /// The value in a language (`de_DE` → `<code>DeDe`) of a multilingual attribute.
    pub fn localized(&self, language: &str) -> Option<&'a Value> {
        self.field(&language_suffix(language))
    }

    /// The attribute's virtual fields present in the record: the main one and its companions
    /// (unit, range, link and per-language fields), with their values.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        let code = self.code;
        self.fields.iter().filter_map(move |(k, v)| {
            let rest = k.strip_prefix(code)?;
            (rest.is_empty() || SUFFIXES.contains(&rest) || is_language_suffix(rest))
                .then_some((k.as_str(), v))
        })
    }
}

/// `de_DE` → `DeDe`, `en_US` → `EnUs`: the suffix AtroCore gives per-language fields.
pub(crate) fn language_suffix(language: &str) -> String {
    language
        .split(['_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// `DeDe`, `FrFr`: an uppercase letter, a lowercase one, twice.
fn is_language_suffix(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_lowercase()
        && b[2].is_ascii_uppercase()
        && b[3].is_ascii_lowercase()
}

/// Changes to attributes in the flattened format: virtual field values and the lists
/// `__attributes` (assign) and `__attributesToRemove` (unassign). Send with
/// `Flatten-Attributes: true`.
///
/// Either put them into a generated patch struct with [`apply_to`](Self::apply_to)
/// (`changes.apply_to(&mut patch.extra)`), or send them as the body on their own: they serialize
/// to the JSON object of the update.
///
/// ```no_run
/// # use atrocore_runtime::{Entity, EntityField};
/// # #[derive(serde::Deserialize)] struct Product { }
/// # #[derive(Clone, Copy)] enum ProductField { Id }
/// # impl EntityField for ProductField { fn name(self) -> &'static str { "id" } }
/// # impl Entity for Product { const NAME: &'static str = "Product"; type Record = serde_json::Value; type Field = ProductField; type Id = atrocore_runtime::Id<Product>; }
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use atrocore_runtime::{AttributeChanges, FlatAttributes, Method};
///
/// let changes = AttributeChanges::new().assign(["a01weight"]).set_with_unit("weight", 12.5, "kg");
/// let product = client
///     .update::<Product, _>(Method::PATCH, "a01product", &changes)
///     .flatten_attributes(true)
///     .await?;
/// let attrs = FlatAttributes::from_record(&product)?;
/// assert_eq!(attrs.get("weight").and_then(|w| w.unit_id()), Some("kg"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeChanges {
    add: Vec<String>,
    fields: Map<String, Value>,
    remove: Vec<String>,
}

impl AttributeChanges {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value of the attribute `code`.
    #[must_use]
    pub fn set(self, code: impl Into<String>, value: impl Into<Value>) -> Self {
        self.field(code, value)
    }

    /// Clears the value of the attribute `code` (sends `null`; the attribute stays assigned).
    #[must_use]
    pub fn clear(self, code: impl Into<String>) -> Self {
        self.field(code, Value::Null)
    }

    /// Sets a measured value and its unit (`<code>` and `<code>UnitId`).
    #[must_use]
    pub fn set_with_unit(
        self,
        code: impl Into<String>,
        value: impl Into<Value>,
        unit_id: impl Into<String>,
    ) -> Self {
        let code = code.into();
        self.unit(code.clone(), unit_id).field(code, value)
    }

    /// Sets the unit of a measured value (`<code>UnitId`).
    #[must_use]
    pub fn unit(self, code: impl Into<String>, unit_id: impl Into<String>) -> Self {
        let name = format!("{}UnitId", code.into());
        self.field(name, Value::String(unit_id.into()))
    }

    /// Sets the bounds of a range attribute (`<code>From`, `<code>To`).
    #[must_use]
    pub fn range(
        self,
        code: impl Into<String>,
        from: impl Into<Value>,
        to: impl Into<Value>,
    ) -> Self {
        let code = code.into();
        self.field(format!("{code}From"), from)
            .field(format!("{code}To"), to)
    }

    /// Sets the value in a language (`de_DE` → `<code>DeDe`) of a multilingual attribute.
    #[must_use]
    pub fn localized(
        self,
        code: impl Into<String>,
        language: &str,
        value: impl Into<Value>,
    ) -> Self {
        let name = format!("{}{}", code.into(), language_suffix(language));
        self.field(name, value)
    }

    /// Sets any virtual field by its full name.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Assigns these attributes (ids, or codes) to the record (`__attributes`).
    #[must_use]
    pub fn assign<I>(mut self, attribute_ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.add.extend(attribute_ids.into_iter().map(Into::into));
        self
    }

    /// Unassigns these attributes (ids, or codes) from the record (`__attributesToRemove`).
    #[must_use]
    pub fn unassign<I>(mut self, attribute_ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.remove
            .extend(attribute_ids.into_iter().map(Into::into));
        self
    }

    /// These changes and then `other`'s (a field both set takes `other`'s value).
    #[must_use]
    pub fn and(mut self, other: AttributeChanges) -> Self {
        self.add.extend(other.add);
        self.fields.extend(other.fields);
        self.remove.extend(other.remove);
        self
    }

    /// `true` when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.fields.is_empty() && self.remove.is_empty()
    }

    /// Puts the changes into a body's field map (a generated patch struct's `extra`). Values of
    /// the same virtual field are replaced; ids are appended to `__attributes` /
    /// `__attributesToRemove` lists already there.
    pub fn apply_to(&self, extra: &mut Map<String, Value>) {
        append_ids(extra, ADD_ATTRIBUTES, &self.add);
        for (k, v) in &self.fields {
            extra.insert(k.clone(), v.clone());
        }
        append_ids(extra, REMOVE_ATTRIBUTES, &self.remove);
    }

    /// The changes as the JSON object of an update body.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        self.apply_to(&mut m);
        m
    }
}

fn append_ids(extra: &mut Map<String, Value>, key: &str, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let entry = extra
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    if let Value::Array(list) = entry {
        for id in ids {
            if !list.iter().any(|v| v.as_str() == Some(id)) {
                list.push(Value::String(id.clone()));
            }
        }
    }
}

impl Serialize for AttributeChanges {
    /// The JSON object of an update body: `__attributes`, the virtual fields,
    /// `__attributesToRemove`.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl From<AttributeChanges> for Map<String, Value> {
    fn from(c: AttributeChanges) -> Self {
        c.to_map()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> FlatAttributes {
        FlatAttributes::from_extra(v.as_object().unwrap())
    }

    #[test]
    fn reads_values_units_ranges_and_languages() {
        let a = attrs(json!({
            "weight": 12.5, "weightUnitId": "kg", "weightUnitName": "Kilogram",
            "size": null, "sizeFrom": 1, "sizeTo": 3,
            "title": "x", "titleDeDe": "y", "titleFrFr": "z", "titleColor": "not a companion",
            "attributesDefs": {
                "weight": {"attributeId": "a1", "type": "float", "measureId": "mass", "x": 1},
                "size": {"attributeId": "a2", "type": "rangeFloat"},
                "title": {"attributeId": "a3", "type": "varchar", "label": "Title"}
            }
        }));
        assert_eq!(a.len(), 3);
        assert_eq!(a.codes().collect::<Vec<_>>(), ["weight", "size", "title"]);
        let w = a.get("weight").unwrap();
        assert_eq!(
            (w.as_f64(), w.unit_id(), w.unit_name()),
            (Some(12.5), Some("kg"), Some("Kilogram"))
        );
        assert_eq!(w.kind(), Some("float"));
        assert_eq!(w.def().unwrap().other["x"], 1);
        let s = a.by_id("a2").unwrap();
        assert_eq!(
            (s.code(), s.is_null(), s.from(), s.to()),
            ("size", true, Some(1.0), Some(3.0))
        );
        let t = a.get("title").unwrap();
        assert_eq!(t.localized("de_DE"), Some(&json!("y")));
        assert_eq!(t.localized("fr-fr"), Some(&json!("z")));
        let names: Vec<_> = t.fields().map(|(k, _)| k).collect();
        assert_eq!(names, ["title", "titleDeDe", "titleFrFr"]);
        assert_eq!(a.value_as::<f64>("weight").unwrap(), Some(12.5));
        assert_eq!(a.value_as::<f64>("size").unwrap(), None);
        assert!(a.value_as::<bool>("weight").is_err());
        assert!(a.get("nope").is_none() && !a.contains("nope"));
    }

    #[test]
    fn without_defs_values_are_found_by_code() {
        let a = attrs(json!({"colour": "red", "attributesDefs": []}));
        assert!(a.is_empty());
        let c = a.get("colour").unwrap();
        assert_eq!(
            (c.code(), c.as_str(), c.def()),
            ("colour", Some("red"), None)
        );
        let from_record = FlatAttributes::from_record(&json!({"id": "p1", "n": 3})).unwrap();
        assert_eq!(from_record.get("n").unwrap().as_i64(), Some(3));
        assert!(FlatAttributes::from_record(&json!([1])).is_err());
        // Definitions from a typed field win over (absent) ones in `extra`.
        let defs: crate::AttributeDefs =
            serde_json::from_value(json!({"colour": {"attributeId": "a7", "type": "varchar"}}))
                .unwrap();
        let a =
            FlatAttributes::from_parts(json!({"colour": "red"}).as_object().unwrap(), Some(&defs));
        assert_eq!(a.by_id("a7").unwrap().as_str(), Some("red"));
    }

    #[test]
    fn changes_serialize_and_merge() {
        let c = AttributeChanges::new()
            .assign(["a1", "a2"])
            .set("colour", "red")
            .clear("size")
            .range("dims", 1, 2)
            .unit("weight", "g")
            .unassign(["a9"]);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({
                "__attributes": ["a1", "a2"], "colour": "red", "size": null,
                "dimsFrom": 1, "dimsTo": 2, "weightUnitId": "g", "__attributesToRemove": ["a9"]
            })
        );
        let mut extra = json!({"__attributes": ["a1", "a0"], "name": "kept"})
            .as_object()
            .unwrap()
            .clone();
        c.apply_to(&mut extra);
        assert_eq!(extra["__attributes"], json!(["a1", "a0", "a2"]));
        assert_eq!(extra["name"], "kept");
        assert!(AttributeChanges::new().is_empty());
        assert_eq!(language_suffix("de_DE"), "DeDe");
        assert!(is_language_suffix("DeDe") && !is_language_suffix("Dede"));
    }
}
