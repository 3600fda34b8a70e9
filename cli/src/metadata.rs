//! The instance's entities and fields, read at run time from `GET {api}/Metadata` (2.2) or
//! `GET {api}/metadata` (2.3): `entityDefs.<E>.fields.<f>` (`type`, `required`, `unique`,
//! `readOnly`, `notStorable`, `options`, `entity`) and `entityDefs.<E>.links.<l>.entity`;
//! `scopes.<E>.entity` marks what is an entity when the document has `scopes`.

use std::collections::BTreeMap;

use atrocore_runtime::{ApiGeneration, Client, Method};
use serde_json::Value;

use crate::exit::{CliError, CliResult, Exit};

use atrocore_kinds::FieldType;
/// How a field is handled: the model the generator shares (`atrocore-kinds`).
pub use atrocore_kinds::Kind;

/// The kind of the metadata type `ty`.
fn kind_of(ty: &str) -> Kind {
    FieldType::parse(ty).kind()
}

/// One field of an entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The wire name.
    pub name: String,
    /// The metadata `type`.
    pub ty: String,
    /// The kind it is handled as.
    pub kind: Kind,
    /// `required: true`.
    pub required: bool,
    /// `unique: true`.
    pub unique: bool,
    /// `readOnly: true`, or `notStorable: true` (computed, not written).
    pub read_only: bool,
    /// The linked entity of a link field.
    pub link_entity: Option<String>,
    /// The allowed values of an `enum`/`multiEnum` field, when listed.
    pub options: Option<Vec<String>>,
}

impl Field {
    /// The wire name that holds the id(s) of a link field (`brandId`, `categoriesIds`).
    pub fn id_name(&self) -> String {
        match self.kind {
            Kind::Link => format!("{}Id", self.name),
            Kind::LinkMultiple => format!("{}Ids", self.name),
            _ => self.name.clone(),
        }
    }
}

/// One entity with its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The wire name.
    pub name: String,
    /// Fields by name.
    pub fields: BTreeMap<String, Field>,
}

impl Entity {
    /// The field `name`, or an error that lists close names.
    pub fn field(&self, name: &str) -> Result<&Field, String> {
        self.fields.get(name).ok_or_else(|| {
            let mut msg = format!("`{}` has no field `{name}`", self.name);
            if let Some(s) = suggest(name, self.fields.keys()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            msg
        })
    }

    /// The field whose id column is `name` (`brandId` → `brand`), or the field `name` itself.
    pub fn field_or_id(&self, name: &str) -> Option<&Field> {
        self.fields.get(name).or_else(|| {
            let base = name
                .strip_suffix("Ids")
                .or_else(|| name.strip_suffix("Id"))?;
            self.fields.get(base).filter(|f| {
                matches!(f.kind, Kind::Link | Kind::LinkMultiple) && f.id_name() == name
            })
        })
    }

    /// The fields marked unique.
    pub fn unique_fields(&self) -> Vec<&str> {
        self.fields
            .values()
            .filter(|f| f.unique)
            .map(|f| f.name.as_str())
            .collect()
    }
}

/// The entities of an instance.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// Entities by name.
    pub entities: BTreeMap<String, Entity>,
}

/// The closest of `candidates` to `name` (Jaro–Winkler similarity), when it is close enough.
pub fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a String>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

impl Metadata {
    /// Reads the metadata document of the instance.
    pub async fn fetch(client: &Client) -> CliResult<Metadata> {
        let (first, second) = match client.generation() {
            ApiGeneration::V2_2 => ("/Metadata", "/metadata"),
            _ => ("/metadata", "/Metadata"),
        };
        let doc: Value = match client.request(Method::GET, first).send_json().await {
            Ok(doc) => doc,
            Err(e) if e.is_not_found() => client
                .request(Method::GET, second)
                .send_json()
                .await
                .map_err(|e| CliError::from(e).context("reading the instance metadata"))?,
            Err(e) => return Err(CliError::from(e).context("reading the instance metadata")),
        };
        Self::from_json(&doc)
    }

    /// Reads a metadata document.
    pub fn from_json(doc: &Value) -> CliResult<Metadata> {
        let defs = doc
            .get("entityDefs")
            .and_then(Value::as_object)
            .ok_or_else(|| CliError::other("the instance metadata has no `entityDefs`"))?;
        let scopes = doc.get("scopes").and_then(Value::as_object);
        let mut entities = BTreeMap::new();
        for (name, def) in defs {
            if let Some(scopes) = scopes {
                let scope = scopes.get(name);
                let is_entity = scope
                    .and_then(|s| s.get("entity"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let disabled = scope
                    .and_then(|s| s.get("disabled"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if !is_entity || disabled {
                    continue;
                }
            }
            let links = def.get("links").and_then(Value::as_object);
            let mut fields = BTreeMap::new();
            if let Some(fs) = def.get("fields").and_then(Value::as_object) {
                for (fname, f) in fs {
                    let ty = f
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    let flag = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(false);
                    let link_entity = f
                        .get("entity")
                        .and_then(Value::as_str)
                        .or_else(|| {
                            links
                                .and_then(|l| l.get(fname))
                                .and_then(|l| l.get("entity"))
                                .and_then(Value::as_str)
                        })
                        .map(str::to_owned);
                    let options = f.get("options").and_then(Value::as_array).map(|o| {
                        o.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    });
                    let kind = kind_of(&ty);
                    fields.insert(
                        fname.clone(),
                        Field {
                            name: fname.clone(),
                            kind,
                            required: flag("required"),
                            unique: flag("unique"),
                            read_only: flag("readOnly") || flag("notStorable"),
                            link_entity: if matches!(kind, Kind::Link | Kind::LinkMultiple) {
                                link_entity
                            } else {
                                None
                            },
                            options,
                            ty,
                        },
                    );
                }
            }
            entities.insert(
                name.clone(),
                Entity {
                    name: name.clone(),
                    fields,
                },
            );
        }
        Ok(Metadata { entities })
    }

    /// The entity `name` (exact case), or a usage error that suggests a close name.
    pub fn entity(&self, name: &str) -> CliResult<&Entity> {
        self.entities.get(name).ok_or_else(|| {
            let mut msg = format!("the instance has no entity `{name}`");
            if let Some(s) = suggest(name, self.entities.keys()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            } else {
                msg.push_str(" (see `atro entities`)");
            }
            CliError::new(Exit::Usage, msg)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "entityDefs": {
                "Product": {
                    "fields": {
                        "name": {"type": "varchar", "required": true},
                        "sortOrder": {"type": "int"},
                        "brand": {"type": "link"},
                        "categories": {"type": "linkMultiple"},
                        "status": {"type": "enum", "options": ["draft", "ready"]},
                        "createdAt": {"type": "datetime", "readOnly": true}
                    },
                    "links": {"brand": {"type": "belongsTo", "entity": "Brand"},
                              "categories": {"type": "hasMany", "entity": "Category"}}
                },
                "Brand": {"fields": {"code": {"type": "varchar", "unique": true}}},
                "Hidden": {"fields": {}}
            },
            "scopes": {"Product": {"entity": true}, "Brand": {"entity": true},
                       "Hidden": {"entity": true, "disabled": true}}
        })
    }

    /// The metadata documents of real instances (2.2 and 2.3, core and PIM).
    #[test]
    fn reads_real_instance_metadata() {
        let Some(dir) = atrocore_testkit::reference_dir() else {
            return;
        };
        let mut seen = 0;
        for entry in std::fs::read_dir(dir.join("metadata")).unwrap() {
            let path = entry.unwrap().path();
            let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let m = Metadata::from_json(&doc).unwrap();
            let file = m
                .entity("File")
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                file.field("folder").unwrap().link_entity.as_deref(),
                Some("Folder")
            );
            assert!(m.entities.len() > 40, "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 4);
    }

    #[test]
    fn reads_fields_links_and_scopes() {
        let m = Metadata::from_json(&doc()).unwrap();
        assert_eq!(m.entities.keys().collect::<Vec<_>>(), ["Brand", "Product"]);
        let p = m.entity("Product").unwrap();
        let brand = p.field("brand").unwrap();
        assert_eq!(brand.kind, Kind::Link);
        assert_eq!(brand.link_entity.as_deref(), Some("Brand"));
        assert_eq!(brand.id_name(), "brandId");
        assert_eq!(p.field_or_id("categoriesIds").unwrap().name, "categories");
        assert!(p.field_or_id("nameId").is_none());
        assert!(p.field("createdAt").unwrap().read_only);
        assert_eq!(m.entity("Brand").unwrap().unique_fields(), ["code"]);
        let e = p.field("nme").unwrap_err();
        assert!(e.contains("did you mean `name`"), "{e}");
        let e = m.entity("Prodcut").unwrap_err();
        assert!(e.message.contains("`Product`"), "{e}");
        assert!(Metadata::from_json(&json!({})).is_err());
    }
}
