//! Stage 2: spec → IR. Every AtroCore quirk is interpreted here and only here.
//!
//! Quirks absorbed (each has a fixture in `tests/fixtures`):
//! - operationIds are md5 hashes: names come from tags, methods and path shapes (`naming`);
//! - arrays without `items`, and `items: []` (PHP's encoding of `{}`): any-JSON items, warning;
//! - `$ref` with sibling keys: the reference wins, a sibling `description` documents it;
//! - free-form objects and `anyOf`/`oneOf` values: `serde_json::Value`;
//! - `allOf` bodies: the parts' properties merged into one struct;
//! - string enums: generated enums that keep unknown values;
//! - `where` declared as JSON content (2.2) or `anyOf` (2.3): the runtime's `Where` filter;
//! - 2.2 updates are `PUT` with `required` kept although updates are partial: patch structs
//!   ignore `required`;
//! - `servers` gives the base path and with it the API generation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::ir::*;
use crate::naming::{self, Namer};
use crate::select::select_entities;
use crate::spec::{Spec, escape_pointer_token};
use crate::{Error, Settings};

mod attributes;
mod covered;
mod entity;
mod errata;
mod fields;
mod metadata;
mod operation;
mod schema;

/// Lower a spec to the IR (the entities chosen by `settings.filter`, see [`select_entities`]).
pub fn lower(spec: &Spec, settings: &Settings) -> Result<Api, Error> {
    let all = entity_names(spec);
    let selection = select_entities(&all, &settings.filter, settings.metadata.as_ref())?;
    lower_entities(spec, settings, selection.entities)
}

/// Lower a spec to the IR, generating exactly `entities` (already selected).
pub fn lower_entities(
    spec: &Spec,
    settings: &Settings,
    entities: BTreeSet<String>,
) -> Result<Api, Error> {
    let mut api = Lowerer::new(spec, settings, entities).run()?;
    if let Some(defs) = &settings.attributes {
        attach_attributes(&mut api, defs)?;
    }
    crate::boxing::box_cycles(&mut api);
    crate::share::share_repeated(&mut api);
    crate::features::assign_features(&mut api);
    compute_defaults(&mut api);
    Ok(api)
}

/// The typed attributes of `defs` on the entities that have attribute values (the spec's
/// `/E/{id}/attributeValues`); the others' are left out with a warning.
fn attach_attributes(api: &mut Api, defs: &crate::AttributeDefinitions) -> Result<(), Error> {
    let names: Vec<&str> = api.entities.iter().map(|e| e.name.as_str()).collect();
    let mut warnings = Vec::new();
    let mut by_entity = attributes::lower(&defs.file, &defs.origin, &names, &mut warnings)?;
    for e in &mut api.entities {
        let Some(attrs) = by_entity.remove(&e.name) else {
            continue;
        };
        if e.has_attributes {
            e.attributes = attrs;
        } else {
            warnings.push(Warning {
                origin: None,
                pointer: format!("/paths/~1{}~1{{id}}~1attributeValues", e.name),
                message: format!(
                    "the spec has no attribute routes for {}, so its {} attributes in {} get no \
                     typed handles",
                    e.name,
                    attrs.len(),
                    defs.origin
                ),
            });
        }
    }
    api.warnings.extend(warnings);
    api.warnings.sort();
    api.warnings.dedup();
    Ok(())
}

/// The module that holds shared component types.
pub const TYPES_MODULE: &str = naming::TYPES_MODULE;

/// Names of the entities in a spec: component schemas `E` with both `/E` and `/E/{id}` routes.
pub fn entity_names(spec: &Spec) -> Vec<String> {
    let paths = spec.paths();
    spec.schemas()
        .keys()
        .filter(|name| {
            paths.contains_key(&format!("/{name}"))
                && paths.contains_key(&format!("/{name}/{{id}}"))
        })
        .cloned()
        .collect()
}

/// Detect the generation and base path from `servers` (falling back to the token route).
pub fn generation(spec: &Spec) -> (Generation, String, Option<Warning>) {
    let base = spec
        .root
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .map(|u| {
            // `servers` may hold an absolute URL: keep its path.
            let path = match u.find("://") {
                Some(i) => u[i + 3..].find('/').map(|j| &u[i + 3 + j..]).unwrap_or(""),
                None => u,
            };
            path.trim_end_matches('/').to_owned()
        });
    let by_routes = if spec.paths().contains_key("/userSession") {
        Some(Generation::V2_3)
    } else if spec.paths().contains_key("/App/user") {
        Some(Generation::V2_2)
    } else {
        None
    };
    match base.as_deref() {
        Some("/api/v1") => (Generation::V2_2, "/api/v1".into(), None),
        Some("/api") => (Generation::V2_3, "/api".into(), None),
        other => {
            let generation = by_routes.unwrap_or(Generation::V2_3);
            let default = match generation {
                Generation::V2_2 => "/api/v1",
                Generation::V2_3 => "/api",
            };
            let path = other
                .map(str::to_owned)
                .unwrap_or_else(|| default.to_owned());
            let warning = Warning {
                origin: None,
                pointer: "/servers".into(),
                message: format!(
                    "base path {other:?} is not AtroCore's `/api/v1` (2.2) or `/api` (2.3); using {path:?} with the {generation:?} token route"
                ),
            };
            (generation, path, Some(warning))
        }
    }
}

/// Where a named inline type is being created: the module that will define it.
struct Sink {
    /// The module.
    module: String,
    namer: Namer,
    /// The types defined in the module so far, in output order.
    ids: Vec<TypeId>,
    /// Enum values → type: an enum repeated on many routes of a module (the `language`
    /// header) is one type.
    seen: BTreeMap<String, TypeId>,
}

impl Sink {
    fn new(module: &str, reserved: &[&str]) -> Sink {
        Sink {
            module: module.to_owned(),
            namer: Namer::with_reserved(reserved.iter().copied()),
            ids: Vec::new(),
            seen: BTreeMap::new(),
        }
    }
}

/// How deep schemas may nest (inline types in inline types, `allOf` parts in `allOf` parts,
/// across references): far beyond any real spec, well within the stack.
const MAX_NESTING: usize = 64;

/// The two recursive walks over schemas, each with its own stack of what it is inside.
#[derive(Clone, Copy)]
enum Nesting {
    /// [`Lowerer::ty`]: a type inside a type (properties, items, map values).
    Type,
    /// [`Lowerer::collect_object`]: an `allOf` part inside an `allOf`.
    AllOf,
}

struct Lowerer<'a> {
    spec: &'a Spec,
    /// The schemas each walk is inside, outermost first, by identity (every schema lives in
    /// the spec's tree), with their pointers: meeting one again means the schema contains
    /// itself, which is an error, not endless recursion.
    inside: [Vec<(&'a Value, String)>; 2],
    entities: BTreeSet<String>,
    all_entities: BTreeSet<String>,
    warnings: BTreeSet<Warning>,
    /// Every named type made so far.
    types: TypeSpace,
    /// Lowering the body or answer of an attribute route (`/E/{id}/attributeValues`, …).
    attribute_route: bool,
    /// The typed id of each generated entity (`ProductId`), made before anything refers to it.
    id_types: BTreeMap<String, TypeId>,
    /// The entities' own structs referred to or made so far.
    entity_ids: BTreeMap<(String, EntityStruct), TypeId>,
    /// Component schemas (non-entity) referenced so far → their type in `types`.
    shared_wanted: BTreeMap<String, TypeId>,
    shared_namer: Namer,
    tag_docs: BTreeMap<String, String>,
    metadata: Option<&'a Value>,
    /// From `servers` (or the token route), detected once.
    generation: Generation,
    base_path: String,
    /// Module of each generated entity and route group (by entity name or tag), collisions
    /// resolved ([`naming::module_names`]).
    entity_modules: BTreeMap<String, String>,
    group_modules: BTreeMap<String, String>,
}

impl<'a> Lowerer<'a> {
    fn new(spec: &'a Spec, settings: &'a Settings, entities: BTreeSet<String>) -> Lowerer<'a> {
        let all: Vec<String> = entity_names(spec);
        let (generation, base_path, warning) = generation(spec);
        let tag_docs = spec
            .root
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| {
                        Some((
                            t.get("name")?.as_str()?.to_owned(),
                            t.get("description")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Lowerer {
            spec,
            inside: [Vec::new(), Vec::new()],
            entities,
            all_entities: all.into_iter().collect(),
            warnings: warning.into_iter().collect(),
            types: TypeSpace::default(),
            attribute_route: false,
            id_types: BTreeMap::new(),
            entity_ids: BTreeMap::new(),
            shared_wanted: BTreeMap::new(),
            shared_namer: Namer::default(),
            tag_docs,
            metadata: settings.metadata.as_ref(),
            generation,
            base_path,
            entity_modules: BTreeMap::new(),
            group_modules: BTreeMap::new(),
        }
    }

    /// 2.3 validates request bodies against the spec before defaults apply
    /// (`app/Atro/Core/Middleware/ApiValidationMiddleware.php`); 2.2 does not.
    fn validates_bodies(&self) -> bool {
        self.generation == Generation::V2_3
    }

    /// Step into `schema` (at `pointer`) in the `walk`; an error when the walk is inside it
    /// already (a cycle through `$ref`s or `allOf`) or nests too deep.
    fn enter(&mut self, walk: Nesting, schema: &'a Value, pointer: &str) -> Result<(), Error> {
        let stack = &self.inside[walk as usize];
        if let Some((_, outer)) = stack.iter().find(|(v, _)| std::ptr::eq(*v, schema)) {
            let what = match walk {
                Nesting::Type => "the schema contains itself",
                Nesting::AllOf => "the `allOf` includes itself",
            };
            let path: Vec<&str> = stack
                .iter()
                .skip_while(|(v, _)| !std::ptr::eq(*v, schema))
                .map(|(_, p)| p.as_str())
                .collect();
            return Err(self.spec.error(
                pointer,
                format!(
                    "{what} (a cycle through {}; first met at {outer}): only a `$ref` to a \
                     component schema (`#/components/schemas/…`) may be recursive",
                    path.join(" → ")
                ),
            ));
        }
        if stack.len() >= MAX_NESTING {
            return Err(self.spec.error(
                pointer,
                format!("schemas nested more than {MAX_NESTING} levels deep"),
            ));
        }
        self.inside[walk as usize].push((schema, pointer.to_owned()));
        Ok(())
    }

    fn leave(&mut self, walk: Nesting) {
        self.inside[walk as usize].pop();
    }

    /// The arena id of one of an entity's own structs (made on first use).
    fn entity_struct(&mut self, entity: &str, which: EntityStruct) -> TypeId {
        if let Some(id) = self.entity_ids.get(&(entity.to_owned(), which)) {
            return *id;
        }
        let name = match which {
            EntityStruct::Read => naming::entity_type(entity),
            EntityStruct::Create => naming::create_type(entity),
            EntityStruct::Patch => naming::patch_type(entity),
        };
        let module = self.entity_module(entity);
        let id = self.types.push(name, module, Definition::Entity(which));
        self.entity_ids.insert((entity.to_owned(), which), id);
        id
    }

    /// Whether `ty` is a string enum defined in the module of `sink`.
    fn local_enum(&self, sink: &Sink, ty: &Type) -> bool {
        match ty {
            Type::Named(id) => self.types.get(*id).module == sink.module && self.types.is_enum(*id),
            _ => false,
        }
    }

    /// The module of a generated entity.
    fn entity_module(&self, entity: &str) -> String {
        self.entity_modules
            .get(entity)
            .cloned()
            .unwrap_or_else(|| naming::module_name(entity))
    }

    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.insert(Warning {
            origin: None,
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    fn run(mut self) -> Result<Api, Error> {
        let (generation, base_path) = (self.generation, self.base_path.clone());
        let info = self.spec.root.get("info");
        let text = |k: &str| {
            info.and_then(|i| i.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let (title, version) = (text("title"), text("version"));

        // Group operations by module tag.
        let spec = self.spec;
        let mut by_tag: BTreeMap<String, Vec<(String, Method, &'a Value)>> = BTreeMap::new();
        for (path, item) in spec.paths() {
            let Some(item) = item.as_object() else {
                return Err(self.spec.error(
                    &format!("/paths/{}", escape_pointer_token(path)),
                    "path item is not an object",
                ));
            };
            for (key, op) in item {
                let Some(method) = Method::from_key(key) else {
                    continue;
                };
                let tag = op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or("Global")
                    .to_owned();
                // Routes of entities left out by the filter are left out with them.
                if self.all_entities.contains(&tag) && !self.entities.contains(&tag) {
                    continue;
                }
                by_tag
                    .entry(tag)
                    .or_default()
                    .push((path.clone(), method, op));
            }
        }

        // Module names first: references between modules need them. Both lists are sorted.
        let entity_list: Vec<&str> = self.entities.iter().map(String::as_str).collect();
        let group_list: Vec<&str> = by_tag
            .keys()
            .map(String::as_str)
            .filter(|t| !self.entities.contains(*t))
            .collect();
        let (entity_modules, group_modules) = naming::module_names(&entity_list, &group_list);
        self.entity_modules = entity_list
            .iter()
            .map(|e| (*e).to_owned())
            .zip(entity_modules)
            .collect();
        self.group_modules = group_list
            .iter()
            .map(|g| (*g).to_owned())
            .zip(group_modules)
            .collect();

        // The typed ids, all at once in entity order (names do not depend on what refers to them).
        for (entity, (marker, alias)) in entity_list.iter().zip(naming::id_type_names(&entity_list))
        {
            let def = Definition::Id {
                entity: (*entity).to_owned(),
                marker,
            };
            let id = self.types.push(alias, naming::IDS_MODULE.to_owned(), def);
            self.id_types.insert((*entity).to_owned(), id);
        }

        let mut entities = Vec::new();
        let mut groups = Vec::new();
        for (tag, ops) in &by_tag {
            if self.entities.contains(tag) {
                entities.push(self.entity(tag, ops)?);
            } else {
                // A group whose every route the runtime serves (2.2 `MassActions`: the bulk
                // upsert) has nothing left to generate.
                let group = self.group(tag, ops)?;
                if !group.operations.is_empty() {
                    groups.push(group);
                }
            }
        }
        // Entities whose routes carry another tag still get their module.
        for name in self.entities.clone() {
            if !by_tag.contains_key(&name) {
                entities.push(self.entity(&name, &[])?);
            }
        }
        entities.sort_by(|a, b| a.name.cmp(&b.name));
        let shared_types = self.shared_types()?;
        Ok(Api {
            title,
            version,
            generation,
            base_path,
            entities,
            groups,
            id_types: self.id_types.values().copied().collect(),
            types: self.types,
            shared_types,
            shared_params: Vec::new(),
            warnings: self.warnings.into_iter().collect(),
        })
    }

    fn doc_of(op: &Value) -> Option<String> {
        let summary = op
            .get("summary")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let description = op
            .get("description")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match (summary, description) {
            (Some(s), Some(d)) if s == d => Some(s.to_owned()),
            (Some(s), Some(d)) => Some(format!("{s}\n\n{d}")),
            (Some(s), None) => Some(s.to_owned()),
            (None, Some(d)) => Some(d.to_owned()),
            (None, None) => None,
        }
    }

    fn op_doc(op: &Value, method: Method, path: &str) -> OpDoc {
        OpDoc {
            text: Self::doc_of(op),
            route: format!("{} {path}", method.as_str()),
        }
    }
}

/// A free-form JSON object or value (what the spec gives for maps it does not describe).
fn ty_is_free_object(t: &Type) -> bool {
    match t {
        Type::Json => true,
        Type::Map(v) => **v == Type::Json,
        _ => false,
    }
}

/// A readable description of where in the spec an unnamed schema sits, for doc comments of the
/// types made from it: "Request body of `POST /Product/{id}/addAttributes`, property `items`."
pub fn describe_pointer(pointer: &str) -> String {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut what = match tokens.as_slice() {
        [p, path, method, rest @ ..] if p == "paths" => {
            let route = format!("`{} {path}`", method.to_uppercase());
            match rest.first().map(String::as_str) {
                Some("requestBody") => format!("Request body of {route}"),
                Some("responses") => format!("Answer of {route}"),
                Some("parameters") => format!("Values of a parameter of {route}"),
                _ => format!("Part of {route}"),
            }
        }
        [c, s, name, ..] if c == "components" && s == "schemas" => {
            format!("Part of the `{name}` schema")
        }
        _ => format!("The schema at `{pointer}`"),
    };
    let props: Vec<&str> = tokens
        .windows(2)
        .filter(|w| w[0] == "properties")
        .map(|w| w[1].as_str())
        .collect();
    if !props.is_empty() {
        what.push_str(&format!(", property `{}`", props.join(".")));
    }
    if tokens.last().is_some_and(|t| t == "items") {
        what.push_str(", one item");
    }
    what.push('.');
    what
}

/// Sets [`TypeEntry::has_default`] of every type: a fixed point, since a struct has a `Default`
/// only when every field it must fill has one.
fn compute_defaults(api: &mut Api) {
    loop {
        let mut changed = false;
        let ids: Vec<TypeId> = api.types.iter().map(|(id, _)| id).collect();
        for id in ids {
            let entry = api.types.get(id);
            let default = match &entry.def {
                Definition::Def(TypeDef::Enum(e)) => e.default.is_some(),
                Definition::Def(TypeDef::Struct(s)) => struct_has_default(&api.types, s),
                Definition::Entity(EntityStruct::Create) => {
                    let fields = api.struct_fields(id).unwrap_or_default();
                    fields.iter().all(|f| !f.required || f.nullable)
                }
                Definition::Id { .. } => false,
                Definition::Entity(_) | Definition::Pending => true,
            };
            if default != entry.has_default {
                api.types.get_mut(id).has_default = default;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Whether a struct can derive `Default` given what its fields' types have. A create struct
/// never has a `Default` that would fill a required field (`""` for a required name is a 400
/// from the server): it has a constructor taking the required fields instead.
pub(crate) fn struct_has_default(types: &TypeSpace, s: &Struct) -> bool {
    s.fields.iter().all(|f| match s.style {
        StructStyle::Read | StructStyle::Patch => true,
        StructStyle::Create => !f.required || f.nullable,
        StructStyle::Plain => !f.required || f.nullable || types.has_default(&f.ty),
    })
}
