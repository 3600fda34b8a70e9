//! Spec errata: routes whose spec (written by AtroCore's own `OpenApiGenerator.php`) declares an
//! answer, or a method, that the server does not use. Each entry says what AtroCore does and
//! where its source says so; the generated method follows the server, and its doc says the spec
//! was corrected. The audit behind this table (every route of the four reference specs whose
//! declared answer is a boolean, empty or free-form) is summarised in ARCHITECTURE.md.
//!
//! Routes matched by shape: every `{parameter}` is `{}`, and an entity route's first segment
//! is `{E}` (`/Product/{id}/subscription` → `/{E}/{}/subscription`).

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::covered::shape_of;
use crate::ir::{Generation, Method};

/// What the server answers instead of the declared answer.
pub(super) enum Answer {
    /// A JSON body of this schema.
    Json(&'static LazyLock<Value>),
    /// A body that is not JSON (raw text or bytes).
    Bytes,
}

/// One correction.
pub(super) struct Erratum {
    generation: Generation,
    method: Method,
    /// The route's shape (see the module doc).
    shape: &'static str,
    /// The method the server routes, when the spec names another.
    pub(super) send: Option<Method>,
    /// The real answer.
    pub(super) answer: Answer,
    /// What the server does, for the doc of the generated method.
    pub(super) note: &'static str,
    /// Where AtroCore's source says so.
    pub(super) source: &'static str,
}

static MASS_RESULT: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "type": "object",
        "properties": {
            "count": { "type": "integer" },
            "sync": { "type": "boolean" },
            "errors": { "type": "array", "items": { "type": "string" } }
        }
    })
});

static MESSAGE: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "type": "object",
        "required": ["message"],
        "properties": { "message": { "type": "string" } }
    })
});

static URL: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "type": "object",
        "properties": { "url": { "type": "string", "nullable": true } }
    })
});

static BOOLEAN: LazyLock<Value> = LazyLock::new(|| json!({ "type": "boolean" }));

const ERRATA: &[Erratum] = &[
    Erratum {
        generation: Generation::V2_2,
        method: Method::Post,
        shape: "/{E}/{}/relation",
        send: None,
        answer: Answer::Json(&MESSAGE),
        note: "AtroCore answers `{message}` (an HTML summary of what was related), not a boolean",
        source: "2.2.31 app/Atro/Services/MassActions.php::addRelation",
    },
    Erratum {
        generation: Generation::V2_2,
        method: Method::Delete,
        shape: "/{E}/{}/relation",
        send: None,
        answer: Answer::Json(&MESSAGE),
        note: "AtroCore answers `{message}` (an HTML summary of what was unrelated), not a boolean",
        source: "2.2.31 app/Atro/Services/MassActions.php::removeRelation",
    },
    Erratum {
        generation: Generation::V2_2,
        method: Method::Put,
        shape: "/{E}/{}/subscription",
        send: Some(Method::Patch),
        answer: Answer::Json(&BOOLEAN),
        note: "AtroCore routes `PATCH` (a `PUT` is not found) and answers a boolean, not \
               `{message}`",
        source: "2.2.31 app/Atro/Resources/routes.json (`/:controller/:id/subscription`, patch), \
                 app/Atro/Controllers/AbstractRecordController.php::actionFollow",
    },
    Erratum {
        generation: Generation::V2_2,
        method: Method::Post,
        shape: "/ClusterItem/action/reject",
        send: None,
        answer: Answer::Json(&MASS_RESULT),
        note: "AtroCore answers the mass-action result `{count, sync, errors}`, not a boolean",
        source: "2.2.31 app/Atro/Services/ClusterItem.php::reject",
    },
    Erratum {
        generation: Generation::V2_2,
        method: Method::Post,
        shape: "/User/changePasswordByRequest",
        send: None,
        answer: Answer::Json(&URL),
        note: "AtroCore answers `{url}`, not a boolean",
        source: "2.2.31 app/Atro/Controllers/User.php::actionChangePasswordByRequest",
    },
    Erratum {
        generation: Generation::V2_2,
        method: Method::Get,
        shape: "/Admin/getSchemaDiff",
        send: None,
        answer: Answer::Bytes,
        note: "AtroCore answers the SQL statements as plain text (sent as `application/json`)",
        source: "2.2.31 app/Atro/Controllers/Admin.php::actionGetSchemaDiff",
    },
    Erratum {
        generation: Generation::V2_3,
        method: Method::Post,
        shape: "/computeEntityScriptField",
        send: None,
        answer: Answer::Json(&BOOLEAN),
        note: "AtroCore answers `true`; the spec declares no answer",
        source: "2.3.16-beta14 app/Atro/Handlers/Global/ComputeEntityScriptFieldHandler.php",
    },
    Erratum {
        generation: Generation::V2_3,
        method: Method::Post,
        shape: "/File/uploadProxy",
        send: None,
        answer: Answer::Bytes,
        note: "AtroCore answers the bytes of the remote file (`application/octet-stream`); the \
               spec declares no answer",
        source: "2.3.16-beta14 app/Atro/Handlers/File/UploadProxyHandler.php",
    },
];

/// `path`'s shape for the table: parameters as `{}`, and the first segment as `{E}` when
/// `entity_route` (the route belongs to an entity's module).
fn route_shape(path: &str, entity_route: bool) -> String {
    let shape = shape_of(path);
    if !entity_route {
        return shape;
    }
    match shape.strip_prefix('/').and_then(|s| s.split_once('/')) {
        Some((_, rest)) => format!("/{{E}}/{rest}"),
        None => "/{E}".to_owned(),
    }
}

/// The erratum of the route `method path` of a spec of `generation`, if there is one.
/// `entity_route`: the route is in an entity's module (matched by its shape below the entity).
pub(super) fn find(
    generation: Generation,
    method: Method,
    path: &str,
    entity_route: bool,
) -> Option<&'static Erratum> {
    let shapes = [route_shape(path, entity_route), shape_of(path)];
    ERRATA.iter().find(|e| {
        e.generation == generation && e.method == method && shapes.iter().any(|s| s == e.shape)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_routes_match_for_every_entity_and_only_their_generation() {
        let relate = |g, path| find(g, Method::Post, path, true).is_some();
        assert!(relate(Generation::V2_2, "/Product/{link}/relation"));
        assert!(relate(Generation::V2_2, "/Brand/{link}/relation"));
        assert!(!relate(Generation::V2_3, "/Product/{link}/relation"));
        let follow = find(
            Generation::V2_2,
            Method::Put,
            "/Brand/{id}/subscription",
            true,
        );
        assert_eq!(follow.and_then(|e| e.send), Some(Method::Patch));
        assert!(
            find(
                Generation::V2_2,
                Method::Delete,
                "/Brand/{id}/subscription",
                true
            )
            .is_none()
        );
    }

    #[test]
    fn global_routes_match_whole_paths() {
        assert!(find(Generation::V2_3, Method::Post, "/File/uploadProxy", false).is_some());
        assert!(find(Generation::V2_3, Method::Post, "/File/upload", false).is_none());
        assert!(find(Generation::V2_2, Method::Get, "/Admin/getSchemaDiff", false).is_some());
    }

    #[test]
    fn every_schema_is_an_object_or_a_boolean() {
        for e in ERRATA {
            if let Answer::Json(schema) = &e.answer {
                let t = schema["type"].as_str();
                assert!(matches!(t, Some("object" | "boolean")), "{}", e.shape);
            }
            assert!(!e.source.is_empty() && !e.note.is_empty());
        }
    }
}
