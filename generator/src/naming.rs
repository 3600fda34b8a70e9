//! Every naming rule of the generator: casing, keyword escaping, collisions, method names.
//!
//! Nothing else in the crate invents an identifier. Rules, each with its reason:
//! - casing via `heck` (snake_case for modules, fields and methods; UpperCamelCase for types
//!   and variants), so `nameDeDe` becomes `name_de_de` and `NameDeDe`;
//! - a Rust keyword (and `self`/`Self`/`crate`/`super`, which cannot be raw) gets a trailing
//!   `_` (`type` → `type_`), the same way everywhere, so users never see `r#`;
//! - an empty name or one starting with a digit gets a prefix (`_3d` → `n3d`, ``→ `empty`),
//!   because identifiers cannot start with digits;
//! - collisions inside one namespace are resolved by [`Namer`], in a fixed order, by
//!   appending `_2`, `_3`… (fields) or `2`, `3`… (types and variants);
//! - module names are resolved the same way over all entities and route groups at once
//!   ([`module_names`]: `foo` keeps `foo`, `Foo` gets `foo_2`), never taking a reserved name
//!   (`lib`, `main`, `types`, the `Client`'s own items), whatever the spec's order;
//! - the wire name is always kept (`#[serde(rename)]`) so renaming never changes the protocol.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::ir::Method;
use crate::path::PathTemplate;

/// Words Rust reserves (strict and reserved keywords of edition 2024).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names of the standard prelude that generated code uses unqualified (`Option`, `String`,
/// `Vec`, the derivable traits): no generated type may take them, so they can never be shadowed.
const PRELUDE: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Default",
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Send",
    "Sync",
    "Sized",
    "From",
    "Into",
    "ToString",
    "ToOwned",
    "Iterator",
    "IntoIterator",
    "Fn",
    "FnMut",
    "FnOnce",
    "Drop",
    "AsRef",
    "AsMut",
    "Extend",
];

/// Is `word` a Rust keyword?
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Keep ASCII letters, digits and separators; everything else becomes a word break.
fn clean(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect::<String>()
}

fn fix_start(mut ident: String, prefix: &str, empty: &str) -> String {
    if ident.is_empty() {
        ident = empty.to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("{prefix}{ident}");
    }
    if is_keyword(&ident) || PRELUDE.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// snake_case identifier for a field, function, parameter or module.
pub fn snake(raw: &str) -> String {
    fix_start(clean(raw).to_snake_case(), "n", "empty")
}

/// UpperCamelCase identifier for a type or enum variant.
pub fn camel(raw: &str) -> String {
    fix_start(clean(raw).to_upper_camel_case(), "N", "Empty")
}

/// Hands out unique names within one namespace (a struct's fields, a module's items).
#[derive(Debug, Default, Clone)]
pub struct Namer {
    taken: BTreeSet<String>,
}

impl Namer {
    /// A namer with some names reserved up front.
    pub fn with_reserved<'a>(reserved: impl IntoIterator<Item = &'a str>) -> Namer {
        Namer {
            taken: reserved.into_iter().map(str::to_owned).collect(),
        }
    }

    /// Is this name already taken?
    pub fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// Reserve `wanted` or, if taken, the first free `wanted{sep}N` for N = 2, 3, …
    pub fn claim(&mut self, wanted: &str, sep: &str) -> String {
        if self.taken.insert(wanted.to_owned()) {
            return wanted.to_owned();
        }
        let base = wanted.trim_end_matches('_');
        (2..)
            .map(|n| format!("{base}{sep}{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .expect("an unbounded range always yields a free name")
    }

    /// Claim a snake_case name derived from `raw`.
    pub fn claim_snake(&mut self, raw: &str) -> String {
        let wanted = snake(raw);
        self.claim(&wanted, "_")
    }

    /// Claim an UpperCamelCase name derived from `raw`.
    pub fn claim_camel(&mut self, raw: &str) -> String {
        let wanted = camel(raw);
        self.claim(&wanted, "")
    }
}

/// Assign unique snake_case field names to wire names, in a deterministic way: names whose
/// snake form equals the wire name win first (so `position` keeps `position` when `_position`
/// also exists), then the others in their given order.
pub fn field_names<'a>(wire: impl IntoIterator<Item = &'a str>, reserved: &[&str]) -> Vec<String> {
    let wire: Vec<&str> = wire.into_iter().collect();
    let mut namer = Namer::with_reserved(reserved.iter().copied());
    let mut out = vec![String::new(); wire.len()];
    for pass in 0..2 {
        for (i, w) in wire.iter().enumerate() {
            // Already a plain identifier (not one escaped with `_`): it keeps its name first.
            let exact = snake(w) == *w && !w.ends_with('_');
            if (pass == 0) == exact && out[i].is_empty() {
                out[i] = namer.claim_snake(w);
            }
        }
    }
    out
}

/// The variant names of an enum over `values` (unique, deterministic).
pub fn variant_names<'a>(
    values: impl IntoIterator<Item = &'a str>,
    reserved: &[&str],
) -> Vec<String> {
    let mut namer = Namer::with_reserved(reserved.iter().copied());
    values.into_iter().map(|v| namer.claim_camel(v)).collect()
}

/// Module name for an entity or operation group (tag), before collisions are resolved (see
/// [`module_names`]).
pub fn module_name(tag: &str) -> String {
    snake(tag)
}

/// The module that holds shared component types.
pub const TYPES_MODULE: &str = "types";

/// The module inside an entity's module that holds the key types of its write structs' link
/// fields (`product::links::Brand`).
pub const LINKS_MODULE: &str = "links";

/// The name of the key type of a write struct's link field (`brand` → `Brand`).
pub fn link_keys_type(link: &str) -> String {
    camel(link)
}

/// The module that holds the entities' typed ids (`ProductId`).
pub const IDS_MODULE: &str = "ids";

/// The names in [`IDS_MODULE`] of the entities' id markers and id types, in the order of
/// `entities` (sorted by the caller): the id type is `{Type}Id` (`ProductId`), the marker the
/// entity's type name (`Product`). Id types are named first, since users write them: with
/// entities `Product` and `ProductId`, `ProductId` is the product's id (the other entity's id is
/// `ProductIdId` and its marker `ProductId2`).
pub fn id_type_names(entities: &[&str]) -> Vec<(String, String)> {
    let mut namer = Namer::default();
    let aliases: Vec<String> = entities
        .iter()
        .map(|e| namer.claim_camel(&format!("{}Id", entity_type(e))))
        .collect();
    entities
        .iter()
        .zip(aliases)
        .map(|(e, alias)| (namer.claim_camel(&entity_type(e)), alias))
        .collect()
}

/// Module names no entity or group may take: the files `src/lib.rs` (the crate root) and
/// `src/main.rs` (cargo would build a binary), the shared `types` module, and names that would
/// become `Client` accessors clashing with its own items (`runtime`, `builder`) or shadowing
/// the methods of the traits it implements (`clone`, `fmt`, `from`, …).
pub const RESERVED_MODULES: &[&str] = &[
    "lib",
    "main",
    TYPES_MODULE,
    IDS_MODULE,
    "runtime",
    "builder",
    "inner",
    "clone",
    "clone_from",
    "fmt",
    "from",
    "into",
    "to_owned",
    "try_from",
    "try_into",
];

/// Unique module names for `entities` and route groups (`groups`, by tag), each list in a fixed
/// order (sorted by the caller), so the result does not depend on the spec's order. Like
/// [`field_names`], a name already in module form (`foo`) keeps it before one that only
/// becomes it (`Foo` → `foo_2`); entities come before groups, and a group whose name is taken
/// gets `_routes` (`types` → `types_routes`) before a number. Reserved names
/// ([`RESERVED_MODULES`]) are never handed out.
pub fn module_names(entities: &[&str], groups: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut namer = Namer::with_reserved(RESERVED_MODULES.iter().copied());
    let exact = |w: &str| snake(w) == w && !w.ends_with('_');
    let mut entity_modules = vec![String::new(); entities.len()];
    for pass in [true, false] {
        for (i, e) in entities.iter().enumerate() {
            if exact(e) == pass {
                entity_modules[i] = namer.claim_snake(e);
            }
        }
    }
    let mut group_modules = vec![String::new(); groups.len()];
    for pass in [true, false] {
        for (i, g) in groups.iter().enumerate() {
            if exact(g) == pass {
                let wanted = module_name(g);
                group_modules[i] = if namer.is_taken(&wanted) {
                    namer.claim(&format!("{}_routes", wanted.trim_end_matches('_')), "_")
                } else {
                    namer.claim(&wanted, "_")
                };
            }
        }
    }
    (entity_modules, group_modules)
}

/// The read-struct type name of an entity (`Product`).
pub fn entity_type(entity: &str) -> String {
    camel(entity)
}

/// The create-struct name (`ProductPost`).
pub fn create_type(entity: &str) -> String {
    camel(&format!("{entity}Post"))
}

/// The patch-struct name (`ProductPatch`).
pub fn patch_type(entity: &str) -> String {
    camel(&format!("{entity}Patch"))
}

/// The field-enum name (`ProductField`).
pub fn field_enum(entity: &str) -> String {
    camel(&format!("{entity}Field"))
}

/// The per-module operations handle (`ProductApi`).
pub fn api_type(tag: &str) -> String {
    camel(&format!("{tag}Api"))
}

/// The name of a struct for an operation's parameters (`AddAttributesParams`).
pub fn params_type(method: &str) -> String {
    camel(&format!("{method}Params"))
}

/// The name of an operation's inline request body type (`AddAttributesBody`).
pub fn body_type(method: &str) -> String {
    camel(&format!("{method}Body"))
}

/// The name of an operation's inline response type (`AttributeValuesResponse`).
pub fn response_type(method: &str) -> String {
    camel(&format!("{method}Response"))
}

/// The name of a type nested in `parent` under property `prop` (`LayoutSectionRows`).
pub fn nested_type(parent: &str, prop: &str) -> String {
    camel(&format!("{parent} {prop}"))
}

/// The name of an operation whose [`operation_name`] is taken in its module: qualified by the
/// path's parameters (`DELETE /Cluster/{id}/purge` next to `DELETE /Cluster/purge` →
/// `delete_purge_by_id`), else by the method when the name lacks it (`patch_update`); the
/// caller numbers it when even that is taken.
pub fn operation_name_on_collision(method: Method, rest: &PathTemplate, base: &str) -> String {
    let method = method.key();
    let params: Vec<&str> = rest.params().collect();
    let bare = base.trim_end_matches('_');
    if !params.is_empty() {
        format!(
            "{bare}_by_{}",
            snake(&params.join(" ")).trim_end_matches('_')
        )
    } else if bare == method || bare.starts_with(&format!("{method}_")) {
        base.to_owned()
    } else {
        format!("{method}_{bare}")
    }
}

/// The cargo feature of an entity module: its name in kebab case (`product_category` →
/// `product-category`), prefixed `entity-` where it would take a name the manifest uses already.
pub fn feature_name(module: &str) -> String {
    let name = module.trim_end_matches('_').replace('_', "-");
    match name.as_str() {
        "default" | "full" | "rustls" | "native-tls" => format!("entity-{name}"),
        _ => name,
    }
}

/// The base method name of an operation that is not one of an entity's five standard ones,
/// derived from the HTTP method and the path below the module's prefix (operationIds are md5
/// hashes in real specs, so they carry no name).
///
/// Static words give the name (`/action/massUpdate` → `mass_update`; the filler word `action`
/// is dropped); parameters count only when nothing static is left. AtroCore's shared shapes get
/// the names of what they do: `GET /{id}/{link}` → `linked`, `POST` → `link`,
/// `DELETE` → `unlink`, `POST /{link}/relation` → `add_relation`, `DELETE` → `remove_relation`.
/// Reads are prefixed `get_`, deletes `delete_`; writes keep their verb-like path words.
pub fn operation_name(method: Method, rest: &PathTemplate) -> String {
    let method = method.key();
    let literals: Vec<String> = rest
        .words()
        .filter(|w| *w != "action")
        .map(str::to_owned)
        .collect();
    let params: Vec<&str> = rest.params().collect();
    let shape = (
        method,
        params.as_slice(),
        literals.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let special = match (shape.0, shape.1, shape.2.as_slice()) {
        ("get", ["id", "link"], []) => Some("linked"),
        ("post", ["id", "link"], []) => Some("link"),
        ("delete", ["id", "link"], []) => Some("unlink"),
        ("post", ["link"], ["relation"]) => Some("add_relation"),
        ("delete", ["link"], ["relation"]) => Some("remove_relation"),
        _ => None,
    };
    if let Some(name) = special {
        return name.to_owned();
    }
    let words = if literals.is_empty() {
        params.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>()
    } else {
        literals
    };
    if words.is_empty() {
        // The group's own path (`GET /Metadata`, `PUT /Settings`): the verb says it all.
        return match method {
            "put" => "update",
            "post" => "create",
            other => other,
        }
        .to_owned();
    }
    // `snake` escapes keywords with a trailing `_` (`move_`): kept unless a verb is put first.
    let base = snake(&words.join(" "));
    let bare = base.trim_end_matches('_');
    match method {
        // A path that starts with the verb already (`/getSchemaDiff`) does not get it twice.
        "get" | "delete" if bare.starts_with(&format!("{method}_")) => bare.to_owned(),
        "get" | "delete" => format!("{method}_{bare}"),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing_and_keywords() {
        assert_eq!(snake("nameDeDe"), "name_de_de");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("_meta"), "meta");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("3dModel"), "n3d_model");
        assert_eq!(snake(""), "empty");
        assert_eq!(snake("--"), "empty");
        assert_eq!(camel("in_progress"), "InProgress");
        assert_eq!(camel("Self"), "Self_");
        assert_eq!(camel("option"), "Option_");
        assert_eq!(camel("string"), "String_");
        assert_eq!(camel("de_DE"), "DeDe");
        assert_eq!(snake("ref"), "ref_");
        assert_eq!(snake("in"), "in_");
    }

    #[test]
    fn collisions_resolved_in_a_fixed_order() {
        let names = field_names(
            ["_position", "position", "type", "type_", "extra"],
            &["extra"],
        );
        assert_eq!(
            names,
            ["position_2", "position", "type_", "type_2", "extra_2"]
        );
        assert_eq!(field_enum("Option"), "OptionField");
        assert_eq!(entity_type("Option"), "Option_");
        assert_eq!(nested_type("TypeOption", "some"), "TypeOptionSome");
        let v = variant_names(["a-b", "a_b", "", "Other"], &["Other"]);
        assert_eq!(v, ["AB", "AB2", "Empty", "Other2"]);
    }

    #[test]
    fn module_names_are_unique() {
        let (e, g) = module_names(
            &["Foo", "Lib", "Main", "Types", "foo", "Продукт", "Товар"],
            &["Client", "Global", "Runtime", "foo", "types"],
        );
        assert_eq!(
            e,
            [
                "foo_2", "lib_2", "main_2", "types_2", "foo", "empty", "empty_2"
            ]
        );
        assert_eq!(
            g,
            [
                "client",
                "global",
                "runtime_routes",
                "foo_routes",
                "types_routes"
            ]
        );
    }

    fn op_name(method: &str, rest: &str) -> String {
        let method = Method::from_key(method).unwrap();
        operation_name(method, &PathTemplate::parse(rest).unwrap())
    }

    fn op_name_on_collision(method: &str, rest: &str, base: &str) -> String {
        let method = Method::from_key(method).unwrap();
        operation_name_on_collision(method, &PathTemplate::parse(rest).unwrap(), base)
    }

    #[test]
    fn operation_names_from_paths() {
        assert_eq!(op_name("put", "/action/massUpdate"), "mass_update");
        assert_eq!(
            op_name("get", "/{id}/attributeValues"),
            "get_attribute_values"
        );
        assert_eq!(
            op_name("delete", "/{id}/attributeValues"),
            "delete_attribute_values"
        );
        assert_eq!(op_name("get", "/{id}/{link}"), "linked");
        assert_eq!(op_name("post", "/{id}/custom{customAction}"), "custom");
        assert_eq!(op_name("get", ""), "get");
        assert_eq!(op_name("put", ""), "update");
        assert_eq!(op_name("patch", ""), "patch");
        assert_eq!(op_name("post", ""), "create");
        assert_eq!(op_name("get", "/action/getSchemaDiff"), "get_schema_diff");
        assert_eq!(op_name("delete", "/deleteModule"), "delete_module");
        assert_eq!(op_name("get", "/getaway"), "get_getaway");
        assert_eq!(op_name("get", "/get"), "get_get");
        assert_eq!(op_name("post", "/move"), "move_");
        assert_eq!(feature_name("product_category"), "product-category");
        assert_eq!(feature_name("default"), "entity-default");
        assert_eq!(feature_name("type_"), "type");
        assert_eq!(
            op_name_on_collision("delete", "/{id}/purge", "delete_purge"),
            "delete_purge_by_id"
        );
        assert_eq!(op_name_on_collision("patch", "", "update"), "patch_update");
        assert_eq!(op_name_on_collision("get", "", "get"), "get");
        assert_eq!(op_name("get", "/{scope}/layout/{viewType}"), "get_layout");
        assert_eq!(op_name("post", "/{id}/delete"), "delete");
    }
}
