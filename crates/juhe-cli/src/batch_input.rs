//! Reading a batch's input CSV: the header, then one row at a time, so memory stays constant
//! whatever the file's size.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use juhe_proto::{Field, Problem, ValidationError};

use crate::batch_resume::DoneRows;
use crate::face_image_file::{self, ImageFileError};
use crate::failure::Failure;

/// The fields a product needs, by the name our output uses.
pub(crate) const NAME: &str = "name";
pub(crate) const IDCARD: &str = "idcard";
pub(crate) const MOBILE: &str = "mobile";
pub(crate) const IMAGE: &str = "image";

/// Header spellings accepted for each field (case and surrounding spaces ignored): the
/// English names and what a Chinese spreadsheet would say.
const ALIASES: [(&str, &[&str]); 4] = [
    (NAME, &["name", "realname", "姓名", "名字"]),
    (IDCARD, &["idcard", "id", "身份证", "身份证号", "身份证号码"]),
    (MOBILE, &["mobile", "phone", "手机", "手机号", "手机号码", "电话"]),
    (IMAGE, &["image", "photo", "照片", "人像", "图片"]),
];

/// One input row: its number, its columns as read, and the fields the check needs.
#[derive(Debug)]
pub(crate) struct InputRow {
    /// 1-based data row number (the header is row 0); stable across runs, used by --resume.
    pub(crate) row: u64,
    pub(crate) columns: Vec<String>,
    pub(crate) fields: RowFields,
}

/// The check's fields of a row.
#[derive(Debug, Default)]
pub(crate) struct RowFields {
    pub(crate) name: String,
    pub(crate) idcard: String,
    pub(crate) mobile: String,
    /// The image file's bytes, or why they could not be read.
    pub(crate) image: Option<Result<Vec<u8>, ValidationError>>,
}

/// Counts shared with the summary.
#[derive(Debug, Default)]
pub(crate) struct InputCounts {
    pub(crate) malformed: AtomicU64,
    pub(crate) skipped: AtomicU64,
}

/// The input file, read row by row.
pub(crate) struct Input {
    reader: csv::Reader<BufReader<File>>,
    pub(crate) headers: Vec<String>,
    positions: Vec<(&'static str, usize)>,
    base_dir: PathBuf,
    record: csv::ByteRecord,
    row: u64,
    /// The line the next record starts on: counted here, since the csv crate's count is off
    /// by one in CRLF files.
    next_line: u64,
    done: DoneRows,
    stop: Arc<AtomicBool>,
    counts: Arc<InputCounts>,
}

impl Input {
    /// Opens `path` and finds the columns `needed`.
    pub(crate) fn open(
        path: &Path,
        needed: &[&'static str],
        stop: Arc<AtomicBool>,
        counts: Arc<InputCounts>,
    ) -> Result<Self, Failure> {
        let file = File::open(path)
            .map_err(|e| Failure::usage(format!("could not open --input {}: {e}", path.display())))?;
        let mut reader =
            csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(BufReader::new(file));
        let headers: Vec<String> = reader
            .byte_headers()
            .map_err(|e| Failure::usage(format!("{}: no readable header: {e}", path.display())))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let text = String::from_utf8_lossy(h).trim().to_owned();
                if i == 0 { text.trim_start_matches('\u{feff}').trim().to_owned() } else { text }
            })
            .collect();
        let positions = needed
            .iter()
            .map(|&field| {
                column_of(&headers, field).map(|i| (field, i)).ok_or_else(|| missing(path, field, &headers))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Self {
            reader,
            headers,
            positions,
            base_dir,
            record: csv::ByteRecord::new(),
            row: 0,
            next_line: 2,
            done: DoneRows::default(),
            stop,
            counts,
        })
    }

    /// Rows an earlier run already wrote: not read again (`--resume`).
    pub(crate) fn skip_done(&mut self, done: DoneRows) {
        self.done = done;
    }

    fn fields_of(&self, columns: &[String]) -> RowFields {
        let mut fields = RowFields::default();
        for &(field, index) in &self.positions {
            let value = columns.get(index).cloned().unwrap_or_default();
            match field {
                NAME => fields.name = value,
                IDCARD => fields.idcard = value,
                MOBILE => fields.mobile = value,
                _ => fields.image = Some(self.read_image(value.trim())),
            }
        }
        fields
    }

    /// The image file of a face row, relative to the input file's folder.
    fn read_image(&self, path: &str) -> Result<Vec<u8>, ValidationError> {
        if path.is_empty() {
            return Err(ValidationError::new(Field::Image, Problem::Empty));
        }
        face_image_file::read(&self.base_dir.join(path)).map_err(|e| {
            let problem = match e {
                ImageFileError::TooLarge { bytes, max, .. } => {
                    Problem::ImageTooLarge { bytes: usize::try_from(bytes).unwrap_or(usize::MAX), max }
                }
                _ => Problem::Unreadable,
            };
            ValidationError::new(Field::Image, problem)
        })
    }
}

impl Iterator for Input {
    type Item = InputRow;

    /// The next row to check. Malformed rows are reported on stderr with their line number
    /// and skipped, as are rows already done; the iterator ends at the end of the file, or
    /// once Ctrl-C has been pressed.
    fn next(&mut self) -> Option<InputRow> {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    self.row += 1;
                    self.malformed(self.next_line, &format!("{e}"));
                    self.next_line += 1;
                    continue;
                }
            }
            self.row += 1;
            let line = self.next_line;
            let embedded: usize = self.record.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count()).sum();
            self.next_line += 1 + embedded as u64;
            if self.record.len() != self.headers.len() {
                let why = format!("{} fields where the header has {}", self.record.len(), self.headers.len());
                self.malformed(line, &why);
                continue;
            }
            let columns: Result<Vec<String>, _> =
                self.record.iter().map(|f| std::str::from_utf8(f).map(str::to_owned)).collect();
            let Ok(columns) = columns else {
                self.malformed(line, "not valid UTF-8 (save the file as UTF-8 CSV)");
                continue;
            };
            if self.done.contains(self.row) {
                self.counts.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let fields = self.fields_of(&columns);
            return Some(InputRow { row: self.row, columns, fields });
        }
    }
}

impl Input {
    fn malformed(&self, line: u64, why: &str) {
        self.counts.malformed.fetch_add(1, Ordering::Relaxed);
        eprintln!("juhe: input line {line}: {why}; skipped");
    }
}

fn column_of(headers: &[String], field: &str) -> Option<usize> {
    let aliases = ALIASES.iter().find(|(f, _)| *f == field).map_or(&[][..], |(_, a)| *a);
    headers.iter().position(|h| aliases.iter().any(|a| h.eq_ignore_ascii_case(a)))
}

fn missing(path: &Path, field: &str, headers: &[String]) -> Failure {
    Failure::usage(format!(
        "{}: no `{field}` column (the header has: {})",
        path.display(),
        headers.join(", ")
    ))
}

/// About how many data rows `path` has, for the progress bar: its line count less the header.
pub(crate) fn estimate_rows(path: &Path) -> Option<u64> {
    use std::io::Read;
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
