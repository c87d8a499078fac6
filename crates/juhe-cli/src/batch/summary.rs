//! The closing summary of a batch, as text on stderr or one JSON line on stdout, and the
//! progress bar on a terminal.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use juhe_verify::{Error, Verdict};
use serde_json::json;

use crate::args::hiargs::Format;
use crate::batch::input::estimate_rows;
use crate::check::output::Printable;

/// What a batch did, counted as rows are written.
pub(crate) struct Summary {
    started: Instant,
    /// Rows written to the output in this run.
    pub(crate) rows: u64,
    /// Checks sent.
    pub(crate) sent: u64,
    pub(crate) matches: u64,
    pub(crate) mismatches: u64,
    /// Billed, with a result the documents do not list.
    pub(crate) unknown: u64,
    /// Sent and may have been billed: no readable answer.
    pub(crate) maybe_billed: u64,
    pub(crate) reused: u64,
    pub(crate) invalid: u64,
    /// Rows an earlier run wrote, not read again.
    pub(crate) skipped: u64,
    /// Records of the input that are no rows.
    pub(crate) malformed: u64,
    /// Failures by Juhe's code, or by what failed.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Billed (or maybe billed) rows that could not be written.
    pub(crate) unrecorded: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl Summary {
    pub(crate) fn new(input: &Path) -> Self {
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
            sent: 0,
            matches: 0,
            mismatches: 0,
            unknown: 0,
            maybe_billed: 0,
            reused: 0,
            invalid: 0,
            skipped: 0,
            malformed: 0,
            errors: BTreeMap::new(),
            unrecorded: 0,
            progress,
        }
    }

    /// A checked (or refused) row's result.
    pub(crate) fn count<O: Printable>(&mut self, result: &Result<O, Error>) {
        if !matches!(result, Err(Error::Invalid(_))) {
            self.sent += 1;
        }
        match result {
            Ok(o) if o.verdict() == Verdict::Match => self.matches += 1,
            Ok(o) if o.verdict() == Verdict::Mismatch => self.mismatches += 1,
            Ok(_) => self.unknown += 1,
            Err(Error::Invalid(_)) => self.invalid += 1,
            Err(error) => {
                self.maybe_billed += u64::from(error.may_be_billed());
                let what = match error.code() {
                    Some(code) => code.code().to_string(),
                    None => failure_kind(error).to_owned(),
                };
                *self.errors.entry(what).or_default() += 1;
            }
        }
    }

    /// A row was written.
    pub(crate) fn written(&mut self) {
        self.rows += 1;
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
    }

    pub(crate) fn billed(&self) -> u64 {
        self.matches + self.mismatches + self.unknown
    }

    /// Prints the summary; `rate` is the pace the batch settled at, if it had to slow down.
    pub(crate) fn finish(&self, format: Format, rate: Option<f64>) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let errors: Vec<String> = self.errors.iter().map(|(what, n)| format!("{what}: {n}")).collect();
        match format {
            Format::Json => println!(
                "{}",
                json!({
                    "rows": self.rows, "sent": self.sent, "billed": self.billed(), "maybe_billed": self.maybe_billed,
                    "match": self.matches, "mismatch": self.mismatches, "unknown": self.unknown,
                    "reused": self.reused, "invalid": self.invalid, "skipped": self.skipped,
                    "malformed": self.malformed, "errors": self.errors, "billed_not_recorded": self.unrecorded,
                    "rate": rate, "seconds": seconds,
                })
            ),
            Format::Text => eprintln!(
                "juhe batch: {} rows written: {} sent, {} billed ({} match, {} mismatch, {} undocumented){}, {} reused, \
                 {} invalid (not sent), {} already done, {} malformed; errors: {}; billed but not recorded: {}{}; \
                 {seconds:.1} s, {:.0} rows/s",
                self.rows,
                self.sent,
                self.billed(),
                self.matches,
                self.mismatches,
                self.unknown,
                if self.maybe_billed > 0 { format!(" + {} maybe", self.maybe_billed) } else { String::new() },
                self.reused,
                self.invalid,
                self.skipped,
                self.malformed,
                if errors.is_empty() { "none".to_owned() } else { errors.join(", ") },
                self.unrecorded,
                rate.map(|r| format!("; rate limits slowed the batch to {r:.1} checks/s"))
                    .unwrap_or_default(),
                self.rows as f64 / seconds.max(1e-9),
            ),
        }
    }
}

/// What failed, for an error with no Juhe code.
fn failure_kind(error: &Error) -> &'static str {
    match error {
        Error::NotSent(_) => "not sent",
        Error::NoAnswer(_) => "no answer",
        Error::Protocol(_) => "unreadable answer",
        Error::Rejected(_) | Error::Config(_) => "refused",
        _ => "other",
    }
}
