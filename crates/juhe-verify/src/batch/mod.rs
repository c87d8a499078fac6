//! Many checks at once, with every money guarantee in one place: the batch engine.
//!
//! [`Client::batch`] and [`blocking::Client::batch`](crate::blocking::Client::batch) run the
//! same engine; they differ only in how a check is sent (a task or a worker thread). What the
//! engine guarantees, for both:
//!
//! - **One item per input**, in the order checks finish, each with its input's index and tag.
//!   Invalid input is an item with [`Error::Invalid`] and was never sent.
//! - **Billed but unrecorded ≤ concurrency.** An input holds a concurrency slot from the
//!   moment it is pulled until its [`BatchItem`] is dropped. A caller that records each item
//!   before dropping it has at most `concurrency` checks billed and not recorded, at every
//!   instant, whatever is killed when. Memory is bounded the same way.
//! - **Stop is exact.** After [`Batch::stop`] returns (or the batch is dropped), no check is
//!   sent. Inputs already pulled are dropped unsent; checks in flight finish and are yielded.
//!   A caller whose write fails calls `stop()` and knows that at most the checks in flight
//!   are still to come.
//! - **A budget.** With [`BatchOptions::max_billed`], checks billed, maybe billed and in
//!   flight together never exceed the budget: deciding to send is one step under one lock.
//!   Inputs past it yield an item with [`Skipped::Budget`](crate::Skipped::Budget), unsent.
//! - **Dedupe**, on by default ([`BatchOptions::dedupe`]). Inputs that ask Juhe the same
//!   question (the same product and normalised fields, compared by a keyed hash made for the
//!   batch, never by the data itself) are sent once:
//!   - a copy of an input that was billed reuses its answer: its item has the same outcome,
//!     [`BatchItem::reused_from`] names the original and [`BatchItem::billing`] is
//!     [`Billing::NotBilled`];
//!   - a copy of an input that failed unbilled (not sent, an error code) is checked itself;
//!   - a copy of an input that *may* have been billed (a timeout) is not sent, since it could
//!     pay twice for one answer: it yields
//!     [`Skipped::SameAsMaybeBilled`](crate::Skipped::SameAsMaybeBilled).
//!
//!   A copy waits for its original's answer holding its own slot, so waiting copies are
//!   bounded by the concurrency and never keep other inputs from being pulled. The engine
//!   keeps the keyed hash (16 bytes) of each input in flight, billed or maybe billed, and the
//!   outcome of each billed one, for the life of the batch: a few hundred bytes per billed
//!   question. For millions of inputs that can be read twice, survey them first
//!   ([`Repeats::find`], [`BatchOptions::dedupe_among`]): then only repeated questions are
//!   remembered.
//! - **Pacing.** A rate cap spaces starts evenly; Juhe's rate-limit answers slow the batch
//!   down by themselves ([`BatchOptions::rate_per_second`]).
//! - **Counts.** [`Batch::stats`] gives the sent, billed, maybe billed, not billed, invalid,
//!   reused and skipped counts, errors by code, and the pace.
//!
//! Inputs are pulled on a thread of the batch's own (the *feeder*), never on an async
//! worker: an input iterator may block (read a file).

mod board;
mod engine;
mod repeats;
mod stats;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use juhe_proto::{Check, Mode, ValidationError};
use tokio::sync::mpsc;

pub(crate) use board::{Board, Slot};
#[cfg(feature = "ledger")]
pub(crate) use engine::PurposeOf;
pub(crate) use engine::{Engine, Input, Job, Ticket};
pub use repeats::Repeats;
pub use stats::BatchStats;

use crate::pacer::Pacer;
use crate::starts::KeyPace;
use crate::{Billing, Client, Error};

/// The largest concurrency a batch takes. Juhe's per-key rate limits make more pointless, and
/// each unit costs a slot, a channel place and, in a blocking batch, possibly a thread.
pub const MAX_CONCURRENCY: usize = 4096;

/// The concurrency of a batch not told one and not capped faster than 100 checks a second:
/// enough for 100 a second with answers 320 ms away (Juhe's are 30–150 ms), or about 210 a
/// second at 150 ms, while a kill leaves at most this many checks billed and unrecorded.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The round trip a capped batch's default concurrency allows for: a cap of `R` checks a
/// second gets `R × ROUND_TRIP_ALLOWANCE` slots (at least [`DEFAULT_CONCURRENCY`]), because reaching a
/// rate takes as many checks in flight as the rate times the time each is in flight.
pub const ROUND_TRIP_ALLOWANCE: Duration = Duration::from_millis(320);

/// How a batch runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOptions {
    /// `None`: derived from the rate (see [`BatchOptions::slots`]).
    pub(crate) concurrency: Option<usize>,
    pub(crate) rate: Option<f64>,
    /// This process's own cap, beside the key's with a ledger.
    pub(crate) process_rate: Option<f64>,
    pub(crate) mode: Option<Mode>,
    pub(crate) max_billed: Option<u64>,
    pub(crate) dedupe: bool,
    pub(crate) repeats: Option<Repeats>,
    pub(crate) feed_on_runtime: bool,
}

impl Default for BatchOptions {
    /// [`DEFAULT_CONCURRENCY`] checks in flight, no rate cap, the client's mode, no budget,
    /// dedupe on.
    fn default() -> Self {
        Self {
            concurrency: None,
            rate: None,
            process_rate: None,
            mode: None,
            max_billed: None,
            dedupe: true,
            repeats: None,
            feed_on_runtime: false,
        }
    }
}

impl BatchOptions {
    /// At most `n` inputs in flight or unrecorded, between 1 and [`MAX_CONCURRENCY`]. Unset,
    /// it is [`DEFAULT_CONCURRENCY`], or enough for the rate cap at a [`ROUND_TRIP_ALLOWANCE`] if that
    /// is more.
    ///
    /// A batch reaches `R` checks a second only with `R × round trip` checks in flight (100 a
    /// second 150 ms away: 15); more costs nothing while the rate holds the pace, except that
    /// a process killed mid-batch leaves up to `n` checks billed and unrecorded.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.clamp(1, MAX_CONCURRENCY));
        self
    }

    /// The concurrency the batch runs with: the one set, or the one derived from the cap.
    ///
    /// ```
    /// use juhe_verify::BatchOptions;
    /// assert_eq!(BatchOptions::default().slots(), 32);
    /// assert_eq!(BatchOptions::default().rate_per_second(50.0).slots(), 32);
    /// assert_eq!(BatchOptions::default().rate_per_second(500.0).slots(), 160);
    /// assert_eq!(BatchOptions::default().rate_per_second(500.0).concurrency(4).slots(), 4);
    /// ```
    pub fn slots(&self) -> usize {
        self.concurrency.unwrap_or_else(|| {
            let for_rate = self
                .cap()
                .filter(|r| r.is_finite() && *r > 0.0)
                .map_or(0.0, |r| (r * ROUND_TRIP_ALLOWANCE.as_secs_f64()).ceil().min(MAX_CONCURRENCY as f64));
            // Within 1..=MAX_CONCURRENCY by the `min` above: the cast cannot truncate.
            DEFAULT_CONCURRENCY.max(for_rate as usize)
        })
    }

    /// At most `rate` checks started per second, evenly spaced. A rate that is not a positive
    /// number means no cap; one below [`MIN_RATE`](crate::MIN_RATE) is taken as `MIN_RATE`.
    ///
    /// Capped or not, a batch slows down by itself when Juhe says the key or the IP is over
    /// its limit (10012, 10011, HTTP 429): it starts nothing until the key's one-second window
    /// frees, then runs a little under what went through in that second (not below one check
    /// a second) and rises by about half a percent of that a second, never above the cap
    /// ([`Batch::rate`] tells the pace). Uncapped, a batch starts at 100 checks a second (or 8
    /// per round trip, if more) and speeds up with every check that goes through.
    /// Unless [`concurrency`](Self::concurrency) is set, a cap also sets the concurrency
    /// ([`slots`](Self::slots)).
    ///
    /// **With a ledger** the cap is the whole key's: starts are booked in the key's pace,
    /// which every process on the ledger shares, so several batches (and services) on one key
    /// together start at most `rate` a second, and a refusal any of them meets slows them all
    /// (see `juhe_ledger::Ledger::take_start`). Without one, it is this batch's own.
    pub fn rate_per_second(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    /// At most `rate` checks started per second by this batch, whatever the key's pace allows
    /// (with a ledger, [`rate_per_second`](Self::rate_per_second) caps the whole key: this
    /// caps one process's share of it). Without a ledger, the lower of the two caps holds.
    pub fn process_rate_per_second(mut self, rate: f64) -> Self {
        self.process_rate = Some(rate);
        self
    }

    /// The lowest cap set, for the concurrency it needs.
    fn cap(&self) -> Option<f64> {
        let usable = |r: &f64| r.is_finite() && *r > 0.0;
        match (self.rate.filter(usable), self.process_rate.filter(usable)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The mode of every check (the client's default otherwise).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// At most `n` checks billed or maybe billed by this batch; checks in flight count until
    /// their answer says otherwise. Inputs past the budget yield
    /// [`Skipped::Budget`](crate::Skipped::Budget), unsent.
    pub fn max_billed(mut self, n: u64) -> Self {
        self.max_billed = Some(n);
        self
    }

    /// Whether the async [`Client::batch`] pulls its inputs in a task on the runtime (`true`)
    /// instead of on a thread of the batch's own (the default). The blocking client's feeder
    /// is always a thread.
    ///
    /// For inputs that never block, such as a vector or a local file: on a current-thread
    /// runtime the whole batch then runs on one thread, no thread switch per input (the
    /// `juhe` CLI's batch on loopback: 35 → 25–28 µs of CPU a row, docs/benchmarks.md). An
    /// iterator that blocks (a network cursor, a pipe) would hold up the runtime's other
    /// tasks, the batch's checks among them, while it does: leave this off for those.
    pub fn feed_on_runtime(mut self, on_runtime: bool) -> Self {
        self.feed_on_runtime = on_runtime;
        self
    }

    /// Whether inputs asking the same question are sent once (the default) or each on its own.
    pub fn dedupe(mut self, dedupe: bool) -> Self {
        self.dedupe = dedupe;
        self
    }

    /// Dedupe among the questions a first pass found repeated ([`Repeats::find`]): the batch
    /// remembers only those, so memory no longer grows with the unique inputs. Inputs whose
    /// question the pass did not see are checked each on its own.
    pub fn dedupe_among(mut self, repeats: Repeats) -> Self {
        self.dedupe = true;
        self.repeats = Some(repeats);
        self
    }
}

/// One finished input: its position in the input, the tag it came with, and its result.
///
/// It holds its input's concurrency slot: drop it once the result is recorded.
#[derive(Debug)]
pub struct BatchItem<T, O> {
    /// 0-based position in the input.
    pub index: usize,
    /// What the caller attached to the input (a row, an id).
    pub tag: T,
    /// The outcome, or why there is none. Invalid input is `Err(Error::Invalid)`; an input
    /// the batch chose not to send is `Err(Error::Skipped)`; neither was sent. A reused
    /// answer is the original's outcome (see [`reused_from`](Self::reused_from)).
    pub result: Result<O, Error>,
    pub(crate) reused_from: Option<usize>,
    pub(crate) _slot: Slot,
}

impl<T, O: juhe_proto::Outcome> BatchItem<T, O> {
    /// Whether this item was paid for. A reused answer (from another input, or from the
    /// ledger) is [`Billing::NotBilled`]: its original paid.
    pub fn billing(&self) -> Billing {
        if self.reused_from.is_some() { Billing::NotBilled } else { crate::billing_of(&self.result) }
    }

    /// The index of the input whose answer this one reuses (dedupe), if any.
    pub fn reused_from(&self) -> Option<usize> {
        self.reused_from
    }
}

/// A batch check's place in the pace: the batch's pacer, its board (whose stop ends the
/// wait), a turn, and the key's pace in the client's ledger, if it has one. A check takes its
/// start in its own task, after the ledger (if any) was asked for an answer to reuse and
/// before its entry is recorded: an answer from the ledger takes no place of the key's pace,
/// and a batch stopped meanwhile leaves no entry; retries take theirs after their backoff. One
/// check books and waits at a time, in turn, as a single feeder would: a refusal's hold
/// applies to every check not yet started, never to starts booked ahead at the old rate.
///
/// With a ledger the starts are booked in the key's pace, which every process on the ledger
/// shares (see `juhe_ledger::Ledger::take_start`): the batch's cap is then the whole key's,
/// refusals set the key's rate, and single checks go first. The batch's own pacer then only
/// measures the round trip.
#[derive(Debug, Clone)]
pub(crate) struct Pace {
    pub(crate) pacer: Arc<Pacer>,
    board: Arc<Board>,
    turn: Arc<Turn>,
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    key: KeyPace,
    /// With a ledger, this process's own cap (`process_rate_per_second`), kept before the
    /// key's pace.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    own: Option<Arc<Pacer>>,
    /// What this batch last learnt of the key's pace.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    key_rate: Arc<std::sync::Mutex<KeyLately>>,
}

/// What a batch last learnt of the key's pace in the ledger.
#[derive(Debug, Default)]
struct KeyLately {
    /// The key's rate as read (`None`: not paced), and when: progress reports read it often.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    rate: Option<(std::time::Instant, Option<f64>)>,
    /// Until when checks start without asking: the key was not paced a moment ago.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    unpaced_until: Option<std::time::Instant>,
    /// Until when the key's pace holds the next check back.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    held_until: Option<std::time::Instant>,
    /// The key's pace failed to answer: the batch is stopping, and its next checks fail at
    /// once instead of each waiting out the ledger's bound in turn.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    failed: bool,
}

/// The error of a check after the key's pace failed to answer: the ledger is unreachable.
#[cfg(feature = "ledger")]
fn pace_unreachable(location: &str) -> juhe_ledger::LedgerError {
    juhe_ledger::LedgerError::Unreachable {
        location: location.to_owned(),
        source: "the key's pace in it did not answer a moment ago: nothing more is sent".into(),
    }
}

/// How long a batch's checks start without asking the ledger once the key's pace said it is
/// not paced. A refusal elsewhere reaches them at most that much later.
#[cfg(feature = "ledger")]
const UNPACED_FOR: std::time::Duration = std::time::Duration::from_millis(50);

/// Whose turn it is to book a start: one lock per flavour of batch.
#[derive(Debug, Default)]
struct Turn {
    threads: std::sync::Mutex<()>,
    tasks: tokio::sync::Mutex<()>,
}

impl Pace {
    /// The pace of a batch with `options`: with a ledger, the key's (under `rate`), after
    /// this process's own cap if it has one; without, its own under the lower cap.
    pub(crate) fn new(options: &BatchOptions, board: Arc<Board>, key: KeyPace) -> Self {
        #[cfg(feature = "ledger")]
        let with_ledger = key.journal.is_some();
        #[cfg(not(feature = "ledger"))]
        let with_ledger = false;
        let (pacer, own) = match (with_ledger, options.process_rate) {
            (true, Some(own)) => (Pacer::new(options.rate), Some(Arc::new(Pacer::new(Some(own))))),
            (true, None) => (Pacer::new(options.rate), None),
            (false, _) => (Pacer::new(options.cap()), None),
        };
        Self { pacer: Arc::new(pacer), board, turn: Arc::default(), key, own, key_rate: Arc::default() }
    }

    /// Waits for this check's turn and start on a thread; `false` when the batch was stopped
    /// meanwhile: then it must not be sent.
    pub(crate) fn start_blocking(&self) -> Result<bool, Error> {
        let _turn = self.turn.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.take_blocking(&|| self.board.is_stopped())
    }

    /// [`start_blocking`](Self::start_blocking) on the async runtime (a fair lock: checks
    /// take their turns in the order they asked).
    pub(crate) async fn start(&self) -> Result<bool, Error> {
        let _turn = self.turn.tasks.lock().await;
        self.take(&|| self.board.is_stopped()).await
    }

    /// A retry's start (see [`Starts::retry`](crate::starts::Starts::retry)): no turn, and
    /// taken whether the batch was stopped or not (its check was sent once already).
    pub(crate) async fn retry(&self) -> Result<(), Error> {
        self.take(&|| false).await.map(drop)
    }

    /// [`retry`](Self::retry) on this thread.
    pub(crate) fn retry_blocking(&self) -> Result<(), Error> {
        self.take_blocking(&|| false).map(drop)
    }

    async fn take(&self, stopped: &(dyn Fn() -> bool + Sync)) -> Result<bool, Error> {
        #[cfg(feature = "ledger")]
        if let Some(journal) = &self.key.journal {
            if let Some(own) = &self.own
                && !crate::starts::sleep_unless(own.wait(Instant::now()), stopped).await
            {
                return Ok(false);
            }
            if self.unpaced_lately() {
                return Ok(!stopped());
            }
            self.not_failed(journal)?;
            let pausing = |pause| self.held_for_the_key(pause);
            let began = crate::starts::key_start(journal, self.key_request(), stopped, &pausing).await;
            let began = self.failed_if(began)?;
            if self.key_rate_stale() {
                let (asker, cap) = (Arc::clone(journal), self.pacer.cap());
                let rate = crate::journal::off_runtime(journal, move || Ok(asker.pace_rate(cap))).await?;
                self.note_key_rate(rate);
            }
            return Ok(self.began(began));
        }
        if stopped() {
            return Ok(false);
        }
        Ok(crate::starts::sleep_unless(self.pacer.wait(Instant::now()), stopped).await)
    }

    fn take_blocking(&self, stopped: &dyn Fn() -> bool) -> Result<bool, Error> {
        #[cfg(feature = "ledger")]
        if let Some(journal) = &self.key.journal {
            if let Some(own) = &self.own {
                self.board.pause(own.wait(Instant::now()));
            }
            if self.unpaced_lately() {
                return Ok(!stopped());
            }
            self.not_failed(journal)?;
            let sleep = |pause| {
                self.held_for_the_key(pause);
                self.board.pause(pause);
            };
            let began = crate::starts::key_start_blocking(journal, self.key_request(), &sleep, stopped);
            let began = self.failed_if(began)?;
            if self.key_rate_stale() {
                self.note_key_rate(journal.pace_rate(self.pacer.cap()));
            }
            return Ok(self.began(began));
        }
        if stopped() {
            return Ok(false);
        }
        let pause = self.pacer.wait(Instant::now());
        if !pause.is_zero() {
            self.board.pause(pause);
        }
        Ok(!stopped())
    }

    /// Whether the key's pace said "not paced" less than [`UNPACED_FOR`] ago: then a check
    /// starts without asking (a server that answers in a millisecond is not paced, and asking
    /// the ledger for each of its checks would cost more than the check).
    #[cfg(feature = "ledger")]
    fn unpaced_lately(&self) -> bool {
        let cache = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.unpaced_until.is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Notes how a start began; whether the check may go.
    #[cfg(feature = "ledger")]
    fn began(&self, began: crate::starts::Began) -> bool {
        let mut cache = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.unpaced_until =
            (began == crate::starts::Began::Unpaced).then(|| std::time::Instant::now() + UNPACED_FOR);
        began != crate::starts::Began::Stopped
    }

    /// This batch's request for a start in the key's pace.
    #[cfg(feature = "ledger")]
    fn key_request(&self) -> juhe_ledger::StartRequest {
        juhe_ledger::StartRequest::batch().capped(self.pacer.cap()).round_trip(self.pacer.round_trip())
    }

    /// A check went through after `round_trip`.
    pub(crate) fn went_through(&self, round_trip: std::time::Duration) {
        self.pacer.succeeded(Instant::now(), round_trip);
    }

    /// Juhe refused a check for the rate: the key's pace learns it (the batch's own, without a
    /// ledger).
    pub(crate) async fn refused(&self) {
        #[cfg(feature = "ledger")]
        if let Some(journal) = &self.key.journal {
            self.began(crate::starts::Began::Booked);
            let (asker, cap) = (Arc::clone(journal), self.pacer.cap());
            let _ = crate::journal::off_runtime(journal, move || {
                asker.rate_limited(cap);
                Ok(())
            })
            .await;
            return;
        }
        self.pacer.rate_limited(Instant::now());
    }

    /// [`refused`](Self::refused) on this thread.
    pub(crate) fn refused_blocking(&self) {
        #[cfg(feature = "ledger")]
        if let Some(journal) = &self.key.journal {
            self.began(crate::starts::Began::Booked);
            journal.rate_limited(self.pacer.cap());
            return;
        }
        self.pacer.rate_limited(Instant::now());
    }

    /// The rate starts are held to: the key's as last read, with a ledger. Never a ledger
    /// call: progress reports and the summary read it, and a ledger that does not answer must
    /// not hold them (the checks' own starts read it, at most once a second).
    pub(crate) fn rate(&self) -> Option<f64> {
        #[cfg(feature = "ledger")]
        if self.key.journal.is_some() {
            let cached = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            return cached.rate.and_then(|(_, rate)| rate);
        }
        self.pacer.rate()
    }

    /// An error at once if the key's pace failed to answer before: each check would otherwise
    /// wait out the ledger's bound in turn (15 s each, behind the one turn) while the batch
    /// stops.
    #[cfg(feature = "ledger")]
    fn not_failed(&self, journal: &crate::journal::Journal) -> Result<(), Error> {
        let cache = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !cache.failed {
            return Ok(());
        }
        Err(Error::Ledger(pace_unreachable(journal.ledger.location())))
    }

    /// Notes a ledger error of the key's pace (see [`not_failed`](Self::not_failed)).
    #[cfg(feature = "ledger")]
    fn failed_if<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(Error::Ledger(_)) = &result {
            self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).failed = true;
        }
        result
    }

    /// The key's pace holds the next check back for `pause`.
    #[cfg(feature = "ledger")]
    fn held_for_the_key(&self, pause: std::time::Duration) {
        let mut cache = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.held_until = Some(std::time::Instant::now() + pause);
    }

    /// How long the pace holds the next check back, if at all: the key's, with a ledger.
    pub(crate) fn held_for(&self) -> Option<std::time::Duration> {
        #[cfg(feature = "ledger")]
        if self.key.journal.is_some() {
            let cache = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let left = cache.held_until?.checked_duration_since(std::time::Instant::now())?;
            return (!left.is_zero()).then_some(left);
        }
        self.pacer.held_for(Instant::now())
    }

    /// Whether the key's rate was read more than a second ago (or never).
    #[cfg(feature = "ledger")]
    fn key_rate_stale(&self) -> bool {
        let cached = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.rate.is_none_or(|(read, _)| read.elapsed() >= std::time::Duration::from_secs(1))
    }

    #[cfg(feature = "ledger")]
    fn note_key_rate(&self, rate: Option<f64>) {
        let mut cached = self.key_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.rate = Some((std::time::Instant::now(), rate));
    }
}

/// Stops a running batch from anywhere (a signal handler's task, another thread); cheap to
/// clone. See [`Batch::stop`].
#[derive(Debug, Clone)]
pub struct BatchHandle {
    board: Arc<Board>,
    pace: Pace,
    activity: Option<Arc<crate::activity::Activity>>,
}

impl BatchHandle {
    pub(crate) fn new(
        board: Arc<Board>,
        pace: Pace,
        activity: Option<Arc<crate::activity::Activity>>,
    ) -> Self {
        Self { board, pace, activity }
    }

    /// What the batch is waiting for now: checks in flight, checks waiting for the same
    /// question in another process, ledger calls under way, the pace. A program that has
    /// written nothing for a while can print it (its `Display` is a sentence).
    pub fn waiting(&self) -> crate::Waiting {
        let activity = self.activity.as_deref();
        crate::Waiting {
            in_flight: self.board.in_flight(),
            on_other_checks: activity.map_or(0, crate::activity::Activity::on_other_checks),
            ledger_calls: activity.map_or(0, crate::activity::Activity::ledger_calls),
            paced_for: self.pace.held_for(),
        }
    }

    /// No check is sent from now on: inputs pulled but not sent are dropped, checks in flight
    /// finish and are yielded, then the batch ends.
    pub fn stop(&self) {
        self.board.stop();
    }

    /// The counts so far.
    pub fn stats(&self) -> BatchStats {
        self.board.stats(self.pace.rate())
    }

    /// The pace, in checks per second; `None` while uncapped and never rate-limited.
    pub fn rate(&self) -> Option<f64> {
        self.pace.rate()
    }
}

/// The results of a running batch, in the order the checks finish. A
/// [`Stream`](futures_core::Stream) of [`BatchItem`]s, or use [`next`](Self::next).
/// Dropping it stops the batch.
#[derive(Debug)]
pub struct Batch<T, O> {
    results: mpsc::Receiver<BatchItem<T, O>>,
    handle: BatchHandle,
}

impl<T, O> Batch<T, O> {
    /// The next finished input; `None` once every input has its item (or, after a stop, the
    /// checks in flight have theirs).
    pub async fn next(&mut self) -> Option<BatchItem<T, O>> {
        self.results.recv().await
    }

    /// No check is sent from now on: inputs pulled but not sent are dropped, checks in flight
    /// finish and are yielded, then the batch ends. Exact: once it returns, nothing new goes
    /// out.
    pub fn stop(&self) {
        self.handle.stop();
    }

    /// A handle to stop the batch or read its counts from elsewhere.
    pub fn handle(&self) -> BatchHandle {
        self.handle.clone()
    }

    /// The counts so far.
    pub fn stats(&self) -> BatchStats {
        self.handle.stats()
    }

    /// The pace the batch keeps, in checks per second: the cap given, or, once Juhe has said
    /// the key or the IP is over its limit (10011, 10012, HTTP 429), the rate it slowed down
    /// to; `None` while uncapped.
    pub fn rate(&self) -> Option<f64> {
        self.handle.rate()
    }
}

impl<T, O> futures_core::Stream for Batch<T, O> {
    type Item = BatchItem<T, O>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.results.poll_recv(cx)
    }
}

impl<T, O> Drop for Batch<T, O> {
    fn drop(&mut self) {
        self.handle.stop();
    }
}

impl Client {
    /// Checks every input, [`options.slots()`](BatchOptions::slots) at a time, and returns the results as they
    /// finish, with the guarantees of the [batch engine](crate::batch): bounded memory, an
    /// exact stop, a budget, dedupe, billed-but-unrecorded ≤ concurrency. Each input carries
    /// a tag returned with its result. Must be called inside a tokio runtime; the inputs are
    /// pulled on a thread of the batch's own, so the iterator may block (read files).
    ///
    /// ```no_run
    /// # async fn run(client: juhe_verify::Client) {
    /// use juhe_verify::{BatchOptions, Billing, IdCardCheck};
    ///
    /// let rows = vec![("张三", "11010519491231002X"), ("李四", "not a number")];
    /// let inputs = rows.into_iter().map(|(name, id)| (name, IdCardCheck::new(name, id)));
    /// let mut batch = client.batch(inputs, BatchOptions::default().concurrency(16).max_billed(1000));
    /// while let Some(item) = batch.next().await {
    ///     println!("row {}: {:?} ({:?})", item.index, item.result.as_ref().map(|o| o.verdict), item.billing());
    ///     // Record the result, then drop `item`: that frees its slot for the next check.
    /// }
    /// println!("{:?}", batch.stats());
    /// # }
    /// ```
    pub fn batch<C, T, I>(&self, inputs: I, options: BatchOptions) -> Batch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        let board = Board::new(options.slots(), options.max_billed);
        self.start_batch(Engine::new(inputs.into_iter(), &options, Arc::clone(&board)), &options, board)
    }

    /// [`batch`](Self::batch), each input's check made for the purpose `purpose_of` reads
    /// from its tag (a batch file's `purpose` column, a queue message's field), recorded with
    /// it in the ledger in place of the client's; `None` keeps the client's
    /// ([`ClientBuilder::purpose`](crate::ClientBuilder::purpose)). As in the ledger, reuse and
    /// the batch's dedupe keep purposes apart: a person asked for two purposes is checked for
    /// each (unless the client reuses across purposes, which the ledger then applies). Needs
    /// a ledger: without one, an input with a purpose is not sent
    /// ([`ConfigError::PurposeWithoutLedger`](crate::ConfigError::PurposeWithoutLedger)).
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn batch_with_purposes<C, T, I>(
        &self,
        inputs: I,
        options: BatchOptions,
        purpose_of: impl Fn(&T) -> Option<juhe_ledger::Purpose> + Send + Sync + 'static,
    ) -> Batch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        let board = Board::new(options.slots(), options.max_billed);
        let engine =
            Engine::new(inputs.into_iter(), &options, Arc::clone(&board)).with_purposes(Box::new(purpose_of));
        self.start_batch(engine, &options, board)
    }

    /// Starts `engine`'s feeder on a thread of its own.
    fn start_batch<C, T, I>(
        &self,
        engine: Engine<I, T, C>,
        options: &BatchOptions,
        board: Arc<Board>,
    ) -> Batch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: Iterator<Item = Input<T, C>> + Send + 'static,
    {
        let pace = Pace::new(options, Arc::clone(&board), self.key_pace());
        let engine = Arc::new(engine);
        // Every item holds a slot, so `concurrency` places never fill up.
        let (sender, results) = mpsc::channel(options.slots());
        let feeder = Feeder {
            engine,
            client: self.clone(),
            mode: options.mode.unwrap_or(self.mode()),
            pace: pace.clone(),
            runtime: tokio::runtime::Handle::current(),
            sender,
            on_runtime: options.feed_on_runtime,
        };
        feeder.start();
        Batch { results, handle: BatchHandle::new(board, pace, self.activity()) }
    }
}

/// The async batch's feeder: runs the engine's steps on its own thread (or in a task,
/// [`BatchOptions::feed_on_runtime`]) and spawns a task for each check to send.
struct Feeder<I, T, C: Check> {
    engine: Arc<Engine<I, T, C>>,
    client: Client,
    mode: Mode,
    pace: Pace,
    runtime: tokio::runtime::Handle,
    sender: mpsc::Sender<BatchItem<T, C::Outcome>>,
    on_runtime: bool,
}

impl<I, T, C> Feeder<I, T, C>
where
    I: Iterator<Item = Input<T, C>> + Send + 'static,
    T: Send + 'static,
    C: Check,
{
    /// Runs the feeder on a thread of its own, or on the runtime's blocking pool when no
    /// thread can be started.
    fn start(self) {
        let runtime = self.runtime.clone();
        if self.on_runtime {
            runtime.spawn(self.feed());
            return;
        }
        let feeder = Arc::new(std::sync::Mutex::new(Some(self)));
        let on_thread = Arc::clone(&feeder);
        let started = std::thread::Builder::new().name("juhe-batch-feed".into()).spawn(move || {
            if let Some(feeder) = take(&on_thread) {
                feeder.run();
            }
        });
        if let Err(error) = started {
            tracing::debug!(%error, "no thread for the batch's feeder: using the runtime's blocking pool");
            if let Some(feeder) = take(&feeder) {
                runtime.spawn_blocking(move || feeder.run());
            }
        }
    }

    fn run(self) {
        loop {
            match self.engine.next_job() {
                Job::End => return,
                Job::Yield(item) => {
                    // The batch was dropped: stop.
                    if self.sender.blocking_send(item).is_err() {
                        self.engine.stop();
                        return;
                    }
                }
                Job::Send(ticket) => self.spawn_check(ticket),
            }
        }
    }

    /// [`run`](Self::run) as a task: where a step would block, it awaits the board's change.
    async fn feed(self) {
        loop {
            match self.engine.try_next_job() {
                Some(Job::End) => return,
                Some(Job::Yield(item)) => {
                    // The batch was dropped: stop.
                    if self.sender.send(item).await.is_err() {
                        self.engine.stop();
                        return;
                    }
                }
                Some(Job::Send(ticket)) => self.spawn_check(ticket),
                None => self.engine.changed().await,
            }
        }
    }

    fn spawn_check(&self, ticket: Ticket<T, C>) {
        let (engine, client, sender, pace) =
            (Arc::clone(&self.engine), self.client.clone(), self.sender.clone(), self.pace.clone());
        let mode = self.mode;
        #[cfg(feature = "ledger")]
        let client = engine.client_for(&ticket, client, Client::with_purpose);
        #[cfg(not(feature = "ledger"))]
        let client: Result<Client, Error> = Ok(client);
        self.runtime.spawn(async move {
            let Ticket { check, sent } = ticket;
            let result = match client {
                Ok(client) => client.verify_paced(mode, &check, Some(&pace)).await,
                Err(error) => Err(error),
            };
            for item in engine.finish(sent, result) {
                if sender.send(item).await.is_err() {
                    engine.stop();
                    return;
                }
            }
        });
    }
}

fn take<V>(cell: &std::sync::Mutex<Option<V>>) -> Option<V> {
    cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
}
