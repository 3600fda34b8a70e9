//! [`EnumField`]: conditions on a field whose values are a generated enum (`Product.status`),
//! so that a value the instance does not know cannot be written by mistake.

use std::fmt;
use std::marker::PhantomData;

use super::handles::TextField;
use super::typed::Filter;

/// Implemented by generated enums: the value as sent on the wire (`ProductStatus::Draft` →
/// `"draft"`; an unknown value kept as received).
pub trait EnumValue {
    /// The wire value.
    fn wire_value(&self) -> &str;
}

/// An enum field: equality and lists over its generated enum `V`. [`text`](Self::text) gives
/// the text conditions (`like`, …) for the rare case that needs them.
pub struct EnumField<E, V> {
    text: TextField<E>,
    _value: PhantomData<fn() -> V>,
}

impl<E, V: EnumValue> EnumField<E, V> {
    /// The handle of the field with wire name `name`.
    pub const fn new(name: &'static str) -> Self {
        Self {
            text: TextField::new(name),
            _value: PhantomData,
        }
    }

    /// The wire name of the field.
    pub const fn name(&self) -> &'static str {
        self.text.name()
    }

    /// Equal to `value` (`equals`).
    #[doc(alias = "eq")]
    pub fn equals(&self, value: V) -> Filter<E> {
        self.text.equals(value.wire_value())
    }

    /// Not equal to `value` (`notEquals`).
    #[doc(alias = "ne")]
    pub fn not_equals(&self, value: V) -> Filter<E> {
        self.text.not_equals(value.wire_value())
    }

    /// One of `values` (`in`).
    pub fn in_(&self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        self.text
            .in_(values.into_iter().map(|v| v.wire_value().to_owned()))
    }

    /// None of `values` (`notIn`).
    pub fn not_in(&self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        self.text
            .not_in(values.into_iter().map(|v| v.wire_value().to_owned()))
    }

    /// The field is empty (`isNull`).
    pub fn is_null(&self) -> Filter<E> {
        self.text.is_null()
    }

    /// The field is set (`isNotNull`).
    pub fn is_not_null(&self) -> Filter<E> {
        self.text.is_not_null()
    }

    /// The same field as text, for conditions on the raw value.
    pub const fn text(&self) -> TextField<E> {
        self.text
    }
}

impl<E, V> Clone for EnumField<E, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, V> Copy for EnumField<E, V> {}

impl<E, V> fmt::Debug for EnumField<E, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnumField").field(&self.text.name()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    enum Status {
        Draft,
        Ready,
    }

    impl EnumValue for Status {
        fn wire_value(&self) -> &str {
            match self {
                Status::Draft => "draft",
                Status::Ready => "ready",
            }
        }
    }

    #[test]
    fn enum_conditions_send_wire_values() {
        let f: EnumField<(), Status> = EnumField::new("status");
        let w = f.in_([Status::Draft, Status::Ready]).into_where().to_json();
        assert_eq!(w[0]["type"], "in");
        assert_eq!(w[0]["attribute"], "status");
        assert_eq!(w[0]["value"], serde_json::json!(["draft", "ready"]));
        let w = f.equals(Status::Ready).into_where().to_json();
        assert_eq!(w[0]["value"], "ready");
    }
}
