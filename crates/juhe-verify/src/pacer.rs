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

    /// How long the caller must wait from `now` before its check may start (its start is
    /// booked).
    pub(crate) fn wait(&self, now: Instant) -> Duration {
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

    /// How long the pace holds the next check back from `now`, if at all.
    pub(crate) fn held_for(&self, now: Instant) -> Option<Duration> {
        let next = self.state().next?;
        next.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// Juhe said at `now` that the rate is too high: the rate becomes what went through in the
    /// last second (less a little), once a second at most, not below one check a second.
    pub(crate) fn rate_limited(&self, now: Instant) {
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

    /// A check went through at `now`, its answer `round_trip` after it was sent: speed up
    /// (fast in the slow start, by a small probe after a refusal), never above the cap. The
    /// times given must not go backwards (the searches rely on them in order): callers read
    /// the clock as they call, and a time a little older than the last is taken as the last.
    pub(crate) fn succeeded(&self, now: Instant, round_trip: Duration) {
        let mut state = self.state();
        let now = state.passed.back().map_or(now, |last| now.max(*last));
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
    let recent = newest_where(&state.passed, |t| now.duration_since(*t) <= span);
    recent as f64 / span.as_secs_f64()
}

/// How many of the newest `times` (in order) are `recent`, `recent` holding for a suffix of
/// them. This runs per check: the search gallops back from the newest, so it reads the few
/// entries of the last [`RECENT`], not the two seconds of them a binary search of the whole
/// queue would jump across (a cache miss a step at tens of thousands a second).
fn newest_where(times: &VecDeque<Instant>, recent: impl Fn(&Instant) -> bool) -> usize {
    let len = times.len();
    let mut reach = 1;
    while reach <= len && recent(&times[len - reach]) {
        reach *= 2;
    }
    // The last `reach / 2` are recent; the one `reach` back, if there is one, is not.
    let (mut old, mut new) = (len.saturating_sub(reach), len - reach / 2);
    if reach > len && times.front().is_none_or(&recent) {
        return len;
    }
    // times[old] is not recent (or before the start), times[new..] are.
    while new - old > 1 {
        let middle = old + (new - old) / 2;
        if recent(&times[middle]) { new = middle } else { old = middle }
    }
    len - new
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

    /// The gallop from the newest counts what a binary search of the whole queue counts.
    #[test]
    fn the_newest_are_counted_as_a_search_of_all_would() {
        let start = Instant::now();
        for len in 0..70 {
            let times: VecDeque<Instant> = (0..len).map(|i| start + Duration::from_millis(i)).collect();
            for cut in 0..=len + 1 {
                let after = start + Duration::from_millis(cut);
                let recent = |t: &Instant| *t >= after;
                assert_eq!(
                    newest_where(&times, recent),
                    len as usize - times.partition_point(|t| !recent(t))
                );
            }
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Juhe's round trip, about: at it the slow start begins at [`SLOW_START`].
    const AWAY: Duration = Duration::from_millis(100);

    #[test]
    fn spaces_requests_evenly() {
        let pacer = Pacer::new(Some(100.0));
        let t0 = Instant::now();
        assert_eq!(pacer.wait(t0), Duration::ZERO);
        let second = pacer.wait(t0);
        assert!(second > Duration::from_millis(9) && second <= Duration::from_millis(10), "{second:?}");
        let third = pacer.wait(t0);
        assert!(third > Duration::from_millis(19), "{third:?}");
        assert_eq!(Pacer::new(Some(0.0)).rate(), None);
        assert_eq!(Pacer::new(Some(f64::NAN)).rate(), None);
        assert_eq!(Pacer::new(Some(1e-300)).rate(), Some(MIN_RATE), "no overflow");
    }

    #[test]
    fn an_uncapped_batch_starts_slowly_and_is_unpaced_once_fast() {
        let t0 = Instant::now();
        let pacer = Pacer::new(None);
        assert_eq!(pacer.rate(), None, "not held to a rate");
        assert_eq!(pacer.wait(t0), Duration::ZERO);
        assert!(pacer.wait(t0) >= Duration::from_millis(9), "100 a second at first");
        // A hundred through at once measure 10,000 a second (over the shortest span): the rate
        // grows by 2% a check, so it is still paced after these.
        for _ in 0..100 {
            pacer.succeeded(t0, AWAY);
        }
        assert!(pacer.wait(t0) > Duration::ZERO, "still paced");
        for _ in 0..1000 {
            pacer.succeeded(t0, AWAY);
        }
        for _ in 0..100 {
            assert_eq!(pacer.wait(t0), Duration::ZERO, "past 5,000 a second, no pacing");
        }
    }

    #[test]
    fn a_server_that_answers_at_once_is_not_paced() {
        let t0 = Instant::now();
        let pacer = Pacer::new(None);
        pacer.succeeded(t0, Duration::from_micros(300));
        for _ in 0..100 {
            assert_eq!(pacer.wait(t0), Duration::ZERO, "8 checks per 0.3 ms is past 5,000 a second");
        }
        // The round trip is smoothed: one slow answer does not slow the batch down to its 80 a
        // second (an eighth of it makes 12.8 ms: 625 a second).
        pacer.succeeded(t0, Duration::from_millis(100));
        let rate = pacer.state().rate;
        assert!((rate - 8.0 / ((0.0003 * 7.0 + 0.1) / 8.0)).abs() < 1e-6, "{rate}");
        let far = Pacer::new(None);
        far.succeeded(t0, Duration::from_millis(20));
        far.wait(t0);
        let next = far.wait(t0);
        assert!(
            next > Duration::from_millis(2) && next <= Duration::from_micros(2_500),
            "{next:?}: 400 a second"
        );
    }

    #[test]
    fn a_refusal_sets_the_rate_to_what_went_through_and_probing_is_gentle() {
        let t0 = Instant::now();
        let pacer = Pacer::new(None);
        for _ in 0..100 {
            pacer.succeeded(t0, AWAY);
        }
        pacer.rate_limited(t0);
        let held = pacer.rate().unwrap();
        assert!((held - 98.0).abs() < 1e-6, "{held}: 100 went through in the last second");
        let hold = pacer.wait(t0);
        assert!(hold > Duration::from_millis(900), "{hold:?}: the window is full for a second");
        pacer.rate_limited(t0);
        assert_eq!(pacer.rate(), Some(held), "once a second at most");
        // A later refusal that counts fewer (answers still coming back) keeps most of the limit.
        {
            let mut state = pacer.state();
            state.last_cut = None;
            state.passed.truncate(50);
        }
        pacer.rate_limited(t0);
        let again = pacer.rate().unwrap();
        assert!((again - 100.0 * 0.9 * 0.98).abs() < 1e-6, "{again}: a tenth down at most");
        let held = again;
        for _ in 0..100 {
            pacer.succeeded(t0, AWAY);
        }
        let probed = pacer.rate().unwrap();
        // Under the refused rate the probe is four times faster: 2% of the limit (90) a hundred.
        assert!((probed - (held + 1.8)).abs() < 1e-6, "{probed}");
    }

    #[test]
    fn the_limit_is_counted_again_once_the_window_has_freed() {
        let t0 = Instant::now();
        let pacer = Pacer::new(None);
        for _ in 0..60 {
            pacer.succeeded(t0, AWAY);
        }
        pacer.rate_limited(t0);
        assert!((pacer.rate().unwrap() - 60.0 * 0.98).abs() < 1e-6, "60 answers in so far");
        {
            // The 40 answers on their way at the refusal come in during the hold, and then
            // the window frees.
            let mut state = pacer.state();
            let now = t0;
            state.passed.extend(std::iter::repeat_n(now, 40));
            state.refused_at = 200.0;
            state.remeasure_at = Some(now);
        }
        // The next answer comes after the window freed.
        pacer.succeeded(t0 + ms(1), AWAY);
        let rate = pacer.rate().unwrap();
        // The limit is 100: 98 a second, plus one (fast) probe of 0.02% of it.
        assert!((rate - (98.0 + 100.0 * PROBE * CATCH_UP)).abs() < 1e-6, "{rate}");
        assert!(pacer.state().remeasure_at.is_none(), "counted once");
    }

    #[test]
    fn a_cap_is_never_passed_nor_a_floor() {
        let t0 = Instant::now();
        let pacer = Pacer::new(Some(40.0));
        for _ in 0..10_000 {
            pacer.succeeded(t0, AWAY);
        }
        assert_eq!(pacer.rate(), Some(40.0), "never above the cap");
        let slow = Pacer::new(Some(0.5));
        slow.rate_limited(t0);
        assert_eq!(slow.rate(), Some(0.5), "never below the floor, nor above the cap");
        let limited = Pacer::new(Some(3.0));
        limited.rate_limited(t0);
        assert_eq!(limited.rate(), Some(1.0), "nothing went through: the floor");
    }

    /// Juhe's side of a key's limit, scripted: a start is answered when fewer than `limit`
    /// starts were answered in the second before it, else refused (10012).
    struct KeyLimit {
        limit: usize,
        answered: VecDeque<Instant>,
    }

    impl KeyLimit {
        fn admits(&mut self, start: Instant) -> bool {
            while self.answered.front().is_some_and(|t| start.duration_since(*t) >= SECOND) {
                self.answered.pop_front();
            }
            let admitted = self.answered.len() < self.limit;
            if admitted {
                self.answered.push_back(start);
            }
            admitted
        }
    }

    /// What a batch did against a key limit over a scripted run.
    #[derive(Debug)]
    struct Run {
        refused: usize,
        refused_after_first_seconds: usize,
        answered_in_last_seconds: usize,
    }

    /// A batch of `concurrency` workers paced by `pacer` against a key that answers `limit` a
    /// second, `rtt` away, for `seconds` of scripted time: every start takes its booked slot,
    /// every answer is fed back at the time it comes, in time order.
    ///
    /// With `heeds_refusals` false the refusals are not told to the pacer: a pacer that never
    /// slows down, which the bounds below must catch.
    fn run_against_limit(
        pacer: &Pacer,
        limit: usize,
        rtt: Duration,
        seconds: u64,
        heeds_refusals: bool,
    ) -> Run {
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(seconds);
        let mut key = KeyLimit { limit, answered: VecDeque::new() };
        // Answers on their way: (when, went through).
        let mut in_flight: Vec<(Instant, bool)> = Vec::new();
        let mut now = t0;
        let mut run = Run { refused: 0, refused_after_first_seconds: 0, answered_in_last_seconds: 0 };
        let concurrency = 32;
        while now < end {
            in_flight.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
            // A worker is free: it books its start now; answers that come before a start
            // is free are read first.
            if in_flight.len() >= concurrency {
                let (at, ok) = in_flight.pop().unwrap();
                now = now.max(at);
                feed(pacer, (at, ok), rtt, heeds_refusals, &mut run, (t0, end));
                continue;
            }
            let start = now + pacer.wait(now);
            while in_flight.last().is_some_and(|(at, _)| *at <= start) {
                let (at, ok) = in_flight.pop().unwrap();
                feed(pacer, (at, ok), rtt, heeds_refusals, &mut run, (t0, end));
            }
            now = start;
            in_flight.push((start + rtt, key.admits(start)));
        }
        run
    }

    fn feed(
        pacer: &Pacer,
        (at, ok): (Instant, bool),
        rtt: Duration,
        heeds_refusals: bool,
        run: &mut Run,
        (t0, end): (Instant, Instant),
    ) {
        if ok {
            pacer.succeeded(at, rtt);
            run.answered_in_last_seconds += usize::from(end.duration_since(at) < Duration::from_secs(5));
        } else {
            if heeds_refusals {
                pacer.rate_limited(at);
            }
            run.refused += 1;
            run.refused_after_first_seconds += usize::from(at.duration_since(t0) > Duration::from_secs(3));
        }
    }

    /// Whether a run kept to a key's limit: few refusals meeting it (the slow start's
    /// overshoot), under 1% of the answers after that, and at least 95% of the limit answered.
    fn keeps_to(run: &Run, limit: usize) -> bool {
        let answered_rate = run.answered_in_last_seconds as f64 / 5.0;
        run.refused <= limit / 2 + 5
            && (run.refused_after_first_seconds as f64) <= 0.01 * 17.0 * limit as f64
            && answered_rate >= 0.95 * limit as f64
    }

    /// The pace against a key's limit on a scripted clock, what only timing runs against a
    /// sandbox showed before: the slow start meets the limit with few refusals, the pace then
    /// holds just under it (measured: 37, 37, 13 and 86 refusals in 20 s, 99.2, 99.2, 20 and
    /// 398.6 answered a second). A pacer that never slows down fails the same bounds: its
    /// starts reach 32 per round trip.
    #[test]
    fn against_a_key_limit_it_settles_just_under_it() {
        for (limit, rtt) in [(100, ms(50)), (100, ms(150)), (20, ms(80)), (400, ms(30))] {
            let run = run_against_limit(&Pacer::new(None), limit, rtt, 20, true);
            assert!(keeps_to(&run, limit), "limit {limit}, rtt {rtt:?}: {run:?}");
            let deaf = run_against_limit(&Pacer::new(None), limit, rtt, 20, false);
            assert!(!keeps_to(&deaf, limit), "a pacer that never slows passes: {deaf:?}");
        }
    }

    /// With a cap under the limit, nothing is ever refused and the cap is kept.
    #[test]
    fn a_cap_under_the_limit_is_never_refused() {
        let run = run_against_limit(&Pacer::new(Some(50.0)), 100, ms(50), 10, true);
        assert_eq!(run.refused, 0, "{run:?}");
        assert!((run.answered_in_last_seconds as i64 - 250).abs() <= 2, "{run:?}");
    }
}
