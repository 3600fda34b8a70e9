//! `where` filters: the untyped [`Where`] tree, the typed [`Filter<E>`] built from field
//! handles, and their encoding in PHP bracket notation.
//!
//! A `where` is a list of conditions that must all hold. A condition has an operator `type`,
//! usually an `attribute` (the field name, or an attribute id when `isAttribute` is set) and a
//! `value`; the groups `and`, `or` and `not` hold a list of conditions as their value:
//!
//! ```text
//! where[0][type]=or
//! where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=x
//! where[0][value][1][type]=isNull&where[0][value][1][attribute]=code
//! ```
//!
//! Generated crates give each entity field a handle of the right kind ([`TextField`],
//! [`NumberField`], …) whose operators return a [`Filter<E>`]; a `Filter<E>` fits only lists of
//! `E`. For names known only at run time, build a [`Where`] and wrap it with [`Filter::raw`].

use std::fmt;
use std::marker::PhantomData;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::encode::{form_encode, php_query_pairs};

mod server_form;
pub(crate) use server_form::server_form;

// ---------------------------------------------------------------------------------------------
// The untyped tree
// ---------------------------------------------------------------------------------------------

/// An untyped `where`: a list of [`Condition`]s that must all hold.
///
/// Serializes to (and deserializes from) the JSON array AtroCore's PHP code works with; on the
/// wire it is sent in PHP bracket notation (see [`Where::to_query_string`]).
///
/// ```
/// use atrocore_runtime::{Condition, Where};
///
/// let w = Where::from(Condition::new("equals").attribute("name").value("Chair"));
/// assert_eq!(
///     w.to_query_string("where"),
///     "where%5B0%5D%5Btype%5D=equals&where%5B0%5D%5Battribute%5D=name&where%5B0%5D%5Bvalue%5D=Chair"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Where {
    conditions: Vec<Condition>,
}

impl Where {
    /// An empty `where`: matches every record, and sends nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a condition (all conditions must hold).
    pub fn push(&mut self, condition: Condition) {
        self.conditions.push(condition);
    }

    /// Adds a condition, builder style.
    #[must_use]
    pub fn with(mut self, condition: Condition) -> Self {
        self.push(condition);
        self
    }

    /// The conditions.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The conditions, owned.
    pub fn into_conditions(self) -> Vec<Condition> {
        self.conditions
    }

    /// No conditions.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// The JSON array this `where` stands for: what PHP's `parse_str` yields on the server, except
    /// that PHP turns numbers and booleans into strings.
    pub fn to_json(&self) -> Value {
        Value::Array(self.conditions.iter().map(Condition::to_json).collect())
    }

    /// Reads a `where` from its JSON form (an array of condition objects, or one object).
    pub fn from_json(value: Value) -> Result<Self, serde_json::Error> {
        let items = match value {
            Value::Array(items) => items,
            Value::Object(_) => vec![value],
            Value::Null => Vec::new(),
            _ => {
                return Err(serde_json::Error::custom(
                    "a `where` is an array of conditions",
                ));
            }
        };
        let conditions = items
            .into_iter()
            .map(Condition::from_json)
            .collect::<Result<_, _>>()?;
        Ok(Self { conditions })
    }

    /// The query pairs (not yet percent-encoded) that send this `where` as parameter `name`.
    pub fn to_query_pairs(&self, name: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        php_query_pairs(name, &self.to_json(), &mut out);
        out
    }

    /// The percent-encoded query string that sends this `where` as parameter `name`.
    pub fn to_query_string(&self, name: &str) -> String {
        form_encode(&self.to_query_pairs(name))
    }
}

impl From<Condition> for Where {
    fn from(condition: Condition) -> Self {
        Self {
            conditions: vec![condition],
        }
    }
}

impl From<Vec<Condition>> for Where {
    fn from(conditions: Vec<Condition>) -> Self {
        Self { conditions }
    }
}

impl FromIterator<Condition> for Where {
    fn from_iter<I: IntoIterator<Item = Condition>>(iter: I) -> Self {
        Self {
            conditions: iter.into_iter().collect(),
        }
    }
}

impl Extend<Condition> for Where {
    fn extend<I: IntoIterator<Item = Condition>>(&mut self, iter: I) {
        self.conditions.extend(iter);
    }
}

impl IntoIterator for Where {
    type Item = Condition;
    type IntoIter = std::vec::IntoIter<Condition>;
    fn into_iter(self) -> Self::IntoIter {
        self.conditions.into_iter()
    }
}

impl Serialize for Where {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Where {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Where::from_json(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// One condition of a [`Where`]: `{type, attribute?, value?, isAttribute?, …}`.
///
/// ```
/// use atrocore_runtime::Condition;
///
/// let c = Condition::new("in").attribute("status").value(vec!["draft", "ready"]);
/// let group = Condition::or([c, Condition::new("isNull").attribute("status")]);
/// assert_eq!(group.op, "or");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator, sent as `type`: `equals`, `in`, `isNull`, `and`, `or`, `not`, …
    pub op: String,
    /// The field name, or the attribute id (or code) when [`is_attribute`](Self::is_attribute)
    /// is set.
    pub attribute: Option<String>,
    /// The operand; absent for operators such as `isNull` or `today`.
    pub value: Option<WhereValue>,
    /// `attribute` names an attribute rather than a field (sent as `isAttribute=1`).
    pub is_attribute: bool,
    /// Any other keys, sent as given (for example `language` for a multilingual attribute, or
    /// `dateTime`).
    pub extra: Map<String, Value>,
}

impl Condition {
    /// A condition with operator `op` (the wire `type`).
    pub fn new(op: impl Into<String>) -> Self {
        Self {
            op: op.into(),
            attribute: None,
            value: None,
            is_attribute: false,
            extra: Map::new(),
        }
    }

    /// Sets the field name (or attribute id).
    #[must_use]
    pub fn attribute(mut self, attribute: impl Into<String>) -> Self {
        self.attribute = Some(attribute.into());
        self
    }

    /// Sets the operand.
    #[must_use]
    pub fn value(mut self, value: impl Into<WhereValue>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Marks `attribute` as an attribute id or code rather than a field name.
    #[must_use]
    pub fn is_attribute(mut self, is_attribute: bool) -> Self {
        self.is_attribute = is_attribute;
        self
    }

    /// Sets another key of the condition (sent after the standard ones).
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// A group of `op` (`and`, `or`, `not`) over `conditions`.
    pub fn group(op: impl Into<String>, conditions: impl IntoIterator<Item = Condition>) -> Self {
        Self::new(op).value(WhereValue::Conditions(conditions.into_iter().collect()))
    }

    /// All of `conditions` hold.
    pub fn and(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Self::group("and", conditions)
    }

    /// At least one of `conditions` holds.
    pub fn or(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Self::group("or", conditions)
    }

    /// Not all of `conditions` hold: the complement of the records their conjunction matches,
    /// so a record whose field is `NULL` is in `not(x > 5)`.
    ///
    /// AtroCore itself ignores `not` (at the top level it matches nothing, inside a group it is
    /// dropped), so requests never carry one: the runtime pushes the negation down to the leaves
    /// before sending (`not(x > 5)` goes out as `x <= 5 or x is null`) and refuses, before
    /// sending, a negation the server cannot express exactly (day windows, link, array and
    /// attribute conditions).
    pub fn not(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Self::group("not", conditions)
    }

    /// The JSON object of this condition, keys in the order `type`, `attribute`, `value`,
    /// `isAttribute`, then the extra keys.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(self.op.clone()));
        if let Some(a) = &self.attribute {
            m.insert("attribute".into(), Value::String(a.clone()));
        }
        if let Some(v) = &self.value {
            m.insert("value".into(), v.to_json());
        }
        if self.is_attribute {
            m.insert("isAttribute".into(), Value::Bool(true));
        }
        for (k, v) in &self.extra {
            if !m.contains_key(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }

    /// Reads a condition from its JSON object. `type` is required; `isAttribute` is read the way
    /// PHP's `!empty()` would (`"0"`, `""`, `0`, `false` and `null` are false).
    pub fn from_json(value: Value) -> Result<Self, serde_json::Error> {
        let Value::Object(mut m) = value else {
            return Err(serde_json::Error::custom("a condition is a JSON object"));
        };
        let op = match m.shift_remove("type") {
            Some(Value::String(s)) => s,
            Some(_) => {
                return Err(serde_json::Error::custom(
                    "condition `type` is not a string",
                ));
            }
            None => return Err(serde_json::Error::custom("condition without `type`")),
        };
        let attribute = match m.shift_remove("attribute") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        };
        let is_attribute = m
            .shift_remove("isAttribute")
            .is_some_and(|v| php_truthy(&v));
        let is_group = matches!(op.as_str(), "and" | "or" | "not");
        let value = match m.shift_remove("value") {
            None => None,
            Some(Value::Array(items))
                if is_group
                    && items
                        .iter()
                        .all(|i| i.is_object() && i.get("type").is_some()) =>
            {
                Some(WhereValue::Conditions(
                    items
                        .into_iter()
                        .map(Condition::from_json)
                        .collect::<Result<_, _>>()?,
                ))
            }
            Some(v) => Some(WhereValue::from(v)),
        };
        Ok(Self {
            op,
            attribute,
            value,
            is_attribute,
            extra: m,
        })
    }
}

fn php_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !(s.is_empty() || s == "0"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The operand of a [`Condition`]: a JSON-like value, or nested conditions for groups.
///
/// Converts from strings, numbers, booleans, vectors and arrays of those, and
/// [`serde_json::Value`].
#[derive(Debug, Clone, PartialEq)]
pub enum WhereValue {
    /// No value (not sent).
    Null,
    /// A flag, sent as `1` or `0`.
    Bool(bool),
    /// A number, sent in decimal.
    Number(Number),
    /// A string, sent as is.
    String(String),
    /// A list, sent with indexes `[0]`, `[1]`, …
    List(Vec<WhereValue>),
    /// Nested conditions, the operand of `and`, `or` and `not`.
    Conditions(Vec<Condition>),
    /// Any other JSON object, sent key by key.
    Object(Map<String, Value>),
    /// A float that cannot be sent (NaN or an infinity), from `WhereValue::from(f64)`: a request
    /// carrying it fails before sending, rather than comparing with an empty value.
    NotFinite(f64),
}

impl WhereValue {
    /// The JSON form of this value.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            Self::Conditions(c) => Value::Array(c.iter().map(Condition::to_json).collect()),
            Self::Object(m) => Value::Object(m.clone()),
            Self::NotFinite(_) => Value::Null,
        }
    }
}

impl From<Value> for WhereValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(b),
            Value::Number(n) => Self::Number(n),
            Value::String(s) => Self::String(s),
            Value::Array(items) => Self::List(items.into_iter().map(Self::from).collect()),
            Value::Object(m) => Self::Object(m),
        }
    }
}

impl From<&str> for WhereValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for WhereValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl From<&String> for WhereValue {
    fn from(v: &String) -> Self {
        Self::String(v.clone())
    }
}

impl From<bool> for WhereValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

macro_rules! where_value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for WhereValue {
            fn from(v: $t) -> Self {
                Self::Number(Number::from(v))
            }
        }
    )*};
}
where_value_from_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl From<f64> for WhereValue {
    /// A finite float; NaN and infinities become [`WhereValue::NotFinite`], which a request
    /// refuses to send.
    fn from(v: f64) -> Self {
        Number::from_f64(v).map_or(Self::NotFinite(v), Self::Number)
    }
}

impl From<f32> for WhereValue {
    fn from(v: f32) -> Self {
        Self::from(f64::from(v))
    }
}

impl<T: Into<WhereValue>> From<Vec<T>> for WhereValue {
    fn from(v: Vec<T>) -> Self {
        Self::List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<WhereValue>, const N: usize> From<[T; N]> for WhereValue {
    fn from(v: [T; N]) -> Self {
        Self::List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<WhereValue>> From<Option<T>> for WhereValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl From<Vec<Condition>> for WhereValue {
    fn from(v: Vec<Condition>) -> Self {
        Self::Conditions(v)
    }
}

impl From<Where> for WhereValue {
    fn from(v: Where) -> Self {
        Self::Conditions(v.conditions)
    }
}

// ---------------------------------------------------------------------------------------------
// The typed wrapper
// ---------------------------------------------------------------------------------------------

/// A `where` on records of entity `E`, built from field handles and combined with
/// [`and`](Self::and), [`or`](Self::or), [`not`](Self::not) (or `&`, `|`, `!`).
///
/// An empty filter matches every record. The type parameter keeps a filter on products from
/// being passed to a list of brands.
///
/// ```
/// use atrocore_runtime::{Filter, NumberField, TextField};
/// # struct Product;
///
/// const NAME: TextField<Product> = TextField::new("name");
/// const PRICE: NumberField<Product> = NumberField::new("price");
///
/// let f: Filter<Product> = NAME.starts_with("Chair") & (PRICE.less_than(100) | PRICE.is_null());
/// assert_eq!(f.as_where().conditions().len(), 2);
/// ```
pub struct Filter<E> {
    conditions: Vec<Condition>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Filter<E> {
    /// The empty filter: every record.
    pub fn new() -> Self {
        Self::from_conditions(Vec::new())
    }

    fn from_conditions(conditions: Vec<Condition>) -> Self {
        Self {
            conditions,
            _entity: PhantomData,
        }
    }

    fn one(condition: Condition) -> Self {
        Self::from_conditions(vec![condition])
    }

    /// A filter matching no record (sent as `id isNull`: every record has an id).
    pub fn none() -> Self {
        Self::one(Condition::new("isNull").attribute("id"))
    }

    /// Wraps an untyped [`Where`], for field names known only at run time. Nothing checks that
    /// its fields belong to `E`.
    pub fn raw(w: Where) -> Self {
        Self::from_conditions(w.conditions)
    }

    /// A condition on an attribute (by id, or by code where the instance accepts it): the
    /// conditions it builds carry `isAttribute`.
    pub fn attribute(id_or_code: impl Into<String>) -> AttributeFilter<E> {
        AttributeFilter {
            attribute: id_or_code.into(),
            language: None,
            _entity: PhantomData,
        }
    }

    /// All of `filters` hold (the empty filter if there are none).
    pub fn all(filters: impl IntoIterator<Item = Filter<E>>) -> Self {
        filters.into_iter().fold(Self::new(), Self::and)
    }

    /// At least one of `filters` holds; with no filters at all, no record matches.
    pub fn any(filters: impl IntoIterator<Item = Filter<E>>) -> Self {
        let mut members = Vec::new();
        for f in filters {
            if f.conditions.is_empty() {
                // `x or everything` is everything.
                return Self::new();
            }
            match f.into_condition() {
                c if c.op == "or" => match c.value {
                    Some(WhereValue::Conditions(inner)) => members.extend(inner),
                    other => members.push(Condition { value: other, ..c }),
                },
                c => members.push(c),
            }
        }
        match members.len() {
            0 => Self::none(),
            1 => Self::from_conditions(members),
            _ => Self::one(Condition::or(members)),
        }
    }

    /// Both this filter and `other` hold.
    #[must_use]
    pub fn and(mut self, other: Filter<E>) -> Self {
        self.conditions.extend(other.conditions);
        self
    }

    /// This filter or `other` holds.
    #[must_use]
    pub fn or(self, other: Filter<E>) -> Self {
        Self::any([self, other])
    }

    /// This filter does not hold (also `!filter`).
    #[must_use]
    // `std::ops::Not` is implemented as well; the method reads better at the end of a chain.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        if self.conditions.is_empty() {
            return Self::none();
        }
        Self::one(Condition::not(self.conditions))
    }

    /// Reads the days of this filter's date-time conditions (`on`, `today`, `lastXDays`, …; those
    /// built from a [`DateTimeField`]) in the IANA time zone `tz`, e.g. `"Europe/Berlin"`:
    /// AtroCore then uses that zone's midnights (it takes the zone from each condition's
    /// `timeZone`, UTC when absent; month, quarter and year windows stay on the UTC calendar).
    /// Conditions that already name a zone keep it. See also
    /// [`ClientBuilder::time_zone`](crate::ClientBuilder::time_zone) for a default.
    #[must_use]
    pub fn time_zone(mut self, tz: impl Into<String>) -> Self {
        let tz = tz.into();
        for c in &mut self.conditions {
            set_time_zone(c, &tz);
        }
        self
    }

    /// No conditions: matches every record.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// The untyped tree.
    pub fn as_where(&self) -> Where {
        Where::from(self.conditions.clone())
    }

    /// The untyped tree, owned.
    pub fn into_where(self) -> Where {
        Where::from(self.conditions)
    }

    /// One condition standing for the whole filter (an `and` group when there are several).
    fn into_condition(mut self) -> Condition {
        if self.conditions.len() == 1 {
            self.conditions.remove(0)
        } else {
            Condition::and(self.conditions)
        }
    }
}

/// Sets `timeZone` on every date-time condition in `c` (those carrying `dateTime: true`) that has
/// none yet.
pub(crate) fn set_time_zone(c: &mut Condition, tz: &str) {
    if let Some(WhereValue::Conditions(inner)) = &mut c.value {
        for i in inner {
            set_time_zone(i, tz);
        }
        return;
    }
    if c.extra.get("dateTime") == Some(&Value::Bool(true)) && !c.extra.contains_key("timeZone") {
        c.extra
            .insert("timeZone".into(), Value::String(tz.to_owned()));
    }
}

/// Both `a` and `b` hold: the same as `a.and(b)`.
pub fn and<E>(a: Filter<E>, b: Filter<E>) -> Filter<E> {
    a.and(b)
}

/// `a` or `b` holds: the same as `a.or(b)`.
pub fn or<E>(a: Filter<E>, b: Filter<E>) -> Filter<E> {
    a.or(b)
}

/// `f` does not hold: the same as `f.not()`.
pub fn not<E>(f: Filter<E>) -> Filter<E> {
    f.not()
}

impl<E> Default for Filter<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Clone for Filter<E> {
    fn clone(&self) -> Self {
        Self::from_conditions(self.conditions.clone())
    }
}

impl<E> PartialEq for Filter<E> {
    fn eq(&self, other: &Self) -> bool {
        self.conditions == other.conditions
    }
}

impl<E> fmt::Debug for Filter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.conditions).finish()
    }
}

impl<E> From<Filter<E>> for Where {
    fn from(f: Filter<E>) -> Self {
        f.into_where()
    }
}

impl<E> std::ops::BitAnd for Filter<E> {
    type Output = Filter<E>;
    fn bitand(self, rhs: Self) -> Self {
        self.and(rhs)
    }
}

impl<E> std::ops::BitOr for Filter<E> {
    type Output = Filter<E>;
    fn bitor(self, rhs: Self) -> Self {
        self.or(rhs)
    }
}

impl<E> std::ops::Not for Filter<E> {
    type Output = Filter<E>;
    fn not(self) -> Self {
        Filter::not(self)
    }
}

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
    pub fn equals(&self, value: impl Into<String>) -> Filter<E> {
        self.cond_value("equals", text(value))
    }
    /// Not equal to `value` (`notEquals`).
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
    pub fn equals(&self, value: impl Into<NumberValue>) -> Filter<E> {
        self.cond_value("equals", value.into().0)
    }
    /// Not equal to `value`.
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
    pub fn equals(&self, value: bool) -> Filter<E> {
        if value {
            self.is_true()
        } else {
            self.is_false()
        }
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
            /// On the day `date` (`YYYY-MM-DD`) (`on`).
            pub fn on(&self, date: impl Into<String>) -> Filter<E> {
                self.date("on", Some(text(date)))
            }
            /// Not on the day `date` (`notOn`).
            pub fn not_on(&self, date: impl Into<String>) -> Filter<E> {
                self.date("notOn", Some(text(date)))
            }
            /// After `date` (`after`).
            pub fn after(&self, date: impl Into<String>) -> Filter<E> {
                self.date("after", Some(text(date)))
            }
            /// Before `date` (`before`).
            pub fn before(&self, date: impl Into<String>) -> Filter<E> {
                self.date("before", Some(text(date)))
            }
            /// From `from` to `to` (`between`).
            pub fn between(&self, from: impl Into<String>, to: impl Into<String>) -> Filter<E> {
                self.date(
                    "between",
                    Some(WhereValue::List(vec![text(from), text(to)])),
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
    pub fn equals(&self, id: impl Into<String>) -> Filter<E> {
        self.cond_value("equals", text(id))
    }
    /// Not equal to the id `id` (`notEquals`).
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
    pub fn equals(&self, value: impl Into<WhereValue>) -> Filter<E> {
        self.cond_value("equals", value.into())
    }
    /// Not equal to `value`.
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
    attribute: String,
    language: Option<String>,
    _entity: PhantomData<fn() -> E>,
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
    pub fn equals(self, value: impl Into<WhereValue>) -> Filter<E> {
        self.op("equals", value)
    }
    /// Not equal to `value`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Product;
    const NAME: TextField<Product> = TextField::new("name");
    const PRICE: NumberField<Product> = NumberField::new("price");
    const ACTIVE: BoolField<Product> = BoolField::new("isActive");
    const CREATED: DateTimeField<Product> = DateTimeField::new("createdAt");
    const TAGS: ArrayField<Product> = ArrayField::new("tags");
    const CATS: LinkField<Product> = LinkField::new("categories");

    fn qs(f: Filter<Product>) -> String {
        f.into_where()
            .to_query_pairs("where")
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn single_condition() {
        assert_eq!(
            qs(NAME.equals("x")),
            "where[0][type]=equals&where[0][attribute]=name&where[0][value]=x"
        );
        assert_eq!(
            qs(NAME.is_null()),
            "where[0][type]=isNull&where[0][attribute]=name"
        );
    }

    #[test]
    fn and_is_a_flat_list() {
        assert_eq!(
            qs(NAME.like("%a%") & ACTIVE.is_true()),
            "where[0][type]=like&where[0][attribute]=name&where[0][value]=%a%\
             &where[1][type]=isTrue&where[1][attribute]=isActive"
        );
    }

    #[test]
    fn or_nests_and_flattens() {
        let f = NAME.equals("a") | NAME.equals("b") | PRICE.between(1, 2.5);
        assert_eq!(
            qs(f),
            "where[0][type]=or\
             &where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=a\
             &where[0][value][1][type]=equals&where[0][value][1][attribute]=name&where[0][value][1][value]=b\
             &where[0][value][2][type]=between&where[0][value][2][attribute]=price\
             &where[0][value][2][value][0]=1&where[0][value][2][value][1]=2.5"
        );
    }

    #[test]
    fn or_of_conjunctions_groups_them() {
        let f = (NAME.equals("a") & ACTIVE.is_true()).or(PRICE.is_null());
        let j = f.into_where().to_json();
        assert_eq!(j[0]["type"], "or");
        assert_eq!(j[0]["value"][0]["type"], "and");
        assert_eq!(j[0]["value"][0]["value"][1]["type"], "isTrue");
        assert_eq!(j[0]["value"][1]["type"], "isNull");
    }

    #[test]
    fn not_and_empty_rules() {
        let j = (!NAME.in_(["a", "b"])).into_where().to_json();
        assert_eq!(
            j,
            json!([{"type": "not", "value": [{"type": "in", "attribute": "name", "value": ["a", "b"]}]}])
        );
        let empty = Filter::<Product>::new();
        assert!(empty.clone().and(Filter::new()).is_empty());
        assert!(
            empty.clone().or(NAME.equals("x")).is_empty(),
            "x or everything"
        );
        assert_eq!(Filter::<Product>::any([]), Filter::none());
        assert_eq!(empty.not(), Filter::none());
        assert_eq!(
            Filter::all([NAME.equals("a"), PRICE.equals(1)])
                .as_where()
                .conditions()
                .len(),
            2
        );
        assert_eq!(
            and(NAME.equals("a"), PRICE.equals(1)),
            NAME.equals("a") & PRICE.equals(1)
        );
        assert_eq!(
            or(NAME.equals("a"), PRICE.equals(1)),
            NAME.equals("a") | PRICE.equals(1)
        );
        assert_eq!(not(NAME.equals("a")), !NAME.equals("a"));
    }

    #[test]
    fn kinds() {
        assert_eq!(
            CREATED.last_x_days(7).into_where().to_json(),
            json!([{"type": "lastXDays", "attribute": "createdAt", "value": 7, "dateTime": true}])
        );
        assert_eq!(
            qs(TAGS.array_any_of(["x"])),
            "where[0][type]=arrayAnyOf&where[0][attribute]=tags&where[0][value][0]=x"
        );
        assert_eq!(
            qs(CATS.linked_with(["c1", "c2"])),
            "where[0][type]=linkedWith&where[0][attribute]=categories&where[0][value][0]=c1&where[0][value][1]=c2"
        );
        assert_eq!(
            qs(ACTIVE.equals(false)),
            "where[0][type]=isFalse&where[0][attribute]=isActive"
        );
        assert_eq!(
            qs(AnyField::<Product>::new("x").op("similar", "abc")),
            "where[0][type]=similar&where[0][attribute]=x&where[0][value]=abc"
        );
        assert_eq!(
            qs(PRICE.equals(f64::NAN)),
            "where[0][type]=equals&where[0][attribute]=price"
        );
    }

    #[test]
    fn empty_lists_are_decided_locally() {
        let none: [&str; 0] = [];
        assert_eq!(NAME.in_(none), Filter::none());
        assert!(NAME.not_in(none).is_empty());
        assert_eq!(CATS.linked_with(none), Filter::none());
        assert!(CATS.not_linked_with(none).is_empty());
        assert_eq!(TAGS.array_any_of(none), Filter::none());
        assert!(TAGS.array_none_of(none).is_empty());
        assert_eq!(PRICE.in_(Vec::<i32>::new()), Filter::none());
        assert_eq!(Filter::<Product>::attribute("a").in_(none), Filter::none());
        assert!(Filter::<Product>::attribute("a").not_in(none).is_empty());
        assert_eq!(
            qs(Filter::none()),
            "where[0][type]=isNull&where[0][attribute]=id"
        );
    }

    #[test]
    fn attribute_conditions() {
        assert_eq!(
            qs(Filter::attribute("a01").greater_than(3)),
            "where[0][type]=greaterThan&where[0][attribute]=a01&where[0][value]=3&where[0][isAttribute]=1"
        );
    }

    #[test]
    fn where_json_round_trip() {
        let w = (NAME.equals("a") | !(PRICE.in_([1, 2]) & Filter::attribute("a1").is_true()))
            .into_where()
            .with(
                Condition::new("equals")
                    .attribute("x")
                    .value(true)
                    .with("language", "de_DE"),
            );
        let j = serde_json::to_value(&w).unwrap();
        let back: Where = serde_json::from_value(j.clone()).unwrap();
        assert_eq!(back, w);
        assert_eq!(serde_json::to_value(&back).unwrap(), j);
    }

    #[test]
    fn from_json_reads_php_style_flags() {
        let w = Where::from_json(json!([
            {"type": "equals", "attribute": "a", "value": "x", "isAttribute": "false"},
            {"type": "equals", "attribute": "b", "value": "x", "isAttribute": "0"},
            {"type": "or", "value": [{"type": "isNull", "attribute": "c"}]},
        ]))
        .unwrap();
        assert!(
            w.conditions()[0].is_attribute,
            "PHP: !empty(\"false\") is true"
        );
        assert!(!w.conditions()[1].is_attribute);
        assert!(matches!(
            w.conditions()[2].value,
            Some(WhereValue::Conditions(_))
        ));
        assert!(Where::from_json(json!([{"attribute": "a"}])).is_err());
        assert!(Where::from_json(json!("x")).is_err());
    }
}
