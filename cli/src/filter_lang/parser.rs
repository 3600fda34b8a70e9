//! The recursive-descent parser:
//!
//! ```text
//! expr      := and ("or" and)*
//! and       := unary ("and" unary)*
//! unary     := "not" unary | "(" expr ")" | condition
//! condition := target test?
//! target    := NAME | `quoted name` | attr:ID[@LANG]
//! test      := CMP value
//!            | "is" ["not"] ("null" | "empty" | "linked") | "is" ("true" | "false")
//!            | "is" ("today" | "past" | "future" | "ever")
//!            | ["not"] ("like" | "contains") value | ("starts" | "ends") "with" value
//!            | ["not"] "in" "(" value ("," value)* ")"
//!            | "in" ("last" | "next") NUMBER "days" | "in" ("current" | "last" | "next") PERIOD
//!            | "older" "than" NUMBER "days" | "after" NUMBER "days"
//!            | "between" value "and" value
//!            | ["not"] "on" value | "before" value | "after" value
//! value     := STRING | NUMBER | NAME | WORD
//! ```
//! Keywords are case-insensitive; a field named like a keyword is written in backticks.

use super::ast::{CmpOp, Cond, DateOp, DaysOp, Expr, Lit, Period, Target, Test, TextOp};
use super::error::{LangError, Span};
use super::lexer::{Tok, is_keyword, lex};

const EXPECTED_TEST: &str = "a test: = != < <= > >= like, contains, starts with, ends with, \
     in (…), between … and …, is [not] null, is true/false, on/before/after DATE, \
     in last N days, … — or `and`, `or`, `)` after a bool field";

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    /// The spans of the values the condition being read has taken so far.
    values: Vec<Span>,
}

/// Parses a filter expression.
pub fn parse(input: &str) -> Result<Expr, LangError> {
    let toks = lex(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        values: Vec::new(),
    };
    if matches!(p.peek(), Tok::End) {
        return Err(LangError::new(
            p.span(),
            "the filter is empty: expected a condition",
        ));
    }
    let e = p.expr()?;
    match p.peek() {
        Tok::End => Ok(e),
        Tok::RParen => Err(LangError::new(p.span(), "this `)` closes nothing")),
        other => Err(LangError::new(
            p.span(),
            format!(
                "expected `and`, `or` or the end, found {}",
                other.describe()
            ),
        )),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].0
    }

    fn span(&self) -> Span {
        self.toks[self.pos].1
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    /// Whether the next token is the keyword `kw` (an unquoted name).
    fn at_kw(&self, kw: &str) -> bool {
        self.kw_at(0, kw)
    }

    fn kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Name { text, quoted: false } if text.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str, what: &str) -> Result<(), LangError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, expected: &str) -> LangError {
        LangError::new(
            self.span(),
            format!("expected {expected}, found {}", self.peek().describe()),
        )
    }

    fn expr(&mut self) -> Result<Expr, LangError> {
        let mut members = vec![self.and()?];
        while self.eat_kw("or") {
            members.push(self.and()?);
        }
        Ok(join(members, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, LangError> {
        let mut members = vec![self.unary()?];
        while self.eat_kw("and") {
            members.push(self.unary()?);
        }
        Ok(join(members, Expr::And))
    }

    fn unary(&mut self) -> Result<Expr, LangError> {
        if self.eat_kw("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Tok::LParen) {
            let open = self.bump().1;
            if matches!(self.peek(), Tok::RParen) {
                return Err(LangError::new(
                    self.span(),
                    "expected a condition inside `( )`",
                ));
            }
            let e = self.expr()?;
            if !matches!(self.peek(), Tok::RParen) {
                let mut err = self.unexpected("`and`, `or` or `)`");
                err.message.push_str(&format!(
                    " (the `(` at column {} is not closed)",
                    open.start + 1
                ));
                return Err(err);
            }
            self.bump();
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, LangError> {
        let (target, span) = match self.peek().clone() {
            Tok::Name { text, quoted } => {
                if !quoted && is_keyword(&text) {
                    return Err(LangError::new(
                        self.span(),
                        format!(
                            "expected a field name or attr:…, found the keyword `{text}` (write \
                             `{text}` in backticks for a field of that name)"
                        ),
                    ));
                }
                let span = self.bump().1;
                (Target::Field(text), span)
            }
            Tok::Attr { id, language } => {
                let span = self.bump().1;
                (Target::Attr { id, language }, span)
            }
            // `brand.name = "Acme"`: AtroCore filters a link by the linked record's id only.
            Tok::Word(w) if w.contains('.') && !w.starts_with('.') => {
                let link = w.split('.').next().unwrap_or_default();
                return Err(LangError::new(
                    self.span(),
                    format!(
                        "`{w}`: a link's fields cannot be filtered on; links compare ids: \
                         `{link} = ID` (or `{link}Id = ID`), with the id from e.g. `atro list \
                         <Entity> --where 'name = \"…\"' --select id`"
                    ),
                ));
            }
            _ => return Err(self.unexpected("a field name, attr:…, `not` or `(`")),
        };
        self.values.clear();
        let test = self.test()?;
        let values = std::mem::take(&mut self.values);
        Ok(Expr::Cond(Cond {
            target,
            test,
            span,
            values,
        }))
    }

    fn value(&mut self) -> Result<Lit, LangError> {
        let lit = match self.peek() {
            Tok::Str(s) => Lit::Str(s.clone()),
            Tok::Num(n) => Lit::Num(n.clone()),
            Tok::Name { text, .. } => Lit::Word(text.clone()),
            Tok::Word(w) => Lit::Word(w.clone()),
            _ => return Err(self.unexpected("a value (\"text\", a number or a word)")),
        };
        let span = self.bump().1;
        self.values.push(span);
        Ok(lit)
    }

    fn days(&mut self) -> Result<u32, LangError> {
        let n = match self.peek() {
            Tok::Num(n) => n.parse::<u32>().map_err(|_| {
                LangError::new(self.span(), "expected a whole number of days (0 or more)")
            })?,
            _ => return Err(self.unexpected("a number of days")),
        };
        self.bump();
        self.expect_kw("days", "`days`")?;
        Ok(n)
    }

    fn test(&mut self) -> Result<Test, LangError> {
        match self.peek().clone() {
            Tok::Cmp(sym) => {
                self.bump();
                let op = CmpOp::from_symbol(sym).unwrap_or(CmpOp::Eq);
                Ok(Test::Cmp(op, self.value()?))
            }
            Tok::End | Tok::RParen => Ok(Test::Truthy),
            Tok::Name { quoted: false, .. } if self.at_kw("and") || self.at_kw("or") => {
                Ok(Test::Truthy)
            }
            Tok::Name { quoted: false, .. } => self.keyword_test(),
            _ => Err(self.unexpected(EXPECTED_TEST)),
        }
    }

    fn keyword_test(&mut self) -> Result<Test, LangError> {
        if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            let span = self.span();
            let word = match self.peek() {
                Tok::Name {
                    text,
                    quoted: false,
                } => text.to_ascii_lowercase(),
                _ => String::new(),
            };
            let test = match (word.as_str(), negated) {
                ("null", n) => Test::IsNull { negated: n },
                ("empty", n) => Test::IsEmpty { negated: n },
                ("linked", n) => Test::IsLinked { negated: n },
                ("true", false) => Test::IsTrue,
                ("false", false) => Test::IsFalse,
                ("today", false) => Test::Period(Period::Today),
                ("past", false) => Test::Period(Period::Past),
                ("future", false) => Test::Period(Period::Future),
                ("ever", false) => Test::Period(Period::Ever),
                (_, true) => {
                    return Err(self.unexpected("`null`, `empty` or `linked` after `is not`"));
                }
                _ => {
                    return Err(LangError::new(
                        span,
                        format!(
                            "expected null, not null, true, false, empty, linked, today, past, \
                             future or ever after `is`, found {}",
                            self.peek().describe()
                        ),
                    ));
                }
            };
            self.bump();
            return Ok(test);
        }
        let negated = self.eat_kw("not");
        if self.eat_kw("like") {
            return Ok(Test::Text {
                op: TextOp::Like,
                negated,
                value: self.value()?,
            });
        }
        if self.eat_kw("contains") {
            return Ok(Test::Text {
                op: TextOp::Contains,
                negated,
                value: self.value()?,
            });
        }
        if self.eat_kw("on") {
            let op = if negated { DateOp::NotOn } else { DateOp::On };
            return Ok(Test::Date(op, self.value()?));
        }
        if self.at_kw("in") {
            self.bump();
            if matches!(self.peek(), Tok::LParen) {
                self.bump();
                let mut values = vec![self.value()?];
                while matches!(self.peek(), Tok::Comma) {
                    self.bump();
                    values.push(self.value()?);
                }
                if !matches!(self.peek(), Tok::RParen) {
                    return Err(self.unexpected("`,` or `)` in the list"));
                }
                self.bump();
                return Ok(Test::In { negated, values });
            }
            if negated {
                return Err(self.unexpected("`(` and a list of values after `not in`"));
            }
            return self.in_period();
        }
        if negated {
            return Err(self.unexpected("like, contains, in or on after `not`"));
        }
        if self.eat_kw("starts") {
            self.expect_kw("with", "`with` after `starts`")?;
            return Ok(Test::Text {
                op: TextOp::StartsWith,
                negated: false,
                value: self.value()?,
            });
        }
        if self.eat_kw("ends") {
            self.expect_kw("with", "`with` after `ends`")?;
            return Ok(Test::Text {
                op: TextOp::EndsWith,
                negated: false,
                value: self.value()?,
            });
        }
        if self.eat_kw("between") {
            let low = self.value()?;
            self.expect_kw("and", "`and` between the two bounds")?;
            return Ok(Test::Between(low, self.value()?));
        }
        if self.eat_kw("before") {
            return Ok(Test::Date(DateOp::Before, self.value()?));
        }
        if self.eat_kw("after") {
            if matches!(self.peek(), Tok::Num(_)) && self.kw_at(1, "days") {
                return Ok(Test::Days(DaysOp::After, self.days()?));
            }
            return Ok(Test::Date(DateOp::After, self.value()?));
        }
        if self.eat_kw("older") {
            self.expect_kw("than", "`than` after `older`")?;
            return Ok(Test::Days(DaysOp::OlderThan, self.days()?));
        }
        Err(self.unexpected(EXPECTED_TEST))
    }

    /// After `in` without a list: `last 7 days`, `next 3 days`, `current month`, ….
    fn in_period(&mut self) -> Result<Test, LangError> {
        let which = if self.eat_kw("last") {
            "last"
        } else if self.eat_kw("next") {
            "next"
        } else if self.eat_kw("current") {
            "current"
        } else {
            return Err(self.unexpected(
                "`(` and a list of values, or last/next N days, current/last/next month, …",
            ));
        };
        if which != "current" && matches!(self.peek(), Tok::Num(_)) {
            let op = if which == "last" {
                DaysOp::Last
            } else {
                DaysOp::Next
            };
            return Ok(Test::Days(op, self.days()?));
        }
        let span = self.span();
        let unit = match self.peek() {
            Tok::Name {
                text,
                quoted: false,
            } => text.to_ascii_lowercase(),
            _ => String::new(),
        };
        let period = match (which, unit.as_str()) {
            ("current", "month") => Period::CurrentMonth,
            ("last", "month") => Period::LastMonth,
            ("next", "month") => Period::NextMonth,
            ("current", "quarter") => Period::CurrentQuarter,
            ("last", "quarter") => Period::LastQuarter,
            ("current", "year") => Period::CurrentYear,
            ("last", "year") => Period::LastYear,
            _ => {
                let options = match which {
                    "current" => "month, quarter or year",
                    "last" => "N days, month, quarter or year",
                    _ => "N days or month",
                };
                return Err(LangError::new(
                    span,
                    format!(
                        "expected {options} after `in {which}`, found {}",
                        self.peek().describe()
                    ),
                ));
            }
        };
        self.bump();
        Ok(Test::Period(period))
    }
}

/// One member as itself, several as a group whose members of the same kind are merged.
fn join(members: Vec<Expr>, make: fn(Vec<Expr>) -> Expr) -> Expr {
    if members.len() == 1 {
        return members.into_iter().next().unwrap_or(Expr::And(Vec::new()));
    }
    let mut flat = Vec::new();
    for m in members {
        match (m, make(Vec::new())) {
            (Expr::And(inner), Expr::And(_)) | (Expr::Or(inner), Expr::Or(_)) => flat.extend(inner),
            (m, _) => flat.push(m),
        }
    }
    make(flat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, test: Test) -> Expr {
        Expr::Cond(Cond {
            target: Target::Field(name.into()),
            test,
            span: Span::new(0, 0),
            values: Vec::new(),
        })
    }

    /// The tree with every span zeroed, to compare shapes.
    pub(crate) fn shape(e: &Expr) -> Expr {
        match e {
            Expr::And(m) => Expr::And(m.iter().map(shape).collect()),
            Expr::Or(m) => Expr::Or(m.iter().map(shape).collect()),
            Expr::Not(m) => Expr::Not(Box::new(shape(m))),
            Expr::Cond(c) => Expr::Cond(Cond {
                span: Span::new(0, 0),
                values: Vec::new(),
                ..c.clone()
            }),
        }
    }

    fn p(s: &str) -> Expr {
        shape(&parse(s).unwrap_or_else(|e| panic!("{s}: {}", e.render(s))))
    }

    #[test]
    fn the_example_of_the_issue() {
        let e =
            p(r#"name like "%chair%" and isActive and (brand in (b1, b2) or not sortOrder > 5)"#);
        assert_eq!(
            e,
            Expr::And(vec![
                field(
                    "name",
                    Test::Text {
                        op: TextOp::Like,
                        negated: false,
                        value: Lit::Str("%chair%".into())
                    }
                ),
                field("isActive", Test::Truthy),
                Expr::Or(vec![
                    field(
                        "brand",
                        Test::In {
                            negated: false,
                            values: vec![Lit::Word("b1".into()), Lit::Word("b2".into())]
                        }
                    ),
                    Expr::Not(Box::new(field(
                        "sortOrder",
                        Test::Cmp(CmpOp::Gt, Lit::Num("5".into()))
                    ))),
                ]),
            ])
        );
    }

    #[test]
    fn precedence_and_flattening() {
        assert_eq!(
            p("a or b and c"),
            Expr::Or(vec![
                field("a", Test::Truthy),
                Expr::And(vec![field("b", Test::Truthy), field("c", Test::Truthy)]),
            ])
        );
        assert_eq!(
            p("a and (b and c)"),
            Expr::And(vec![
                field("a", Test::Truthy),
                field("b", Test::Truthy),
                field("c", Test::Truthy),
            ])
        );
        assert_eq!(p("((a))"), field("a", Test::Truthy));
        assert_eq!(
            p("not not a"),
            Expr::Not(Box::new(Expr::Not(Box::new(field("a", Test::Truthy)))))
        );
    }

    #[test]
    fn every_test_form() {
        let cases: &[(&str, Test)] = &[
            ("x is null", Test::IsNull { negated: false }),
            ("x IS NOT NULL", Test::IsNull { negated: true }),
            ("x is true", Test::IsTrue),
            ("x is false", Test::IsFalse),
            ("x is not empty", Test::IsEmpty { negated: true }),
            ("x is linked", Test::IsLinked { negated: false }),
            ("x != 'a'", Test::Cmp(CmpOp::Ne, Lit::Str("a".into()))),
            ("x <= -1.5", Test::Cmp(CmpOp::Le, Lit::Num("-1.5".into()))),
            (
                "x not like \"%a\"",
                Test::Text {
                    op: TextOp::Like,
                    negated: true,
                    value: Lit::Str("%a".into()),
                },
            ),
            (
                "x starts with ab",
                Test::Text {
                    op: TextOp::StartsWith,
                    negated: false,
                    value: Lit::Word("ab".into()),
                },
            ),
            (
                "x ends with 'z'",
                Test::Text {
                    op: TextOp::EndsWith,
                    negated: false,
                    value: Lit::Str("z".into()),
                },
            ),
            (
                "x not contains q",
                Test::Text {
                    op: TextOp::Contains,
                    negated: true,
                    value: Lit::Word("q".into()),
                },
            ),
            (
                "x not in (1, 2)",
                Test::In {
                    negated: true,
                    values: vec![Lit::Num("1".into()), Lit::Num("2".into())],
                },
            ),
            (
                "x between 1 and 5",
                Test::Between(Lit::Num("1".into()), Lit::Num("5".into())),
            ),
            ("x in last 7 days", Test::Days(DaysOp::Last, 7)),
            ("x in next 2 days", Test::Days(DaysOp::Next, 2)),
            ("x older than 30 days", Test::Days(DaysOp::OlderThan, 30)),
            ("x after 3 days", Test::Days(DaysOp::After, 3)),
            ("x is today", Test::Period(Period::Today)),
            ("x in current quarter", Test::Period(Period::CurrentQuarter)),
            ("x in last month", Test::Period(Period::LastMonth)),
            (
                "x on 2024-05-01",
                Test::Date(DateOp::On, Lit::Word("2024-05-01".into())),
            ),
            (
                "x not on \"2024-05-01\"",
                Test::Date(DateOp::NotOn, Lit::Str("2024-05-01".into())),
            ),
            (
                "x before 2024-05-01",
                Test::Date(DateOp::Before, Lit::Word("2024-05-01".into())),
            ),
            (
                "x after \"2024-05-01\"",
                Test::Date(DateOp::After, Lit::Str("2024-05-01".into())),
            ),
        ];
        for (text, test) in cases {
            assert_eq!(p(text), field("x", test.clone()), "{text}");
            // Printing gives back the same tree.
            assert_eq!(p(&p(text).to_string()), p(text), "{text}");
        }
        assert_eq!(
            p("attr:weight@de_DE > 2.5"),
            Expr::Cond(Cond {
                target: Target::Attr {
                    id: "weight".into(),
                    language: Some("de_DE".into())
                },
                test: Test::Cmp(CmpOp::Gt, Lit::Num("2.5".into())),
                span: Span::new(0, 0),
                values: Vec::new(),
            })
        );
        assert_eq!(
            p("`in` = 1"),
            field("in", Test::Cmp(CmpOp::Eq, Lit::Num("1".into())))
        );
    }

    #[track_caller]
    fn fails(input: &str, column: usize, needle: &str) {
        let e = parse(input).expect_err(input);
        let text = e.render(input);
        assert_eq!(e.column(input), column, "{text}");
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        fails("name lik \"x\"", 6, "expected a test");
        fails("name like", 10, "expected a value");
        fails("(a or b", 8, "`(` at column 1 is not closed");
        fails("a or b)", 7, "closes nothing");
        fails("and x", 1, "keyword `and`");
        fails("x in (1, 2", 11, "`,` or `)`");
        fails("x in (1 2)", 9, "`,` or `)`");
        fails("x in last week", 11, "N days, month, quarter or year");
        fails("x between 1 or 2", 13, "`and` between the two bounds");
        fails("x is maybe", 6, "after `is`");
        fails("x is not true", 10, "after `is not`");
        fails("", 1, "empty");
        fails("x in last -1 days", 11, "whole number");
        fails("a = 1 b = 2", 7, "expected `and`, `or` or the end");
        fails(
            "isActive and brand.name = \"Acme\"",
            14,
            "links compare ids: `brand = ID`",
        );
    }
}
