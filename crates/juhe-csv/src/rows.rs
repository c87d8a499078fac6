//! The rows a batch checks, pulled one at a time by the library's batch engine: rows already
//! done are skipped, malformed records reported, and each row's fields made into a check.
//! Every money control (budget, dedupe, stopping) is the engine's: this is only reading.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use juhe_proto::{
    AnyCheck, CivilDate, Field, Param, ParamInput, PersonalFields, Problem, Product, ValidationError,
};

use crate::input::{Record, Records};
use crate::local_file::{self, FACE_PHOTO, LocalFileError};
use crate::resume::DoneRows;

/// A row handed to the batch: carried with its check and returned with its result.
#[derive(Debug)]
pub struct InputRow {
    /// Its 1-based data row number (the header is row 0).
    pub row: u64,
    /// Its cells, decoded.
    pub columns: Vec<String>,
}

/// What reading the rows counted, and the row number of each input the batch was given (a
/// reused answer names its original by input index): 8 bytes a row.
#[derive(Debug, Default)]
pub struct RowLog {
    /// Rows skipped because the output already holds them.
    pub skipped: AtomicU64,
    /// Records that cannot be rows (reported on stderr with their lines).
    pub malformed: AtomicU64,
    rows: Mutex<Vec<u64>>,
}

impl RowLog {
    /// The row number of the batch's input `index`.
    pub fn row_of(&self, index: usize) -> Option<u64> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).get(index).copied()
    }
}

/// How a row becomes a check of the batch's product: its parameters' columns, read as the
/// registry says (text as it is; a file's path, relative to the input's folder, read).
#[derive(Debug, Clone)]
pub struct RowChecks {
    /// The product its rows are checks of.
    pub product: Product,
    /// Each personal parameter's column ([`InputFile::positions`](crate::InputFile)).
    pub positions: Vec<(Param, usize)>,
    /// The folder a photo's path in a cell is relative to.
    pub base_dir: PathBuf,
}

impl RowChecks {
    /// The check a row asks for, or why it is invalid (nothing is sent for it).
    pub fn check(&self, columns: &[String]) -> Result<AnyCheck, ValidationError> {
        let mut fields = PersonalFields::new();
        for &(param, index) in &self.positions {
            let cell = columns.get(index).map_or("", String::as_str);
            match param.input() {
                Some(ParamInput::Bytes) => fields.insert_bytes(param, &self.read_file(param, cell.trim())?),
                _ => fields.insert(param, cell),
            }
        }
        AnyCheck::parse(self.product, &fields, CivilDate::today_in_china())
    }

    /// Whether its rows are text only: checking one reads no file.
    pub fn text_only(&self) -> bool {
        self.product.params().iter().all(|p| p.input() != Some(ParamInput::Bytes))
    }

    /// Whether a file the row names (a photo) may have changed since `since`: modified after
    /// it, or its time unreadable. A check made before such a change asked about other bytes.
    pub fn files_changed_since(&self, columns: &[String], since: SystemTime) -> bool {
        self.positions.iter().filter(|(param, _)| param.input() == Some(ParamInput::Bytes)).any(
            |&(_, index)| {
                let path = columns.get(index).map_or("", |c| c.trim());
                let modified = std::fs::metadata(self.base_dir.join(path)).and_then(|m| m.modified());
                modified.map_or(true, |at| at > since)
            },
        )
    }

    /// The file a row names for `param`, relative to the input file's folder.
    fn read_file(&self, param: Param, path: &str) -> Result<Vec<u8>, ValidationError> {
        let field = Field::from_param(param).unwrap_or(Field::Image);
        if path.is_empty() {
            return Err(ValidationError::new(field, Problem::Empty));
        }
        local_file::read(&self.base_dir.join(path), FACE_PHOTO).map_err(|e| {
            let problem = match e {
                LocalFileError::TooLarge { bytes, max, .. } => {
                    Problem::ImageTooLarge { bytes: usize::try_from(bytes).unwrap_or(usize::MAX), max }
                }
                _ => Problem::Unreadable,
            };
            ValidationError::new(field, problem)
        })
    }
}

/// The rows of one batch.
pub struct Rows {
    /// The input's records.
    pub records: Records,
    /// The rows an earlier run wrote: skipped.
    pub done: Arc<DoneRows>,
    /// How a row becomes a check.
    pub checks: RowChecks,
    /// What reading counted.
    pub log: Arc<RowLog>,
}

impl Rows {
    /// The rows of `records` not in `done`, made checks by `checks`, counted in `log`.
    pub fn new(records: Records, done: Arc<DoneRows>, checks: RowChecks, log: Arc<RowLog>) -> Self {
        Self { records, done, checks, log }
    }
}

impl Iterator for Rows {
    type Item = (InputRow, Result<AnyCheck, ValidationError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (row, columns) = match self.records.next()? {
                Record::Malformed { row, lines, why } => {
                    self.report(row, lines, &why);
                    continue;
                }
                Record::Row { row, columns } => (row, columns),
            };
            if self.done.contains(row) {
                self.log.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let check = self.checks.check(&columns);
            self.log.rows.lock().unwrap_or_else(|p| p.into_inner()).push(row);
            return Some((InputRow { row, columns }, check));
        }
    }
}

impl Rows {
    fn report(&self, row: u64, (first, last): (u64, u64), why: &str) {
        if self.done.contains(row) {
            return;
        }
        self.log.malformed.fetch_add(1, Ordering::Relaxed);
        let lines = if first == last { format!("line {first}") } else { format!("lines {first}-{last}") };
        eprintln!("juhe: input {lines}: {why}; skipped");
    }
}
