//! The routes the runtime already serves, typed and in both generations: a generated crate does
//! not emit them a second time as raw methods (one route, one type). Each entry names the
//! runtime call a user reaches instead; the entity handle's doc lists them.
//!
//! Entity routes are matched below the entity's path (`/Product/{id}/{link}` →
//! `/{}/{}`), parameter names ignored; route-group routes by their whole path.

use crate::ir::Method;

/// A route the runtime covers: the shape it is matched by and what to call instead.
struct Covered {
    method: Method,
    /// The path below `/{Entity}` (entity routes) or the whole path (global routes), every
    /// `{parameter}` written `{}`.
    shape: &'static str,
    /// What covers it, as the doc names it.
    by: &'static str,
    /// Covered only where the entity has `attributes(id)`.
    attributes: bool,
}

/// Below each entity's path (2.2 `Atro/Controllers/AbstractRecordController.php` and
/// `app/Espo/Core/Controllers/Record.php` before commit b33a0dffc; 2.3 the attribute routes of
/// `Atro/Handlers/…AttributeValue…`).
const ENTITY_ROUTES: &[Covered] = &[
    Covered {
        method: Method::Get,
        shape: "/{}/{}",
        by: "the link lists (`product().files(id)`) and the runtime's `Client::linked`",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/{}/{}",
        by: "`add` and `add_matching` of a link list",
        attributes: false,
    },
    Covered {
        method: Method::Delete,
        shape: "/{}/{}",
        by: "`remove` of a link list",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/action/unlinkAll",
        by: "`clear` of a link list",
        attributes: false,
    },
    Covered {
        method: Method::Put,
        shape: "/action/massUpdate",
        by: "`update_matching` and `update_ids`",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/action/massDelete",
        by: "`delete_matching` and `delete_ids`",
        attributes: false,
    },
    Covered {
        method: Method::Get,
        shape: "/{}/attributeValues",
        by: "`attributes(id).list()`",
        attributes: true,
    },
    Covered {
        method: Method::Delete,
        shape: "/{}/attributeValues",
        by: "`attributes(id).remove(..)`",
        attributes: true,
    },
    Covered {
        method: Method::Post,
        shape: "/{}/addAttributes",
        by: "`attributes(id).add(..)`",
        attributes: true,
    },
    Covered {
        method: Method::Post,
        shape: "/{}/upsertAttributeValues",
        by: "`attributes(id).upsert(..)`",
        attributes: true,
    },
];

/// Routes of no entity (2.3 `Atro/Handlers/EntityRelation*`, `EntityMass*`, `UpsertHandler`;
/// 2.2 `app/Atro/Controllers/MassActions.php`).
const GLOBAL_ROUTES: &[Covered] = &[
    Covered {
        method: Method::Get,
        shape: "/entityRelation",
        by: "the link lists (`product().files(id)`)",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/entityRelation",
        by: "`add` and `add_matching` of a link list",
        attributes: false,
    },
    Covered {
        method: Method::Delete,
        shape: "/entityRelation",
        by: "`remove` and `clear` of a link list",
        attributes: false,
    },
    Covered {
        method: Method::Patch,
        shape: "/entityMassUpdate",
        by: "`update_matching` and `update_ids` of an entity",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/entityMassDelete",
        by: "`delete_matching` and `delete_ids` of an entity",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/upsert",
        by: "`upsert` of an entity",
        attributes: false,
    },
    Covered {
        method: Method::Post,
        shape: "/MassActions/action/upsert",
        by: "`upsert` of an entity",
        attributes: false,
    },
];

/// `path` with every `{parameter}` written `{}`.
pub(super) fn shape_of(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match (c, in_param) {
            ('{', false) => {
                in_param = true;
                out.push('{');
            }
            ('}', true) => {
                in_param = false;
                out.push('}');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

/// What covers the route `method path` of the entity `entity`, if the runtime does. The
/// attribute routes are covered when the entity has `attributes(id)` (`has_attributes`: its
/// spec lists `GET /E/{id}/attributeValues`); otherwise they stay generated methods.
pub(super) fn entity_route(
    entity: &str,
    path: &str,
    method: Method,
    has_attributes: bool,
) -> Option<&'static str> {
    let below = path.strip_prefix('/')?.strip_prefix(entity)?;
    let shape = shape_of(below);
    ENTITY_ROUTES
        .iter()
        .find(|c| c.method == method && c.shape == shape)
        .filter(|c| has_attributes || !c.attributes)
        .map(|c| c.by)
}

/// What covers the route `method path` of a route group, if the runtime does.
pub(super) fn global_route(path: &str, method: Method) -> Option<&'static str> {
    let shape = shape_of(path);
    GLOBAL_ROUTES
        .iter()
        .find(|c| c.method == method && c.shape == shape)
        .map(|c| c.by)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_routes_match_by_shape_below_the_entity() {
        assert!(entity_route("Product", "/Product/{id}/{link}", Method::Get, false).is_some());
        assert!(entity_route("Product", "/Product/{x}/{y}", Method::Delete, false).is_some());
        assert!(
            entity_route("Product", "/Product/action/massDelete", Method::Post, false).is_some()
        );
        // Another entity's path, another method, another shape: not covered.
        assert!(entity_route("Product", "/ProductFile/{id}/{link}", Method::Get, false).is_none());
        assert!(entity_route("Product", "/Product/{id}/{link}", Method::Put, false).is_none());
        assert!(
            entity_route("Product", "/Product/{id}/subscription", Method::Put, false).is_none()
        );
        let remove_attribute = "/Product/action/massRemoveAttribute";
        assert!(entity_route("Product", remove_attribute, Method::Post, true).is_none());
        // Attribute routes only where `attributes(id)` exists.
        let add = |has| entity_route("Product", "/Product/{id}/addAttributes", Method::Post, has);
        assert_eq!((add(true).is_some(), add(false).is_some()), (true, false));
    }

    #[test]
    fn global_routes_match_whole_paths() {
        assert!(global_route("/entityRelation", Method::Delete).is_some());
        assert!(global_route("/upsert", Method::Post).is_some());
        assert!(global_route("/upsertAsync", Method::Post).is_none());
        assert!(global_route("/entityRelationBulk", Method::Post).is_none());
    }
}
