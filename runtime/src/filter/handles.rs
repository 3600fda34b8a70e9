//! Field handles per kind ([`TextField`], [`NumberField`], …) and attribute conditions: what
//! generated crates expose per entity field, each operator giving a [`Filter<E>`].

use crate::time::{Date, DateTime};
use std::fmt;
use std::marker::PhantomData;

use super::{Condition, Filter, WhereValue};

// ---------------------------------------------------------------------------------------------
// Field handles
// ---------------------------------------------------------------------------------------------

/// Values accepted by [`NumberField`] operators: integers and floats (NaN and infinities are
/// not sent).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberValue(WhereValue);

macro_rules! number_value_from {
    ($($t:ty),*) => {$(
        impl From<$t> for NumberValue {
            fn from(v: $t) -> Self {
                Self(WhereValue::from(v))
            }
        }
    )*};
}
number_value_from!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

fn list<T, V: Into<WhereValue>>(
    values: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> V,
) -> WhereValue {
    WhereValue::List(values.into_iter().map(|v| f(v).into()).collect())
}

/// `make(values)`, except for an empty list: no record for a positive test (`in`,
/// `linkedWith`, `arrayAnyOf`), every record for a negative one.
fn empty_list_or<E>(
    values: WhereValue,
    positive: bool,
    make: impl FnOnce(WhereValue) -> Filter<E>,
) -> Filter<E> {
    match &values {
        WhereValue::List(v) if v.is_empty() => {
            if positive {
                Filter::none()
            } else {
                Filter::new()
            }
        }
        _ => make(values),
    }
}

fn text(v: impl Into<String>) -> WhereValue {
    WhereValue::String(v.into())
}

macro_rules! field_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<E> {
            name: &'static str,
            _entity: PhantomData<fn() -> E>,
        }

        impl<E> $name<E> {
            /// The handle of the field with wire name `name`.
            pub const fn new(name: &'static str) -> Self {
                Self { name, _entity: PhantomData }
            }

            /// The wire name of the field.
            pub const fn name(&self) -> &'static str {
                self.name
            }

            fn cond(&self, op: &str) -> Filter<E> {
                Filter::one(Condition::new(op).attribute(self.name))
            }

            fn cond_value(&self, op: &str, value: WhereValue) -> Filter<E> {
                Filter::one(Condition::new(op).attribute(self.name).value(value))
            }

            /// A membership test; an empty list is decided here (nothing is in it), since an
            /// empty list cannot be sent.
            #[allow(dead_code)] // not every kind has list operators
            fn cond_list(&self, op: &str, values: WhereValue, positive: bool) -> Filter<E> {
                empty_list_or(values, positive, |v| self.cond_value(op, v))
            }

            /// Any operator AtroCore knows, with a value ([`WhereValue::Null`] sends none):
            /// the escape hatch for operators this handle does not offer.
            pub fn op(&self, op: &str, value: impl Into<WhereValue>) -> Filter<E> {
                match value.into() {
                    WhereValue::Null => self.cond(op),
                    v => self.cond_value(op, v),
                }
            }

            /// The field is empty (`isNull`).
            pub fn is_null(&self) -> Filter<E> {
                self.cond("isNull")
            }

            /// The field is set (`isNotNull`).
            pub fn is_not_null(&self) -> Filter<E> {
                self.cond("isNotNull")
            }
        }

        impl<E> Clone for $name<E> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<E> Copy for $name<E> {}

        impl<E> fmt::Debug for $name<E> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.name).finish()
            }
        }
    };
}

field_handle! {
    /// A text field (`varchar`, `text`, `email`, enum values, ids): equality, `like` patterns,
    /// substrings, lists.
    TextField
}

impl<E> TextField<E> {
    /// Equal to `value` (`equals`).
    #[doc(alias = "eq")]
    pub fn equals(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("equals", text(value))
    }
    /// Not equal to `value` (`notEquals`).
    #[doc(alias = "ne")]
    pub fn not_equals(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("notEquals", text(value))
    }
    /// Matches the SQL `LIKE` pattern (`%` any text, `_` one character), e.g. `"%chair%"`.
    pub fn like(&self, pattern: impl Into<String>) -> Filter<E> {
        self.cond_value("like", text(pattern))
    }
    /// Does not match the SQL `LIKE` pattern.
    pub fn not_like(&self, pattern: impl Into<String>) -> Filter<E> {
        self.cond_value("notLike", text(pattern))
    }
    /// Contains `value` (`contains`).
    pub fn contains(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("contains", text(value))
    }
    /// Does not contain `value` (`notContains`).
    pub fn not_contains(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("notContains", text(value))
    }
    /// Starts with `value` (`startsWith`).
    pub fn starts_with(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("startsWith", text(value))
    }
    /// Ends with `value` (`endsWith`).
    pub fn ends_with(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("endsWith", text(value))
    }
    /// One of `values` (`in`).
    pub fn in_<S: Into<String>>(&self, values: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("in", list(values, text), true)
    }
    /// None of `values` (`notIn`).
    pub fn not_in<S: Into<String>>(&self, values: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("notIn", list(values, text), false)
    }
}

field_handle! {
    /// A number field (`int`, `float`, `autoincrement`): comparisons and ranges.
    NumberField
}

impl<E> NumberField<E> {
    /// Equal to `value`.
    #[doc(alias = "eq")]
    pub fn equals(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("equals", value.into().0)
    }
    /// Not equal to `value`.
    #[doc(alias = "ne")]
    pub fn not_equals(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("notEquals", value.into().0)
    }
    /// Greater than `value`.
    pub fn greater_than(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("greaterThan", value.into().0)
    }
    /// Less than `value`.
    pub fn less_than(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("lessThan", value.into().0)
    }
    /// Greater than or equal to `value`.
    pub fn greater_than_or_equals(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("greaterThanOrEquals", value.into().0)
    }
    /// Less than or equal to `value`.
    pub fn less_than_or_equals(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("lessThanOrEquals", value.into().0)
    }
    /// From `low` to `high`, both included (`between`).
    pub fn between(&self, low: impl Into<NumberValue>, high: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value(
            "between",
            WhereValue::List(vec![low.into().0, high.into().0]),
        )
    }
    /// One of `values`.
    pub fn in_<N: Into<NumberValue>>(&self, values: impl IntoIterator<Item = N>) -> Filter<E> {
        self.cond_list("in", list(values, |v| v.into().0), true)
    }
    /// None of `values`.
    pub fn not_in<N: Into<NumberValue>>(&self, values: impl IntoIterator<Item = N>) -> Filter<E> {
        self.cond_list("notIn", list(values, |v| v.into().0), false)
    }
}

field_handle! {
    /// A boolean field.
    BoolField
}

impl<E> BoolField<E> {
    /// The flag is set (`isTrue`).
    pub fn is_true(&self) -> Filter<E> {
        self.cond("isTrue")
    }
    /// The flag is not set (`isFalse`).
    pub fn is_false(&self) -> Filter<E> {
        self.cond("isFalse")
    }
    /// The flag equals `value` (`isTrue` or `isFalse`).
    #[doc(alias = "eq")]
    pub fn equals(&self, value: bool) -> Filter<E> {
        if value {
            self.is_true()
        } else {
            self.is_false()
        }
    }
}

/// What a date condition compares with: a [`Date`] or a [`DateTime`] (typed, so that a
/// mistyped date cannot be sent; parse text with `"2026-01-15".parse::<Date>()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateBound(String);

impl From<Date> for DateBound {
    fn from(d: Date) -> Self {
        DateBound(d.to_string())
    }
}

impl From<DateTime> for DateBound {
    fn from(d: DateTime) -> Self {
        DateBound(d.to_string())
    }
}

macro_rules! date_ops {
    ($name:ident, $extra:expr) => {
        impl<E> $name<E> {
            fn date(&self, op: &str, value: Option<WhereValue>) -> Filter<E> {
                let mut c = Condition::new(op).attribute(self.name);
                c.value = value;
                if let Some((k, v)) = $extra {
                    c = c.with(k, v);
                }
                Filter::one(c)
            }
            /// On the day `date` (`on`).
            pub fn on(&self, date: Date) -> Filter<E> {
                self.date("on", Some(text(date.to_string())))
            }
            /// Not on the day `date` (`notOn`).
            pub fn not_on(&self, date: Date) -> Filter<E> {
                self.date("notOn", Some(text(date.to_string())))
            }
            /// After `bound`, a [`Date`] or a [`DateTime`] (`after`).
            pub fn after(&self, bound: impl Into<DateBound>) -> Filter<E> {
                self.date("after", Some(text(bound.into().0)))
            }
            /// Before `bound`, a [`Date`] or a [`DateTime`] (`before`).
            pub fn before(&self, bound: impl Into<DateBound>) -> Filter<E> {
                self.date("before", Some(text(bound.into().0)))
            }
            /// From `from` to `to`, each a [`Date`] or a [`DateTime`] (`between`).
            pub fn between(
                &self,
                from: impl Into<DateBound>,
                to: impl Into<DateBound>,
            ) -> Filter<E> {
                self.date(
                    "between",
                    Some(WhereValue::List(vec![
                        text(from.into().0),
                        text(to.into().0),
                    ])),
                )
            }
            /// Today (`today`).
            pub fn today(&self) -> Filter<E> {
                self.date("today", None)
            }
            /// In the past (`past`).
            pub fn past(&self) -> Filter<E> {
                self.date("past", None)
            }
            /// In the future (`future`).
            pub fn future(&self) -> Filter<E> {
                self.date("future", None)
            }
            /// Set at all (`ever`).
            pub fn ever(&self) -> Filter<E> {
                self.date("ever", None)
            }
            /// Within the last seven days (`lastSevenDays`).
            pub fn last_seven_days(&self) -> Filter<E> {
                self.date("lastSevenDays", None)
            }
            /// Within the last `days` days (`lastXDays`).
            pub fn last_x_days(&self, days: u32) -> Filter<E> {
                self.date("lastXDays", Some(WhereValue::from(days)))
            }
            /// Within the next `days` days (`nextXDays`).
            pub fn next_x_days(&self, days: u32) -> Filter<E> {
                self.date("nextXDays", Some(WhereValue::from(days)))
            }
            /// More than `days` days ago (`olderThanXDays`).
            pub fn older_than_x_days(&self, days: u32) -> Filter<E> {
                self.date("olderThanXDays", Some(WhereValue::from(days)))
            }
            /// More than `days` days ahead (`afterXDays`).
            pub fn after_x_days(&self, days: u32) -> Filter<E> {
                self.date("afterXDays", Some(WhereValue::from(days)))
            }
            /// In the current month (`currentMonth`).
            pub fn current_month(&self) -> Filter<E> {
                self.date("currentMonth", None)
            }
            /// In the last month (`lastMonth`).
            pub fn last_month(&self) -> Filter<E> {
                self.date("lastMonth", None)
            }
            /// In the next month (`nextMonth`).
            pub fn next_month(&self) -> Filter<E> {
                self.date("nextMonth", None)
            }
            /// In the current quarter (`currentQuarter`).
            pub fn current_quarter(&self) -> Filter<E> {
                self.date("currentQuarter", None)
            }
            /// In the last quarter (`lastQuarter`).
            pub fn last_quarter(&self) -> Filter<E> {
                self.date("lastQuarter", None)
            }
            /// In the current year (`currentYear`).
            pub fn current_year(&self) -> Filter<E> {
                self.date("currentYear", None)
            }
            /// In the last year (`lastYear`).
            pub fn last_year(&self) -> Filter<E> {
                self.date("lastYear", None)
            }
        }
    };
}

field_handle! {
    /// A date field (`YYYY-MM-DD` values): days, ranges and relative periods.
    DateField
}
date_ops!(DateField, None::<(&str, bool)>);

field_handle! {
    /// A date-time field (`YYYY-MM-DD HH:MM:SS` values, or dates for the day operators): its
    /// conditions carry `dateTime: true`, so that AtroCore compares whole days in the user's
    /// time zone.
    DateTimeField
}
date_ops!(DateTimeField, Some(("dateTime", true)));

field_handle! {
    /// A link field (`link`, `linkMultiple`): operators apply to the name given (a generated
    /// crate passes `brandId` for equality on a single link, `categories` for `linkedWith`).
    LinkField
}

impl<E> LinkField<E> {
    /// Linked with at least one of `ids` (`linkedWith`).
    pub fn linked_with<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("linkedWith", list(ids, text), true)
    }
    /// Linked with none of `ids` (`notLinkedWith`).
    pub fn not_linked_with<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("notLinkedWith", list(ids, text), false)
    }
    /// Linked with any record (`isLinked`).
    pub fn is_linked(&self) -> Filter<E> {
        self.cond("isLinked")
    }
    /// Linked with no record (`isNotLinked`).
    pub fn is_not_linked(&self) -> Filter<E> {
        self.cond("isNotLinked")
    }
    /// Equal to the id `id` (`equals`).
    #[doc(alias = "eq")]
    pub fn equals(&self, id: impl Into<String>) -> Filter<E> {
        self.cond_value("equals", text(id))
    }
    /// Not equal to the id `id` (`notEquals`).
    #[doc(alias = "ne")]
    pub fn not_equals(&self, id: impl Into<String>) -> Filter<E> {
        self.cond_value("notEquals", text(id))
    }
    /// One of `ids` (`in`).
    pub fn in_<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("in", list(ids, text), true)
    }
    /// None of `ids` (`notIn`).
    pub fn not_in<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("notIn", list(ids, text), false)
    }
}

field_handle! {
    /// A list field (`array`, `multiEnum`, `extensibleMultiEnum`).
    ArrayField
}

impl<E> ArrayField<E> {
    /// Holds at least one of `values` (`arrayAnyOf`).
    pub fn array_any_of<S: Into<String>>(&self, values: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("arrayAnyOf", list(values, text), true)
    }
    /// Holds none of `values` (`arrayNoneOf`).
    pub fn array_none_of<S: Into<String>>(&self, values: impl IntoIterator<Item = S>) -> Filter<E> {
        self.cond_list("arrayNoneOf", list(values, text), false)
    }
    /// The list is empty (`arrayIsEmpty`).
    pub fn array_is_empty(&self) -> Filter<E> {
        self.cond("arrayIsEmpty")
    }
    /// The list is not empty (`arrayIsNotEmpty`).
    pub fn array_is_not_empty(&self) -> Filter<E> {
        self.cond("arrayIsNotEmpty")
    }
}

field_handle! {
    /// A field of a kind the generator could not classify: untyped operands, and
    /// [`op`](Self::op) for any operator.
    AnyField
}

impl<E> AnyField<E> {
    /// Equal to `value`.
    #[doc(alias = "eq")]
    pub fn equals(&self, value: impl Into<WhereValue>) -> Filter<E> {
        self.cond_value("equals", value.into())
    }
    /// Not equal to `value`.
    #[doc(alias = "ne")]
    pub fn not_equals(&self, value: impl Into<WhereValue>) -> Filter<E> {
        self.cond_value("notEquals", value.into())
    }
    /// One of `values`.
    pub fn in_<V: Into<WhereValue>>(&self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        self.cond_list("in", list(values, |v| v), true)
    }
    /// None of `values`.
    pub fn not_in<V: Into<WhereValue>>(&self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        self.cond_list("notIn", list(values, |v| v), false)
    }
}

/// Conditions on an attribute of `E` (PIM attributes), from [`Filter::attribute`]; each carries
/// `isAttribute`.
///
/// ```
/// use atrocore_runtime::Filter;
/// # struct Product;
///
/// let f: Filter<Product> = Filter::attribute("a01color").language("de_DE").equals("rot");
/// let json = f.into_where().to_json();
/// assert_eq!(json[0]["isAttribute"], true);
/// assert_eq!(json[0]["language"], "de_DE");
/// ```
pub struct AttributeFilter<E> {
    pub(super) attribute: String,
    pub(super) language: Option<String>,
    pub(super) _entity: PhantomData<fn() -> E>,
}

impl<E> AttributeFilter<E> {
    /// Compares the value in `language` (`de_DE`, or `main`) of a multilingual attribute.
    #[must_use]
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Any operator with a value ([`WhereValue::Null`] sends none).
    pub fn op(self, op: &str, value: impl Into<WhereValue>) -> Filter<E> {
        let mut c = Condition::new(op)
            .attribute(self.attribute)
            .is_attribute(true);
        match value.into() {
            WhereValue::Null => {}
            v => c.value = Some(v),
        }
        if let Some(l) = self.language {
            c = c.with("language", l);
        }
        Filter::one(c)
    }

    /// Equal to `value`.
    #[doc(alias = "eq")]
    pub fn equals(self, value: impl Into<WhereValue>) -> Filter<E> {
        self.op("equals", value)
    }
    /// Not equal to `value`.
    #[doc(alias = "ne")]
    pub fn not_equals(self, value: impl Into<WhereValue>) -> Filter<E> {
        self.op("notEquals", value)
    }
    /// Matches the SQL `LIKE` pattern.
    pub fn like(self, pattern: impl Into<String>) -> Filter<E> {
        self.op("like", text(pattern))
    }
    /// Contains `value`.
    pub fn contains(self, value: impl Into<String>) -> Filter<E> {
        self.op("contains", text(value))
    }
    /// Greater than `value`.
    pub fn greater_than(self, value: impl Into<NumberValue>) -> Filter<E> {
        self.op("greaterThan", value.into().0)
    }
    /// Less than `value`.
    pub fn less_than(self, value: impl Into<NumberValue>) -> Filter<E> {
        self.op("lessThan", value.into().0)
    }
    /// Greater than or equal to `value`.
    pub fn greater_than_or_equals(self, value: impl Into<NumberValue>) -> Filter<E> {
        self.op("greaterThanOrEquals", value.into().0)
    }
    /// Less than or equal to `value`.
    pub fn less_than_or_equals(self, value: impl Into<NumberValue>) -> Filter<E> {
        self.op("lessThanOrEquals", value.into().0)
    }
    /// One of `values`.
    pub fn in_<V: Into<WhereValue>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let v = list(values, |v| v);
        empty_list_or(v, true, |v| self.op("in", v))
    }
    /// None of `values`.
    pub fn not_in<V: Into<WhereValue>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let v = list(values, |v| v);
        empty_list_or(v, false, |v| self.op("notIn", v))
    }
    /// The flag is set (`isTrue`).
    pub fn is_true(self) -> Filter<E> {
        self.op("isTrue", WhereValue::Null)
    }
    /// The flag is not set (`isFalse`).
    pub fn is_false(self) -> Filter<E> {
        self.op("isFalse", WhereValue::Null)
    }
    /// No value (`isNull`).
    pub fn is_null(self) -> Filter<E> {
        self.op("isNull", WhereValue::Null)
    }
    /// A value (`isNotNull`).
    pub fn is_not_null(self) -> Filter<E> {
        self.op("isNotNull", WhereValue::Null)
    }
}

impl<E> Clone for AttributeFilter<E> {
    fn clone(&self) -> Self {
        Self {
            attribute: self.attribute.clone(),
            language: self.language.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> fmt::Debug for AttributeFilter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttributeFilter")
            .field("attribute", &self.attribute)
            .field("language", &self.language)
            .finish()
    }
}
