//! Stage 1: load an OpenAPI document (JSON or YAML text) and resolve `$ref`s, without interpreting it.
//!
//! The document is kept as a `serde_json::Value` (object key order preserved) because real
//! AtroCore specs are not valid OpenAPI in places (`items: []`, arrays without `items`, `$ref`
//! with sibling keys); a strict typed model would reject them. Interpretation is `lower`'s job.

use serde_json::{Map, Value};

use crate::Error;

/// A loaded OpenAPI document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Where the document came from (file path or URL), used in error messages.
    pub origin: String,
    /// The document itself.
    pub root: Value,
}

/// The two text formats a spec may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON text.
    Json,
    /// YAML text.
    Yaml,
}

impl Format {
    /// Guess the format from the first non-blank character: JSON documents start with `{`.
    pub fn sniff(text: &str) -> Format {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next()
        {
            Some('{') => Format::Json,
            _ => Format::Yaml,
        }
    }
}

impl Spec {
    /// Parse spec text; `origin` names the source in errors.
    pub fn parse(origin: impl Into<String>, text: &str) -> Result<Spec, Error> {
        let origin = origin.into();
        let text = text.trim_start_matches('\u{feff}');
        let root: Value = match Format::sniff(text) {
            Format::Json => serde_json::from_str(text).map_err(|e| Error::Parse {
                origin: origin.clone(),
                message: format!(
                    "invalid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            })?,
            Format::Yaml => serde_yaml_ng::from_str(text).map_err(|e| Error::Parse {
                origin: origin.clone(),
                message: format!("invalid YAML: {e}"),
            })?,
        };
        Spec::from_value(origin, root)
    }

    /// Wrap an already parsed document, checking it is an OpenAPI 3 object.
    pub fn from_value(origin: impl Into<String>, root: Value) -> Result<Spec, Error> {
        let spec = Spec {
            origin: origin.into(),
            root,
        };
        let Some(obj) = spec.root.as_object() else {
            return Err(spec.error("", "the document is not a JSON/YAML object"));
        };
        match obj.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.") => {}
            Some(v) => {
                return Err(spec.error(
                    "/openapi",
                    format!("unsupported OpenAPI version {v:?} (3.x expected)"),
                ));
            }
            None if obj.contains_key("swagger") => {
                return Err(spec.error(
                    "/swagger",
                    "Swagger 2.0 documents are not supported (OpenAPI 3.x expected)",
                ));
            }
            None => {
                return Err(spec.error(
                    "",
                    "missing `openapi` version field: not an OpenAPI document",
                ));
            }
        }
        if !obj.get("paths").is_some_and(Value::is_object) {
            return Err(spec.error("/paths", "missing or not an object"));
        }
        Ok(spec)
    }

    /// An error located at `pointer` in this document.
    pub fn error(&self, pointer: &str, message: impl Into<String>) -> Error {
        Error::Spec {
            origin: self.origin.clone(),
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// The `paths` object.
    pub fn paths(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.root
            .get("paths")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// The `components/schemas` object (empty when absent).
    pub fn schemas(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// Follow `$ref`s from `value` (found at `pointer`) until a non-reference; returns the target
    /// and its pointer. Sibling keys of a `$ref` (an AtroCore habit: `description`, `nullable`)
    /// are left to the caller, which reads them from `value` itself (`lower` lets a sibling
    /// `description` document the reference); the target itself is returned unchanged.
    pub fn resolve<'a>(
        &'a self,
        value: &'a Value,
        pointer: &str,
    ) -> Result<(&'a Value, String), Error> {
        let mut current = value;
        let mut at = pointer.to_owned();
        for _ in 0..32 {
            let Some(reference) = current.get("$ref") else {
                return Ok((current, at));
            };
            let Some(reference) = reference.as_str() else {
                return Err(self.error(&format!("{at}/$ref"), "`$ref` is not a string"));
            };
            let Some(target_pointer) = reference.strip_prefix('#') else {
                return Err(self.error(
                    &format!("{at}/$ref"),
                    format!("external reference {reference:?} is not supported (only `#/...`)"),
                ));
            };
            let target_pointer = decode_pointer_uri(target_pointer);
            let Some(target) = self.root.pointer(&target_pointer) else {
                return Err(self.error(
                    &format!("{at}/$ref"),
                    format!("reference {reference:?} points to nothing"),
                ));
            };
            current = target;
            at = target_pointer;
        }
        Err(self.error(
            pointer,
            "`$ref` chain longer than 32 links (a reference cycle?)",
        ))
    }

    /// The name of the component schema a `$ref` names, if `value` is exactly such a reference
    /// (`#/components/schemas/Name`); the name is unescaped (`%20` → ` `, `~1` → `/`,
    /// `~0` → `~`), so it is the key in [`Spec::schemas`]. A reference into a schema
    /// (`#/components/schemas/Name/properties/x`) or elsewhere names none.
    pub fn ref_name(value: &Value) -> Option<String> {
        match ref_tokens(value)?.as_slice() {
            [c, s, name] if c == "components" && s == "schemas" => Some(name.clone()),
            _ => None,
        }
    }

    /// The component schema a `$ref` points at or into (`#/components/schemas/Name/…` →
    /// `Name`, unescaped as in [`Spec::ref_name`]).
    pub fn ref_component(value: &Value) -> Option<String> {
        match ref_tokens(value)?.as_slice() {
            [c, s, name, ..] if c == "components" && s == "schemas" => Some(name.clone()),
            _ => None,
        }
    }
}

/// The unescaped tokens of a local `$ref` (`#/a/b~1c` → `["a", "b/c"]`).
fn ref_tokens(value: &Value) -> Option<Vec<String>> {
    let fragment = value.get("$ref")?.as_str()?.strip_prefix('#')?;
    let pointer = decode_pointer_uri(fragment);
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// Undo URI fragment escaping of a JSON pointer (`%7B` → `{`); `~0`/`~1` stay for `Value::pointer`.
/// Works on bytes: a `%` before a multi-byte character is kept as is, never sliced through.
fn decode_pointer_uri(pointer: &str) -> String {
    if !pointer.contains('%') {
        return pointer.to_owned();
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = pointer.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| pointer.to_owned())
}

/// Escape one key for use in a JSON pointer (`/` → `~1`, `~` → `~0`).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_json_and_yaml() {
        assert_eq!(Format::sniff("  {\"a\":1}"), Format::Json);
        assert_eq!(Format::sniff("openapi: 3.0.0"), Format::Yaml);
    }

    #[test]
    fn yaml_and_json_load_the_same() {
        let y = Spec::parse("a.yaml", "openapi: 3.0.0\npaths: {}\n").unwrap();
        let j = Spec::parse("a.json", r#"{"openapi":"3.0.0","paths":{}}"#).unwrap();
        assert_eq!(y.root, j.root);
    }

    #[test]
    fn rejects_non_openapi_with_location() {
        let e = Spec::parse("x.json", r#"{"swagger":"2.0","paths":{}}"#).unwrap_err();
        assert!(e.to_string().contains("x.json"), "{e}");
        assert!(e.to_string().contains("/swagger"), "{e}");
        let e = Spec::parse("y.json", "{\"openapi\": ").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn resolves_refs_and_reports_dangling_ones() {
        let spec = Spec::parse(
            "s.json",
            r##"{"openapi":"3.0.0","paths":{},"components":{"schemas":{"A":{"$ref":"#/components/schemas/B"},"B":{"type":"string"}}}}"##,
        )
        .unwrap();
        let a = &spec.schemas()["A"];
        let (t, p) = spec.resolve(a, "/components/schemas/A").unwrap();
        assert_eq!(t["type"], "string");
        assert_eq!(p, "/components/schemas/B");
        let bad = serde_json::json!({"$ref": "#/components/schemas/Nope"});
        let e = spec.resolve(&bad, "/x").unwrap_err().to_string();
        assert!(e.contains("/x/$ref") && e.contains("Nope"), "{e}");
    }

    #[test]
    fn references_unescape_without_slicing_characters() {
        assert_eq!(decode_pointer_uri("/a%20b/%7B%7d"), "/a b/{}");
        // Broken escapes stay as they are; a `%` before a multi-byte character is no escape.
        assert_eq!(decode_pointer_uri("/%aé/%é/%/%z1"), "/%aé/%é/%/%z1");
        // Percent-decoding to invalid UTF-8 keeps the original text.
        assert_eq!(decode_pointer_uri("/%C3"), "/%C3");
        let r = |s: &str| serde_json::json!({ "$ref": s });
        assert_eq!(
            Spec::ref_name(&r("#/components/schemas/a~1b~0c%20d")).as_deref(),
            Some("a/b~c d")
        );
        assert_eq!(
            Spec::ref_name(&r("#/components/schemas/A/properties/x")),
            None
        );
        assert_eq!(
            Spec::ref_component(&r("#/components/schemas/A/properties/x")).as_deref(),
            Some("A")
        );
        assert_eq!(Spec::ref_name(&r("#/paths/~1A")), None);
        assert_eq!(Spec::ref_name(&r("x.json#/components/schemas/A")), None);
    }
}
