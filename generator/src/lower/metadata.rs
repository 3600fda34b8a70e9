//! What the instance metadata says about a field: its kind, link target, default, whether the
//! server computes it; the typed link lists of an entity.

use super::*;

impl<'a> Lowerer<'a> {
    /// One list method per `hasMany` link of `entity` in the instance metadata whose target is a
    /// generated entity, named after the link (after the routes' names, so those stay stable).
    pub(super) fn link_lists(&self, entity: &str, namer: &mut Namer) -> Vec<LinkList> {
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
            let (Some(module), Some(target_id)) =
                (self.entity_modules.get(target), self.id_types.get(target))
            else {
                continue;
            };
            let method = namer.claim_snake(link);
            out.push(LinkList {
                method,
                marker: naming::link_keys_type(link),
                link: link.clone(),
                target: target.to_owned(),
                target_module: module.clone(),
                target_type: naming::entity_type(target),
                target_id: *target_id,
                target_feature: None,
            });
        }
        out
    }

    /// Every field of `entity` in the instance metadata with its type, sorted by name (what
    /// the generated `SCHEMA` records).
    pub(super) fn schema_fields(&self, entity: &str) -> Vec<(String, String)> {
        let Some(fields) = self
            .metadata
            .and_then(|m| {
                m.pointer(&format!(
                    "/entityDefs/{}/fields",
                    escape_pointer_token(entity)
                ))
            })
            .and_then(Value::as_object)
        else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = fields
            .iter()
            .filter_map(|(name, def)| Some((name.clone(), def.get("type")?.as_str()?.to_owned())))
            .collect();
        out.sort();
        out
    }

    /// What the instance metadata says about the spec field `wire` of `entity`: the field
    /// itself, or the link behind `brandId` / `teamsIds` (the spec flattens links to ids).
    pub(super) fn meta_field(&self, entity: &str, wire: &str) -> Option<MetaField> {
        let fields = self.metadata?.pointer(&format!(
            "/entityDefs/{}/fields",
            escape_pointer_token(entity)
        ))?;
        let def = |name: &str| fields.get(name).filter(|d| d.is_object());
        let links = self.metadata?.pointer(&format!(
            "/entityDefs/{}/links",
            escape_pointer_token(entity)
        ));
        // The link's target: its `links` entry, else the field definition's own `entity`
        // (`Attribute.attributePanel` names its target only there).
        let target = |link: &str| {
            links
                .and_then(|l| l.get(link))
                .and_then(|l| l.get("entity"))
                .or_else(|| def(link).and_then(|d| d.get("entity")))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if let Some(d) = def(wire) {
            let field_type = field_type_of(d);
            let link_target = matches!(field_type, MetaType::Link | MetaType::LinkMultiple)
                .then(|| target(wire))
                .flatten();
            return Some(MetaField {
                def: d.clone(),
                field_type,
                link: None,
                link_target,
            });
        }
        for (suffix, expected) in [("Ids", MetaType::LinkMultiple), ("Id", MetaType::Link)] {
            if let Some(link) = wire.strip_suffix(suffix)
                && let Some(d) = def(link).filter(|d| field_type_of(d) == expected)
            {
                return Some(MetaField {
                    def: d.clone(),
                    field_type: expected,
                    link: Some(link.to_owned()),
                    link_target: target(link),
                });
            }
        }
        None
    }

    /// `brandName`, `teamsNames`, `imageName`: the names AtroCore adds on read next to a link's
    /// ids (no field of their own in the metadata).
    pub(super) fn is_link_name_companion(&self, entity: &str, wire: &str) -> bool {
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
        let kind_of = |name: &str| fields.get(name).map(field_type_of);
        match (wire.strip_suffix("Names"), wire.strip_suffix("Name")) {
            (Some(link), _) => kind_of(link) == Some(MetaType::LinkMultiple),
            (None, Some(link)) => matches!(
                kind_of(link),
                Some(t) if t == MetaType::Link || t.is_file()
            ),
            _ => false,
        }
    }

    /// The Rust type of a field, refined by metadata: dates and date-times become the
    /// runtime's date types, enums with options a generated enum (the spec says `string`).
    pub(super) fn meta_type(
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
        match m.field_type {
            MetaType::Date => Type::Date,
            MetaType::DateTime => Type::DateTime,
            MetaType::Enum => match m.def.get("options").and_then(Value::as_array) {
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
            // An attribute's `type` is a `varchar` in `entityDefs`, but its values are the
            // instance's attribute types: the keys of the metadata's `attributes`
            // (`app/Atro/Resources/metadata/attributes/*.json`, and those of modules).
            _ if entity == "Attribute" && wire == "type" => {
                let Some(types) = self
                    .metadata
                    .and_then(|meta| meta.get("attributes"))
                    .and_then(Value::as_object)
                    .filter(|t| !t.is_empty())
                else {
                    return spec_ty;
                };
                let values: Vec<&str> = types.keys().map(String::as_str).collect();
                let hint = naming::nested_type(entity, wire);
                let default = m.def.get("default").and_then(Value::as_str);
                let doc = "The attribute types of the instance (the keys of its metadata's \
                           `attributes`)."
                    .to_owned();
                self.inline_enum(&values, Some(doc), default, &hint, sink)
            }
            _ => spec_ty,
        }
    }
}

/// The `type` of a field in the instance metadata (`entityDefs.E.fields.f.type`): the model
/// the CLI shares (`atrocore-kinds`).
pub(super) use atrocore_kinds::FieldType as MetaType;

/// The type of a field definition.
pub(super) fn field_type_of(def: &Value) -> MetaType {
    MetaType::parse(def.get("type").and_then(Value::as_str).unwrap_or(""))
}

/// A field's definition in the instance metadata.
pub(super) struct MetaField {
    pub(super) def: Value,
    /// `date`, `datetime`, `enum`, `link`, `linkMultiple`, …
    pub(super) field_type: MetaType,
    /// For `brandId`/`teamsIds`: the link's name (`brand`, `teams`).
    pub(super) link: Option<String>,
    /// The entity a link points at.
    pub(super) link_target: Option<String>,
}

impl MetaField {
    /// The filter kind of the field, from the kind both the generator and the CLI give its
    /// type (`atrocore_kinds::Kind`); `None` for JSON and the rest (the spec's type decides).
    pub(super) fn kind(&self) -> Option<FieldKind> {
        use atrocore_kinds::Kind as K;
        Some(match self.field_type.kind() {
            K::Text => FieldKind::Text,
            K::Int | K::Float => FieldKind::Number,
            K::Bool => FieldKind::Bool,
            K::Date => FieldKind::Date,
            K::DateTime => FieldKind::DateTime,
            K::Link | K::LinkMultiple => FieldKind::Link,
            K::Array => FieldKind::Array,
            _ => return None,
        })
    }

    pub(super) fn flag(&self, key: &str) -> bool {
        self.def.get(key).and_then(Value::as_bool) == Some(true)
    }

    /// Set by the server, never by a client: `readOnly` fields (`createdAt`, and the ids of
    /// read-only links such as `modifiedById`) and `notStorable` ones, computed on read
    /// (`hasChildren`, `attributesDefs`, the unit views of a measured field).
    pub(super) fn server_computed(&self) -> bool {
        self.flag("readOnly") || self.flag("notStorable")
    }

    /// The field has a default the server applies to a new record that lacks it.
    pub(super) fn has_server_default(&self) -> bool {
        self.link.is_none() && self.def.get("default").is_some_and(|d| !d.is_null())
    }

    /// The instance requires a value (it can be changed, never emptied).
    pub(super) fn required(&self) -> bool {
        self.flag("required")
    }

    /// A doc line from what the metadata knows.
    pub(super) fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(target) = &self.link_target {
            let many = self.field_type == MetaType::LinkMultiple;
            parts.push(format!("Link{} to `{target}`", if many { "s" } else { "" }));
        } else if !self.field_type.as_str().is_empty() {
            parts.push(format!("AtroCore type `{}`", self.field_type.as_str()));
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

#[cfg(test)]
mod tests {
    use super::{MetaType, field_type_of};

    #[test]
    fn a_definition_s_type_is_read_by_the_shared_model() {
        let def = |t: serde_json::Value| field_type_of(&serde_json::json!({ "type": t }));
        assert_eq!(def("linkMultiple".into()), MetaType::LinkMultiple);
        assert_eq!(
            def("rgbTriplet".into()),
            MetaType::Other("rgbTriplet".into())
        );
        assert_eq!(field_type_of(&serde_json::json!({})).as_str(), "");
        // Not text: a number is no type name.
        assert_eq!(def(5.into()).as_str(), "");
    }
}
