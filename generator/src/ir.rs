//! The intermediate representation: what the generated crate will contain, in plain owned data.
//!
//! `lower` builds it from the spec (every AtroCore quirk is absorbed there); `emit` turns it into
//! tokens and never sees the spec. All names in the IR are final Rust identifiers (from
//! `naming`) next to the wire names they stand for. All collections are in output order.

use serde::Serialize;

/// The API generation a spec belongs to (decides the token endpoint and the upsert route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Generation {
    /// 2.2.x: base `/api/v1`, token from `GET /App/user`.
    V2_2,
    /// 2.3.x: base `/api`, token from `GET /userSession`.
    V2_3,
}

/// The whole API.
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// `info.title` of the spec.
    pub title: String,
    /// `info.version` of the spec.
    pub version: String,
    /// The API generation.
    pub generation: Generation,
    /// The API base path from `servers` (`/api/v1`, `/api`).
    pub base_path: String,
    /// Entity modules, sorted by wire name.
    pub entities: Vec<Entity>,
    /// Modules for non-entity tags (`Global`, `App`, …), sorted by tag.
    pub groups: Vec<Group>,
    /// Every named type of the crate, each defined once; [`Type::Named`] refers to it by id.
    pub types: TypeSpace,
    /// The types defined in the `types` module (shared component schemas that are not entity
    /// structs, and what several modules repeat), sorted by name.
    pub shared_types: Vec<TypeId>,
    /// The typed ids of the entities, in the `ids` module, sorted by entity.
    pub id_types: Vec<TypeId>,
    /// Query and header parameter structs that several modules' routes share, defined once in
    /// `types`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_params: Vec<ParamsDef>,
    /// Problems in the spec that were worked around.
    pub warnings: Vec<Warning>,
}

/// A problem the generator absorbed, located by JSON pointer into the spec (or into the file
/// `origin` names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    /// The file the pointer is into, when not the spec (the attribute definitions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// JSON pointer into the spec.
    pub pointer: String,
    /// What was wrong and what was done.
    pub message: String,
}

/// An AtroCore entity: a component schema `E` with `/E` and `/E/{id}` routes.
#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    /// Wire name (`Product`).
    pub name: String,
    /// Module name (`product`).
    pub module: String,
    /// Doc text (tag description), if any.
    pub doc: Option<String>,
    /// Read struct name (`Product`).
    pub type_name: String,
    /// Field enum name (`ProductField`).
    pub field_enum: String,
    /// Wire names of the fields marked `unique` in the instance metadata (what a bulk upsert
    /// looks records up by besides `id`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unique_fields: Vec<String>,
    /// The entity holds AtroCore's files (`File`): its handle gets typed upload and download
    /// methods on top of the routes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub holds_files: bool,
    /// The entity has attribute values (`GET /E/{id}/attributeValues`): its handle gets
    /// `attributes(id)` (the runtime's `RecordAttributes`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_attributes: bool,
    /// The entity's fields and their AtroCore types in the instance metadata the crate was
    /// generated with (sorted by name; empty without metadata): the crate's `SCHEMA`, which
    /// `check_schema` compares with the live instance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schema_fields: Vec<(String, String)>,
    /// The instance's attributes of this entity (from `--attributes`): typed handles in the
    /// module `attr`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<TypedAttribute>,
    /// The read struct carries `attributesDefs` (a `Value`): it gets a `flat_attributes()`
    /// accessor for the `Flatten-Attributes` view.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flat_attributes: bool,
    /// One list method per to-many link of the instance metadata whose target is generated
    /// (`brand.products(id)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_lists: Vec<LinkList>,
    /// The cargo feature that compiles this module (`None`: always compiled, because route
    /// groups or shared types refer to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// The features of the other entity modules this module's types refer to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feature_deps: Vec<String>,
    /// Operations handle name (`ProductApi`).
    pub api_type: String,
    /// Fields of the read struct, in spec order.
    pub fields: Vec<Field>,
    /// The create struct, when the spec has `POST /E`.
    pub create: Option<Struct>,
    /// The patch struct, when the spec has an update route.
    pub patch: Option<Struct>,
    /// Which of the standard routes exist.
    pub standard: StandardOps,
    /// Every other route tagged with the entity.
    pub operations: Vec<Operation>,
    /// Routes tagged with the entity that the runtime serves typed (`lower/covered.rs`): not
    /// emitted as methods, listed in the handle's doc.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtime_routes: Vec<RuntimeRoute>,
    /// Shared types (in `types`) this module's routes use, re-exported here so that
    /// `module::Name` paths keep working.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_uses: Vec<String>,
    /// The arena ids of the read, create and patch structs.
    pub ids: EntityTypeIds,
    /// The key types of the links the create and patch structs hold as one field
    /// ([`LinkField`]), defined in the module's `links`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_keys: Vec<LinkField>,
    /// Named types defined in this module (used by its structs and operations), in output
    /// order.
    pub types: Vec<TypeId>,
}

/// The arena ids of an entity's own structs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EntityTypeIds {
    /// The id type (`ProductId`, in `ids`).
    pub id: TypeId,
    /// The read struct (`Product`).
    pub read: TypeId,
    /// The create struct (`ProductPost`), when the entity has one.
    pub create: Option<TypeId>,
    /// The patch struct (`ProductPatch`), when the entity has one.
    pub patch: Option<TypeId>,
}

/// A to-many link listed as records of its target entity.
#[derive(Debug, Clone, Serialize)]
pub struct LinkList {
    /// Method name (`products`): it answers the runtime's `ListRequest` over the link, which
    /// also links and unlinks (`add`, `remove`, `add_matching`, `clear`).
    pub method: String,
    /// The link's type in the module's `links` (`Products`), implementing the runtime's
    /// `ToManyLink` (and `LinkKeys` when a write struct holds the link).
    pub marker: String,
    /// Wire name of the link (`products`).
    pub link: String,
    /// Target entity's wire name (`Product`).
    pub target: String,
    /// Target entity's module (`product`).
    pub target_module: String,
    /// Target entity's read type (`Product`).
    pub target_type: String,
    /// Target entity's id type (`ProductId`).
    pub target_id: TypeId,
    /// The cargo feature of the target's module (`None`: always compiled); the method exists
    /// only with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_feature: Option<String>,
}

/// A route of the spec that the runtime serves, and what a user calls for it.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeRoute {
    /// `POST /Product/action/massDelete` style line.
    pub route: String,
    /// The runtime call that covers it, as the doc names it.
    pub by: String,
}

/// The five standard routes of an entity, with their paths' methods.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StandardOps {
    /// `GET /E`.
    pub list: Option<OpDoc>,
    /// `GET /E/{id}`.
    pub read: Option<OpDoc>,
    /// `POST /E`.
    pub create: Option<OpDoc>,
    /// `PUT` (2.2) or `PATCH` (2.3) `/E/{id}`.
    pub update: Option<(Method, OpDoc)>,
    /// `DELETE /E/{id}`.
    pub delete: Option<OpDoc>,
}

/// Documentation of one route.
#[derive(Debug, Clone, Serialize)]
pub struct OpDoc {
    /// Summary and description from the spec, joined.
    pub text: Option<String>,
    /// `GET /Product/{id}` style line.
    pub route: String,
}

/// A group of routes under a tag that is not an entity.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The tag (`Global`).
    pub tag: String,
    /// Module name (`global`).
    pub module: String,
    /// Operations handle name (`GlobalApi`).
    pub api_type: String,
    /// Doc text (tag description).
    pub doc: Option<String>,
    /// The routes.
    pub operations: Vec<Operation>,
    /// Routes of the group the runtime serves typed: not emitted, listed in the handle's doc.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtime_routes: Vec<RuntimeRoute>,
    /// Shared types (in `types`) this module's routes use, re-exported here so that
    /// `module::Name` paths keep working.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_uses: Vec<String>,
    /// Named types defined in this module (used by its operations), in output order.
    pub types: Vec<TypeId>,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// From the spec's lower-case key.
    pub fn from_key(key: &str) -> Option<Method> {
        Some(match key {
            "get" => Method::Get,
            "post" => Method::Post,
            "put" => Method::Put,
            "patch" => Method::Patch,
            "delete" => Method::Delete,
            _ => return None,
        })
    }

    /// Lower-case name, as the spec's key (`get`).
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }

    /// Upper-case name (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A route that becomes a typed method.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// Method name (`add_attributes`).
    pub name: String,
    /// HTTP method.
    pub method: Method,
    /// The path template as in the spec (`/Product/{id}/addAttributes`).
    pub path: String,
    /// The path split into literal text and parameters.
    pub path_parts: Vec<PathSegment>,
    /// Docs.
    pub doc: OpDoc,
    /// Query and header parameters (collected in a params struct when non-empty).
    pub params: Vec<Param>,
    /// Params struct name, when `params` is not empty.
    pub params_type: Option<String>,
    /// The params struct is defined once in `types` (the same parameters on every entity's
    /// route, [`Api::shared_params`]), not in this module.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub params_shared: bool,
    /// The JSON request body type, if any.
    pub body: Option<Body>,
    /// The success response.
    pub response: Response,
    /// The route is marked deprecated.
    pub deprecated: bool,
}

/// A piece of a path: literal text or a path parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PathSegment {
    /// Text sent as is.
    Literal(String),
    /// A path parameter.
    Param {
        /// Wire name.
        wire: String,
        /// Rust argument name.
        ident: String,
        /// `&str` or an integer.
        ty: Type,
    },
}

/// Where a non-path parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParamLocation {
    /// Query string.
    Query,
    /// Request header.
    Header,
}

/// A query or header parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    /// Wire name.
    pub wire: String,
    /// Field name in the params struct.
    pub ident: String,
    /// Query or header.
    pub location: ParamLocation,
    /// Value type.
    pub ty: Type,
    /// Whether the spec marks it required.
    pub required: bool,
    /// Doc text.
    pub doc: Option<String>,
    /// How the value is put on the wire.
    pub encoding: ParamEncoding,
}

/// How a parameter value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParamEncoding {
    /// `Display` of the value.
    Plain,
    /// A `where` filter in PHP bracket notation.
    Where,
    /// Any JSON value in PHP bracket notation.
    Json,
}

/// A request body.
#[derive(Debug, Clone, Serialize)]
pub struct Body {
    /// Its type.
    pub ty: Type,
    /// Whether the spec marks it required.
    pub required: bool,
}

/// The success answer of a route.
#[derive(Debug, Clone, Serialize)]
pub enum Response {
    /// A JSON body of this type.
    Json(Type),
    /// Raw bytes (binary or non-JSON content).
    Bytes,
    /// No body described.
    Empty,
    /// A write documented as answering `true` whose route lets AtroCore's `NotModified` through:
    /// `304` when nothing changed. Returned as the runtime's `WriteOutcome`.
    WriteOutcome,
    /// `DELETE /E/{id}/attributeValues`: the runtime's `RemovedAttributes`, whatever the
    /// generation answers (2.2 `{count, errors}`, 2.3 `true` or `304`).
    RemovedAttributes,
}

/// A value type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Type {
    /// `String`.
    String,
    /// `i64`.
    Integer,
    /// `f64`.
    Number,
    /// `bool`.
    Boolean,
    /// Any JSON value (free-form objects, `anyOf`, untyped arrays' items).
    Json,
    /// A JSON object with free-form keys.
    Map(Box<Type>),
    /// The names of a link's records by id (`teamsNames`): the runtime's `LinkNames`, which also
    /// reads PHP's `[]` for an empty map.
    LinkNames,
    /// `Vec<T>`.
    Array(Box<Type>),
    /// The typed `_meta` object of the runtime.
    Meta,
    /// One attribute value of a record (the runtime's `AttributeValue`, what
    /// `GET /E/{id}/attributeValues` lists and `upsertAttributeValues` takes).
    AttributeValue,
    /// The value of an attribute on the attribute routes: the runtime's `AttrValue` (null, bool,
    /// number, text, list or object, whatever the attribute's type holds).
    AttrValue,
    /// `attributesDefs` of a flattened record: the runtime's `AttributeDefs` (definitions by
    /// virtual field name; PHP's `[]` reads as none).
    AttributeDefs,
    /// A date (`Y-m-d`), the runtime's `Date` (from instance metadata).
    Date,
    /// A date and time (`Y-m-d H:i:s`), the runtime's `DateTime` (from instance metadata).
    DateTime,
    /// A `where` filter of the runtime.
    Where,
    /// A named type of the crate: its entry in [`Api::types`].
    Named(TypeId),
    /// A link of a write body as one field (the runtime's `LinkOne`/`LinkMany`): the ids, or
    /// the find-or-create form, written in place of `brandId` or `brand`.
    Link(Box<LinkField>),
}

/// The one field of a write body that stands for a link's ids and its find-or-create form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LinkField {
    /// The link's key type in the module's `links` (`Brand`).
    pub keys: String,
    /// The id key (`brandId`, `teamsIds`).
    pub id_wire: String,
    /// The find-or-create key (`brand`, `teams`).
    pub link_wire: String,
    /// One id's type (`BrandId`, or `String` when the target is not generated).
    pub id: Type,
    /// A to-many link (`LinkMany`).
    pub many: bool,
}

impl Type {
    /// Calls `f` with every type inside this one, itself first (arrays' items, maps' values,
    /// link ids).
    pub fn walk(&self, f: &mut impl FnMut(&Type)) {
        f(self);
        match self {
            Type::Array(inner) | Type::Map(inner) => inner.walk(f),
            Type::Link(link) => link.id.walk(f),
            _ => {}
        }
    }

    /// Calls `f` with every type inside this one, itself last.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Type)) {
        match self {
            Type::Array(inner) | Type::Map(inner) => inner.walk_mut(f),
            Type::Link(link) => link.id.walk_mut(f),
            _ => {}
        }
        f(self);
    }

    /// The named types inside this one (`Vec<Brand>` → `Brand`).
    pub fn named(&self) -> Vec<TypeId> {
        let mut out = Vec::new();
        self.walk(&mut |t| {
            if let Type::Named(id) = t {
                out.push(*id);
            }
        });
        out
    }
}

/// The kind of a field for filters: which operators fit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FieldKind {
    /// Text.
    Text,
    /// The values of a generated enum (the field's type is that enum): conditions take it.
    Enum,
    /// Integer or float.
    Number,
    /// Boolean.
    Bool,
    /// Date (`Y-m-d`).
    Date,
    /// Date and time (`Y-m-d H:i:s`).
    DateTime,
    /// A link (`brandId`).
    Link,
    /// An array.
    Array,
    /// Anything else.
    Any,
}

/// A struct field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Wire name.
    pub wire: String,
    /// Rust field name.
    pub ident: String,
    /// Variant name in the field enum (entities only).
    pub variant: String,
    /// Value type (without the `Option`/`Patch` wrapper).
    pub ty: Type,
    /// Required by the spec.
    pub required: bool,
    /// `nullable: true` in the spec.
    pub nullable: bool,
    /// `readOnly: true` in the spec.
    pub read_only: bool,
    /// Kind for filters.
    pub kind: FieldKind,
    /// Held in a `Box`: the field closes a cycle of structs holding each other by value.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub boxed: bool,
    /// For `brandId`/`teamsIds`: the link behind the ids (`brand`, `teams`), from instance
    /// metadata; link conditions (`linkedWith`, `isLinked`) name the link, not the ids field.
    pub link: Option<String>,
    /// Doc text.
    pub doc: Option<String>,
}

/// A named struct.
#[derive(Debug, Clone, Serialize)]
pub struct Struct {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: Option<String>,
    /// Fields in spec order.
    pub fields: Vec<Field>,
    /// How optional fields are represented.
    pub style: StructStyle,
}

/// How a struct treats optional fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StructStyle {
    /// Every field `Option` (read structs: `select` returns only what was asked for); unknown
    /// fields kept in `extra`.
    Read,
    /// Required fields plain, others `Option` and skipped when `None`; `extra` sent too.
    Create,
    /// Every field a `Patch` (unchanged / null / value); `extra` sent too.
    Patch,
    /// Plain data type: required plain, others `Option` skipped when `None`.
    Plain,
}

/// A params struct shared by routes of several modules (`LinkedParams`).
#[derive(Debug, Clone, Serialize)]
pub struct ParamsDef {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: String,
    /// The parameters, in spec order.
    pub params: Vec<Param>,
}

/// A named type other than an entity's read/create/patch structs.
#[derive(Debug, Clone, Serialize)]
pub enum TypeDef {
    /// An object with known properties.
    Struct(Struct),
    /// A string enum that keeps unknown values.
    Enum(Enum),
}

impl TypeDef {
    /// The type's name.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Struct(s) => &s.name,
            TypeDef::Enum(e) => &e.name,
        }
    }
}

/// A string enum; values the spec does not list deserialize into `Other(String)`.
#[derive(Debug, Clone, Serialize)]
pub struct Enum {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: Option<String>,
    /// `(variant, wire value)` pairs in spec order.
    pub variants: Vec<(String, String)>,
    /// The variant `Default` gives (the field's default in the instance metadata), if any.
    pub default: Option<String>,
}

/// A named type's index in [`Api::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TypeId(pub usize);

/// Every named type of the generated crate, each defined once and referred to by [`TypeId`]
/// (as typify's `TypeSpace`). The facts emit needs about a type (its module, whether it is an
/// enum, whether it has a `Default`) are answered here, computed once by `lower`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct TypeSpace {
    entries: Vec<TypeEntry>,
}

/// One named type.
#[derive(Debug, Clone, Serialize)]
pub struct TypeEntry {
    /// Type name (unique in its module).
    pub name: String,
    /// The crate module that defines it.
    pub module: String,
    /// What it is.
    pub def: Definition,
    /// It implements `Default` (computed by `lower` once the IR is complete).
    pub has_default: bool,
}

/// What a named type is.
#[derive(Debug, Clone, Serialize)]
pub enum Definition {
    /// One of an entity's own structs, defined by its [`Entity`].
    Entity(EntityStruct),
    /// A type defined in its module's `types` list.
    Def(TypeDef),
    /// The typed id of an entity's records (`ProductId` = the runtime's `Id<Product>`), in the
    /// `ids` module.
    Id {
        /// The entity's wire name.
        entity: String,
        /// The marker type's name in `ids` (`Product`).
        marker: String,
    },
    /// Reserved by a reference before its schema is lowered; never left in a finished IR.
    Pending,
}

/// Which of an entity's structs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum EntityStruct {
    /// The read struct.
    Read,
    /// The create struct.
    Create,
    /// The patch struct.
    Patch,
}

impl TypeSpace {
    /// Adds a type; answers its id.
    pub fn push(&mut self, name: String, module: String, def: Definition) -> TypeId {
        self.entries.push(TypeEntry {
            name,
            module,
            def,
            has_default: true,
        });
        TypeId(self.entries.len() - 1)
    }

    /// The entry of `id`.
    pub fn get(&self, id: TypeId) -> &TypeEntry {
        &self.entries[id.0]
    }

    /// The entry of `id`, to change.
    pub fn get_mut(&mut self, id: TypeId) -> &mut TypeEntry {
        &mut self.entries[id.0]
    }

    /// The definition of `id`, when the arena holds it (not an entity's own struct).
    pub fn def(&self, id: TypeId) -> Option<&TypeDef> {
        match &self.get(id).def {
            Definition::Def(d) => Some(d),
            _ => None,
        }
    }

    /// Whether `id` is a generated string enum.
    pub fn is_enum(&self, id: TypeId) -> bool {
        matches!(self.def(id), Some(TypeDef::Enum(_)))
    }

    /// Every entry with its id.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &TypeEntry)> {
        self.entries.iter().enumerate().map(|(i, e)| (TypeId(i), e))
    }

    /// Every definition held by the arena, to change.
    pub fn defs_mut(&mut self) -> impl Iterator<Item = &mut TypeDef> {
        self.entries.iter_mut().filter_map(|e| match &mut e.def {
            Definition::Def(d) => Some(d),
            _ => None,
        })
    }

    /// Keeps the entries `keep` answers true for, in order; answers the new id of each old id
    /// (`None`: dropped).
    pub fn retain(
        &mut self,
        mut keep: impl FnMut(TypeId, &TypeEntry) -> bool,
    ) -> Vec<Option<TypeId>> {
        let mut map = Vec::with_capacity(self.entries.len());
        let mut kept = Vec::with_capacity(self.entries.len());
        for (i, e) in std::mem::take(&mut self.entries).into_iter().enumerate() {
            if keep(TypeId(i), &e) {
                map.push(Some(TypeId(kept.len())));
                kept.push(e);
            } else {
                map.push(None);
            }
        }
        self.entries = kept;
        map
    }

    /// Whether a value of `t` has a `Default`.
    pub fn has_default(&self, t: &Type) -> bool {
        match t {
            Type::Where | Type::Date | Type::DateTime | Type::Link(_) => false,
            Type::Named(id) => self.get(*id).has_default,
            _ => true,
        }
    }
}

impl Operation {
    /// Every type the operation mentions: path parameters, query and header parameters, body,
    /// answer.
    pub fn types(&self) -> impl Iterator<Item = &Type> {
        let path = self.path_parts.iter().filter_map(|p| match p {
            PathSegment::Param { ty, .. } => Some(ty),
            PathSegment::Literal(_) => None,
        });
        let response = match &self.response {
            Response::Json(t) => Some(t),
            _ => None,
        };
        path.chain(self.params.iter().map(|p| &p.ty))
            .chain(self.body.iter().map(|b| &b.ty))
            .chain(response)
    }

    /// [`Operation::types`], to change.
    pub fn types_mut(&mut self) -> impl Iterator<Item = &mut Type> {
        let path = self.path_parts.iter_mut().filter_map(|p| match p {
            PathSegment::Param { ty, .. } => Some(ty),
            PathSegment::Literal(_) => None,
        });
        let response = match &mut self.response {
            Response::Json(t) => Some(t),
            _ => None,
        };
        path.chain(self.params.iter_mut().map(|p| &mut p.ty))
            .chain(self.body.iter_mut().map(|b| &mut b.ty))
            .chain(response)
    }
}

impl Api {
    /// Calls `f` with every type the IR mentions at the top level of a field, parameter, body
    /// or answer (walk into each with [`Type::walk_mut`]).
    pub fn for_each_type_mut(&mut self, mut f: impl FnMut(&mut Type)) {
        for e in &mut self.entities {
            e.fields.iter_mut().for_each(|x| f(&mut x.ty));
            for s in e.create.iter_mut().chain(e.patch.iter_mut()) {
                s.fields.iter_mut().for_each(|x| f(&mut x.ty));
            }
            e.operations
                .iter_mut()
                .for_each(|op| op.types_mut().for_each(&mut f));
        }
        for g in &mut self.groups {
            g.operations
                .iter_mut()
                .for_each(|op| op.types_mut().for_each(&mut f));
        }
        for p in &mut self.shared_params {
            p.params.iter_mut().for_each(|x| f(&mut x.ty));
        }
        for d in self.types.defs_mut() {
            if let TypeDef::Struct(s) = d {
                s.fields.iter_mut().for_each(|x| f(&mut x.ty));
            }
        }
    }

    /// Replaces every type id in the IR by `map(id)` (references, module lists, entity ids).
    pub fn remap_types(&mut self, map: impl Fn(TypeId) -> TypeId) {
        self.for_each_type_mut(|t| {
            t.walk_mut(&mut |t| {
                if let Type::Named(id) = t {
                    *id = map(*id);
                }
            })
        });
        for e in &mut self.entities {
            e.ids.id = map(e.ids.id);
            e.link_lists
                .iter_mut()
                .for_each(|l| l.target_id = map(l.target_id));
            e.ids.read = map(e.ids.read);
            e.ids.create = e.ids.create.map(&map);
            e.ids.patch = e.ids.patch.map(&map);
            e.types.iter_mut().for_each(|id| *id = map(*id));
        }
        for g in &mut self.groups {
            g.types.iter_mut().for_each(|id| *id = map(*id));
        }
        self.shared_types.iter_mut().for_each(|id| *id = map(*id));
        self.id_types.iter_mut().for_each(|id| *id = map(*id));
    }

    /// The fields of a struct entry: an entity's own struct or a struct definition.
    pub fn struct_fields(&self, id: TypeId) -> Option<&[Field]> {
        let entry = self.types.get(id);
        match &entry.def {
            Definition::Def(TypeDef::Struct(s)) => Some(&s.fields),
            Definition::Def(TypeDef::Enum(_)) | Definition::Id { .. } | Definition::Pending => None,
            Definition::Entity(which) => {
                let e = self.entities.iter().find(|e| {
                    e.ids.read == id || e.ids.create == Some(id) || e.ids.patch == Some(id)
                })?;
                match which {
                    EntityStruct::Read => Some(&e.fields),
                    EntityStruct::Create => e.create.as_ref().map(|s| s.fields.as_slice()),
                    EntityStruct::Patch => e.patch.as_ref().map(|s| s.fields.as_slice()),
                }
            }
        }
    }
}

/// One attribute of an entity from the instance's attribute definitions.
#[derive(Debug, Clone, Serialize)]
pub struct TypedAttribute {
    /// The key of its values (2.2 `code`, 2.3 `systemName`).
    pub code: String,
    /// Its handle's function in `attr` (and field of `attr::Values`).
    pub function: String,
    /// One line: code, type, measure, label.
    pub doc: String,
    /// AtroCore's attribute type (`float`, `extensibleEnum`, …).
    pub atrocore_type: String,
    /// Per-language values.
    pub multilingual: bool,
    /// What its handle types.
    pub kind: AttributeKind,
    /// The units of its measure, when the definitions list them.
    pub units: Option<UnitList>,
}

/// The units of a measure: an enum in `attr`, declared by the first attribute of the entity
/// with that measure.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnitList {
    /// The enum's name (`MassUnit`).
    pub type_name: String,
    /// Whether this attribute's module item declares it (the first one of the measure).
    pub declared_here: bool,
    /// The units, as options (named by code when they have one).
    pub units: Vec<AttributeOption>,
}

/// The value kind of a typed attribute (the runtime's `typed_attributes::kind`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub enum AttributeKind {
    /// `float`.
    Float,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// Text types.
    Text,
    /// `date`.
    Date,
    /// `datetime`.
    DateTime,
    /// One option of a list: an enum `type_name` in `attr`.
    Enum {
        /// The enum's name.
        type_name: String,
        /// Its options.
        options: Vec<AttributeOption>,
    },
    /// Options of a list.
    MultiEnum {
        /// The enum's name.
        type_name: String,
        /// Its options.
        options: Vec<AttributeOption>,
    },
    /// `rangeFloat`: two bounds.
    RangeFloat,
    /// `rangeInt`: two bounds.
    RangeInt,
    /// JSON values.
    Untyped,
}

/// An option of a list attribute.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttributeOption {
    /// What the server stores, or the record's code when `by_code`.
    pub wire: String,
    /// The enum variant.
    pub variant: String,
    /// Its label.
    pub label: Option<String>,
    /// `wire` is the code of a record (a 2.2 extensible enum option, a unit), resolved to its
    /// id on the instance when sent.
    pub by_code: bool,
    /// The label a stored id is read back by (set when `by_code` and no other option of the
    /// list has the same label).
    pub read_label: Option<String>,
}
