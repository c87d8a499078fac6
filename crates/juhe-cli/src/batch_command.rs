//! `juhe batch`: check every row of a CSV, writing each result as it finishes.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use juhe_proto::{Check, Endpoint, Product, ValidationError};
use juhe_verify::{
    BatchItem, BatchOptions, Error, FaceCheck, IdCardCheck, Telecom2Check, Telecom3Check, Verdict,
};
use serde_json::Value;

use crate::batch_input::{
    IDCARD, IMAGE, Input, InputCounts, InputRow, MOBILE, NAME, RowFields, estimate_rows,
};
use crate::batch_resume::{DoneRows, scan_output};
use crate::check_output::Printable;
use crate::checks::error_chain;
use crate::connection::{runtime, settings};
use crate::failure::{Failure, Status};
use crate::hiargs::{BatchArgs, Connection, Format};
use crate::untrusted_text::escaped;

/// Runs `juhe batch`.
pub(crate) fn run(request: &BatchArgs, connection: &Connection, format: Format) -> Result<ExitCode, Failure> {
    match request.product {
        Product::IdCard => {
            run_product(request, connection, format, &[NAME, IDCARD], &["orderid"], |f: &RowFields| {
                IdCardCheck::new(&f.name, &f.idcard)
            })
        }
        Product::Telecom2 => {
            run_product(request, connection, format, &[IDCARD, MOBILE], &["orderid"], |f: &RowFields| {
                Telecom2Check::new(&f.idcard, &f.mobile)
            })
        }
        Product::Telecom3 => run_product(
            request,
            connection,
            format,
            &[NAME, IDCARD, MOBILE],
            &["rescode", "resmsg", "type", "province", "city", "orderid"],
            |f: &RowFields| Telecom3Check::new(&f.name, &f.idcard, &f.mobile),
        ),
        Product::Face => run_product(
            request,
            connection,
            format,
            &[NAME, IDCARD, MOBILE, IMAGE],
            &["resmsg", "score", "type", "orderid"],
            |f: &RowFields| {
                let image = f.image.clone().unwrap_or_else(|| {
                    Err(ValidationError::new(juhe_proto::Field::Image, juhe_proto::Problem::Empty))
                })?;
                FaceCheck::new(&f.name, &f.idcard, &f.mobile, image)
            },
        ),
    }
}

/// The batch for one product: `needed` input columns, `details` output columns.
fn run_product<C>(
    request: &BatchArgs,
    connection: &Connection,
    _format: Format,
    needed: &[&'static str],
    details: &'static [&'static str],
    make: fn(&RowFields) -> Result<C, ValidationError>,
) -> Result<ExitCode, Failure>
where
    C: Check,
    C::Outcome: Printable,
{
    let out_path = request.output.as_path();
    let mode = connection.mode;
    Endpoint::find(C::PRODUCT, mode).map_err(|e| Failure::usage(e.to_string()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(InputCounts::default());
    // The input's header decides what the output looks like; the output decides what to skip.
    let mut input = Input::open(&request.input, needed, Arc::clone(&stop), Arc::clone(&counts))?;
    let mut header = input.headers.clone();
    header.extend(["row", "error_code", "reason", "res", "billed"].map(str::to_owned));
    header.extend(details.iter().map(|d| (*d).to_owned()));
    let (done, file) = open_output(out_path, &header, request.resume)?;
    if done.len() > 0 {
        eprintln!("juhe: resuming: {} rows already in {}", done.len(), out_path.display());
    }
    input.skip_done(done);
    let inputs = input.map(move |row: InputRow| {
        let check = make(&row.fields);
        (row, check)
    });
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(BufWriter::new(file));
    let mut summary = Summary::new(&request.input);
    let (builder, _sandbox) = settings(connection)?;
    let mut options = BatchOptions::default().concurrency(request.concurrency).mode(mode);
    if let Some(rate) = request.rate {
        options = options.rate_per_second(rate);
    }
    let runtime = runtime(2)?;
    let stopper = Arc::clone(&stop);
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\njuhe: stopping: finishing the checks in flight (Ctrl-C again to kill; --resume continues)"
            );
            stopper.store(true, Ordering::SeqCst);
        }
    });
    let mut write = |item: BatchItem<InputRow, C::Outcome>| -> Result<(), Failure> {
        summary.count(&item.result);
        write_row(&mut writer, item, details)
            .map_err(|e| Failure::failed(format!("could not write {}: {e}", out_path.display())))
    };
    match connection.blocking {
        false => {
            let client = builder.build().map_err(|e| Failure::usage(e.to_string()))?;
            runtime.block_on(async {
                let mut batch = client.batch(inputs, options);
                while let Some(item) = batch.next().await {
                    write(item)?;
                }
                Ok::<(), Failure>(())
            })?;
        }
        true => {
            let client = builder.build_blocking().map_err(|e| Failure::usage(e.to_string()))?;
            for item in client.batch(inputs, options) {
                write(item)?;
            }
        }
    }
    summary.finish(&counts);
    if stop.load(Ordering::SeqCst) {
        eprintln!("juhe: interrupted; run again with --resume to check the remaining rows");
        return Ok(Status::Failure.exit_code());
    }
    Ok(ExitCode::SUCCESS)
}

/// The output file: new (with a header), or an interrupted run's, whole again, to append to.
fn open_output(path: &Path, header: &[String], resume: bool) -> Result<(DoneRows, File), Failure> {
    let exists = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
    let open_error = |e: std::io::Error| Failure::failed(format!("could not open {}: {e}", path.display()));
    if exists && !resume {
        return Err(Failure::usage(format!(
            "{} exists: pass --resume to continue it (rows in it are not checked again), or choose another --output",
            path.display()
        )));
    }
    if exists {
        let done = scan_output(path, header)?;
        let file = OpenOptions::new().append(true).open(path).map_err(open_error)?;
        return Ok((done, file));
    }
    let file = File::create(path).map_err(open_error)?;
    let mut writer = csv::Writer::from_writer(&file);
    writer
        .write_record(header)
        .and_then(|()| Ok(writer.flush()?))
        .map_err(|e| Failure::failed(e.to_string()))?;
    drop(writer);
    Ok((DoneRows::default(), file))
}

/// Writes one finished row and flushes it, so a kill loses at most the line being written.
fn write_row<O: Printable, W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    item: BatchItem<InputRow, O>,
    details: &[&str],
) -> std::io::Result<()> {
    let mut record = item.tag.columns;
    record.push(item.tag.row.to_string());
    // What the server sent is escaped: a cell must not carry terminal controls or line breaks
    // into whatever displays the file.
    let server = |text: &str| escaped(text).into_owned();
    match &item.result {
        Ok(outcome) => {
            let wire = outcome.wire();
            record.extend([
                "0".to_owned(),
                server(outcome.reason()),
                server(&text_of(&wire["res"])),
                "true".to_owned(),
            ]);
            record.extend(details.iter().map(|d| server(&text_of(&wire[*d]))));
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
            let billed = if error.may_be_billed() { "maybe" } else { "false" };
            record.extend([code, reason, String::new(), billed.to_owned()]);
            record
                .extend(details.iter().map(|d| if *d == "orderid" { order.clone() } else { String::new() }));
        }
    }
    writer.write_record(&record).map_err(std::io::Error::other)?;
    writer.flush()
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Counts for the closing summary, and the progress bar on a terminal.
struct Summary {
    started: Instant,
    rows: u64,
    matches: u64,
    mismatches: u64,
    unknown: u64,
    invalid: u64,
    service_errors: u64,
    failures: u64,
    maybe_billed: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl Summary {
    fn new(input: &Path) -> Self {
        let progress = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(estimate_rows(input).unwrap_or(0));
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Self {
            started: Instant::now(),
            rows: 0,
            matches: 0,
            mismatches: 0,
            unknown: 0,
            invalid: 0,
            service_errors: 0,
            failures: 0,
            maybe_billed: 0,
            progress,
        }
    }

    fn count<O: Printable>(&mut self, result: &Result<O, Error>) {
        self.rows += 1;
        match result {
            Ok(o) if o.verdict() == Verdict::Match => self.matches += 1,
            Ok(o) if o.verdict() == Verdict::Mismatch => self.mismatches += 1,
            Ok(_) => self.unknown += 1,
            Err(Error::Invalid(_)) => self.invalid += 1,
            Err(Error::Service(_)) => self.service_errors += 1,
            Err(e) => {
                self.failures += 1;
                self.maybe_billed += u64::from(e.may_be_billed());
            }
        }
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
    }

    fn finish(&self, counts: &InputCounts) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let billed = self.matches + self.mismatches + self.unknown;
        eprintln!(
            "juhe batch: {} rows: {} match, {} mismatch, {} invalid (not sent), {} Juhe errors, {} failed; {} billed{}; \
             {} malformed lines skipped, {} already done; {:.1} s, {:.0} rows/s",
            self.rows,
            self.matches,
            self.mismatches,
            self.invalid,
            self.service_errors,
            self.failures,
            billed,
            if self.maybe_billed > 0 { format!(" (+{} maybe)", self.maybe_billed) } else { String::new() },
            counts.malformed.load(Ordering::Relaxed),
            counts.skipped.load(Ordering::Relaxed),
            elapsed,
            self.rows as f64 / elapsed.max(1e-9),
        );
    }
}
