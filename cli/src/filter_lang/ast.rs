//! The syntax tree of a filter expression, and its printing (which the parser reads back to the
//! same tree).

use std::fmt;

use super::error::Span;
use super::lexer::{is_keyword, is_name, is_number};

/// A filter expression. `And` and `Or` hold at least two members, none of the same kind (the
/// parser flattens `a and (b and c)`).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All members hold.
    And(Vec<Expr>),
    /// At least one member holds.
    Or(Vec<Expr>),
    /// The member does not hold.
    Not(Box<Expr>),
    /// One test of one field or attribute.
    Cond(Cond),
}

/// A test of a field or an attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// What is tested.
    pub target: Target,
    /// The test.
    pub test: Test,
    /// Where the target is in the input (for errors found against the metadata).
    pub span: Span,
    /// Where the test's values are, in order (for errors about a value).
    pub values: Vec<Span>,
}

/// A field of the entity, or a PIM attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A field, by wire name.
    Field(String),
    /// An attribute by id or code, optionally in one language.
    Attr {
        /// The id or code.
        id: String,
        /// `de_DE`, … for a multilingual attribute.
        language: Option<String>,
    },
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A quoted string.
    Str(String),
    /// A number, as written.
    Num(String),
    /// A bare word (`draft`, `a01xyz`, `true`).
    Word(String),
}

impl Lit {
    /// The text of the value.
    pub fn text(&self) -> &str {
        match self {
            Lit::Str(s) | Lit::Num(s) | Lit::Word(s) => s,
        }
    }
}

/// `=`, `!=`, `<`, `<=`, `>`, `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator of a comparison token.
    pub fn from_symbol(s: &str) -> Option<CmpOp> {
        Some(match s {
            "=" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }
}

/// Text matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    /// `like "%x%"` (`not like`).
    Like,
    /// `contains "x"` (`not contains`).
    Contains,
    /// `starts with "x"`.
    StartsWith,
    /// `ends with "x"`.
    EndsWith,
}

/// A period relative to today, of a date or date-time field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// `is today`
    Today,
    /// `is past`
    Past,
    /// `is future`
    Future,
    /// `is ever` (set at all)
    Ever,
    /// `in current month`
    CurrentMonth,
    /// `in last month`
    LastMonth,
    /// `in next month`
    NextMonth,
    /// `in current quarter`
    CurrentQuarter,
    /// `in last quarter`
    LastQuarter,
    /// `in current year`
    CurrentYear,
    /// `in last year`
    LastYear,
}

impl Period {
    /// Every period.
    #[cfg(test)]
    pub const ALL: [Period; 11] = [
        Period::Today,
        Period::Past,
        Period::Future,
        Period::Ever,
        Period::CurrentMonth,
        Period::LastMonth,
        Period::NextMonth,
        Period::CurrentQuarter,
        Period::LastQuarter,
        Period::CurrentYear,
        Period::LastYear,
    ];

    /// How it is written after the field.
    pub fn words(self) -> &'static str {
        match self {
            Period::Today => "is today",
            Period::Past => "is past",
            Period::Future => "is future",
            Period::Ever => "is ever",
            Period::CurrentMonth => "in current month",
            Period::LastMonth => "in last month",
            Period::NextMonth => "in next month",
            Period::CurrentQuarter => "in current quarter",
            Period::LastQuarter => "in last quarter",
            Period::CurrentYear => "in current year",
            Period::LastYear => "in last year",
        }
    }

    /// AtroCore's operator.
    pub fn operator(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Past => "past",
            Period::Future => "future",
            Period::Ever => "ever",
            Period::CurrentMonth => "currentMonth",
            Period::LastMonth => "lastMonth",
            Period::NextMonth => "nextMonth",
            Period::CurrentQuarter => "currentQuarter",
            Period::LastQuarter => "lastQuarter",
            Period::CurrentYear => "currentYear",
            Period::LastYear => "lastYear",
        }
    }
}

/// A number of days relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaysOp {
    /// `in last N days`
    Last,
    /// `in next N days`
    Next,
    /// `older than N days`
    OlderThan,
    /// `after N days` (more than N days ahead)
    After,
}

/// A day of a date field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOp {
    /// `on D`
    On,
    /// `not on D`
    NotOn,
    /// `before D`
    Before,
    /// `after D`
    After,
}

/// What a condition tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The bare field: a bool field that is true.
    Truthy,
    /// `is null` (`negated`: `is not null`).
    IsNull {
        /// `is not null`.
        negated: bool,
    },
    /// `is true`.
    IsTrue,
    /// `is false`.
    IsFalse,
    /// `is empty` (`is not empty`): lists and multiple links.
    IsEmpty {
        /// `is not empty`.
        negated: bool,
    },
    /// `is linked` (`is not linked`).
    IsLinked {
        /// `is not linked`.
        negated: bool,
    },
    /// `= v`, `> v`, …
    Cmp(CmpOp, Lit),
    /// `like`, `contains`, `starts with`, `ends with`.
    Text {
        /// Which match.
        op: TextOp,
        /// `not like`, `not contains`.
        negated: bool,
        /// The pattern or text.
        value: Lit,
    },
    /// `in (a, b)` (`not in`).
    In {
        /// `not in`.
        negated: bool,
        /// The values (at least one).
        values: Vec<Lit>,
    },
    /// `between a and b` (both included).
    Between(Lit, Lit),
    /// A period relative to today.
    Period(Period),
    /// A number of days relative to today.
    Days(DaysOp, u32),
    /// A day.
    Date(DateOp, Lit),
}

impl fmt::Display for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Num(n) if is_number(n) => f.write_str(n),
            Lit::Word(w) if is_name(w) || is_bare_word(w) => f.write_str(w),
            other => write_quoted(f, other.text()),
        }
    }
}

/// A word that lexes back as one [`Tok::Word`](super::lexer::Tok::Word).
fn is_bare_word(w: &str) -> bool {
    !w.is_empty()
        && !w.starts_with("attr:")
        && !is_number(w)
        && w.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '@' | '+' | '/'))
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Field(name) if is_name(name) && !is_keyword(name) => f.write_str(name),
            Target::Field(name) => write!(f, "`{name}`"),
            Target::Attr { id, language } => {
                if is_name(id) {
                    write!(f, "attr:{id}")?;
                } else {
                    f.write_str("attr:")?;
                    write_quoted(f, id)?;
                }
                match language {
                    Some(l) => write!(f, "@{l}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = |negated: bool| if negated { "not " } else { "" };
        match self {
            Test::Truthy => Ok(()),
            Test::IsNull { negated } => write!(f, " is {}null", not(*negated)),
            Test::IsTrue => f.write_str(" is true"),
            Test::IsFalse => f.write_str(" is false"),
            Test::IsEmpty { negated } => write!(f, " is {}empty", not(*negated)),
            Test::IsLinked { negated } => write!(f, " is {}linked", not(*negated)),
            Test::Cmp(op, v) => write!(f, " {} {v}", op.symbol()),
            Test::Text { op, negated, value } => {
                let word = match op {
                    TextOp::Like => "like",
                    TextOp::Contains => "contains",
                    TextOp::StartsWith => "starts with",
                    TextOp::EndsWith => "ends with",
                };
                write!(f, " {}{word} {value}", not(*negated))
            }
            Test::In { negated, values } => {
                write!(f, " {}in (", not(*negated))?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Test::Between(a, b) => write!(f, " between {a} and {b}"),
            Test::Period(p) => write!(f, " {}", p.words()),
            Test::Days(op, n) => match op {
                DaysOp::Last => write!(f, " in last {n} days"),
                DaysOp::Next => write!(f, " in next {n} days"),
                DaysOp::OlderThan => write!(f, " older than {n} days"),
                DaysOp::After => write!(f, " after {n} days"),
            },
            Test::Date(op, v) => {
                let word = match op {
                    DateOp::On => "on",
                    DateOp::NotOn => "not on",
                    DateOp::Before => "before",
                    DateOp::After => "after",
                };
                write!(f, " {word} {v}")
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Cond(c) => write!(f, "{}{}", c.target, c.test),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "not ({inner})"),
                _ => write!(f, "not {inner}"),
            },
            Expr::And(members) => {
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    match m {
                        Expr::Or(_) => write!(f, "({m})")?,
                        _ => write!(f, "{m}")?,
                    }
                }
                Ok(())
            }
            Expr::Or(members) => {
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{m}")?;
                }
                Ok(())
            }
        }
    }
}
