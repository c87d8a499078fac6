//! `--resume`: which rows an interrupted run already wrote, proof that they belong to this
//! input, and making the output file whole again (a kill can leave half a line at the end).

use std::collections::hash_map::RandomState;
use std::fs::{File, OpenOptions};
use std::hash::BuildHasher;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::encoding::TextEncoding;
use crate::input::{InputFile, Record};
use juhe_verify::{Billing, Resend};

use crate::CsvError;
use crate::output::{BILLED_AFTER_ROW, RESEND_AFTER_ROW};

/// Hashes a row's input columns with a key made for this run: what resume compares, without
/// keeping anyone's data in memory.
#[derive(Debug, Default)]
pub struct ColumnHasher(RandomState);

impl ColumnHasher {
    /// The keyed hash of an input row's cells.
    pub fn hash(&self, columns: &[String]) -> u64 {
        self.0.hash_one(columns)
    }
}

/// A row an earlier run wrote: its number, the hash of its input columns, and where its
/// record starts in the output file.
#[derive(Debug, Clone, Copy)]
pub struct DoneRow {
    /// Its input row number.
    pub row: u64,
    columns: u64,
    /// Where its line starts in the output file.
    pub offset: u64,
    /// What its `juhe_billed` cell says.
    pub billing: Option<Billing>,
    /// Its check is made again: it failed without being billed for a reason that passes, or
    /// may have been billed and the user said to check it again.
    pub redo: bool,
}

impl DoneRow {
    /// A row written before the batch starts (a copy of a done row): its columns were proven
    /// with the input already.
    pub fn written(row: u64, offset: u64, billing: Billing) -> Self {
        Self { row, columns: 0, offset, billing: Some(billing), redo: false }
    }
}

/// The rows already in the output, by row number: 32 bytes a row.
#[derive(Debug, Default)]
pub struct DoneRows(Vec<DoneRow>);

impl DoneRows {
    /// The done row `row`, if it is one.
    pub fn get(&self, row: u64) -> Option<&DoneRow> {
        self.0.binary_search_by_key(&row, |d| d.row).ok().map(|i| &self.0[i])
    }

    /// Whether `row` is done: in the output, and not to be checked again.
    pub fn contains(&self, row: u64) -> bool {
        self.get(row).is_some_and(|d| !d.redo)
    }

    /// How many rows are done.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no row is done.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many rows of the output are checked again, and how many maybe billed are not.
    pub fn redo_counts(&self) -> (usize, usize) {
        let redo = self.0.iter().filter(|d| d.redo).count();
        let maybe_kept = self.0.iter().filter(|d| !d.redo && d.billing == Some(Billing::MaybeBilled)).count();
        (redo, maybe_kept)
    }

    /// Adds rows written outside a batch (copies of done rows); keeps the order.
    pub fn extend(&mut self, rows: Vec<DoneRow>) {
        self.0.extend(rows);
        self.0.sort_unstable_by_key(|d| d.row);
    }
}

/// Reads a `juhe_billed` cell.
pub fn parse_billing(cell: &[u8]) -> Option<Billing> {
    std::str::from_utf8(cell).ok()?.parse().ok()
}

/// Whether a row written with these `juhe_billed` and `juhe_resend` cells is checked again on
/// resume: the library's rule ([`juhe_verify::Error::resend`]) as the row recorded it. Safe (not
/// billed, and sending again can help: not sent, a rate limit, a provider's network error, an
/// HTTP 503): always. Risks paying twice (maybe billed): only with `--resend-maybe-billed`.
/// Billed, or never: not.
fn redo(billing: Option<Billing>, resend: &[u8], resend_maybe_billed: bool) -> bool {
    let resend = std::str::from_utf8(resend).ok().and_then(Resend::parse);
    match (billing, resend) {
        (Some(Billing::Billed) | None, _) | (_, None) => false,
        (Some(_), Some(resend)) => resend.allows(resend_maybe_billed),
    }
}

/// What scanning an output file found.
pub struct Scanned {
    /// The rows the output already holds.
    pub done: DoneRows,
}

/// Reads an existing output file: checks its header is `expected`, collects each complete
/// record's row, input-column hash and offset, and cuts off a half-written last record. A
/// broken record anywhere but at the end means the file was edited: it is refused, never cut.
pub fn scan_output(
    path: &Path,
    expected: &[String],
    input_columns: usize,
    encoding: TextEncoding,
    hasher: &ColumnHasher,
    resend_maybe_billed: bool,
) -> Result<Scanned, CsvError> {
    let failed = |e: &dyn std::fmt::Display| CsvError::io(format!("could not read {}: {e}", path.display()));
    let file = File::open(path).map_err(|e| failed(&e))?;
    let length = file.metadata().map_err(|e| failed(&e))?.len();
    let ends_with_newline =
        matches!(byte_at(path, length.wrapping_sub(1)).map_err(|e| failed(&e))?, Some(b'\n' | b'\r'));
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(BufReader::new(file));
    let headers = reader
        .byte_headers()
        .map_err(|e| CsvError::input(format!("{}: not a batch output file: {e}", path.display())))?;
    let headers: Vec<String> = headers
        .iter()
        .map(|h| encoding.decode(h).map(|t| t.trim_start_matches('\u{feff}').to_owned()).unwrap_or_default())
        .collect();
    if headers != expected {
        return Err(CsvError::input(format!(
            "{} was written for other input columns or another product; use a new --output",
            path.display()
        )));
    }
    let row_column = input_columns;
    let mut done = Vec::new();
    let mut complete_up_to = reader.position().byte();
    let mut record = csv::ByteRecord::new();
    let mut broken = None;
    loop {
        let start = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) if broken.is_some() => {
                return Err(CsvError::input(format!(
                    "{}: the record at byte {} is not one this tool wrote, and more follow it: the file was edited; use a new --output",
                    path.display(),
                    broken.unwrap_or(0)
                )));
            }
            Ok(true) => {}
            Err(_) => {
                broken = Some(start);
                continue;
            }
        }
        let row =
            record.get(row_column).and_then(|r| std::str::from_utf8(r).ok()).and_then(|r| r.parse().ok());
        let columns: Option<Vec<String>> =
            record.iter().take(input_columns).map(|f| encoding.decode(f).map(|t| t.into_owned())).collect();
        match (row, columns) {
            (Some(row), Some(columns)) if record.len() == expected.len() => {
                let billing = record.get(input_columns + BILLED_AFTER_ROW).and_then(parse_billing);
                let resend = record.get(input_columns + RESEND_AFTER_ROW).unwrap_or_default();
                let redo = redo(billing, resend, resend_maybe_billed);
                done.push(DoneRow { row, columns: hasher.hash(&columns), offset: start, billing, redo });
                complete_up_to = reader.position().byte();
            }
            _ => broken = Some(start),
        }
    }
    // The last record is whole only if its line ending was written.
    if broken.is_none() && !ends_with_newline && complete_up_to == length {
        broken = done.pop().map(|d| d.offset);
        complete_up_to = broken.unwrap_or(complete_up_to);
    }
    // After a CRLF record the csv reader stops between `\r` and `\n`: the record ends after both.
    if byte_at(path, complete_up_to).map_err(|e| failed(&e))? == Some(b'\n') {
        complete_up_to += 1;
    }
    if complete_up_to < length {
        eprintln!(
            "juhe: dropping an unfinished last line from {} (its row will be checked again)",
            path.display()
        );
        let file = OpenOptions::new().write(true).open(path).map_err(|e| failed(&e))?;
        file.set_len(complete_up_to).map_err(|e| failed(&e))?;
    }
    Ok(Scanned { done: DoneRows(latest_of_each_row(path, done)?) })
}

/// One record per row: a row is in the output again only after a record that did not bill
/// it (a resumed run checked it again), and the latest counts. Any other repeat means the
/// file was edited or written by two runs at once.
fn latest_of_each_row(path: &Path, mut done: Vec<DoneRow>) -> Result<Vec<DoneRow>, CsvError> {
    done.sort_unstable_by_key(|d| (d.row, d.offset));
    let superseded = |d: &DoneRow| matches!(d.billing, Some(Billing::NotBilled | Billing::MaybeBilled));
    if let Some(pair) = done.windows(2).find(|w| w[0].row == w[1].row && !superseded(&w[0])) {
        return Err(CsvError::input(format!(
            "{}: row {} is in it twice: the file was edited or written by two runs at once; use a new --output",
            path.display(),
            pair[0].row
        )));
    }
    let mut latest: Vec<DoneRow> = Vec::with_capacity(done.len());
    for row in done {
        match latest.last_mut() {
            Some(last) if last.row == row.row => *last = row,
            _ => latest.push(row),
        }
    }
    Ok(latest)
}

/// Proves that every done row belongs to `input`: the same row of the input has the same
/// columns. Reads the whole input once; refuses (status 2, nothing sent) at the first row
/// that does not match and when the output names rows the input does not have.
pub fn prove(
    done: &DoneRows,
    input: &InputFile,
    output: &Path,
    hasher: &ColumnHasher,
) -> Result<(), CsvError> {
    let mut matched = 0;
    let mut last = 0;
    for record in input.records()? {
        let (row, hash) = match record {
            Record::Row { row, columns } => (row, Some(hasher.hash(&columns))),
            Record::Malformed { row, .. } => (row, None),
        };
        last = row;
        let Some(done) = done.get(row) else { continue };
        if hash != Some(done.columns) {
            return Err(CsvError::input(format!(
                "row {row} of {} does not match row {row} of {}: the output was written for another input; use a new --output",
                output.display(),
                input.path.display()
            )));
        }
        matched += 1;
    }
    if matched < done.len() {
        let beyond = done.0.iter().find(|d| d.row > last).map_or(last + 1, |d| d.row);
        return Err(CsvError::input(format!(
            "{} has row {beyond}, but {} has {last} rows: the output was written for another input; use a new --output",
            output.display(),
            input.path.display()
        )));
    }
    Ok(())
}

/// The byte at `offset`, if the file is that long.
fn byte_at(path: &Path, offset: u64) -> std::io::Result<Option<u8>> {
    let mut file = File::open(path)?;
    if offset >= file.metadata()?.len() {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut byte = [0u8];
    file.read_exact(&mut byte)?;
    Ok(Some(byte[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_half_written_last_line_is_cut_off() {
        let path = std::env::temp_dir().join(format!("juhe-resume-{}.csv", std::process::id()));
        let header = strings(&["name", "juhe_row", "juhe_reason"]);
        std::fs::write(&path, "name,juhe_row,juhe_reason\n张三,1,ok\r\n\"李\n四\",2,ok\n王五,3,o").unwrap();
        let hasher = ColumnHasher::default();
        let scanned =
            scan_output(&path, &header, 1, TextEncoding::Utf8 { bom: false }, &hasher, false).unwrap();
        assert!(scanned.done.contains(1) && scanned.done.contains(2) && !scanned.done.contains(3));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "name,juhe_row,juhe_reason\n张三,1,ok\r\n\"李\n四\",2,ok\n"
        );
        assert!(
            scan_output(&path, &strings(&["x"]), 1, TextEncoding::Utf8 { bom: false }, &hasher, false)
                .is_err()
        );
        // A broken record with more after it: the file was edited; refused, not cut.
        std::fs::write(&path, "name,juhe_row,juhe_reason\n张三,1\n李四,2,ok\n").unwrap();
        assert!(scan_output(&path, &header, 1, TextEncoding::Utf8 { bom: false }, &hasher, false).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3, "nothing cut");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_huge_row_number_takes_no_memory() {
        let path = std::env::temp_dir().join(format!("juhe-resume-big-{}.csv", std::process::id()));
        let header = strings(&["name", "juhe_row", "juhe_reason"]);
        std::fs::write(&path, "name,juhe_row,juhe_reason\n张三,20231122000123,ok\n").unwrap();
        let scanned = scan_output(
            &path,
            &header,
            1,
            TextEncoding::Utf8 { bom: false },
            &ColumnHasher::default(),
            false,
        )
        .unwrap();
        assert!(scanned.done.contains(20231122000123));
        let _ = std::fs::remove_file(&path);
    }
}
