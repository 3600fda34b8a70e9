//! [`Meta`]: the typed `_meta` object AtroCore adds to records when asked with `With-Meta: true`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `_meta` object of a record (requested with `With-Meta: true`): what the current user may
/// do with it, the option records behind its list fields, audit data, and any other category
/// kept as received.
///
/// ```
/// use atrocore_runtime::{Meta, OptionRecords};
///
/// let meta: Meta = serde_json::from_str(r#"{
///     "permissions": {"edit": true, "delete": false, "stream": true},
///     "options": {"status": {"id": "o1", "code": "ready", "name": "Ready"}},
///     "locks": {"name": true}
/// }"#).unwrap();
/// assert!(meta.can_edit());
/// assert!(!meta.can_delete());
/// assert!(matches!(meta.options_of("status"), Some(OptionRecords::One(o)) if o["code"] == "ready"));
/// assert!(meta.other.contains_key("locks"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// What the current user may do with the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// For each list field (`extensibleEnum`, `extensibleMultiEnum`): the option record behind
    /// its value, or the option records behind its values.
    #[serde(skip_serializing_if = "Map::is_empty", with = "options_map")]
    pub options: Map<String, Value>,
    /// Audit data, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<Value>,
    /// Categories this type does not know, kept as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Keeps `options` a plain JSON map (values are one option object or a list of them; see
/// [`OptionRecords`]) while accepting PHP's `[]` for an empty map.
mod options_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::{Map, Value};

    pub(super) fn serialize<S: Serializer>(
        m: &Map<String, Value>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Map<String, Value>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Object(m) => m,
            _ => Map::new(),
        })
    }
}

impl Meta {
    /// The user may edit the record (`permissions.edit`; `false` when unknown).
    pub fn can_edit(&self) -> bool {
        self.permissions
            .as_ref()
            .and_then(|p| p.edit)
            .unwrap_or(false)
    }

    /// The user may delete the record (`permissions.delete`; `false` when unknown).
    pub fn can_delete(&self) -> bool {
        self.permissions
            .as_ref()
            .and_then(|p| p.delete)
            .unwrap_or(false)
    }

    /// The option record(s) behind the list field `field`.
    pub fn options_of(&self, field: &str) -> Option<OptionRecords<'_>> {
        self.options.get(field).map(OptionRecords::from_value)
    }
}

/// The option records behind one list field in [`Meta::options`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptionRecords<'a> {
    /// A single-value list field: one option object.
    One(&'a Map<String, Value>),
    /// A multi-value list field: one option object per value.
    Many(&'a [Value]),
    /// Something else, as sent.
    Other(&'a Value),
}

impl<'a> OptionRecords<'a> {
    fn from_value(v: &'a Value) -> Self {
        match v {
            Value::Object(m) => Self::One(m),
            Value::Array(items) => Self::Many(items),
            other => Self::Other(other),
        }
    }
}

/// `_meta.permissions`: what the current user may do with the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Permissions {
    /// May edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<bool>,
    /// May delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<bool>,
    /// May follow the record's stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// May unlink it (for records read through a relation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlink: Option<bool>,
    /// Other permissions, kept as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_unknown_keys() {
        let v = json!({
            "permissions": {"edit": true, "delete": true, "stream": true, "unlink": false, "share": true},
            "options": {"tags": [{"id": "a"}, {"id": "b"}]},
            "audit": {"createdBy": "u1"},
            "custom": [1, 2]
        });
        let m: Meta = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(m.permissions.as_ref().unwrap().unlink, Some(false));
        assert_eq!(m.permissions.as_ref().unwrap().other["share"], true);
        assert!(
            matches!(m.options_of("tags"), Some(OptionRecords::Many(items)) if items.len() == 2)
        );
        assert_eq!(serde_json::to_value(&m).unwrap(), v);
    }

    #[test]
    fn php_empty_array_for_options() {
        let m: Meta = serde_json::from_value(json!({"options": []})).unwrap();
        assert!(m.options.is_empty());
        assert_eq!(Meta::default(), serde_json::from_value(json!({})).unwrap());
        assert!(!Meta::default().can_edit());
    }
}
