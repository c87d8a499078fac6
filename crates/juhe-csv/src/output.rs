//! Writing a batch's output: the input's columns, then the tool's own, each row written and
//! flushed as it finishes, in the input's encoding.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use juhe_verify::{Billing, Resend, ResultField};

use crate::CsvError;
use crate::encoding::TextEncoding;
use crate::input::RESERVED_PREFIX;

/// The tool's columns before the product's details, after `juhe_row`. `resend` is the
/// library's rule for a failed row (`safe`, `risks_paying_twice`, `never`), which `--resume`
/// applies; `ledger_entry` names the ledger entry a maybe billed row is settled by.
const RESULT_COLUMNS: [&str; 7] =
    ["error_code", "reason", "res", "billed", "reused_from", "resend", "ledger_entry"];

/// The CSV writer's buffer: a row of the tool's is a few hundred bytes (a longer one is
/// written through it in parts).
const RECORD_BUFFER: usize = 1024;

/// Where `juhe_billed` is, counted from `juhe_row`.
pub(crate) const BILLED_AFTER_ROW: usize = 4;

/// Where `juhe_resend` is, counted from `juhe_row`.
pub(crate) const RESEND_AFTER_ROW: usize = 6;

/// The output's header: the input's columns, then `juhe_row`, the result columns and the
/// product's details, each with the reserved prefix.
pub fn header(input: &[String], details: &[ResultField]) -> Vec<String> {
    let own = std::iter::once("row").chain(RESULT_COLUMNS).chain(details.iter().map(|d| d.wire_name()));
    input.iter().cloned().chain(own.map(|c| format!("{RESERVED_PREFIX}{c}"))).collect()
}

/// The tool's part of a row, after `juhe_row`.
#[derive(Debug, Clone)]
pub struct ResultCells {
    /// `juhe_error_code`: Juhe's code, `0` for a billed answer, empty or a word when none came.
    pub error_code: String,
    /// `juhe_reason`: Juhe's reason, or why the row was not checked.
    pub reason: String,
    /// `juhe_res`: the answer's `res`.
    pub res: String,
    /// `juhe_billed`: `true`, `false` or `maybe`.
    pub billing: Billing,
    /// `juhe_reused_from`: the row whose answer this copies, not billed again.
    pub reused_from: Option<u64>,
    /// Whether a failed row may be checked again, and at what risk; none for an answer.
    pub resend: Option<Resend>,
    /// The ledger entry to settle a maybe billed row by.
    pub ledger_entry: Option<i64>,
    /// The product's result fields, in the header's order.
    pub details: Vec<String>,
}

impl ResultCells {
    /// The cells, `juhe_row`'s first, as they are written: numbers are formatted into
    /// `numbers` (row, reused_from, ledger_entry), the rest borrowed.
    fn cells<'a>(&'a self, row: u64, numbers: &'a mut [String; 3]) -> impl Iterator<Item = &'a str> {
        *numbers = [
            row.to_string(),
            self.reused_from.map(|r| r.to_string()).unwrap_or_default(),
            self.ledger_entry.map(|e| e.to_string()).unwrap_or_default(),
        ];
        let [row, reused, entry] = &*numbers;
        [
            row.as_str(),
            &self.error_code,
            &self.reason,
            &self.res,
            self.billing.as_str(),
            reused,
            self.resend.map(Resend::as_str).unwrap_or_default(),
            entry,
        ]
        .into_iter()
        .chain(self.details.iter().map(String::as_str))
    }
}

/// The output file, appended to one row at a time.
pub struct Output {
    path: PathBuf,
    file: File,
    encoding: TextEncoding,
    /// Where the next row starts.
    position: u64,
    input_columns: usize,
    /// The text of the record being written (kept between rows, emptied after each).
    text: Vec<u8>,
}

impl Output {
    /// A new file with the header, created only if nothing is there.
    pub fn create(path: &Path, header: &[String], encoding: TextEncoding) -> Result<Self, CsvError> {
        let failed = |e: std::io::Error| CsvError::io(format!("could not create {}: {e}", path.display()));
        let file = private(OpenOptions::new().write(true).create_new(true)).open(path).map_err(failed)?;
        let mut output =
            Self { path: path.to_owned(), file, encoding, position: 0, input_columns: 0, text: Vec::new() };
        output.file.write_all(encoding.bom()).map_err(failed)?;
        output.position = encoding.bom().len() as u64;
        output.write_record(header.iter().map(String::as_str)).map_err(failed)?;
        Ok(output)
    }

    /// An interrupted run's file, already made whole, to append to.
    pub fn append(path: &Path, encoding: TextEncoding) -> Result<Self, CsvError> {
        let failed = |e: std::io::Error| CsvError::io(format!("could not open {}: {e}", path.display()));
        let file = OpenOptions::new().append(true).open(path).map_err(failed)?;
        let position = file.metadata().map_err(failed)?.len();
        Ok(Self { path: path.to_owned(), file, encoding, position, input_columns: 0, text: Vec::new() })
    }

    /// How many of a row's leading columns are the input's.
    pub fn with_input_columns(mut self, count: usize) -> Self {
        self.input_columns = count;
        self
    }

    /// The output file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one row and hands it to the operating system; returns where it starts. After
    /// an error the file may end in half a row, which `--resume` cuts off.
    pub fn write_row(&mut self, columns: &[String], row: u64, result: &ResultCells) -> std::io::Result<u64> {
        let mut numbers = Default::default();
        let record = columns.iter().map(String::as_str).chain(result.cells(row, &mut numbers));
        let start = self.position;
        self.write_record(record)?;
        Ok(start)
    }

    /// Writes one record with one `write`, its text made in a buffer kept between rows.
    fn write_record<'a>(&mut self, record: impl IntoIterator<Item = &'a str>) -> std::io::Result<()> {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .buffer_capacity(RECORD_BUFFER)
            .from_writer(std::mem::take(&mut self.text));
        writer.write_record(record).map_err(std::io::Error::other)?;
        let mut text = writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
        let written = self.encoding.encode_utf8(&text).map_err(std::io::Error::other).and_then(|bytes| {
            self.file.write_all(&bytes)?;
            Ok(bytes.len() as u64)
        });
        text.clear();
        self.text = text;
        self.position += written?;
        Ok(())
    }

    /// The result part of the row written at `offset`, to give a copy of it.
    pub fn result_at(&self, offset: u64) -> std::io::Result<ResultCells> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut reader =
            csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(BufReader::new(file));
        let mut record = csv::ByteRecord::new();
        // A record after a CRLF one starts at its `\n`: the reader skips the empty line.
        if !reader.read_byte_record(&mut record).map_err(std::io::Error::other)? {
            return Err(std::io::Error::other("the first row of a duplicate is missing from the output"));
        }
        let text = |i: usize| -> String {
            record.get(i).and_then(|f| self.encoding.decode(f)).map(|t| t.into_owned()).unwrap_or_default()
        };
        // Columns: the input's, juhe_row, then the result columns and the details.
        let first = self.input_columns + 1;
        let details = (first + RESULT_COLUMNS.len()..record.len()).map(text).collect();
        Ok(ResultCells {
            error_code: text(first),
            reason: text(first + 1),
            res: text(first + 2),
            billing: Billing::NotBilled,
            reused_from: None,
            resend: None,
            ledger_entry: None,
            details,
        })
    }
}

/// Options that create a file only its owner can read (0600 on Unix): every file a batch
/// writes holds names, ID numbers and mobiles, or the order numbers of people's checks. On
/// Windows a new file takes its folder's permissions.
pub(crate) fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

/// Appends `rows` (row and order number) to the list of billed rows not recorded, beside the
/// output: created 0600 with a header the first time, never rewritten, so an entry of an
/// earlier failed run is never lost.
pub fn list_unrecorded(output: &Path, rows: &[(u64, String)]) -> std::io::Result<PathBuf> {
    let path = unrecorded_path(output);
    let mut file = private(OpenOptions::new().create(true).append(true)).open(&path)?;
    let mut text = String::new();
    if file.metadata()?.len() == 0 {
        text.push_str("juhe_row,juhe_orderid\n");
    }
    for (row, order) in rows {
        text.push_str(&format!("{row},{order}\n"));
    }
    file.write_all(text.as_bytes())?;
    Ok(path)
}

/// Where the rows that were billed but could not be recorded are listed, next to the output.
pub(crate) fn unrecorded_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".unrecorded.csv");
    output.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_columns_carry_the_reserved_prefix() {
        let header = header(&["row".to_owned(), "billed".to_owned()], &[ResultField::OrderId]);
        assert_eq!(
            header,
            [
                "row",
                "billed",
                "juhe_row",
                "juhe_error_code",
                "juhe_reason",
                "juhe_res",
                "juhe_billed",
                "juhe_reused_from",
                "juhe_resend",
                "juhe_ledger_entry",
                "juhe_orderid"
            ]
        );
    }

    #[test]
    fn a_rows_result_reads_back_from_its_offset_in_any_encoding() {
        for encoding in [TextEncoding::Utf8 { bom: true }, TextEncoding::Gbk] {
            let path = std::env::temp_dir().join(format!(
                "juhe-output-{}-{}.csv",
                std::process::id(),
                encoding.name()
            ));
            let _ = std::fs::remove_file(&path);
            let header = header(&["姓名".to_owned()], &[ResultField::Province]);
            let mut output = Output::create(&path, &header, encoding).unwrap().with_input_columns(1);
            let result = ResultCells {
                error_code: "0".into(),
                reason: "成功".into(),
                res: "1".into(),
                billing: Billing::Billed,
                reused_from: None,
                resend: None,
                ledger_entry: None,
                details: vec!["广东省".into()],
            };
            output.write_row(&["张三".into()], 1, &result).unwrap();
            let second = output.write_row(&["李四".into()], 2, &result).unwrap();
            let read = output.result_at(second).unwrap();
            assert_eq!(
                (read.reason.as_str(), read.details[0].as_str(), read.billing),
                ("成功", "广东省", Billing::NotBilled)
            );
            let _ = std::fs::remove_file(&path);
        }
    }
}
