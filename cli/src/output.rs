//! Records out: an aligned table (comfy-table), JSON lines, CSV (csv), one JSON array; and the
//! cell text of a JSON value.

use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::{Map, Value};

use crate::args::ListFormat;
use crate::exit::{CliError, CliResult};

/// The result of writing to stdout: a pipe closed by the reader (`atro list … | head`) ends the
/// output quietly, any other failure is an error.
pub fn written(r: std::io::Result<()>) -> CliResult<()> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::other(format!("cannot write the output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Prints one line to stdout (see [`written`]).
pub fn line(text: impl std::fmt::Display) -> CliResult<()> {
    written(writeln!(std::io::stdout(), "{text}"))
}

/// The text of a value in a table or CSV cell: strings as they are, `null` empty, lists and
/// objects as JSON.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    }
}

/// [`cell`] for a terminal table: server text must not drive the terminal, so control
/// characters (an escape sequence's `ESC`, a carriage return) become spaces; line breaks stay
/// (the table shows them as lines of the cell).
pub fn terminal_cell(v: Option<&Value>) -> String {
    cell(v)
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// The columns to show: the selection when given (with `id` first), else the keys of the first
/// record (for a table, only a few that name the record).
pub fn columns(select: &[String], records: &[Value], for_table: bool) -> Vec<String> {
    if !select.is_empty() {
        let mut cols = vec!["id".to_owned()];
        cols.extend(select.iter().filter(|s| *s != "id").cloned());
        return cols;
    }
    let Some(first) = records.first().and_then(Value::as_object) else {
        return vec!["id".to_owned()];
    };
    if for_table {
        let mut cols = vec!["id".to_owned()];
        for k in ["name", "code", "number", "status", "isActive"] {
            if first.contains_key(k) {
                cols.push(k.to_owned());
            }
        }
        if cols.len() == 1 {
            cols.extend(first.keys().filter(|k| *k != "id").take(4).cloned());
        }
        return cols;
    }
    first.keys().cloned().collect()
}

/// Only the `columns` of `record`, in that order.
pub fn project(record: &Value, columns: &[String]) -> Value {
    let mut m = Map::new();
    for c in columns {
        m.insert(c.clone(), record.get(c).cloned().unwrap_or(Value::Null));
    }
    Value::Object(m)
}

/// Writes `records` to `out` in `format`.
pub fn write_records(
    out: &mut dyn Write,
    format: ListFormat,
    select: &[String],
    records: &[Value],
) -> CliResult<()> {
    match format {
        ListFormat::Table => {
            let cols = columns(select, records, true);
            let mut table = Table::new();
            table
                .load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(cols.iter());
            for r in records {
                table.add_row(cols.iter().map(|c| terminal_cell(r.get(c))));
            }
            written(writeln!(out, "{table}"))?;
        }
        ListFormat::Jsonl => {
            for r in records {
                let r = if select.is_empty() {
                    r.clone()
                } else {
                    project(r, &columns(select, records, false))
                };
                written(writeln!(out, "{r}"))?;
            }
        }
        ListFormat::Json => {
            let cols = columns(select, records, false);
            let list: Vec<Value> = records
                .iter()
                .map(|r| {
                    if select.is_empty() {
                        r.clone()
                    } else {
                        project(r, &cols)
                    }
                })
                .collect();
            let text =
                serde_json::to_string_pretty(&list).map_err(|e| CliError::other(e.to_string()))?;
            written(writeln!(out, "{text}"))?;
        }
        ListFormat::Csv => {
            let cols = columns(select, records, false);
            let mut w = csv::Writer::from_writer(Vec::new());
            let csv_err = |e: csv::Error| CliError::other(format!("cannot write CSV: {e}"));
            w.write_record(&cols).map_err(csv_err)?;
            for r in records {
                w.write_record(cols.iter().map(|c| cell(r.get(c))))
                    .map_err(csv_err)?;
            }
            let bytes = w.into_inner().map_err(|e| CliError::other(e.to_string()))?;
            written(out.write_all(&bytes))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(format: ListFormat, select: &[&str]) -> String {
        let records = vec![
            json!({"id": "a1", "name": "Chair, red", "sortOrder": 3, "tags": ["x", "y"], "brandId": null}),
            json!({"id": "a2", "name": "Table \"big\"", "sortOrder": null}),
        ];
        let select: Vec<String> = select.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        write_records(&mut out, format, &select, &records).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_and_encodes_lists() {
        assert_eq!(
            render(ListFormat::Csv, &[]),
            "id,name,sortOrder,tags,brandId\na1,\"Chair, red\",3,\"[\"\"x\"\",\"\"y\"\"]\",\na2,\"Table \"\"big\"\"\",,,\n"
        );
        assert_eq!(
            render(ListFormat::Csv, &["name"]),
            "id,name\na1,\"Chair, red\"\na2,\"Table \"\"big\"\"\"\n"
        );
    }

    #[test]
    fn jsonl_json_and_table() {
        assert_eq!(
            render(ListFormat::Jsonl, &["sortOrder"]),
            "{\"id\":\"a1\",\"sortOrder\":3}\n{\"id\":\"a2\",\"sortOrder\":null}\n"
        );
        let json: Value = serde_json::from_str(&render(ListFormat::Json, &[])).unwrap();
        assert_eq!(json[1]["name"], "Table \"big\"");
        let table = render(ListFormat::Table, &[]);
        assert!(
            table.contains("Chair, red") && table.contains("│ id"),
            "{table}"
        );
        assert!(!table.contains("sortOrder"), "{table}");
    }

    #[test]
    fn terminal_cells_carry_no_control_characters() {
        let v = serde_json::json!("red\u{1b}[2J\rtext\nline two");
        assert_eq!(terminal_cell(Some(&v)), "red [2J text\nline two");
        // CSV keeps the value as it is.
        assert_eq!(cell(Some(&v)), "red\u{1b}[2J\rtext\nline two");
    }
}
