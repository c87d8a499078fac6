//! What a batch did, counted as each item is made: the numbers a summary prints, so that no
//! caller has to re-derive money from results.

use std::collections::BTreeMap;

use juhe_proto::{ErrorCode, Outcome, Verdict};

use crate::{Billing, Error, ErrorKind};

/// The counts of a batch so far ([`Batch::stats`](crate::Batch::stats)). Every item falls in
/// exactly one of `billed`, `maybe_billed` and `not_billed`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BatchStats {
    /// Items handed out.
    pub items: u64,
    /// Checks that reached Juhe, or may have ([`Error::was_sent`]).
    pub sent: u64,
    /// Answered with `error_code` 0 (reused answers are not counted here).
    pub billed: u64,
    /// Sent, with no answer that says whether it was billed.
    pub maybe_billed: u64,
    /// Not billed: invalid, refused, not sent, answered with an error code, skipped, reused.
    pub not_billed: u64,
    /// Billed matches.
    pub matches: u64,
    /// Billed mismatches.
    pub mismatches: u64,
    /// Billed answers whose result the documents do not list.
    pub undocumented: u64,
    /// Inputs that failed validation (never sent).
    pub invalid: u64,
    /// Copies that reused an earlier input's answer (never sent, not billed).
    pub reused: u64,
    /// Answers reused from the ledger, billed in an earlier run or by another process (never
    /// sent, not billed now).
    pub from_ledger: u64,
    /// Inputs not sent because the budget was spent.
    pub over_budget: u64,
    /// Juhe's error codes, and how often each came.
    pub errors_by_code: BTreeMap<ErrorCode, u64>,
    /// Failures without a Juhe code, by kind (not sent, no answer, unreadable answer, …).
    pub failures_by_kind: BTreeMap<ErrorKind, u64>,
    /// The pace the batch settled at, in checks per second; `None` while uncapped and never
    /// rate-limited.
    pub rate: Option<f64>,
}

/// The counters behind [`BatchStats`], kept under the board's lock.
#[derive(Debug, Default)]
pub(crate) struct Counts(BatchStats);

impl Counts {
    pub(crate) fn add<O: Outcome>(&mut self, result: &Result<O, Error>, reused: bool) {
        let stats = &mut self.0;
        stats.items += 1;
        let billing = if reused { Billing::NotBilled } else { crate::billing_of(result) };
        match billing {
            Billing::Billed => stats.billed += 1,
            Billing::MaybeBilled => stats.maybe_billed += 1,
            Billing::NotBilled => stats.not_billed += 1,
        }
        if reused {
            stats.reused += 1;
            return;
        }
        match result {
            Ok(outcome) if outcome.reused().is_some() => stats.from_ledger += 1,
            Ok(outcome) => {
                stats.sent += 1;
                match outcome.verdict() {
                    Verdict::Match => stats.matches += 1,
                    Verdict::Mismatch => stats.mismatches += 1,
                    _ => stats.undocumented += 1,
                }
            }
            Err(error) => {
                stats.sent += u64::from(error.was_sent());
                match error {
                    Error::Invalid(_) => stats.invalid += 1,
                    Error::Skipped(crate::Skipped::Budget { .. }) => stats.over_budget += 1,
                    #[cfg(feature = "ledger")]
                    Error::Skipped(
                        crate::Skipped::LedgerBudget { .. } | crate::Skipped::TeamBudget { .. },
                    ) => stats.over_budget += 1,
                    _ => {}
                }
                match error.code() {
                    Some(code) => *stats.errors_by_code.entry(code).or_default() += 1,
                    None if !matches!(error, Error::Invalid(_)) => {
                        *stats.failures_by_kind.entry(error.kind()).or_default() += 1;
                    }
                    None => {}
                }
            }
        }
    }

    pub(crate) fn stats(&self, rate: Option<f64>) -> BatchStats {
        BatchStats { rate, ..self.0.clone() }
    }
}
