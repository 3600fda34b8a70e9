//! [`Patch<T>`]: a field of an update body that is left unchanged, cleared, or set.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field of an update (`PUT`/`PATCH`) body: leave it unchanged (omitted from the JSON), set it
/// to `null`, or set it to a value.
///
/// Generated update structs mark every `Patch` field with
/// `#[serde(default, skip_serializing_if = "Patch::is_unchanged")]`, so only the fields you touch
/// are sent:
///
/// ```
/// use atrocore_runtime::Patch;
///
/// #[derive(serde::Serialize, Default)]
/// struct ProductPatch {
///     #[serde(skip_serializing_if = "Patch::is_unchanged")]
///     name: Patch<String>,
///     #[serde(skip_serializing_if = "Patch::is_unchanged")]
///     code: Patch<String>,
///     #[serde(skip_serializing_if = "Patch::is_unchanged")]
///     price: Patch<f64>,
/// }
///
/// let p = ProductPatch { name: "Chair".to_owned().into(), code: Patch::Null, ..Default::default() };
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"name":"Chair","code":null}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Patch<T> {
    /// Not sent: the server keeps the current value.
    #[default]
    Unchanged,
    /// Sent as `null`: the server clears the value.
    Null,
    /// Sent as the value.
    Set(T),
}

impl<T> Patch<T> {
    /// `true` for [`Patch::Unchanged`]; for `skip_serializing_if`.
    pub fn is_unchanged(&self) -> bool {
        matches!(self, Self::Unchanged)
    }

    /// `true` for [`Patch::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The value, if set.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Self::Set(v) => Some(v),
            _ => None,
        }
    }

    /// The value, if set.
    pub fn into_set(self) -> Option<T> {
        match self {
            Self::Set(v) => Some(v),
            _ => None,
        }
    }

    /// Maps the value, if set.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Unchanged => Patch::Unchanged,
            Self::Null => Patch::Null,
            Self::Set(v) => Patch::Set(f(v)),
        }
    }
}

impl<T> From<T> for Patch<T> {
    fn from(v: T) -> Self {
        Self::Set(v)
    }
}

impl<T> From<Option<T>> for Patch<T> {
    /// `Some(v)` sets, `None` clears (sends `null`).
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Self::Set)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    /// `Null` (and `Unchanged`, which should be skipped instead) as `null`, `Set(v)` as `v`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unchanged | Self::Null => serializer.serialize_none(),
            Self::Set(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    /// `null` as `Null`, anything else as `Set`; a missing field (with `#[serde(default)]`) is
    /// `Unchanged`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Deserialize, Default, Debug, PartialEq)]
    struct P {
        #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
        a: Patch<i64>,
        #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
        b: Patch<String>,
        #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
        c: Patch<Vec<String>>,
    }

    #[test]
    fn serializes_only_touched_fields() {
        let p = P {
            a: 5.into(),
            b: Patch::Null,
            ..P::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"a": 5, "b": null})
        );
        assert_eq!(serde_json::to_value(P::default()).unwrap(), json!({}));
    }

    #[test]
    fn deserializes_three_states() {
        let p: P = serde_json::from_value(json!({"a": 1, "b": null})).unwrap();
        assert_eq!(p.a, Patch::Set(1));
        assert_eq!(p.b, Patch::Null);
        assert_eq!(p.c, Patch::Unchanged);
    }

    #[test]
    fn conversions() {
        assert_eq!(Patch::from(Some(1)), Patch::Set(1));
        assert_eq!(Patch::<i32>::from(None), Patch::Null);
        assert_eq!(Patch::Set(2).map(|x| x * 2).into_set(), Some(4));
        assert!(Patch::<u8>::default().is_unchanged());
        assert!(Patch::<u8>::Null.is_null());
        assert_eq!(Patch::Set(1).as_set(), Some(&1));
    }
}
