//! How a CSV file is written: its delimiter and encoding. Spreadsheets write what their locale
//! says: a German or French Excel saves `;`-separated files in Windows-1252, an English one
//! `,` in UTF-8 (with a byte-order mark when "UTF-8" is chosen). `atro import` takes either,
//! told or detected from the file's start; `atro export` writes what it is told.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use crate::exit::{CliError, CliResult};

/// How much of a file detection reads.
const SNIFF: usize = 64 * 1024;

/// A CSV file's dialect.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dialect {
    /// The field delimiter.
    pub delimiter: u8,
    /// The text encoding.
    pub encoding: &'static Encoding,
}

/// A delimiter as given on the command line: one ASCII character, or `tab`.
pub(super) fn parse_delimiter(text: &str) -> CliResult<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && t != "\"" => Ok(t.as_bytes()[0]),
        other => Err(CliError::usage(format!(
            "--delimiter takes one character (`,`, `;`, `|`) or `tab`, not `{other}`"
        ))),
    }
}

/// An encoding by its WHATWG label (`utf-8`, `windows-1252`, `latin1`, `iso-8859-15`, …).
pub(super) fn parse_encoding(label: &str) -> CliResult<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        CliError::usage(format!(
            "--encoding `{label}` is not an encoding name (utf-8, windows-1252, iso-8859-15, …)"
        ))
    })
}

/// The dialect of the file at `path`: what is given, the rest detected from its first bytes.
/// The encoding: a byte-order mark's, else UTF-8 when the start is valid UTF-8, else
/// Windows-1252 (what Excel writes in western European locales; a note says so). The
/// delimiter: the most frequent of `,`, `;` and tab outside quotes in the first line (`,` on a
/// tie or when there is none).
pub(super) fn detect(
    path: &Path,
    delimiter: Option<u8>,
    encoding: Option<&'static Encoding>,
) -> CliResult<Dialect> {
    let mut start = Vec::with_capacity(SNIFF);
    File::open(path)
        .and_then(|f| f.take(SNIFF as u64).read_to_end(&mut start))
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let encoding = match encoding {
        Some(e) => e,
        None => match Encoding::for_bom(&start) {
            Some((e, _)) => e,
            None if utf8_start(&start) => UTF_8,
            None => {
                eprintln!(
                    "note: {} is not UTF-8: read as Windows-1252 (pass --encoding to choose \
                     another)",
                    path.display()
                );
                WINDOWS_1252
            }
        },
    };
    let delimiter = match delimiter {
        Some(d) => d,
        None => {
            let (text, _, _) = encoding.decode(&start);
            sniff_delimiter(text.lines().next().unwrap_or_default())
        }
    };
    Ok(Dialect {
        delimiter,
        encoding,
    })
}

/// Whether `bytes` are UTF-8, allowing a character cut at the end.
fn utf8_start(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// The delimiter of a header line.
fn sniff_delimiter(line: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| *d)
}

/// The file as UTF-8 text (a byte-order mark removed), whatever its encoding.
pub(super) fn reader(path: &Path, dialect: &Dialect) -> CliResult<Box<dyn Read + Send>> {
    let file = File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(Box::new(
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(dialect.encoding))
            .bom_sniffing(true)
            .strip_bom(true)
            .build(file),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_found_in_the_header() {
        assert_eq!(sniff_delimiter("name;code;description"), b';');
        assert_eq!(sniff_delimiter("name,code"), b',');
        assert_eq!(sniff_delimiter("name\tcode"), b'\t');
        assert_eq!(
            sniff_delimiter("\"a;b\",c"),
            b',',
            "quoted `;` do not count"
        );
        assert_eq!(sniff_delimiter("name"), b',');
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert!(parse_delimiter(";;").is_err());
    }

    #[test]
    fn a_latin1_file_reads_as_windows_1252_and_a_bom_wins() {
        let dir = tempfile::tempdir().unwrap();
        let latin = dir.path().join("de.csv");
        // "name;code\nMüller;m1\n" in Windows-1252.
        std::fs::write(&latin, b"name;code\nM\xfcller;m1\n").unwrap();
        let d = detect(&latin, None, None).unwrap();
        assert_eq!((d.delimiter, d.encoding), (b';', WINDOWS_1252));
        let mut text = String::new();
        reader(&latin, &d)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "name;code\nMüller;m1\n");

        let bom = dir.path().join("bom.csv");
        std::fs::write(&bom, "\u{feff}name,code\nMüller,m1\n").unwrap();
        let d = detect(&bom, None, None).unwrap();
        assert_eq!((d.delimiter, d.encoding), (b',', UTF_8));
        let mut text = String::new();
        reader(&bom, &d).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(
            text, "name,code\nMüller,m1\n",
            "the mark is not a header character"
        );
    }
}
