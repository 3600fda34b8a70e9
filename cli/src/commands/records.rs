//! `atro list`, `atro get`.

use std::io::Write;

use atrocore_runtime::Where;

use super::session::Session;
use crate::args::ListArgs;
use crate::exit::{CliError, CliResult, Exit};
use crate::filter_lang;
use crate::metadata::{Entity, Kind};
use crate::output;

/// Checks `--select` and `--sort` names against the entity.
pub fn check_names(entity: &Entity, names: &[String], what: &str) -> CliResult<()> {
    for n in names {
        if n != "id" && entity.field_or_id(n).is_none() {
            let msg = entity.field(n).err().unwrap_or_default();
            return Err(CliError::usage(format!("{what}: {msg}")));
        }
    }
    Ok(())
}

/// The columns a selection shows: a link field's answer carries `brandId` and `brandName`
/// (`categoriesIds`, `categoriesNames`) rather than `brand`.
pub fn display_columns(entity: &Entity, select: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in select {
        match entity.fields.get(name).map(|f| f.kind) {
            Some(Kind::Link) => {
                out.push(format!("{name}Id"));
                out.push(format!("{name}Name"));
            }
            Some(Kind::LinkMultiple) => {
                out.push(format!("{name}Ids"));
                out.push(format!("{name}Names"));
            }
            _ => out.push(name.clone()),
        }
    }
    out
}

/// The compiled `--where` (empty when not given).
pub fn compile_where(entity: &Entity, filter: Option<&str>) -> CliResult<Where> {
    match filter {
        Some(text) if !text.trim().is_empty() => filter_lang::compile(text, entity),
        _ => Ok(Where::new()),
    }
}

/// The largest page asked for at once.
const PAGE: u64 = 200;

/// One page of records in the chosen format; the total goes to stderr.
pub async fn list(s: &mut Session, args: &ListArgs) -> CliResult<Exit> {
    let client = s.client.clone();
    let entity = s.metadata().await?.entity(&args.entity)?.clone();
    let filter = compile_where(&entity, args.filter.as_deref())?;
    check_names(&entity, &args.select, "--select")?;
    if let Some(sort) = &args.sort {
        check_names(&entity, std::slice::from_ref(sort), "--sort")?;
    }
    let limit = args.limit.max(1);
    let mut request = client.records(&entity.name).list().filter(filter);
    if !args.select.is_empty() {
        let mut select = vec!["id".to_owned()];
        select.extend(args.select.iter().filter(|s| *s != "id").cloned());
        request = request.select(select);
    }
    if let Some(sort) = &args.sort {
        request = request.sort_by(sort.clone()).asc(!args.desc);
    } else if args.desc {
        request = request.sort_by("id").asc(false);
    }
    // AtroCore caps a page (often at 200): larger limits are read page by page.
    let mut page = request
        .clone()
        .offset(args.offset)
        .max_size(limit.min(PAGE))
        .await?;
    while (page.list.len() as u64) < limit {
        let got = page.list.len() as u64;
        if page.total >= 0 && args.offset + got >= page.total as u64 {
            break;
        }
        let more = request
            .clone()
            .offset(args.offset + got)
            .max_size((limit - got).min(PAGE))
            .await?;
        if more.list.is_empty() {
            break;
        }
        page.list.extend(more.list);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let columns = display_columns(&entity, &args.select);
    output::write_records(&mut out, args.format, &columns, &page.list)?;
    output::written(out.flush())?;
    if page.total >= 0 {
        eprintln!("{} of {} records", page.list.len(), page.total);
    }
    Ok(Exit::Ok)
}

/// One record, pretty JSON.
pub async fn get(s: &mut Session, entity: &str, id: &str) -> CliResult<Exit> {
    let client = s.client.clone();
    let entity = s.metadata().await?.entity(entity)?.name.clone();
    let record = client.records(&entity).read(id).await?;
    let text = serde_json::to_string_pretty(&record).map_err(|e| CliError::other(e.to_string()))?;
    output::line(text)?;
    Ok(Exit::Ok)
}
