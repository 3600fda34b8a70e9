//! `atro export`: every matching record to a JSONL or CSV file by keyset paging, with progress,
//! resumable after an interruption.
//!
//! Records are written in ascending `id` order, and the file is flushed after every page. A
//! resumed export (`--resume`) reads the file back, keeps every complete record (a record cut by
//! the interruption is removed), and continues after the last kept id: nothing is lost or
//! written twice, since the keyset stream asks only for ids after it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use futures_util::TryStreamExt;
use serde_json::Value;

use super::records::{check_names, compile_where, display_columns};
use super::session::Session;
use super::sink::{CsvOut, Sink, format_of};
use crate::args::{ExportArgs, FileFormat};
use crate::exit::{CliError, CliResult, Exit};
use crate::progress::{Progress, Unit};

/// Where an interrupted export stands.
#[derive(Debug, PartialEq)]
pub struct ResumePoint {
    /// Bytes of the file that hold complete records (and the CSV header).
    pub keep_len: u64,
    /// The id of the last complete record.
    pub last_id: Option<String>,
    /// Complete records.
    pub count: u64,
    /// The CSV header, when the file has one.
    pub columns: Option<Vec<String>>,
}

fn bad_file(path: &Path, what: impl std::fmt::Display) -> CliError {
    CliError::usage(format!(
        "cannot resume {}: {what}; remove it or export again with --force",
        path.display()
    ))
}

/// Reads a JSONL export back: every line must be a JSON object with a string `id`, except a last
/// line cut short (no newline, or not JSON), which is dropped.
pub fn scan_jsonl(path: &Path) -> CliResult<ResumePoint> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut point = ResumePoint {
        keep_len: 0,
        last_id: None,
        count: 0,
        columns: None,
    };
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(point);
        }
        line_no += 1;
        let complete = line.ends_with(b"\n");
        let id = serde_json::from_slice::<Value>(&line)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
        match (complete, id) {
            (true, Some(id)) => {
                point.keep_len += n as u64;
                point.count += 1;
                point.last_id = Some(id);
            }
            _ => {
                // Only the last line may be cut short.
                let mut rest = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut rest)?;
                if !rest.is_empty() {
                    return Err(bad_file(
                        path,
                        format!("line {line_no} is not a record with an id"),
                    ));
                }
                return Ok(point);
            }
        }
    }
}

/// The bytes the CSV writer makes of one record.
fn csv_bytes(record: &csv::ByteRecord) -> Option<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_byte_record(record).ok()?;
    w.into_inner().ok()
}

/// Reads a CSV export back: the header must name an `id` column; the last record is kept only
/// when the file ends with exactly the bytes this tool writes for it (a record cut inside a
/// quoted field could otherwise pass for a complete one).
pub fn scan_csv(path: &Path, delimiter: u8) -> CliResult<ResumePoint> {
    let text_len = std::fs::metadata(path)?.len();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_path(path)
        .map_err(|e| bad_file(path, e))?;
    let empty = ResumePoint {
        keep_len: 0,
        last_id: None,
        count: 0,
        columns: None,
    };
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(_) => return Ok(empty),
    };
    let header_end = reader.position().byte();
    // A header without its line end was cut: start over.
    if header.is_empty() || header_end > text_len || !ends_line(path, header_end)? {
        return Ok(empty);
    }
    // A byte-order mark (`--bom`) is not part of the first column's name.
    let columns: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = if i == 0 {
                c.strip_prefix("\u{feff}".as_bytes()).unwrap_or(c)
            } else {
                c
            };
            String::from_utf8_lossy(c).into_owned()
        })
        .collect();
    let Some(id_col) = columns.iter().position(|c| c == "id") else {
        return Err(bad_file(path, "its header has no `id` column"));
    };
    let mut point = ResumePoint {
        keep_len: header_end,
        last_id: None,
        count: 0,
        columns: Some(columns.clone()),
    };
    let mut record = csv::ByteRecord::new();
    let mut last: Option<(u64, csv::ByteRecord)> = None;
    loop {
        let start = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if let Some((prev_start, prev)) = last.take() {
                    // Not the last record: it was followed by more, so it was written whole.
                    if prev.len() != columns.len() {
                        return Err(bad_file(
                            path,
                            format!("the record at byte {prev_start} has {} fields", prev.len()),
                        ));
                    }
                    point.count += 1;
                    point.keep_len = start;
                    point.last_id = Some(String::from_utf8_lossy(&prev[id_col]).into_owned());
                }
                last = Some((start, record.clone()));
            }
            // A broken last record (an open quote at the end): dropped below.
            Err(_) => break,
        }
    }
    if let Some((start, rec)) = last {
        // Only the last record's bytes are read back, not the whole export.
        let tail = {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = File::open(path)?;
            f.seek(SeekFrom::Start(start))?;
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            bytes
        };
        if rec.len() == columns.len() && csv_bytes(&rec).is_some_and(|b| b == tail) {
            point.count += 1;
            point.keep_len = text_len;
            point.last_id = Some(String::from_utf8_lossy(&rec[id_col]).into_owned());
        } else {
            point.keep_len = start;
        }
    }
    Ok(point)
}

/// Whether the byte before `pos` in the file is a line end.
fn ends_line(path: &Path, pos: u64) -> CliResult<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if pos == 0 {
        return Ok(false);
    }
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(pos - 1))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)?;
    Ok(b[0] == b'\n')
}

/// Runs the export.
pub async fn run(s: &mut Session, args: &ExportArgs) -> CliResult<Exit> {
    let path = args.output.as_path();
    let format = args.format.or_else(|| format_of(path)).ok_or_else(|| {
        CliError::usage(if super::files::is_stdout(path) {
            "standard output (-o -) has no extension: pass --format csv or --format jsonl".into()
        } else {
            format!(
                "cannot tell the format from the name {}: pass --format csv or --format jsonl",
                path.display()
            )
        })
    })?;
    let client = s.client.clone();
    let entity = s.metadata().await?.entity(&args.entity)?.clone();
    let filter = compile_where(&entity, args.filter.as_deref())?;
    check_names(&entity, &args.select, "--select")?;
    let select: Vec<String> = if args.select.is_empty() {
        Vec::new()
    } else {
        let mut s = vec!["id".to_owned()];
        s.extend(args.select.iter().filter(|c| *c != "id").cloned());
        s
    };

    let to_stdout = super::files::is_stdout(path);
    if to_stdout && args.resume {
        return Err(CliError::usage(
            "--resume needs a file: standard output (-o -) cannot be continued",
        ));
    }
    let existing = if to_stdout {
        0
    } else {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    };
    if existing > 0 && !args.resume && !args.force {
        return Err(CliError::usage(format!(
            "{} exists: pass --resume to continue it or --force to overwrite it",
            path.display()
        )));
    }
    let point = if args.resume && existing > 0 {
        Some(match format {
            FileFormat::Jsonl => scan_jsonl(path)?,
            FileFormat::Csv => scan_csv(path, CsvOut::of(args)?.delimiter)?,
        })
    } else {
        None
    };
    let mut columns = if select.is_empty() {
        None
    } else {
        Some(display_columns(&entity, &select))
    };
    if let Some(header) = point.as_ref().and_then(|p| p.columns.clone()) {
        if columns.as_ref().is_some_and(|c| *c != header) {
            return Err(CliError::usage(format!(
                "--select differs from the columns of {} ({}): resume with the same selection",
                path.display(),
                header.join(",")
            )));
        }
        columns = Some(header);
    }
    let already = point.as_ref().map_or(0, |p| p.count);
    let total = client
        .records(&entity.name)
        .list()
        .filter(filter.clone())
        .count()
        .await?;

    if let Some(c) = columns.as_mut() {
        for a in &args.attributes {
            if !c.contains(a) {
                c.push(a.clone());
            }
        }
    }
    let mut sink = Sink::open(
        path,
        format,
        columns,
        args.attributes.clone(),
        point.as_ref().map_or(0, |p| p.keep_len),
        CsvOut::of(args)?,
    )?;

    // The count is of every matching record, those already in a resumed file included (none
    // when the server does not count the entity: the bar then counts up without an end).
    let mut progress = Progress::new("export", Unit::Records, total, already);
    let mut list = client
        .records(&entity.name)
        .list()
        .filter(filter)
        .attributes(args.attributes.clone())
        .max_size(args.page_size.max(1));
    if !select.is_empty() {
        list = list.select(select);
    }
    if let Some(last) = point.as_ref().and_then(|p| p.last_id.clone()) {
        list = list.after_id(last);
    }
    let mut stream = list.keyset_stream();
    let mut written = 0u64;
    let result: CliResult<()> = async {
        while let Some(record) = stream.try_next().await? {
            sink.write(&record)?;
            written += 1;
            if written.is_multiple_of(args.page_size.max(1)) {
                sink.flush()?;
            }
            progress.inc(1);
        }
        Ok(())
    }
    .await;
    let flushed = sink.flush();
    match result.and(flushed) {
        Ok(()) => {
            sink.sync()?;
            progress.finish();
            if to_stdout {
                eprintln!("exported {written} records to standard output");
            } else {
                eprintln!(
                    "exported {written} records to {} ({} in the file)",
                    path.display(),
                    already + written
                );
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            progress.abandon();
            Err(e.context(format!(
                "export stopped after {written} more records ({} in {}; run again with --resume \
                 to continue)",
                already + written,
                path.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn jsonl_keeps_complete_lines_only() {
        let f = file_with(b"{\"id\":\"a1\"}\n{\"id\":\"a2\",\"n\":1}\n{\"id\":\"a3\",\"na");
        let p = scan_jsonl(f.path()).unwrap();
        assert_eq!(
            (p.count, p.last_id.as_deref(), p.keep_len),
            (2, Some("a2"), 30)
        );
        // A complete last line without its newline is cut too: the newline is part of a record.
        let f = file_with(b"{\"id\":\"a1\"}\n{\"id\":\"a2\"}");
        assert_eq!(scan_jsonl(f.path()).unwrap().count, 1);
        let f = file_with(b"{\"id\":\"a1\"}\nnot json\n{\"id\":\"a2\"}\n");
        assert!(scan_jsonl(f.path()).unwrap_err().message.contains("line 2"));
    }

    #[test]
    fn csv_keeps_complete_records_only() {
        let full = b"id,name\na1,\"x\ny\"\na2,plain\n";
        let f = file_with(full);
        let p = scan_csv(f.path(), b',').unwrap();
        assert_eq!(
            (p.count, p.last_id.as_deref(), p.keep_len),
            (2, Some("a2"), full.len() as u64)
        );
        assert_eq!(p.columns.unwrap(), ["id", "name"]);
        // Cut inside a quoted field, right after an embedded newline: dropped.
        let cut = b"id,name\na1,plain\na2,\"x\n";
        let p = scan_csv(file_with(cut).path(), b',').unwrap();
        assert_eq!(
            (p.count, p.last_id.as_deref(), p.keep_len),
            (1, Some("a1"), 17)
        );
        // Cut before the line end.
        let p = scan_csv(file_with(b"id,name\na1,plain\na2,pl").path(), b',').unwrap();
        assert_eq!((p.count, p.keep_len), (1, 17));
        // Only part of the header.
        let p = scan_csv(file_with(b"id,na").path(), b',').unwrap();
        assert_eq!((p.count, p.keep_len, p.columns), (0, 0, None));
        assert!(scan_csv(file_with(b"name\nx\n").path(), b',').is_err());
    }

    #[test]
    fn formats_from_extensions() {
        assert_eq!(format_of(Path::new("a.CSV")), Some(FileFormat::Csv));
        assert_eq!(format_of(Path::new("a.ndjson")), Some(FileFormat::Jsonl));
        assert_eq!(format_of(Path::new("a.txt")), None);
    }
}
