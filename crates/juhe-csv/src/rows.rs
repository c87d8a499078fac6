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
use crate::read_ahead::ReadAhead;
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

/// The rows of one batch: read, decoded and validated here or ahead on
/// a thread of its own ([`read_ahead`](Self::read_ahead)); counted in the log and reported
/// here, as each is handed to the batch, so nothing read ahead of a stop is counted.
pub struct Rows {
    source: Pulling,
    done: Arc<DoneRows>,
    log: Arc<RowLog>,
}

enum Pulling {
    Here(Box<RowSource>),
    Ahead(ReadAhead<Pulled>),
}

/// The rows of a file as read, before anything is counted: what the reading side of
/// [`Rows`] does, on whichever thread reads.
struct RowSource {
    records: Records,
    done: Arc<DoneRows>,
    checks: RowChecks,
}

/// One record as read.
enum Pulled {
    Malformed {
        row: u64,
        lines: (u64, u64),
        why: String,
    },
    /// A row the output already holds.
    Done,
    Row(InputRow, Result<AnyCheck, ValidationError>),
}

impl Iterator for RowSource {
    type Item = Pulled;

    fn next(&mut self) -> Option<Pulled> {
        Some(match self.records.next()? {
            Record::Malformed { row, lines, why } => Pulled::Malformed { row, lines, why },
            Record::Row { row, .. } if self.done.contains(row) => Pulled::Done,
            Record::Row { row, columns } => {
                let check = self.checks.check(&columns);
                Pulled::Row(InputRow { row, columns }, check)
            }
        })
    }
}

impl Pulled {
    /// What it holds, to bound how much is read ahead.
    fn bytes(&self) -> usize {
        match self {
            Self::Malformed { why, .. } => why.len(),
            Self::Done => 0,
            Self::Row(input, _) => input.columns.iter().map(String::len).sum(),
        }
    }
}

impl Rows {
    /// The rows of `records` not in `done`, made checks by `checks`, counted in `log`; read
    /// as the batch asks for each.
    pub fn new(records: Records, done: Arc<DoneRows>, checks: RowChecks, log: Arc<RowLog>) -> Self {
        let source = RowSource { records, done: Arc::clone(&done), checks };
        Self { source: Pulling::Here(Box::new(source)), done, log }
    }

    /// The same rows, read ahead on a thread of its own ([`ReadAhead`]) when they are text
    /// only: rows naming photos are read as asked, so no more than one photo is held at a
    /// time.
    pub fn read_ahead(self) -> Self {
        let Pulling::Here(source) = self.source else { return self };
        let source = if source.checks.text_only() {
            Pulling::Ahead(ReadAhead::new(*source, Pulled::bytes))
        } else {
            Pulling::Here(source)
        };
        Self { source, ..self }
    }

    fn pull(&mut self) -> Option<Pulled> {
        match &mut self.source {
            Pulling::Here(source) => source.next(),
            Pulling::Ahead(ahead) => ahead.next(),
        }
    }
}

impl Iterator for Rows {
    type Item = (InputRow, Result<AnyCheck, ValidationError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.pull()? {
                Pulled::Malformed { row, lines, why } => self.report(row, lines, &why),
                Pulled::Done => {
                    self.log.skipped.fetch_add(1, Ordering::Relaxed);
                }
                Pulled::Row(input, check) => {
                    self.log.rows.lock().unwrap_or_else(|p| p.into_inner()).push(input.row);
                    return Some((input, check));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InputFile;
    use juhe_proto::Product;

    /// `n` rows of made-up people, row `bad` with a field too many.
    fn input(n: u64, bad: u64) -> (PathBuf, InputFile) {
        let dir = std::env::temp_dir().join(format!("juhe-csv-rows-{}-{n}-{bad}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.csv");
        let mut text = String::from("name,idcard,mobile\n");
        for row in 1..=n {
            let extra = if row == bad { ",extra" } else { "" };
            text += &format!("张三,11010519491231002X,139{row:08}{extra}\n");
        }
        std::fs::write(&path, text).unwrap();
        let file = InputFile::open(&path, Product::Telecom3.params(), None).unwrap();
        (dir, file)
    }

    fn rows(file: &InputFile, log: &Arc<RowLog>) -> Rows {
        let checks = RowChecks {
            product: Product::Telecom3,
            positions: file.positions.clone(),
            base_dir: file.base_dir().to_owned(),
        };
        Rows::new(file.records().unwrap(), Arc::default(), checks, Arc::clone(log))
    }

    #[test]
    fn read_ahead_counts_only_what_the_batch_took() {
        let (dir, file) = input(300, 10);
        let log = Arc::new(RowLog::default());
        let mut ahead = rows(&file, &log).read_ahead();
        let first: Vec<u64> = ahead.by_ref().take(5).map(|(input, _)| input.row).collect();
        assert_eq!(first, [1, 2, 3, 4, 5]);
        // The thread has read a whole chunk, row 10 among them: not yet counted.
        assert_eq!(log.malformed.load(Ordering::Relaxed), 0, "a malformed row read ahead was counted");
        assert_eq!(log.row_of(5), None, "a row read ahead was logged as the batch's");
        let rest: Vec<u64> = ahead.map(|(input, _)| input.row).collect();
        assert_eq!(log.malformed.load(Ordering::Relaxed), 1);
        // The same rows, in the same order, as read without a thread.
        let here_log = Arc::new(RowLog::default());
        let here: Vec<u64> = rows(&file, &here_log).map(|(input, _)| input.row).collect();
        assert_eq!([first, rest].concat(), here);
        assert_eq!(here.len(), 299);
        assert_eq!((log.row_of(298), here_log.row_of(298)), (Some(300), Some(300)));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
