//! Reads a few top-level string members of a JSON object without parsing the rest: what the
//! change feed needs of every record of a page (`id`, `modifiedAt`) before the records are
//! decoded. A scan skips strings with `memchr` and tracks nesting only, so it costs a fraction
//! of a full parse; a member whose value is not a plain string (escapes, another type) is
//! reported as [`Member::Other`], and the caller parses that record properly.

/// What a scan found for one member name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member<'a> {
    /// Not in the object.
    Absent,
    /// A string without escapes: its text.
    Text(&'a str),
    /// Present, but not a plain string (escaped, `null`, a number, …).
    Other,
}

/// The top-level members `names` of the object `json` (which must be valid JSON: it comes from
/// a page serde_json already read as raw values). `None` when `json` is not an object.
pub(crate) fn top_level<'a, const N: usize>(
    json: &'a str,
    names: [&str; N],
) -> Option<[Member<'a>; N]> {
    let bytes = json.as_bytes();
    let mut found = [Member::Absent; N];
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut depth = 1usize;
    // At depth 1, whether the next string is a member name.
    let mut expect_key = true;
    let mut key: Option<usize> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let (end, escaped) = string_end(bytes, start)?;
                if depth == 1 && expect_key {
                    let name = &json[start..end];
                    key = names.iter().position(|n| *n == name);
                    expect_key = false;
                } else if depth == 1
                    && let Some(k) = key.take()
                {
                    found[k] = if escaped {
                        Member::Other
                    } else {
                        Member::Text(&json[start..end])
                    };
                }
                i = end + 1;
            }
            b'{' | b'[' => {
                if depth == 1
                    && let Some(k) = key.take()
                {
                    found[k] = Member::Other;
                }
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(found);
                }
                i += 1;
            }
            b',' => {
                if depth == 1 {
                    expect_key = true;
                    key = None;
                }
                i += 1;
            }
            b':' | b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => {
                // A number or a literal: only what it is matters, not its text.
                if depth == 1
                    && let Some(k) = key.take()
                {
                    found[k] = Member::Other;
                }
                i += 1;
            }
        }
    }
    None
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index of the quote that ends the string starting at `start`, and whether it holds an
/// escape.
fn string_end(bytes: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start;
    let mut escaped = false;
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', &bytes[i..])?;
        if bytes[at] == b'"' {
            return Some((at, escaped));
        }
        escaped = true;
        i = at + 2;
        if i > bytes.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_top_level_strings_only() {
        let json = r#"{"name":"a \"q\" {[","nested":{"id":"inner","modifiedAt":"x"},"list":[{"id":"n"}],
            "id" : "p01", "n": 12.5, "modifiedAt":"2026-01-02 03:04:05","t":true}"#;
        assert_eq!(
            top_level(json, ["id", "modifiedAt", "n", "missing"]),
            Some([
                Member::Text("p01"),
                Member::Text("2026-01-02 03:04:05"),
                Member::Other,
                Member::Absent
            ])
        );
        assert_eq!(
            top_level(
                r#"{"id":"a\u0031","modifiedAt":null}"#,
                ["id", "modifiedAt"]
            ),
            Some([Member::Other, Member::Other])
        );
        assert_eq!(top_level(r#"["id"]"#, ["id"]), None);
        assert_eq!(top_level(r#"{}"#, ["id"]), Some([Member::Absent]));
    }

    proptest! {
        /// Whatever the object holds, a member the scan reads as plain text is what a parser
        /// reads, and one it calls absent is absent.
        #[test]
        fn agrees_with_serde_json(
            members in prop::collection::btree_map(
                "[a-zA-Z]{1,3}",
                prop_oneof![
                    "[ -~]{0,8}".prop_map(serde_json::Value::from),
                    any::<i32>().prop_map(serde_json::Value::from),
                    Just(serde_json::json!({"id": "x", "a": [1, "]"]})),
                    Just(serde_json::Value::Null),
                ],
                0..6,
            ),
        ) {
            let object = serde_json::Value::Object(members.clone().into_iter().collect());
            let json = object.to_string();
            for name in ["id", "a", "B", "xy"] {
                let [m] = top_level(&json, [name]).unwrap();
                match (m, members.get(name)) {
                    (Member::Absent, None) => {}
                    (Member::Text(t), Some(serde_json::Value::String(s))) => prop_assert_eq!(t, s),
                    (Member::Other, Some(_)) => {}
                    (m, v) => prop_assert!(false, "{name}: {m:?} vs {v:?} in {json}"),
                }
            }
        }
    }
}
