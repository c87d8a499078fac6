//! What a client's checks are waiting for, counted as they go, so a long batch can say why it
//! is quiet ([`BatchHandle::waiting`](crate::BatchHandle::waiting)).

// Only a ledger's checks count anything.
#![cfg_attr(not(feature = "ledger"), allow(dead_code))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counters shared by a client and its clones.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Checks waiting for the same question in flight elsewhere (single flight).
    on_other_checks: AtomicUsize,
    /// Calls into the ledger under way.
    ledger_calls: AtomicUsize,
}

/// Holds one count up while it lives.
pub(crate) struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn count(counter: &AtomicUsize) -> Counted<'_> {
    counter.fetch_add(1, Ordering::Relaxed);
    Counted(counter)
}

impl Activity {
    /// A check starts waiting for another's answer.
    pub(crate) fn on_other_check(&self) -> Counted<'_> {
        count(&self.on_other_checks)
    }

    /// A ledger call starts.
    pub(crate) fn ledger_call(&self) -> Counted<'_> {
        count(&self.ledger_calls)
    }

    pub(crate) fn on_other_checks(&self) -> usize {
        self.on_other_checks.load(Ordering::Relaxed)
    }

    pub(crate) fn ledger_calls(&self) -> usize {
        self.ledger_calls.load(Ordering::Relaxed)
    }
}

/// What a running batch is waiting for, at one instant: for a program to say why it is quiet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Waiting {
    /// Checks admitted and not yet finished: their requests are out, or about to be.
    pub in_flight: u64,
    /// Of them, checks waiting for the same question in flight in another process or thread
    /// (single flight, with reuse on): each waits until that answer comes or its own deadline.
    pub on_other_checks: usize,
    /// Calls into the ledger under way: a ledger locked by another process holds them, up to
    /// its lock wait, before the check fails closed.
    pub ledger_calls: usize,
    /// How long until the pace lets the next check start, when it holds checks back (a rate
    /// cap, or the key's limit after Juhe refused one).
    pub paced_for: Option<Duration>,
}

impl std::fmt::Display for Waiting {
    /// `16 checks in flight; 3 waiting for the same question in flight elsewhere; …`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let checks = if self.in_flight == 1 { "check" } else { "checks" };
        write!(f, "{} {checks} in flight (answers not back yet)", self.in_flight)?;
        if self.on_other_checks > 0 {
            write!(
                f,
                "; {} of them wait for the same question in flight in another process (its answer is reused)",
                self.on_other_checks
            )?;
        }
        if self.ledger_calls > 0 {
            let calls = if self.ledger_calls == 1 { "call" } else { "calls" };
            write!(
                f,
                "; {} ledger {calls} under way (another process may hold the ledger locked)",
                self.ledger_calls
            )?;
        }
        if let Some(paced) = self.paced_for {
            write!(
                f,
                "; the pace holds the next check back for {:.1} s (the key's rate limit)",
                paced.as_secs_f64()
            )?;
        }
        Ok(())
    }
}
