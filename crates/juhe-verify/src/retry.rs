//! When to try again, and when never to.

use std::time::Duration;

use juhe_proto::RetryClass;

use crate::{Error, ErrorKind};

/// How failed checks are retried.
///
/// The default retries only what cannot have been billed: a connection that failed before
/// the request was sent, and answers whose code says the check was not processed (provider
/// network errors such as 233901, 232905, 210305; rate limits 10011/10012, with a longer
/// backoff). A request that may have been sent and got no answer (a timeout) is **not**
/// retried: Juhe may have billed it. [`RetryPolicy::resend_maybe_billed`] opts in. Which is
/// which is [`Error::resend`], the rule every part of the crate applies. At most 3 attempts,
/// exponential backoff with jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    rate_limit_delay: Duration,
    resend_maybe_billed: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            rate_limit_delay: Duration::from_secs(1),
            resend_maybe_billed: false,
        }
    }
}

impl RetryPolicy {
    /// The longest one check can take under this policy when each attempt may take
    /// `per_attempt`: every attempt and the longest wait between them. A ledger waits no
    /// longer than this for the same check elsewhere.
    pub fn longest_check(&self, per_attempt: Duration) -> Duration {
        // Each wait is capped at the larger of `max_delay` and its class's base.
        let waits = self.max_delay.max(self.rate_limit_delay).max(self.base_delay);
        per_attempt
            .saturating_mul(self.max_attempts)
            .saturating_add(waits.saturating_mul(self.max_attempts - 1))
    }

    /// One attempt, no retries.
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// At most `attempts` attempts in all (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first retry waits about `base`, doubling each time, never more than `max`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// The first wait after a rate limit (10011, 10012, HTTP 429), doubling each time.
    pub fn rate_limit_backoff(mut self, base: Duration) -> Self {
        self.rate_limit_delay = base;
        self
    }

    /// Also retries requests that may have been sent and got no answer (timeouts, resets,
    /// gateway errors): [`Resend::RisksPayingTwice`](crate::Resend::RisksPayingTwice). **Each such retry may be billed
    /// again**: use it only where a double charge costs less than a failed check. The same
    /// opt-in as [`ClientBuilder::resend_maybe_billed`](crate::ClientBuilder::resend_maybe_billed),
    /// which sets this too.
    pub fn resend_maybe_billed(mut self) -> Self {
        self.resend_maybe_billed = true;
        self
    }

    /// The largest number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How long to wait before another attempt after `attempts_made` attempts ended in
    /// `error`; `None` to give up. `jitter` in `[0, 1)` spreads clients apart.
    pub fn delay_before_retry(&self, attempts_made: u32, error: &Error, jitter: f64) -> Option<Duration> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        let base = match self.class(error)? {
            RetryClass::Transient => self.base_delay,
            RetryClass::RateLimited => self.rate_limit_delay,
            RetryClass::Permanent => return None,
        };
        let exponential = base.saturating_mul(1 << attempts_made.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_delay.max(base));
        // Equal jitter: half fixed, half random.
        Some(capped / 2 + capped.mul_f64(jitter.clamp(0.0, 1.0) / 2.0))
    }

    /// What retrying `error` can do, under this policy; `None` when it must not be retried:
    /// [`Error::resend`] decides, with this policy's opt-in. A skipped check or a ledger's
    /// refusal is never retried within one call: nothing about it changes in a second.
    fn class(&self, error: &Error) -> Option<RetryClass> {
        if matches!(error.kind(), ErrorKind::Skipped | ErrorKind::Ledger) {
            return None;
        }
        if !error.resend().allows(self.resend_maybe_billed) {
            return None;
        }
        Some(if error.is_rate_limited() { RetryClass::RateLimited } else { RetryClass::Transient })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Attempted;
    use juhe_proto::{AnswerError, ErrorCode, ServiceError};
    use juhe_transport::{Delivery, TransportError, TransportErrorKind};

    fn service(code: i64) -> Error {
        Error::Service(Attempted::new(
            ServiceError { code: ErrorCode::new(code), reason: String::new(), order_id: None },
            1,
        ))
    }

    fn transport(delivery: Delivery) -> Error {
        Error::from(TransportError::new(TransportErrorKind::Timeout, delivery, "x"))
    }

    #[test]
    fn by_default_only_what_cannot_be_billed_is_retried() {
        let policy = RetryPolicy::default();
        assert!(policy.delay_before_retry(1, &transport(Delivery::NotSent), 0.5).is_some());
        assert!(policy.delay_before_retry(1, &transport(Delivery::MaybeSent), 0.5).is_none());
        assert!(policy.delay_before_retry(1, &service(233901), 0.5).is_some());
        assert!(policy.delay_before_retry(1, &service(233903), 0.5).is_none());
        assert!(policy.delay_before_retry(1, &service(299999), 0.5).is_none());
        let gateway = Error::Protocol(Attempted::new(AnswerError::HttpStatus { status: 502 }, 1));
        assert!(policy.delay_before_retry(1, &gateway, 0.5).is_none());
        let busy = Error::Protocol(Attempted::new(AnswerError::HttpStatus { status: 503 }, 1));
        assert!(policy.delay_before_retry(1, &busy, 0.5).is_some());
        let malformed = Error::Protocol(Attempted::new(
            AnswerError::Malformed { detail: String::new(), may_be_billed: true },
            1,
        ));
        assert!(policy.resend_maybe_billed().delay_before_retry(1, &malformed, 0.5).is_none());
    }

    #[test]
    fn opting_in_retries_timeouts() {
        let policy = RetryPolicy::default().resend_maybe_billed();
        assert!(policy.delay_before_retry(1, &transport(Delivery::MaybeSent), 0.5).is_some());
    }

    #[test]
    fn attempts_are_bounded_and_backoff_grows_with_jitter() {
        let policy = RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_secs(1));
        let error = transport(Delivery::NotSent);
        assert_eq!(policy.delay_before_retry(1, &error, 0.0), Some(Duration::from_millis(50)));
        assert_eq!(policy.delay_before_retry(1, &error, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(policy.delay_before_retry(2, &error, 1.0), Some(Duration::from_millis(200)));
        assert_eq!(policy.delay_before_retry(3, &error, 1.0), None);
        let long = RetryPolicy::default()
            .max_attempts(20)
            .backoff(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(long.delay_before_retry(10, &error, 1.0), Some(Duration::from_secs(1)));
        assert_eq!(RetryPolicy::never().delay_before_retry(1, &error, 0.5), None);
    }

    #[test]
    fn rate_limits_back_off_longer() {
        let policy = RetryPolicy::default();
        let limited = policy.delay_before_retry(1, &service(10012), 1.0).unwrap();
        let transient = policy.delay_before_retry(1, &service(233901), 1.0).unwrap();
        assert!(limited > transient);
    }
}
