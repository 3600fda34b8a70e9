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
    crate::boxing::box_cycles(&mut api);
    crate::share::share_repeated(&mut api);
    Ok(api)
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
                pointer: "/servers".into(),
                message: format!(
                    "base path {other:?} is not AtroCore's `/api/v1` (2.2) or `/api` (2.3); using {path:?} with the {generation:?} token route"
                ),
            };
            (generation, path, Some(warning))
        }
    }
}

/// Where a named inline type is being created: module sink for types.
struct Sink {
    namer: Namer,
    types: Vec<TypeDef>,
    /// Enum values → type name: an enum repeated on many routes of a module (the `language`
    /// header) is one type.
    seen: BTreeMap<String, String>,
}

impl Sink {
    fn new(reserved: &[&str]) -> Sink {
        Sink {
            namer: Namer::with_reserved(reserved.iter().copied()),
            types: Vec::new(),
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
    /// Component schemas (non-entity) referenced so far → their type name in `types`.
    shared_wanted: BTreeMap<String, String>,
    shared_namer: Namer,
    tag_docs: BTreeMap<String, String>,
    metadata: Option<&'a Value>,
    /// 2.3 validates request bodies against the spec before defaults apply; 2.2 does not.
    validates_bodies: bool,
    /// Module of each generated entity and route group (by entity name or tag), collisions
    /// resolved ([`naming::module_names`]).
    entity_modules: BTreeMap<String, String>,
    group_modules: BTreeMap<String, String>,
}

impl<'a> Lowerer<'a> {
    fn new(spec: &'a Spec, settings: &'a Settings, entities: BTreeSet<String>) -> Lowerer<'a> {
        let all: Vec<String> = entity_names(spec);
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
            warnings: BTreeSet::new(),
            shared_wanted: BTreeMap::new(),
            shared_namer: Namer::default(),
            tag_docs,
            metadata: settings.metadata.as_ref(),
            validates_bodies: generation(spec).0 == Generation::V2_3,
            entity_modules: BTreeMap::new(),
            group_modules: BTreeMap::new(),
        }
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

    /// The module of a generated entity.
    fn entity_module(&self, entity: &str) -> String {
        self.entity_modules
            .get(entity)
            .cloned()
            .unwrap_or_else(|| naming::module_name(entity))
    }

    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.insert(Warning {
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    fn run(mut self) -> Result<Api, Error> {
        let (generation, base_path, warning) = generation(self.spec);
        if let Some(w) = warning {
            self.warnings.insert(w);
        }
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
        let mut by_tag: BTreeMap<String, Vec<(String, String, &'a Value)>> = BTreeMap::new();
        for (path, item) in spec.paths() {
            let Some(item) = item.as_object() else {
                return Err(self.spec.error(
                    &format!("/paths/{}", escape_pointer_token(path)),
                    "path item is not an object",
                ));
            };
            for (method, op) in item {
                if Method::from_key(method).is_none() {
                    continue;
                }
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
                    .push((path.clone(), method.clone(), op));
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

        let mut entities = Vec::new();
        let mut groups = Vec::new();
        for (tag, ops) in &by_tag {
            if self.entities.contains(tag) {
                entities.push(self.entity(tag, ops)?);
            } else {
                groups.push(self.group(tag, ops)?);
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

    fn op_doc(op: &Value, method: &str, path: &str) -> OpDoc {
        OpDoc {
            text: Self::doc_of(op),
            route: format!("{} {path}", method.to_uppercase()),
        }
    }

    fn entity(&mut self, name: &str, ops: &[(String, String, &'a Value)]) -> Result<Entity, Error> {
        let module = self.entity_module(name);
        let type_name = naming::entity_type(name);
        let create_name = naming::create_type(name);
        let patch_name = naming::patch_type(name);
        let field_enum = naming::field_enum(name);
        let api_type = naming::api_type(name);
        let mut sink = Sink::new(&[
            &type_name,
            &create_name,
            &patch_name,
            &field_enum,
            &api_type,
        ]);

        // The read struct.
        let pointer = format!("/components/schemas/{}", escape_pointer_token(name));
        let spec = self.spec;
        let Some(schema) = spec.schemas().get(name) else {
            return Err(spec.error(&pointer, "no such component schema"));
        };
        let fields = self.fields_of(
            schema,
            &pointer,
            &type_name,
            Some(name),
            &mut sink,
            StructStyle::Read,
        )?;

        let (collection, item) = (format!("/{name}"), format!("/{name}/{{id}}"));
        let mut standard = StandardOps::default();
        let mut create = None;
        let mut patch = None;
        let mut rest = Vec::new();
        let has_patch = ops.iter().any(|(p, m, _)| *p == item && m == "patch");
        for (path, method, op) in ops {
            let op_pointer = format!("/paths/{}/{method}", escape_pointer_token(path));
            let doc = Self::op_doc(op, method, path);
            match (path == &collection, path == &item, method.as_str()) {
                (true, _, "get") => standard.list = Some(doc),
                (true, _, "post") => {
                    let body = self.body_object(
                        op,
                        &op_pointer,
                        &create_name,
                        name,
                        &mut sink,
                        StructStyle::Create,
                    )?;
                    create = Some(Struct {
                        name: create_name.clone(),
                        doc: Some(format!(
                            "The fields of a new `{name}` record (`POST /{name}`)."
                        )),
                        fields: body,
                        style: StructStyle::Create,
                    });
                    standard.create = Some(doc);
                }
                (_, true, "get") => standard.read = Some(doc),
                (_, true, "delete") => standard.delete = Some(doc),
                (_, true, m @ ("put" | "patch")) if m == "patch" || !has_patch => {
                    let body = self.body_object(
                        op,
                        &op_pointer,
                        &patch_name,
                        name,
                        &mut sink,
                        StructStyle::Patch,
                    )?;
                    patch = Some(Struct {
                        name: patch_name.clone(),
                        doc: Some(format!(
                            "Changes to a `{name}` record (`{} /{name}/{{id}}`): fields left `Unchanged` are not sent.",
                            m.to_uppercase()
                        )),
                        fields: body,
                        style: StructStyle::Patch,
                    });
                    let method = if m == "patch" {
                        Method::Patch
                    } else {
                        Method::Put
                    };
                    standard.update = Some((method, doc));
                }
                _ => rest.push((path.clone(), method.clone(), *op)),
            }
        }
        let mut namer = Namer::with_reserved([
            "list",
            "read",
            "create",
            "update",
            "delete",
            "upsert",
            "new",
            "client",
            "upload_bytes",
            "upload_path",
            "upload_reader",
            "upload_url",
            "download",
            "share",
        ]);
        let has_attributes = self
            .spec
            .paths()
            .get(&format!("/{name}/{{id}}/attributeValues"))
            .and_then(|p| p.get("get"))
            .is_some();
        if has_attributes {
            namer.claim("attributes", "_");
        }
        let mut operations = Vec::new();
        for (path, method, op) in rest {
            operations.push(self.operation(name, &path, &method, op, &mut namer, &mut sink)?);
        }
        let link_lists = self.link_lists(name, &mut namer);
        let flat_attributes = fields.iter().any(|f| {
            f.wire == "attributesDefs" && f.ty == Type::Json && f.ident == "attributes_defs"
        });
        // The fields AtroCore's bulk upsert looks records up by (`unique: true` in the instance
        // metadata; `app/Atro/Services/MassActions.php::upsert`).
        let unique_fields = fields
            .iter()
            .filter(|f| {
                self.meta_field(name, &f.wire).is_some_and(|m| {
                    m.link.is_none() && m.def.get("unique").and_then(Value::as_bool) == Some(true)
                })
            })
            .map(|f| f.wire.clone())
            .collect();
        Ok(Entity {
            name: name.to_owned(),
            module,
            doc: self.tag_docs.get(name).cloned(),
            unique_fields,
            // AtroCore keeps file contents on `File` records (`POST /File`, chunks; 2.2 serves
            // `POST /File` without documenting it).
            holds_files: name == "File",
            link_lists,
            has_attributes,
            flat_attributes,
            type_name,
            field_enum,
            api_type,
            fields,
            create,
            patch,
            standard,
            operations,
            shared_uses: Vec::new(),
            types: sink.types,
        })
    }

    fn group(&mut self, tag: &str, ops: &[(String, String, &'a Value)]) -> Result<Group, Error> {
        let module = self
            .group_modules
            .get(tag)
            .cloned()
            .unwrap_or_else(|| naming::module_name(tag));
        let api_type = naming::api_type(tag);
        let mut sink = Sink::new(&[&api_type]);
        let mut namer = Namer::with_reserved(["new", "client"]);
        let mut operations = Vec::new();
        for (path, method, op) in ops {
            operations.push(self.operation(tag, path, method, op, &mut namer, &mut sink)?);
        }
        Ok(Group {
            tag: tag.to_owned(),
            module,
            api_type,
            doc: self.tag_docs.get(tag).cloned(),
            operations,
            shared_uses: Vec::new(),
            types: sink.types,
        })
    }

    /// Fields of the object schema of an operation's JSON body (for create/patch structs).
    fn body_object(
        &mut self,
        op: &'a Value,
        op_pointer: &str,
        type_name: &str,
        entity: &str,
        sink: &mut Sink,
        style: StructStyle,
    ) -> Result<Vec<Field>, Error> {
        let Some((schema, pointer)) = self.body_schema(op, op_pointer)? else {
            return Ok(Vec::new());
        };
        self.fields_of(schema, &pointer, type_name, Some(entity), sink, style)
    }

    fn body_schema(
        &mut self,
        op: &'a Value,
        op_pointer: &str,
    ) -> Result<Option<(&'a Value, String)>, Error> {
        let Some(content) = op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
        else {
            return Ok(None);
        };
        let (ct, media) = match content.get_key_value("application/json") {
            Some(kv) => kv,
            None => match content.iter().next() {
                Some(kv) => kv,
                None => return Ok(None),
            },
        };
        match media.get("schema") {
            Some(schema) => Ok(Some((
                schema,
                format!(
                    "{op_pointer}/requestBody/content/{}/schema",
                    escape_pointer_token(ct)
                ),
            ))),
            None => Ok(None),
        }
    }

    /// Collect properties and required names of an object schema, resolving `$ref` and merging
    /// `allOf` parts.
    fn collect_object(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        props: &mut Vec<(String, &'a Value, String)>,
        required: &mut BTreeSet<String>,
    ) -> Result<(), Error> {
        let (schema, pointer) = self.spec.resolve(schema, pointer)?;
        self.enter(Nesting::AllOf, schema, &pointer)?;
        let collected = self.collect_object_of(schema, &pointer, props, required);
        self.leave(Nesting::AllOf);
        collected
    }

    /// [`Lowerer::collect_object`] of a resolved schema.
    fn collect_object_of(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        props: &mut Vec<(String, &'a Value, String)>,
        required: &mut BTreeSet<String>,
    ) -> Result<(), Error> {
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for (i, part) in parts.iter().enumerate() {
                self.collect_object(part, &format!("{pointer}/allOf/{i}"), props, required)?;
            }
        }
        if let Some(p) = schema.get("properties") {
            let Some(p) = p.as_object() else {
                if p.as_array().is_some_and(Vec::is_empty) {
                    self.warn(
                        &format!("{pointer}/properties"),
                        "`properties: []` (PHP's empty object) read as `{}`",
                    );
                    return Ok(());
                }
                return Err(self.spec.error(
                    &format!("{pointer}/properties"),
                    "`properties` is not an object",
                ));
            };
            for (name, prop) in p {
                let at = format!("{pointer}/properties/{}", escape_pointer_token(name));
                if let Some(existing) = props.iter_mut().find(|(n, _, _)| n == name) {
                    existing.1 = prop;
                    existing.2 = at;
                } else {
                    props.push((name.clone(), prop, at));
                }
            }
        }
        if let Some(r) = schema.get("required").and_then(Value::as_array) {
            required.extend(r.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        Ok(())
    }

    fn object_fields(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        type_name: &str,
        sink: &mut Sink,
        style: StructStyle,
    ) -> Result<Vec<Field>, Error> {
        self.fields_of(schema, pointer, type_name, None, sink, style)
    }

    /// Fields of an object schema; `entity` (the wire name) enables instance metadata.
    fn fields_of(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        type_name: &str,
        entity: Option<&str>,
        sink: &mut Sink,
        style: StructStyle,
    ) -> Result<Vec<Field>, Error> {
        let mut props = Vec::new();
        let mut required = BTreeSet::new();
        self.collect_object(schema, pointer, &mut props, &mut required)?;
        let wire: Vec<&str> = props.iter().map(|(n, _, _)| n.as_str()).collect();
        let idents = naming::field_names(wire.iter().copied(), &["extra"]);
        let variants = naming::variant_names(wire.iter().copied(), &[]);
        let mut fields = Vec::new();
        for (i, (name, prop, at)) in props.iter().enumerate() {
            let (resolved, _) = self.spec.resolve(prop, at)?;
            // A flag holds when the reference or its target sets it (`$ref` with siblings).
            let flag = |key: &str| {
                [prop, resolved]
                    .iter()
                    .any(|v| v.get(key).and_then(Value::as_bool) == Some(true))
            };
            let read_only = flag("readOnly");
            if read_only && matches!(style, StructStyle::Create | StructStyle::Patch) {
                continue;
            }
            let nullable = flag("nullable");
            let meta = entity.and_then(|e| self.meta_field(e, name));
            // Create and patch bodies carry only what a client may set: what the instance's
            // metadata marks as computed by the server, and the `*Name(s)` companions of links
            // that AtroCore fills on read, stay in the read struct.
            let writes = matches!(style, StructStyle::Create | StructStyle::Patch);
            // An update names its record in the path; an `id` in its body changes nothing.
            if style == StructStyle::Patch && name == "id" {
                continue;
            }
            if writes
                && (meta.as_ref().is_some_and(MetaField::server_computed)
                    || entity.is_some_and(|e| self.is_link_name_companion(e, name)))
            {
                continue;
            }
            let spec_ty = if name == "_meta" && style == StructStyle::Read {
                Type::Meta
            } else {
                let hint = naming::nested_type(entity.map_or(type_name, |e| e), name);
                self.ty(prop, at, &hint, sink)?
            };
            let ty = match &meta {
                Some(m) => self.meta_type(m, spec_ty, entity.unwrap_or(type_name), name, sink),
                // `teamsNames`: the names of the linked records by id (the spec says `object`).
                None if ty_is_free_object(&spec_ty)
                    && name.ends_with("Names")
                    && entity.is_some_and(|e| self.is_link_name_companion(e, name)) =>
                {
                    Type::LinkNames
                }
                None => spec_ty,
            };
            let mut doc = prop
                .get("description")
                .or_else(|| resolved.get("description"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            if let Some(note) = meta.as_ref().and_then(MetaField::note) {
                doc = Some(match doc {
                    Some(d) => format!("{d}\n\n{note}"),
                    None => note,
                });
            }
            let kind = match &meta {
                // `brandId` compares ids (equals, in); `teamsIds` is no column at all: the
                // link conditions go on the link's own filter (`Field::link`).
                Some(m) if m.link.is_some() && m.field_type == "link" => FieldKind::Text,
                Some(m) if m.link.is_some() => FieldKind::Any,
                Some(m) => m.kind().unwrap_or_else(|| Self::spec_kind(&ty)),
                None => Self::spec_kind(&ty),
            };
            let link = meta.as_ref().and_then(|m| m.link.clone());
            let spec_required = required.contains(name);
            let required = match (style, &meta) {
                // 2.2 fills a missing field with its metadata default before it checks
                // `required`, so such a field is optional to a client there. 2.3 checks the body
                // against the spec first (`app/Atro/Core/Middleware/ApiValidationMiddleware.php`):
                // the spec's `required` holds as written.
                (StructStyle::Create, Some(m)) if !self.validates_bodies => {
                    spec_required && !m.has_server_default()
                }
                // A field the instance requires can be changed but never cleared.
                (StructStyle::Patch, Some(m)) => spec_required || m.required(),
                _ => spec_required,
            };
            fields.push(Field {
                wire: name.clone(),
                ident: idents[i].clone(),
                variant: variants[i].clone(),
                kind,
                link,
                ty,
                required,
                nullable,
                read_only,
                doc,
                boxed: false,
            });
        }
        if matches!(style, StructStyle::Create | StructStyle::Patch) {
            self.add_find_or_create_links(&mut fields);
        }
        Ok(fields)
    }

    /// For every link field (`brandId`, `teamsIds`, known from instance metadata) of a create or
    /// patch body, add the find-or-create form of the link (`brand`, `teams`): an id or simple
    /// field values per record, resolved by the server (first level only).
    fn add_find_or_create_links(&self, fields: &mut Vec<Field>) {
        let wires: BTreeSet<String> = fields.iter().map(|f| f.wire.clone()).collect();
        let mut namer =
            Namer::with_reserved(fields.iter().map(|f| f.ident.as_str()).chain(["extra"]));
        let mut added = Vec::new();
        for f in fields.iter() {
            let Some(link) = &f.link else { continue };
            if wires.contains(link) {
                continue;
            }
            let many = matches!(f.ty, Type::Array(_));
            let ty = if many {
                Type::Array(Box::new(Type::LinkTo))
            } else {
                Type::LinkTo
            };
            let doc = format!(
                "Find-or-create form of `{}`: {} by id or by simple field values; the server links the \
                 record it finds, creating it when none matches (one level deep).",
                f.wire,
                if many {
                    "the linked records"
                } else {
                    "the linked record"
                }
            );
            added.push(Field {
                wire: link.clone(),
                ident: namer.claim_snake(link),
                variant: naming::camel(link),
                ty,
                required: false,
                nullable: false,
                read_only: false,
                kind: FieldKind::Any,
                doc: Some(doc),
                link: None,
                boxed: false,
            });
        }
        fields.extend(added);
    }

    /// The filter kind a spec type suggests (without metadata).
    fn spec_kind(ty: &Type) -> FieldKind {
        match ty {
            Type::String | Type::Named { .. } => FieldKind::Text,
            Type::Integer | Type::Number => FieldKind::Number,
            Type::Boolean => FieldKind::Bool,
            Type::Array(_) => FieldKind::Array,
            Type::Date => FieldKind::Date,
            Type::DateTime => FieldKind::DateTime,
            _ => FieldKind::Any,
        }
    }

    /// One list method per `hasMany` link of `entity` in the instance metadata whose target is a
    /// generated entity, named after the link (after the routes' names, so those stay stable).
    fn link_lists(&self, entity: &str, namer: &mut Namer) -> Vec<LinkList> {
        let Some(links) = self
            .metadata
            .and_then(|m| {
                m.pointer(&format!(
                    "/entityDefs/{}/links",
                    escape_pointer_token(entity)
                ))
            })
            .and_then(Value::as_object)
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (link, def) in links {
            if def.get("type").and_then(Value::as_str) != Some("hasMany") {
                continue;
            }
            let Some(target) = def.get("entity").and_then(Value::as_str) else {
                continue;
            };
            let Some(module) = self.entity_modules.get(target) else {
                continue;
            };
            let method = namer.claim_snake(link);
            let link_method = namer.claim_snake(&format!("link_{link}"));
            let unlink_method = namer.claim_snake(&format!("unlink_{link}"));
            out.push(LinkList {
                method,
                link_method,
                unlink_method,
                link: link.clone(),
                target: target.to_owned(),
                target_module: module.clone(),
                target_type: naming::entity_type(target),
            });
        }
        out
    }

    /// What the instance metadata says about the spec field `wire` of `entity`: the field
    /// itself, or the link behind `brandId` / `teamsIds` (the spec flattens links to ids).
    fn meta_field(&self, entity: &str, wire: &str) -> Option<MetaField> {
        let fields = self.metadata?.pointer(&format!(
            "/entityDefs/{}/fields",
            escape_pointer_token(entity)
        ))?;
        let def = |name: &str| fields.get(name).filter(|d| d.is_object());
        let links = self.metadata?.pointer(&format!(
            "/entityDefs/{}/links",
            escape_pointer_token(entity)
        ));
        let target = |link: &str| {
            links
                .and_then(|l| l.get(link))
                .and_then(|l| l.get("entity"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if let Some(d) = def(wire) {
            let field_type = d
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let link_target = matches!(field_type.as_str(), "link" | "linkMultiple")
                .then(|| target(wire))
                .flatten();
            return Some(MetaField {
                def: d.clone(),
                field_type,
                link: None,
                link_target,
            });
        }
        for (suffix, expected) in [("Ids", "linkMultiple"), ("Id", "link")] {
            if let Some(link) = wire.strip_suffix(suffix) {
                if let Some(d) =
                    def(link).filter(|d| d.get("type").and_then(Value::as_str) == Some(expected))
                {
                    return Some(MetaField {
                        def: d.clone(),
                        field_type: expected.to_owned(),
                        link: Some(link.to_owned()),
                        link_target: target(link),
                    });
                }
            }
        }
        None
    }

    /// `brandName`, `teamsNames`, `imageName`: the names AtroCore adds on read next to a link's
    /// ids (no field of their own in the metadata).
    fn is_link_name_companion(&self, entity: &str, wire: &str) -> bool {
        let Some(fields) = self.metadata.and_then(|m| {
            m.pointer(&format!(
                "/entityDefs/{}/fields",
                escape_pointer_token(entity)
            ))
        }) else {
            return false;
        };
        if fields.get(wire).is_some() {
            return false;
        }
        let kind_of = |name: &str| {
            fields
                .get(name)
                .and_then(|d| d.get("type"))
                .and_then(Value::as_str)
        };
        match (wire.strip_suffix("Names"), wire.strip_suffix("Name")) {
            (Some(link), _) => kind_of(link) == Some("linkMultiple"),
            (None, Some(link)) => {
                matches!(kind_of(link), Some("link" | "file" | "image" | "asset"))
            }
            _ => false,
        }
    }

    /// The Rust type of a field, refined by metadata: dates and date-times become the
    /// runtime's date types, enums with options a generated enum (the spec says `string`).
    fn meta_type(
        &mut self,
        m: &MetaField,
        spec_ty: Type,
        entity: &str,
        wire: &str,
        sink: &mut Sink,
    ) -> Type {
        if spec_ty != Type::String || m.link.is_some() {
            return spec_ty;
        }
        match m.field_type.as_str() {
            "date" => Type::Date,
            "datetime" => Type::DateTime,
            "enum" => match m.def.get("options").and_then(Value::as_array) {
                Some(options) if !options.is_empty() && options.iter().all(Value::is_string) => {
                    let values: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
                    let hint = naming::nested_type(entity, wire);
                    let default = m.def.get("default").and_then(Value::as_str);
                    let doc = format!(
                        "The options of `{entity}.{wire}` on the instance (from its metadata)."
                    );
                    self.inline_enum(&values, Some(doc), default, &hint, sink)
                }
                _ => spec_ty,
            },
            _ => spec_ty,
        }
    }

    /// The type of a schema; inline objects and enums become named types in `sink` under `hint`.
    fn ty(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        hint: &str,
        sink: &mut Sink,
    ) -> Result<Type, Error> {
        if let Some(name) = Spec::ref_name(schema) {
            // Validate the reference.
            self.spec.resolve(schema, pointer)?;
            return Ok(self.named_ref(&name));
        }
        let (schema, pointer) = self.spec.resolve(schema, pointer)?;
        self.enter(Nesting::Type, schema, &pointer)?;
        let ty = self.ty_of(schema, &pointer, hint, sink);
        self.leave(Nesting::Type);
        ty
    }

    /// [`Lowerer::ty`] of a schema that is not a reference to a component.
    fn ty_of(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        hint: &str,
        sink: &mut Sink,
    ) -> Result<Type, Error> {
        let Some(obj) = schema.as_object() else {
            if schema.as_array().is_some_and(Vec::is_empty) {
                self.warn(
                    pointer,
                    "schema `[]` (PHP's empty object) read as `{}`: any JSON value",
                );
                return Ok(Type::Json);
            }
            return Err(self.spec.error(pointer, "schema is not an object"));
        };
        if obj.contains_key("anyOf") || obj.contains_key("oneOf") {
            return Ok(Type::Json);
        }
        if obj.contains_key("allOf") {
            return self.inline_struct(schema, pointer, hint, sink);
        }
        let ty = match obj.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if obj.contains_key("properties") => "object",
            _ => return Ok(Type::Json),
        };
        Ok(match ty {
            "string" => match obj.get("enum").and_then(Value::as_array) {
                Some(values) if !values.is_empty() && values.iter().all(Value::is_string) => {
                    let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    let doc = obj
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| describe_pointer(pointer));
                    self.inline_enum(&values, Some(doc), None, hint, sink)
                }
                _ => Type::String,
            },
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            "array" => match obj.get("items") {
                None => {
                    self.warn(
                        pointer,
                        "array without `items`: items read as any JSON value",
                    );
                    Type::Array(Box::new(Type::Json))
                }
                Some(Value::Array(a)) if a.is_empty() => {
                    self.warn(
                        &format!("{pointer}/items"),
                        "`items: []` is invalid OpenAPI (PHP's encoding of `{}`): items read as any JSON value",
                    );
                    Type::Array(Box::new(Type::Json))
                }
                Some(items) => {
                    let item_hint = format!("{hint}Item");
                    Type::Array(Box::new(self.ty(
                        items,
                        &format!("{pointer}/items"),
                        &item_hint,
                        sink,
                    )?))
                }
            },
            "object" => {
                let has_props = obj
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
                if has_props {
                    self.inline_struct(schema, pointer, hint, sink)?
                } else {
                    match obj.get("additionalProperties") {
                        Some(ap @ Value::Object(m)) if !m.is_empty() => {
                            let value_hint = format!("{hint}Value");
                            Type::Map(Box::new(self.ty(
                                ap,
                                &format!("{pointer}/additionalProperties"),
                                &value_hint,
                                sink,
                            )?))
                        }
                        _ => Type::Json,
                    }
                }
            }
            "null" => Type::Json,
            other => {
                self.warn(
                    pointer,
                    format!("unknown type {other:?}: read as any JSON value"),
                );
                Type::Json
            }
        })
    }

    fn named_ref(&mut self, name: &str) -> Type {
        let entity_of = |suffix: &str| {
            name.strip_suffix(suffix)
                .filter(|e| self.all_entities.contains(*e))
        };
        if self.all_entities.contains(name) {
            if !self.entities.contains(name) {
                return Type::Json;
            }
            return Type::Named {
                module: Some(self.entity_module(name)),
                name: naming::entity_type(name),
            };
        }
        for (suffix, make) in [
            ("Post", naming::create_type as fn(&str) -> String),
            ("Patch", naming::patch_type),
        ] {
            if let Some(entity) = entity_of(suffix) {
                if !self.entities.contains(entity) {
                    return Type::Json;
                }
                return Type::Named {
                    module: Some(self.entity_module(entity)),
                    name: make(entity),
                };
            }
        }
        let type_name = match self.shared_wanted.get(name) {
            Some(t) => t.clone(),
            None => {
                let t = self.shared_namer.claim_camel(name);
                self.shared_wanted.insert(name.to_owned(), t.clone());
                t
            }
        };
        Type::Named {
            module: Some(TYPES_MODULE.to_owned()),
            name: type_name,
        }
    }

    fn inline_enum(
        &mut self,
        values: &[&str],
        doc: Option<String>,
        default: Option<&str>,
        hint: &str,
        sink: &mut Sink,
    ) -> Type {
        let key = format!("enum:{}:{}", default.unwrap_or(""), values.join("\u{0}"));
        if let Some(name) = sink.seen.get(&key) {
            return Type::Named {
                module: None,
                name: name.clone(),
            };
        }
        let name = sink.namer.claim_camel(hint);
        sink.seen.insert(key, name.clone());
        let variants = naming::variant_names(values.iter().copied(), &["Other"]);
        let default = default
            .and_then(|d| values.iter().position(|v| *v == d))
            .map(|i| variants[i].clone());
        sink.types.push(TypeDef::Enum(Enum {
            name: name.clone(),
            doc,
            variants: variants
                .into_iter()
                .zip(values.iter().map(|v| (*v).to_owned()))
                .collect(),
            default,
        }));
        Type::Named { module: None, name }
    }

    /// An inline object becomes a struct named after where it is used. Identical objects used
    /// in different places are not merged: a shared name like `DeleteAttributeValuesBody` on
    /// `add_attributes` would mislead, and a spec change in one place must not rename another.
    fn inline_struct(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        hint: &str,
        sink: &mut Sink,
    ) -> Result<Type, Error> {
        let name = sink.namer.claim_camel(hint);
        // Reserve the slot now so nested types come after their parent in output order.
        let slot = sink.types.len();
        sink.types.push(TypeDef::Struct(Struct {
            name: name.clone(),
            doc: None,
            fields: Vec::new(),
            style: StructStyle::Plain,
        }));
        let fields = self.object_fields(schema, pointer, &name, sink, StructStyle::Plain)?;
        let doc = schema
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| Some(describe_pointer(pointer)));
        sink.types[slot] = TypeDef::Struct(Struct {
            name: name.clone(),
            doc,
            fields,
            style: StructStyle::Plain,
        });
        Ok(Type::Named { module: None, name })
    }

    fn operation(
        &mut self,
        tag: &str,
        path: &str,
        method: &str,
        op: &'a Value,
        namer: &mut Namer,
        sink: &mut Sink,
    ) -> Result<Operation, Error> {
        let op_pointer = format!("/paths/{}/{method}", escape_pointer_token(path));
        let m = Method::from_key(method).expect("caller filters methods");
        let prefix = format!("/{tag}");
        let rest = match path.strip_prefix(&prefix) {
            Some(r) if r.is_empty() || r.starts_with('/') => r,
            _ => path,
        };
        let base = naming::operation_name(method, rest);
        let name = if namer.is_taken(&base) {
            let other = naming::operation_name_on_collision(method, rest, &base);
            namer.claim(&other, "_")
        } else {
            namer.claim(&base, "_")
        };

        // Parameters: path ones become arguments; query/header ones a params struct.
        let mut path_params: BTreeMap<String, Type> = BTreeMap::new();
        let mut params_raw = Vec::new();
        if let Some(list) = op.get("parameters").and_then(Value::as_array) {
            for (i, p) in list.iter().enumerate() {
                let at = format!("{op_pointer}/parameters/{i}");
                let (p, at) = self.spec.resolve(p, &at)?;
                let (Some(pname), Some(location)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    return Err(self.spec.error(&at, "parameter without `name` or `in`"));
                };
                match location {
                    "path" => {
                        let ty = match p.pointer("/schema/type").and_then(Value::as_str) {
                            Some("integer") => Type::Integer,
                            _ => Type::String,
                        };
                        path_params.insert(pname.to_owned(), ty);
                    }
                    "query" | "header" => {
                        params_raw.push((pname.to_owned(), location == "query", p, at))
                    }
                    _ => {} // cookies: the runtime authenticates by header
                }
            }
        }
        let parts = naming::split_path(path);
        let arg_names = naming::field_names(
            parts.iter().filter_map(|p| match p {
                naming::PathPart::Param(n) => Some(n.as_str()),
                naming::PathPart::Literal(_) => None,
            }),
            &["self", "params", "body"],
        );
        let mut arg_iter = arg_names.into_iter();
        let path_parts = parts
            .into_iter()
            .map(|p| match p {
                naming::PathPart::Literal(l) => PathSegment::Literal(l),
                naming::PathPart::Param(wire) => PathSegment::Param {
                    ident: arg_iter.next().unwrap_or_else(|| naming::snake(&wire)),
                    ty: path_params.get(&wire).cloned().unwrap_or(Type::String),
                    wire,
                },
            })
            .collect();

        let idents = naming::field_names(params_raw.iter().map(|(n, _, _, _)| n.as_str()), &[]);
        let mut params = Vec::new();
        let params_type = naming::params_type(&name);
        for (i, (wire, is_query, p, at)) in params_raw.into_iter().enumerate() {
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let doc = p
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let (ty, encoding) = if wire == "where" && is_query {
                (Type::Where, ParamEncoding::Where)
            } else if p.get("content").is_some_and(Value::is_object) {
                // A JSON-content parameter: any value, sent in bracket notation.
                (Type::Json, ParamEncoding::Json)
            } else if let Some(schema) = p.get("schema") {
                // Named after the parameter alone, so the enum a module repeats on every route
                // (the `language` header) is one `Language` type.
                let ty = self.ty(schema, &format!("{at}/schema"), &wire, sink)?;
                let enc = match ty {
                    Type::Array(_) | Type::Json | Type::Map(_) => ParamEncoding::Json,
                    Type::Named { .. } if !matches!(sink_kind(sink, &ty), Some(true)) => {
                        ParamEncoding::Json
                    }
                    _ => ParamEncoding::Plain,
                };
                (ty, enc)
            } else {
                (Type::String, ParamEncoding::Plain)
            };
            params.push(Param {
                wire,
                ident: idents[i].clone(),
                location: if is_query {
                    ParamLocation::Query
                } else {
                    ParamLocation::Header
                },
                ty,
                required,
                doc,
                encoding,
            });
        }
        let params_type = if params.is_empty() {
            None
        } else {
            Some(sink.namer.claim(&params_type, ""))
        };

        let body = match self.body_schema(op, &op_pointer)? {
            Some((schema, at)) => {
                let hint = naming::body_type(&name);
                let ty = self.ty(schema, &at, &hint, sink)?;
                Some(Body {
                    ty,
                    required: op
                        .pointer("/requestBody/required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            }
            None => None,
        };
        let mut response = self.response(op, &op_pointer, &name, sink)?;
        // Attribute writes answer `true`, or `304` when they change nothing (2.2
        // `Base::actionUpsertAttributeValues`, 2.3 `UpsertAttributeValuesHandler` and
        // `DeleteAttributeValuesHandler` let `NotModified` through).
        let attribute_write = matches!(
            (method, path.rsplit('/').next()),
            ("post", Some("upsertAttributeValues")) | ("delete", Some("attributeValues"))
        );
        if attribute_write && matches!(response, Response::Json(Type::Boolean)) {
            response = Response::WriteOutcome;
        }
        Ok(Operation {
            name,
            method: m,
            path: path.to_owned(),
            path_parts,
            doc: Self::op_doc(op, method, path),
            params,
            params_type,
            params_shared: false,
            body,
            response,
            deprecated: op
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn response(
        &mut self,
        op: &'a Value,
        op_pointer: &str,
        name: &str,
        sink: &mut Sink,
    ) -> Result<Response, Error> {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return Ok(Response::Empty);
        };
        let mut success: Vec<(&String, &Value)> = responses
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .collect();
        success.sort_by(|a, b| a.0.cmp(b.0));
        let Some((code, response)) = success.first() else {
            return Ok(Response::Empty);
        };
        let at = format!("{op_pointer}/responses/{code}");
        let (response, at) = self.spec.resolve(response, &at)?;
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Ok(Response::Empty);
        };
        let json = content
            .iter()
            .find(|(ct, _)| ct.starts_with("application/json") || ct.ends_with("+json"));
        match json {
            Some((ct, media)) => match media.get("schema") {
                Some(schema) => {
                    let hint = naming::response_type(name);
                    let ty = self.ty(
                        schema,
                        &format!("{at}/content/{}/schema", escape_pointer_token(ct)),
                        &hint,
                        sink,
                    )?;
                    Ok(Response::Json(ty))
                }
                None => Ok(Response::Json(Type::Json)),
            },
            None if content.is_empty() => Ok(Response::Empty),
            None => Ok(Response::Bytes),
        }
    }

    /// Lower the component schemas referenced from other types into the `types` module.
    fn shared_types(&mut self) -> Result<Vec<TypeDef>, Error> {
        let mut sink = Sink::new(&[]);
        let mut done: BTreeSet<String> = BTreeSet::new();
        // Types may reference more shared types: iterate to a fixed point.
        loop {
            let pending: Vec<(String, String)> = self
                .shared_wanted
                .iter()
                .filter(|(n, _)| !done.contains(*n))
                .map(|(n, t)| (n.clone(), t.clone()))
                .collect();
            if pending.is_empty() {
                break;
            }
            for (schema_name, type_name) in pending {
                done.insert(schema_name.clone());
                sink.namer.claim(&type_name, "");
                let pointer = format!("/components/schemas/{}", escape_pointer_token(&schema_name));
                let spec = self.spec;
                let Some(schema) = spec.schemas().get(&schema_name) else {
                    return Err(spec.error(&pointer, "no such component schema"));
                };
                let (resolved, _) = self.spec.resolve(schema, &pointer)?;
                let def = match resolved.get("enum").and_then(Value::as_array) {
                    Some(values) if values.iter().all(Value::is_string) && !values.is_empty() => {
                        let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                        let variants = naming::variant_names(values.iter().copied(), &["Other"]);
                        Some(TypeDef::Enum(Enum {
                            name: type_name.clone(),
                            doc: Some(
                                resolved
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .map_or_else(
                                        || format!("The spec's `{schema_name}` schema."),
                                        str::to_owned,
                                    ),
                            ),
                            variants: variants
                                .into_iter()
                                .zip(values.iter().map(|v| (*v).to_owned()))
                                .collect(),
                            default: None,
                        }))
                    }
                    _ => None,
                };
                let def = match def {
                    Some(d) => d,
                    None => {
                        let fields = self.object_fields(
                            schema,
                            &pointer,
                            &type_name,
                            &mut sink,
                            StructStyle::Plain,
                        )?;
                        TypeDef::Struct(Struct {
                            name: type_name.clone(),
                            doc: Some(
                                resolved
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .map_or_else(
                                        || format!("The spec's `{schema_name}` schema."),
                                        str::to_owned,
                                    ),
                            ),
                            fields,
                            style: StructStyle::Plain,
                        })
                    }
                };
                sink.types.push(def);
            }
        }
        let mut types = sink.types;
        types.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(types)
    }
}

/// A field's definition in the instance metadata.
struct MetaField {
    def: Value,
    /// `date`, `datetime`, `enum`, `link`, `linkMultiple`, …
    field_type: String,
    /// For `brandId`/`teamsIds`: the link's name (`brand`, `teams`).
    link: Option<String>,
    /// The entity a link points at.
    link_target: Option<String>,
}

impl MetaField {
    fn kind(&self) -> Option<FieldKind> {
        Some(match self.field_type.as_str() {
            "date" => FieldKind::Date,
            "datetime" => FieldKind::DateTime,
            "link" | "linkMultiple" => FieldKind::Link,
            "array" | "multiEnum" | "extensibleMultiEnum" => FieldKind::Array,
            "bool" => FieldKind::Bool,
            "int" | "float" => FieldKind::Number,
            "varchar" | "text" | "wysiwyg" | "enum" | "extensibleEnum" | "email" | "url"
            | "markdown" => FieldKind::Text,
            _ => return None,
        })
    }

    fn flag(&self, key: &str) -> bool {
        self.def.get(key).and_then(Value::as_bool) == Some(true)
    }

    /// Set by the server, never by a client: `readOnly` fields (`createdAt`, and the ids of
    /// read-only links such as `modifiedById`) and `notStorable` ones, computed on read
    /// (`hasChildren`, `attributesDefs`, the unit views of a measured field).
    fn server_computed(&self) -> bool {
        self.flag("readOnly") || self.flag("notStorable")
    }

    /// The field has a default the server applies to a new record that lacks it.
    fn has_server_default(&self) -> bool {
        self.link.is_none() && self.def.get("default").is_some_and(|d| !d.is_null())
    }

    /// The instance requires a value (it can be changed, never emptied).
    fn required(&self) -> bool {
        self.flag("required")
    }

    /// A doc line from what the metadata knows.
    fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(target) = &self.link_target {
            let many = self.field_type == "linkMultiple";
            parts.push(format!("Link{} to `{target}`", if many { "s" } else { "" }));
        } else if !self.field_type.is_empty() {
            parts.push(format!("AtroCore type `{}`", self.field_type));
        }
        if self.def.get("unique").and_then(Value::as_bool) == Some(true) {
            parts.push("unique".into());
        }
        if self.def.get("isMultilang").and_then(Value::as_bool) == Some(true) {
            parts.push("multilingual".into());
        }
        if let Some(measure) = self.def.get("measureId").and_then(Value::as_str) {
            parts.push(format!("measure `{measure}`"));
        }
        (!parts.is_empty()).then(|| format!("{}.", parts.join(", ")))
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

/// Whether a named type in `sink` is an enum (`Some(true)`), a struct, or unknown.
fn sink_kind(sink: &Sink, ty: &Type) -> Option<bool> {
    let Type::Named { module: None, name } = ty else {
        return None;
    };
    sink.types
        .iter()
        .find(|t| t.name() == name)
        .map(|t| matches!(t, TypeDef::Enum(_)))
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
