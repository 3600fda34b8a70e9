//! The untyped tree: [`Where`], [`Condition`], [`WhereValue`], and their JSON and wire forms.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::encode::{form_encode, php_query_pairs};

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

/// Visits every condition of a tree, groups' members included.
fn each_condition_mut(conditions: &mut [Condition], f: &mut dyn FnMut(&mut Condition)) {
    for c in conditions {
        f(c);
        if let Some(WhereValue::Conditions(members)) = &mut c.value {
            each_condition_mut(members, f);
        }
    }
}

impl Where {
    /// The `(entity, code)` of every attribute condition by code (see
    /// [`Condition::attribute_code`]).
    pub(crate) fn attribute_codes(&self) -> std::collections::BTreeSet<(String, String)> {
        fn visit(
            conditions: &[Condition],
            found: &mut std::collections::BTreeSet<(String, String)>,
        ) {
            for c in conditions {
                if let (Some(entity), Some(code)) = (&c.attribute_of, &c.attribute) {
                    found.insert((entity.clone(), code.clone()));
                }
                if let Some(WhereValue::Conditions(members)) = &c.value {
                    visit(members, found);
                }
            }
        }
        let mut found = std::collections::BTreeSet::new();
        visit(self.conditions(), &mut found);
        found
    }

    /// Replaces each attribute code by the id `id_of(entity, code)` gives; the first code it
    /// has none for is the error.
    pub(crate) fn resolve_codes(
        &self,
        id_of: &dyn Fn(&str, &str) -> Option<String>,
    ) -> std::result::Result<Where, (String, String)> {
        let mut conditions = self.conditions().to_vec();
        let mut missing = None;
        each_condition_mut(&mut conditions, &mut |c| {
            if let (Some(entity), Some(code)) = (&c.attribute_of, &c.attribute) {
                match id_of(entity, code) {
                    Some(id) => {
                        c.attribute = Some(id);
                        c.attribute_of = None;
                    }
                    None => {
                        missing.get_or_insert_with(|| (entity.clone(), code.clone()));
                    }
                }
            }
        });
        match missing {
            Some(m) => Err(m),
            None => Ok(Where::from(conditions)),
        }
    }

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
    /// When set, `attribute` is the code (2.2) or system name (2.3) of an attribute of this
    /// entity (its wire name), resolved to the attribute's id before the request is sent:
    /// AtroCore finds the attribute of a `where` item by id only
    /// (`app/Atro/Core/AttributeFieldConverter.php::getWherePart`, both generations).
    pub attribute_of: Option<String>,
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
            attribute_of: None,
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

    /// Names an attribute of `entity` by its code (2.2) or system name (2.3); the request
    /// resolves it to the attribute's id before it is sent (one lookup per client, cached).
    #[must_use]
    pub fn attribute_code(mut self, entity: impl Into<String>, code: impl Into<String>) -> Self {
        self.attribute = Some(code.into());
        self.is_attribute = true;
        self.attribute_of = Some(entity.into());
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
            attribute_of: None,
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
