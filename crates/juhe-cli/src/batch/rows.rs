//! The rows a batch checks, pulled one at a time by the library's batch engine: rows already
//! done are skipped, malformed records reported, and each row's fields made into a check.
//! Every money control (budget, dedupe, stopping) is the engine's: this is only reading.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use juhe_proto::{Field, Problem, ValidationError};

use crate::batch::input::{IDCARD, IMAGE, MOBILE, NAME, Record, Records};
use crate::batch::resume::DoneRows;
use crate::local_file::{self, FACE_PHOTO, LocalFileError};

/// A row handed to the batch: carried with its check and returned with its result.
#[derive(Debug)]
pub(crate) struct InputRow {
    pub(crate) row: u64,
    pub(crate) columns: Vec<String>,
}

/// The fields of a row, as its check needs them.
#[derive(Debug, Default)]
pub(crate) struct RowFields {
    pub(crate) name: String,
    pub(crate) idcard: String,
    pub(crate) mobile: String,
    /// The image file's bytes, or why they could not be used.
    pub(crate) image: Option<Result<Vec<u8>, ValidationError>>,
}

/// What reading the rows counted, and the row number of each input the batch was given (a
/// reused answer names its original by input index): 8 bytes a row.
#[derive(Debug, Default)]
pub(crate) struct RowLog {
    pub(crate) skipped: AtomicU64,
    pub(crate) malformed: AtomicU64,
    rows: Mutex<Vec<u64>>,
}

impl RowLog {
    /// The row number of the batch's input `index`.
    pub(crate) fn row_of(&self, index: usize) -> Option<u64> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).get(index).copied()
    }
}

/// A row's text fields (no image file is read).
pub(crate) fn text_fields(positions: &[(&'static str, usize)], columns: &[String]) -> RowFields {
    let mut fields = RowFields::default();
    for &(field, index) in positions {
        let value = columns.get(index).cloned().unwrap_or_default();
        match field {
            NAME => fields.name = value,
            IDCARD => fields.idcard = value,
            MOBILE => fields.mobile = value,
            _ => {}
        }
    }
    fields
}

/// The rows of one product's batch.
pub(crate) struct Rows<C> {
    pub(crate) records: Records,
    pub(crate) done: Arc<DoneRows>,
    pub(crate) positions: Vec<(&'static str, usize)>,
    pub(crate) base_dir: PathBuf,
    pub(crate) make: fn(&RowFields) -> Result<C, ValidationError>,
    pub(crate) log: Arc<RowLog>,
}

impl<C> Iterator for Rows<C> {
    type Item = (InputRow, Result<C, ValidationError>);

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
            let check = (self.make)(&self.fields_of(&columns));
            self.log.rows.lock().unwrap_or_else(|p| p.into_inner()).push(row);
            return Some((InputRow { row, columns }, check));
        }
    }
}

impl<C> Rows<C> {
    fn report(&self, row: u64, (first, last): (u64, u64), why: &str) {
        if self.done.contains(row) {
            return;
        }
        self.log.malformed.fetch_add(1, Ordering::Relaxed);
        let lines = if first == last { format!("line {first}") } else { format!("lines {first}-{last}") };
        eprintln!("juhe: input {lines}: {why}; skipped");
    }

    fn fields_of(&self, columns: &[String]) -> RowFields {
        let mut fields = text_fields(&self.positions, columns);
        if let Some(&(_, index)) = self.positions.iter().find(|(field, _)| *field == IMAGE) {
            let path = columns.get(index).map_or("", String::as_str);
            fields.image = Some(self.read_image(path.trim()));
        }
        fields
    }

    /// The image file of a face row, relative to the input file's folder.
    fn read_image(&self, path: &str) -> Result<Vec<u8>, ValidationError> {
        if path.is_empty() {
            return Err(ValidationError::new(Field::Image, Problem::Empty));
        }
        local_file::read(&self.base_dir.join(path), FACE_PHOTO).map_err(|e| {
            let problem = match e {
                LocalFileError::TooLarge { bytes, max, .. } => {
                    Problem::ImageTooLarge { bytes: usize::try_from(bytes).unwrap_or(usize::MAX), max }
                }
                _ => Problem::Unreadable,
            };
            ValidationError::new(Field::Image, problem)
        })
    }
}
