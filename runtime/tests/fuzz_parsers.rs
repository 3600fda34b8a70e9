//! Property tests over untrusted input (bounded, run by `cargo test`): the date parsers and the
//! `where` reader never panic on any input, and the date-time parser applies offsets exactly.

use atrocore_runtime::{Condition, Date, DateTime, Where};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn date_parsers_never_panic(s in "\\PC{0,40}") {
        let _ = s.parse::<DateTime>();
        let _ = s.parse::<Date>();
    }

    #[test]
    fn date_parsers_never_panic_on_near_misses(
        s in "[0-9]{4}-[0-9]{2}-([0-9]{2}|[0-9]é|日)[ Té][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{0,4})?(Z|[+-][0-9]{2}(:?[0-9]{2})?|é|日)?"
    ) {
        let _ = s.parse::<DateTime>();
    }

    #[test]
    fn offsets_shift_to_utc(secs in 0i64..4_102_444_800, off_min in -840i64..=840) {
        let utc = DateTime::from_unix_seconds(secs);
        let local = DateTime::from_unix_seconds(secs + off_min * 60);
        let (sign, a) = if off_min < 0 { ('-', -off_min) } else { ('+', off_min) };
        let text = format!(
            "{}T{:02}:{:02}:{:02}.5{sign}{:02}:{:02}",
            local.date(),
            local.time().0,
            local.time().1,
            local.time().2,
            a / 60,
            a % 60
        );
        prop_assert_eq!(text.parse::<DateTime>().unwrap(), utc, "{}", text);
    }

    #[test]
    fn where_reader_never_panics(v in arb_json()) {
        if let Ok(w) = serde_json::from_value::<Where>(v.clone()) {
            let _ = w.to_query_string("where");
        }
        let _ = Condition::from_json(v);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
        prop::sample::select(vec!["not", "or", "and", "equals", "in", "isNull"])
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec!["type", "attribute", "value", "isAttribute", "x"]),
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}
