//! `atro entities` and `atro fields`.

use comfy_table::{Table, presets};
use futures_util::{StreamExt, stream};

use serde_json::{Value, json};

use super::session::Session;
use crate::args::ListFormat;
use crate::exit::{CliResult, Exit};
use crate::output;

/// Entity names and, unless `no_counts`, their record counts (several count requests at once;
/// an entity the user may not read shows its error instead).
pub async fn entities(s: &mut Session, no_counts: bool, format: ListFormat) -> CliResult<Exit> {
    let client = s.client.clone();
    let names: Vec<String> = s.metadata().await?.entities.keys().cloned().collect();
    if format != ListFormat::Table {
        // For scripts: `{entity, records}` (`records` null when not counted or not readable).
        let rows: Vec<Value> = stream::iter(names)
            .map(|name| {
                let client = client.clone();
                async move {
                    let count = if no_counts {
                        None
                    } else {
                        client.records(&name).list().count().await.ok().flatten()
                    };
                    json!({ "entity": name, "records": count })
                }
            })
            .buffered(8)
            .collect()
            .await;
        let columns = if no_counts {
            vec!["entity".to_owned()]
        } else {
            vec!["entity".to_owned(), "records".to_owned()]
        };
        output::write_records(&mut std::io::stdout().lock(), format, &columns, &rows)?;
        return Ok(Exit::Ok);
    }
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    if no_counts {
        table.set_header(["entity"]);
        for n in &names {
            table.add_row([n]);
        }
    } else {
        table.set_header(["entity", "records"]);
        let counts: Vec<(String, String)> = stream::iter(names)
            .map(|name| {
                let client = client.clone();
                async move {
                    let count = match client.records(&name).list().count().await {
                        Ok(Some(n)) => n.to_string(),
                        Ok(None) => "? (not counted)".to_owned(),
                        Err(e) if e.is_not_found() => "- (no route)".to_owned(),
                        Err(e) if e.is_forbidden() => "- (forbidden)".to_owned(),
                        Err(e) => format!("- ({})", e.kind()),
                    };
                    (name, count)
                }
            })
            .buffered(8)
            .collect()
            .await;
        for (name, count) in counts {
            table.add_row([name, count]);
        }
    }
    output::line(table)?;
    Ok(Exit::Ok)
}

/// The fields of `entity`: name, type, required, unique, read-only, link target.
pub async fn fields(s: &mut Session, entity: &str, format: ListFormat) -> CliResult<Exit> {
    let meta = s.metadata().await?;
    let e = meta.entity(entity)?;
    if format != ListFormat::Table {
        let mut rows: Vec<Value> = e
            .fields
            .values()
            .map(|f| {
                json!({
                    "name": f.name, "kind": f.ty.as_str(), "required": f.required,
                    "unique": f.unique, "readOnly": f.read_only, "linkTo": f.link_entity,
                    "attribute": false,
                })
            })
            .collect();
        let (name, with_attributes) = (e.name.clone(), meta.entities.contains_key("Attribute"));
        if with_attributes {
            for a in attribute_rows(s, &name).await? {
                let [code, ty, ml, measure, label] = a;
                rows.push(json!({
                    "name": code, "kind": ty, "attribute": true, "multilingual": !ml.is_empty(),
                    "measure": Some(measure).filter(|m| !m.is_empty()),
                    "label": Some(label).filter(|l| !l.is_empty()),
                }));
            }
        }
        let columns: Vec<String> = [
            "name",
            "kind",
            "required",
            "unique",
            "readOnly",
            "linkTo",
            "attribute",
            "multilingual",
            "measure",
            "label",
        ]
        .map(str::to_owned)
        .to_vec();
        output::write_records(&mut std::io::stdout().lock(), format, &columns, &rows)?;
        return Ok(Exit::Ok);
    }
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_header([
        "field",
        "kind",
        "required",
        "unique",
        "read-only",
        "link to",
    ]);
    let flag = |b: bool| if b { "yes" } else { "" };
    for f in e.fields.values() {
        table.add_row([
            f.name.as_str(),
            f.ty.as_str(),
            flag(f.required),
            flag(f.unique),
            flag(f.read_only),
            f.link_entity.as_deref().unwrap_or(""),
        ]);
    }
    let (name, with_attributes) = (e.name.clone(), meta.entities.contains_key("Attribute"));
    output::line(table)?;
    if with_attributes {
        attributes(s, &name).await?;
    }
    Ok(Exit::Ok)
}

/// The attributes of `entity` (AtroCore's `Attribute` records): code (2.2 `code`, 2.3
/// `systemName`; the id when it has none), type, multilingual, measure, name. What the typed
/// attributes of a generated crate and `attr:CODE` in `--where` name them by.
async fn attributes(s: &mut Session, entity: &str) -> CliResult<()> {
    let rows = attribute_rows(s, entity).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_header([
        "attribute",
        "type",
        "multilingual",
        "measure",
        "name",
    ]);
    for row in rows {
        table.add_row(row);
    }
    output::line(table)?;
    Ok(())
}

/// The attributes of `entity` as `[code, type, multilingual ("yes" or ""), measure, name]`,
/// sorted; none when the user may not read attributes.
async fn attribute_rows(s: &mut Session, entity: &str) -> CliResult<Vec<[String; 5]>> {
    use atrocore_runtime::{ApiGeneration, Condition, Where};
    let code = match s.client.generation() {
        ApiGeneration::V2_2 => "code",
        _ => "systemName",
    };
    let list = s
        .client
        .records("Attribute")
        .list()
        .filter(Where::from(
            Condition::new("equals").attribute("entityId").value(entity),
        ))
        .select(["id", code, "type", "isMultilang", "measureName", "name"].map(str::to_owned))
        .max_size(200)
        .keyset_stream();
    let found: Vec<serde_json::Value> = match list.collect::<Vec<_>>().await.into_iter().collect() {
        Ok(found) => found,
        // A user who may not read attributes still gets the fields.
        Err(e) if e.is_forbidden() || e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let text = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_default().to_owned();
    let mut rows: Vec<[String; 5]> = found
        .iter()
        .map(|r| {
            let key = Some(text(r, code))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| text(r, "id"));
            let ml = if r["isMultilang"].as_bool() == Some(true) {
                "yes"
            } else {
                ""
            };
            [
                key,
                text(r, "type"),
                ml.to_owned(),
                text(r, "measureName"),
                text(r, "name"),
            ]
        })
        .collect();
    rows.sort();
    Ok(rows)
}
