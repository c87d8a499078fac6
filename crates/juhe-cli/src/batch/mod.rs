//! `juhe batch`: check every row of a CSV, writing each result as it finishes.
//!
//! Money is the first concern. A check's concurrency slot is given back only once its row is
//! written, so a kill at any instant leaves at most `--concurrency` billed rows unrecorded; a
//! resumed run proves the output belongs to its input before it sends anything; duplicates are
//! checked once; `--max-billed` caps what a run can spend; a write that fails stops new checks
//! and lists every billed row it could not record.

mod dedupe;
pub(crate) mod encoding;
mod input;
mod output;
mod resume;
mod rows;
mod summary;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use juhe_proto::{Check, Endpoint, Product, ValidationError};
use juhe_verify::{BatchItem, BatchOptions, Error, FaceCheck, IdCardCheck, Telecom2Check, Telecom3Check};
use serde_json::Value;

use crate::args::hiargs::{BatchArgs, Connection, Format};
use crate::batch::dedupe::{Duplicates, KeyHasher, survey};
use crate::batch::encoding::TextEncoding;
use crate::batch::input::{IDCARD, IMAGE, InputFile, MOBILE, NAME};
use crate::batch::output::{Output, ResultCells, header, unrecorded_path};
use crate::batch::resume::{ColumnHasher, DoneRows, prove, scan_output};
use crate::batch::rows::{Budget, CopyRow, InputRow, RowFields, Rows, Shared};
use crate::batch::summary::Summary;
use crate::check::output::Printable;
use crate::connection::{runtime, settings};
use crate::failure::{Failure, Status, error_chain};
use crate::untrusted_text::escaped;

/// Runs `juhe batch`.
pub(crate) fn run(request: &BatchArgs, connection: &Connection, format: Format) -> Result<ExitCode, Failure> {
    let run = Run { request, connection, format };
    match request.product {
        Product::IdCard => {
            run.product(&[NAME, IDCARD], &["orderid"], |f| IdCardCheck::new(&f.name, &f.idcard))
        }
        Product::Telecom2 => {
            run.product(&[IDCARD, MOBILE], &["orderid"], |f| Telecom2Check::new(&f.idcard, &f.mobile))
        }
        Product::Telecom3 => run.product(
            &[NAME, IDCARD, MOBILE],
            &["rescode", "resmsg", "type", "province", "city", "orderid"],
            |f| Telecom3Check::new(&f.name, &f.idcard, &f.mobile),
        ),
        Product::Face => {
            run.product(&[NAME, IDCARD, MOBILE, IMAGE], &["resmsg", "score", "type", "orderid"], |f| {
                let image = f.image.clone().unwrap_or_else(|| {
                    Err(ValidationError::new(juhe_proto::Field::Image, juhe_proto::Problem::Empty))
                })?;
                FaceCheck::new(&f.name, &f.idcard, &f.mobile, image)
            })
        }
    }
}

/// What a row's journey ends in: its check's result, or the first row's result it reuses.
enum Event<O> {
    Checked(BatchItem<InputRow, O>),
    Copied(CopyRow),
}

struct Run<'a> {
    request: &'a BatchArgs,
    connection: &'a Connection,
    format: Format,
}

impl Run<'_> {
    /// The batch of one product: `needed` input columns, `details` output columns.
    fn product<C>(
        &self,
        needed: &[&'static str],
        details: &'static [&'static str],
        make: fn(&RowFields) -> Result<C, ValidationError>,
    ) -> Result<ExitCode, Failure>
    where
        C: Check,
        C::Outcome: Printable,
    {
        let request = self.request;
        Endpoint::find(C::PRODUCT, self.connection.mode).map_err(|e| Failure::usage(e.to_string()))?;
        let input = InputFile::open(&request.input, needed, request.encoding)?;
        if input.encoding != (TextEncoding::Utf8 { bom: false }) {
            eprintln!("juhe: reading {} as {}", input.path.display(), input.encoding.name());
        }
        let (done, output) = self.open_output(&input, details)?;
        let keys = Arc::new(KeyHasher::default());
        let duplicates = if request.dedupe {
            let found =
                Duplicates::find(survey(input.records()?, &input.positions, C::PRODUCT, &keys), &done);
            if found.len() > 0 {
                eprintln!(
                    "juhe: {} sets of rows repeat the same fields: each is checked once, its copies reuse the result (--no-dedupe checks every row)",
                    found.len()
                );
            }
            Some(Arc::new(found))
        } else {
            None
        };
        let (builder, _sandbox) = settings(self.connection)?;
        let stop = Arc::new(AtomicBool::new(false));
        let runtime = runtime(2)?;
        let stopper = Arc::clone(&stop);
        runtime.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\njuhe: stopping: finishing the checks in flight (Ctrl-C again to kill; --resume continues)");
                stopper.store(true, Ordering::SeqCst);
            }
        });
        let shared = Shared {
            stop: Arc::clone(&stop),
            budget: Arc::new(Budget::new(request.max_billed)),
            duplicates: duplicates.clone(),
            keys,
            skipped: Arc::default(),
            malformed: Arc::default(),
        };
        let (budget, skipped, malformed) =
            (Arc::clone(&shared.budget), Arc::clone(&shared.skipped), Arc::clone(&shared.malformed));
        let rows = Rows {
            records: input.records()?,
            done,
            product: C::PRODUCT,
            positions: input.positions.clone(),
            base_dir: input.base_dir().to_owned(),
            make,
            shared,
            send_copy: Box::new(|_| false),
        };
        let mut recorder = Recorder {
            output,
            summary: Summary::new(&request.input),
            details,
            stop: Arc::clone(&stop),
            budget: Arc::clone(&budget),
            duplicates,
            unrecorded: Vec::new(),
            write_error: None,
        };
        let mut options = BatchOptions::default().concurrency(request.concurrency).mode(self.connection.mode);
        if let Some(rate) = request.rate {
            options = options.rate_per_second(rate);
        }
        let rate = if self.connection.blocking {
            let client = builder.build_blocking().map_err(config_failure)?;
            record_blocking(&client, rows, (options, request.concurrency), &mut recorder)
        } else {
            let client = builder.build().map_err(config_failure)?;
            runtime.block_on(record_async(&client, rows, (options, request.concurrency), &mut recorder))
        };
        recorder.summary.skipped = skipped.load(Ordering::Relaxed);
        recorder.summary.malformed = malformed.load(Ordering::Relaxed);
        let slowed = rate.filter(|r| Some(*r) != request.rate);
        recorder.summary.finish(self.format, slowed);
        recorder.conclude(request, &stop, &budget)
    }

    /// The output file: new (with a header), or an interrupted run's, made whole again and
    /// proven to belong to this input before anything is sent.
    fn open_output(&self, input: &InputFile, details: &[&str]) -> Result<(DoneRows, Output), Failure> {
        let path = self.request.output.as_path();
        let header = header(&input.headers, details);
        let encoding = input.encoding.for_output();
        let exists = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
        if exists && !self.request.resume {
            return Err(Failure::usage(format!(
                "{} exists: pass --resume to continue it (rows in it are not checked again), or choose another --output",
                path.display()
            )));
        }
        if !exists {
            if path.exists() {
                std::fs::remove_file(path)
                    .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
            }
            let output = Output::create(path, &header, encoding)?;
            return Ok((DoneRows::default(), output.with_input_columns(input.headers.len())));
        }
        let hasher = ColumnHasher::default();
        let scanned = scan_output(path, &header, input.headers.len(), encoding, &hasher)?;
        prove(&scanned.done, input, path, &hasher)?;
        if scanned.done.len() > 0 {
            eprintln!("juhe: resuming: {} rows already in {}", scanned.done.len(), path.display());
        }
        Ok((scanned.done, Output::append(path, encoding)?.with_input_columns(input.headers.len())))
    }
}

fn config_failure(error: Error) -> Failure {
    Failure::usage(error_chain(&error))
}

/// Runs the async batch, writing checked rows and copies in the order they become ready.
/// Returns the pace the batch kept.
async fn record_async<C>(
    client: &juhe_verify::Client,
    mut rows: Rows<C>,
    (options, concurrency): (BatchOptions, usize),
    recorder: &mut Recorder,
) -> Option<f64>
where
    C: Check,
    C::Outcome: Printable,
{
    let (copy_sender, mut copies) = tokio::sync::mpsc::channel(concurrency);
    rows.send_copy = Box::new(move |copy| copy_sender.blocking_send(copy).is_ok());
    let mut batch = client.batch(rows, options);
    let (mut checked_all, mut copied_all) = (false, false);
    while !(checked_all && copied_all) {
        tokio::select! {
            item = batch.next(), if !checked_all => match item {
                Some(item) => recorder.record(Event::<C::Outcome>::Checked(item)),
                None => checked_all = true,
            },
            copy = copies.recv(), if !copied_all => match copy {
                Some(copy) => recorder.record(Event::<C::Outcome>::Copied(copy)),
                None => copied_all = true,
            },
        }
    }
    batch.rate()
}

/// Runs the blocking batch, the same way as [`record_async`]: checked rows come through a
/// thread that forwards them into the channel the copies use.
fn record_blocking<C>(
    client: &juhe_verify::blocking::Client,
    mut rows: Rows<C>,
    (options, concurrency): (BatchOptions, usize),
    recorder: &mut Recorder,
) -> Option<f64>
where
    C: Check,
    C::Outcome: Printable,
{
    let (sender, events) = std::sync::mpsc::sync_channel(concurrency);
    let copies = sender.clone();
    rows.send_copy = Box::new(move |copy| copies.send(Event::Copied(copy)).is_ok());
    let mut batch = client.batch(rows, options);
    let forward = std::thread::spawn(move || {
        for item in batch.by_ref() {
            if sender.send(Event::Checked(item)).is_err() {
                break;
            }
        }
        batch.rate()
    });
    for event in events {
        recorder.record(event);
    }
    forward.join().ok().flatten()
}

/// Writes each row as it comes, and keeps what the summary and the exit status need.
struct Recorder {
    output: Output,
    summary: Summary,
    details: &'static [&'static str],
    stop: Arc<AtomicBool>,
    budget: Arc<Budget>,
    duplicates: Option<Arc<Duplicates>>,
    /// Billed (or maybe billed) rows that could not be written: row and order number.
    unrecorded: Vec<(u64, Option<String>)>,
    write_error: Option<std::io::Error>,
}

impl Recorder {
    fn record<O: Printable>(&mut self, event: Event<O>) {
        match event {
            Event::Checked(item) => self.checked(item),
            Event::Copied(copy) => self.copied(copy),
        }
    }

    fn checked<O: Printable>(&mut self, item: BatchItem<InputRow, O>) {
        let started = !matches!(item.result, Err(Error::Invalid(_)));
        let billed = item.result.is_ok() || item.result.as_ref().is_err_and(Error::may_be_billed);
        if started {
            self.budget.finish(billed);
        }
        self.summary.count(&item.result);
        let cells = result_cells(&item.result, self.details);
        let written = match self.write_error {
            Some(_) => None,
            None => match self.output.write_row(&item.tag.columns, item.tag.row, &cells) {
                Ok(offset) => Some(offset),
                Err(error) => {
                    self.failed(error);
                    None
                }
            },
        };
        match written {
            Some(offset) => {
                self.summary.written();
                if let (Some(duplicates), Some(key)) = (&self.duplicates, item.tag.key) {
                    duplicates.written(key, offset);
                }
            }
            None => {
                if let (Some(duplicates), Some(key)) = (&self.duplicates, item.tag.key) {
                    duplicates.unusable(key);
                }
                if billed {
                    let order = item.result.as_ref().ok().and_then(|o| o.order_id().map(str::to_owned));
                    self.unrecorded.push((item.tag.row, order));
                }
            }
        }
        // Dropping the item here, once its row is written, frees its slot for another check.
    }

    fn copied(&mut self, copy: CopyRow) {
        if self.write_error.is_some() {
            return;
        }
        let written = self.output.result_at(copy.offset).and_then(|mut cells| {
            cells.reused_from = Some(copy.from);
            self.output.write_row(&copy.columns, copy.row, &cells)
        });
        match written {
            Ok(_) => {
                self.summary.reused += 1;
                self.summary.written();
            }
            Err(error) => self.failed(error),
        }
    }

    /// The first failed write: no new check starts, the ones in flight finish, and every
    /// billed one among them is listed since it cannot be recorded.
    fn failed(&mut self, error: std::io::Error) {
        eprintln!(
            "juhe: could not write {}: {error}; starting no new check, finishing the ones in flight",
            self.output.path().display()
        );
        self.write_error = Some(error);
        self.stop.store(true, Ordering::SeqCst);
        if let Some(duplicates) = &self.duplicates {
            duplicates.wake_all();
        }
    }

    /// Lists what was not recorded and picks the exit status.
    fn conclude(
        mut self,
        request: &BatchArgs,
        stop: &AtomicBool,
        budget: &Budget,
    ) -> Result<ExitCode, Failure> {
        self.summary.unrecorded = self.unrecorded.len() as u64;
        if let Some(error) = self.write_error.take() {
            let listed = self.list_unrecorded();
            return Err(Failure::failed(format!(
                "could not write {}: {error}; {} billed rows were not recorded{listed}; free space, then --resume",
                request.output.display(),
                self.unrecorded.len()
            )));
        }
        if budget.reached.load(Ordering::SeqCst) {
            eprintln!(
                "juhe: stopped at the budget of {} billed checks (--max-billed); --resume continues",
                budget.max.unwrap_or(0)
            );
            return Ok(Status::Failure.exit_code());
        }
        if stop.load(Ordering::SeqCst) {
            eprintln!("juhe: interrupted; run again with --resume to check the remaining rows");
            return Ok(Status::Failure.exit_code());
        }
        if self.summary.malformed > 0 {
            eprintln!(
                "juhe: {} input records could not be read and were skipped (listed above)",
                self.summary.malformed
            );
            return Ok(Status::Failure.exit_code());
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Prints every billed row that could not be written, and lists them in a file beside the
    /// output when the disk allows; returns where.
    fn list_unrecorded(&self) -> String {
        for (row, order) in &self.unrecorded {
            let order = order
                .as_deref()
                .map_or("(no order number: may have been billed)".to_owned(), |o| escaped(o).into_owned());
            eprintln!("juhe: billed but not recorded: row {row}, order {order}");
        }
        if self.unrecorded.is_empty() {
            return String::new();
        }
        let path = unrecorded_path(self.output.path());
        let mut text = String::from("juhe_row,juhe_orderid\n");
        for (row, order) in &self.unrecorded {
            text += &format!("{row},{}\n", order.as_deref().map(escaped).unwrap_or_default());
        }
        match std::fs::write(&path, text) {
            Ok(()) => format!(" (listed above and in {})", path.display()),
            Err(_) => " (listed above)".to_owned(),
        }
    }
}

/// The tool's cells of a checked row; text from the server is escaped.
fn result_cells<O: Printable>(result: &Result<O, Error>, details: &[&str]) -> ResultCells {
    let server = |text: &str| escaped(text).into_owned();
    match result {
        Ok(outcome) => {
            let wire = outcome.wire();
            ResultCells {
                error_code: "0".to_owned(),
                reason: server(outcome.reason()),
                res: server(&text_of(&wire["res"])),
                billed: "true",
                reused_from: None,
                details: details.iter().map(|d| server(&text_of(&wire[*d]))).collect(),
            }
        }
        Err(error) => {
            let (code, reason, order) = match error {
                Error::Service(e) => (
                    e.code.code().to_string(),
                    server(&e.reason),
                    server(e.order_id.as_deref().unwrap_or_default()),
                ),
                other => (String::new(), server(&error_chain(other)), String::new()),
            };
            ResultCells {
                error_code: code,
                reason,
                res: String::new(),
                billed: if error.may_be_billed() { "maybe" } else { "false" },
                reused_from: None,
                details: details
                    .iter()
                    .map(|d| if *d == "orderid" { order.clone() } else { String::new() })
                    .collect(),
            }
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
