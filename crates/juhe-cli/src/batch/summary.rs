//! The closing summary of a batch, as text on stderr or one JSON line on stdout, and the
//! progress bar on a terminal. Every count of money comes from the library's
//! [`BatchStats`]; this file only adds what only files know (rows written, rows already done,
//! malformed records, rows billed but not written) and prints.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

/// Whether this process printed a batch's summary: a failure after it goes to stderr only, so
/// that `--format json` never prints two objects.
static SUMMARY_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A batch's failure before its summary, for `--format json`: one object on stdout, as the
/// summary would have been, saying what stopped it.
pub(crate) fn json_failure(message: &str, status: u8) -> Option<serde_json::Value> {
    (!SUMMARY_PRINTED.load(std::sync::atomic::Ordering::SeqCst))
        .then(|| json!({ "error": message, "status": status }))
}

use juhe_verify::{BatchStats, ErrorKind};
use serde_json::json;

use crate::args::hiargs::Format;
use juhe_csv::estimate_rows;

/// What only the files know.
pub(crate) struct FileCounts {
    started: Instant,
    /// Rows written to the output in this run.
    pub(crate) rows: u64,
    /// Rows an earlier run wrote, not read again.
    pub(crate) skipped: u64,
    /// Records of the input that are no rows.
    pub(crate) malformed: u64,
    /// Rows written from an earlier run's answer before the batch started.
    pub(crate) reused_from_earlier_run: u64,
    /// Billed (or maybe billed) rows that could not be written.
    pub(crate) unrecorded: u64,
    /// Rows not sent because an earlier check of the same question (an interrupted run's) may
    /// have been billed with no answer recorded: maybe billed, not skipped.
    pub(crate) maybe_billed_earlier: u64,
    /// Rows a resumed run wrote billed from the ledger: billed by the run it continues.
    pub(crate) recovered: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl FileCounts {
    pub(crate) fn new(input: &Path) -> Self {
        let progress = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(estimate_rows(input).unwrap_or(0));
            // indicatif's own {per_sec} prints four decimals ("16.7317/s"): whole rows here.
            let per_second = |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} rows/s", state.per_sec());
            };
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {rate}  eta {eta}")
                    .map(|style| style.with_key("rate", per_second))
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Self {
            started: Instant::now(),
            rows: 0,
            skipped: 0,
            malformed: 0,
            reused_from_earlier_run: 0,
            unrecorded: 0,
            maybe_billed_earlier: 0,
            recovered: 0,
            progress,
        }
    }

    /// A row was written.
    pub(crate) fn written(&mut self) {
        self.rows += 1;
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
    }

    /// Prints the summary; `slowed` is the pace the batch settled at, if rate limits made it
    /// slow down.
    pub(crate) fn finish(&self, stats: &BatchStats, format: Format, slowed: Option<f64>) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let errors = errors(stats, self.maybe_billed_earlier);
        let earlier = self.maybe_billed_earlier;
        let (maybe_billed, not_billed) =
            (stats.maybe_billed + earlier, stats.not_billed.saturating_sub(earlier));
        let reused = stats.reused + self.reused_from_earlier_run;
        SUMMARY_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
        match format {
            Format::Json => println!(
                "{}",
                json!({
                    "rows": self.rows, "sent": stats.sent, "billed": stats.billed,
                    "maybe_billed": maybe_billed, "maybe_billed_earlier": earlier, "recovered": self.recovered, "not_billed": not_billed,
                    "match": stats.matches, "mismatch": stats.mismatches, "unknown": stats.undocumented,
                    "reused": reused, "from_ledger": stats.from_ledger, "invalid": stats.invalid, "over_budget": stats.over_budget,
                    "skipped": self.skipped, "malformed": self.malformed, "errors": errors,
                    "billed_not_recorded": self.unrecorded, "rate": slowed, "seconds": seconds,
                })
            ),
            Format::Text => {
                let errors: Vec<String> = errors.iter().map(|(what, n)| format!("{what}: {n}")).collect();
                eprintln!(
                    "juhe batch: {} written: {} sent, {} billed ({} match, {} mismatch, {} undocumented){}, {} reused, {} from the ledger{}, \
                     {} invalid (not sent), {} already done, {} malformed; errors: {}; billed but not recorded: {}{}; \
                     {seconds:.1} s, {:.0} rows/s",
                    crate::plural::counted(self.rows, "row", "rows"),
                    stats.sent,
                    stats.billed,
                    stats.matches,
                    stats.mismatches,
                    stats.undocumented,
                    if maybe_billed > 0 { format!(" + {maybe_billed} maybe") } else { String::new() },
                    reused,
                    stats.from_ledger,
                    if self.recovered > 0 {
                        format!(
                            " ({} of them this output's own, billed by the interrupted run)",
                            self.recovered
                        )
                    } else {
                        String::new()
                    },
                    stats.invalid,
                    self.skipped,
                    self.malformed,
                    if errors.is_empty() { "none".to_owned() } else { errors.join(", ") },
                    self.unrecorded,
                    slowed
                        .map(|r| format!("; rate limits slowed the batch to {r:.1} checks/s"))
                        .unwrap_or_default(),
                    self.rows as f64 / seconds.max(1e-9),
                );
            }
        }
    }
}

/// Failures by Juhe's code, or by what failed when there is none; the rows maybe billed by an
/// earlier check are told apart from the other skipped ones.
fn errors(stats: &BatchStats, maybe_billed_earlier: u64) -> BTreeMap<String, u64> {
    let by_code = stats.errors_by_code.iter().map(|(code, n)| (code.code().to_string(), *n));
    let by_kind = stats.failures_by_kind.iter().map(|(kind, n)| {
        let n = if *kind == ErrorKind::Skipped { n.saturating_sub(maybe_billed_earlier) } else { *n };
        (kind.name().to_owned(), n)
    });
    let earlier =
        (maybe_billed_earlier > 0).then(|| ("maybe billed earlier".to_owned(), maybe_billed_earlier));
    by_code.chain(by_kind).filter(|(_, n)| *n > 0).chain(earlier).collect()
}
