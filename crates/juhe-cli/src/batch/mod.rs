//! `juhe batch`: check every row of a CSV, writing each result as it finishes.
//!
//! Money is the library's: the batch engine of `juhe-verify` holds each check's slot until its
//! row is written (a kill at any instant leaves at most `--concurrency` billed rows
//! unrecorded), checks repeated people once, stops exactly on Ctrl-C or a failed write, and
//! keeps `--max-billed`. This command reads and writes the files around it: a resumed run
//! proves the output belongs to its input before anything is sent, and lists every billed
//! row it could not record.

pub(crate) mod summary;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use juhe_proto::{Endpoint, Product};
use juhe_verify::{
    BatchHandle, BatchItem, BatchOptions, BatchStats, Billing, Error, ResultField, Skipped, batch::Repeats,
};
use serde_json::Value;

use crate::args::hiargs::{BatchArgs, Connection, Format};
use crate::batch::summary::FileCounts;
use crate::check::output::Printable;
use crate::connection::{settings, target_name};
use crate::failure::{Failure, Status, error_chain};
use crate::untrusted_text::{escaped, spreadsheet_safe, spreadsheet_safe_owned};
use juhe_csv::{
    Binding, ColumnHasher, DoneRows, InputFile, InputRow, Output, Record, ResultCells, RowChecks, RowLog,
    Rows, TextEncoding, header, list_unrecorded, not_sent_after_maybe_billed, prove, scan_output,
    write_copies_of_done_rows,
};

/// Runs `juhe batch`.
pub(crate) fn run(request: &BatchArgs, connection: &Connection, format: Format) -> Result<ExitCode, Failure> {
    Run { request, connection, format }.batch()
}

struct Run<'a> {
    request: &'a BatchArgs,
    connection: &'a Connection,
    format: Format,
}

impl Run<'_> {
    /// The batch of the request's product: its parameters' input columns (the registry's);
    /// its result fields are the output's own columns after `juhe_res`.
    fn batch(&self) -> Result<ExitCode, Failure> {
        let request = self.request;
        let product = request.product;
        let details = detail_fields(product);
        Endpoint::find(product, self.connection.mode).map_err(|e| Failure::usage(e.to_string()))?;
        let input = InputFile::open(&request.input, product.params(), request.encoding)?;
        let checks =
            RowChecks { product, positions: input.positions.clone(), base_dir: input.base_dir().to_owned() };
        // Read before the output is touched: its last write is when the interrupted run ended.
        let recovery = self.recovery_window();
        if input.encoding != (TextEncoding::Utf8 { bom: false }) {
            eprintln!("juhe: reading {} as {}", input.path.display(), input.encoding.name());
        }
        let binding = Binding { product, mode: self.connection.mode, target: target_name(self.connection) };
        let (mut done, mut output) = self.open_output(&input, &details, &binding)?;
        let mut counts = FileCounts::new(&request.input);
        if request.dedupe && !done.is_empty() {
            // When the output's first run began (its binding's time; unknown: every file counts
            // as changed since, and no row with a photo is copied).
            let began = std::fs::metadata(Binding::path_of(&request.output))
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            let copies =
                write_copies_of_done_rows(&input, &done, &checks, &mut output, details.len(), began)?;
            counts.reused_from_earlier_run = copies.len() as u64;
            counts.rows += copies.len() as u64;
            done.extend(copies);
        }
        let (mut builder, _sandbox) = settings(self.connection)?;
        if let Some(window) = recovery {
            builder = builder.reuse_within(window);
        }
        if request.resend_maybe_billed {
            builder = builder.resend_maybe_billed();
        }
        let log = Arc::new(RowLog::default());
        let rows = Rows {
            records: input.records()?,
            done: Arc::new(done),
            checks: checks.clone(),
            log: Arc::clone(&log),
        };
        let options = self.options(&input, &checks)?;
        let interrupted = Arc::new(AtomicBool::new(false));
        let mut recorder = Recorder {
            output,
            counts,
            details,
            log: Arc::clone(&log),
            budget: None,
            unrecorded: Vec::new(),
            unsettled: Vec::new(),
            recovering: recovery.is_some(),
            ledger_error: None,
            last_write: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
            write_error: None,
        };
        let purposes = self.purpose_columns(&input)?;
        let stats = self.send(builder, rows, options, purposes, &mut recorder, &interrupted)?;
        recorder.counts.skipped = log.skipped.load(Ordering::Relaxed);
        recorder.counts.malformed = log.malformed.load(Ordering::Relaxed);
        recorder.counts.unrecorded = recorder.unrecorded.len() as u64;
        recorder.counts.maybe_billed_earlier = recorder.unsettled.len() as u64;
        let slowed = stats.rate.filter(|r| Some(*r) != request.rate);
        recorder.counts.finish(&stats, self.format, slowed);
        recorder.conclude(request, &stats, interrupted.load(Ordering::SeqCst))
    }

    /// The input's `purpose` and `consent_ref` columns, when it has them: each row's check is
    /// then made for the purpose its cells name (the command's `--purpose` for an empty cell).
    /// They are recorded in the ledger, so they need one.
    fn purpose_columns(&self, input: &InputFile) -> Result<Option<PurposeColumns>, Failure> {
        let find = |name: &str| input.headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        match (find("purpose"), find("consent_ref")) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(Failure::usage(format!(
                "{}: a consent_ref column needs a purpose column beside it",
                input.path.display()
            ))),
            (Some(_), _) if self.connection.ledger.is_none() => Err(Failure::usage(format!(
                "{}: the purpose column is recorded with each check in the ledger: give --ledger \
                 (the embedded sandbox records nowhere unless given one), or remove the column",
                input.path.display()
            ))),
            (Some(purpose), consent_ref) => Ok(Some(PurposeColumns { purpose, consent_ref })),
        }
    }

    /// The batch's options: the request's, and with dedupe the questions its rows repeat.
    fn options(&self, input: &InputFile, checks: &RowChecks) -> Result<BatchOptions, Failure> {
        let request = self.request;
        // The rows (and any photos) come from local files, which never block for long: on
        // the async client, the batch runs on one thread, rows pulled between checks.
        let mut options =
            BatchOptions::default().mode(self.connection.mode).dedupe(request.dedupe).feed_on_runtime(true);
        if let Some(concurrency) = request.concurrency {
            options = options.concurrency(concurrency);
        }
        if let Some(rate) = request.rate {
            options = options.rate_per_second(rate);
        }
        if let Some(rate) = request.process_rate {
            options = options.process_rate_per_second(rate);
        }
        if let Some(max) = request.max_billed {
            options = options.max_billed(max);
        }
        if request.dedupe && checks.text_only() {
            // A first pass finds the repeated questions, so the batch remembers only those
            // (rows with photos would read every file twice: their batch remembers billed
            // answers).
            let repeats = Repeats::find(input.records()?.filter_map(|record| match record {
                Record::Row { columns, .. } => checks.check(&columns).ok(),
                Record::Malformed { .. } => None,
            }));
            if !repeats.is_empty() {
                eprintln!(
                    "juhe: {} sets of rows repeat the same fields: each is checked once, its copies reuse the answer (--no-dedupe checks every row)",
                    repeats.len()
                );
            }
            options = options.dedupe_among(repeats);
        }
        Ok(options)
    }

    /// Runs the batch on the client the options ask for, each result recorded as it comes;
    /// a stop signal stops it.
    fn send(
        &self,
        builder: juhe_verify::ClientBuilder,
        rows: Rows,
        options: BatchOptions,
        purposes: Option<PurposeColumns>,
        recorder: &mut Recorder,
        interrupted: &Arc<AtomicBool>,
    ) -> Result<BatchStats, Failure> {
        // The stop signals are heard on a worker of their own, whatever the batch's thread is
        // doing (writing a row, say): a second signal quits at once.
        let signals = crate::connection::runtime(1)?;
        Ok(if self.connection.blocking {
            let client = builder.build_blocking().map_err(config_failure)?;
            let mut batch = match purposes {
                Some(columns) => client.batch_with_purposes(rows, options, move |row| columns.of(row)),
                None => client.batch(rows, options),
            };
            let handle = batch.handle();
            stop_on_ctrl_c(&signals, handle.clone(), interrupted);
            let _quiet = QuietWatch::start(handle.clone(), Arc::clone(&recorder.last_write));
            for item in batch.by_ref() {
                recorder.record(item, &handle);
            }
            batch.stats()
        } else {
            let runtime = crate::connection::batch_runtime()?;
            let client = builder.build().map_err(config_failure)?;
            runtime.block_on(async {
                let mut batch = match purposes {
                    Some(columns) => client.batch_with_purposes(rows, options, move |row| columns.of(row)),
                    None => client.batch(rows, options),
                };
                stop_on_ctrl_c(&signals, batch.handle(), interrupted);
                let handle = batch.handle();
                let _quiet = QuietWatch::start(handle.clone(), Arc::clone(&recorder.last_write));
                while let Some(item) = batch.next().await {
                    recorder.record(item, &handle);
                }
                batch.stats()
            })
        })
    }

    /// With `--resume`, a ledger and no `--reuse-within`: the rows an interrupted run had
    /// billed but not written (a kill, a full disk) are in the ledger. Their answers are reused
    /// from the moment the output was first created (its binding file's time) onwards, so they
    /// are not paid again and are written billed: they are this output's own checks. Earlier
    /// answers, and other targets', are left alone.
    fn recovery_window(&self) -> Option<std::time::Duration> {
        let ledger = self.connection.ledger.as_ref()?;
        if !self.request.resume || ledger.reuse_within.is_some() {
            return None;
        }
        let created =
            std::fs::metadata(Binding::path_of(&self.request.output)).and_then(|m| m.modified()).ok()?;
        // A file system's times may be coarser than the ledger's milliseconds.
        let since = created.checked_sub(std::time::Duration::from_secs(2))?;
        let window = std::time::SystemTime::now().duration_since(since).ok()?;
        eprintln!(
            "juhe: resuming with the ledger {}: answers it holds from {} on (this output's own checks) are written as billed, not paid again",
            escaped(&ledger.location.to_string()),
            juhe_verify::ledger::china_timestamp(since)
        );
        Some(window)
    }

    /// The output file: new (with a header), or an interrupted run's, made whole again and
    /// proven to belong to this input before anything is sent.
    fn open_output(
        &self,
        input: &InputFile,
        details: &[ResultField],
        binding: &Binding,
    ) -> Result<(DoneRows, Output), Failure> {
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
            if let Ok(metadata) = std::fs::metadata(path) {
                // Only an empty regular file is replaced: never a FIFO, a device (`/dev/null`)
                // or a folder.
                if !metadata.is_file() {
                    return Err(Failure::usage(format!(
                        "--output {} is not a regular file (a FIFO, a device or a folder): name a file",
                        path.display()
                    )));
                }
                std::fs::remove_file(path)
                    .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
            }
            // Bound before the first row can be written: an output never lacks its binding.
            binding.write(path)?;
            let output = Output::create(path, &header, encoding)?;
            return Ok((DoneRows::default(), output.with_input_columns(input.headers.len())));
        }
        binding.check(path)?;
        let hasher = ColumnHasher::default();
        let scanned = scan_output(
            path,
            &header,
            input.headers.len(),
            encoding,
            &hasher,
            self.request.resend_maybe_billed,
        )?;
        prove(&scanned.done, input, path, &hasher)?;
        if !scanned.done.is_empty() {
            let (redo, maybe_kept) = scanned.done.redo_counts();
            let mut said = format!(
                "juhe: resuming: {} already in {}",
                crate::plural::counted(scanned.done.len() as u64, "row", "rows"),
                path.display()
            );
            if redo > 0 {
                said += &format!(
                    "; {redo} of them are checked again (they failed without being billed, or --resend-maybe-billed)"
                );
            }
            if maybe_kept > 0 {
                said += &format!(
                    "; {maybe_kept} maybe billed are not (--resend-maybe-billed checks them again, at the risk of paying twice)"
                );
            }
            eprintln!("{said}");
        }
        Ok((scanned.done, Output::append(path, encoding)?.with_input_columns(input.headers.len())))
    }
}

fn config_failure(error: Error) -> Failure {
    Failure::usage(error_chain(&error))
}

/// On Ctrl-C, SIGTERM (`docker stop`, systemd) or SIGHUP (a closed terminal): no new check,
/// the ones in flight are finished and written; a second signal exits at once (130). The
/// handler is in place before the batch starts, so a signal never finds the default action
/// (death with rows in flight unwritten) once a row is written.
fn stop_on_ctrl_c(runtime: &tokio::runtime::Runtime, batch: BatchHandle, interrupted: &Arc<AtomicBool>) {
    let interrupted = Arc::clone(interrupted);
    let _in_runtime = runtime.enter();
    let Some(mut signals) = StopSignals::listen() else { return };
    runtime.spawn(async move {
        if let Some(name) = signals.next().await {
            // Marked before the stop: a batch stopped ends at once, and the run must not then
            // read "not interrupted" and exit 0 with rows unchecked.
            interrupted.store(true, Ordering::SeqCst);
            eprintln!(
                "\njuhe: stopping ({name}): finishing the checks in flight (a second signal quits at once; --resume continues)"
            );
            batch.stop();
        }
        if signals.next().await.is_some() {
            std::process::exit(130);
        }
    });
}

/// The signals that stop a batch, listened for from the moment they are made.
#[cfg(unix)]
struct StopSignals(Vec<(&'static str, tokio::signal::unix::Signal)>);

#[cfg(unix)]
impl StopSignals {
    fn listen() -> Option<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            ("interrupted", SignalKind::interrupt()),
            ("SIGTERM", SignalKind::terminate()),
            ("SIGHUP", SignalKind::hangup()),
        ];
        kinds
            .into_iter()
            .map(|(name, kind)| signal(kind).ok().map(|s| (name, s)))
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }

    /// The name of the next signal; `None` once none can come.
    async fn next(&mut self) -> Option<&'static str> {
        std::future::poll_fn(|cx| {
            for (name, signal) in &mut self.0 {
                if let std::task::Poll::Ready(got) = signal.poll_recv(cx) {
                    return std::task::Poll::Ready(got.map(|()| *name));
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn listen() -> Option<Self> {
        Some(Self)
    }

    async fn next(&mut self) -> Option<&'static str> {
        tokio::signal::ctrl_c().await.ok().map(|()| "interrupted")
    }
}

/// Where a row's purpose and consent reference are.
#[derive(Debug, Clone, Copy)]
struct PurposeColumns {
    purpose: usize,
    consent_ref: Option<usize>,
}

impl PurposeColumns {
    /// The purpose a row's cells name; `None` (the command's) for an empty cell.
    fn of(&self, row: &juhe_csv::InputRow) -> Option<juhe_verify::ledger::Purpose> {
        let cell =
            |i: usize| row.columns.get(i).map(|c| c.trim()).filter(|c| !c.is_empty()).map(str::to_owned);
        Some(juhe_verify::ledger::Purpose {
            label: cell(self.purpose)?,
            consent_ref: self.consent_ref.and_then(cell),
        })
    }
}

/// How long a batch may write nothing before it says what it waits for, and how often it
/// says it again while it waits.
const QUIET: std::time::Duration = std::time::Duration::from_secs(5);

/// Says on stderr what a batch waits for (checks in flight, another process's checks of the
/// same people, the ledger, the pace) whenever it has written nothing for [`QUIET`], and again
/// every [`QUIET`] while that lasts. Stops when dropped, and is joined: its thread holds the
/// batch's handle (and through it the client's ledger), which must be gone before the process
/// ends for the ledger to write what it keeps in memory (its reuse counts).
struct QuietWatch {
    stop: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl QuietWatch {
    fn start(batch: BatchHandle, last_write: Arc<std::sync::Mutex<std::time::Instant>>) -> Self {
        let stop = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let stopping = Arc::clone(&stop);
        let watch = move || {
            let (stopped, wake) = &*stopping;
            let mut said: Option<std::time::Instant> = None;
            let mut guard = stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            while !*guard {
                guard = wake
                    .wait_timeout(guard, std::time::Duration::from_millis(250))
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
                let quiet = last_write.lock().unwrap_or_else(std::sync::PoisonError::into_inner).elapsed();
                if !*guard && quiet >= QUIET && said.is_none_or(|at| at.elapsed() >= QUIET) {
                    eprintln!(
                        "juhe: nothing written for {} s; waiting: {}",
                        quiet.as_secs(),
                        batch.waiting()
                    );
                    said = Some(std::time::Instant::now());
                }
            }
        };
        // Without a thread the batch still runs, silently.
        let thread = std::thread::Builder::new().name("juhe-batch-quiet".into()).spawn(watch).ok();
        Self { stop, thread }
    }
}

impl Drop for QuietWatch {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes each row as it comes, and keeps what the exit status needs.
struct Recorder {
    output: Output,
    counts: FileCounts,
    details: Vec<ResultField>,
    log: Arc<RowLog>,
    /// The budget, once an input was refused for it.
    budget: Option<u64>,
    /// Billed (or maybe billed) rows that could not be written: row and order number.
    unrecorded: Vec<(u64, Option<String>)>,
    /// Rows written maybe billed by an earlier check left unanswered: row and ledger entry.
    unsettled: Vec<(u64, i64)>,
    /// A resumed run recovering its own billed answers from the ledger.
    recovering: bool,
    /// The first failure of the ledger, which stopped the batch.
    ledger_error: Option<String>,
    /// When the last row was written (or the batch started): a watch says why it is quiet.
    last_write: Arc<std::sync::Mutex<std::time::Instant>>,
    write_error: Option<std::io::Error>,
}

impl Recorder {
    /// Writes `item`'s row. The item is dropped on return, once its row is written: that frees
    /// its slot for another check.
    fn record<O: Printable>(&mut self, item: BatchItem<InputRow, O>, batch: &BatchHandle) {
        if let Err(Error::Skipped(Skipped::Budget { max_billed })) = &item.result {
            // Not written: a later `--resume` checks it.
            self.budget = Some(*max_billed);
            batch.stop();
            return;
        }
        let recovered = self.recovering && item.result.as_ref().is_ok_and(|o| o.reused().is_some());
        // An answer recovered from the ledger was this row's own check, billed by the run that
        // was interrupted before writing it.
        let billing = if recovered { Billing::Billed } else { item.billing() };
        if let (Err(error @ Error::Ledger(_)), None) = (&item.result, &self.ledger_error) {
            // A ledger that failed once (a full disk, a lost server) fails the next check too:
            // nothing more is sent; the row is written, not sent, for --resume.
            self.ledger_error = Some(error_chain(error));
            batch.stop();
        }
        if recovered {
            self.counts.recovered += 1;
        }
        if self.write_error.is_none() {
            let cells = self.cells(&item, billing);
            match self.output.write_row(&item.tag.columns, item.tag.row, &cells) {
                Ok(_) => {
                    self.counts.written();
                    *self.last_write.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        std::time::Instant::now();
                    if let Some(entry) = cells.ledger_entry {
                        self.unsettled.push((item.tag.row, entry));
                    }
                    return;
                }
                Err(error) => self.failed(error, batch),
            }
        }
        if billing != Billing::NotBilled {
            let order = item.result.as_ref().ok().and_then(|o| o.order_id().map(str::to_owned));
            self.unrecorded.push((item.tag.row, order));
        }
    }

    fn cells<O: Printable>(&self, item: &BatchItem<InputRow, O>, billing: Billing) -> ResultCells {
        if let Err(Error::Skipped(Skipped::SameAsMaybeBilled { index })) = &item.result {
            let original = self.log.row_of(*index).unwrap_or_default();
            return not_sent_after_maybe_billed(original, self.details.len());
        }
        let mut cells = result_cells(&item.result, billing, &self.details);
        cells.reused_from = item.reused_from().and_then(|index| self.log.row_of(index));
        cells
    }

    /// The first failed write: the batch sends nothing more, the checks in flight finish,
    /// and every billed one among them is listed since it cannot be recorded.
    fn failed(&mut self, error: std::io::Error, batch: &BatchHandle) {
        batch.stop();
        eprintln!(
            "juhe: could not write {}: {error}; starting no new check, finishing the ones in flight",
            self.output.path().display()
        );
        self.write_error = Some(error);
    }

    /// Lists what was not recorded and picks the exit status.
    fn conclude(
        mut self,
        request: &BatchArgs,
        stats: &BatchStats,
        interrupted: bool,
    ) -> Result<ExitCode, Failure> {
        if let Some(error) = self.write_error.take() {
            let listed = self.list_unrecorded();
            return Err(Failure::failed(format!(
                "could not write {}: {error}; {} billed rows were not recorded{listed}; free space, then --resume",
                request.output.display(),
                self.unrecorded.len()
            )));
        }
        if let Some(error) = &self.ledger_error {
            eprintln!(
                "juhe: stopped: the ledger could not record a check ({error}); nothing unrecorded was sent, and the \
                 rows not checked are left for --resume once the ledger works again"
            );
            return Ok(Status::Failure.exit_code());
        }
        if let Some(max) = self.budget {
            eprintln!(
                "juhe: stopped at the budget of {max} billed checks (--max-billed; {} billed, {} maybe); --resume continues",
                stats.billed, stats.maybe_billed
            );
            return Ok(Status::Failure.exit_code());
        }
        if interrupted {
            eprintln!("juhe: interrupted; run again with --resume to check the remaining rows");
            return Ok(Status::Failure.exit_code());
        }
        if !self.unsettled.is_empty() {
            self.list_unsettled();
            return Ok(Status::Unsettled.exit_code());
        }
        if self.counts.malformed > 0 {
            eprintln!(
                "juhe: {} input records could not be read and were skipped (listed above)",
                self.counts.malformed
            );
            return Ok(Status::Failure.exit_code());
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Says which rows may have been billed by a check whose answer never came (an earlier
    /// run killed with them in flight), and how to settle them.
    fn list_unsettled(&self) {
        const SHOWN: usize = 20;
        let rows = |f: fn(&(u64, i64)) -> String| {
            let mut listed: Vec<String> = self.unsettled.iter().take(SHOWN).map(f).collect();
            if self.unsettled.len() > SHOWN {
                listed.push("…".into());
            }
            listed.join(" ")
        };
        eprintln!(
            "juhe: {} may have been billed by an earlier check whose answer never came (written juhe_billed=maybe; rows {}); \
             find them in Juhe's order records and settle them: juhe ledger settle {} --billed (or --not-billed), \
             then --resume checks the ones not billed; or --resume --resend-maybe-billed checks them again at the risk of paying twice",
            crate::plural::counted(self.unsettled.len() as u64, "row", "rows"),
            rows(|(row, _)| row.to_string()),
            rows(|(_, entry)| entry.to_string()),
        );
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
        let rows: Vec<(u64, String)> = self
            .unrecorded
            .iter()
            .map(|(row, order)| (*row, order.as_deref().map(spreadsheet_safe).unwrap_or_default()))
            .collect();
        match list_unrecorded(self.output.path(), &rows) {
            Ok(path) => format!(" (listed above and added to {})", path.display()),
            Err(_) => " (listed above)".to_owned(),
        }
    }
}

/// The tool's cells of a checked row; text from the server is escaped and can never be a
/// spreadsheet formula.
fn result_cells<O: Printable>(
    result: &Result<O, Error>,
    billing: Billing,
    details: &[ResultField],
) -> ResultCells {
    let server = spreadsheet_safe;
    match result {
        Ok(outcome) => ResultCells {
            error_code: "0".to_owned(),
            reason: server(outcome.reason()),
            res: spreadsheet_safe_owned(text_of(outcome.value(ResultField::Res))),
            billing,
            reused_from: None,
            resend: None,
            ledger_entry: None,
            details: details.iter().map(|&d| spreadsheet_safe_owned(text_of(outcome.value(d)))).collect(),
        },
        Err(error) => {
            let (code, reason, order) = match error {
                Error::Service(e) => (
                    e.code.code().to_string(),
                    server(&e.reason),
                    server(e.order_id.as_deref().unwrap_or_default()),
                ),
                // No code from Juhe: what happened instead (`not sent`, `no answer`, …), which
                // `--resume` reads to decide what to check again.
                other => (other.kind().name().to_owned(), server(&error_chain(other)), String::new()),
            };
            // Not sent because the same question may have been billed by an earlier check whose
            // answer never came (an interrupted run's row): this row's billing is that one's.
            let earlier = match error {
                Error::Skipped(skipped) => skipped.maybe_billed_entry(),
                _ => None,
            };
            ResultCells {
                error_code: code,
                reason,
                res: String::new(),
                billing: if earlier.is_some() { Billing::MaybeBilled } else { billing },
                reused_from: None,
                resend: Some(error.resend()),
                ledger_entry: earlier,
                details: details
                    .iter()
                    .map(|&d| if d == ResultField::OrderId { order.clone() } else { String::new() })
                    .collect(),
            }
        }
    }
}

/// The product's own columns after `juhe_res`: its result fields but `res`.
pub(crate) fn detail_fields(product: Product) -> Vec<ResultField> {
    product.result_fields().iter().copied().filter(|&f| f != ResultField::Res).collect()
}

fn text_of(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    }
}
