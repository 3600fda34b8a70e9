//! Which entities to generate (or keep in a reduced spec): the include/exclude filter, then,
//! with instance metadata, the targets of the selected entities' required links, transitively.
//!
//! AtroCore refuses to create a record whose required link is empty (an `Attribute` needs an
//! `AttributePanel`; its repository also checks the panel exists), so a cut that keeps
//! `Attribute` but drops `AttributePanel` cannot run the attribute flows. Selection reports what
//! it added and which required links stay unmet; the caller prints them (the library does no
//! I/O).

use std::collections::{BTreeSet, VecDeque};
use std::fmt;

use serde_json::Value;

use crate::spec::escape_pointer_token;
use crate::{EntityFilter, Error};

/// The entities selected, and what following required links did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The selected entities.
    pub entities: BTreeSet<String>,
    /// Entities added because a selected entity's required link points at them, in the order
    /// they were added.
    pub added: Vec<RequiredLink>,
    /// Required links of selected entities whose target is not selected.
    pub unmet: Vec<UnmetLink>,
}

/// A required link field: `entity.field` points at `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredLink {
    /// The entity holding the field (`Attribute`).
    pub entity: String,
    /// The link field (`attributePanel`).
    pub field: String,
    /// The entity it points at (`AttributePanel`).
    pub target: String,
}

impl fmt::Display for RequiredLink {
    /// `Attribute.attributePanel is required → AttributePanel added`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} is required → {} added",
            self.entity, self.field, self.target
        )
    }
}

/// Why a required link's target is not selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmet {
    /// The spec has no such entity (AtroCore's `Entity`, say): ids come from elsewhere.
    NotInSpec,
    /// The filter excludes it (an exclusion wins over a required link).
    Excluded,
    /// Required links are not followed ([`EntityFilter::required_links`] is off).
    NotFollowed,
}

/// A required link of a selected entity whose target is not selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetLink {
    /// The link.
    pub link: RequiredLink,
    /// Why its target is missing.
    pub reason: Unmet,
}

impl fmt::Display for UnmetLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RequiredLink {
            entity,
            field,
            target,
        } = &self.link;
        let why = match self.reason {
            Unmet::NotInSpec => "is not an entity of the spec (its ids must come from elsewhere)",
            Unmet::Excluded => "is excluded",
            Unmet::NotFollowed => "is not selected (required links are not followed)",
        };
        write!(
            f,
            "{entity}.{field} is required, but its target {target} {why}"
        )
    }
}

/// Select entities from `all` (the spec's entities) by `filter`; unknown names are an error.
///
/// With `metadata` (the instance's `Metadata`) and [`EntityFilter::required_links`] on, the
/// targets of required `link`, `linkMultiple` and `file` fields of every selected entity
/// (`entityDefs.E.fields.F.required`, target from `entityDefs.E.links.F.entity` or the field's
/// own `entity`) are selected too, transitively, unless excluded or absent from the spec.
/// Without metadata the result is the plain filter.
pub fn select_entities(
    all: &[String],
    filter: &EntityFilter,
    metadata: Option<&Value>,
) -> Result<Selection, Error> {
    let known: BTreeSet<&str> = all.iter().map(String::as_str).collect();
    let unknown: Vec<&str> = filter
        .include
        .iter()
        .chain(&filter.exclude)
        .map(String::as_str)
        .filter(|n| !known.contains(n))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Filter(format!(
            "unknown entit{} {} (the spec has: {})",
            if unknown.len() == 1 { "y" } else { "ies" },
            unknown.join(", "),
            all.join(", ")
        )));
    }
    let mut selection = Selection {
        entities: all
            .iter()
            .filter(|n| filter.include.is_empty() || filter.include.contains(n))
            .filter(|n| !filter.exclude.contains(n))
            .cloned()
            .collect(),
        ..Selection::default()
    };
    let Some(metadata) = metadata else {
        return Ok(selection);
    };
    let mut queue: VecDeque<String> = selection.entities.iter().cloned().collect();
    while let Some(entity) = queue.pop_front() {
        for link in required_links(metadata, &entity) {
            if selection.entities.contains(&link.target) {
                continue;
            }
            let reason = if !known.contains(link.target.as_str()) {
                Unmet::NotInSpec
            } else if filter.exclude.contains(&link.target) {
                Unmet::Excluded
            } else if !filter.required_links {
                Unmet::NotFollowed
            } else {
                selection.entities.insert(link.target.clone());
                queue.push_back(link.target.clone());
                selection.added.push(link);
                continue;
            };
            selection.unmet.push(UnmetLink { link, reason });
        }
    }
    Ok(selection)
}

/// The required link fields of `entity` in the instance metadata, in metadata order.
pub fn required_links(metadata: &Value, entity: &str) -> Vec<RequiredLink> {
    let pointer = |part: &str| {
        metadata.pointer(&format!(
            "/entityDefs/{}/{part}",
            escape_pointer_token(entity)
        ))
    };
    let Some(fields) = pointer("fields").and_then(Value::as_object) else {
        return Vec::new();
    };
    let links = pointer("links");
    fields
        .iter()
        .filter(|(_, def)| def.get("required").and_then(Value::as_bool) == Some(true))
        .filter_map(|(field, def)| {
            let field_type = def.get("type").and_then(Value::as_str)?;
            let declared = links
                .and_then(|l| l.get(field))
                .and_then(|l| l.get("entity"))
                .or_else(|| def.get("entity"))
                .and_then(Value::as_str);
            let target = match (field_type, declared) {
                ("link" | "linkMultiple" | "file", Some(t)) => t,
                // A `file` field links to `File` without saying so.
                ("file", None) => "File",
                _ => return None,
            };
            Some(RequiredLink {
                entity: entity.to_owned(),
                field: field.clone(),
                target: target.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn filter(include: &[&str], exclude: &[&str]) -> EntityFilter {
        EntityFilter {
            include: names(include),
            exclude: names(exclude),
            ..EntityFilter::default()
        }
    }

    /// Attribute → AttributePanel (field-level `entity`, as AtroCore declares it) → Entity
    /// (not in the spec); Unit → Measure (via `links`); Sharing → File (a `file` field).
    fn metadata() -> Value {
        json!({"entityDefs": {
            "Attribute": {
                "fields": {
                    "name": {"type": "varchar", "required": true},
                    "attributePanel": {"type": "link", "entity": "AttributePanel", "required": true},
                    "attributeGroup": {"type": "link", "required": false},
                    "entity": {"type": "link", "entity": "Entity", "required": true}
                },
                "links": {"attributeGroup": {"type": "belongsTo", "entity": "AttributeGroup"}}
            },
            "AttributePanel": {
                "fields": {"entity": {"type": "link", "entity": "Entity", "required": true}}
            },
            "Unit": {
                "fields": {"measure": {"type": "link", "required": true}},
                "links": {"measure": {"type": "belongsTo", "entity": "Measure"}}
            },
            "Measure": {"fields": {"units": {"type": "linkMultiple"}}},
            "Sharing": {"fields": {"file": {"type": "file", "required": true}}}
        }})
    }

    fn all() -> Vec<String> {
        names(&[
            "Attribute",
            "AttributeGroup",
            "AttributePanel",
            "File",
            "Measure",
            "Sharing",
            "Unit",
        ])
    }

    fn link(entity: &str, field: &str, target: &str) -> RequiredLink {
        RequiredLink {
            entity: entity.into(),
            field: field.into(),
            target: target.into(),
        }
    }

    #[test]
    fn required_link_pulls_its_target_in() {
        let s = select_entities(&all(), &filter(&["Unit"], &[]), Some(&metadata())).unwrap();
        assert_eq!(s.entities, ["Measure", "Unit"].map(String::from).into());
        assert_eq!(s.added, [link("Unit", "measure", "Measure")]);
        assert_eq!(
            s.added[0].to_string(),
            "Unit.measure is required → Measure added"
        );
        assert!(s.unmet.is_empty());
    }

    #[test]
    fn file_fields_pull_file_in() {
        let s = select_entities(&all(), &filter(&["Sharing"], &[]), Some(&metadata())).unwrap();
        assert_eq!(s.added, [link("Sharing", "file", "File")]);
    }

    #[test]
    fn targets_are_followed_transitively_and_missing_ones_reported() {
        let md = json!({"entityDefs": {
            "Unit": {"fields": {"measure": {"type": "link", "entity": "Measure", "required": true}}},
            "Measure": {"fields": {"file": {"type": "file", "required": true}}}
        }});
        let s = select_entities(&all(), &filter(&["Unit"], &[]), Some(&md)).unwrap();
        assert_eq!(
            s.entities,
            ["File", "Measure", "Unit"].map(String::from).into()
        );
        assert_eq!(
            s.added,
            [
                link("Unit", "measure", "Measure"),
                link("Measure", "file", "File")
            ]
        );

        // Attribute → AttributePanel → Entity: both `entity` links are unmet, not errors.
        let s = select_entities(&all(), &filter(&["Attribute"], &[]), Some(&metadata())).unwrap();
        assert_eq!(
            s.entities,
            ["Attribute", "AttributePanel"].map(String::from).into()
        );
        assert_eq!(
            s.added[0].to_string(),
            "Attribute.attributePanel is required → AttributePanel added"
        );
        assert_eq!(
            s.unmet,
            [
                UnmetLink {
                    link: link("Attribute", "entity", "Entity"),
                    reason: Unmet::NotInSpec
                },
                UnmetLink {
                    link: link("AttributePanel", "entity", "Entity"),
                    reason: Unmet::NotInSpec
                },
            ]
        );
        assert_eq!(
            s.unmet[0].to_string(),
            "Attribute.entity is required, but its target Entity is not an entity of the spec (its ids must come from elsewhere)"
        );
    }

    #[test]
    fn exclusion_wins_and_is_reported() {
        let s = select_entities(
            &all(),
            &filter(&["Attribute"], &["AttributePanel"]),
            Some(&metadata()),
        )
        .unwrap();
        assert_eq!(s.entities, ["Attribute"].map(String::from).into());
        assert!(s.added.is_empty());
        assert!(s.unmet.contains(&UnmetLink {
            link: link("Attribute", "attributePanel", "AttributePanel"),
            reason: Unmet::Excluded
        }));
    }

    #[test]
    fn opt_out_keeps_the_filter_and_reports() {
        let f = EntityFilter {
            required_links: false,
            ..filter(&["Unit"], &[])
        };
        let s = select_entities(&all(), &f, Some(&metadata())).unwrap();
        assert_eq!(s.entities, ["Unit"].map(String::from).into());
        assert!(s.added.is_empty());
        assert_eq!(
            s.unmet[0].to_string(),
            "Unit.measure is required, but its target Measure is not selected (required links are not followed)"
        );
    }

    #[test]
    fn without_metadata_only_the_filter_counts() {
        let s = select_entities(&all(), &filter(&["Attribute", "Unit"], &[]), None).unwrap();
        assert_eq!(s.entities, ["Attribute", "Unit"].map(String::from).into());
        assert!(s.added.is_empty() && s.unmet.is_empty());
        // No include list: everything but the exclusions.
        let s = select_entities(&all(), &filter(&[], &["Measure"]), None).unwrap();
        assert_eq!(s.entities.len(), all().len() - 1);
    }

    #[test]
    fn generate_and_lower_use_the_same_selection() {
        let route =
            |e: &str| json!({"get": {"tags": [e], "responses": {"200": {"description": "ok"}}}});
        let mut paths = serde_json::Map::new();
        let mut schemas = serde_json::Map::new();
        for e in ["Attribute", "AttributePanel", "Product"] {
            paths.insert(format!("/{e}"), route(e));
            paths.insert(format!("/{e}/{{id}}"), route(e));
            schemas.insert(e.into(), json!({"type": "object", "properties": {}}));
        }
        let spec = crate::spec::Spec::from_value(
            "inline.json",
            json!({"openapi": "3.0.0", "servers": [{"url": "/api/v1"}],
                   "paths": paths, "components": {"schemas": schemas}}),
        )
        .unwrap();
        let settings = crate::Settings {
            filter: filter(&["Attribute"], &[]),
            metadata: Some(metadata()),
            ..crate::Settings::default()
        };
        let out = crate::generate(&spec, &settings).unwrap();
        assert!(out.files.contains_key("src/attribute_panel.rs"));
        assert!(!out.files.contains_key("src/product.rs"));
        assert_eq!(
            out.selection.added,
            [link("Attribute", "attributePanel", "AttributePanel")]
        );
        let api = crate::lower::lower(&spec, &settings).unwrap();
        assert_eq!(api.entities.len(), 2);
    }

    #[test]
    fn unknown_names_are_an_error() {
        let err = select_entities(&all(), &filter(&["Prodcut"], &[]), Some(&metadata()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown entity Prodcut"), "{err}");
    }
}
