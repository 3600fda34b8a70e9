//! `atro entities` and `atro fields`.

use comfy_table::{Table, presets};
use futures_util::{StreamExt, stream};

use super::session::Session;
use crate::exit::{CliResult, Exit};
use crate::output;

/// Entity names and, unless `no_counts`, their record counts (several count requests at once;
/// an entity the user may not read shows its error instead).
pub async fn entities(s: &mut Session, no_counts: bool) -> CliResult<Exit> {
    let client = s.client.clone();
    let names: Vec<String> = s.metadata().await?.entities.keys().cloned().collect();
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
pub async fn fields(s: &mut Session, entity: &str) -> CliResult<Exit> {
    let meta = s.metadata().await?;
    let e = meta.entity(entity)?;
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
        Err(e) if e.is_forbidden() || e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if found.is_empty() {
        return Ok(());
    }
    let text = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_default().to_owned();
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_header([
        "attribute",
        "type",
        "multilingual",
        "measure",
        "name",
    ]);
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
    for row in rows {
        table.add_row(row);
    }
    output::line(table)?;
    Ok(())
}
