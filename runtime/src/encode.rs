//! Wire encodings: path segments, and JSON values in PHP bracket notation for query strings.
//!
//! AtroCore reads structured query parameters (notably `where`) with PHP's `parse_str`, which
//! turns `where[0][type]=equals&where[0][value][0]=a` into nested arrays. [`php_query_pairs`] is
//! the inverse, modelled on PHP's own `http_build_query` so that `parse_str` rebuilds exactly the
//! structure we meant:
//!
//! | JSON | query pairs | what PHP sees |
//! |---|---|---|
//! | string `"x"` | `name=x` | `"x"` |
//! | number `1.5` | `name=1.5` | `"1.5"` (PHP yields only strings) |
//! | `true` / `false` | `name=1` / `name=0` | `"1"` / `"0"`: truthy / falsy for `!empty()` and `==` |
//! | `null` | nothing | key absent |
//! | `[]`, `{}` | nothing | key absent |
//! | `["a","b"]` | `name[0]=a&name[1]=b` | list `["a","b"]` |
//! | `{"k": v}` | `name[k]=…` | array with key `k` |
//!
//! Booleans are `1`/`0` (not `true`/`false`) because AtroCore tests flags such as `isAttribute`
//! with PHP's `!empty()`, for which the string `"false"` is *true*, while `"0"` is false; `1`/`0`
//! is also what a boolean column compares equal to in SQL.
//!
//! When appended to a URL the pairs are form-encoded: brackets always become `%5B`/`%5D` and
//! spaces `+`; PHP decodes both forms alike.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Everything but RFC 3986 "unreserved" characters (`A-Z a-z 0-9 - . _ ~`) is encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path parameter value, so that it stays a single path segment.
///
/// Every byte outside the unreserved characters `A-Z a-z 0-9 - . _ ~` is encoded, including `/`,
/// `?`, `#`, `%` and spaces:
///
/// ```
/// use atrocore_runtime::encode_path_segment;
///
/// assert_eq!(encode_path_segment("a01k5c597f"), "a01k5c597f");
/// assert_eq!(encode_path_segment("a/b c?d"), "a%2Fb%20c%3Fd");
/// assert_eq!(encode_path_segment("ä"), "%C3%A4");
/// ```
pub fn encode_path_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// Appends the query pairs that encode `value` under `name` in PHP bracket notation (unencoded;
/// the URL encoder percent-encodes them). See the module docs for the rules.
pub(crate) fn php_query_pairs(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((name.to_owned(), if *b { "1" } else { "0" }.to_owned())),
        Value::Number(n) => out.push((name.to_owned(), n.to_string())),
        Value::String(s) => out.push((name.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                php_query_pairs(&format!("{name}[{i}]"), item, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                php_query_pairs(&format!("{name}[{k}]"), item, out);
            }
        }
    }
}

/// The form-encoded query string for `pairs` (`a=1&b%5B0%5D=x`), as it goes on the wire.
pub(crate) fn form_encode(pairs: &[(String, String)]) -> String {
    let mut url = reqwest::Url::parse("http://localhost/").expect("static URL parses");
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(name: &str, v: Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        php_query_pairs(name, &v, &mut out);
        out
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn path_segments() {
        assert_eq!(encode_path_segment(""), "");
        assert_eq!(encode_path_segment("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(
            encode_path_segment("/?#[]@!$&'()*+,;=% "),
            "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%20"
        );
        assert_eq!(encode_path_segment("😀"), "%F0%9F%98%80");
    }

    #[test]
    fn scalars() {
        assert_eq!(pairs("a", json!("x y")), vec![p("a", "x y")]);
        assert_eq!(pairs("a", json!(12)), vec![p("a", "12")]);
        assert_eq!(pairs("a", json!(-1.5)), vec![p("a", "-1.5")]);
        assert_eq!(pairs("a", json!(true)), vec![p("a", "1")]);
        assert_eq!(pairs("a", json!(false)), vec![p("a", "0")]);
        assert_eq!(pairs("a", json!(null)), vec![]);
        assert_eq!(pairs("a", json!("")), vec![p("a", "")]);
    }

    #[test]
    fn containers() {
        assert_eq!(
            pairs("ids", json!(["a", "b"])),
            vec![p("ids[0]", "a"), p("ids[1]", "b")]
        );
        assert_eq!(pairs("ids", json!([])), vec![]);
        assert_eq!(pairs("o", json!({})), vec![]);
        assert_eq!(
            pairs("o", json!({"k": {"j": [1, null, 3]}})),
            vec![p("o[k][j][0]", "1"), p("o[k][j][2]", "3")]
        );
    }

    #[test]
    fn form_encoding_of_brackets_and_spaces() {
        let q = form_encode(&[p("where[0][value]", "a b&c=d%")]);
        assert_eq!(q, "where%5B0%5D%5Bvalue%5D=a+b%26c%3Dd%25");
    }
}
