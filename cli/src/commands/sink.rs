//! An export file being written (JSONL, or CSV with its columns), shared by `atro export` and
//! its change-feed form (`--since-state`).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::Value;

use crate::args::FileFormat;
use crate::exit::{CliError, CliResult};
use crate::output::cell;

/// The format named by a file's extension.
pub(super) fn format_of(path: &Path) -> Option<FileFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(FileFormat::Csv),
        "jsonl" | "ndjson" => Some(FileFormat::Jsonl),
        _ => None,
    }
}

/// How a CSV export is written: its delimiter, and whether it starts with a UTF-8 byte-order
/// mark (Excel reads UTF-8 only with one).
#[derive(Debug, Clone, Copy)]
pub(super) struct CsvOut {
    pub delimiter: u8,
    pub bom: bool,
}

impl CsvOut {
    /// From `--delimiter` and `--bom`.
    pub(super) fn of(args: &crate::args::ExportArgs) -> CliResult<CsvOut> {
        Ok(CsvOut {
            delimiter: super::csv_dialect::parse_delimiter(&args.delimiter)?,
            bom: args.bom,
        })
    }
}

/// Where an export goes: a file, or standard output (`-o -`).
pub(super) enum Out {
    File(File),
    Stdout(std::io::Stdout),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stdout(s) => s.flush(),
        }
    }
}

/// An export file being written: JSONL, or CSV with its columns.
pub(super) enum Sink {
    Jsonl(BufWriter<Out>),
    Csv {
        writer: Box<csv::Writer<Out>>,
        columns: Option<Vec<String>>,
        /// Columns a header made from the first record gets too (attribute codes a record may
        /// lack).
        also: Vec<String>,
        warned: bool,
    },
}

impl Sink {
    /// Opens `path` for writing `format`, cut to its first `keep` bytes (complete records of an
    /// interrupted run, or nothing); a new CSV file gets its header when the columns are known
    /// (otherwise from the first record, plus `also`).
    pub(super) fn open(
        path: &Path,
        format: FileFormat,
        columns: Option<Vec<String>>,
        also: Vec<String>,
        keep: u64,
        csv: CsvOut,
    ) -> CliResult<Sink> {
        let file = if super::files::is_stdout(path) {
            Out::Stdout(std::io::stdout())
        } else {
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(path)
                .map_err(|e| CliError::other(format!("cannot open {}: {e}", path.display())))?;
            file.set_len(keep)?;
            drop(file);
            Out::File(OpenOptions::new().append(true).open(path)?)
        };
        Ok(match format {
            FileFormat::Jsonl => Sink::Jsonl(BufWriter::new(file)),
            FileFormat::Csv => {
                let mut file = file;
                if csv.bom && keep == 0 {
                    file.write_all("\u{feff}".as_bytes())?;
                }
                let mut writer = Box::new(
                    csv::WriterBuilder::new()
                        .delimiter(csv.delimiter)
                        .from_writer(file),
                );
                if let (Some(c), 0) = (&columns, keep) {
                    writer
                        .write_record(c)
                        .map_err(|e| CliError::other(format!("cannot write CSV: {e}")))?;
                }
                Sink::Csv {
                    writer,
                    columns,
                    also,
                    warned: false,
                }
            }
        })
    }

    pub(super) fn write(&mut self, record: &Value) -> CliResult<()> {
        let io = |e: std::io::Error| CliError::other(format!("cannot write the export: {e}"));
        match self {
            Sink::Jsonl(w) => {
                serde_json::to_writer(&mut *w, record)
                    .map_err(|e| CliError::other(e.to_string()))?;
                w.write_all(b"\n").map_err(io)
            }
            Sink::Csv {
                writer,
                columns,
                also,
                warned,
            } => {
                let csv_err = |e: csv::Error| CliError::other(format!("cannot write CSV: {e}"));
                let cols = match columns {
                    Some(c) => c,
                    None => {
                        // No header yet (a new file without --select): the first record's fields.
                        let mut c = vec!["id".to_owned()];
                        if let Some(o) = record.as_object() {
                            c.extend(o.keys().filter(|k| *k != "id").cloned());
                        }
                        for a in also.iter() {
                            if !c.contains(a) {
                                c.push(a.clone());
                            }
                        }
                        writer.write_record(&c).map_err(csv_err)?;
                        columns.insert(c)
                    }
                };
                if !*warned && let Some(o) = record.as_object() {
                    let extra: Vec<&str> = o
                        .keys()
                        .filter(|k| !cols.contains(k))
                        .map(String::as_str)
                        .collect();
                    if !extra.is_empty() {
                        *warned = true;
                        eprintln!(
                            "note: fields not in the CSV header are not written: {}",
                            extra.join(", ")
                        );
                    }
                }
                writer
                    .write_record(cols.iter().map(|c| cell(record.get(c))))
                    .map_err(csv_err)
            }
        }
    }

    pub(super) fn flush(&mut self) -> CliResult<()> {
        let r = match self {
            Sink::Jsonl(w) => w.flush(),
            Sink::Csv { writer, .. } => writer.flush(),
        };
        r.map_err(|e| CliError::other(format!("cannot write the export: {e}")))
    }

    pub(super) fn sync(self) -> CliResult<()> {
        let file = match self {
            Sink::Jsonl(w) => w.into_inner().map_err(|e| e.into_error())?,
            Sink::Csv { writer, .. } => writer
                .into_inner()
                .map_err(|e| CliError::other(format!("cannot write the export: {}", e.error())))?,
        };
        if let Out::File(f) = file {
            f.sync_all()?;
        }
        Ok(())
    }
}
