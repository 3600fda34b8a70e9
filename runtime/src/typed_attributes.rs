//! Typed attributes: what a crate generated with the instance's attribute definitions holds for
//! each attribute of an entity (`product::attr::weight()`), written once here.
//!
//! An [`Attr<E, K>`] carries the attribute's code (2.2 `code`, 2.3 `systemName`): the key of its
//! values in the flattened view and in patches, the same on every instance an admin set up
//! alike (ids are not). `K` is its kind ([`kind::Float`], [`kind::Enum`], …), which decides the
//! filters, writes and reads it has:
//! - filters ([`Filter<E>`]): by code, resolved to the attribute's id when the request is sent
//!   (AtroCore filters attributes by id only; see `attribute_index.rs`);
//! - writes ([`AttributeChanges`]): flattened fields by code, sent with a patch
//!   ([`EntityHandle::set_attributes`](crate::EntityHandle::set_attributes)); a value written
//!   assigns the attribute when the record lacks it (2.2.31 and 2.3.13
//!   `app/Atro/ORM/DB/RDB/Mapper.php::upsertAttributes`);
//! - reads: from a record read with `Flatten-Attributes` ([`FlatAttributes`]).
//!
//! ```
//! use atrocore_runtime::typed_attributes::{Attr, AttrOption, kind};
//! use atrocore_runtime::FlatAttributes;
//! # struct Product;
//! # impl atrocore_runtime::Entity for Product { const NAME: &'static str = "Product"; type Record = serde_json::Value; type Field = F; type Id = atrocore_runtime::Id<Product>; }
//! # #[derive(Clone, Copy)] enum F { Id }
//! # impl atrocore_runtime::EntityField for F { fn name(self) -> &'static str { "id" } }
//!
//! #[derive(Debug, Clone, PartialEq)]
//! enum Colour { Red, Other(String) }
//! impl AttrOption for Colour {
//!     fn wire(&self) -> &str { match self { Colour::Red => "red", Colour::Other(s) => s } }
//!     fn from_wire(s: &str) -> Self { if s == "red" { Colour::Red } else { Colour::Other(s.into()) } }
//! }
//! const WEIGHT: Attr<Product, kind::Float> = Attr::new("weight");
//! const COLOUR: Attr<Product, kind::Enum<Colour>> = Attr::new("colour");
//!
//! let heavy_red = WEIGHT.greater_than(2.5) & COLOUR.equals(Colour::Red);
//! let json = heavy_red.into_where().to_json();
//! assert_eq!(json[0]["attribute"], "weight"); // the id replaces it when sent
//! let changes = WEIGHT.set_with_unit(3.0, "kg").and(COLOUR.set(Colour::Red));
//! let record = serde_json::json!({"weight": 3.0, "weightUnitId": "kg", "colour": "red"});
//! let flat = FlatAttributes::from_extra(record.as_object().unwrap());
//! assert_eq!(WEIGHT.get(&flat).unwrap(), Some(3.0));
//! assert_eq!(WEIGHT.unit_id(&flat), Some("kg"));
//! assert_eq!(COLOUR.get(&flat).unwrap(), Some(Colour::Red));
//! # let _ = changes;
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::entity::Entity;
use crate::error::Result;
use crate::filter::{Condition, Filter, WhereValue};
use crate::flat::{AttributeChanges, FlatAttributes, language_suffix};
use crate::time::{Date, DateTime};

/// The kinds of attribute values, as type markers of [`Attr`].
pub mod kind {
    use std::marker::PhantomData;

    /// `float` (and `rangeFloat` bounds): `f64`, with a unit when the attribute has a measure.
    #[derive(Debug)]
    pub struct Float;
    /// `int`: `i64`, with a unit when the attribute has a measure.
    #[derive(Debug)]
    pub struct Int;
    /// `bool`.
    #[derive(Debug)]
    pub struct Bool;
    /// `varchar`, `text`, `markdown`, `wysiwyg`, `url`: text, per language when multilingual.
    #[derive(Debug)]
    pub struct Text;
    /// `date`.
    #[derive(Debug)]
    pub struct Date;
    /// `datetime`.
    #[derive(Debug)]
    pub struct DateTime;
    /// One option of a list: 2.3 `enum` (the option's code), 2.2 `extensibleEnum` (the
    /// option's id).
    #[derive(Debug)]
    pub struct Enum<O>(PhantomData<O>);
    /// Options of a list: 2.3 `multiEnum`, 2.2 `extensibleMultiEnum`.
    #[derive(Debug)]
    pub struct MultiEnum<O>(PhantomData<O>);
    /// A type the generator does not know (a module's own): JSON values.
    #[derive(Debug)]
    pub struct Untyped;
}

/// An option of an enum attribute: generated enums implement it, with an `Other` variant for
/// options added to the instance after the crate was generated.
pub trait AttrOption: Sized {
    /// What the server stores and sends.
    fn wire(&self) -> &str;
    /// The option `wire` names (`Other` when the crate does not know it).
    fn from_wire(wire: &str) -> Self;
}

/// One attribute of `E`, of kind `K`; see the module docs.
pub struct Attr<E, K> {
    code: &'static str,
    language: Option<&'static str>,
    _kind: PhantomData<fn() -> (E, K)>,
}

impl<E, K> Clone for Attr<E, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, K> Copy for Attr<E, K> {}

impl<E, K> fmt::Debug for Attr<E, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attr")
            .field("code", &self.code)
            .field("language", &self.language)
            .finish()
    }
}

impl<E, K> Attr<E, K> {
    /// The attribute whose code (2.2) or system name (2.3) is `code`.
    pub const fn new(code: &'static str) -> Self {
        Self {
            code,
            language: None,
            _kind: PhantomData,
        }
    }

    /// The attribute's code.
    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// The flattened field of the value (`<code>`, or `<code><Lang>` for a language).
    fn field(&self) -> String {
        match self.language {
            Some(l) => format!("{}{}", self.code, language_suffix(l)),
            None => self.code.to_owned(),
        }
    }
}

impl<E: Entity, K> Attr<E, K> {
    fn cond(&self, op: &str, value: Option<WhereValue>) -> Filter<E> {
        let mut c = Condition::new(op).attribute_code(E::NAME, self.code);
        c.value = value;
        if let Some(l) = self.language {
            c = c.with("language", l);
        }
        Filter::one(c)
    }

    /// The record has no value (or not this attribute).
    pub fn is_null(&self) -> Filter<E> {
        self.cond("isNull", None)
    }

    /// The record has a value.
    pub fn is_not_null(&self) -> Filter<E> {
        self.cond("isNotNull", None)
    }

    /// The record has this attribute, with or without a value (`isLinked`).
    pub fn is_assigned(&self) -> Filter<E> {
        self.cond("isLinked", None)
    }

    /// Clears the value (`null`; the attribute stays on the record).
    pub fn clear(&self) -> AttributeChanges {
        AttributeChanges::new().field(self.field(), Value::Null)
    }

    /// The raw flattened value of a record, when it has this attribute.
    pub fn raw<'f>(&self, flat: &'f FlatAttributes) -> Option<&'f Value> {
        let attr = flat.get(self.code)?;
        match self.language {
            Some(l) => attr.localized(l),
            None => Some(attr.value()),
        }
    }

    fn decoded<T: DeserializeOwned>(&self, flat: &FlatAttributes) -> Result<Option<T>> {
        match self.raw(flat) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| {
                crate::Error::decode(e).with_message(format!(
                    "attribute `{}`{} of {}: the value does not have the type the crate was \
                     generated with",
                    self.code,
                    self.language.map(|l| format!(" ({l})")).unwrap_or_default(),
                    E::NAME
                ))
            }),
        }
    }
}

/// Comparisons shared by the ordered kinds.
macro_rules! ordered {
    ($kind:ty, $value:ty, $into:expr) => {
        impl<E: Entity> Attr<E, $kind> {
            /// Equal to `value`.
            pub fn equals(&self, value: $value) -> Filter<E> {
                self.cond("equals", Some($into(value)))
            }
            /// Not equal to `value` (a record without a value is not matched).
            pub fn not_equals(&self, value: $value) -> Filter<E> {
                self.cond("notEquals", Some($into(value)))
            }
            /// Greater than `value`.
            pub fn greater_than(&self, value: $value) -> Filter<E> {
                self.cond("greaterThan", Some($into(value)))
            }
            /// Greater than or equal to `value`.
            pub fn greater_than_or_equals(&self, value: $value) -> Filter<E> {
                self.cond("greaterThanOrEquals", Some($into(value)))
            }
            /// Less than `value`.
            pub fn less_than(&self, value: $value) -> Filter<E> {
                self.cond("lessThan", Some($into(value)))
            }
            /// Less than or equal to `value`.
            pub fn less_than_or_equals(&self, value: $value) -> Filter<E> {
                self.cond("lessThanOrEquals", Some($into(value)))
            }
            /// Between `from` and `to`, both included.
            pub fn between(&self, from: $value, to: $value) -> Filter<E> {
                self.cond(
                    "between",
                    Some(WhereValue::List(vec![$into(from), $into(to)])),
                )
            }
            /// Sets the value.
            pub fn set(&self, value: $value) -> AttributeChanges {
                AttributeChanges::new().field(self.field(), $into(value).to_json())
            }
        }
    };
}

ordered!(kind::Float, f64, WhereValue::from);
ordered!(kind::Int, i64, WhereValue::from);
ordered!(kind::Date, Date, |d: Date| WhereValue::String(
    d.to_string()
));
ordered!(kind::DateTime, DateTime, |d: DateTime| WhereValue::String(
    d.to_string()
));

/// The unit of measured values.
macro_rules! measured {
    ($kind:ty, $value:ty) => {
        impl<E: Entity> Attr<E, $kind> {
            /// Sets the value and its unit (a `Unit` id of the attribute's measure).
            pub fn set_with_unit(
                &self,
                value: $value,
                unit_id: impl Into<String>,
            ) -> AttributeChanges {
                self.set(value).unit(self.code, unit_id)
            }
            /// The unit (`Unit` id) of a record's value.
            pub fn unit_id<'f>(&self, flat: &'f FlatAttributes) -> Option<&'f str> {
                flat.get(self.code)?.unit_id()
            }
            /// The record's value.
            pub fn get(&self, flat: &FlatAttributes) -> Result<Option<$value>> {
                self.decoded(flat)
            }
        }
    };
}

measured!(kind::Float, f64);
measured!(kind::Int, i64);

impl<E: Entity> Attr<E, kind::Date> {
    /// The record's value.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<Date>> {
        self.decoded(flat)
    }
}

impl<E: Entity> Attr<E, kind::DateTime> {
    /// The record's value.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<DateTime>> {
        self.decoded(flat)
    }
}

impl<E: Entity> Attr<E, kind::Bool> {
    /// Set (`isTrue`).
    pub fn is_true(&self) -> Filter<E> {
        self.cond("isTrue", None)
    }
    /// Not set (`isFalse`).
    pub fn is_false(&self) -> Filter<E> {
        self.cond("isFalse", None)
    }
    /// Sets the value.
    pub fn set(&self, value: bool) -> AttributeChanges {
        AttributeChanges::new().field(self.field(), value)
    }
    /// The record's value.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<bool>> {
        self.decoded(flat)
    }
}

impl<E: Entity> Attr<E, kind::Text> {
    /// The value in `language` (`de_DE`; `main` for the main one) of a multilingual attribute,
    /// for filters, writes and reads.
    pub const fn language(mut self, language: &'static str) -> Self {
        self.language = Some(language);
        self
    }
    /// Equal to `value`.
    pub fn equals(&self, value: &str) -> Filter<E> {
        self.cond("equals", Some(value.into()))
    }
    /// Not equal to `value`.
    pub fn not_equals(&self, value: &str) -> Filter<E> {
        self.cond("notEquals", Some(value.into()))
    }
    /// Matches the SQL `LIKE` pattern (`%` any text, `_` one character).
    pub fn like(&self, pattern: &str) -> Filter<E> {
        self.cond("like", Some(pattern.into()))
    }
    /// Contains `value`.
    pub fn contains(&self, value: &str) -> Filter<E> {
        self.cond("contains", Some(value.into()))
    }
    /// Starts with `value`.
    pub fn starts_with(&self, value: &str) -> Filter<E> {
        self.cond("startsWith", Some(value.into()))
    }
    /// One of `values`.
    pub fn in_<'v>(&self, values: impl IntoIterator<Item = &'v str>) -> Filter<E> {
        let list = values.into_iter().map(WhereValue::from).collect();
        self.cond("in", Some(WhereValue::List(list)))
    }
    /// Sets the value (in the handle's language, if any).
    pub fn set(&self, value: impl Into<String>) -> AttributeChanges {
        AttributeChanges::new().field(self.field(), value.into())
    }
    /// The record's value (in the handle's language, if any).
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<String>> {
        self.decoded(flat)
    }
}

impl<E: Entity, O: AttrOption> Attr<E, kind::Enum<O>> {
    /// The option `value`.
    pub fn equals(&self, value: O) -> Filter<E> {
        self.cond("equals", Some(value.wire().into()))
    }
    /// Another option than `value` (a record without a value is not matched).
    pub fn not_equals(&self, value: O) -> Filter<E> {
        self.cond("notEquals", Some(value.wire().into()))
    }
    /// One of `values`.
    pub fn in_(&self, values: impl IntoIterator<Item = O>) -> Filter<E> {
        let list = values.into_iter().map(|o| o.wire().into()).collect();
        self.cond("in", Some(WhereValue::List(list)))
    }
    /// Sets the option.
    pub fn set(&self, value: O) -> AttributeChanges {
        AttributeChanges::new().field(self.field(), value.wire())
    }
    /// The record's option.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<O>> {
        Ok(self.decoded::<String>(flat)?.map(|w| O::from_wire(&w)))
    }
}

impl<E: Entity, O: AttrOption> Attr<E, kind::MultiEnum<O>> {
    /// Holds at least one of `values` (`arrayAnyOf`).
    pub fn any_of(&self, values: impl IntoIterator<Item = O>) -> Filter<E> {
        let list = values.into_iter().map(|o| o.wire().into()).collect();
        self.cond("arrayAnyOf", Some(WhereValue::List(list)))
    }
    /// Holds none of `values` (`arrayNoneOf`).
    pub fn none_of(&self, values: impl IntoIterator<Item = O>) -> Filter<E> {
        let list = values.into_iter().map(|o| o.wire().into()).collect();
        self.cond("arrayNoneOf", Some(WhereValue::List(list)))
    }
    /// Holds no option (`arrayIsEmpty`).
    pub fn is_empty(&self) -> Filter<E> {
        self.cond("arrayIsEmpty", None)
    }
    /// Sets the options.
    pub fn set(&self, values: impl IntoIterator<Item = O>) -> AttributeChanges {
        let list: Vec<Value> = values.into_iter().map(|o| o.wire().into()).collect();
        AttributeChanges::new().field(self.field(), list)
    }
    /// The record's options.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<Vec<O>>> {
        Ok(self
            .decoded::<Vec<String>>(flat)?
            .map(|ws| ws.iter().map(|w| O::from_wire(w)).collect()))
    }
}

impl<E: Entity> Attr<E, kind::Untyped> {
    /// Any operator with a value.
    pub fn op(&self, op: &str, value: impl Into<WhereValue>) -> Filter<E> {
        self.cond(op, Some(value.into()))
    }
    /// Sets the value.
    pub fn set(&self, value: impl Into<Value>) -> AttributeChanges {
        AttributeChanges::new().field(self.field(), value)
    }
    /// The record's value.
    pub fn get(&self, flat: &FlatAttributes) -> Option<Value> {
        self.raw(flat).cloned()
    }
}
