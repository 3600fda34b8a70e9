//! A faithful subset of PHP's `parse_str`: query strings in bracket notation become a tree.
//!
//! AtroCore reads list parameters (notably `where`) with PHP's query parser, so
//! `where[0][type]=equals&where[0][value][]=a` arrives as nested arrays. This module rebuilds
//! that tree: percent-decoding, `+` as a space, `a[]=x` appends, `a[k][j]=v` nests, later
//! duplicates overwrite earlier ones, and (like PHP) a key without brackets keeps only its last value.

/// A PHP value produced by `parse_str`: a string, or an ordered array with string keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhpValue {
    /// A scalar value (PHP always yields strings from a query string).
    Str(String),
    /// An ordered map; list items get the keys "0", "1", ….
    Arr(Vec<(String, PhpValue)>),
}

impl PhpValue {
    /// The value under `key` when this is an array.
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        match self {
            PhpValue::Arr(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            PhpValue::Str(_) => None,
        }
    }

    /// The string, when this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) => Some(s),
            PhpValue::Arr(_) => None,
        }
    }

    /// Converts to JSON: arrays whose keys are 0..n become JSON arrays, others objects.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            PhpValue::Str(s) => serde_json::Value::String(s.clone()),
            PhpValue::Arr(items) => {
                let is_list = items
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| k.parse::<usize>().ok() == Some(i));
                if is_list {
                    serde_json::Value::Array(items.iter().map(|(_, v)| v.to_json()).collect())
                } else {
                    serde_json::Value::Object(
                        items
                            .iter()
                            .map(|(k, v)| (k.clone(), v.to_json()))
                            .collect(),
                    )
                }
            }
        }
    }
}

/// Percent-decodes a query component, turning `+` into a space (PHP `urldecode`).
/// Invalid escapes are kept verbatim; invalid UTF-8 is replaced lossily.
pub fn urldecode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-decodes a path segment (`+` stays a plus sign, unlike in query strings).
pub fn urldecode_path(s: &str) -> String {
    urldecode(&s.replace('+', "%2B"))
}

/// Parses a whole query string (without the leading `?`) into an ordered top-level map.
pub fn parse_str(query: &str) -> Vec<(String, PhpValue)> {
    parse_str_limited(query, usize::MAX).0
}

/// Parses like [`parse_str`] but keeps only the first `max_input_vars` variables, as PHP does:
/// every non-empty `&`-separated piece counts as one variable, however deep its brackets go, and
/// at the first piece past the limit PHP warns ("Input variables exceeded N") and stops parsing
/// (php-src `main/php_variables.c`, `php_default_treat_data`, which `$_GET` and `parse_str` share).
/// The second value tells whether anything was dropped.
pub fn parse_str_limited(query: &str, max_input_vars: usize) -> (Vec<(String, PhpValue)>, bool) {
    let mut root: Vec<(String, PhpValue)> = Vec::new();
    let mut count = 0usize;
    for pair in query.split('&') {
        if pair.is_empty() {
            continue;
        }
        count += 1;
        if count > max_input_vars {
            return (root, true);
        }
        let (raw_key, raw_val) = match pair.find('=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        };
        let key = urldecode(raw_key);
        let value = urldecode(raw_val);
        let (base, path) = split_key(&key);
        if base.is_empty() {
            continue;
        }
        insert(&mut root, base, &path, value);
    }
    (root, false)
}

/// Splits `a[b][c]` into `a` and `[Some("b"), Some("c")]`; `[]` becomes `None` (append).
/// Like PHP, a malformed bracket ends the nesting: the rest is ignored, and a `[` or `.` or
/// space in the base name becomes `_`.
fn split_key(key: &str) -> (String, Vec<Option<String>>) {
    let Some(open) = key.find('[') else {
        return (php_base_name(key), Vec::new());
    };
    if open == 0 {
        return (String::new(), Vec::new());
    }
    let base = php_base_name(&key[..open]);
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            if path.is_empty() {
                // PHP: an unterminated first bracket makes the whole key the base name.
                return (php_base_name(key), Vec::new());
            }
            break;
        };
        let inner = &stripped[..close];
        path.push(if inner.is_empty() {
            None
        } else {
            Some(inner.to_string())
        });
        rest = &stripped[close + 1..];
    }
    (base, path)
}

fn php_base_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '.' || c == ' ' || c == '[' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn next_index(items: &[(String, PhpValue)]) -> String {
    let max = items
        .iter()
        .filter_map(|(k, _)| k.parse::<i64>().ok())
        .max();
    match max {
        Some(m) if m >= 0 => (m + 1).to_string(),
        _ => "0".to_string(),
    }
}

fn insert(map: &mut Vec<(String, PhpValue)>, key: String, path: &[Option<String>], value: String) {
    if path.is_empty() {
        set(map, key, PhpValue::Str(value));
        return;
    }
    let pos = match map.iter().position(|(k, _)| *k == key) {
        Some(p) => {
            if matches!(map[p].1, PhpValue::Str(_)) {
                map[p].1 = PhpValue::Arr(Vec::new());
            }
            p
        }
        None => {
            map.push((key, PhpValue::Arr(Vec::new())));
            map.len() - 1
        }
    };
    let PhpValue::Arr(child) = &mut map[pos].1 else {
        return;
    };
    let next_key = match &path[0] {
        Some(k) => k.clone(),
        None => next_index(child),
    };
    insert(child, next_key, &path[1..], value);
}

fn set(map: &mut Vec<(String, PhpValue)>, key: String, value: PhpValue) {
    match map.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => map.push((key, value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(q: &str) -> serde_json::Value {
        PhpValue::Arr(parse_str(q)).to_json()
    }

    #[test]
    fn nested_where() {
        let t = tree(
            "where[0][type]=or&where[0][value][0][type]=like&where[0][value][0][attribute]=name\
             &where[0][value][0][value]=%25a%25&maxSize=2",
        );
        assert_eq!(
            t,
            json!({"where": [{"type": "or", "value": [{"type": "like", "attribute": "name", "value": "%a%"}]}], "maxSize": "2"})
        );
    }

    #[test]
    fn appends_and_plus() {
        assert_eq!(tree("a[]=x+y&a[]=z"), json!({"a": ["x y", "z"]}));
        assert_eq!(tree("a[5]=x&a[]=y"), json!({"a": {"5": "x", "6": "y"}}));
        assert_eq!(tree("a=1&a=2"), json!({"a": "2"}));
        assert_eq!(tree("a.b=1"), json!({"a_b": "1"}));
        assert_eq!(tree("%5Bx=1&b%5B0%5D=2"), json!({"b": ["2"]}));
        assert_eq!(tree("bad=%zz%"), json!({"bad": "%zz%"}));
    }
}
