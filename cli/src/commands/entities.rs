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
    output::line(table)?;
    Ok(Exit::Ok)
}
