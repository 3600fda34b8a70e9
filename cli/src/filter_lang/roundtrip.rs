//! Property: printing a tree and parsing the text gives the same tree.

use proptest::prelude::*;

use super::ast::{CmpOp, Cond, DateOp, DaysOp, Expr, Lit, Period, Target, Test, TextOp};
use super::error::Span;
use super::lexer::is_keyword;
use super::parser::parse;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-zA-Z0-9_]{0,8}",
        // Names that need backticks: keywords, spaces, odd characters.
        Just("in".to_owned()),
        Just("and".to_owned()),
        "[a-z]{1,3} [a-z#%]{1,3}",
    ]
}

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        "[ -~]{0,8}".prop_map(Lit::Str),
        "\"[a-z\\\\\"\n\t]{0,5}".prop_map(Lit::Str),
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?".prop_map(Lit::Num),
        "[a-z][a-z0-9_]{0,6}".prop_map(Lit::Word),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Lit::Word),
        "a0[0-9a-z]{3}-[a-z]{2}".prop_map(Lit::Word),
    ]
}

fn test() -> impl Strategy<Value = Test> {
    let cmp = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge)
    ];
    let text = prop_oneof![
        Just((TextOp::Like, false)),
        Just((TextOp::Like, true)),
        Just((TextOp::Contains, false)),
        Just((TextOp::Contains, true)),
        Just((TextOp::StartsWith, false)),
        Just((TextOp::EndsWith, false)),
    ];
    let date = prop_oneof![
        Just(DateOp::On),
        Just(DateOp::NotOn),
        Just(DateOp::Before),
        Just(DateOp::After)
    ];
    let days = prop_oneof![
        Just(DaysOp::Last),
        Just(DaysOp::Next),
        Just(DaysOp::OlderThan),
        Just(DaysOp::After)
    ];
    prop_oneof![
        Just(Test::Truthy),
        any::<bool>().prop_map(|negated| Test::IsNull { negated }),
        Just(Test::IsTrue),
        Just(Test::IsFalse),
        any::<bool>().prop_map(|negated| Test::IsEmpty { negated }),
        any::<bool>().prop_map(|negated| Test::IsLinked { negated }),
        (cmp, lit()).prop_map(|(op, v)| Test::Cmp(op, v)),
        (text, lit()).prop_map(|((op, negated), value)| Test::Text { op, negated, value }),
        (any::<bool>(), prop::collection::vec(lit(), 1..4))
            .prop_map(|(negated, values)| Test::In { negated, values }),
        (lit(), lit()).prop_map(|(a, b)| Test::Between(a, b)),
        prop::sample::select(Period::ALL.to_vec()).prop_map(Test::Period),
        (days, 0u32..1000).prop_map(|(op, n)| Test::Days(op, n)),
        (date, lit()).prop_map(|(op, v)| Test::Date(op, v)),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        3 => name().prop_map(Target::Field),
        1 => ("[a-z][a-z0-9]{0,5}|a0[a-z ]{1,4}", proptest::option::of("[a-z]{2}_[A-Z]{2}"))
            .prop_map(|(id, language)| Target::Attr { id, language }),
    ]
}

fn cond() -> impl Strategy<Value = Expr> {
    (target(), test()).prop_map(|(target, test)| {
        Expr::Cond(Cond {
            target,
            test,
            span: Span::new(0, 0),
            values: Vec::new(),
        })
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    cond().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// What the parser makes of a tree: groups of the same kind merged, spans zeroed.
fn normal(e: Expr) -> Expr {
    fn group(members: Vec<Expr>, and: bool) -> Vec<Expr> {
        let mut out = Vec::new();
        for m in members.into_iter().map(normal) {
            match (m, and) {
                (Expr::And(inner), true) | (Expr::Or(inner), false) => out.extend(inner),
                (m, _) => out.push(m),
            }
        }
        out
    }
    match e {
        Expr::And(m) => Expr::And(group(m, true)),
        Expr::Or(m) => Expr::Or(group(m, false)),
        Expr::Not(m) => Expr::Not(Box::new(normal(*m))),
        Expr::Cond(c) => Expr::Cond(Cond {
            span: Span::new(0, 0),
            values: Vec::new(),
            ..c
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity(e in expr()) {
        let e = normal(e);
        let text = e.to_string();
        let back = parse(&text).map_err(|err| TestCaseError::fail(err.render(&text)))?;
        prop_assert_eq!(normal(back), e, "text: {}", text);
    }

    #[test]
    fn any_input_parses_or_fails_with_a_column_inside_it(input in "[ -~]{0,40}|\\PC{0,30}") {
        if let Err(e) = parse(&input) {
            prop_assert!(e.span.start <= input.len() && e.span.end <= input.len());
            prop_assert!(e.column(&input) <= input.chars().count() + 1);
            let _ = e.render(&input);
        }
    }
}

#[test]
fn keywords_are_printed_in_backticks() {
    assert!(is_keyword("IN") && !is_keyword("name"));
    let e = parse("`in` = 1 and `a b` is null").unwrap();
    assert_eq!(e.to_string(), "`in` = 1 and `a b` is null");
}
