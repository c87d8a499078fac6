//! A requests-per-second cap, shared by the workers of one batch.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The smallest rate a batch paces at: one check an hour.
pub const MIN_RATE: f64 = 1.0 / 3600.0;

/// Hands out evenly spaced start times: at most `rate` a second, no bursts.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// `None` for a rate that is not a positive number. A rate below [`MIN_RATE`] is taken
    /// as `MIN_RATE`: a rate that small is a mistake, and its interval would not fit a
    /// `Duration`.
    pub(crate) fn new(rate_per_second: f64) -> Option<Self> {
        (rate_per_second.is_finite() && rate_per_second > 0.0).then(|| Self {
            interval: Duration::from_secs_f64(1.0 / rate_per_second.max(MIN_RATE)),
            next: Mutex::new(None),
        })
    }

    /// How long the caller must wait before its request may start.
    pub(crate) fn wait(&self) -> Duration {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_requests_evenly() {
        let pacer = Pacer::new(100.0).unwrap();
        assert_eq!(pacer.wait(), Duration::ZERO);
        let second = pacer.wait();
        assert!(second > Duration::from_millis(9) && second <= Duration::from_millis(10), "{second:?}");
        let third = pacer.wait();
        assert!(third > Duration::from_millis(19), "{third:?}");
        assert!(Pacer::new(0.0).is_none() && Pacer::new(f64::NAN).is_none());
        assert_eq!(Pacer::new(1e-300).unwrap().interval, Duration::from_secs(3600), "no overflow");
    }
}
