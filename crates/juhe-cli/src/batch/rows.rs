//! The rows a batch checks, pulled one at a time by the client's batch: rows already done
//! are skipped, malformed records reported, duplicates diverted to be written from their first
//! row's result, and no check starts that could take the billed total past the budget.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use juhe_proto::{Field, Problem, Product, ValidationError};

use crate::batch::dedupe::{Duplicates, Key, KeyHasher, Role};
use crate::batch::input::{IDCARD, IMAGE, MOBILE, NAME, Record, Records};
use crate::batch::resume::DoneRows;
use crate::check::face_image_file::{self, ImageFileError};

/// A row handed to the client: carried with its check and returned with its result.
#[derive(Debug)]
pub(crate) struct InputRow {
    pub(crate) row: u64,
    pub(crate) columns: Vec<String>,
    /// Set for the first of several rows with the same fields: its result will be reused.
    pub(crate) key: Option<Key>,
}

/// A later copy of a row whose result is written at `offset`.
#[derive(Debug)]
pub(crate) struct CopyRow {
    pub(crate) row: u64,
    pub(crate) columns: Vec<String>,
    pub(crate) from: u64,
    pub(crate) offset: u64,
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

/// Checks billed, or that may be, against a `--max-billed` budget. Checks in flight count as
/// billed until their answer says otherwise.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub(crate) max: Option<u64>,
    billed: AtomicU64,
    in_flight: AtomicU64,
    pub(crate) reached: AtomicBool,
}

impl Budget {
    pub(crate) fn new(max: Option<u64>) -> Self {
        Self { max, ..Self::default() }
    }

    /// Whether one more check may start; counts it in flight if so.
    fn start(&self) -> bool {
        let spent = self.billed.load(Ordering::SeqCst) + self.in_flight.load(Ordering::SeqCst);
        if self.max.is_some_and(|max| spent >= max) {
            self.reached.store(true, Ordering::SeqCst);
            return false;
        }
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A started check ended; `billed` if it was or may have been.
    pub(crate) fn finish(&self, billed: bool) {
        if billed {
            self.billed.fetch_add(1, Ordering::SeqCst);
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the rows and the writer share.
pub(crate) struct Shared {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) budget: Arc<Budget>,
    pub(crate) duplicates: Option<Arc<Duplicates>>,
    pub(crate) keys: Arc<KeyHasher>,
    pub(crate) skipped: Arc<AtomicU64>,
    pub(crate) malformed: Arc<AtomicU64>,
}

/// The rows of one product's batch.
pub(crate) struct Rows<C> {
    pub(crate) records: Records,
    pub(crate) done: DoneRows,
    pub(crate) product: Product,
    pub(crate) positions: Vec<(&'static str, usize)>,
    pub(crate) base_dir: PathBuf,
    pub(crate) make: fn(&RowFields) -> Result<C, ValidationError>,
    pub(crate) shared: Shared,
    /// Hands a copy to the writer; `false` once it is gone.
    pub(crate) send_copy: Box<dyn FnMut(CopyRow) -> bool + Send>,
}

impl<C> Iterator for Rows<C> {
    type Item = (InputRow, Result<C, ValidationError>);

    /// The next row to check. Ends at the end of the input, on Ctrl-C, when the output fails,
    /// and at the budget.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                return None;
            }
            let (row, columns) = match self.records.next()? {
                Record::Malformed { row, lines, why } => {
                    self.report(row, lines, &why);
                    continue;
                }
                Record::Row { row, columns } => (row, columns),
            };
            if self.done.contains(row) {
                self.shared.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let key = self.key_of(&columns);
            let role = match (&self.shared.duplicates, key) {
                (Some(duplicates), Some(key)) => duplicates.role(key, row),
                _ => Role::Unique,
            };
            if let (Role::Copy { first }, Some(key)) = (role, key) {
                match self.copy_of(key) {
                    Some(offset) => {
                        if !(self.send_copy)(CopyRow { row, columns, from: first, offset }) {
                            return None;
                        }
                        continue;
                    }
                    // The first row has no result to give: this copy is checked itself.
                    None if !self.shared.stop.load(Ordering::SeqCst) => {}
                    None => return None,
                }
            }
            let check = (self.make)(&self.fields_of(&columns));
            let original = (role == Role::Original).then_some(key).flatten();
            if check.is_err() {
                if let (Some(duplicates), Some(key)) = (&self.shared.duplicates, original) {
                    duplicates.unusable(key);
                }
            } else if !self.shared.budget.start() {
                return None;
            }
            return Some((InputRow { row, columns, key: original }, check));
        }
    }
}

impl<C> Rows<C> {
    fn report(&self, row: u64, (first, last): (u64, u64), why: &str) {
        if self.done.contains(row) {
            return;
        }
        self.shared.malformed.fetch_add(1, Ordering::Relaxed);
        let lines = if first == last { format!("line {first}") } else { format!("lines {first}-{last}") };
        eprintln!("juhe: input {lines}: {why}; skipped");
    }

    fn key_of(&self, columns: &[String]) -> Option<Key> {
        self.shared.duplicates.as_ref()?;
        let fields: Vec<(&str, &str)> = self
            .positions
            .iter()
            .map(|&(field, index)| (field, columns.get(index).map_or("", String::as_str)))
            .collect();
        self.shared.keys.key(self.product, &fields)
    }

    fn copy_of(&self, key: Key) -> Option<u64> {
        self.shared.duplicates.as_ref()?.wait_for(key, &self.shared.stop)
    }

    fn fields_of(&self, columns: &[String]) -> RowFields {
        let mut fields = RowFields::default();
        for &(field, index) in &self.positions {
            let value = columns.get(index).cloned().unwrap_or_default();
            match field {
                NAME => fields.name = value,
                IDCARD => fields.idcard = value,
                MOBILE => fields.mobile = value,
                IMAGE => fields.image = Some(self.read_image(value.trim())),
                _ => {}
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
