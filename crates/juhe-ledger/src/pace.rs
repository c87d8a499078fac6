//! The key's pace, kept in the ledger: one schedule of start times per account and target,
//! shared by every process on the ledger (the processes of one machine on a SQLite file, a
//! fleet of machines on one PostgreSQL database).
//!
//! Juhe's rate limit belongs to the API key. A pacer in each process measures "the limit" as
//! what it alone got through, so with several processes on one key each sees the others'
//! checks as a shrinking limit and the fleet collapses. Here the schedule is one row per
//! account and target: each check's start is booked in it (a generic cell rate algorithm: the
//! row holds the next free start, and a booking moves it one interval on), the rate is the
//! fleet's, a limit measured at a refusal is the fleet's (counted from the ledger's answers of
//! the last second, every process's), and probing upwards is shared.
//!
//! **Live checks before batches.** A batch's check books a start only when the next free one
//! is within [`BATCH_HORIZON`]; otherwise it is told when to ask again, nothing booked. A live
//! check (a sign-up, a single check) books the next free start whatever batches wait, so it
//! never waits much longer than the horizon; past its own bound it gets none and is not sent.
//!
//! The logic is a pure function of the stored state, the request and the time ([`KeyPace`]),
//! unit-tested on a scripted clock; a backend only loads and stores the row
//! ([`PaceRows`]), each store conditional on the version it loaded, so two processes never
//! both book the same start.

use std::time::{Duration, SystemTime};

use juhe_proto::pace::{
    CATCH_UP, CUT_EVERY, FLOOR, IN_FLIGHT_AT_A_LIMIT, LIMIT_DROP, MIN_RATE, PROBE, SLOW_START, UNDER_LIMIT,
    UNPACED, WINDOW,
};

use crate::LedgerError;

/// How far ahead a batch's check may book its start: the most a live check waits behind
/// batches (plus the starts of other live checks before it).
pub const BATCH_HORIZON: Duration = Duration::from_millis(50);

/// How long the pace of an account is remembered unused: after an idle hour a fleet starts
/// afresh (the key's limit may have changed meanwhile).
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// How rarely a pace that changes nothing (unpaced) refreshes its row's time of use.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// How many times a booking loads the row again after another process stored it first,
/// before it fails closed (the check is not sent).
const CONTENDED: usize = 1000;
/// In the slow start, the rate grows by this factor per second of checks that wait for it.
const SLOW_START_PER_SECOND: f64 = 2.0;
/// How long live checks keep the rate under the measured limit after the last one booked: no
/// probing above it meanwhile, so no refusal of the probe's falls on a live check.
const LIVE_SHIELD: Duration = Duration::from_secs(10);
/// How long a cap holds the askers that give none after its own asker last booked (a live
/// check beside a capped batch keeps to the batch's cap; once the batch is over, it lapses).
const CAP_LAPSE: Duration = Duration::from_secs(10);

/// Whose start is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Priority {
    /// A check someone waits for: the next free start, ahead of batches, if it comes within
    /// `within`; otherwise none ([`Start::Full`]).
    Live {
        /// The longest the check may wait for its start.
        within: Duration,
    },
    /// A check of a batch: a start only when the next free one is within
    /// [`BATCH_HORIZON`] ([`Start::AskAgainAt`] otherwise).
    Batch,
}

/// A request for a start in the key's pace.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct StartRequest {
    /// Live or batch.
    pub priority: Priority,
    /// The key's rate as the user caps it, checks per second (for the whole key, every
    /// process together); `None` or a non-positive number: no cap.
    pub cap: Option<f64>,
    /// The asker's smoothed round trip to Juhe, if known: in the slow start the rate may
    /// always be 8 checks per round trip (a server that answers at once is not paced).
    pub round_trip: Option<Duration>,
}

impl StartRequest {
    /// A live check's request, waiting at most `within`.
    pub fn live(within: Duration) -> Self {
        Self { priority: Priority::Live { within }, cap: None, round_trip: None }
    }

    /// A batch check's request.
    pub fn batch() -> Self {
        Self { priority: Priority::Batch, cap: None, round_trip: None }
    }

    /// Under the user's cap for the whole key.
    pub fn capped(mut self, cap: Option<f64>) -> Self {
        self.cap = cap;
        self
    }

    /// With the asker's round trip.
    pub fn round_trip(mut self, round_trip: Option<Duration>) -> Self {
        self.round_trip = round_trip;
        self
    }

    /// The cap as a usable rate: finite, positive, at least [`MIN_RATE`].
    fn cap(&self) -> Option<f64> {
        self.cap.filter(|r| r.is_finite() && *r > 0.0).map(|r| r.max(MIN_RATE))
    }
}

/// The ledger's answer to a [`StartRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Booked: start at this time (now or later).
    At(SystemTime),
    /// A batch's check: the next free start is further than [`BATCH_HORIZON`]; nothing
    /// booked, ask again at this time.
    AskAgainAt(SystemTime),
    /// A live check: the next free start, `next`, is further than its bound; nothing booked.
    Full {
        /// The next free start.
        next: SystemTime,
    },
    /// The key is not paced (no cap, no refusal, and past 5,000 checks a second): start now;
    /// nothing booked. An asker may start its next checks without asking for a short while
    /// (a refusal elsewhere then reaches it that much later).
    Unpaced,
}

/// The pace of one account and target, as its row stores it. Times are microseconds since
/// the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyPace {
    /// The next free start.
    pub(crate) next_at: i64,
    /// The fleet's rate, checks per second (before any asker's cap).
    pub(crate) rate: f64,
    /// The limit last measured at a refusal; `None` before any.
    pub(crate) limit: Option<f64>,
    /// The rate that drew the last refusal: below it, probing is faster.
    pub(crate) refused_at: f64,
    /// When a refusal last lowered the rate.
    pub(crate) last_cut: Option<i64>,
    /// A window after the one that drew the last refusal freed: then the checks that window
    /// let through are counted again, by when they were sent (their answers are all in by
    /// then; none was sent between the refusal and the window's freeing).
    pub(crate) remeasure_at: Option<i64>,
    /// When the pace was last used.
    pub(crate) touched_at: i64,
    /// The lowest cap an asker gave lately, and when it was last given: the key's cap for every
    /// asker while it holds ([`CAP_LAPSE`]).
    pub(crate) cap: Option<f64>,
    pub(crate) cap_seen_at: Option<i64>,
    /// When this pace began (fresh, or forgotten and begun again).
    pub(crate) created_at: i64,
    /// When a live check last booked a start.
    pub(crate) live_at: Option<i64>,
}

/// What went through in a span: how many answers, and the oldest's time (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Passed {
    pub(crate) count: u64,
    pub(crate) oldest_ms: Option<i64>,
}

impl KeyPace {
    /// A fresh pace: the slow start, nothing booked.
    pub(crate) fn new(now: i64) -> Self {
        Self {
            next_at: now,
            rate: SLOW_START,
            limit: None,
            refused_at: 0.0,
            last_cut: None,
            remeasure_at: None,
            touched_at: now,
            cap: None,
            cap_seen_at: None,
            created_at: now,
            live_at: None,
        }
    }

    /// The stored pace, or a fresh one when there is none or it lay unused for
    /// [`FORGET_AFTER`].
    pub(crate) fn current(stored: Option<&Self>, now: i64) -> Self {
        stored
            .filter(|s| now - s.touched_at < micros(FORGET_AFTER))
            .cloned()
            .unwrap_or_else(|| Self::new(now))
    }

    /// When the window of the last refusal freed, if it is due to be counted again.
    pub(crate) fn remeasure_due(&self, now: i64) -> Option<i64> {
        self.remeasure_at.filter(|at| now >= *at).map(|at| at - micros(WINDOW))
    }

    /// What was sent and billed in the second before the window freed: the limit, counted by
    /// when the checks left rather than when their answers came (at the refusal, those of
    /// the last round trip were still on their way, so that count ran low). Only raises it,
    /// never above the refused rate.
    pub(crate) fn remeasured(&mut self, counted: u64) {
        self.remeasure_at = None;
        let counted = counted as f64;
        if let Some(limit) = self.limit.filter(|limit| counted > *limit) {
            let limit = counted.min(self.refused_at).max(limit);
            self.limit = Some(limit);
            self.rate = self.rate.max(limit * UNDER_LIMIT);
        }
    }

    /// Books a start for `request` at `now`, or says when to ask again.
    pub(crate) fn book(&mut self, now: i64, request: &StartRequest) -> Start {
        let cap = self.key_cap(now, request.cap());
        if let (None, Some(rtt)) = (self.limit, request.round_trip) {
            // In the first window only a server so near that it is not paced at all (see
            // `grow`: a rate raised before the window filled meets a limit far above it).
            let per_round_trip = IN_FLIGHT_AT_A_LIMIT / rtt.as_secs_f64().max(1e-6);
            if per_round_trip >= UNPACED || now - self.created_at >= micros(WINDOW) {
                self.rate = self.rate.max(per_round_trip);
            }
        }
        let Some(rate) = self.held_to(cap) else {
            if now - self.touched_at >= micros(TOUCH_EVERY) {
                self.touched_at = now;
            }
            return Start::Unpaced;
        };
        let slot = self.next_at.max(now);
        let wait = slot - now;
        match request.priority {
            Priority::Batch if wait > micros(BATCH_HORIZON) => {
                return Start::AskAgainAt(time(slot - micros(BATCH_HORIZON)));
            }
            Priority::Live { within } if wait > micros(within) => return Start::Full { next: time(slot) },
            _ => {}
        }
        let interval = (1e6 / rate).round().clamp(1.0, 1e15) as i64;
        self.next_at = slot + interval;
        self.touched_at = now;
        if let Priority::Live { .. } = request.priority {
            // Live checks beside batches: no probing over the limit while they come (a probe
            // finds a higher limit by drawing refusals, and one could fall on a live check).
            self.live_at = Some(now);
            if let Some(limit) = self.limit {
                self.rate = self.rate.min(limit * UNDER_LIMIT);
            }
        }
        if wait > 0 {
            self.grow(now, cap, interval);
        }
        Start::At(time(slot))
    }

    /// The key's cap for an asker giving `asked`: the lowest of its own and one another asker
    /// gave within [`CAP_LAPSE`]. A cap given is kept for the others (unless a lower one holds).
    fn key_cap(&mut self, now: i64, asked: Option<f64>) -> Option<f64> {
        let held = self.cap.filter(|_| self.cap_seen_at.is_some_and(|seen| now - seen < micros(CAP_LAPSE)));
        if let Some(asked) = asked
            && held.is_none_or(|held| asked <= held)
        {
            self.cap = Some(asked);
            self.cap_seen_at = Some(now);
        }
        match (held, asked) {
            (Some(held), Some(asked)) => Some(held.min(asked)),
            (held, asked) => held.or(asked),
        }
    }

    /// The rate starts are held to under `cap`; `None` when not paced (uncapped, never
    /// refused, and past [`UNPACED`]).
    fn held_to(&self, cap: Option<f64>) -> Option<f64> {
        match (self.limit, cap) {
            (None, None) => (self.rate < UNPACED).then_some(self.rate),
            // A cap with no limit known: exactly the cap, as the user asked.
            (None, Some(cap)) => Some(cap),
            (Some(_), cap) => Some(cap.map_or(self.rate, |cap| self.rate.min(cap)).max(MIN_RATE)),
        }
    }

    /// A check waited for its start: the rate holds checks back, so it may grow (in the slow
    /// start doubling per second of such checks, then by a small probe per check), never
    /// above the asker's cap. A rate that holds nobody back does not grow: it would be met
    /// far above a limit when it began to.
    ///
    /// The slow start begins growing only once the pace is a window old. Until then the key's
    /// window is still filling: a limit met by a rate grown meanwhile is met far above it,
    /// with a round trip of checks refused; met after, the window holds a second of checks at
    /// the first rate, so the first check over the limit is refused at once, a few above it.
    fn grow(&mut self, now: i64, cap: Option<f64>, interval: i64) {
        if cap.is_some_and(|cap| self.rate >= cap) {
            return;
        }
        let shielded = self.live_at.is_some_and(|live| now - live < micros(LIVE_SHIELD));
        let raised = match self.limit {
            None if now - self.created_at < micros(WINDOW) => return,
            None => self.rate * SLOW_START_PER_SECOND.powf(interval as f64 / 1e6),
            Some(limit) if shielded => {
                (self.rate + limit * PROBE * CATCH_UP).min(limit * UNDER_LIMIT).max(self.rate)
            }
            Some(limit) if self.rate < self.refused_at * UNDER_LIMIT => self.rate + limit * PROBE * CATCH_UP,
            Some(limit) => self.rate + limit * PROBE,
        };
        self.rate = cap.map_or(raised, |cap| raised.min(cap));
    }

    /// Juhe refused a check for the rate at `now`: the limit becomes what went through in
    /// the last second (`passed`, every process's), once a second at most; the rate a little
    /// under it; and nothing starts until the window frees.
    pub(crate) fn refused(&mut self, now: i64, cap: Option<f64>, passed: Passed) {
        if self.last_cut.is_some_and(|cut| now - cut < micros(CUT_EVERY)) {
            return;
        }
        let cap = self.key_cap(now, cap.filter(|r| r.is_finite() && *r > 0.0));
        let floor = cap.map_or(FLOOR, |c| c.min(FLOOR));
        let measured = passed.count as f64;
        let limit = match self.limit {
            None => measured,
            Some(known) => measured.max(known * LIMIT_DROP).min(self.rate),
        }
        .max(floor);
        self.limit = Some(limit);
        self.refused_at = self.rate;
        self.rate = (limit * UNDER_LIMIT).max(floor);
        self.last_cut = Some(now);
        self.touched_at = now;
        // The window frees a second after the oldest check in it was let in; the oldest answer
        // of the last second stands for it (it was let in before its answer: the wait errs long).
        let frees = passed.oldest_ms.map_or(now, |oldest| oldest * 1000 + micros(WINDOW));
        self.next_at = self.next_at.max(frees);
        self.remeasure_at = Some(frees + micros(WINDOW));
    }

    /// The rate starts are held to for an asker giving `cap`, at `now`; `None` when not paced.
    pub(crate) fn rate_for(&self, now: i64, cap: Option<f64>) -> Option<f64> {
        let cap = self.clone().key_cap(now, StartRequest::batch().capped(cap).cap());
        self.held_to(cap)
    }
}

/// What a backend offers the pace: its row, stored only over the version loaded, and the
/// ledger's answers of a span.
pub(crate) trait PaceRows {
    /// Where these rows keep the row as they last read or wrote it, if they do.
    fn memory(&self) -> Option<&PaceMemory> {
        None
    }
    /// The row of `account` and `target` and its version, if any.
    fn load(&mut self, account: &str, target: &str) -> Result<Option<(KeyPace, i64)>, LedgerError>;
    /// Stores `pace` if the row is still at `version` (inserts it when `None` and there is
    /// none); whether it was stored.
    fn store(
        &mut self,
        account: &str,
        target: &str,
        pace: &KeyPace,
        version: Option<i64>,
    ) -> Result<bool, LedgerError>;
    /// Billed answers of `account` and `target` recorded in `(from_ms, to_ms]`.
    fn passed(
        &mut self,
        account: &str,
        target: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Passed, LedgerError>;
    /// Billed checks of `account` and `target` sent in `(from_ms, to_ms]`.
    fn sent(&mut self, account: &str, target: &str, from_ms: i64, to_ms: i64) -> Result<u64, LedgerError>;
}

/// The pace rows of one database as one handle last read or wrote them, with their versions:
/// a step starts from the row remembered instead of reading it again, and its write over that
/// version is what confirms it (another process's write since makes it fail, and the row is
/// then read). A start booked is then one statement, not two, on a database across a network.
#[derive(Debug, Default)]
pub(crate) struct PaceMemory(std::sync::Mutex<std::collections::HashMap<(String, String), (KeyPace, i64)>>);

impl PaceMemory {
    fn recall(&self, account: &str, target: &str) -> Option<(KeyPace, i64)> {
        self.lock().get(&(account.to_owned(), target.to_owned())).cloned()
    }

    fn keep(&self, account: &str, target: &str, row: Option<(KeyPace, i64)>) {
        let key = (account.to_owned(), target.to_owned());
        match row {
            Some(row) => self.lock().insert(key, row),
            None => self.lock().remove(&key),
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, String), (KeyPace, i64)>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The one step every backend runs: load (or recall), change, store over the version loaded;
/// again, loading, if another process stored first.
fn update<T>(
    rows: &mut impl PaceRows,
    account: &str,
    target: &str,
    now: SystemTime,
    change: &mut dyn FnMut(&mut KeyPace, &mut dyn PaceRows) -> Result<T, LedgerError>,
    location: &str,
) -> Result<T, LedgerError> {
    let now = micros_since_epoch(now);
    for attempt in 0..CONTENDED {
        let recalled =
            if attempt == 0 { rows.memory().and_then(|m| m.recall(account, target)) } else { None };
        let from_memory = recalled.is_some();
        let loaded = match recalled {
            Some(row) => Some(row),
            None => rows.load(account, target)?,
        };
        let (stored, version) = (loaded.as_ref().map(|(p, _)| p), loaded.as_ref().map(|(_, v)| *v));
        let mut pace = KeyPace::current(stored, now);
        let answer = change(&mut pace, rows)?;
        if stored == Some(&pace) {
            // Unchanged from a row recalled: only a write would confirm it, and an unpaced
            // key's row is rarely written; read it instead, as without a memory.
            if from_memory {
                continue;
            }
            // Unchanged, as read: nothing to write.
            if let Some(memory) = rows.memory() {
                memory.keep(account, target, loaded);
            }
            return Ok(answer);
        }
        let written = rows.store(account, target, &pace, version)?;
        if let Some(memory) = rows.memory() {
            memory.keep(account, target, written.then(|| (pace, version.map_or(1, |v| v + 1))));
        }
        if written {
            return Ok(answer);
        }
    }
    Err(LedgerError::Locked { location: location.to_owned(), waited: Duration::ZERO })
}

/// Books a start for `request` (see [`Start`]).
pub(crate) fn take_start(
    rows: &mut impl PaceRows,
    account: &str,
    target: &str,
    request: &StartRequest,
    now: SystemTime,
    location: &str,
) -> Result<Start, LedgerError> {
    let at = micros_since_epoch(now);
    update(
        rows,
        account,
        target,
        now,
        &mut |pace, rows| {
            if let Some(freed) = pace.remeasure_due(at) {
                pace.remeasured(rows.sent(account, target, freed / 1000 - millis(WINDOW), freed / 1000)?);
            }
            Ok(pace.book(at, request))
        },
        location,
    )
}

/// Records a refusal for the rate (see [`KeyPace::refused`]).
pub(crate) fn refused(
    rows: &mut impl PaceRows,
    account: &str,
    target: &str,
    cap: Option<f64>,
    now: SystemTime,
    location: &str,
) -> Result<(), LedgerError> {
    let at = micros_since_epoch(now);
    update(
        rows,
        account,
        target,
        now,
        &mut |pace, rows| {
            if pace.last_cut.is_some_and(|cut| at - cut < micros(CUT_EVERY)) {
                return Ok(());
            }
            let second = rows.passed(account, target, at / 1000 - millis(WINDOW), at / 1000)?;
            pace.refused(at, cap, second);
            Ok(())
        },
        location,
    )
}

/// The rate the key's starts are held to for `cap`, as stored; `None` when not paced.
pub(crate) fn rate(
    rows: &mut impl PaceRows,
    account: &str,
    target: &str,
    cap: Option<f64>,
    now: SystemTime,
) -> Result<Option<f64>, LedgerError> {
    let loaded = rows.load(account, target)?;
    let now = micros_since_epoch(now);
    Ok(KeyPace::current(loaded.as_ref().map(|(p, _)| p), now).rate_for(now, cap))
}

/// How far back an entry that answered in the last second is looked for: a check taking
/// longer than this (retries included) is missed from the count, which then errs low (the
/// safe side: a slower rate). It bounds the rows a refusal reads.
pub(crate) const ANSWERED_WITHIN: Duration = Duration::from_secs(120);

/// Where to start looking for answers recorded after `from_ms` (see [`ANSWERED_WITHIN`]).
pub(crate) fn started_since(from_ms: i64) -> i64 {
    from_ms - millis(ANSWERED_WITHIN)
}

fn micros(span: Duration) -> i64 {
    i64::try_from(span.as_micros()).unwrap_or(i64::MAX)
}

fn millis(span: Duration) -> i64 {
    i64::try_from(span.as_millis()).unwrap_or(i64::MAX)
}

fn micros_since_epoch(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => micros(after),
        Err(before) => -micros(before.duration()),
    }
}

fn time(micros: i64) -> SystemTime {
    if micros >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_micros(micros.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted clock: microseconds.
    const T0: i64 = 1_800_000_000_000_000;
    const MS: i64 = 1000;

    fn at(start: Start) -> i64 {
        match start {
            Start::At(t) => micros_since_epoch(t),
            other => panic!("not booked: {other:?}"),
        }
    }

    #[test]
    fn a_capped_key_spaces_every_askers_starts_at_the_cap() {
        let mut pace = KeyPace::new(T0);
        let ask = StartRequest::live(Duration::from_secs(2)).capped(Some(100.0));
        let starts: Vec<i64> = (0..5).map(|_| at(pace.book(T0, &ask))).collect();
        assert_eq!(starts, [T0, T0 + 10 * MS, T0 + 20 * MS, T0 + 30 * MS, T0 + 40 * MS]);
        assert_eq!(pace.rate_for(T0, Some(100.0)), Some(100.0));
        assert!(pace.rate <= 100.0, "the stored rate never passes a cap: {}", pace.rate);
    }

    #[test]
    fn a_cap_one_asker_gives_holds_the_others_until_it_lapses() {
        let mut pace = KeyPace::new(T0);
        // A batch capped at 50 a second books a start.
        at(pace.book(T0, &StartRequest::batch().capped(Some(50.0))));
        // A live check with no cap of its own keeps to it: its start is 20 ms on.
        let live = StartRequest::live(Duration::from_secs(2));
        assert_eq!(at(pace.book(T0, &live)), T0 + 20 * MS);
        assert_eq!(pace.next_at, T0 + 40 * MS, "at the cap, not at the slow start's 100 a second");
        // A higher cap does not lift a lower one while it holds; a lower one lowers it.
        assert_eq!(pace.rate_for(T0, Some(80.0)), Some(50.0));
        at(pace.book(T0, &StartRequest::batch().capped(Some(25.0))));
        assert_eq!(pace.rate_for(T0, None), Some(25.0));
        // Ten seconds after the capped asker last booked, the cap lapses.
        let later = T0 + micros(CAP_LAPSE);
        assert_eq!(pace.rate_for(later, None), Some(SLOW_START));
        assert_eq!(pace.rate_for(later, Some(80.0)), Some(80.0));
    }

    #[test]
    fn batches_book_only_near_starts_and_live_checks_go_first() {
        let mut pace = KeyPace::new(T0);
        let batch = StartRequest::batch().capped(Some(100.0));
        // Five starts fit in the horizon (0, 10, …, 50 ms ahead: 50 is within), the sixth not.
        for n in 0..6 {
            assert_eq!(at(pace.book(T0, &batch)), T0 + n * 10 * MS);
        }
        assert_eq!(pace.book(T0, &batch), Start::AskAgainAt(time(T0 + 10 * MS)), "nothing booked");
        assert_eq!(pace.next_at, T0 + 60 * MS);
        // A live check books the next free start at once, ahead of the waiting batch.
        let live = StartRequest::live(Duration::from_millis(100));
        assert_eq!(at(pace.book(T0, &live)), T0 + 60 * MS);
        // Past its bound it gets none, and nothing is booked.
        let hurried = StartRequest::live(Duration::from_millis(60));
        assert_eq!(pace.book(T0, &hurried), Start::Full { next: time(T0 + 70 * MS) });
        assert_eq!(pace.next_at, T0 + 70 * MS);
    }

    #[test]
    fn the_slow_start_doubles_per_second_only_while_checks_wait() {
        let mut pace = KeyPace::new(T0);
        let batch = StartRequest::batch();
        // Nobody waits (one check every 20 ms at 100 a second): the rate stays.
        for n in 0..50 {
            at(pace.book(T0 + n * 20 * MS, &batch));
        }
        assert_eq!(pace.rate, SLOW_START);
        // In its first second the key's window is still filling: the rate holds.
        let mut now = T0 + 999 * MS;
        now = at(pace.book(now, &batch)) - 1;
        at(pace.book(now, &batch));
        assert_eq!(pace.rate, SLOW_START);
        // Checks that wait for their start: one second of them doubles it.
        let mut now = T0 + 1_000 * MS;
        let started = now;
        while now - started < 1_000 * MS {
            now = at(pace.book(now, &batch));
        }
        assert!((pace.rate / SLOW_START - 2.0).abs() < 0.05, "{}", pace.rate);
    }

    #[test]
    fn in_the_first_window_only_a_near_server_raises_the_rate() {
        let mut pace = KeyPace::new(T0);
        let away = StartRequest::batch().round_trip(Some(Duration::from_millis(50)));
        at(pace.book(T0 + 500 * MS, &away));
        assert_eq!(pace.rate, SLOW_START, "160 a second waits for the window");
        at(pace.book(T0 + 1_000 * MS, &away));
        assert_eq!(pace.rate, 160.0, "8 per round trip once the window is a second old");
        let mut near = KeyPace::new(T0);
        near.book(T0, &StartRequest::batch().round_trip(Some(Duration::from_millis(1))));
        assert_eq!(near.rate, 8_000.0, "a server a millisecond away is not paced at all");
    }

    #[test]
    fn an_uncapped_fast_key_is_not_paced_and_its_row_is_rarely_written() {
        let mut pace = KeyPace::new(T0);
        let fast = StartRequest::batch().round_trip(Some(Duration::from_micros(300)));
        let first = pace.book(T0, &fast);
        assert_eq!(first, Start::Unpaced);
        let stored = pace.clone();
        for n in 0..1000 {
            assert_eq!(pace.book(T0 + n, &fast), Start::Unpaced);
        }
        assert_eq!(pace, stored, "an unpaced booking changes nothing to store");
        pace.book(T0 + micros(TOUCH_EVERY), &fast);
        assert_eq!(pace.touched_at, T0 + micros(TOUCH_EVERY), "but refreshes its time of use");
    }

    #[test]
    fn a_refusal_sets_the_fleets_rate_to_what_went_through_and_holds_until_the_window_frees() {
        let mut pace = KeyPace::new(T0);
        pace.rate = 300.0;
        let oldest_ms = T0 / 1000 - 600;
        pace.refused(T0, None, Passed { count: 100, oldest_ms: Some(oldest_ms) });
        assert_eq!(pace.limit, Some(100.0));
        assert!((pace.rate - 98.0).abs() < 1e-9, "{}", pace.rate);
        assert_eq!(pace.refused_at, 300.0);
        assert_eq!(pace.next_at, oldest_ms * 1000 + 1_000 * MS, "held until the window frees");
        let live = StartRequest::live(Duration::from_secs(2));
        assert_eq!(at(pace.book(T0, &live)), T0 + 400 * MS);
        // A second refusal within the second (another process's) changes nothing.
        let before = pace.clone();
        pace.refused(T0 + 500 * MS, None, Passed { count: 10, oldest_ms: None });
        assert_eq!(pace, before);
        // Once the window frees, the answers then on their way are counted: the limit rises.
        assert_eq!(pace.remeasure_due(T0 + 1_300 * MS), None, "a window after it frees");
        assert_eq!(pace.remeasure_due(T0 + 1_400 * MS), Some(T0 + 400 * MS), "the second before it freed");
        pace.remeasured(120);
        assert_eq!(pace.limit, Some(120.0));
        assert!((pace.rate - 120.0 * UNDER_LIMIT).abs() < 1e-9);
        assert_eq!(pace.remeasure_due(T0 + 3_000 * MS), None, "counted once");
    }

    #[test]
    fn probing_is_gentle_and_shared() {
        let mut pace = KeyPace::new(T0);
        pace.refused(T0, None, Passed { count: 100, oldest_ms: None });
        pace.remeasure_at = None;
        let batch = StartRequest::batch();
        let mut now = T0 - 1;
        for _ in 0..100 {
            // Every booking waits a microsecond for its start.
            now = at(pace.book(now, &batch)) - 1;
        }
        // A hundred checks probe by 100 × 0.005% of the limit: half a check a second, the
        // same whichever processes booked them.
        assert!((pace.rate - (98.0 + 100.0 * 100.0 * PROBE)).abs() < 1e-6, "{}", pace.rate);
    }

    #[test]
    fn live_checks_keep_the_rate_under_the_limit_while_they_come() {
        let mut pace = KeyPace::new(T0);
        pace.refused(T0, None, Passed { count: 100, oldest_ms: None });
        pace.remeasure_at = None;
        pace.rate = 99.5; // probed up, over 98
        let live = StartRequest::live(Duration::from_secs(2));
        let mut now = T0 + 2_000 * MS;
        now = at(pace.book(now, &live));
        assert_eq!(pace.rate, 100.0 * UNDER_LIMIT, "brought under the limit at once");
        let batch = StartRequest::batch();
        // Five seconds of batch checks that wait for their starts.
        for _ in 0..500 {
            now = at(pace.book(now - 1, &batch));
        }
        assert_eq!(pace.rate, 100.0 * UNDER_LIMIT, "no probing over it while live checks come");
        // Ten seconds after the last live check, batches probe again.
        now += micros(LIVE_SHIELD);
        now = at(pace.book(now, &batch));
        at(pace.book(now - 1, &batch));
        assert!(pace.rate > 100.0 * UNDER_LIMIT, "{}", pace.rate);
    }

    #[test]
    fn a_known_limit_drops_by_a_tenth_at_most_and_never_below_the_floor() {
        let mut pace = KeyPace::new(T0);
        pace.refused(T0, None, Passed { count: 100, oldest_ms: None });
        pace.refused(T0 + 2_000 * MS, None, Passed { count: 20, oldest_ms: None });
        assert!((pace.limit.unwrap() - 90.0).abs() < 1e-9);
        let mut empty = KeyPace::new(T0);
        empty.refused(T0, None, Passed::default());
        assert_eq!(empty.limit, Some(FLOOR));
        assert_eq!(empty.rate, FLOOR);
        let mut slow = KeyPace::new(T0);
        slow.refused(T0, Some(0.5), Passed::default());
        assert_eq!(slow.rate, 0.5, "a cap below the floor is the floor");
    }

    #[test]
    fn an_idle_pace_is_forgotten() {
        let mut pace = KeyPace::new(T0);
        pace.refused(T0, None, Passed { count: 10, oldest_ms: None });
        assert_eq!(KeyPace::current(Some(&pace), T0 + 1_000 * MS).limit, Some(10.0));
        let later = T0 + micros(FORGET_AFTER);
        assert_eq!(KeyPace::current(Some(&pace), later), KeyPace::new(later));
    }

    /// A pace held in memory, one process's or many: the backends' contract, scripted.
    #[derive(Default)]
    struct Rows {
        row: Option<(KeyPace, i64)>,
        passed: Passed,
        /// Stores refused before one goes through: another process was first.
        conflicts: usize,
    }

    impl PaceRows for Rows {
        fn load(&mut self, _: &str, _: &str) -> Result<Option<(KeyPace, i64)>, LedgerError> {
            Ok(self.row.clone())
        }
        fn store(
            &mut self,
            _: &str,
            _: &str,
            pace: &KeyPace,
            version: Option<i64>,
        ) -> Result<bool, LedgerError> {
            if self.conflicts > 0 {
                self.conflicts -= 1;
                // Another process booked the next start meanwhile.
                if let Some((row, v)) = &mut self.row {
                    row.next_at += 10 * MS;
                    *v += 1;
                }
                return Ok(false);
            }
            Ok(store_over(&mut self.row, pace, version))
        }
        fn passed(&mut self, _: &str, _: &str, _: i64, _: i64) -> Result<Passed, LedgerError> {
            Ok(self.passed)
        }
        fn sent(&mut self, _: &str, _: &str, _: i64, _: i64) -> Result<u64, LedgerError> {
            Ok(self.passed.count)
        }
    }

    #[test]
    fn a_booking_that_loses_a_race_loads_again_and_takes_the_next_start() {
        let mut rows = Rows::default();
        let ask = StartRequest::batch().capped(Some(100.0));
        let now = time(T0);
        assert_eq!(take_start(&mut rows, "a", "juhe", &ask, now, "l").unwrap(), Start::At(now));
        rows.conflicts = 2;
        // Two other processes stored first: this one's start is the one after theirs.
        let start = take_start(&mut rows, "a", "juhe", &ask, now, "l").unwrap();
        assert_eq!(start, Start::At(time(T0 + 30 * MS)));
        assert_eq!(rows.row.as_ref().unwrap().0.next_at, T0 + 40 * MS);
    }

    #[test]
    fn a_refusal_counts_every_processs_answers() {
        let mut rows = Rows { passed: Passed { count: 97, oldest_ms: None }, ..Rows::default() };
        refused(&mut rows, "a", "juhe", None, time(T0), "l").unwrap();
        assert_eq!(rows.row.as_ref().unwrap().0.limit, Some(97.0));
        assert_eq!(rate(&mut rows, "a", "juhe", None, time(T0)).unwrap(), Some(97.0 * UNDER_LIMIT));
        assert_eq!(rate(&mut rows, "a", "juhe", Some(50.0), time(T0)).unwrap(), Some(50.0));
    }

    /// The backends' conditional store: `pace` over `row` if it is still at `version`.
    fn store_over(row: &mut Option<(KeyPace, i64)>, pace: &KeyPace, version: Option<i64>) -> bool {
        if row.as_ref().map(|(_, v)| *v) != version {
            return false;
        }
        *row = Some((pace.clone(), version.map_or(1, |v| v + 1)));
        true
    }

    /// One process's handle on a row other processes share, remembering it as it last saw it.
    struct Handle<'r> {
        row: &'r std::cell::RefCell<Option<(KeyPace, i64)>>,
        memory: PaceMemory,
        loads: usize,
    }

    impl PaceRows for Handle<'_> {
        fn memory(&self) -> Option<&PaceMemory> {
            Some(&self.memory)
        }
        fn load(&mut self, _: &str, _: &str) -> Result<Option<(KeyPace, i64)>, LedgerError> {
            self.loads += 1;
            Ok(self.row.borrow().clone())
        }
        fn store(
            &mut self,
            _: &str,
            _: &str,
            pace: &KeyPace,
            version: Option<i64>,
        ) -> Result<bool, LedgerError> {
            Ok(store_over(&mut self.row.borrow_mut(), pace, version))
        }
        fn passed(&mut self, _: &str, _: &str, _: i64, _: i64) -> Result<Passed, LedgerError> {
            Ok(Passed::default())
        }
        fn sent(&mut self, _: &str, _: &str, _: i64, _: i64) -> Result<u64, LedgerError> {
            Ok(0)
        }
    }

    /// A handle books from the row it remembers, reading it only when another process wrote
    /// since (its write over the old version fails): one statement a start while it books
    /// alone, and never a start another process holds.
    #[test]
    fn a_remembered_row_is_booked_from_until_another_process_writes() {
        let shared = std::cell::RefCell::new(None);
        let (mut a, mut b) = (
            Handle { row: &shared, memory: PaceMemory::default(), loads: 0 },
            Handle { row: &shared, memory: PaceMemory::default(), loads: 0 },
        );
        let ask = StartRequest::batch().capped(Some(100.0));
        let now = time(T0);
        let mut starts = Vec::new();
        for _ in 0..3 {
            starts.push(take_start(&mut a, "a", "juhe", &ask, now, "l").unwrap());
        }
        assert_eq!(a.loads, 1, "read once, then booked from memory");
        starts.push(take_start(&mut b, "a", "juhe", &ask, now, "l").unwrap());
        starts.push(take_start(&mut a, "a", "juhe", &ask, now, "l").unwrap());
        assert_eq!(a.loads, 2, "b wrote since: a's write failed and it read the row again");
        let at: Vec<_> = (0..5).map(|i| Start::At(time(T0 + i * 10 * MS))).collect();
        assert_eq!(starts, at, "each start the next, none twice");
        assert_eq!(shared.borrow().as_ref().unwrap().1, 5, "five writes");
    }

    /// An unpaced key's booking changes nothing: read, never written, memory or not.
    #[test]
    fn an_unpaced_booking_reads_the_row_and_writes_nothing_though_remembered() {
        let shared = std::cell::RefCell::new(None);
        let mut a = Handle { row: &shared, memory: PaceMemory::default(), loads: 0 };
        let fast = StartRequest::batch().round_trip(Some(Duration::from_micros(300)));
        assert_eq!(take_start(&mut a, "a", "juhe", &fast, time(T0), "l").unwrap(), Start::Unpaced);
        let version = shared.borrow().as_ref().unwrap().1;
        for n in 1..=5 {
            assert_eq!(take_start(&mut a, "a", "juhe", &fast, time(T0 + n), "l").unwrap(), Start::Unpaced);
        }
        assert_eq!(shared.borrow().as_ref().unwrap().1, version, "nothing written");
        assert_eq!(a.loads, 1 + 5, "the first booking's read, then one per booking");
    }
}
