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

use crate::attributes::{AttrValue, AttributeValue};
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
    /// `rangeFloat`: two `f64` bounds (`<code>From`, `<code>To`), with a unit when measured.
    #[derive(Debug)]
    pub struct RangeFloat;
    /// `rangeInt`: two `i64` bounds, with a unit when measured.
    #[derive(Debug)]
    pub struct RangeInt;
    /// A type the generator does not know (a module's own): JSON values.
    #[derive(Debug)]
    pub struct Untyped;
}

pub use crate::code_refs::{CodeOf, UnitRef};

/// An option of an enum attribute (or a unit of a measure): generated enums implement it, with
/// an `Other` variant for options added to the instance after the crate was generated.
///
/// Most options are sent as stored (2.3 `enum` options are codes already). The options of a
/// 2.2 extensible enum are records whose ids differ between instances; when they have codes,
/// the generated enum names them by code ([`code_of`](Self::code_of) is
/// [`CodeOf::EnumOption`]), a request sends a reference that the runtime replaces by the
/// option's id on the instance the client talks to, and a record's stored id is read back by
/// the option's code (`<code>OptionData`) or label (`<code>Name`, `<code>Names`; 2.2.31
/// `Core/AttributeFieldTypes/ExtensibleEnumType.php::convert`). Units work the same way
/// ([`CodeOf::Unit`]).
pub trait AttrOption: Sized {
    /// What the server stores, or the code of the record when [`code_of`](Self::code_of) is
    /// set.
    fn wire(&self) -> &str;
    /// The option `wire` names (`Other` when the crate does not know it).
    fn from_wire(wire: &str) -> Self;
    /// Whether [`wire`](Self::wire) is the code of a record of this kind, resolved to its id on
    /// the instance when sent (`None`: sent as is, the default).
    fn code_of(&self) -> Option<CodeOf> {
        None
    }
    /// The option with this label, when the crate knows exactly one (to read a stored id of
    /// an option named by code; `None` by default).
    fn from_label(label: &str) -> Option<Self> {
        let _ = label;
        None
    }
}

/// What an option is sent as: its wire value, or a reference to its code.
fn option_json<O: AttrOption>(o: &O) -> Value {
    match o.code_of() {
        Some(of) => crate::code_refs::reference(of, o.wire()),
        None => Value::String(o.wire().to_owned()),
    }
}

/// [`option_json`] as a `where` operand.
fn option_where<O: AttrOption>(o: &O) -> WhereValue {
    match option_json(o) {
        Value::Object(m) => WhereValue::Object(m),
        Value::String(s) => WhereValue::String(s),
        other => WhereValue::String(other.to_string()),
    }
}

/// The option a record stores as `stored`: by its wire value, else by the code in `data`
/// (`OptionData`) or by `label`, for options named by code whose stored value is an id.
fn read_option<O: AttrOption>(stored: &str, data: Option<&Value>, label: Option<&str>) -> O {
    let o = O::from_wire(stored);
    if o.code_of().is_some() {
        return o;
    }
    if let Some(code) = data.and_then(|d| d.get("code")).and_then(Value::as_str) {
        let by_code = O::from_wire(code);
        if by_code.code_of().is_some() {
            return by_code;
        }
    }
    label.and_then(O::from_label).unwrap_or(o)
}

impl UnitRef {
    /// The unit a generated unit enum's variant names: by code when it has one, else by id.
    pub fn of<U: AttrOption>(unit: &U) -> Self {
        match unit.code_of() {
            Some(_) => UnitRef::Code(unit.wire().to_owned().into()),
            None => UnitRef::Id(unit.wire().to_owned()),
        }
    }
}

/// The unit of the attribute `code`'s value in a record, as a generated unit enum `U` (by
/// the unit's id, else its name, `<code>UnitName`).
pub fn unit_of<U: AttrOption>(flat: &FlatAttributes, code: &str) -> Option<U> {
    let attr = flat.get(code)?;
    let id = attr.unit_id()?;
    Some(read_option(id, None, attr.unit_name()))
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

    /// An item of `attributes(id).upsert(…)` (the attribute-values route) by code: the
    /// value in the handle's language, if any, else the main one.
    fn item(&self, value: Value) -> AttributeValue {
        match self.language {
            Some(l) => {
                let mut v = AttributeValue::by_code(E::NAME, self.code, AttrValue::Null);
                v.value = None;
                v.localized(format!("value{}", language_suffix(l)), value)
            }
            None => AttributeValue::by_code(E::NAME, self.code, value),
        }
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
            /// The value as an item of `attributes(id).upsert(…)`.
            pub fn value(&self, value: $value) -> AttributeValue {
                self.item($into(value).to_json())
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
            /// Sets the value and its unit (of the attribute's measure: a generated unit
            /// enum's variant, found by code on the instance, or a `Unit` id).
            pub fn set_with_unit(
                &self,
                value: $value,
                unit: impl Into<UnitRef>,
            ) -> AttributeChanges {
                self.set(value)
                    .field(format!("{}UnitId", self.code), unit.into().to_json())
            }
            /// The unit (`Unit` id) of a record's value.
            pub fn unit_id<'f>(&self, flat: &'f FlatAttributes) -> Option<&'f str> {
                flat.get(self.code)?.unit_id()
            }
            /// The unit of a record's value as a generated unit enum (`attr::MassUnit`).
            pub fn unit<U: AttrOption>(&self, flat: &FlatAttributes) -> Option<U> {
                unit_of(flat, self.code)
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

/// The value of a range attribute: its bounds (either may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range<T> {
    /// The lower bound (`<code>From`).
    pub from: Option<T>,
    /// The upper bound (`<code>To`).
    pub to: Option<T>,
}

/// Writes and reads of range attributes (2.2.31 `Core/AttributeFieldTypes/RangeIntType.php`:
/// the bounds are the virtual fields `<code>From` and `<code>To`, the unit `<code>UnitId`).
macro_rules! ranged {
    ($kind:ty, $value:ty) => {
        impl<E: Entity> Attr<E, $kind> {
            /// Sets the bounds (`None`: cleared).
            pub fn set(&self, from: Option<$value>, to: Option<$value>) -> AttributeChanges {
                AttributeChanges::new().range(self.code, from, to)
            }
            /// The bounds as an item of `attributes(id).upsert(…)`.
            pub fn value(&self, from: Option<$value>, to: Option<$value>) -> AttributeValue {
                let mut v = AttributeValue::by_code(E::NAME, self.code, crate::AttrValue::Null);
                v.value = None;
                let number = |b: $value| match Value::from(b) {
                    Value::Number(n) => Some(n),
                    _ => None,
                };
                v.value_from = from.and_then(number);
                v.value_to = to.and_then(number);
                v
            }
            /// Sets the bounds and their unit (a generated unit enum's variant or a `Unit` id).
            pub fn set_with_unit(
                &self,
                from: Option<$value>,
                to: Option<$value>,
                unit: impl Into<UnitRef>,
            ) -> AttributeChanges {
                self.set(from, to)
                    .field(format!("{}UnitId", self.code), unit.into().to_json())
            }
            /// The unit (`Unit` id) of a record's value.
            pub fn unit_id<'f>(&self, flat: &'f FlatAttributes) -> Option<&'f str> {
                flat.get(self.code)?.unit_id()
            }
            /// The unit of a record's value as a generated unit enum.
            pub fn unit<U: AttrOption>(&self, flat: &FlatAttributes) -> Option<U> {
                unit_of(flat, self.code)
            }
            /// The record's bounds; `None` when it has neither.
            pub fn get(&self, flat: &FlatAttributes) -> Result<Option<Range<$value>>> {
                let Some(attr) = flat.get(self.code) else {
                    return Ok(None);
                };
                let bound = |suffix: &str| -> Result<Option<$value>> {
                    match attr.field(suffix) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| {
                            crate::Error::decode(e).with_message(format!(
                                "attribute `{}{suffix}` of {}: the value does not have the \
                                 type the crate was generated with",
                                self.code,
                                E::NAME
                            ))
                        }),
                    }
                };
                let range = Range {
                    from: bound("From")?,
                    to: bound("To")?,
                };
                Ok((range.from.is_some() || range.to.is_some()).then_some(range))
            }
        }
    };
}

ranged!(kind::RangeFloat, f64);
ranged!(kind::RangeInt, i64);

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
    /// The value as an item of `attributes(id).upsert(…)`.
    pub fn value(&self, value: bool) -> AttributeValue {
        self.item(Value::Bool(value))
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
    /// The value (in the handle's language, if any) as an item of
    /// `attributes(id).upsert(…)`.
    pub fn value(&self, value: impl Into<String>) -> AttributeValue {
        self.item(Value::String(value.into()))
    }
    /// The record's value (in the handle's language, if any).
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<String>> {
        self.decoded(flat)
    }
}

impl<E: Entity, O: AttrOption> Attr<E, kind::Enum<O>> {
    /// The option `value`.
    pub fn equals(&self, value: O) -> Filter<E> {
        self.cond("equals", Some(option_where(&value)))
    }
    /// Another option than `value` (a record without a value is not matched).
    pub fn not_equals(&self, value: O) -> Filter<E> {
        self.cond("notEquals", Some(option_where(&value)))
    }
    /// One of `values`.
    pub fn in_(&self, values: impl IntoIterator<Item = O>) -> Filter<E> {
        let list = values.into_iter().map(|o| option_where(&o)).collect();
        self.cond("in", Some(WhereValue::List(list)))
    }
    /// Sets the option.
    pub fn set(&self, value: O) -> AttributeChanges {
        AttributeChanges::new().field(self.field(), option_json(&value))
    }
    /// The option as an item of `attributes(id).upsert(…)`.
    pub fn value(&self, value: O) -> AttributeValue {
        self.item(option_json(&value))
    }
    /// The record's option.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<O>> {
        let Some(stored) = self.decoded::<String>(flat)? else {
            return Ok(None);
        };
        let attr = flat.get(self.code);
        let data = attr.and_then(|a| a.field("OptionData"));
        let label = attr.and_then(|a| a.field("Name")).and_then(Value::as_str);
        Ok(Some(read_option(&stored, data, label)))
    }
}

impl<E: Entity, O: AttrOption> Attr<E, kind::MultiEnum<O>> {
    /// Holds at least one of `values` (`arrayAnyOf`).
    pub fn any_of(&self, values: impl IntoIterator<Item = O>) -> Filter<E> {
        let list = values.into_iter().map(|o| option_where(&o)).collect();
        self.cond("arrayAnyOf", Some(WhereValue::List(list)))
    }
    /// Holds none of `values` (`arrayNoneOf`).
    pub fn none_of(&self, values: impl IntoIterator<Item = O>) -> Filter<E> {
        let list = values.into_iter().map(|o| option_where(&o)).collect();
        self.cond("arrayNoneOf", Some(WhereValue::List(list)))
    }
    /// Holds no option (`arrayIsEmpty`).
    pub fn is_empty(&self) -> Filter<E> {
        self.cond("arrayIsEmpty", None)
    }
    /// Sets the options.
    pub fn set(&self, values: impl IntoIterator<Item = O>) -> AttributeChanges {
        let list: Vec<Value> = values.into_iter().map(|o| option_json(&o)).collect();
        AttributeChanges::new().field(self.field(), list)
    }
    /// The options as an item of `attributes(id).upsert(…)`.
    pub fn value(&self, values: impl IntoIterator<Item = O>) -> AttributeValue {
        self.item(Value::Array(
            values.into_iter().map(|o| option_json(&o)).collect(),
        ))
    }
    /// The record's options.
    pub fn get(&self, flat: &FlatAttributes) -> Result<Option<Vec<O>>> {
        let Some(stored) = self.decoded::<Vec<String>>(flat)? else {
            return Ok(None);
        };
        let attr = flat.get(self.code);
        // 2.2: `<code>OptionsData` (a list of options with `id` and `code`) and `<code>Names`
        // (labels by id).
        let data = attr
            .and_then(|a| a.field("OptionsData"))
            .and_then(Value::as_array);
        let names = attr.and_then(|a| a.field("Names"));
        Ok(Some(
            stored
                .iter()
                .map(|id| {
                    let d = data.and_then(|list| {
                        list.iter()
                            .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
                    });
                    let label = names.and_then(|n| n.get(id)).and_then(Value::as_str);
                    read_option(id, d, label)
                })
                .collect(),
        ))
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
    /// The value as an item of `attributes(id).upsert(…)`.
    pub fn value(&self, value: impl Into<Value>) -> AttributeValue {
        self.item(value.into())
    }
    /// The record's value.
    pub fn get(&self, flat: &FlatAttributes) -> Option<Value> {
        self.raw(flat).cloned()
    }
}
