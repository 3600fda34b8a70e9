//! The instance's attribute definitions (`--attributes FILE`, written by `generate
//! --fetch-attributes` or by hand) → typed attributes per entity ([`ir::TypedAttribute`]).
//!
//! The file is ours, the same for both generations:
//!
//! ```json
//! { "attributes": [
//!     { "entity": "Product", "code": "weight", "name": "Weight", "type": "float",
//!       "measure": "Mass", "units": [ { "id": "…", "name": "Kilogram", "code": "kg" } ] },
//!     { "entity": "Product", "code": "colour", "type": "enum",
//!       "options": [ { "value": "red", "label": "Red" } ] } ] }
//! ```
//!
//! `code` is the attribute's key in flattened records and patches (2.2 `code`, 2.3
//! `systemName`); `type` one of AtroCore's attribute types (`app/Atro/Resources/metadata/
//! attributes/*.json`); an option's `value` is what the server stores (2.3 `enum`: the option
//! itself; 2.2 `extensibleEnum`: the option's id). A type this generator does not know is kept
//! as an untyped value, with a warning.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::Error;
use crate::ir::{AttributeKind, AttributeOption, TypedAttribute, Warning};
use crate::naming;

/// One attribute of the definitions file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    /// The entity (wire name).
    entity: String,
    /// The key of its values (2.2 `code`, 2.3 `systemName`).
    code: String,
    /// The attribute's id on the instance the file was read from (informative).
    #[serde(default)]
    #[allow(dead_code)]
    id: Option<String>,
    /// Its label.
    #[serde(default)]
    name: Option<String>,
    /// AtroCore's attribute type.
    #[serde(rename = "type")]
    type_: String,
    /// Per-language values (`<code>DeDe`).
    #[serde(default)]
    multilingual: bool,
    /// The measure of its units, when it has one.
    #[serde(default)]
    measure: Option<String>,
    /// The options of a list.
    #[serde(default)]
    options: Vec<OptionDefinition>,
    /// The units of its measure (`{id, name, code}`; for the simulator, which seeds them).
    #[serde(default)]
    #[allow(dead_code)]
    units: Vec<Value>,
    /// Its attribute group (informative).
    #[serde(default)]
    group: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionDefinition {
    value: String,
    #[serde(default)]
    label: Option<String>,
}

/// AtroCore's attribute types that have a typed handle, and the ones kept untyped on purpose.
fn kind_of(type_: &str) -> Option<Option<AttributeKind>> {
    Some(Some(match type_ {
        "float" => AttributeKind::Float,
        "int" => AttributeKind::Int,
        "bool" => AttributeKind::Bool,
        "varchar" | "text" | "markdown" | "wysiwyg" | "url" => AttributeKind::Text,
        "date" => AttributeKind::Date,
        "datetime" => AttributeKind::DateTime,
        // Placeholders: the options are filled in below.
        "enum" | "extensibleEnum" => AttributeKind::Enum {
            type_name: String::new(),
            options: Vec::new(),
        },
        "multiEnum" | "extensibleMultiEnum" => AttributeKind::MultiEnum {
            type_name: String::new(),
            options: Vec::new(),
        },
        // Known, with values of several fields or of another shape: untyped handles.
        "array" | "rangeInt" | "rangeFloat" | "link" | "linkMultiple" | "file" | "composite" => {
            return Some(None);
        }
        _ => return None,
    }))
}

/// Reads the definitions file `file` (named `origin` in errors) and returns the typed
/// attributes of each entity in `entities`, by entity, in the file's order.
pub(crate) fn lower(
    file: &Value,
    origin: &str,
    entities: &[&str],
    warnings: &mut Vec<Warning>,
) -> Result<BTreeMap<String, Vec<TypedAttribute>>, Error> {
    let bad = |pointer: String, message: String| Error::Spec {
        origin: origin.to_owned(),
        pointer,
        message,
    };
    let list = file
        .get("attributes")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            bad(
                String::new(),
                "expected an object with an `attributes` array".into(),
            )
        })?;
    let mut by_entity: BTreeMap<String, Vec<(Definition, String)>> = BTreeMap::new();
    for (i, item) in list.iter().enumerate() {
        let pointer = format!("/attributes/{i}");
        let def: Definition = serde_json::from_value(item.clone())
            .map_err(|e| bad(pointer.clone(), e.to_string()))?;
        if def.code.is_empty() {
            return Err(bad(
                format!("{pointer}/code"),
                "an attribute needs a code".into(),
            ));
        }
        if !entities.contains(&def.entity.as_str()) {
            continue;
        }
        let same = by_entity.entry(def.entity.clone()).or_default();
        if same.iter().any(|(d, _)| d.code == def.code) {
            return Err(bad(
                format!("{pointer}/code"),
                format!(
                    "{} has two attributes with the code `{}`",
                    def.entity, def.code
                ),
            ));
        }
        same.push((def, pointer));
    }
    let mut out = BTreeMap::new();
    for (entity, defs) in by_entity {
        // Function names (and the fields of the values struct): unique, `values` kept for
        // the struct's constructor.
        let functions = naming::field_names(defs.iter().map(|(d, _)| d.code.as_str()), &["of"]);
        // The module's own items and imports.
        let mut types = naming::Namer::with_reserved(["Values", "Attr", "AttrOption"]);
        let mut attrs = Vec::new();
        for ((def, pointer), function) in defs.into_iter().zip(functions) {
            let kind = match kind_of(&def.type_) {
                Some(Some(AttributeKind::Enum { .. })) => AttributeKind::Enum {
                    type_name: types.claim_camel(&def.code),
                    options: options(&def.options),
                },
                Some(Some(AttributeKind::MultiEnum { .. })) => AttributeKind::MultiEnum {
                    type_name: types.claim_camel(&def.code),
                    options: options(&def.options),
                },
                Some(Some(k)) => k,
                Some(None) => AttributeKind::Untyped,
                None => {
                    warnings.push(Warning {
                        origin: Some(origin.to_owned()),
                        pointer: format!("{pointer}/type"),
                        message: format!(
                            "attribute type `{}` of {entity}.{} is not one this generator \
                             knows: its handle takes and gives JSON values",
                            def.type_, def.code
                        ),
                    });
                    AttributeKind::Untyped
                }
            };
            let mut doc = format!("`{}` ({}", def.code, def.type_);
            if def.multilingual {
                doc.push_str(", multilingual");
            }
            if let Some(m) = &def.measure {
                doc.push_str(&format!(", measure `{m}`"));
            }
            doc.push(')');
            if let Some(n) = def.name.as_deref().filter(|n| !n.is_empty()) {
                doc.push_str(&format!(": {n}"));
            }
            if let Some(g) = def.group.as_deref().filter(|g| !g.is_empty()) {
                doc.push_str(&format!(" (group {g})"));
            }
            doc.push('.');
            attrs.push(TypedAttribute {
                atrocore_type: def.type_,
                code: def.code,
                function,
                doc,
                multilingual: def.multilingual,
                kind,
            });
        }
        out.insert(entity, attrs);
    }
    Ok(out)
}

fn options(defs: &[OptionDefinition]) -> Vec<AttributeOption> {
    // One variant per stored value (the first one's label wins).
    let mut seen = std::collections::BTreeSet::new();
    let defs: Vec<&OptionDefinition> = defs.iter().filter(|o| seen.insert(&o.value)).collect();
    // Variants from the labels (readable) or the values; `Other` holds the unknown ones.
    let names = naming::variant_names(
        defs.iter().map(|o| {
            o.label
                .as_deref()
                .filter(|l| !l.trim().is_empty())
                .unwrap_or(&o.value)
        }),
        &["Other"],
    );
    defs.iter()
        .zip(names)
        .map(|(o, variant)| AttributeOption {
            wire: o.value.clone(),
            variant,
            label: o.label.clone().filter(|l| !l.trim().is_empty()),
        })
        .collect()
}
