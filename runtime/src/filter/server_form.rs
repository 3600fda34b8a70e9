//! The form of a `where` that AtroCore evaluates as meant: no `not` at all, and only operators the
//! server knows.
//!
//! AtroCore has no working `not` (read in `app/Atro/Core/SelectManagers/Base.php::getWherePart`
//! and `app/Atro/ORM/DB/RDB/Query/QueryConverter.php::getWhere`, 2.2.31 and 2.3.16):
//! - a `not` at the top level of `where` becomes `id!=s` with the inner conditions as a nested
//!   array, which the converter turns into `t1.id IN (:array)`: the negation is lost and the
//!   query matches nothing (or fails, depending on the database driver);
//! - a `not` inside an `and`/`or` group is reached at level 3 and hits `break`: that `not` is
//!   dropped silently and the group is evaluated without it (`a or not b` returns only `a`).
//!
//! So the runtime never sends a `not`. [`server_form`] pushes every negation down to the leaves
//! (De Morgan), replacing each negated condition by its complement with the `NULL` rows made
//! explicit, because AtroCore's positive operators never match `NULL` (`<>`, `NOT IN`,
//! `NOT LIKE` and `= FALSE` exclude it): `not(price > 5)` goes out as
//! `price <= 5 or price is null`. A `not` means "the records this does not match", the set
//! complement. Operators whose complement AtroCore cannot express exactly (day windows such as
//! `on` or `lastXDays`, link and array operators, full-text filters, attribute conditions) make
//! the request fail before sending, with an error that names the operator. A `where` without
//! `not` is sent unchanged; one with an operator the server does not know (which it would skip
//! silently, `getWherePart`'s `default` branch) is an error before sending.

use super::tree::{Condition, Where, WhereValue};
use crate::error::{Error, Result};

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

fn not_finite(v: &WhereValue) -> Option<f64> {
    match v {
        WhereValue::NotFinite(f) => Some(*f),
        WhereValue::List(items) => items.iter().find_map(not_finite),
        _ => None,
    }
}

fn check_operators(c: &Condition) -> Result<()> {
    if let Some(f) = c.value.as_ref().and_then(not_finite) {
        return Err(Error::query(format!(
            "`where` operator `{}`{} has the value {f}, which is not a finite number and cannot \
             be sent",
            c.op,
            on(c)
        )));
    }
    if !KNOWN_OPERATORS.contains(&c.op.as_str()) {
        return Err(Error::query(format!(
            "`where` operator `{}`{} is not one AtroCore knows: the server would skip the \
             condition silently and return records it does not match",
            c.op,
            on(c)
        )));
    }
    if is_group(c) {
        members(c).iter().try_for_each(check_operators)?;
    }
    Ok(())
}

fn on(c: &Condition) -> String {
    c.attribute
        .as_deref()
        .map(|a| format!(" on `{a}`"))
        .unwrap_or_default()
}

/// The `where` to send for `w`: the same records, with no `not` (see the module docs). Fails,
/// before anything is sent, on an operator AtroCore does not know or a negation it cannot
/// express.
///
/// `time_zone`: the client's default zone, set on date-time conditions that name none.
pub(crate) fn server_form(w: &Where, time_zone: Option<&str>) -> Result<Where> {
    w.conditions().iter().try_for_each(check_operators)?;
    let zoned;
    let w = match time_zone {
        Some(tz) => {
            let mut conditions = w.conditions().to_vec();
            for c in &mut conditions {
                super::typed::set_time_zone(c, tz);
            }
            zoned = Where::from(conditions);
            &zoned
        }
        None => w,
    };
    if !w.conditions().iter().any(has_not) {
        return Ok(w.clone());
    }
    Ok(match all(w.conditions().iter().map(positive))? {
        Node::True => Where::new(),
        Node::False => Where::from(nothing()),
        Node::Cond(c) if c.op == "and" => Where::from(members(&c).to_vec()),
        Node::Cond(c) => Where::from(c),
    })
}

/// A condition tree without `not`, or a constant (AtroCore has no literal for either: an empty
/// group is dropped, so constants are folded away before sending).
// Transient while a tree is rewritten, one at a time: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Node {
    True,
    False,
    Cond(Condition),
}

/// No record: every record has an id (the runtime's `Filter::none`).
fn nothing() -> Condition {
    Condition::new("isNull").attribute("id")
}

fn all(nodes: impl Iterator<Item = Result<Node>>) -> Result<Node> {
    let mut out = Vec::new();
    for n in nodes {
        match n? {
            Node::False => return Ok(Node::False),
            Node::True => {}
            Node::Cond(c) if c.op == "and" => out.extend(members(&c).iter().cloned()),
            Node::Cond(c) => out.push(c),
        }
    }
    Ok(match out.len() {
        0 => Node::True,
        1 => Node::Cond(out.remove(0)),
        _ => Node::Cond(Condition::and(out)),
    })
}

fn any(nodes: impl Iterator<Item = Result<Node>>) -> Result<Node> {
    let mut out = Vec::new();
    for n in nodes {
        match n? {
            Node::True => return Ok(Node::True),
            Node::False => {}
            Node::Cond(c) if c.op == "or" => out.extend(members(&c).iter().cloned()),
            Node::Cond(c) => out.push(c),
        }
    }
    Ok(match out.len() {
        0 => Node::False,
        1 => Node::Cond(out.remove(0)),
        _ => Node::Cond(Condition::or(out)),
    })
}

/// `c` without `not`.
fn positive(c: &Condition) -> Result<Node> {
    match c.op.as_str() {
        "and" => all(members(c).iter().map(positive)),
        "or" => any(members(c).iter().map(positive)),
        // `not` holds a list: the complement of its conjunction.
        "not" => any(members(c).iter().map(negative)),
        _ => Ok(Node::Cond(c.clone())),
    }
}

/// The complement of `c`, without `not`.
fn negative(c: &Condition) -> Result<Node> {
    match c.op.as_str() {
        "and" => any(members(c).iter().map(negative)),
        "or" => all(members(c).iter().map(negative)),
        "not" => all(members(c).iter().map(positive)),
        _ => negate_leaf(c).map(Node::Cond),
    }
}

/// The complement of one condition: its opposite operator, or-ed with `isNull` where the
/// opposite (like the original) does not match `NULL`.
fn negate_leaf(c: &Condition) -> Result<Condition> {
    let refuse = |why: &str| {
        Err(Error::query(format!(
            "cannot send `not` around `where` operator `{}`{}: AtroCore ignores `not` (a \
             top-level `not` matches nothing, one inside a group is dropped), so the runtime \
             sends the complement of each negated condition, and {why}; write the complement \
             explicitly",
            c.op,
            on(c)
        )))
    };
    if c.is_attribute {
        return refuse(
            "an attribute condition has none that is exact (a record may have no value row at all)",
        );
    }
    let swap = |op: &str| Condition {
        op: op.to_owned(),
        ..c.clone()
    };
    let or_null = |opposite: Condition| {
        let attribute = c.attribute.clone().unwrap_or_default();
        Condition::or([opposite, Condition::new("isNull").attribute(attribute)])
    };
    let value_is_null = matches!(c.value, None | Some(WhereValue::Null));
    Ok(match c.op.as_str() {
        "isNull" => swap("isNotNull"),
        "isNotNull" => swap("isNull"),
        // `equals null` is `IS NULL`, `notEquals null` is `IS NOT NULL`.
        "equals" if value_is_null => swap("isNotNull"),
        "notEquals" if value_is_null => swap("isNull"),
        "equals" => or_null(swap("notEquals")),
        "notEquals" => or_null(swap("equals")),
        "greaterThan" => or_null(swap("lessThanOrEquals")),
        "lessThanOrEquals" => or_null(swap("greaterThan")),
        "lessThan" => or_null(swap("greaterThanOrEquals")),
        "greaterThanOrEquals" => or_null(swap("lessThan")),
        // `before`/`after` compare with the same instant (`timeZone` kept) as `<`/`>` do.
        "before" => or_null(swap("greaterThanOrEquals")),
        "after" => or_null(swap("lessThanOrEquals")),
        "in" | "notIn" if !matches!(&c.value, Some(WhereValue::List(l)) if !l.is_empty()) => {
            return refuse("an empty list is dropped by the server inside a group");
        }
        "in" => or_null(swap("notIn")),
        "notIn" => or_null(swap("in")),
        "isTrue" => or_null(swap("isFalse")),
        "isFalse" => or_null(swap("isTrue")),
        "like" => or_null(swap("notLike")),
        "notLike" => or_null(swap("like")),
        "contains" => or_null(swap("notContains")),
        "notContains" => or_null(swap("contains")),
        // `startsWith x` is `LIKE 'x%'`, `endsWith x` is `LIKE '%x'` (the value is not escaped).
        "startsWith" | "endsWith" => {
            let Some(WhereValue::String(v)) = &c.value else {
                return refuse("it needs a text value");
            };
            let pattern = if c.op == "startsWith" {
                format!("{v}%")
            } else {
                format!("%{v}")
            };
            or_null(Condition {
                op: "notLike".into(),
                value: Some(pattern.into()),
                ..c.clone()
            })
        }
        "isLinked" => swap("isNotLinked"),
        "isNotLinked" => swap("isLinked"),
        "between" => {
            let Some(WhereValue::List(ends)) = &c.value else {
                return refuse("it needs a list of two ends");
            };
            let [from, to] = ends.as_slice() else {
                return refuse("it needs a list of two ends");
            };
            let lt = Condition {
                op: "lessThan".into(),
                value: Some(from.clone()),
                ..c.clone()
            };
            let gt = Condition {
                op: "greaterThan".into(),
                value: Some(to.clone()),
                ..c.clone()
            };
            let attribute = c.attribute.clone().unwrap_or_default();
            Condition::or([lt, gt, Condition::new("isNull").attribute(attribute)])
        }
        "linkedWith" | "notLinkedWith" => {
            return refuse(
                "the server's `notLinkedWith` is not the complement of `linkedWith` (it skips \
                 records whose link is empty, and on 2.3 can match nothing)",
            );
        }
        "arrayAnyOf" | "arrayNoneOf" | "arrayIsEmpty" | "arrayIsNotEmpty" => {
            return refuse("the array operators have no exact complement");
        }
        _ => return refuse("it has no exact complement among AtroCore's operators"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(a: &str, v: &str) -> Condition {
        Condition::new("equals").attribute(a).value(v)
    }

    fn sent(w: Where) -> serde_json::Value {
        server_form(&w, None).expect("sendable").to_json()
    }

    #[test]
    fn a_where_without_not_is_sent_unchanged() {
        let w = Where::from(vec![
            Condition::or([eq("a", "1"), eq("b", "2")]),
            eq("c", "3"),
        ]);
        assert_eq!(server_form(&w, None).unwrap(), w);
    }

    #[test]
    fn negations_reach_the_leaves_with_null_rows_explicit() {
        let w = Where::from(Condition::not([Condition::new("greaterThan")
            .attribute("price")
            .value(5)]));
        assert_eq!(
            sent(w),
            json!([{"type": "or", "value": [
                {"type": "lessThanOrEquals", "attribute": "price", "value": 5},
                {"type": "isNull", "attribute": "price"},
            ]}])
        );
    }

    #[test]
    fn de_morgan_through_groups_and_double_negation() {
        // a or not(b and not c)  =  a or not b or c
        let w = Where::from(Condition::or([
            eq("a", "1"),
            Condition::not([eq("b", "2"), Condition::not([eq("c", "3")])]),
        ]));
        assert_eq!(
            sent(w),
            json!([{"type": "or", "value": [
                {"type": "equals", "attribute": "a", "value": "1"},
                {"type": "notEquals", "attribute": "b", "value": "2"},
                {"type": "isNull", "attribute": "b"},
                {"type": "equals", "attribute": "c", "value": "3"},
            ]}])
        );
    }

    #[test]
    fn constants_fold_away() {
        // not(and()) is "no record"; not(or()) is "every record".
        assert_eq!(
            sent(Where::from(Condition::not([Condition::and([])]))),
            json!([{"type": "isNull", "attribute": "id"}])
        );
        assert_eq!(
            sent(Where::from(Condition::not([Condition::or([])]))),
            json!([])
        );
        assert_eq!(
            sent(Where::from(vec![
                Condition::not([Condition::new("isNull").attribute("x")]),
                eq("y", "1")
            ])),
            json!([
                {"type": "isNotNull", "attribute": "x"},
                {"type": "equals", "attribute": "y", "value": "1"},
            ])
        );
    }

    #[test]
    fn starts_with_and_between_have_exact_complements() {
        let w = Where::from(Condition::not([Condition::new("startsWith")
            .attribute("name")
            .value("Ch")]));
        assert_eq!(
            sent(w),
            json!([{"type": "or", "value": [
                {"type": "notLike", "attribute": "name", "value": "Ch%"},
                {"type": "isNull", "attribute": "name"},
            ]}])
        );
        let w = Where::from(Condition::not([Condition::new("between")
            .attribute("n")
            .value(vec![1, 9])]));
        assert_eq!(
            sent(w),
            json!([{"type": "or", "value": [
                {"type": "lessThan", "attribute": "n", "value": 1},
                {"type": "greaterThan", "attribute": "n", "value": 9},
                {"type": "isNull", "attribute": "n"},
            ]}])
        );
    }

    #[test]
    fn inexact_negations_and_unknown_operators_are_refused() {
        for c in [
            Condition::new("lastXDays").attribute("createdAt").value(3),
            Condition::new("linkedWith")
                .attribute("brand")
                .value(vec!["b1"]),
            Condition::new("equals")
                .attribute("weightId")
                .value("1")
                .is_attribute(true),
            Condition::new("in")
                .attribute("status")
                .value(Vec::<String>::new()),
        ] {
            let op = c.op.clone();
            let e = server_form(&Where::from(Condition::not([c])), None).unwrap_err();
            assert!(e.is_query(), "{e}");
            assert!(e.to_string().contains(&format!("`{op}`")), "{e}");
        }
        let e =
            server_form(&Where::from(Condition::new("equalz").attribute("a")), None).unwrap_err();
        assert!(e.is_query() && e.to_string().contains("`equalz`"), "{e}");
        let nan = Condition::new("lessThan")
            .attribute("price")
            .value(f64::NAN);
        let e = server_form(&Where::from(nan), None).unwrap_err();
        assert!(e.is_query() && e.to_string().contains("NaN"), "{e}");
        // The positive forms are fine.
        assert!(
            server_form(
                &Where::from(Condition::new("lastXDays").attribute("c").value(3)),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn the_client_time_zone_goes_on_date_time_conditions_without_one() {
        let w = Where::from(vec![
            Condition::new("today")
                .attribute("createdAt")
                .with("dateTime", true),
            Condition::new("on")
                .attribute("modifiedAt")
                .value("2026-01-01")
                .with("dateTime", true)
                .with("timeZone", "Asia/Tokyo"),
            Condition::new("equals").attribute("name").value("x"),
        ]);
        assert_eq!(
            server_form(&w, Some("Europe/Berlin")).unwrap().to_json(),
            json!([
                {"type": "today", "attribute": "createdAt", "dateTime": true, "timeZone": "Europe/Berlin"},
                {"type": "on", "attribute": "modifiedAt", "value": "2026-01-01", "dateTime": true, "timeZone": "Asia/Tokyo"},
                {"type": "equals", "attribute": "name", "value": "x"},
            ])
        );
    }

    fn has_not_anywhere(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Object(o) => {
                o.get("type") == Some(&json!("not")) || o.values().any(has_not_anywhere)
            }
            serde_json::Value::Array(a) => a.iter().any(has_not_anywhere),
            _ => false,
        }
    }

    fn arb_condition() -> impl proptest::strategy::Strategy<Value = Condition> {
        use proptest::prelude::*;
        let leaf = (
            prop::sample::select(vec![
                "equals",
                "in",
                "isNull",
                "like",
                "between",
                "lastXDays",
                "linkedWith",
                "isTrue",
                "startsWith",
                "zzz",
            ]),
            prop::sample::select(vec!["a", "b"]),
            prop_oneof![
                Just(None),
                Just(Some(WhereValue::from("x"))),
                Just(Some(WhereValue::from(vec![1, 2]))),
                Just(Some(WhereValue::from(Vec::<i32>::new()))),
            ],
            any::<bool>(),
        )
            .prop_map(|(op, a, v, attr)| {
                let mut c = Condition::new(op).attribute(a).is_attribute(attr);
                c.value = v;
                c
            });
        leaf.prop_recursive(4, 30, 4, |inner| {
            (
                prop::sample::select(vec!["and", "or", "not"]),
                prop::collection::vec(inner, 0..4),
            )
                .prop_map(|(op, cs)| Condition::group(op, cs))
        })
    }

    proptest::proptest! {
        /// Any tree: no panic; what is sent holds no `not`; a refusal is a query error.
        #[test]
        fn any_tree_is_sent_without_not_or_refused(cs in proptest::collection::vec(arb_condition(), 0..4)) {
            match server_form(&Where::from(cs), Some("UTC")) {
                Ok(w) => proptest::prop_assert!(!has_not_anywhere(&w.to_json())),
                Err(e) => proptest::prop_assert!(e.is_query()),
            }
        }
    }
}
