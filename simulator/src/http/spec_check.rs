//! The spec as the real server applies it: which requests it validates and the 400 it answers,
//! and (an optional debug layer) whether the simulator's own answers match the documented schemas.
//!
//! Request validation, confirmed in AtroCore's source:
//! - 2.3 validates every routed request against the route's spec before the handler runs
//!   (`app/Atro/Core/Factories/HttpPipeline.php` pipes `ApiValidationMiddleware` after routing and
//!   authentication, so 404 and 401 come first; `app/Atro/Core/Middleware/ApiValidationMiddleware.php`,
//!   `app/Atro/Core/Http/Validator.php::validateHandlerRequest`). Failures become `BadRequest`
//!   (400) whose message is the PHP validator's message plus its cause, e.g. `Body does not match
//!   schema for content-type "application/json" for Request [post /{entityName}], Keyword
//!   validation failed: Required property 'status' must be present in the object`. Entity routes
//!   are validated against the entity's `EPost`/`EPatch` schema (`OpenApiGenerator::
//!   substituteWriteSchemaRef`); `EPatch` has no `required` (`buildEntityPostSchema` drops it), so
//!   partial updates pass.
//! - 2.2 validates only routes declared with a description in the routes config (`Validator::
//!   getValidatorBuilderForRoute` returns no validator otherwise); those are the operations whose
//!   `operationId` is an md5 hash. The generated entity routes (`getListOfProductItems`,
//!   `updateProductItem`, …) are not validated, which is why 2.2 accepts partial `PUT`s although
//!   its PUT schemas keep `required` (`Espo\Core\Controllers\Record::actionUpdate` passes the body
//!   straight to `updateEntity`).
//!
//! Not modelled: header and path parameter validation, `Content-Type` matching, `format`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use serde_json::Value;

use crate::http::request::Req;
use crate::model::{Generation, Model};
use crate::openapi::{self, Direction, Routes, Validator, Violation};
use crate::query::phpqs::PhpValue;
use crate::util::ApiError;

/// A documented operation a request hit: its path template and operation object.
#[derive(Debug)]
pub struct Hit<'s> {
    /// The spec's path template (`/Product/{id}`).
    pub template: String,
    /// The operation object.
    pub op: &'s Value,
}

/// Validation settings and what the response check found.
#[derive(Debug)]
pub struct SpecCheck {
    routes: Routes,
    /// Validate requests like the real server (on by default).
    pub validate_requests: bool,
    /// Check every JSON answer against the route's documented 200 schema (debug layer).
    pub validate_responses: bool,
    checked: AtomicU64,
    violations: Mutex<Vec<String>>,
}

impl SpecCheck {
    /// Indexes the spec's routes.
    pub fn new(spec: &Value, validate_requests: bool, validate_responses: bool) -> SpecCheck {
        SpecCheck {
            routes: Routes::new(spec),
            validate_requests,
            validate_responses,
            checked: AtomicU64::new(0),
            violations: Mutex::new(Vec::new()),
        }
    }

    /// The documented operation for a method and the path segments after the API base.
    pub fn find<'s>(&self, spec: &'s Value, method: &Method, segs: &[String]) -> Option<Hit<'s>> {
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        self.routes
            .find(spec, method.as_str(), &segs)
            .map(|(template, op)| Hit { template, op })
    }

    /// Answers checked by the debug layer so far.
    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }

    /// Violations found by the debug layer so far, one line each.
    pub fn violations(&self) -> Vec<String> {
        self.violations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Checks a 200 JSON answer; returns the violations that are not known real-server behaviour,
    /// formatted as `METHOD template: at pointer: reason`, and records them.
    pub fn check_response(
        &self,
        g: Generation,
        spec: &Value,
        method: &Method,
        hit: &Hit,
        has_select: bool,
        body: &Value,
    ) -> Vec<String> {
        let Some(schema) = openapi::response_schema(hit.op, "200") else {
            return Vec::new();
        };
        self.checked.fetch_add(1, Ordering::Relaxed);
        let found = Validator::new(spec, Direction::Response)
            // Deviation: 2.2 specs declare no `nullable`, yet the server sends `null` for every empty
            // field (`Espo\ORM\Entity::getValueMap()`); AtroCore 2.3 added `nullable` for exactly
            // this reason ("Mark all non-required typed properties as nullable so the response
            // validator accepts null values for optional fields (which the API commonly returns)",
            // `app/Atro/Core/OpenApiGenerator.php::buildEntitySchema`).
            .null_for_optional(g == Generation::V22)
            // Deviation: with `select` a record carries only the selected fields (plus `id`), so the
            // read schema's `required` does not hold (`Espo\Services\Record::findEntities` with
            // `getSelectAttributeList`); the server checks lists against `items: {type: object}`
            // (`ListHandler`'s route attribute).
            .ignore_required(has_select)
            .validate(schema, body);
        let lines: Vec<String> = found
            .into_iter()
            .filter(|v| !known_deviation(g, method, &hit.template, v))
            .map(|v| format!("{method} {}: {v}", hit.template))
            .collect();
        if !lines.is_empty() {
            self.violations
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(lines.iter().cloned());
        }
        lines
    }
}

/// Whether the real server of generation `g` validates requests to this operation.
pub fn validates(g: Generation, op: &Value) -> bool {
    match g {
        Generation::V23 => true,
        Generation::V22 => op
            .get("operationId")
            .and_then(Value::as_str)
            .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())),
    }
}

/// The operation address in the PHP validator's messages: 2.3 entity routes are registered once
/// as `/{entityName}…` and validated under that path.
fn address(g: Generation, model: &Model, method: &Method, template: &str) -> String {
    let mut path = template.to_string();
    let segs: Vec<&str> = template.split('/').skip(1).collect();
    let generic = match segs.as_slice() {
        [_] | [_, "{id}"] => true,
        [_, "{id}", action] => matches!(
            *action,
            "attributeValues" | "addAttributes" | "upsertAttributeValues"
        ),
        _ => false,
    };
    if g == Generation::V23 && generic && model.entity(segs[0]).is_some() {
        path = format!("/{{entityName}}{}", &template[1 + segs[0].len()..]);
    }
    format!("Request [{} {path}]", method.as_str().to_ascii_lowercase())
}

/// Validates a request against its documented operation like the real server; `Err` is the 400.
pub fn validate_request(
    g: Generation,
    model: &Model,
    spec: &Value,
    hit: &Hit,
    req: &Req,
) -> Result<(), ApiError> {
    if !validates(g, hit.op) {
        return Ok(());
    }
    let addr = address(g, model, &req.method, &hit.template);
    for p in hit
        .op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if p.get("in").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let Some(value) = req.param_value(name) else {
            if p.get("required") == Some(&Value::Bool(true)) {
                return Err(ApiError::bad(format!(
                    "Missing required argument \"{name}\" for {addr}"
                )));
            }
            continue;
        };
        let Some(schema) = p.get("schema") else {
            continue;
        };
        let cast = cast_query(schema, value);
        if let Some(v) = Validator::new(spec, Direction::Request)
            .validate(schema, &cast)
            .into_iter()
            .next()
        {
            let shown = value.as_str().unwrap_or("Array");
            return Err(ApiError::bad(format!(
                "Value \"{shown}\" for argument \"{name}\" is invalid for {addr}, {}",
                v.reason
            )));
        }
    }
    let Some(schema) = openapi::request_schema(hit.op) else {
        return Ok(());
    };
    let empty = req.body.iter().all(u8::is_ascii_whitespace);
    if empty && !openapi::request_body_required(hit.op) {
        return Ok(());
    }
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        ApiError::bad(format!(
            "JSON parsing failed with \"Syntax error\" for {addr}"
        ))
    })?;
    match Validator::new(spec, Direction::Request)
        .validate(schema, &body)
        .into_iter()
        .next()
    {
        None => Ok(()),
        Some(Violation { reason, .. }) => Err(ApiError::bad(format!(
            "Body does not match schema for content-type \"application/json\" for {addr}, {reason}"
        ))),
    }
}

/// A query value as the PHP validator casts it before checking: `true`/`false` for booleans,
/// digit strings for integers, numeric strings for numbers; anything else stays a string.
fn cast_query(schema: &Value, value: &PhpValue) -> Value {
    let Some(s) = value.as_str() else {
        return value.to_json();
    };
    let t = schema.get("type").and_then(Value::as_str).unwrap_or("");
    match t {
        "boolean" if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        "boolean" if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        "integer" => s
            .trim_start_matches(['+', '-'])
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<i64>().ok())
            .flatten()
            .map(Value::from)
            .unwrap_or_else(|| Value::String(s.to_string())),
        "number" => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(s.to_string())),
        _ => Value::String(s.to_string()),
    }
}

/// A shape the real server sends although its own spec does not document it.
struct Deviation {
    generation: Option<Generation>,
    method: &'static str,
    /// Path template; `*` stands for one whole segment.
    template: &'static str,
    /// JSON pointer; `*` stands for one whole segment.
    pointer: &'static str,
    /// Text the violation's reason contains.
    reason: &'static str,
}

/// Real-server behaviour that contradicts the served spec, each with the source that shows it.
const DEVIATIONS: &[Deviation] = &[
    // 2.2 types an attribute value as a nullable string, but the server sends the attribute's own
    // type (numbers for int/float, booleans, arrays for multi-value types): PIM 1.15
    // `app/Atro/Core/AttributeFieldTypes/{Int,Float,Bool,Array}Type.php` convert the stored value.
    // 2.3 corrected the schema (`AttributeValue.value` is anyOf string/number/boolean/array).
    Deviation {
        generation: Some(Generation::V22),
        method: "GET",
        template: "/*/{id}/attributeValues",
        pointer: "/*/value",
        reason: "Value expected to be 'string'",
    },
    // With `Use-Queue: true` (or `1`) the 2.2 upsert answers `{jobId}` instead of the documented
    // array: `app/Atro/Controllers/MassActions.php::actionUpsert` →
    // `app/Atro/Services/MassActions.php::upsertViaJob`.
    Deviation {
        generation: Some(Generation::V22),
        method: "POST",
        template: "/MassActions/action/upsert",
        pointer: "",
        reason: "Value expected to be 'array'",
    },
    // 2.2 documents the mass actions' answer as a boolean; `Services/Record.php::massRemove`
    // returns `{count, sync, errors}` (and the mass update, through the same
    // `executeMassAction`, is modelled alike).
    Deviation {
        generation: Some(Generation::V22),
        method: "POST",
        template: "/*/action/massDelete",
        pointer: "",
        reason: "Value expected to be 'boolean'",
    },
    Deviation {
        generation: Some(Generation::V22),
        method: "PUT",
        template: "/*/action/massUpdate",
        pointer: "",
        reason: "Value expected to be 'boolean'",
    },
    // An upsert job keeps the list of items as its payload (`MassActions::upsertViaJob` sets
    // `'payload' => $data`), while jsonObject fields are documented as objects.
    Deviation {
        generation: None,
        method: "GET",
        template: "/Job/{id}",
        pointer: "/payload",
        reason: "Value expected to be 'object'",
    },
    Deviation {
        generation: None,
        method: "GET",
        template: "/Job",
        pointer: "/list/*/payload",
        reason: "Value expected to be 'object'",
    },
];

fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let v: Vec<&str> = s.split('/').collect();
    p.len() == v.len() && p.iter().zip(&v).all(|(a, b)| *a == "*" || a == b)
}

fn known_deviation(g: Generation, method: &Method, template: &str, v: &Violation) -> bool {
    DEVIATIONS.iter().any(|d| {
        d.generation.is_none_or(|dg| dg == g)
            && d.method == method.as_str()
            && glob(d.template, template)
            && glob(d.pointer, &v.pointer)
            && v.reason.contains(d.reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn which_operations_2_2_validates() {
        assert!(validates(
            Generation::V22,
            &json!({ "operationId": "3a8459ebdfb2cf077b11238793b42151" })
        ));
        assert!(!validates(
            Generation::V22,
            &json!({ "operationId": "updateProductItem" })
        ));
        assert!(validates(
            Generation::V23,
            &json!({ "operationId": "updateProductItem" })
        ));
    }

    #[test]
    fn query_values_are_cast_like_php() {
        let int = json!({ "type": "integer" });
        assert_eq!(cast_query(&int, &PhpValue::Str("-5".into())), json!(-5));
        assert_eq!(cast_query(&int, &PhpValue::Str("5x".into())), json!("5x"));
        let b = json!({ "type": "boolean" });
        assert_eq!(cast_query(&b, &PhpValue::Str("TRUE".into())), json!(true));
        assert_eq!(cast_query(&b, &PhpValue::Str("1".into())), json!("1"));
    }

    #[test]
    fn deviations_match_by_glob() {
        let v = Violation {
            pointer: "/3/value".into(),
            reason: "Value expected to be 'string', 'double' given.".into(),
        };
        assert!(known_deviation(
            Generation::V22,
            &Method::GET,
            "/Product/{id}/attributeValues",
            &v
        ));
        assert!(!known_deviation(
            Generation::V23,
            &Method::GET,
            "/Product/{id}/attributeValues",
            &v
        ));
    }
}
