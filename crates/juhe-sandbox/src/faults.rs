//! Fault injection: what goes wrong, on which endpoint, how often.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use juhe_proto::Endpoint;

/// Something that goes wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// The check is processed (and billed, if it succeeds), then the answer waits this long:
    /// a client that times out meanwhile has still paid.
    Latency(Duration),
    /// A gateway error with this HTTP status and a non-JSON body; the check is not processed.
    HttpStatus(u16),
    /// Juhe answers with this `error_code` instead of processing the check (10011 and 10012
    /// rate limits, 10020 maintenance, 10014 internal error, …). Not billed.
    ErrorCode(i64),
    /// The check is processed and billed, but the body is cut JSON with a correct length.
    MalformedBody,
    /// The check is processed and billed, then the connection closes half-way through the
    /// body it announced.
    TruncatedBody,
    /// The check is processed and billed, then the connection closes with no answer at all.
    CloseConnection,
}

impl FaultKind {
    /// Whether the check is processed before the fault strikes (so a success is billed).
    pub fn processes_check(&self) -> bool {
        !matches!(self, FaultKind::HttpStatus(_) | FaultKind::ErrorCode(_))
    }
}

/// A fault on some requests: every endpoint or one, at a rate from 0 (never) to 1 (always).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// The endpoint it strikes, or every endpoint.
    pub endpoint: Option<Endpoint>,
    /// The share of requests it strikes.
    pub rate: f64,
}

impl Fault {
    /// A fault on every request to every endpoint.
    pub fn always(kind: FaultKind) -> Self {
        Self { kind, endpoint: None, rate: 1.0 }
    }

    /// Limits the fault to one endpoint.
    pub fn on(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Strikes only this share of requests (clamped to 0..=1). Which requests is decided by a
    /// fixed sequence, so a run is reproducible.
    pub fn at_rate(mut self, rate: f64) -> Self {
        self.rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        self
    }
}

/// The faults in force, and the counter that makes rates reproducible.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    faults: std::sync::RwLock<Vec<Fault>>,
    draws: AtomicU64,
}

impl FaultPlan {
    pub(crate) fn new(faults: Vec<Fault>) -> Self {
        Self { faults: std::sync::RwLock::new(faults), draws: AtomicU64::new(0) }
    }

    pub(crate) fn replace(&self, faults: Vec<Fault>) {
        if let Ok(mut current) = self.faults.write() {
            *current = faults;
        }
    }

    /// The first fault that strikes this request to `endpoint`, if any.
    pub(crate) fn draw(&self, endpoint: Endpoint) -> Option<FaultKind> {
        let faults = self.faults.read().ok()?;
        faults.iter().filter(|f| f.endpoint.is_none_or(|e| e == endpoint)).find_map(|fault| {
            let n = self.draws.fetch_add(1, Ordering::Relaxed);
            (unit_interval(n) < fault.rate).then_some(fault.kind)
        })
    }
}

/// The `n`th number of a fixed sequence spread evenly over [0, 1).
fn unit_interval(n: u64) -> f64 {
    let mut z = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_roughly_kept() {
        let plan = FaultPlan::new(vec![Fault::always(FaultKind::HttpStatus(500)).at_rate(0.3)]);
        let hits = (0..10_000).filter(|_| plan.draw(Endpoint::IdCardQuery).is_some()).count();
        assert!((2700..3300).contains(&hits), "{hits}");
    }

    #[test]
    fn faults_strike_only_their_endpoint() {
        let plan = FaultPlan::new(vec![Fault::always(FaultKind::MalformedBody).on(Endpoint::FaceQuery)]);
        assert_eq!(plan.draw(Endpoint::IdCardQuery), None);
        assert_eq!(plan.draw(Endpoint::FaceQuery), Some(FaultKind::MalformedBody));
        plan.replace(vec![]);
        assert_eq!(plan.draw(Endpoint::FaceQuery), None);
    }
}
