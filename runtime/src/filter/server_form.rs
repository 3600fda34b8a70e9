//! The form of a `where` that AtroCore evaluates as meant: `not` only where the server reads it,
//! and only operators it knows.
//!
//! AtroCore turns a `not` item into `id NOT IN (sub-query of its conditions)`: the complement of
//! the records its conditions match, so records for which the inner condition is `NULL` are
//! kept (`not(price > 5)` also matches products without a price). But it does so only for a
//! `not` at the top level of `where`, or at the top level of another `not`'s conditions (which
//! are converted as a fresh `where`). Inside an `and`/`or` group the server drops the `not`
//! *and every later condition of that group*, silently (`app/Atro/ORM/DB/RDB/Query/
//! QueryConverter.php::getWhere`, `NOT` handled at level ≤ 1 only; the item comes from
//! `app/Atro/Core/SelectManagers/Base.php::getWherePart`).
//!
//! [`server_form`] rewrites a tree so that every `not` sits where the server reads it, with the
//! same meaning (a `not` is a set complement on both sides):
//! - an `and` holding a `not` is flattened into the list around it (a list is a conjunction);
//! - an `or` holding a `not` becomes a `not` of the conjunction of its negated members
//!   (`A or not B` = `not(not A and B)`), the members without a `not` kept together as one
//!   `or` under a single `not`;
//! - double negations cancel (`not(not X)` = `X`), and the negation of an `or` is the list of
//!   its negated members.
//!
//! Every boolean combination has such a form, so no filter is refused for its shape. A tree with
//! no `not` inside a group is sent unchanged. An operator outside AtroCore's list (which the
//! server would skip silently, `getWherePart`'s `default` branch) is an error before sending.

use super::{Condition, Where, WhereValue};
use crate::error::{Error, Result};

/// The operator types AtroCore's select manager knows (`app/Atro/Core/SelectManagers/Base.php`,
/// `getWherePart` and the `convertDateTimeWhere` family). Anything else is skipped by the server.
pub(crate) const KNOWN_OPERATORS: &[&str] = &[
    // groups
    "and",
    "or",
    "not",
    // comparisons and text
    "equals",
    "notEquals",
    "like",
    "notLike",
    "startsWith",
    "endsWith",
    "contains",
    "notContains",
    "similar",
    "greaterThan",
    "lessThan",
    "greaterThanOrEquals",
    "lessThanOrEquals",
    "in",
    "notIn",
    "isNull",
    "isNotNull",
    "isTrue",
    "isFalse",
    // dates
    "on",
    "notOn",
    "after",
    "before",
    "between",
    "ever",
    "today",
    "past",
    "future",
    "lastSevenDays",
    "lastXDays",
    "nextXDays",
    "olderThanXDays",
    "afterXDays",
    "currentMonth",
    "lastMonth",
    "nextMonth",
    "currentQuarter",
    "lastQuarter",
    "currentYear",
    "lastYear",
    // links and arrays
    "isLinked",
    "isNotLinked",
    "linkedWith",
    "notLinkedWith",
    "arrayAnyOf",
    "arrayNoneOf",
    "arrayIsEmpty",
    "arrayIsNotEmpty",
    // special
    "bool",
    "primary",
    "textFilter",
    "savedSearch",
    "subQuery",
];

fn is_group(c: &Condition) -> bool {
    matches!(c.op.as_str(), "and" | "or" | "not")
}

/// The conditions of a group (none when its value is not a list of conditions).
fn members(c: &Condition) -> &[Condition] {
    match &c.value {
        Some(WhereValue::Conditions(cs)) => cs,
        _ => &[],
    }
}

/// Whether a `not` occurs anywhere in `c` (itself included).
fn has_not(c: &Condition) -> bool {
    c.op == "not" || (is_group(c) && members(c).iter().any(has_not))
}

/// Whether the server would drop a `not` somewhere in `c`, read at the top level of a list.
fn misplaced(c: &Condition) -> bool {
    match c.op.as_str() {
        "not" => members(c).iter().any(misplaced),
        "and" | "or" => members(c).iter().any(has_not),
        _ => false,
    }
}

fn check_operators(c: &Condition) -> Result<()> {
    if !KNOWN_OPERATORS.contains(&c.op.as_str()) {
        return Err(Error::query(format!(
            "`where` operator `{}`{} is not one AtroCore knows: the server would skip the \
             condition silently and return records it does not match",
            c.op,
            c.attribute
                .as_deref()
                .map(|a| format!(" (on `{a}`)"))
                .unwrap_or_default()
        )));
    }
    if is_group(c) {
        members(c).iter().try_for_each(check_operators)?;
    }
    Ok(())
}

/// The `where` to send for `w`: the same records, in a form the server reads as meant (see the
/// module docs). Fails, before anything is sent, on an operator AtroCore does not know.
pub(crate) fn server_form(w: &Where) -> Result<Where> {
    w.conditions().iter().try_for_each(check_operators)?;
    if !w.conditions().iter().any(misplaced) {
        return Ok(w.clone());
    }
    Ok(Where::from(list(w.conditions())))
}

/// A list (conjunction) of server-readable conditions equivalent to the conjunction of `cs`.
fn list(cs: &[Condition]) -> Vec<Condition> {
    cs.iter().flat_map(top).collect()
}

/// A list of server-readable conditions equivalent to `c`.
fn top(c: &Condition) -> Vec<Condition> {
    match c.op.as_str() {
        "not" => vec![Condition::not(list(members(c)))],
        "and" if members(c).iter().any(has_not) => list(members(c)),
        "or" if members(c).iter().any(has_not) => {
            let (plain, negated): (Vec<&Condition>, Vec<&Condition>) =
                members(c).iter().partition(|m| !has_not(m));
            let mut inner = Vec::new();
            match plain.as_slice() {
                [] => {}
                [one] => inner.push(Condition::not([(*one).clone()])),
                many => inner.push(Condition::not([Condition::or(
                    many.iter().map(|m| (*m).clone()),
                )])),
            }
            inner.extend(negated.into_iter().flat_map(negation));
            vec![Condition::not(inner)]
        }
        _ => vec![c.clone()],
    }
}

/// A list of server-readable conditions equivalent to `not c`.
fn negation(c: &Condition) -> Vec<Condition> {
    match c.op.as_str() {
        // not(not(A, B)) = A and B
        "not" => list(members(c)),
        // not(A or B) = not A and not B
        "or" => members(c).iter().flat_map(negation).collect(),
        // not(A and B), or not(leaf): one complement of the server-readable form
        "and" => vec![Condition::not(list(members(c)))],
        _ => vec![Condition::not(top(c))],
    }
}
