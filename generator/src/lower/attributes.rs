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
//! itself; 2.2 `extensibleEnum`: the option's id) and its `code` (2.2: `ExtensibleEnumOption.code`,
//! unique on an instance) what the generated enum names it by when present, so that the crate
//! works on instances whose option ids differ; a unit's `code` likewise. A type this generator
//! does not know is kept as an untyped value, with a warning.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::Error;
use crate::ir::{AttributeKind, AttributeOption, TypedAttribute, UnitList, Warning};
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
    /// The units of its measure (the simulator seeds them too).
    #[serde(default)]
    units: Vec<UnitDefinition>,
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
    /// 2.2: the option's code (`ExtensibleEnumOption.code`).
    #[serde(default)]
    code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitDefinition {
    /// The unit's id on the instance the file was read from.
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// `Unit.code`, unique on an instance.
    #[serde(default)]
    code: Option<String>,
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
        "rangeFloat" => AttributeKind::RangeFloat,
        "rangeInt" => AttributeKind::RangeInt,
        "array" | "link" | "linkMultiple" | "file" | "composite" => {
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
    for (entity, mut defs) in by_entity {
        // By code: the output does not depend on the file's order (a file fetched from an
        // instance is sorted so; one written by hand need not be).
        defs.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        // Function names (and the fields of the values struct): unique, `values` kept for
        // the struct's constructor.
        let functions = naming::field_names(defs.iter().map(|(d, _)| d.code.as_str()), &["of"]);
        // The module's own items and imports.
        let mut types = naming::Namer::with_reserved([
            "Values",
            "Attr",
            "AttrOption",
            "CodeOf",
            "UnitRef",
            "Range",
        ]);
        // Unit enums by measure, named on first use.
        let mut unit_types: BTreeMap<String, String> = BTreeMap::new();
        let mut attrs = Vec::new();
        for ((def, pointer), function) in defs.into_iter().zip(functions) {
            // Options are named by code where AtroCore stores ids (2.2 extensible enums).
            let by_code = def.type_.starts_with("extensible");
            let kind = match kind_of(&def.type_) {
                Some(Some(AttributeKind::Enum { .. })) => AttributeKind::Enum {
                    type_name: types.claim_camel(&def.code),
                    options: options(&def.options, by_code),
                },
                Some(Some(AttributeKind::MultiEnum { .. })) => AttributeKind::MultiEnum {
                    type_name: types.claim_camel(&def.code),
                    options: options(&def.options, by_code),
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
            let units = match (&def.measure, def.units.is_empty()) {
                (Some(measure), false) => {
                    let declared_here = !unit_types.contains_key(measure);
                    let type_name = unit_types
                        .entry(measure.clone())
                        .or_insert_with(|| types.claim_camel(&format!("{measure} unit")))
                        .clone();
                    let as_options: Vec<OptionDefinition> = def
                        .units
                        .iter()
                        .filter_map(|u| {
                            Some(OptionDefinition {
                                value: u.id.clone().or_else(|| u.code.clone())?,
                                label: u.name.clone(),
                                code: u.code.clone(),
                            })
                        })
                        .collect();
                    Some(UnitList {
                        type_name,
                        declared_here,
                        units: unit_options(&as_options),
                    })
                }
                _ => None,
            };
            attrs.push(TypedAttribute {
                atrocore_type: def.type_,
                code: def.code,
                function,
                doc,
                multilingual: def.multilingual,
                kind,
                units,
            });
        }
        out.insert(entity, attrs);
    }
    Ok(out)
}

/// The options of a list; with `by_code`, those with a code are named by it.
fn options(defs: &[OptionDefinition], by_code: bool) -> Vec<AttributeOption> {
    // Variants from the labels (readable) or the values; `Other` holds the unknown ones.
    named(defs, by_code, |o| {
        o.label
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or(&o.value)
    })
}

/// The units of a measure, named by code (variants from the codes: `Kg`, `Cm`).
fn unit_options(defs: &[OptionDefinition]) -> Vec<AttributeOption> {
    named(defs, true, |o| {
        o.code
            .as_deref()
            .or(o.label.as_deref())
            .filter(|l| !l.trim().is_empty())
            .unwrap_or(&o.value)
    })
}

fn named(
    defs: &[OptionDefinition],
    by_code: bool,
    name: impl Fn(&OptionDefinition) -> &str,
) -> Vec<AttributeOption> {
    let code_of = |o: &OptionDefinition| {
        o.code
            .as_deref()
            .filter(|c| by_code && !c.trim().is_empty())
            .map(str::to_owned)
    };
    // One variant per wire value (the first one's label wins).
    let mut seen = std::collections::BTreeSet::new();
    let defs: Vec<&OptionDefinition> = defs
        .iter()
        .filter(|o| seen.insert(code_of(o).unwrap_or_else(|| o.value.clone())))
        .collect();
    let names = naming::variant_names(defs.iter().map(|o| name(o)), &["Other"]);
    let label = |o: &OptionDefinition| o.label.clone().filter(|l| !l.trim().is_empty());
    let mut label_count: BTreeMap<String, usize> = BTreeMap::new();
    for o in &defs {
        if let Some(l) = label(o) {
            *label_count.entry(l).or_default() += 1;
        }
    }
    defs.iter()
        .zip(names)
        .map(|(o, variant)| {
            let code = code_of(o);
            AttributeOption {
                by_code: code.is_some(),
                read_label: label(o).filter(|l| code.is_some() && label_count[l] == 1),
                wire: code.unwrap_or_else(|| o.value.clone()),
                variant,
                label: label(o),
            }
        })
        .collect()
}
