//! Juhe as it is over a network: answers that take a while, and per-key and per-address
//! request caps. Both compose with the fault plan and the magic identities: a request over a
//! cap is refused before anything else looks at it, and the latency is added to whatever
//! delay a fault gives.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the sandbox does to look like Juhe across a network; nothing by default.
#[derive(Debug, Default)]
pub(crate) struct Network {
    pub(crate) latency: Option<Latency>,
    /// Requests per key and second: 10012 beyond.
    pub(crate) key_cap: Option<RateCap<String>>,
    /// Requests per client address and second: 10011 beyond.
    pub(crate) ip_cap: Option<RateCap<IpAddr>>,
}

/// Answer delays drawn uniformly from a range, from a seeded generator: the same seed gives
/// the same sequence of delays.
#[derive(Debug)]
pub(crate) struct Latency {
    range: RangeInclusive<Duration>,
    state: Mutex<u64>,
}

impl Latency {
    pub(crate) fn new(range: RangeInclusive<Duration>, seed: u64) -> Self {
        Self { range, state: Mutex::new(seed) }
    }

    /// The next delay.
    pub(crate) fn draw(&self) -> Duration {
        let (min, max) = (*self.range.start(), *self.range.end());
        if max <= min {
            return min;
        }
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let spread = (max - min).as_nanos() as u64;
        min + Duration::from_nanos(splitmix64(&mut state) % (spread + 1))
    }
}

/// SplitMix64: a small, well-mixed generator; plenty for delays.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// At most `per_second` requests let through in any one-second window, per key (or per
/// address). Refused requests do not count: like Juhe, the cap is on what is processed.
#[derive(Debug)]
pub(crate) struct RateCap<K> {
    per_second: usize,
    started: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: std::hash::Hash + Eq + Clone> RateCap<K> {
    pub(crate) fn new(per_second: u32) -> Self {
        Self { per_second: per_second as usize, started: Mutex::new(HashMap::new()) }
    }

    /// Whether a request of `key` starting `now` is let through (and is then counted).
    pub(crate) fn admit(&self, key: &K, now: Instant) -> bool {
        let mut started = self.started.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = started.entry(key.clone()).or_default();
        while window.front().is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1)) {
            window.pop_front();
        }
        if window.len() >= self.per_second {
            return false;
        }
        window.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_in_range_and_the_seed_repeats_them() {
        let range = Duration::from_millis(50)..=Duration::from_millis(150);
        let (a, b) = (Latency::new(range.clone(), 7), Latency::new(range.clone(), 7));
        let drawn: Vec<Duration> = (0..1000).map(|_| a.draw()).collect();
        assert!(drawn.iter().all(|d| range.contains(d)));
        assert_eq!(drawn, (0..1000).map(|_| b.draw()).collect::<Vec<_>>());
        let mean = drawn.iter().sum::<Duration>() / 1000;
        assert!(mean > Duration::from_millis(90) && mean < Duration::from_millis(110), "{mean:?}");
        assert_ne!(
            drawn[..10],
            (0..10).map(|_| Latency::new(range.clone(), 8).draw()).collect::<Vec<_>>()[..]
        );
    }

    #[test]
    fn no_one_second_window_holds_more_than_the_cap() {
        let cap = RateCap::new(3);
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let admitted: Vec<bool> = [0, 100, 200, 300, 999, 1000, 1100, 1150, 1200]
            .iter()
            .map(|&ms| cap.admit(&"k", at(ms)))
            .collect();
        assert_eq!(admitted, [true, true, true, false, false, true, true, false, true].to_vec());
        assert!(cap.admit(&"other key", at(300)), "caps are per key");
    }
}
