//! `atro delete` and `atro update`: the ids given, or every record a `--where` filter (or
//! `--all`) selects, through the runtime's mass actions. A filter needs `--yes`; without it the
//! matching records are counted and nothing changes. A queued job is reported by its id, and
//! with `--wait` waited for.

use atrocore_runtime::{MassOutcome, MassSelection, Where};
use serde_json::{Map, Value};

use super::import_values::{self, Column};
use super::records::compile_where;
use super::session::Session;
use crate::args::{DeleteArgs, SelectionArgs, UpdateArgs};
use crate::exit::{CliError, CliResult, Exit};
use crate::metadata::Entity;

/// What a selection came to: records to act on, or the count a run without `--yes` reports.
enum Selected {
    Go(MassSelection),
    DryRun,
}

/// The selection of `args`; with a filter and no `--yes`, counts the matches and says so.
async fn select(
    s: &Session,
    entity: &Entity,
    args: &SelectionArgs,
    verb: &str,
) -> CliResult<Selected> {
    if !args.ids.is_empty() {
        return Ok(Selected::Go(MassSelection::Ids(args.ids.clone())));
    }
    let filter = match (&args.filter, args.all) {
        (Some(text), _) if !text.trim().is_empty() => compile_where(entity, Some(text))?,
        (Some(_), _) => {
            return Err(CliError::usage(
                "--where is empty: name the records, or use --all for every record",
            ));
        }
        (None, true) => Where::new(),
        (None, false) => {
            return Err(CliError::usage(
                "name the records: ids, --where EXPRESSION, or --all",
            ));
        }
    };
    if !args.yes {
        let total = s
            .client
            .records(&entity.name)
            .list()
            .filter(filter)
            .count()
            .await?
            .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string());
        eprintln!(
            "{total} {} records match; nothing changed (add --yes to {verb} them)",
            entity.name
        );
        return Ok(Selected::DryRun);
    }
    Ok(Selected::Go(MassSelection::Filter(filter)))
}

/// Prints an outcome (see [`report`]); with `--wait`, waits for a queued job first and adds
/// what its status says.
async fn finish(
    s: &Session,
    args: &SelectionArgs,
    entity: &str,
    done_verb: &str,
    outcome: &MassOutcome,
) -> CliResult<Exit> {
    let exit = report(entity, done_verb, outcome);
    let Some(job) = outcome.job_id.as_deref().filter(|_| args.wait) else {
        return Ok(exit);
    };
    eprintln!("waiting for job {job}…");
    let status = s
        .client
        .wait_for_mass_action(job)
        .timeout(std::time::Duration::from_secs(args.wait_timeout))
        .await
        .map_err(|e| {
            if e.is_timeout() {
                CliError::from(e).context(format!(
                    "job {job} not done after {} s (--wait-timeout); it goes on on the server \
                     (is its cron running?)",
                    args.wait_timeout
                ))
            } else {
                CliError::from(e)
            }
        })?;
    println!("job {job} done");
    for line in status.messages.iter().chain(&status.errors) {
        eprintln!("{line}");
    }
    Ok(if status.errors.is_empty() {
        exit
    } else {
        Exit::Partial
    })
}

/// Prints an outcome: what was done, or the job; the per-record errors on stderr (exit 1).
fn report(entity: &str, done_verb: &str, outcome: &MassOutcome) -> Exit {
    let count = outcome
        .count
        .map_or_else(|| "the".to_owned(), |n| n.to_string());
    if outcome.queued {
        match &outcome.job_id {
            Some(job) => {
                println!("queued: {count} {entity} records to be {done_verb} by job {job}")
            }
            None => println!("queued: {count} {entity} records to be {done_verb} by a job"),
        }
    } else {
        println!("{done_verb} {count} {entity} records");
    }
    for e in &outcome.errors {
        eprintln!("{e}");
    }
    if outcome.errors.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    }
}

/// `atro delete ENTITY ID…` / `--where` / `--all`. One id without `--permanently` is a plain
/// delete (a missing record is exit code 4).
pub async fn delete(s: &mut Session, args: &DeleteArgs) -> CliResult<Exit> {
    let entity = s.metadata().await?.entity(&args.selection.entity)?.clone();
    if let [id] = args.selection.ids.as_slice()
        && !args.permanently
    {
        s.client.records(&entity.name).delete(id).await?;
        println!("deleted {} {id}", entity.name);
        return Ok(Exit::Ok);
    }
    let selection = match select(s, &entity, &args.selection, "delete").await? {
        Selected::Go(selection) => selection,
        Selected::DryRun => return Ok(Exit::Usage),
    };
    let outcome = s
        .client
        .mass_delete(&entity.name, selection)
        .permanently(args.permanently)
        .await?;
    finish(s, &args.selection, &entity.name, "deleted", &outcome).await
}

/// `atro update ENTITY ID… --set field=value…` / `--where` / `--all`.
pub async fn update(s: &mut Session, args: &UpdateArgs) -> CliResult<Exit> {
    let entity = s.metadata().await?.entity(&args.selection.entity)?.clone();
    let values = values(&entity, &args.set)?;
    let selection = match select(s, &entity, &args.selection, "update").await? {
        Selected::Go(selection) => selection,
        Selected::DryRun => return Ok(Exit::Usage),
    };
    let outcome = s
        .client
        .mass_update(&entity.name, selection, &Value::Object(values))
        .await?;
    finish(s, &args.selection, &entity.name, "updated", &outcome).await
}

/// The fields of `--set name=value…`, each typed by its field's kind like an import cell
/// (`brand=ID`, `brand.name=Acme` finds or creates); an empty value sets null.
fn values(entity: &Entity, set: &[String]) -> CliResult<Map<String, Value>> {
    let mut out = Map::new();
    for item in set {
        let Some((name, text)) = item.split_once('=') else {
            return Err(CliError::usage(format!(
                "--set {item}: expected FIELD=VALUE"
            )));
        };
        let name = name.trim();
        let bad = |m: String| CliError::usage(format!("--set {name}: {m}"));
        let col = import_values::column(entity, name).map_err(bad)?;
        match col {
            Column::Id => return Err(bad("the id cannot be changed".into())),
            Column::Skip => return Err(bad("the field is read-only".into())),
            _ => {}
        }
        let value = import_values::cell_value(&col, text)
            .map_err(bad)?
            .unwrap_or(Value::Null);
        import_values::put(&mut out, &col, value).map_err(bad)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Metadata;
    use serde_json::json;

    fn brand() -> Entity {
        let doc = json!({ "entityDefs": { "Brand": { "fields": {
            "name": { "type": "varchar", "required": true },
            "isActive": { "type": "bool" },
            "sortOrder": { "type": "int" },
            "description": { "type": "text" },
            "createdAt": { "type": "datetime", "readOnly": true }
        }, "links": {} } } });
        Metadata::from_json(&doc)
            .unwrap()
            .entity("Brand")
            .unwrap()
            .clone()
    }

    #[test]
    fn set_values_are_typed_by_field_kind() {
        let e = brand();
        let v = values(
            &e,
            &[
                "isActive=true".into(),
                "sortOrder=7".into(),
                "description=".into(),
                "name=A=B".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            Value::Object(v),
            json!({ "isActive": true, "sortOrder": 7, "description": null, "name": "A=B" })
        );
        for (bad, says) in [
            ("isActive=maybe", "isActive"),
            ("nmae=x", "nmae"),
            ("createdAt=2020-01-01", "read-only"),
            ("id=x", "id cannot"),
            ("name", "FIELD=VALUE"),
        ] {
            let e = values(&e, &[bad.into()]).unwrap_err();
            assert_eq!(e.code, Exit::Usage, "{bad}");
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
    }
}
