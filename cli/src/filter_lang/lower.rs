//! From the syntax tree to the runtime's `where`, checked against the entity's fields: each test
//! becomes the AtroCore operator that fits the field's kind (`brand = x` is `brandId equals x`,
//! `categories in (…)` is `linkedWith`, `createdAt > 2024-01-01` is `after` with
//! `dateTime: true`), and a test that does not fit the kind is an error at the field.
//!
//! `not` is kept as the runtime's `not` group: the runtime rewrites it before sending (AtroCore
//! has no working `not`), or refuses a negation the server cannot express.

use atrocore_runtime::{Condition, Date, DateTime, Where, WhereValue};
use serde_json::Number;

use super::ast::{CmpOp, Cond, DateOp, DaysOp, Expr, Lit, Target, Test, TextOp};
use super::error::{LangError, Span};
use crate::metadata::{Entity, Field, Kind};

/// The `where` for `expr` on records of `entity`.
pub fn lower(expr: &Expr, entity: &Entity) -> Result<Where, LangError> {
    match expr {
        Expr::And(members) => members.iter().map(|m| lower_expr(m, entity)).collect(),
        other => Ok(Where::from(lower_expr(other, entity)?)),
    }
}

fn lower_expr(expr: &Expr, entity: &Entity) -> Result<Condition, LangError> {
    let all = |members: &[Expr]| -> Result<Vec<Condition>, LangError> {
        members.iter().map(|m| lower_expr(m, entity)).collect()
    };
    Ok(match expr {
        Expr::And(members) => Condition::and(all(members)?),
        Expr::Or(members) => Condition::or(all(members)?),
        Expr::Not(inner) => match &**inner {
            Expr::And(members) => Condition::not(all(members)?),
            other => Condition::not([lower_expr(other, entity)?]),
        },
        Expr::Cond(c) => match &c.target {
            Target::Field(name) => {
                let field = entity.field_or_id(name).ok_or_else(|| {
                    LangError::new(c.span, entity.field(name).err().unwrap_or_default())
                })?;
                field_condition(field, c)?
            }
            Target::Attr { id, language } => {
                let mut cond = attribute_condition(&entity.name, id, c)?;
                if let Some(l) = language {
                    cond = cond.with("language", l.as_str());
                }
                cond
            }
        },
    })
}

/// `isTrue`, … on a field name.
fn on(op: &str, attribute: &str) -> Condition {
    Condition::new(op).attribute(attribute)
}

fn number(lit: &Lit) -> Option<Number> {
    let t = lit.text().trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::from(i));
    }
    t.parse::<f64>().ok().and_then(Number::from_f64)
}

fn boolean(lit: &Lit) -> Option<bool> {
    match lit.text().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

struct Ctx<'a> {
    field: &'a Field,
    span: Span,
    /// The test's values and where they are.
    values: Vec<(&'a Lit, Span)>,
}

impl Ctx<'_> {
    fn err(&self, message: impl Into<String>) -> LangError {
        LangError::new(self.span, message)
    }

    /// An error about the value `lit`: the caret goes under it.
    fn value_err(&self, lit: &Lit, message: impl Into<String>) -> LangError {
        let span = self
            .values
            .iter()
            .find(|(l, _)| *l == lit)
            .map_or(self.span, |(_, s)| *s);
        LangError::new(span, message)
    }

    /// "`sortOrder` is an int field".
    fn is(&self) -> String {
        format!("`{}` is a {} field", self.field.name, self.field.ty)
    }

    fn unfit(&self, what: &str, fits: &str) -> LangError {
        self.err(format!("{}: {what} fits {fits}", self.is()))
    }

    fn num(&self, lit: &Lit) -> Result<WhereValue, LangError> {
        let n = number(lit).ok_or_else(|| {
            self.value_err(
                lit,
                format!("{}: expected a number, found {lit}", self.is()),
            )
        })?;
        if self.field.kind == Kind::Int && !n.is_i64() {
            return Err(self.value_err(
                lit,
                format!("{}: expected a whole number, found {lit}", self.is()),
            ));
        }
        Ok(WhereValue::Number(n))
    }

    /// A value of the field's kind for comparisons and lists.
    fn value(&self, lit: &Lit) -> Result<WhereValue, LangError> {
        match self.field.kind {
            Kind::Int | Kind::Float => self.num(lit),
            _ => {
                self.check_option(lit)?;
                Ok(WhereValue::String(lit.text().to_owned()))
            }
        }
    }

    fn check_option(&self, lit: &Lit) -> Result<(), LangError> {
        let enumish = matches!(self.field.ty.as_str(), "enum" | "multiEnum");
        if let (true, Some(options)) = (enumish, &self.field.options)
            && !options.is_empty()
            && !options.iter().any(|o| o == lit.text())
        {
            return Err(self.value_err(
                lit,
                format!(
                    "`{}` has no option {lit}; options: {}",
                    self.field.name,
                    options.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// A day (`YYYY-MM-DD`) for a date or date-time field; `Ok(None)` for a date-time value of a
    /// date-time field (compared as a point in time).
    fn day(&self, lit: &Lit) -> Result<Option<String>, LangError> {
        let text = lit.text().trim();
        if text.parse::<Date>().is_ok() {
            return Ok(Some(text.to_owned()));
        }
        if self.field.kind == Kind::DateTime && text.parse::<DateTime>().is_ok() {
            return Ok(None);
        }
        let expected = if self.field.kind == Kind::DateTime {
            "a date (2024-05-01) or date-time (2024-05-01 10:00:00)"
        } else {
            "a date (2024-05-01)"
        };
        Err(self.value_err(
            lit,
            format!("{}: expected {expected}, found {lit}", self.is()),
        ))
    }

    /// A day operator on the field (`dateTime: true` on date-time fields).
    fn date_op(&self, op: &str, value: Option<WhereValue>) -> Condition {
        let mut c = on(op, &self.field.name);
        c.value = value;
        if self.field.kind == Kind::DateTime {
            c = c.with("dateTime", true);
        }
        c
    }

    fn is_date(&self) -> bool {
        matches!(self.field.kind, Kind::Date | Kind::DateTime)
    }
}

fn field_condition(field: &Field, cond: &Cond) -> Result<Condition, LangError> {
    let lits: Vec<&Lit> = match &cond.test {
        Test::Cmp(_, l) | Test::Text { value: l, .. } | Test::Date(_, l) => vec![l],
        Test::In { values, .. } => values.iter().collect(),
        Test::Between(a, b) => vec![a, b],
        _ => Vec::new(),
    };
    let cx = Ctx {
        field,
        span: cond.span,
        values: lits.into_iter().zip(cond.values.iter().copied()).collect(),
    };
    let name = field.name.as_str();
    let id = field.id_name();
    let kind = field.kind;
    let strings = |values: &[Lit]| -> WhereValue {
        WhereValue::List(
            values
                .iter()
                .map(|v| WhereValue::String(v.text().to_owned()))
                .collect(),
        )
    };
    Ok(match &cond.test {
        Test::Truthy => match kind {
            Kind::Bool => on("isTrue", name),
            _ => {
                return Err(cx.err(format!(
                    "{}: a field name alone tests a bool field; write e.g. `{name} is not null`",
                    cx.is()
                )));
            }
        },
        Test::IsTrue | Test::IsFalse if kind != Kind::Bool => {
            return Err(cx.unfit("`is true` / `is false`", "bool fields"));
        }
        Test::IsTrue => on("isTrue", name),
        Test::IsFalse => on("isFalse", name),
        Test::IsNull { negated } => match kind {
            Kind::Link => on(if *negated { "isNotNull" } else { "isNull" }, &id),
            Kind::LinkMultiple => on(if *negated { "isLinked" } else { "isNotLinked" }, name),
            _ => on(if *negated { "isNotNull" } else { "isNull" }, name),
        },
        Test::IsEmpty { negated } => match kind {
            Kind::Array => on(
                if *negated {
                    "arrayIsNotEmpty"
                } else {
                    "arrayIsEmpty"
                },
                name,
            ),
            Kind::LinkMultiple => on(if *negated { "isLinked" } else { "isNotLinked" }, name),
            _ => return Err(cx.unfit("`is empty`", "list and multiple-link fields")),
        },
        Test::IsLinked { negated } => match kind {
            Kind::Link => on(if *negated { "isNull" } else { "isNotNull" }, &id),
            Kind::LinkMultiple => on(if *negated { "isNotLinked" } else { "isLinked" }, name),
            _ => return Err(cx.unfit("`is linked`", "link fields")),
        },
        Test::Cmp(op, lit) => compare(&cx, *op, lit)?,
        Test::Text { op, negated, value } => {
            if !matches!(kind, Kind::Text | Kind::Other | Kind::Json) {
                return Err(cx.unfit("text matching", "text fields"));
            }
            let wire = match (op, negated) {
                (TextOp::Like, false) => "like",
                (TextOp::Like, true) => "notLike",
                (TextOp::Contains, false) => "contains",
                (TextOp::Contains, true) => "notContains",
                (TextOp::StartsWith, _) => "startsWith",
                (TextOp::EndsWith, _) => "endsWith",
            };
            on(wire, name).value(value.text())
        }
        Test::In { negated, values } => match kind {
            Kind::Link => on(if *negated { "notIn" } else { "in" }, &id).value(strings(values)),
            Kind::LinkMultiple => on(
                if *negated {
                    "notLinkedWith"
                } else {
                    "linkedWith"
                },
                name,
            )
            .value(strings(values)),
            Kind::Array => {
                for v in values {
                    cx.check_option(v)?;
                }
                on(
                    if *negated {
                        "arrayNoneOf"
                    } else {
                        "arrayAnyOf"
                    },
                    name,
                )
                .value(strings(values))
            }
            Kind::Bool | Kind::Date | Kind::DateTime | Kind::Json => {
                return Err(cx.unfit("`in (…)`", "text, number and link fields"));
            }
            _ => {
                let list = values
                    .iter()
                    .map(|v| cx.value(v))
                    .collect::<Result<Vec<_>, _>>()?;
                on(if *negated { "notIn" } else { "in" }, name).value(WhereValue::List(list))
            }
        },
        Test::Between(low, high) => match kind {
            Kind::Int | Kind::Float => {
                on("between", name).value(WhereValue::List(vec![cx.num(low)?, cx.num(high)?]))
            }
            Kind::Date | Kind::DateTime => {
                let (a, b) = (cx.day(low)?, cx.day(high)?);
                match (a, b) {
                    (Some(a), Some(b)) => {
                        cx.date_op("between", Some(WhereValue::List(vec![a.into(), b.into()])))
                    }
                    // Points in time: both bounds included.
                    _ => Condition::and([
                        on("greaterThanOrEquals", name).value(low.text()),
                        on("lessThanOrEquals", name).value(high.text()),
                    ]),
                }
            }
            _ => return Err(cx.unfit("`between`", "number, date and date-time fields")),
        },
        Test::Period(p) if cx.is_date() => cx.date_op(p.operator(), None),
        Test::Days(op, n) if cx.is_date() => {
            let wire = match op {
                DaysOp::Last => "lastXDays",
                DaysOp::Next => "nextXDays",
                DaysOp::OlderThan => "olderThanXDays",
                DaysOp::After => "afterXDays",
            };
            cx.date_op(wire, Some(WhereValue::from(*n)))
        }
        Test::Date(op, lit) if cx.is_date() => {
            let wire = match op {
                DateOp::On => "on",
                DateOp::NotOn => "notOn",
                DateOp::Before => "before",
                DateOp::After => "after",
            };
            match cx.day(lit)? {
                Some(day) => cx.date_op(wire, Some(day.into())),
                None => {
                    let point = match op {
                        DateOp::On => "equals",
                        DateOp::NotOn => "notEquals",
                        DateOp::Before => "lessThan",
                        DateOp::After => "greaterThan",
                    };
                    on(point, name).value(lit.text())
                }
            }
        }
        Test::Period(_) | Test::Days(..) | Test::Date(..) => {
            return Err(cx.unfit("a day or period", "date and date-time fields"));
        }
    })
}

fn compare(cx: &Ctx<'_>, op: CmpOp, lit: &Lit) -> Result<Condition, LangError> {
    let field = cx.field;
    let name = field.name.as_str();
    let plain = |op: CmpOp| match op {
        CmpOp::Eq => "equals",
        CmpOp::Ne => "notEquals",
        CmpOp::Lt => "lessThan",
        CmpOp::Le => "lessThanOrEquals",
        CmpOp::Gt => "greaterThan",
        CmpOp::Ge => "greaterThanOrEquals",
    };
    let only_equality = |fits: &str| -> Result<(), LangError> {
        if matches!(op, CmpOp::Eq | CmpOp::Ne) {
            Ok(())
        } else {
            Err(cx.unfit(&format!("`{}`", op.symbol()), fits))
        }
    };
    Ok(match field.kind {
        Kind::Bool => {
            only_equality("number, text and date fields; a bool field takes = and !=")?;
            let b = boolean(lit).ok_or_else(|| {
                cx.value_err(
                    lit,
                    format!("{}: expected true or false, found {lit}", cx.is()),
                )
            })?;
            let is = on(if b { "isTrue" } else { "isFalse" }, name);
            // `!= true` includes the records without a value: the complement, which the
            // runtime writes out with the NULL rows.
            if op == CmpOp::Ne {
                Condition::not([is])
            } else {
                is
            }
        }
        Kind::Int | Kind::Float => on(plain(op), name).value(cx.num(lit)?),
        Kind::Date | Kind::DateTime => match cx.day(lit)? {
            Some(day) => {
                let day = || Some(WhereValue::String(day.clone()));
                match op {
                    CmpOp::Eq => cx.date_op("on", day()),
                    CmpOp::Ne => cx.date_op("notOn", day()),
                    CmpOp::Lt => cx.date_op("before", day()),
                    CmpOp::Gt => cx.date_op("after", day()),
                    CmpOp::Le => {
                        Condition::or([cx.date_op("before", day()), cx.date_op("on", day())])
                    }
                    CmpOp::Ge => {
                        Condition::or([cx.date_op("after", day()), cx.date_op("on", day())])
                    }
                }
            }
            None => on(plain(op), name).value(lit.text()),
        },
        Kind::Link => {
            only_equality("number, text and date fields; a link takes = and != (ids)")?;
            on(plain(op), &field.id_name()).value(lit.text())
        }
        Kind::LinkMultiple => {
            only_equality("number, text and date fields; a multiple link takes = and != (ids)")?;
            let wire = if op == CmpOp::Eq {
                "linkedWith"
            } else {
                "notLinkedWith"
            };
            on(wire, name).value(WhereValue::List(vec![lit.text().into()]))
        }
        Kind::Array => {
            only_equality("number, text and date fields; a list takes = and != (one value)")?;
            cx.check_option(lit)?;
            let wire = if op == CmpOp::Eq {
                "arrayAnyOf"
            } else {
                "arrayNoneOf"
            };
            on(wire, name).value(WhereValue::List(vec![lit.text().into()]))
        }
        Kind::Text | Kind::Json | Kind::Other => on(plain(op), name).value(cx.value(lit)?),
    })
}

/// An attribute condition: no metadata to check against, so numbers stay numbers and the rest
/// is text. `id` is the attribute's id or code (2.2 `code`, 2.3 `systemName`): the client
/// resolves it to the id when the request is sent (AtroCore filters attributes by id only), and
/// a name the instance has no attribute for is an error naming it.
fn attribute_condition(entity: &str, id: &str, cond: &Cond) -> Result<Condition, LangError> {
    let base = |op: &str| Condition::new(op).attribute_code(entity, id);
    let value = |lit: &Lit| -> WhereValue {
        match lit {
            Lit::Num(_) => number(lit).map_or_else(|| lit.text().into(), WhereValue::Number),
            _ => lit.text().into(),
        }
    };
    let unsupported = |what: &str| {
        LangError::new(
            cond.span,
            format!("{what} is not available for attributes (their kind is not in the metadata)"),
        )
    };
    Ok(match &cond.test {
        Test::Truthy | Test::IsTrue => base("isTrue"),
        Test::IsFalse => base("isFalse"),
        Test::IsNull { negated } => base(if *negated { "isNotNull" } else { "isNull" }),
        Test::Cmp(op, lit) => {
            let wire = match op {
                CmpOp::Eq => "equals",
                CmpOp::Ne => "notEquals",
                CmpOp::Lt => "lessThan",
                CmpOp::Le => "lessThanOrEquals",
                CmpOp::Gt => "greaterThan",
                CmpOp::Ge => "greaterThanOrEquals",
            };
            base(wire).value(value(lit))
        }
        Test::Text {
            op,
            negated,
            value: v,
        } => {
            let wire = match (op, negated) {
                (TextOp::Like, false) => "like",
                (TextOp::Like, true) => "notLike",
                (TextOp::Contains, false) => "contains",
                (TextOp::Contains, true) => "notContains",
                (TextOp::StartsWith, _) => "startsWith",
                (TextOp::EndsWith, _) => "endsWith",
            };
            base(wire).value(v.text())
        }
        Test::In { negated, values } => base(if *negated { "notIn" } else { "in" })
            .value(WhereValue::List(values.iter().map(value).collect())),
        Test::Between(a, b) => base("between").value(WhereValue::List(vec![value(a), value(b)])),
        Test::IsEmpty { .. } => return Err(unsupported("`is empty`")),
        Test::IsLinked { .. } => return Err(unsupported("`is linked`")),
        Test::Period(_) | Test::Days(..) | Test::Date(..) => {
            return Err(unsupported("a day or period"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter_lang::parser::parse;
    use crate::metadata::Metadata;
    use serde_json::{Value, json};

    fn product() -> Entity {
        let m = Metadata::from_json(&json!({"entityDefs": {"Product": {
            "fields": {
                "name": {"type": "varchar"},
                "isActive": {"type": "bool"},
                "sortOrder": {"type": "int"},
                "price": {"type": "float"},
                "brand": {"type": "link"},
                "categories": {"type": "linkMultiple"},
                "tag": {"type": "multiEnum", "options": ["a", "b"]},
                "status": {"type": "enum", "options": ["draft", "ready"]},
                "createdAt": {"type": "datetime"},
                "releaseDate": {"type": "date"}
            },
            "links": {"brand": {"entity": "Brand"}, "categories": {"entity": "Category"}}
        }}}))
        .unwrap();
        m.entity("Product").unwrap().clone()
    }

    fn json_of(input: &str) -> Value {
        let e = parse(input).unwrap();
        lower(&e, &product())
            .unwrap_or_else(|err| panic!("{}", err.render(input)))
            .to_json()
    }

    #[test]
    fn the_example_of_the_issue() {
        assert_eq!(
            json_of(
                r#"name like "%chair%" and isActive and (brand in (b1, b2) or not sortOrder > 5)"#
            ),
            json!([
                {"type": "like", "attribute": "name", "value": "%chair%"},
                {"type": "isTrue", "attribute": "isActive"},
                {"type": "or", "value": [
                    {"type": "in", "attribute": "brandId", "value": ["b1", "b2"]},
                    {"type": "not", "value": [{"type": "greaterThan", "attribute": "sortOrder", "value": 5}]}
                ]}
            ])
        );
    }

    #[test]
    fn kinds_choose_the_operator() {
        assert_eq!(
            json_of("createdAt in last 7 days"),
            json!([{"type": "lastXDays", "attribute": "createdAt", "value": 7, "dateTime": true}])
        );
        assert_eq!(
            json_of("releaseDate >= 2024-05-01"),
            json!([{"type": "or", "value": [
                {"type": "after", "attribute": "releaseDate", "value": "2024-05-01"},
                {"type": "on", "attribute": "releaseDate", "value": "2024-05-01"}]}])
        );
        assert_eq!(
            json_of("createdAt > \"2024-05-01 10:00:00\""),
            json!([{"type": "greaterThan", "attribute": "createdAt", "value": "2024-05-01 10:00:00"}])
        );
        assert_eq!(
            json_of("categories in (c1) and tag not in (a) and brand is null"),
            json!([
                {"type": "linkedWith", "attribute": "categories", "value": ["c1"]},
                {"type": "arrayNoneOf", "attribute": "tag", "value": ["a"]},
                {"type": "isNull", "attribute": "brandId"}
            ])
        );
        assert_eq!(
            json_of("price between 1 and 2.5 and isActive = false and brandId = x"),
            json!([
                {"type": "between", "attribute": "price", "value": [1, 2.5]},
                {"type": "isFalse", "attribute": "isActive"},
                {"type": "equals", "attribute": "brandId", "value": "x"}
            ])
        );
        assert_eq!(
            json_of("attr:weight > 2.5 and attr:color@de_DE = rot"),
            json!([
                {"type": "greaterThan", "attribute": "weight", "value": 2.5, "isAttribute": true},
                {"type": "equals", "attribute": "color", "value": "rot", "isAttribute": true, "language": "de_DE"}
            ])
        );
        assert_eq!(
            json_of("not (name = a and sortOrder = 1)"),
            json!([{"type": "not", "value": [
                {"type": "equals", "attribute": "name", "value": "a"},
                {"type": "equals", "attribute": "sortOrder", "value": 1}]}])
        );
    }

    #[track_caller]
    fn fails(input: &str, column: usize, needle: &str) {
        let e = lower(&parse(input).unwrap(), &product()).expect_err(input);
        let text = e.render(input);
        assert_eq!(e.column(input), column, "{text}");
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }

    #[test]
    fn metadata_errors_point_at_the_field() {
        fails("isActive and nme = 1", 14, "did you mean `name`");
        fails(
            "name = a and sortOrder > abc",
            26,
            "expected a number, found abc",
        );
        fails("sortOrder = 1.5", 13, "whole number");
        fails("sortOrder in (1, 2.5)", 18, "whole number");
        fails("name", 1, "bool field");
        fails("sortOrder like \"1%\"", 1, "text matching fits text fields");
        fails("status = drafts", 10, "options: draft, ready");
        fails("releaseDate on yesterday", 16, "expected a date");
        fails("name in last 7 days", 1, "date and date-time fields");
        fails("brand > x", 1, "a link takes = and !=");
        fails("attr:x is empty", 1, "not available for attributes");
        fails("isActive = maybe", 12, "expected true or false");
    }
}
