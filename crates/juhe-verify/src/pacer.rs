//! A batch's pace: evenly spaced starts under an optional cap, slowed down when Juhe says
//! the key or the IP is over its limit (10011, 10012, HTTP 429) and sped up again as checks
//! go through: additive increase, multiplicative decrease, as TCP does.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The smallest rate a batch paces at: one check an hour.
pub const MIN_RATE: f64 = 1.0 / 3600.0;

/// The slowest a rate limit makes a batch: one check a second (or the cap, if lower). Juhe's
/// limits are per second and per day; below this, slowing down no longer helps.
const FLOOR: f64 = 1.0;
/// How much each check that goes through adds to the rate, in checks per second.
const INCREASE: f64 = 0.05;
/// A rate limit halves the rate, at most once per this long (the answers of checks started
/// at the old rate are still coming in).
const CUT_EVERY: Duration = Duration::from_secs(1);

/// Hands out start times and adapts them to rate limits. Shared by the workers of one batch.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The user's cap, checks per second.
    ceiling: Option<f64>,
    /// The current rate; `None` while uncapped and never limited.
    rate: Option<f64>,
    next: Option<Instant>,
    last_cut: Option<Instant>,
    /// Starts of the last second, to know the pace when the first limit comes uncapped.
    recent: VecDeque<Instant>,
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
                rate: ceiling,
                next: None,
                last_cut: None,
                recent: VecDeque::new(),
            }),
        }
    }

    /// How long the caller must wait before its check may start.
    pub(crate) fn wait(&self) -> Duration {
        let now = Instant::now();
        let mut state = self.state();
        state.recent.push_back(now);
        while state.recent.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1)) {
            state.recent.pop_front();
        }
        let Some(rate) = state.rate else { return Duration::ZERO };
        let slot = state.next.map_or(now, |n| n.max(now));
        state.next = Some(slot + Duration::from_secs_f64(1.0 / rate));
        slot - now
    }

    /// Juhe said the rate is too high: halve it, once a second at most, not below one check a
    /// second.
    pub(crate) fn rate_limited(&self) {
        let now = Instant::now();
        let mut state = self.state();
        if state.last_cut.is_some_and(|t| now.duration_since(t) < CUT_EVERY) {
            return;
        }
        let current = state.rate.unwrap_or(state.recent.len().max(1) as f64);
        let floor = state.ceiling.map_or(FLOOR, |c| c.min(FLOOR));
        state.rate = Some((current / 2.0).max(floor));
        state.last_cut = Some(now);
    }

    /// A check went through: raise the rate a little, up to the cap.
    pub(crate) fn succeeded(&self) {
        let mut state = self.state();
        if let (Some(rate), true) = (state.rate, state.last_cut.is_some()) {
            let raised = rate + INCREASE;
            state.rate = Some(state.ceiling.map_or(raised, |c| raised.min(c)));
        }
    }

    /// The current rate; `None` when uncapped.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.state().rate
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn rate_limits_halve_the_rate_and_successes_win_it_back_to_the_cap() {
        let pacer = Pacer::new(Some(40.0));
        pacer.rate_limited();
        assert_eq!(pacer.rate(), Some(20.0));
        pacer.rate_limited();
        assert_eq!(pacer.rate(), Some(20.0), "once a second at most");
        for _ in 0..100 {
            pacer.succeeded();
        }
        assert!((pacer.rate().unwrap() - 25.0).abs() < 1e-9, "{:?}", pacer.rate());
        for _ in 0..1000 {
            pacer.succeeded();
        }
        assert_eq!(pacer.rate(), Some(40.0), "never above the cap");
    }

    #[test]
    fn an_uncapped_batch_is_capped_at_half_its_pace_when_first_limited() {
        let pacer = Pacer::new(None);
        for _ in 0..30 {
            assert_eq!(pacer.wait(), Duration::ZERO);
        }
        pacer.rate_limited();
        assert_eq!(pacer.rate(), Some(15.0));
        let slow = Pacer::new(Some(0.5));
        slow.rate_limited();
        assert_eq!(slow.rate(), Some(0.5), "never below the floor, nor above the cap");
        let limited = Pacer::new(Some(3.0));
        limited.rate_limited();
        assert_eq!(limited.rate(), Some(1.5));
    }
}
