//! Juhe (聚合数据) identity checks from CSV files and back: the file format of `juhe batch`, as
//! a library for the batches of [`juhe-verify`](https://docs.rs/juhe-verify).
//!
//! **What it keeps safe.** Money and personal data live in files here, so every step is
//! bounded and proven:
//! - **Reading** ([`InputFile`]): the encoding Chinese spreadsheets save in is detected (GBK,
//!   UTF-8 with or without a BOM, UTF-16; [`TextEncoding`]); the columns a product needs are
//!   found by the registry's names and aliases (`idcard`, `身份证号`…); every record is bounded
//!   ([`MAX_RECORD`]), and a damaged one is reported with its line range, never passed over.
//! - **Checks** ([`Rows`]): each row becomes an [`AnyCheck`](juhe_proto::AnyCheck) of the
//!   product (a photo's cell is a path, read relative to the input), or the validation error
//!   that names its field; rows already done are skipped.
//! - **Writing** ([`Output`]): the input's columns, then `juhe_row`, `juhe_error_code`,
//!   `juhe_reason`, `juhe_res`, `juhe_billed` (`true`, `false`, `maybe`), …, and the product's
//!   result fields; each row is written and flushed as its check finishes, in the input's
//!   encoding, cells a spreadsheet would run as formulas defused.
//! - **Resuming** ([`scan_output`], [`prove`], [`Binding`]): an interrupted output is made whole
//!   (a kill can leave half a line), proven to belong to this input row by row (a keyed hash
//!   of each input row's cells) and to the same product, mode and target, before anything is
//!   sent; rows whose check failed unbilled are checked again, maybe-billed ones only on
//!   request, and rows repeating an answered question are copied from it
//!   ([`write_copies_of_done_rows`]).
//!
//! ```no_run
//! use juhe_csv::{InputFile, RowChecks, RowLog, Rows};
//! use juhe_proto::Product;
//!
//! let input = InputFile::open("people.csv".as_ref(), Product::Telecom3.params(), None)?;
//! let checks = RowChecks {
//!     product: Product::Telecom3,
//!     positions: input.positions.clone(),
//!     base_dir: input.base_dir().to_owned(),
//! };
//! let rows = Rows::new(input.records()?, Default::default(), checks, Default::default());
//! for (row, check) in rows.take(3) {
//!     // Hand `rows` to `Client::batch` instead: the engine owns every money guarantee.
//!     println!("row {}: {}", row.row, if check.is_ok() { "valid" } else { "invalid" });
//! }
//! # let _: RowLog = RowLog::default();
//! # Ok::<(), juhe_csv::CsvError>(())
//! ```

mod binding;
mod dedupe;
mod encoding;
mod error;
mod input;
pub mod local_file;
mod output;
mod record_bounds;
mod resume;
mod rows;

pub use binding::Binding;
pub use dedupe::{not_sent_after_maybe_billed, write_copies_of_done_rows};
pub use encoding::{MixedEncoding, TextEncoding};
pub use error::{CsvError, CsvErrorKind};
pub use input::{InputFile, RESERVED_PREFIX, Record, Records, estimate_rows};
pub use output::{Output, ResultCells, header, list_unrecorded};
pub use record_bounds::MAX_RECORD;
pub use resume::{ColumnHasher, DoneRow, DoneRows, Scanned, parse_billing, prove, scan_output};
pub use rows::{InputRow, RowChecks, RowLog, Rows};

/// The README's example (crates.io's page), compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
