//! A batch's pace: evenly spaced starts under an optional cap, finding and holding the rate
//! at which Juhe starts answering 10011, 10012 or HTTP 429.
//!
//! Uncapped, a batch starts slowly and speeds up by a few percent with every check that goes
//! through (a slow start, as TCP's), so it meets a key's limit at a rate a little above it,
//! not at the full speed of its concurrency: the checks already in flight when the first
//! refusal comes back are the only ones wasted (the start allows 8 per round trip, so a
//! server that answers at once is not paced at all). At a refusal the key's window is full:
//! nothing starts until it frees, and the rate is set to what went through in the last second
//! (the limit, measured; counted again once the answers then on their way are in). From there
//! it probes upwards by a small fraction of it per second, so it stays within a few percent
//! of the limit while drawing few refusals. With a cap (`--rate`), starts are spaced at
//! exactly the cap, and a limit below it is found the same way.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use juhe_proto::pace::MIN_RATE;
use juhe_proto::pace::{
    CATCH_UP, CUT_EVERY, FLOOR, IN_FLIGHT_AT_A_LIMIT, LIMIT_DROP, PROBE, SLOW_START, SLOW_START_GROWTH,
    UNDER_LIMIT, UNPACED, WINDOW as SECOND,
};

/// In the slow start, the rate is at most this many times what goes through: a limit is met
/// at most this far above it, for the time its first refusal takes to come back.
const OVERSHOOT: f64 = 1.5;
/// The span the slow start measures what goes through over.
const RECENT: Duration = Duration::from_millis(50);
/// How long the times of checks that went through are kept: the window a refusal measures
/// again once it has freed (see [`remeasure`]) may have begun up to a second before.
const KEPT: Duration = Duration::from_secs(2);

/// Hands out start times and adapts them to rate limits. Shared by the workers of one batch.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The user's cap, checks per second.
    ceiling: Option<f64>,
    /// The current rate.
    rate: f64,
    /// The limit last measured at a refusal; `None` before any.
    limit: Option<f64>,
    /// The rate that drew the last refusal: below it, probing is faster.
    refused_at: f64,
    next: Option<Instant>,
    last_cut: Option<Instant>,
    /// When the checks of the last [`KEPT`] went through: what the key's limit let pass.
    passed: VecDeque<Instant>,
    /// When the window that drew the last refusal has freed: then its count is complete.
    remeasure_at: Option<Instant>,
    /// When the first check went through: a batch younger than a second measures over its age.
    first_passed: Option<Instant>,
    /// The round trip of the checks that went through, smoothed as TCP does (an eighth of each
    /// new one); `None` before the first.
    round_trip: Option<Duration>,
}

impl State {
    /// In the slow start: uncapped and never refused.
    fn starting(&self) -> bool {
        self.ceiling.is_none() && self.limit.is_none()
    }
}

impl Pacer {
    /// A pacer under `cap` checks per second; a cap that is not a positive number means none,
    /// and one below [`MIN_RATE`] is taken as `MIN_RATE` (its interval would not fit a
    /// `Duration`).
    pub(crate) fn new(cap: Option<f64>) -> Self {
        let ceiling = cap.filter(|r| r.is_finite() && *r > 0.0).map(|r| r.max(MIN_RATE));
        Self {
            state: Mutex::new(State {
                ceiling,
                rate: ceiling.unwrap_or(SLOW_START),
                limit: None,
                refused_at: 0.0,
                next: None,
                last_cut: None,
                passed: VecDeque::new(),
                remeasure_at: None,
                first_passed: None,
                round_trip: None,
            }),
        }
    }

    /// How long the caller must wait before its check may start (its start is booked).
    pub(crate) fn wait(&self) -> Duration {
        let now = Instant::now();
        let mut state = self.state();
        if state.starting() && state.rate >= UNPACED {
            return Duration::ZERO;
        }
        let slot = state.next.map_or(now, |n| n.max(now));
        state.next = Some(slot + Duration::from_secs_f64(1.0 / state.rate));
        slot - now
    }

    /// The user's cap, if any.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    pub(crate) fn cap(&self) -> Option<f64> {
        self.state().ceiling
    }

    /// The smoothed round trip of the checks that went through, once one has.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    pub(crate) fn round_trip(&self) -> Option<Duration> {
        self.state().round_trip
    }

    /// How long the pace holds the next check back, if at all.
    pub(crate) fn held_for(&self) -> Option<Duration> {
        let next = self.state().next?;
        next.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Juhe said the rate is too high: the rate becomes what went through in the last second
    /// (less a little), once a second at most, not below one check a second.
    pub(crate) fn rate_limited(&self) {
        let now = Instant::now();
        let mut state = self.state();
        if state.last_cut.is_some_and(|t| now.duration_since(t) < CUT_EVERY) {
            return;
        }
        forget_older_than(&mut state.passed, now);
        // What went through in the last second is what the key's window let pass (a batch
        // younger than that measures a lower bound, and probes up from it). Answers still on
        // their way are missing: `remeasure` counts again once they are in.
        let measured = passed_in_second_to(&state.passed, now) as f64;
        let floor = state.ceiling.map_or(FLOOR, |c| c.min(FLOOR));
        // A count taken as answers come back runs a little under the limit; once a limit is
        // known, a refusal moves it down by a tenth at most (it may really have dropped), never
        // above the rate that drew the refusal.
        let limit = match state.limit {
            None => measured,
            Some(known) => measured.max(known * LIMIT_DROP).min(state.rate),
        }
        .max(floor);
        state.limit = Some(limit);
        state.refused_at = state.rate;
        state.rate = (limit * UNDER_LIMIT).max(floor);
        state.last_cut = Some(now);
        hold_until_the_window_frees(&mut state, now);
    }

    /// A check went through, its answer `round_trip` after it was sent: speed up (fast in the
    /// slow start, by a small probe after a refusal), never above the cap.
    pub(crate) fn succeeded(&self, round_trip: Duration) {
        let mut state = self.state();
        // Read under the lock, so the times are pushed in order (the searches rely on it).
        let now = Instant::now();
        state.round_trip = Some(state.round_trip.map_or(round_trip, |smooth| (smooth * 7 + round_trip) / 8));
        state.first_passed.get_or_insert(now);
        state.passed.push_back(now);
        forget_older_than(&mut state.passed, now);
        if let Some(at) = state.remeasure_at.filter(|at| now >= *at) {
            state.remeasure_at = None;
            remeasure(&mut state, at);
        }
        let raised = match state.limit {
            None => (state.rate * SLOW_START_GROWTH)
                .min((OVERSHOOT * passed_rate(&state, now)).max(SLOW_START))
                .max(in_flight_rate(&state)),
            // Well under the rate that was refused, the limit was measured low (answers still
            // on their way): climb back faster.
            Some(limit) if state.rate < state.refused_at * UNDER_LIMIT => {
                state.rate + limit * PROBE * CATCH_UP
            }
            Some(limit) => state.rate + limit * PROBE,
        };
        state.rate = state.ceiling.map_or(raised, |c| raised.min(c));
    }

    /// The rate the batch is held to: the cap, or the one a rate limit set; `None` when
    /// uncapped and never limited.
    pub(crate) fn rate(&self) -> Option<f64> {
        let state = self.state();
        (!state.starting()).then_some(state.rate)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The rate at which [`IN_FLIGHT_AT_A_LIMIT`] checks are in flight at the smoothed round trip
/// (0 before any answer).
fn in_flight_rate(state: &State) -> f64 {
    state.round_trip.map_or(0.0, |rtt| IN_FLIGHT_AT_A_LIMIT / rtt.as_secs_f64().max(1e-6))
}

/// Checks that went through per second, over the last [`RECENT`] (or the batch's age, if
/// younger, but at least a hundredth of a second): recent enough for the slow start to follow
/// a fast server closely.
fn passed_rate(state: &State, now: Instant) -> f64 {
    let age = state.first_passed.map_or(Duration::ZERO, |t| now.duration_since(t));
    let span = age.clamp(Duration::from_millis(10), RECENT);
    // The times are in order: a binary search, since at thousands a second this runs per check.
    let recent = state.passed.len() - state.passed.partition_point(|t| now.duration_since(*t) > span);
    recent as f64 / span.as_secs_f64()
}

/// After a refusal the key's one-second window is full, and it frees its first place a second
/// after the oldest check in it was let in; a check started before then is refused. So the
/// next start waits for that, taking the oldest check that went through in the last second
/// for the oldest in the window (it was let in before its answer came back: the wait errs
/// long). At a steady rate that is at once; after a slow start that filled the window in half
/// a second, it is the other half, during which every start would have drawn a refusal.
fn hold_until_the_window_frees(state: &mut State, now: Instant) {
    let oldest = state.passed.iter().find(|t| now.duration_since(**t) <= SECOND);
    let frees = oldest.map_or(now, |oldest| *oldest + SECOND);
    state.next = Some(state.next.map_or(frees, |next| next.max(frees)));
    state.remeasure_at = Some(frees);
}

/// Counts again, once the window that drew a refusal has freed, what went through in the
/// second before: the answers that were on their way at the refusal are in by then (no check
/// started in between), so the count is the key's limit, where the first one ran up to a
/// round trip's worth of checks under it. Only raises the limit, never above the refused rate.
fn remeasure(state: &mut State, freed: Instant) {
    let counted = passed_in_second_to(&state.passed, freed) as f64;
    if let Some(limit) = state.limit.filter(|limit| counted > *limit) {
        let limit = counted.min(state.refused_at).max(limit);
        state.limit = Some(limit);
        let rate = state.rate.max(limit * UNDER_LIMIT);
        state.rate = state.ceiling.map_or(rate, |c| rate.min(c));
    }
}

/// How many checks went through in the second up to `end`.
fn passed_in_second_to(passed: &VecDeque<Instant>, end: Instant) -> usize {
    let after_end = passed.partition_point(|t| *t <= end);
    after_end - passed.partition_point(|t| end.duration_since(*t) > SECOND)
}

/// Drops the times more than [`KEPT`] before `now`.
fn forget_older_than(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now.duration_since(*t) > KEPT) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Juhe's round trip, about: at it the slow start begins at [`SLOW_START`].
    const AWAY: Duration = Duration::from_millis(100);

    #[test]
    fn spaces_requests_evenly() {
        let pacer = Pacer::new(Some(100.0));
        assert_eq!(pacer.wait(), Duration::ZERO);
        let second = pacer.wait();
        assert!(second > Duration::from_millis(9) && second <= Duration::from_millis(10), "{second:?}");
        let third = pacer.wait();
        assert!(third > Duration::from_millis(19), "{third:?}");
        assert_eq!(Pacer::new(Some(0.0)).rate(), None);
        assert_eq!(Pacer::new(Some(f64::NAN)).rate(), None);
        assert_eq!(Pacer::new(Some(1e-300)).rate(), Some(MIN_RATE), "no overflow");
    }

    #[test]
    fn an_uncapped_batch_starts_slowly_and_is_unpaced_once_fast() {
        let pacer = Pacer::new(None);
        assert_eq!(pacer.rate(), None, "not held to a rate");
        assert_eq!(pacer.wait(), Duration::ZERO);
        assert!(pacer.wait() >= Duration::from_millis(9), "100 a second at first");
        // A hundred through at once measure 10,000 a second (over the shortest span): the rate
        // grows by 2% a check, so it is still paced after these.
        for _ in 0..100 {
            pacer.succeeded(AWAY);
        }
        assert!(pacer.wait() > Duration::ZERO, "still paced");
        for _ in 0..1000 {
            pacer.succeeded(AWAY);
        }
        for _ in 0..100 {
            assert_eq!(pacer.wait(), Duration::ZERO, "past 5,000 a second, no pacing");
        }
    }

    #[test]
    fn a_server_that_answers_at_once_is_not_paced() {
        let pacer = Pacer::new(None);
        pacer.succeeded(Duration::from_micros(300));
        for _ in 0..100 {
            assert_eq!(pacer.wait(), Duration::ZERO, "8 checks per 0.3 ms is past 5,000 a second");
        }
        // The round trip is smoothed: one slow answer does not slow the batch down to its 80 a
        // second (an eighth of it makes 12.8 ms: 625 a second).
        pacer.succeeded(Duration::from_millis(100));
        let rate = pacer.state().rate;
        assert!((rate - 8.0 / ((0.0003 * 7.0 + 0.1) / 8.0)).abs() < 1e-6, "{rate}");
        let far = Pacer::new(None);
        far.succeeded(Duration::from_millis(20));
        far.wait();
        let next = far.wait();
        assert!(
            next > Duration::from_millis(2) && next <= Duration::from_micros(2_500),
            "{next:?}: 400 a second"
        );
    }

    #[test]
    fn a_refusal_sets_the_rate_to_what_went_through_and_probing_is_gentle() {
        let pacer = Pacer::new(None);
        for _ in 0..100 {
            pacer.succeeded(AWAY);
        }
        pacer.rate_limited();
        let held = pacer.rate().unwrap();
        assert!((held - 98.0).abs() < 1e-6, "{held}: 100 went through in the last second");
        let hold = pacer.wait();
        assert!(hold > Duration::from_millis(900), "{hold:?}: the window is full for a second");
        pacer.rate_limited();
        assert_eq!(pacer.rate(), Some(held), "once a second at most");
        // A later refusal that counts fewer (answers still coming back) keeps most of the limit.
        {
            let mut state = pacer.state();
            state.last_cut = None;
            state.passed.truncate(50);
        }
        pacer.rate_limited();
        let again = pacer.rate().unwrap();
        assert!((again - 100.0 * 0.9 * 0.98).abs() < 1e-6, "{again}: a tenth down at most");
        let held = again;
        for _ in 0..100 {
            pacer.succeeded(AWAY);
        }
        let probed = pacer.rate().unwrap();
        // Under the refused rate the probe is four times faster: 2% of the limit (90) a hundred.
        assert!((probed - (held + 1.8)).abs() < 1e-6, "{probed}");
    }

    #[test]
    fn the_limit_is_counted_again_once_the_window_has_freed() {
        let pacer = Pacer::new(None);
        for _ in 0..60 {
            pacer.succeeded(AWAY);
        }
        pacer.rate_limited();
        assert!((pacer.rate().unwrap() - 60.0 * 0.98).abs() < 1e-6, "60 answers in so far");
        {
            // The 40 answers on their way at the refusal come in during the hold, and then
            // the window frees.
            let mut state = pacer.state();
            let now = Instant::now();
            state.passed.extend(std::iter::repeat_n(now, 40));
            state.refused_at = 200.0;
            state.remeasure_at = Some(now);
        }
        pacer.succeeded(AWAY);
        let rate = pacer.rate().unwrap();
        // The limit is 100: 98 a second, plus one (fast) probe of 0.02% of it.
        assert!((rate - (98.0 + 100.0 * PROBE * CATCH_UP)).abs() < 1e-6, "{rate}");
        assert!(pacer.state().remeasure_at.is_none(), "counted once");
    }

    #[test]
    fn a_cap_is_never_passed_nor_a_floor() {
        let pacer = Pacer::new(Some(40.0));
        for _ in 0..10_000 {
            pacer.succeeded(AWAY);
        }
        assert_eq!(pacer.rate(), Some(40.0), "never above the cap");
        let slow = Pacer::new(Some(0.5));
        slow.rate_limited();
        assert_eq!(slow.rate(), Some(0.5), "never below the floor, nor above the cap");
        let limited = Pacer::new(Some(3.0));
        limited.rate_limited();
        assert_eq!(limited.rate(), Some(1.0), "nothing went through: the floor");
    }
}
