//! The data model learnt from an AtroCore OpenAPI spec (and, when given, the instance metadata).
//!
//! An entity is a component schema `E` that has both `/E` and `/E/{id}` routes. Its stored
//! fields are the schema's properties, minus `_meta` and the derived `xName`/`xNames` labels of
//! links. Links, unique fields and enum lists come from the metadata when it is given, else they
//! are guessed from the spec's `xId`/`xIds` naming.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// The AtroCore release family a spec belongs to; it decides routes and response shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// 2.2.x: API under `/api/v1`, token at `GET /App/user`, upsert at `/MassActions/action/upsert`.
    V22,
    /// 2.3.x: API under `/api`, token at `GET /userSession`, upsert at `/upsert`.
    V23,
}

impl Generation {
    /// The API base path (the spec's `servers[0].url`).
    pub fn api_base(self) -> &'static str {
        match self {
            Generation::V22 => "/api/v1",
            Generation::V23 => "/api",
        }
    }

    /// The path segments of the login (token) route under the API base: 2.2 `App/user`, 2.3
    /// `userSession`.
    pub fn login_route(self) -> &'static [&'static str] {
        match self {
            Generation::V22 => &["App", "user"],
            Generation::V23 => &["userSession"],
        }
    }

    /// A short label, `2.2` or `2.3`.
    pub fn label(self) -> &'static str {
        match self {
            Generation::V22 => "2.2",
            Generation::V23 => "2.3",
        }
    }
}

/// How a field's value is stored in its SQLite column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (varchar, text, enum, date, datetime, ids…).
    Str,
    /// Integer.
    Int,
    /// Floating point number.
    Float,
    /// Boolean, stored as 0/1.
    Bool,
    /// Arrays and objects, stored as JSON text.
    Json,
}

impl Kind {
    /// The SQLite column type that gives this kind its comparison affinity.
    pub fn sql_type(self) -> &'static str {
        match self {
            Kind::Str | Kind::Json => "TEXT",
            Kind::Int | Kind::Bool => "INTEGER",
            Kind::Float => "REAL",
        }
    }
}

/// One stored field of an entity.
#[derive(Debug, Clone)]
pub struct Field {
    /// The field (and column) name.
    pub name: String,
    /// Storage kind.
    pub kind: Kind,
    /// The metadata field type (`varchar`, `enum`, …) when known.
    pub meta_type: Option<String>,
    /// The spec marks it read-only.
    pub read_only: bool,
}

/// The cardinality of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Single link (`xId` column).
    BelongsTo,
    /// Multiple link (`xIds` column when stored on this side).
    HasMany,
}

/// A relation of an entity to another.
#[derive(Debug, Clone)]
pub struct Link {
    /// The link name (`brand`, `categories`).
    pub name: String,
    /// Cardinality.
    pub kind: LinkKind,
    /// The related entity when known.
    pub entity: Option<String>,
    /// The link name on the other side, when known.
    pub foreign: Option<String>,
    /// The column on this side (`brandId`, `categoriesIds`), if stored here.
    pub column: Option<String>,
}

/// An entity learnt from the spec.
#[derive(Debug, Clone)]
pub struct Entity {
    /// The entity name (`Product`).
    pub name: String,
    /// Stored fields in spec order.
    pub fields: Vec<Field>,
    /// All property names of the read schema (stored or derived), for `select`.
    pub properties: BTreeSet<String>,
    /// Links by name.
    pub links: BTreeMap<String, Link>,
    /// Fields required on create.
    pub required: Vec<String>,
    /// Fields whose value identifies a record (upsert lookup).
    pub unique: Vec<String>,
    /// The entity has attribute routes (`/E/{id}/attributeValues`).
    pub has_attributes: bool,
    /// Fields searched by the `textFilter` where type.
    pub text_filter_fields: Vec<String>,
    /// For extensible-enum fields: the field name → the option list id.
    pub enum_lists: BTreeMap<String, String>,
    /// For enum fields from metadata: the allowed options.
    pub enum_options: BTreeMap<String, Vec<String>>,
    /// 2.3: the field whose value a read accepts in place of the id: the first field marked
    /// `isCode: true` in the metadata (`app/Atro/Services/Record.php::getCodeField`).
    pub code_field: Option<String>,
    /// The columns of each index the store creates, as AtroCore's schema has them: the
    /// metadata's `indexes` and `uniqueIndexes`, every unique field and every single-link
    /// column, each with `deleted` last as the metadata's own indexes have it.
    pub indexes: Vec<Vec<String>>,
}

impl Entity {
    /// The stored field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The link whose column or name is `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.get(name)
    }
}

/// The model of a whole instance.
#[derive(Debug, Clone)]
pub struct Model {
    /// Release family.
    pub generation: Generation,
    /// Entities by name.
    pub entities: BTreeMap<String, Entity>,
    /// The metadata document served at the Metadata route.
    pub metadata: Value,
    /// Whether the metadata came from a real instance (else derived from the spec).
    pub metadata_given: bool,
    /// The input languages (`de_DE`, …), besides `main`.
    pub input_languages: std::collections::BTreeSet<String>,
}

/// A problem with the spec given to the simulator.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// `servers[0].url` is neither `/api/v1` nor `/api`.
    #[error(
        "cannot tell the AtroCore generation from servers[0].url {0:?} (expected /api/v1 or /api)"
    )]
    UnknownServer(String),
    /// The document has no `paths` or `components.schemas`.
    #[error("the spec has no {0}")]
    Missing(&'static str),
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    let mut cur = v;
    for _ in 0..8 {
        match cur.get("$ref").and_then(Value::as_str) {
            Some(r) => match r
                .strip_prefix("#/")
                .map(|p| p.split('/').try_fold(spec, |acc, seg| acc.get(seg)))
            {
                Some(Some(target)) => cur = target,
                _ => return cur,
            },
            None => return cur,
        }
    }
    cur
}

fn required_of(spec: &Value, schema: &Value, out: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if r != "id" && !out.iter().any(|x| x == r) {
                out.push(r.to_string());
            }
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            required_of(spec, s, out);
        }
    }
}

fn kind_of(spec: &Value, prop: &Value) -> Kind {
    let prop = resolve(spec, prop);
    match prop.get("type").and_then(Value::as_str) {
        Some("string") => Kind::Str,
        Some("integer") => Kind::Int,
        Some("number") => Kind::Float,
        Some("boolean") => Kind::Bool,
        _ => Kind::Json,
    }
}

fn guess_target(link: &str, entity: &str, names: &BTreeSet<String>) -> Option<String> {
    let special = match link {
        "createdBy" | "modifiedBy" | "assignedUser" | "ownerUser" => Some("User"),
        "teams" => Some("Team"),
        "parents" | "children" | "parent" => Some(entity),
        _ => None,
    };
    if let Some(s) = special {
        return names.contains(s).then(|| s.to_string());
    }
    let mut cands = Vec::new();
    let mut cap = link.to_string();
    if let Some(f) = cap.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    cands.push(cap.clone());
    if let Some(s) = cap.strip_suffix("ies") {
        cands.push(format!("{s}y"));
    }
    if let Some(s) = cap.strip_suffix('s') {
        cands.push(s.to_string());
    }
    cands.into_iter().find(|c| names.contains(c))
}

impl Model {
    /// Learns the model from a spec and optional metadata.
    pub fn from_spec(spec: &Value, metadata: Option<&Value>) -> Result<Model, ModelError> {
        let server = spec
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string();
        let generation = if server.ends_with("/api/v1") {
            Generation::V22
        } else if server.ends_with("/api") {
            Generation::V23
        } else {
            return Err(ModelError::UnknownServer(server));
        };
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or(ModelError::Missing("paths"))?;
        let schemas = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or(ModelError::Missing("components.schemas"))?;
        let names: BTreeSet<String> = schemas
            .keys()
            .filter(|n| {
                paths.contains_key(&format!("/{n}")) && paths.contains_key(&format!("/{n}/{{id}}"))
            })
            .cloned()
            .collect();
        let empty = Map::new();
        let mut entities = BTreeMap::new();
        for name in &names {
            let schema = resolve(spec, &schemas[name]);
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let defs = metadata.and_then(|m| m.pointer(&format!("/entityDefs/{name}")));
            let meta_fields = defs
                .and_then(|d| d.get("fields"))
                .and_then(Value::as_object);
            let meta_links = defs.and_then(|d| d.get("links")).and_then(Value::as_object);
            let mut fields: Vec<Field> = Vec::new();
            let mut lower_seen = BTreeSet::new();
            let mut links = BTreeMap::new();
            for (pname, prop) in props {
                if pname == "_meta" {
                    continue;
                }
                if let Some(base) = pname.strip_suffix("Name")
                    && props.contains_key(&format!("{base}Id"))
                {
                    continue;
                }
                if let Some(base) = pname.strip_suffix("Names")
                    && props.contains_key(&format!("{base}Ids"))
                {
                    continue;
                }
                if !lower_seen.insert(pname.to_ascii_lowercase()) {
                    continue;
                }
                let meta_type = meta_fields
                    .and_then(|f| f.get(pname.as_str()))
                    .and_then(|f| f.get("type"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let mut kind = kind_of(spec, prop);
                if pname == "id" {
                    kind = Kind::Str;
                }
                fields.push(Field {
                    name: pname.clone(),
                    kind,
                    meta_type,
                    read_only: prop.get("readOnly").and_then(Value::as_bool) == Some(true),
                });
                for (suffix, lk) in [("Ids", LinkKind::HasMany), ("Id", LinkKind::BelongsTo)] {
                    let Some(base) = pname.strip_suffix(suffix) else {
                        continue;
                    };
                    if base.is_empty() {
                        continue;
                    }
                    let named = props.contains_key(&format!(
                        "{base}{}",
                        if lk == LinkKind::HasMany {
                            "Names"
                        } else {
                            "Name"
                        }
                    ));
                    let meta_link = meta_links.and_then(|l| l.get(base));
                    if !named && meta_link.is_none() {
                        continue;
                    }
                    let entity = meta_link
                        .and_then(|l| l.get("entity"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| guess_target(base, name, &names));
                    links.insert(
                        base.to_string(),
                        Link {
                            name: base.to_string(),
                            kind: lk,
                            entity,
                            foreign: meta_link
                                .and_then(|l| l.get("foreign"))
                                .and_then(Value::as_str)
                                .map(str::to_string),
                            column: Some(pname.clone()),
                        },
                    );
                    break;
                }
            }
            for must in [
                "id",
                "deleted",
                "createdAt",
                "modifiedAt",
                "createdById",
                "modifiedById",
            ] {
                if !fields.iter().any(|f| f.name == must) {
                    fields.push(Field {
                        name: must.to_string(),
                        kind: if must == "deleted" {
                            Kind::Bool
                        } else {
                            Kind::Str
                        },
                        meta_type: None,
                        read_only: true,
                    });
                }
            }
            if let Some(ml) = meta_links {
                for (lname, l) in ml {
                    if links.contains_key(lname) {
                        continue;
                    }
                    let kind = match l.get("type").and_then(Value::as_str) {
                        Some("hasMany") => LinkKind::HasMany,
                        Some("belongsTo") | Some("hasOne") => LinkKind::BelongsTo,
                        _ => continue,
                    };
                    links.insert(
                        lname.clone(),
                        Link {
                            name: lname.clone(),
                            kind,
                            entity: l.get("entity").and_then(Value::as_str).map(str::to_string),
                            foreign: l.get("foreign").and_then(Value::as_str).map(str::to_string),
                            column: None,
                        },
                    );
                }
            }
            let mut required = Vec::new();
            if let Some(body) = paths
                .get(&format!("/{name}"))
                .and_then(|p| p.pointer("/post/requestBody/content/application~1json/schema"))
            {
                required_of(spec, body, &mut required);
            }
            required.retain(|r| fields.iter().any(|f| &f.name == r));
            let mut unique = Vec::new();
            let mut enum_lists = BTreeMap::new();
            let mut enum_options = BTreeMap::new();
            let mut code_field = None;
            if let Some(mf) = meta_fields {
                for (fname, f) in mf {
                    if code_field.is_none()
                        && f.get("isCode").is_some_and(|v| {
                            // PHP `!empty(...)`.
                            v.as_bool() == Some(true) || v.as_f64().is_some_and(|n| n != 0.0)
                        })
                        && fields.iter().any(|x| &x.name == fname)
                    {
                        code_field = Some(fname.clone());
                    }
                    if f.get("unique").and_then(Value::as_bool) == Some(true)
                        && fields.iter().any(|x| &x.name == fname)
                    {
                        unique.push(fname.clone());
                    }
                    if let Some(list) = f.get("extensibleEnumId").and_then(Value::as_str) {
                        enum_lists.insert(fname.clone(), list.to_string());
                    }
                    if let Some(opts) = f.get("options").and_then(Value::as_array) {
                        let opts: Vec<String> = opts
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect();
                        if !opts.is_empty() {
                            enum_options.insert(fname.clone(), opts);
                        }
                    }
                }
            } else if metadata.is_none() && fields.iter().any(|f| f.name == "code") {
                unique.push("code".to_string());
            }
            let collection = defs.and_then(|d| d.get("collection"));
            let mut text_filter_fields: Vec<String> = collection
                .and_then(|c| c.get("textFilterFields"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter(|s| fields.iter().any(|f| f.name == *s))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if text_filter_fields.is_empty() && fields.iter().any(|f| f.name == "name") {
                text_filter_fields.push("name".to_string());
            }
            let mut properties: BTreeSet<String> = props.keys().cloned().collect();
            properties.insert("id".to_string());
            let indexes = indexes_of(&fields, &links, &unique, defs);
            entities.insert(
                name.clone(),
                Entity {
                    name: name.clone(),
                    fields,
                    properties,
                    links,
                    required,
                    unique,
                    has_attributes: paths.contains_key(&format!("/{name}/{{id}}/attributeValues")),
                    text_filter_fields,
                    enum_lists,
                    enum_options,
                    code_field,
                    indexes,
                },
            );
        }
        let (metadata, metadata_given) = match metadata {
            Some(m) => (m.clone(), true),
            None => (derive_metadata(&entities), false),
        };
        let input_languages = input_languages(&metadata);
        Ok(Model {
            generation,
            entities,
            metadata,
            metadata_given,
            input_languages,
        })
    }

    /// The entity named `name`.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.get(name)
    }
}

/// The indexes of an entity (see [`Entity::indexes`]): duplicates and indexes on columns the
/// store does not have are left out; sorted, so the same model gives the same schema.
fn indexes_of(
    fields: &[Field],
    links: &BTreeMap<String, Link>,
    unique: &[String],
    defs: Option<&Value>,
) -> Vec<Vec<String>> {
    let stored = |c: &str| fields.iter().any(|f| f.name == c);
    let mut out: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut add = |cols: Vec<String>| {
        let mut cols: Vec<String> = cols.into_iter().filter(|c| c != "deleted").collect();
        if cols.is_empty() || !cols.iter().all(|c| stored(c)) {
            return;
        }
        if stored("deleted") {
            cols.push("deleted".to_string());
        }
        out.insert(cols);
    };
    for key in ["indexes", "uniqueIndexes"] {
        let Some(map) = defs.and_then(|d| d.get(key)).and_then(Value::as_object) else {
            continue;
        };
        for def in map.values() {
            // `indexes`: `{"columns": [...]}` in camelCase; `uniqueIndexes`: a list in snake_case.
            let cols = def.get("columns").unwrap_or(def);
            if let Some(cols) = cols.as_array() {
                add(cols
                    .iter()
                    .filter_map(Value::as_str)
                    .map(snake_to_camel)
                    .collect());
            }
        }
    }
    for u in unique {
        add(vec![u.clone()]);
    }
    for l in links.values().filter(|l| l.kind == LinkKind::BelongsTo) {
        if let Some(c) = &l.column {
            add(vec![c.clone()]);
        }
    }
    out.into_iter().collect()
}

fn derive_metadata(entities: &BTreeMap<String, Entity>) -> Value {
    let mut defs = Map::new();
    let mut scopes = Map::new();
    for (name, e) in entities {
        let mut fields = Map::new();
        for f in &e.fields {
            if f.name == "deleted" {
                continue;
            }
            let t = match f.kind {
                Kind::Str => "varchar",
                Kind::Int => "int",
                Kind::Float => "float",
                Kind::Bool => "bool",
                Kind::Json => "jsonObject",
            };
            let mut def = json!({ "type": t });
            if e.required.contains(&f.name) {
                def["required"] = json!(true);
            }
            if e.unique.contains(&f.name) {
                def["unique"] = json!(true);
            }
            fields.insert(f.name.clone(), def);
        }
        let mut links = Map::new();
        for l in e.links.values() {
            let t = if l.kind == LinkKind::HasMany {
                "linkMultiple"
            } else {
                "link"
            };
            fields.insert(l.name.clone(), json!({ "type": t }));
            let mut def = json!({
                "type": if l.kind == LinkKind::HasMany { "hasMany" } else { "belongsTo" },
            });
            if let Some(t) = &l.entity {
                def["entity"] = json!(t);
            }
            links.insert(l.name.clone(), def);
        }
        defs.insert(name.clone(), json!({ "fields": fields, "links": links }));
        scopes.insert(
            name.clone(),
            json!({ "entity": true, "object": true, "acl": true, "hasAttribute": e.has_attributes }),
        );
    }
    json!({ "entityDefs": defs, "scopes": scopes })
}

/// The instance's input languages: the locales of its language variant fields
/// (`multilangLocale` in `entityDefs`; AtroCore's `inputLanguageList`, filled from the
/// `Language` records of role `additional`).
fn input_languages(metadata: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let Some(entities) = metadata.get("entityDefs").and_then(Value::as_object) else {
        return out;
    };
    for def in entities.values() {
        let Some(fields) = def.get("fields").and_then(Value::as_object) else {
            continue;
        };
        for f in fields.values() {
            if let Some(locale) = f.get("multilangLocale").and_then(Value::as_str) {
                out.insert(locale.to_owned());
            }
        }
    }
    out
}

/// `snake_case` → `camelCase` (metadata index columns are column names, fields camelCase).
pub(crate) fn snake_to_camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}
