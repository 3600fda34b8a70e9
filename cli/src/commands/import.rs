//! `atro import`: rows of a CSV or JSONL file, checked against the metadata, sent through the
//! runtime's bulk upsert (batches, several in flight); rows that fail (here or on the server) go
//! to a reject file with their input line and the reason, and a summary counts what happened.
//!
//! Rows are read only as their batch is sent: memory holds the batches in flight, not the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use atrocore_runtime::{UpsertItem, UpsertStatus};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::csv_dialect::{self, Dialect};
use super::import_values::{
    Column, attribute_column, cell_value, column, missing_required, put, put_json,
};
use super::session::Session;
use super::sink::format_of;
use crate::args::{FileFormat, ImportArgs};
use crate::exit::{CliError, CliResult, Exit, code_of};
use crate::metadata::Entity;
use crate::output;
use crate::progress::{Progress, Unit};

/// One input row as read: its line and its original form (for the reject file).
#[derive(Debug, Clone)]
enum Raw {
    Csv(csv::StringRecord),
    Json(Value),
    /// A line that could not be read as a record.
    Text(String),
}

#[derive(Debug)]
struct Row {
    line: u64,
    raw: Raw,
    payload: Result<Map<String, Value>, String>,
}

/// Reads rows and turns them into payloads.
enum Reader {
    Csv {
        reader: csv::Reader<Box<dyn std::io::Read + Send>>,
        columns: Vec<Column>,
    },
    Jsonl {
        lines: std::io::Lines<BufReader<File>>,
        line: u64,
        entity: Entity,
        ignore_unknown: bool,
        /// Keys that are attribute values.
        attributes: Vec<String>,
    },
}

impl Reader {
    fn open(
        path: &Path,
        format: FileFormat,
        dialect: Option<&Dialect>,
        entity: &Entity,
        ignore_unknown: bool,
        attributes: &[String],
    ) -> CliResult<(Reader, Vec<String>)> {
        let file = File::open(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
        match (format, dialect) {
            (FileFormat::Csv, Some(dialect)) => {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .delimiter(dialect.delimiter)
                    .from_reader(csv_dialect::reader(path, dialect)?);
                let headers = reader
                    .headers()
                    .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?
                    .clone();
                let mut columns = Vec::new();
                let mut unknown = Vec::new();
                for h in headers.iter() {
                    if let Some(a) = attribute_column(h.trim(), attributes, true) {
                        columns.push(a);
                        continue;
                    }
                    match column(entity, h.trim()) {
                        Ok(c) => columns.push(c),
                        Err(msg) if ignore_unknown => {
                            eprintln!("note: column `{h}` skipped: {msg}");
                            columns.push(Column::Skip);
                        }
                        Err(msg) => unknown.push(msg),
                    }
                }
                if !unknown.is_empty() {
                    return Err(CliError::usage(format!(
                        "{}: columns that are not fields of {}: {} (pass --ignore-unknown to skip them)",
                        path.display(),
                        entity.name,
                        unknown.join("; ")
                    )));
                }
                if !columns.iter().any(|c| !matches!(c, Column::Skip)) {
                    return Err(CliError::usage(format!(
                        "{}: no column names a writable field of {}",
                        path.display(),
                        entity.name
                    )));
                }
                let names = headers.iter().map(str::to_owned).collect();
                Ok((Reader::Csv { reader, columns }, names))
            }
            (FileFormat::Csv, None) => Err(CliError::other("a CSV file needs its dialect")),
            (FileFormat::Jsonl, _) => Ok((
                Reader::Jsonl {
                    lines: BufReader::new(file).lines(),
                    line: 0,
                    entity: entity.clone(),
                    ignore_unknown,
                    attributes: attributes.to_vec(),
                },
                Vec::new(),
            )),
        }
    }

    /// The next row, `Ok(None)` at the end; `Err` only for a failure to read the file at all.
    fn next_row(&mut self) -> Result<Option<Row>, String> {
        match self {
            Reader::Csv { reader, columns } => {
                let mut record = csv::StringRecord::new();
                let line = reader.position().line();
                match reader.read_record(&mut record) {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        let line = record.position().map_or(line, |p| p.line());
                        let payload = csv_payload(columns, &record);
                        Ok(Some(Row {
                            line,
                            raw: Raw::Csv(record),
                            payload,
                        }))
                    }
                    Err(e) => match e.kind() {
                        csv::ErrorKind::Io(_) => Err(e.to_string()),
                        _ => Ok(Some(Row {
                            line,
                            raw: Raw::Text(String::new()),
                            payload: Err(format!("not a CSV record: {e}")),
                        })),
                    },
                }
            }
            Reader::Jsonl {
                lines,
                line,
                entity,
                ignore_unknown,
                attributes,
            } => loop {
                let Some(text) = lines.next() else {
                    return Ok(None);
                };
                let text = text.map_err(|e| e.to_string())?;
                *line += 1;
                if text.trim().is_empty() {
                    continue;
                }
                let row = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => {
                        let payload = json_payload(entity, &v, *ignore_unknown, attributes);
                        Row {
                            line: *line,
                            raw: Raw::Json(v),
                            payload,
                        }
                    }
                    Ok(_) => Row {
                        line: *line,
                        raw: Raw::Text(text),
                        payload: Err("not a JSON object".into()),
                    },
                    Err(e) => Row {
                        line: *line,
                        raw: Raw::Text(text),
                        payload: Err(format!("not JSON: {e}")),
                    },
                };
                return Ok(Some(row));
            },
        }
    }
}

fn csv_payload(
    columns: &[Column],
    record: &csv::StringRecord,
) -> Result<Map<String, Value>, String> {
    if record.len() != columns.len() {
        return Err(format!(
            "{} fields, the header has {}",
            record.len(),
            columns.len()
        ));
    }
    let mut m = Map::new();
    for (col, text) in columns.iter().zip(record.iter()) {
        if let Some(v) = cell_value(col, text)? {
            put(&mut m, col, v)?;
        }
    }
    Ok(m)
}

fn json_payload(
    entity: &Entity,
    v: &Value,
    ignore_unknown: bool,
    attributes: &[String],
) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for (k, value) in v.as_object().into_iter().flatten() {
        if let Some(a) = attribute_column(k, attributes, false) {
            put_json(&mut m, &a, value)?;
            continue;
        }
        let col = match column(entity, k) {
            Ok(c) => c,
            Err(_) if ignore_unknown => continue,
            Err(msg) => return Err(msg),
        };
        put_json(&mut m, &col, value)?;
    }
    Ok(m)
}

/// The reject file, created at the first rejected row.
struct Rejects {
    path: PathBuf,
    format: FileFormat,
    /// The input's CSV delimiter: the rejects open as the input did.
    delimiter: u8,
    headers: Vec<String>,
    out: Option<Box<dyn Write + Send>>,
    count: u64,
}

impl Rejects {
    fn write(&mut self, line: u64, raw: &Raw, message: &str) -> CliResult<()> {
        let io = |e: std::io::Error| CliError::other(format!("cannot write the reject file: {e}"));
        if self.out.is_none() {
            // Appended to: a resumed import adds to the earlier run's rejects (a new import
            // removed the old file first).
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| {
                    CliError::other(format!("cannot create {}: {e}", self.path.display()))
                })?;
            let fresh = file.metadata().map_or(true, |m| m.len() == 0);
            let mut w: Box<dyn Write + Send> = Box::new(BufWriter::new(file));
            if self.format == FileFormat::Csv && fresh {
                let mut header = csv::WriterBuilder::new()
                    .delimiter(self.delimiter)
                    .from_writer(Vec::new());
                let mut cols = vec!["line".to_owned(), "error".to_owned()];
                cols.extend(self.headers.iter().cloned());
                header
                    .write_record(&cols)
                    .map_err(|e| CliError::other(e.to_string()))?;
                w.write_all(
                    &header
                        .into_inner()
                        .map_err(|e| CliError::other(e.to_string()))?,
                )
                .map_err(io)?;
            }
            self.out = Some(w);
        }
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        self.count += 1;
        match self.format {
            FileFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(self.delimiter)
                    .from_writer(Vec::new());
                let mut cells = vec![line.to_string(), message.to_owned()];
                match raw {
                    Raw::Csv(r) => cells.extend(r.iter().map(str::to_owned)),
                    Raw::Json(v) => cells.push(v.to_string()),
                    Raw::Text(t) => cells.push(t.clone()),
                }
                w.write_record(&cells)
                    .map_err(|e| CliError::other(e.to_string()))?;
                out.write_all(&w.into_inner().map_err(|e| CliError::other(e.to_string()))?)
                    .map_err(io)
            }
            FileFormat::Jsonl => {
                let record = match raw {
                    Raw::Json(v) => v.clone(),
                    Raw::Csv(r) => json!(r.iter().collect::<Vec<_>>()),
                    Raw::Text(t) => Value::String(t.clone()),
                };
                let entry = json!({"line": line, "error": message, "record": record});
                writeln!(out, "{entry}").map_err(io)
            }
        }
    }

    fn finish(&mut self) -> CliResult<()> {
        if let Some(out) = self.out.as_mut() {
            out.flush()
                .map_err(|e| CliError::other(format!("cannot write the reject file: {e}")))?;
        }
        Ok(())
    }
}

/// `data.csv` → `data.rejects.csv`.
fn default_rejects(path: &Path, format: FileFormat) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = match format {
        FileFormat::Csv => "csv",
        FileFormat::Jsonl => "jsonl",
    };
    path.with_file_name(format!("{stem}.rejects.{ext}"))
}

/// What the rows sent but not answered yet were, and the rows refused before sending.
#[derive(Default)]
struct Shared {
    pending: HashMap<usize, (u64, Raw)>,
    refused: Vec<(u64, Raw, String)>,
    read_error: Option<String>,
    rows: u64,
    /// The line of the last row read.
    last_line: u64,
}

/// `FILE.import-progress`: every input line before `before` was handled (stored, refused or
/// rejected) by an import of this file as it was (size and modification time); written after
/// every batch, removed after a complete run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct ProgressLog {
    entity: String,
    size: u64,
    modified: u64,
    before: u64,
}

impl ProgressLog {
    fn path(input: &Path) -> PathBuf {
        let mut p = input.as_os_str().to_owned();
        p.push(".import-progress");
        PathBuf::from(p)
    }

    fn of(input: &Path, entity: &str, before: u64) -> CliResult<ProgressLog> {
        let meta = std::fs::metadata(input)?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        Ok(ProgressLog {
            entity: entity.to_owned(),
            size: meta.len(),
            modified,
            before,
        })
    }

    fn read(input: &Path) -> Option<ProgressLog> {
        serde_json::from_slice(&std::fs::read(Self::path(input)).ok()?).ok()
    }

    /// Written whole (a temporary file, then renamed).
    fn save(&self, input: &Path) -> CliResult<()> {
        let path = Self::path(input);
        let tmp = path.with_extension("import-progress.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }
}

#[derive(Default)]
struct Summary {
    created: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
}

/// Runs the import.
pub async fn run(s: &mut Session, args: &ImportArgs) -> CliResult<Exit> {
    let format = args
        .format
        .or_else(|| format_of(&args.file))
        .ok_or_else(|| {
            CliError::usage(format!(
                "cannot tell the format from the name {}: pass --format csv or --format jsonl",
                args.file.display()
            ))
        })?;
    let client = s.client.clone();
    let entity = s.metadata().await?.entity(&args.entity)?.clone();
    let dialect = match format {
        FileFormat::Csv => Some(csv_dialect::detect(
            &args.file,
            args.delimiter
                .as_deref()
                .map(csv_dialect::parse_delimiter)
                .transpose()?,
            args.encoding
                .as_deref()
                .map(csv_dialect::parse_encoding)
                .transpose()?,
        )?),
        FileFormat::Jsonl => None,
    };
    let (mut reader, headers) = Reader::open(
        &args.file,
        format,
        dialect.as_ref(),
        &entity,
        args.ignore_unknown,
        &args.attributes,
    )?;
    // Attribute values go as flattened fields, which AtroCore reads with `Flatten-Attributes`.
    let flatten = !args.attributes.is_empty()
        || matches!(&reader, Reader::Csv { columns, .. }
            if columns.iter().any(|c| matches!(c, Column::Attribute(_))));
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| default_rejects(&args.file, format));
    // The reject file is replaced: never the input itself.
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(&rejects_path, &args.file) {
        return Err(CliError::usage(format!(
            "--rejects names the input file {}: it would be replaced by the rejected rows; name \
             another file",
            args.file.display()
        )));
    }
    // An interrupted import left a progress log: continue after it (--resume) or start over
    // (--restart); never both silently.
    let earlier = ProgressLog::read(&args.file);
    let skip_before = match (&earlier, args.resume, args.restart || args.dry_run) {
        (Some(log), true, _) => {
            let now = ProgressLog::of(&args.file, &entity.name, log.before)?;
            if now != *log {
                return Err(CliError::usage(format!(
                    "{} changed since the import that left {} (or was for another entity): \
                     pass --restart to import every row",
                    args.file.display(),
                    ProgressLog::path(&args.file).display()
                )));
            }
            eprintln!(
                "resuming: the rows before line {} were handled by the earlier run",
                log.before
            );
            log.before
        }
        (None, true, _) => {
            return Err(CliError::usage(format!(
                "nothing to resume: {} has no progress log ({})",
                args.file.display(),
                ProgressLog::path(&args.file).display()
            )));
        }
        (Some(log), false, false) => {
            return Err(CliError::usage(format!(
                "an earlier import of {} stopped before line {} ({}): pass --resume to continue \
                 after the rows it handled, or --restart to import every row again",
                args.file.display(),
                log.before,
                ProgressLog::path(&args.file).display()
            )));
        }
        _ => 0,
    };
    // A resumed import adds to the earlier run's rejects.
    if skip_before == 0 {
        let _ = std::fs::remove_file(&rejects_path);
    }
    let mut rejects = Rejects {
        path: rejects_path,
        format,
        delimiter: dialect.map_or(b',', |d| d.delimiter),
        headers,
        out: None,
        count: 0,
    };
    let mut summary = Summary::default();

    // A row that would create a record must carry the required fields.
    let check = {
        let entity = entity.clone();
        move |row: Row| -> Row {
            let payload = row.payload.and_then(|p| {
                let missing = missing_required(&entity, &p);
                if missing.is_empty() {
                    Ok(p)
                } else {
                    Err(format!(
                        "missing required field(s) {} (no id or unique field: the row creates a record)",
                        missing.join(", ")
                    ))
                }
            });
            Row { payload, ..row }
        }
    };

    if args.dry_run {
        let mut valid = 0u64;
        loop {
            match reader.next_row() {
                Ok(Some(row)) => {
                    let row = check(row);
                    match row.payload {
                        Ok(_) => valid += 1,
                        Err(msg) => {
                            summary.failed += 1;
                            rejects.write(row.line, &row.raw, &msg)?;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(CliError::other(format!(
                        "reading {}: {e}",
                        args.file.display()
                    )));
                }
            }
        }
        rejects.finish()?;
        output::line(format_args!(
            "dry run: {valid} rows valid, {} invalid",
            summary.failed
        ))?;
        if summary.failed > 0 {
            output::line(format_args!("invalid rows: {}", rejects.path.display()))?;
            return Ok(Exit::Partial);
        }
        return Ok(Exit::Ok);
    }

    let unique: &'static [&'static str] = Box::leak(
        entity
            .unique_fields()
            .into_iter()
            .map(|u| &*Box::leak(u.to_owned().into_boxed_str()))
            .collect::<Vec<&'static str>>()
            .into_boxed_slice(),
    );
    let shared = Arc::new(Mutex::new(Shared::default()));
    let items = {
        let shared = shared.clone();
        let name = entity.name.clone();
        let mut index = 0usize;
        std::iter::from_fn(move || {
            loop {
                let row = match reader.next_row() {
                    // Handled by the run that is resumed.
                    Ok(Some(row)) if row.line < skip_before => continue,
                    Ok(Some(row)) => check(row),
                    Ok(None) => return None,
                    Err(e) => {
                        lock(&shared).read_error = Some(e);
                        return None;
                    }
                };
                let mut st = lock(&shared);
                st.rows += 1;
                st.last_line = row.line;
                match row.payload {
                    Ok(payload) => {
                        st.pending.insert(index, (row.line, row.raw));
                        index += 1;
                        return Some(
                            UpsertItem::from_value(name.clone(), Value::Object(payload))
                                .with_unique_fields(unique),
                        );
                    }
                    Err(msg) => st.refused.push((row.line, row.raw, msg)),
                }
            }
        })
    };
    let mut progress = Progress::new("import", Unit::Records, None, 0);
    let mut outcomes = client
        .upsert(items)
        .flatten_attributes(flatten)
        .batch_size(args.batch_size.max(1))
        .concurrency(args.concurrency.max(1))
        .stream();
    let mut first_batch_error: Option<CliError> = None;
    loop {
        let outcome = outcomes.next().await;
        let mut done = Vec::new();
        let refused;
        {
            let mut st = lock(&shared);
            refused = std::mem::take(&mut st.refused);
            match &outcome {
                Some(Ok(results)) => {
                    for r in results {
                        let (line, raw) = st
                            .pending
                            .remove(&r.index)
                            .unwrap_or((0, Raw::Text(String::new())));
                        done.push((line, raw, Some(r.clone()), None));
                    }
                }
                Some(Err(batch)) => {
                    let why = if batch.may_have_been_applied {
                        format!(
                            "the request failed after the server may have stored the row \
                             (check before importing it again): {}",
                            batch.error
                        )
                    } else {
                        format!("not stored: {}", batch.error)
                    };
                    for i in batch.indices.clone() {
                        if let Some((line, raw)) = st.pending.remove(&i) {
                            done.push((line, raw, None, Some(why.clone())));
                        }
                    }
                    if first_batch_error.is_none() {
                        first_batch_error = Some(CliError::new(
                            code_of(batch.error.kind()),
                            batch.error.to_string(),
                        ));
                    }
                }
                None => {}
            }
        }
        for (line, raw, msg) in refused {
            summary.failed += 1;
            rejects.write(line, &raw, &msg)?;
            progress.inc(1);
        }
        for (line, raw, result, batch_error) in done {
            progress.inc(1);
            match (result, batch_error) {
                (Some(r), _) => match r.status {
                    UpsertStatus::Created => summary.created += 1,
                    UpsertStatus::Updated => summary.updated += 1,
                    UpsertStatus::NotModified => summary.unchanged += 1,
                    _ => {
                        summary.failed += 1;
                        let mut msg = r.message.clone().unwrap_or_else(|| r.status.to_string());
                        if let Some(code) = r.code {
                            msg = format!("{code}: {msg}");
                        }
                        rejects.write(line, &raw, &msg)?;
                    }
                },
                (None, Some(e)) => {
                    summary.failed += 1;
                    rejects.write(line, &raw, &e)?;
                }
                (None, None) => {}
            }
        }
        // The rejects of each batch are on disk before the next: an interrupted import keeps
        // them; then the progress log says which lines are handled (those before the first
        // row still in flight).
        rejects.finish()?;
        if outcome.is_none() {
            break;
        }
        let before = {
            let st = lock(&shared);
            st.pending
                .values()
                .map(|(line, _)| *line)
                .min()
                .unwrap_or(st.last_line + 1)
        };
        ProgressLog::of(&args.file, &entity.name, before.max(skip_before))?.save(&args.file)?;
    }
    rejects.finish()?;
    progress.finish();
    if let Some(e) = lock(&shared).read_error.take() {
        // The log stays: the rows before the unreadable one are handled.
        return Err(CliError::other(format!(
            "reading {} stopped: {e} (created {}, updated {}, unchanged {}, failed {})",
            args.file.display(),
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.failed
        )));
    }
    // Every row was handled: nothing to resume.
    let _ = std::fs::remove_file(ProgressLog::path(&args.file));
    output::line(format_args!(
        "created {}, updated {}, unchanged {}, failed {}",
        summary.created, summary.updated, summary.unchanged, summary.failed
    ))?;
    if summary.failed > 0 {
        output::line(format_args!("rejected rows: {}", rejects.path.display()))?;
        let sent_ok = summary.created + summary.updated + summary.unchanged;
        // Nothing got through and every batch failed the same way (login, network): that error.
        if let (0, Some(e)) = (sent_ok, first_batch_error) {
            return Err(e);
        }
        return Ok(Exit::Partial);
    }
    Ok(Exit::Ok)
}

fn lock(m: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
