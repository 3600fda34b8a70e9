//! [`Filter<E>`]: a `where` typed by the entity it filters, combined with `&`, `|`, `!`.

use std::fmt;
use std::marker::PhantomData;

use serde_json::Value;

use super::{AttributeFilter, Condition, Where, WhereValue};

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

    pub(super) fn from_conditions(conditions: Vec<Condition>) -> Self {
        Self {
            conditions,
            _entity: PhantomData,
        }
    }

    pub(crate) fn one(condition: Condition) -> Self {
        Self::from_conditions(vec![condition])
    }

    /// A filter matching no record (sent as `id isNull`: every record has an id).
    pub fn none() -> Self {
        Self::one(Condition::new("isNull").attribute("id"))
    }

    /// Wraps an untyped [`Where`], for field names known only at run time. Nothing checks that
    /// its fields belong to `E`.
    pub fn raw(w: Where) -> Self {
        Self::from_conditions(w.into_conditions())
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
    /// built from a [`DateTimeField`](crate::DateTimeField)) in the IANA time zone `tz`, e.g. `"Europe/Berlin"`:
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
