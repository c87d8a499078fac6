//! Reading a batch's input CSV: the header, then one record at a time, so memory stays
//! constant whatever the file's size. What cannot be read is reported with its line range
//! and counted, never passed over in silence.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use juhe_proto::Param;

use crate::CsvError;
use crate::encoding::TextEncoding;
use crate::record_bounds::{Flaw, Flaws, MAX_RECORD, RecordBounds};

/// The prefix of the output's own columns; an input may not use it.
pub const RESERVED_PREFIX: &str = "juhe_";

/// An input file: where it is, how it is encoded, its header and where each needed field is.
#[derive(Debug)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its text encoding, detected or given.
    pub encoding: TextEncoding,
    /// The header's column names, decoded.
    pub headers: Vec<String>,
    /// For each needed parameter, its column.
    pub positions: Vec<(Param, usize)>,
}

/// The parser over an input file's bytes (transcoded, for UTF-16), its records followed below it.
type CsvReader = csv::Reader<RecordBounds<Box<dyn Read + Send>>>;

/// One record of the input after the header.
#[derive(Debug)]
pub enum Record {
    /// A well-formed row: its 1-based data row number (stable across runs; the header is
    /// row 0) and its columns.
    Row {
        /// Its 1-based data row number.
        row: u64,
        /// Its cells, decoded.
        columns: Vec<String>,
    },
    /// A record that cannot be a row: which lines it spans and why.
    Malformed {
        /// The data row number it would have had.
        row: u64,
        /// The first and last line it spans.
        lines: (u64, u64),
        /// What is wrong with it.
        why: String,
    },
}

impl InputFile {
    /// Opens `path`, detects (or takes) its encoding, reads the header and finds the columns
    /// of the parameters `needed`.
    pub fn open(path: &Path, needed: &[Param], encoding: Option<TextEncoding>) -> Result<Self, CsvError> {
        let unreadable =
            |e: std::io::Error| CsvError::input(format!("could not open --input {}: {e}", path.display()));
        let mut head = Vec::with_capacity(64 * 1024);
        File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut head)).map_err(unreadable)?;
        let encoding = match encoding {
            Some(given) => given,
            None => TextEncoding::detect(&head).map_err(|mixed| {
                CsvError::input(format!(
                    "{}: mostly UTF-8, but line {} is not UTF-8 text (a cell pasted from a GBK file?): \
                     nothing was sent. Fix that line, or pass --encoding utf-8 to check the UTF-8 rows \
                     and report the others",
                    path.display(),
                    mixed.first_other_line
                ))
            })?,
        };
        let mut file =
            InputFile { path: path.to_owned(), encoding, headers: Vec::new(), positions: Vec::new() };
        let (mut reader, flaws) = file.csv_reader()?;
        let header = reader
            .byte_headers()
            .map_err(|e| CsvError::input(format!("{}: no readable header: {e}", path.display())))?
            .clone();
        if let Some(flaw) = flaws.take(0) {
            return Err(CsvError::input(format!("{}: the header {}", path.display(), flaw_text(flaw))));
        }
        file.headers = file.header_names(&header)?;
        refuse_reserved(path, &file.headers)?;
        file.positions = needed
            .iter()
            .map(|&param| column_of(path, &file.headers, param).map(|i| (param, i)))
            .collect::<Result<_, _>>()?;
        Ok(file)
    }

    /// The folder image paths are relative to.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new(""))
    }

    /// The data records, from the first row, read afresh.
    pub fn records(&self) -> Result<Records, CsvError> {
        let (mut reader, flaws) = self.csv_reader()?;
        let header_len = reader.byte_headers().map(|h| h.len()).unwrap_or(0);
        flaws.take(0);
        Ok(Records {
            reader,
            flaws,
            encoding: self.encoding,
            header_len,
            record: csv::ByteRecord::new(),
            row: 0,
            next_line: 2,
        })
    }

    /// The parser over the file, and the flaws its records are found to have below it.
    fn csv_reader(&self) -> Result<(CsvReader, Flaws), CsvError> {
        let file = File::open(&self.path)
            .map_err(|e| CsvError::input(format!("could not open --input {}: {e}", self.path.display())))?;
        let flaws = Flaws::default();
        let bytes = RecordBounds::new(self.encoding.reader(BufReader::new(file)), flaws.clone());
        Ok((csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes), flaws))
    }

    fn header_names(&self, header: &csv::ByteRecord) -> Result<Vec<String>, CsvError> {
        header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let text = self.encoding.decode(h).ok_or_else(|| {
                    CsvError::input(format!(
                        "{}: the header is not {} text (save the file as UTF-8 CSV, or pass --encoding)",
                        self.path.display(),
                        self.encoding.name()
                    ))
                })?;
                let text = text.trim();
                Ok(if i == 0 {
                    text.trim_start_matches('\u{feff}').trim().to_owned()
                } else {
                    text.to_owned()
                })
            })
            .collect()
    }
}

/// The input's records, in order.
pub struct Records {
    reader: CsvReader,
    flaws: Flaws,
    encoding: TextEncoding,
    header_len: usize,
    record: csv::ByteRecord,
    row: u64,
    /// The line the next record starts on: counted here, since the csv crate's count is off
    /// by one in CRLF files.
    next_line: u64,
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let line = self.next_line;
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                self.row += 1;
                self.next_line += 1;
                return Some(Record::Malformed { row: self.row, lines: (line, line), why: e.to_string() });
            }
        }
        self.row += 1;
        let flaw = self.flaws.take(self.row);
        let skipped = match flaw {
            Some(Flaw::TooLong { skipped_lines }) => skipped_lines,
            _ => 0,
        };
        let embedded =
            self.record.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64).sum::<u64>()
                + skipped;
        self.next_line += 1 + embedded;
        // A quote left open at the end of the file swallows the last line ending too.
        let swallowed_ending = self.record.iter().next_back().is_some_and(|f| f.ends_with(b"\n"));
        let lines = (line, (line + embedded).saturating_sub(u64::from(swallowed_ending)).max(line));
        if let Some(flaw) = flaw {
            return Some(Record::Malformed {
                row: self.row,
                lines,
                why: format!("the record {}", flaw_text(flaw)),
            });
        }
        if self.record.len() != self.header_len {
            let mut why = format!("{} fields where the header has {}", self.record.len(), self.header_len);
            if embedded > 0 {
                why += " (a quote that is not closed joins the lines that follow)";
            }
            return Some(Record::Malformed { row: self.row, lines, why });
        }
        let columns: Option<Vec<String>> =
            self.record.iter().map(|f| self.encoding.decode(f).map(|c| c.into_owned())).collect();
        match columns {
            Some(columns) => Some(Record::Row { row: self.row, columns }),
            None => {
                let why = format!(
                    "not {} text (save the file as UTF-8 CSV, or pass --encoding)",
                    self.encoding.name()
                );
                Some(Record::Malformed { row: self.row, lines, why })
            }
        }
    }
}

/// What a flaw found below the parser means, for the report.
fn flaw_text(flaw: Flaw) -> String {
    match flaw {
        Flaw::OpenQuote => {
            "opens a quote that is not closed before the end of the file (it would join every line after it into one cell)".into()
        }
        Flaw::TooLong { .. } => format!("is longer than {} MiB, the most a record may be", MAX_RECORD >> 20),
    }
}

/// Refuses an input with a column the output reserves for itself.
fn refuse_reserved(path: &Path, headers: &[String]) -> Result<(), CsvError> {
    match headers.iter().find(|h| h.to_ascii_lowercase().starts_with(RESERVED_PREFIX)) {
        Some(column) => Err(CsvError::input(format!(
            "{}: the column `{column}` starts with `{RESERVED_PREFIX}`, which the output reserves for its own columns: rename it",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// The column of `field`: the one with its canonical name; failing that, the one with an
/// accepted alias. Two candidates at the same level are an error naming both.
/// The column of `param`: the one named as its field (`name`, case and surrounding spaces
/// ignored), or else the one with one of its aliases (the registry's; ambiguous words such as
/// `id`, `phone` or `电话`, a customer number or a landline, are never among them).
fn column_of(path: &Path, headers: &[String], param: Param) -> Result<usize, CsvError> {
    let field = param.field_name().unwrap_or(param.wire_name());
    let aliases = param.column_aliases();
    let exact: Vec<usize> = (0..headers.len()).filter(|&i| headers[i].eq_ignore_ascii_case(field)).collect();
    let candidates = if exact.is_empty() {
        (0..headers.len()).filter(|&i| aliases.iter().any(|a| headers[i].eq_ignore_ascii_case(a))).collect()
    } else {
        exact
    };
    match candidates[..] {
        [one] => Ok(one),
        [] => Err(CsvError::input(format!(
            "{}: no `{field}` column (accepted: {field}, {}; the header has: {})",
            path.display(),
            aliases.join(", "),
            headers.join(", ")
        ))),
        [first, second, ..] => Err(CsvError::input(format!(
            "{}: both `{}` and `{}` could be the `{field}` column: rename one",
            path.display(),
            headers[first],
            headers[second]
        ))),
    }
}

/// About how many data rows `path` has, for the progress bar: its line count less the header.
pub fn estimate_rows(path: &Path) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            return Some(lines.saturating_sub(1));
        }
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn an_exact_name_wins_over_an_alias_and_ambiguity_is_an_error() {
        let path = Path::new("in.csv");
        let h = headers(&["id", "name", "idcard", "mobile"]);
        assert_eq!(
            column_of(path, &h, Param::Idcard).unwrap(),
            2,
            "`id` is a customer number, not the ID card"
        );
        let h = headers(&["姓名", "name"]);
        assert_eq!(column_of(path, &h, Param::Realname).unwrap(), 1);
        let h = headers(&["身份证号", "身份证号码"]);
        let error = column_of(path, &h, Param::Idcard).unwrap_err().message().to_owned();
        assert!(error.contains("`身份证号`") && error.contains("`身份证号码`"), "{error}");
        let h = headers(&["电话", "name"]);
        assert!(column_of(path, &h, Param::Mobile).is_err(), "`电话` is a landline");
    }

    #[test]
    fn reserved_columns_are_refused_by_name() {
        let error = refuse_reserved(Path::new("in.csv"), &headers(&["name", "JUHE_row"]))
            .unwrap_err()
            .message()
            .to_owned();
        assert!(error.contains("`JUHE_row`"), "{error}");
    }
}
