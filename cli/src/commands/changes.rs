//! `atro export E --since-state FILE`: the records created, modified or deleted since the state
//! saved in FILE (the runtime's change feed), one line or row each with a `_change` column
//! (`modified` or `deleted`); the new state is saved in FILE after a complete run only.
//!
//! **Interruptions.** While it runs, a checkpoint `FILE.partial` names the output, how many of
//! its bytes hold complete changes and the feed's watermark after the last of them; it is
//! written after every page (the output flushed first) and once before the first. Run again
//! with the same command: the output is cut to the checkpoint's bytes and the feed goes on from
//! its watermark, so no change is lost or written twice. The state file and the checkpoint are
//! replaced by rename, never written in place.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use atrocore_runtime::{Change, Watermark};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::records::{check_names, compile_where, display_columns};
use super::session::Session;
use super::sink::{Sink, format_of};
use crate::args::{ExportArgs, FileFormat};
use crate::exit::{CliError, CliResult, Exit};
use crate::progress::{Progress, Unit};

/// The column that says what happened to a record.
const CHANGE_COLUMN: &str = "_change";

/// What `--since-state FILE` holds between runs.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// The entity the feed reads.
    entity: String,
    /// The `--where` the feed was made with: another filter would not be the same feed.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    /// Every change up to here was written by a complete run.
    watermark: Watermark,
}

/// The checkpoint of a run in progress (`FILE.partial`).
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    /// The output being written.
    output: PathBuf,
    /// Bytes of the output that hold complete changes.
    keep_len: u64,
    /// Changes in those bytes.
    count: u64,
    /// The feed's position after the last of them.
    watermark: Watermark,
}

fn partial_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> CliResult<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            CliError::usage(format!(
                "{} is not a state this tool wrote: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::other(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Writes `value` to `path` by way of a temporary file beside it, synced, then renamed.
fn replace_json<T: Serialize>(path: &Path, value: &T) -> CliResult<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let io = |e: std::io::Error| CliError::other(format!("cannot write {}: {e}", path.display()));
    let mut file = File::create(&tmp).map_err(io)?;
    let text = serde_json::to_vec_pretty(value).map_err(|e| CliError::other(e.to_string()))?;
    file.write_all(&text).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// A change as one output record: the record with `_change`.
fn line(change: Change<Value>) -> Value {
    let deleted = change.is_deleted();
    let mut record = change.into_record();
    if let Value::Object(map) = &mut record {
        map.insert(
            CHANGE_COLUMN.to_owned(),
            Value::from(if deleted { "deleted" } else { "modified" }),
        );
    }
    record
}

/// Runs `atro export … --since-state state`.
pub async fn run(s: &mut Session, args: &ExportArgs, state_path: &Path) -> CliResult<Exit> {
    let path = args.output.as_path();
    if super::files::is_stdout(path) {
        // The checkpoint records how many bytes of the output are complete: a file's.
        return Err(CliError::usage(
            "--since-state writes a file it can resume: -o - (standard output) cannot be used",
        ));
    }
    let format = args.format.or_else(|| format_of(path)).ok_or_else(|| {
        CliError::usage(format!(
            "cannot tell the format from the name {}: pass --format csv or --format jsonl",
            path.display()
        ))
    })?;
    let entity = s.metadata().await?.entity(&args.entity)?.clone();
    let filter = compile_where(&entity, args.filter.as_deref())?;
    check_names(&entity, &args.select, "--select")?;
    let state: State = read_json(state_path)?.unwrap_or_else(|| State {
        entity: entity.name.clone(),
        filter: args.filter.clone(),
        watermark: Watermark::beginning(),
    });
    if state.entity != entity.name || state.filter != args.filter {
        return Err(CliError::usage(format!(
            "{} is the state of the changes to {}{}: run with that entity and filter, or name \
             another state file",
            state_path.display(),
            state.entity,
            state
                .filter
                .as_deref()
                .map(|f| format!(" where {f}"))
                .unwrap_or_default()
        )));
    }
    let partial = partial_path(state_path);
    let checkpoint: Option<Checkpoint> = read_json(&partial)?;
    let existing = std::fs::metadata(path).map(|m| m.len()).ok();
    let (from, keep, already) = match &checkpoint {
        Some(c) if c.output != path => {
            return Err(CliError::usage(format!(
                "an interrupted run writing {} is pending in {}: run again with -o {}",
                c.output.display(),
                partial.display(),
                c.output.display()
            )));
        }
        Some(c) if existing.unwrap_or(0) < c.keep_len => {
            return Err(CliError::usage(format!(
                "{} holds fewer bytes ({}) than the {} changes its interrupted run wrote ({}): \
                 remove {} to start this run again",
                path.display(),
                existing.unwrap_or(0),
                c.count,
                c.keep_len,
                partial.display()
            )));
        }
        Some(c) => (c.watermark.clone(), c.keep_len, c.count),
        None if existing.unwrap_or(0) > 0 && !args.force => {
            return Err(CliError::usage(format!(
                "{} exists: pass --force to overwrite it (the changes it holds are not written again)",
                path.display()
            )));
        }
        None => (state.watermark.clone(), 0, 0),
    };
    let mut columns = (!args.select.is_empty()).then(|| {
        let mut c = display_columns(&entity, &args.select);
        if !c.iter().any(|x| x == "id") {
            c.insert(0, "id".to_owned());
        }
        c.push(CHANGE_COLUMN.to_owned());
        c
    });
    if keep > 0 && format == FileFormat::Csv {
        // The header the interrupted run wrote.
        let mut reader = csv::Reader::from_path(path)
            .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?
            .iter()
            .map(str::to_owned)
            .collect();
        columns = Some(header);
    }
    if let (Some(c), 0) = (columns.as_mut(), keep) {
        for a in &args.attributes {
            if !c.contains(a) {
                c.insert(c.len() - 1, a.clone());
            }
        }
    }
    let mut sink = Sink::open(
        path,
        format,
        columns,
        args.attributes.clone(),
        keep,
        super::sink::CsvOut::of(args)?,
    )?;
    let mut mark = Checkpoint {
        output: path.to_path_buf(),
        keep_len: keep,
        count: already,
        watermark: from.clone(),
    };
    replace_json(&partial, &mark)?;

    let mut list = s
        .client
        .records(&entity.name)
        .list()
        .filter(filter)
        .attributes(args.attributes.clone())
        .max_size(args.page_size.max(1));
    if !args.select.is_empty() {
        list = list.select(args.select.clone());
    }
    let mut feed = list
        .changes_since(&from)
        .settle(Duration::from_secs(args.settle))
        .stream();
    let mut progress = Progress::new("changes", Unit::Records, None, already);
    let (mut written, mut deleted) = (0u64, 0u64);
    let mut last = from;
    // Flushes the output and moves the checkpoint to what it holds.
    let checkpoint = |sink: &mut Sink, mark: &mut Checkpoint, last: &Watermark, n: u64| {
        sink.flush()?;
        mark.keep_len = std::fs::metadata(path)?.len();
        mark.count = already + n;
        mark.watermark = last.clone();
        replace_json(&partial, &*mark)
    };
    let result: CliResult<()> = async {
        while let Some(change) = feed.try_next().await? {
            deleted += u64::from(change.is_deleted());
            last = change.watermark().clone();
            sink.write(&line(change))?;
            written += 1;
            progress.inc(1);
            if written.is_multiple_of(args.page_size.max(1)) {
                checkpoint(&mut sink, &mut mark, &last, written)?;
            }
        }
        Ok(())
    }
    .await;
    let saved = checkpoint(&mut sink, &mut mark, &last, written);
    match result.and(saved) {
        Ok(()) => {
            sink.sync()?;
            replace_json(
                state_path,
                &State {
                    watermark: last,
                    ..state
                },
            )?;
            std::fs::remove_file(&partial).map_err(|e| {
                CliError::other(format!("cannot remove {}: {e}", partial.display()))
            })?;
            progress.finish();
            eprintln!(
                "exported {written} changes ({deleted} deletions) to {} ({} in the file); state \
                 saved in {}",
                path.display(),
                already + written,
                state_path.display()
            );
            Ok(Exit::Ok)
        }
        Err(e) => {
            progress.abandon();
            Err(e.context(format!(
                "stopped after {written} more changes ({} in {}); run the same command again to \
                 continue",
                already + written,
                path.display()
            )))
        }
    }
}
