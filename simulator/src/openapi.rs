//! The OpenAPI 3.0 subset AtroCore specs use: finding the operation a request hits, and checking
//! JSON against a schema the way the real server's validator (`league/openapi-psr7-validator`,
//! called from AtroCore's `app/Atro/Core/Http/Validator.php`) does.
//!
//! Supported keywords: `type` with `nullable`, `properties`, `required` (honouring `readOnly` in
//! requests and `writeOnly` in responses), `items`, `additionalProperties`, `enum`, `minimum`,
//! `maximum`, `$ref` (sibling keys are checked too), `allOf`, `anyOf`, `oneOf`. `format`,
//! `pattern` and length limits are not checked (AtroCore's specs hardly use them).
//!
//! PHP quirks: a schema written as `[]` (PHP's encoding of an empty `{}`) or missing accepts
//! anything, so do `items: []` and arrays without `items`; an empty JSON array `[]` is accepted
//! where an object is expected, as the PHP validator does. Messages follow the PHP validator's
//! wording ("Value expected to be 'string', 'integer' given.", PHP type names).

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

/// One failed check: where in the validated value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the validated value (`""` is the value itself).
    pub pointer: String,
    /// The validator's message.
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "at {at}: {}", self.reason)
    }
}

/// What is validated: it decides whether `readOnly` or `writeOnly` properties may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request body: required `readOnly` properties may be absent.
    Request,
    /// A response body: required `writeOnly` properties may be absent.
    Response,
}

/// Checks JSON values against schemas of one spec.
#[derive(Debug, Clone, Copy)]
pub struct Validator<'s> {
    spec: &'s Value,
    direction: Direction,
    null_for_optional: bool,
    ignore_required: bool,
}

impl<'s> Validator<'s> {
    /// A strict validator for `spec` (schemas' `$ref`s resolve inside it).
    pub fn new(spec: &'s Value, direction: Direction) -> Validator<'s> {
        Validator {
            spec,
            direction,
            null_for_optional: false,
            ignore_required: false,
        }
    }

    /// Accepts `null` for a property its object schema does not list in `required`, even without
    /// `nullable` (what AtroCore 2.2 sends against its 2.2 specs, which lack `nullable`).
    pub fn null_for_optional(mut self, yes: bool) -> Validator<'s> {
        self.null_for_optional = yes;
        self
    }

    /// Skips `required` everywhere (answers to `select`, which carry only the selected fields).
    pub fn ignore_required(mut self, yes: bool) -> Validator<'s> {
        self.ignore_required = yes;
        self
    }

    /// Every violation of `schema` by `value`, in document order (empty when it validates).
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check(schema, value, "", false, 0, &mut out);
        out
    }

    fn resolve(&self, reference: &str) -> Option<&'s Value> {
        reference
            .strip_prefix('#')
            .and_then(|p| self.spec.pointer(p))
    }

    fn passes(&self, schema: &Value, value: &Value, optional: bool, hops: u32) -> bool {
        let mut out = Vec::new();
        self.check(schema, value, "", optional, hops, &mut out);
        out.is_empty()
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        ptr: &str,
        optional: bool,
        hops: u32,
        out: &mut Vec<Violation>,
    ) {
        // `[]`, `true` and anything else that is not an object: no constraint.
        let Some(s) = schema.as_object() else {
            return;
        };
        if hops > 64 {
            return;
        }
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            match self.resolve(r) {
                Some(target) => self.check(target, value, ptr, optional, hops + 1, out),
                None => out.push(violation(ptr, format!("Cannot resolve reference '{r}'."))),
            }
        }
        if value.is_null() {
            let nullable = s.get("nullable") == Some(&Value::Bool(true));
            if nullable || (self.null_for_optional && optional) {
                return;
            }
            if s.contains_key("type") {
                out.push(violation(
                    ptr,
                    "Keyword validation failed: Value cannot be null".to_string(),
                ));
                return;
            }
        } else if let Some(t) = s.get("type").and_then(Value::as_str)
            && !type_matches(t, value)
        {
            out.push(violation(
                ptr,
                format!(
                    "Value expected to be '{t}', '{}' given.",
                    php_type_name(value)
                ),
            ));
            return;
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                out.push(violation(
                    ptr,
                    format!(
                        "Keyword validation failed: Value {} must be greater or equal to {}",
                        value, s["minimum"]
                    ),
                ));
            }
            if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                out.push(violation(
                    ptr,
                    format!(
                        "Keyword validation failed: Value {} must be less or equal to {}",
                        value, s["maximum"]
                    ),
                ));
            }
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.is_empty()
            && !value.is_null()
            && !options.iter().any(|o| json_eq(o, value))
        {
            let list: Vec<String> = options.iter().map(plain).collect();
            out.push(violation(
                ptr,
                format!(
                    "Keyword validation failed: Value '{}' is not one of the allowed values: {}",
                    plain(value),
                    list.join(",")
                ),
            ));
        }
        let empty = Map::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(obj) = value.as_object() {
            if !self.ignore_required {
                for r in &required {
                    if obj.contains_key(*r) || self.may_be_absent(props.get(*r)) {
                        continue;
                    }
                    out.push(violation(
                        ptr,
                        format!(
                            "Keyword validation failed: Required property '{r}' must be present in the object"
                        ),
                    ));
                }
            }
            for (k, v) in obj {
                let child = format!("{ptr}/{}", escape(k));
                let is_optional = !required.contains(&k.as_str());
                match props.get(k) {
                    Some(ps) => self.check(ps, v, &child, is_optional, hops, out),
                    None => match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => out.push(violation(
                            &child,
                            format!("Keyword validation failed: Property '{k}' is not allowed"),
                        )),
                        Some(extra @ Value::Object(_)) => {
                            self.check(extra, v, &child, true, hops, out)
                        }
                        _ => {}
                    },
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), value.as_array()) {
            for (i, item) in arr.iter().enumerate() {
                self.check(items, item, &format!("{ptr}/{i}"), false, hops, out);
            }
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, ptr, optional, hops + 1, out);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array)
            && !any.is_empty()
            && !any
                .iter()
                .any(|b| self.passes(b, value, optional, hops + 1))
        {
            out.push(violation(
                ptr,
                "Keyword validation failed: Data must match at least one schema".to_string(),
            ));
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array)
            && !one.is_empty()
        {
            let n = one
                .iter()
                .filter(|b| self.passes(b, value, optional, hops + 1))
                .count();
            if n != 1 {
                out.push(violation(
                    ptr,
                    format!(
                        "Keyword validation failed: Data must match exactly one schema, but matched {n}"
                    ),
                ));
            }
        }
    }

    /// A required property may be absent when it is `readOnly` (requests) or `writeOnly`
    /// (responses).
    fn may_be_absent(&self, prop: Option<&Value>) -> bool {
        let Some(mut p) = prop else { return false };
        if let Some(target) = p
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
        {
            p = target;
        }
        let key = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        p.get(key) == Some(&Value::Bool(true))
    }
}

fn violation(ptr: &str, reason: String) -> Violation {
    Violation {
        pointer: ptr.to_string(),
        reason,
    }
}

/// Escapes a key for a JSON pointer.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        // PHP decodes `{}` as `[]`, so the validator accepts an empty list for an object (and an
        // empty object for a list).
        "object" => v.is_object() || v.as_array().is_some_and(Vec::is_empty),
        "array" => v.is_array() || v.as_object().is_some_and(Map::is_empty),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

/// PHP's `gettype()` of the decoded value (objects decode to associative arrays).
fn php_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "array",
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One segment of a path template.
#[derive(Debug, Clone)]
enum Segment {
    /// A literal segment.
    Literal(String),
    /// A segment with a parameter, possibly inside text (`custom{customAction}`).
    Param { prefix: String, suffix: String },
}

impl Segment {
    fn parse(s: &str) -> Segment {
        match (s.find('{'), s.rfind('}')) {
            (Some(a), Some(b)) if a < b => Segment::Param {
                prefix: s[..a].to_string(),
                suffix: s[b + 1..].to_string(),
            },
            _ => Segment::Literal(s.to_string()),
        }
    }

    fn matches(&self, seg: &str) -> bool {
        match self {
            Segment::Literal(l) => l == seg,
            Segment::Param { prefix, suffix } => {
                seg.len() > prefix.len() + suffix.len()
                    && seg.starts_with(prefix.as_str())
                    && seg.ends_with(suffix.as_str())
            }
        }
    }

    /// How specific a match is: literals first, then parameters with more fixed text.
    fn weight(&self) -> usize {
        match self {
            Segment::Literal(_) => 1000,
            Segment::Param { prefix, suffix } => prefix.len() + suffix.len(),
        }
    }
}

#[derive(Debug)]
struct Template {
    path: String,
    segments: Vec<Segment>,
}

/// The path templates of a spec, to find the operation a request hits.
#[derive(Debug, Default)]
pub struct Routes {
    by_len: HashMap<usize, Vec<Template>>,
}

impl Routes {
    /// Indexes the `paths` of `spec`.
    pub fn new(spec: &Value) -> Routes {
        let mut by_len: HashMap<usize, Vec<Template>> = HashMap::new();
        if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
            for path in paths.keys() {
                let segments: Vec<Segment> = path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(Segment::parse)
                    .collect();
                by_len.entry(segments.len()).or_default().push(Template {
                    path: path.clone(),
                    segments,
                });
            }
        }
        Routes { by_len }
    }

    /// The most specific template matching the (decoded) path segments that documents `method`,
    /// with its operation object.
    pub fn find<'s>(
        &self,
        spec: &'s Value,
        method: &str,
        segments: &[&str],
    ) -> Option<(String, &'s Value)> {
        let method = method.to_ascii_lowercase();
        let mut best: Option<(usize, &Template, &'s Value)> = None;
        for t in self.by_len.get(&segments.len())? {
            if !t.segments.iter().zip(segments).all(|(p, s)| p.matches(s)) {
                continue;
            }
            let Some(op) = spec
                .get("paths")
                .and_then(|p| p.get(&t.path))
                .and_then(|p| p.get(&method))
            else {
                continue;
            };
            let weight = t.segments.iter().map(Segment::weight).sum();
            if best.is_none_or(|(w, _, _)| weight > w) {
                best = Some((weight, t, op));
            }
        }
        best.map(|(_, t, op)| (t.path.clone(), op))
    }
}

/// The JSON schema of an operation's request body.
pub fn request_schema(op: &Value) -> Option<&Value> {
    op.pointer("/requestBody/content/application~1json/schema")
}

/// Whether the operation declares its request body as required.
pub fn request_body_required(op: &Value) -> bool {
    op.pointer("/requestBody/required") == Some(&Value::Bool(true))
}

/// The JSON schema of an operation's answer with `status`.
pub fn response_schema<'s>(op: &'s Value, status: &str) -> Option<&'s Value> {
    op.get("responses")?
        .get(status)?
        .pointer("/content/application~1json/schema")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "paths": {
                "/Product": { "get": { "operationId": "list" } },
                "/Product/{id}": { "get": { "operationId": "read" }, "patch": { "operationId": "patch" } },
                "/{scope}/layout/{viewType}": { "get": { "operationId": "layout" } },
                "/Product/{id}/attributeValues": { "get": { "operationId": "values" } },
                "/Action/{id}/custom{customAction}": { "post": { "operationId": "custom" } },
            },
            "components": { "schemas": {
                "P": { "type": "object", "required": ["name", "id"],
                       "properties": {
                           "id": { "type": "string", "readOnly": true },
                           "name": { "type": "string" },
                           "price": { "type": "number", "nullable": true },
                           "tags": { "type": "array", "items": { "type": "string" } },
                           "any": { "type": "array", "items": [] },
                           "names": { "type": "object" },
                           "count": { "type": "integer", "minimum": 0, "maximum": 10 },
                           "status": { "type": "string", "enum": ["a", "b"] },
                       } },
                "Loose": { "$ref": "#/components/schemas/P", "description": "sibling" },
            } }
        })
    }

    fn reasons(v: &[Violation]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn routes_pick_the_most_specific_template() {
        let s = spec();
        let r = Routes::new(&s);
        let find = |m: &str, p: &[&str]| r.find(&s, m, p).map(|(t, _)| t);
        assert_eq!(find("GET", &["Product"]).as_deref(), Some("/Product"));
        assert_eq!(
            find("GET", &["Product", "x", "attributeValues"]).as_deref(),
            Some("/Product/{id}/attributeValues")
        );
        assert_eq!(
            find("GET", &["Brand", "layout", "list"]).as_deref(),
            Some("/{scope}/layout/{viewType}")
        );
        assert_eq!(
            find("POST", &["Action", "1", "customRun"]).as_deref(),
            Some("/Action/{id}/custom{customAction}")
        );
        assert_eq!(find("POST", &["Action", "1", "run"]), None);
        assert_eq!(find("PUT", &["Product", "1"]), None);
        assert_eq!(
            find("PATCH", &["Product", "1"]).as_deref(),
            Some("/Product/{id}")
        );
    }

    #[test]
    fn schema_checks_with_pointers() {
        let s = spec();
        let p = &s["components"]["schemas"]["P"];
        let resp = Validator::new(&s, Direction::Response);
        let ok = json!({ "id": "1", "name": "n", "price": null, "tags": ["x"], "any": [1, "a"],
                         "names": [], "count": 3, "status": "a", "extra": { "x": 1 } });
        assert_eq!(resp.validate(p, &ok), vec![]);
        let bad = json!({ "id": "1", "price": "9", "tags": ["x", 2], "names": null, "count": 11,
                          "status": "c" });
        assert_eq!(
            reasons(&resp.validate(p, &bad)),
            [
                "at (root): Keyword validation failed: Required property 'name' must be present in the object",
                "at /price: Value expected to be 'number', 'string' given.",
                "at /tags/1: Value expected to be 'string', 'integer' given.",
                "at /names: Keyword validation failed: Value cannot be null",
                "at /count: Keyword validation failed: Value 11 must be less or equal to 10",
                "at /status: Keyword validation failed: Value 'c' is not one of the allowed values: a,b",
            ]
        );
        // readOnly required properties may be missing from requests, not from responses.
        let req = Validator::new(&s, Direction::Request);
        assert_eq!(req.validate(p, &json!({ "name": "n" })), vec![]);
        assert_eq!(resp.validate(p, &json!({ "name": "n" })).len(), 1);
        // $ref with sibling keys; lax nulls; skipped required.
        let loose = &s["components"]["schemas"]["Loose"];
        let lax = resp.null_for_optional(true);
        assert_eq!(
            lax.validate(loose, &json!({ "id": "1", "name": "n", "names": null })),
            vec![]
        );
        assert_eq!(
            lax.validate(loose, &json!({ "id": "1", "name": null }))
                .len(),
            1
        );
        let sel = resp.ignore_required(true);
        assert_eq!(sel.validate(loose, &json!({ "price": 1.5 })), vec![]);
    }

    #[test]
    fn combinators_and_php_empty_schemas() {
        let s = json!({});
        let v = Validator::new(&s, Direction::Request);
        let any_of = json!({ "anyOf": [ { "type": "string" }, { "type": "array", "items": [] },
                                         { "type": "string", "nullable": true } ] });
        for ok in [json!("x"), json!([1]), Value::Null] {
            assert_eq!(v.validate(&any_of, &ok), vec![], "{ok}");
        }
        assert_eq!(v.validate(&any_of, &json!(1)).len(), 1);
        let one_of = json!({ "oneOf": [ { "type": "integer" }, { "type": "number" } ] });
        assert_eq!(v.validate(&one_of, &json!(1.5)), vec![]);
        assert_eq!(v.validate(&one_of, &json!(1)).len(), 1, "matches both");
        let all_of = json!({ "allOf": [ { "type": "object", "required": ["a"] },
                                         { "properties": { "b": { "type": "boolean" } } } ] });
        assert_eq!(v.validate(&all_of, &json!({ "a": 1, "b": true })), vec![]);
        assert_eq!(v.validate(&all_of, &json!({ "b": 1 })).len(), 2);
        assert_eq!(v.validate(&json!([]), &json!({ "x": 1 })), vec![]);
        assert_eq!(
            v.validate(&json!({ "type": "array" }), &json!([{}, 1])),
            vec![]
        );
        let closed = json!({ "type": "object", "additionalProperties": false,
                             "properties": { "a": {} } });
        assert_eq!(
            reasons(&v.validate(&closed, &json!({ "a": 1, "b~/c": 2 }))),
            ["at /b~0~1c: Keyword validation failed: Property 'b~/c' is not allowed"]
        );
    }
}
