//! The `where` encoding checked against PHP itself: random condition trees are encoded, decoded
//! by PHP's `parse_str`, and compared with the structure we meant (PHP yields only strings, drops
//! `null` and empty arrays).
//!
//! Needs `php` (Debian: `apt-get install -y php-cli`). Without it the tests print one line and
//! skip, except under `CI=true`, where they fail (`atrocore_testkit::skip`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use atrocore_runtime::{Condition, Where, WhereValue};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// One PHP process for the whole test: a query string per line in, its `parse_str` as JSON out.
struct Php {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

const PHP_LOOP: &str = r#"
while (($line = fgets(STDIN)) !== false) {
    parse_str(rtrim($line, "\n"), $o);
    echo json_encode($o, JSON_INVALID_UTF8_SUBSTITUTE), "\n";
}
"#;

fn php() -> Option<&'static Mutex<Php>> {
    static PHP: OnceLock<Option<Mutex<Php>>> = OnceLock::new();
    PHP.get_or_init(|| {
        let mut child = Command::new("php")
            .args(["-d", "max_input_vars=100000", "-r", PHP_LOOP])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        Some(Mutex::new(Php {
            _child: child,
            stdin,
            stdout,
        }))
    })
    .as_ref()
}

/// PHP's view of `query`, or `None` when PHP is missing (the test skips; said once).
fn parse_str(query: &str) -> Option<Value> {
    let Some(php) = php() else {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            atrocore_testkit::skip(
                "the `where` encoding tests need PHP's parse_str, but `php` could not be started \
                 (Debian/Ubuntu: `apt-get install -y php-cli`)",
            )
        });
        return None;
    };
    let mut php = php.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        !query.contains('\n'),
        "a form-encoded query has no raw newline"
    );
    writeln!(php.stdin, "{query}").unwrap();
    php.stdin.flush().unwrap();
    let mut line = String::new();
    php.stdout.read_line(&mut line).unwrap();
    Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("PHP printed {line:?}: {e}")))
}

/// What PHP should decode `v` to: strings for scalars (`1`/`0` for booleans), no `null`, no empty
/// containers, and PHP's list rule (keys exactly 0..n in order) for arrays.
fn php_view(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(Value::String(if *b { "1" } else { "0" }.into())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Array(items) => php_array(items.iter().enumerate().map(|(i, v)| (i.to_string(), v))),
        Value::Object(m) => php_array(m.iter().map(|(k, v)| (k.clone(), v))),
    }
}

fn php_array<'a>(entries: impl Iterator<Item = (String, &'a Value)>) -> Option<Value> {
    let kept: Vec<(String, Value)> = entries
        .filter_map(|(k, v)| php_view(v).map(|v| (k, v)))
        .collect();
    if kept.is_empty() {
        return None;
    }
    if kept
        .iter()
        .enumerate()
        .all(|(i, (k, _))| *k == i.to_string())
    {
        Some(Value::Array(kept.into_iter().map(|(_, v)| v).collect()))
    } else {
        Some(Value::Object(kept.into_iter().collect::<Map<_, _>>()))
    }
}

fn check(w: &Where) {
    let query = w.to_query_string("where");
    let Some(decoded) = parse_str(&query) else {
        return;
    };
    let expected = match php_view(&w.to_json()) {
        // PHP encodes an empty array as `[]`.
        None => Value::Array(Vec::new()),
        Some(view) => {
            let mut m = Map::new();
            m.insert("where".into(), view);
            Value::Object(m)
        }
    };
    assert_eq!(decoded, expected, "query: {query}");
}

// ---- exact encodings, also checked by PHP ---------------------------------------------------

#[test]
fn exact_encodings() {
    let cases: Vec<(Where, &str)> = vec![
        (
            Where::from(Condition::new("equals").attribute("name").value("x")),
            "where[0][type]=equals&where[0][attribute]=name&where[0][value]=x",
        ),
        (
            Where::from(Condition::or([
                Condition::new("like").attribute("name").value("%a b%"),
                Condition::new("isNull").attribute("code"),
            ])),
            "where[0][type]=or&where[0][value][0][type]=like&where[0][value][0][attribute]=name\
             &where[0][value][0][value]=%a b%&where[0][value][1][type]=isNull&where[0][value][1][attribute]=code",
        ),
        (
            Where::from(
                Condition::new("in")
                    .attribute("status")
                    .value(vec!["a", "b"]),
            ),
            "where[0][type]=in&where[0][attribute]=status&where[0][value][0]=a&where[0][value][1]=b",
        ),
        (
            Where::from(
                Condition::new("equals")
                    .attribute("a01")
                    .value(3.5)
                    .is_attribute(true),
            ),
            "where[0][type]=equals&where[0][attribute]=a01&where[0][value]=3.5&where[0][isAttribute]=1",
        ),
        (
            Where::from(Condition::new("equals").attribute("flag").value(false)),
            "where[0][type]=equals&where[0][attribute]=flag&where[0][value]=0",
        ),
        (
            Where::from(Condition::not([
                Condition::new("isTrue").attribute("isActive")
            ]))
            .with(
                Condition::new("lastXDays")
                    .attribute("createdAt")
                    .value(7)
                    .with("dateTime", true),
            ),
            "where[0][type]=not&where[0][value][0][type]=isTrue&where[0][value][0][attribute]=isActive\
             &where[1][type]=lastXDays&where[1][attribute]=createdAt&where[1][value]=7&where[1][dateTime]=1",
        ),
    ];
    for (w, raw) in cases {
        let joined: Vec<String> = w
            .to_query_pairs("where")
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(joined.join("&"), raw);
        check(&w);
    }
    assert_eq!(Where::new().to_query_string("where"), "");
    check(&Where::new());
}

#[test]
fn php_decodes_awkward_strings() {
    for s in [
        "a&b=c",
        "100%",
        "+plus+",
        "a[0]=b",
        "ümlaut €",
        "tab\there",
        "new\nline",
        " ",
        "",
        "\u{0}x",
    ] {
        check(&Where::from(Condition::new("equals").attribute(s).value(s)));
    }
}

// ---- random trees --------------------------------------------------------------------------

fn scalar() -> impl Strategy<Value = WhereValue> {
    prop_oneof![
        Just(WhereValue::Null),
        any::<bool>().prop_map(WhereValue::Bool),
        any::<i64>().prop_map(|n| WhereValue::Number(Number::from(n))),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(WhereValue::Number)),
        any::<String>().prop_map(WhereValue::String),
        "[a-z%&=+ \\[\\]]{0,8}".prop_map(WhereValue::String),
    ]
}

fn value() -> impl Strategy<Value = WhereValue> {
    scalar().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner, 0..4).prop_map(WhereValue::List),
            prop::collection::btree_map("[a-z]{1,6}", any::<String>(), 0..3).prop_map(|m| {
                WhereValue::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
            }),
        ]
    })
}

fn leaf() -> impl Strategy<Value = Condition> {
    (
        prop_oneof![
            Just("equals".to_owned()),
            Just("in".to_owned()),
            Just("isNull".to_owned()),
            "[a-zA-Z]{1,12}"
        ],
        proptest::option::of(any::<String>()),
        proptest::option::of(value()),
        any::<bool>(),
        prop::collection::btree_map("[a-z]{1,6}", any::<bool>(), 0..2),
    )
        .prop_map(|(op, attribute, value, is_attribute, extra)| {
            let mut c = Condition::new(op).is_attribute(is_attribute);
            c.attribute = attribute;
            c.value = value;
            for (k, v) in extra {
                c = c.with(k, v);
            }
            c
        })
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        (
            prop_oneof![Just("and"), Just("or"), Just("not")],
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(op, members)| Condition::group(op, members))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn php_parse_str_rebuilds_random_trees(conditions in prop::collection::vec(condition(), 0..4)) {
        check(&Where::from(conditions));
    }
}
