//! The one decision both clients run: build the request, read each answer, decide whether to
//! try again. [`Attempts::next`] is pure but for its logs (the time and the jitter are its
//! arguments); the driver only sends, sleeps and repeats (as oauth2's device-code flow shares one
//! `process_response` between its sync and async polling loops).

use std::time::{Duration, Instant};

use juhe_proto::{Check, HttpRequest, Mode, Outcome, OutcomeReader, Product, Protocol, Provenance};
use juhe_transport::{HttpResponse, TransportError};

use crate::{Error, RetryPolicy};

/// What a client is configured with; shared by the client and its clones.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub(crate) protocol: Protocol,
    pub(crate) mode: Mode,
    pub(crate) retry: RetryPolicy,
    /// The ledger every check is recorded in, if any.
    #[cfg(feature = "ledger")]
    pub(crate) journal: Option<std::sync::Arc<crate::journal::Journal>>,
}

/// What the loop does next.
#[derive(Debug)]
pub(crate) enum Step<O> {
    /// The check is over.
    Done(Result<O, Error>),
    /// Wait `delay`, then send the same request again; `rate_limited` when Juhe said the
    /// key or the IP is over its limit (a batch slows down).
    RetryAfter { delay: Duration, rate_limited: bool },
}

/// One check's attempts: the request, and how many times it has been sent. It owns what it
/// needs, so a check can finish on a task of its own once its caller stops waiting.
pub(crate) struct Attempts<C: Check> {
    core: std::sync::Arc<Core>,
    request: HttpRequest,
    made: u32,
    /// When the last attempt was handed to the transport, and how long its answer took.
    sent_at: Option<Instant>,
    round_trip: Duration,
    span: tracing::Span,
    /// Reads a billed answer: all this keeps of the check besides the request.
    read: OutcomeReader<C::Outcome>,
    product: Product,
}

impl Core {
    /// Validates the mode and credentials and builds the request for `check`. Nothing is
    /// sent; an error here was never sent.
    pub(crate) fn start<C: Check>(
        self: &std::sync::Arc<Self>,
        check: &C,
        mode: Mode,
    ) -> Result<Attempts<C>, Error> {
        let encoded = self.protocol.encode(check, mode)?;
        let info = encoded.endpoint.info();
        // The check's `Debug` is masked.
        let span = tracing::info_span!(
            "juhe.check", product = %info.product, api = info.api, mode = %info.mode, check = ?check
        );
        Ok(Attempts {
            core: std::sync::Arc::clone(self),
            request: encoded.request,
            made: 0,
            sent_at: None,
            round_trip: Duration::ZERO,
            span,
            read: check.outcome_reader(),
            product: check.product(),
        })
    }
}

impl<C: Check> Attempts<C> {
    /// The request to send for the next attempt, which starts at `now`.
    pub(crate) fn request(&mut self, now: Instant) -> HttpRequest {
        self.sent_at = Some(now);
        self.request.clone()
    }

    /// How long the last attempt took, from its start to its answer (or failure).
    pub(crate) fn round_trip(&self) -> Duration {
        self.round_trip
    }

    /// How many times the request has been sent.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    pub(crate) fn made(&self) -> u32 {
        self.made
    }

    /// How a billed answer to this check is read.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    pub(crate) fn reader(&self) -> OutcomeReader<C::Outcome> {
        self.read
    }

    /// The product checked.
    #[cfg_attr(not(feature = "ledger"), allow(dead_code))]
    pub(crate) fn product(&self) -> Product {
        self.product
    }

    /// The span of the whole check.
    pub(crate) fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// The span of the attempt about to be made.
    pub(crate) fn attempt_span(&self) -> tracing::Span {
        tracing::debug_span!(parent: &self.span, "juhe.attempt", attempt = self.made + 1)
    }

    /// What the last attempt came to, its answer (or failure) in at `now`, and what to do
    /// about it; `jitter` (a number in [0, 1], drawn only for a retry) spreads a backoff.
    pub(crate) fn next(
        &mut self,
        sent: Result<HttpResponse, TransportError>,
        now: Instant,
        jitter: impl FnOnce() -> f64,
    ) -> Step<C::Outcome> {
        self.made += 1;
        self.round_trip = self.sent_at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let _in_check = self.span.enter();
        let result = sent.map_err(Error::from).and_then(|response| {
            tracing::trace!(
                status = response.status().as_u16(),
                bytes = response.body().len(),
                "answer received"
            );
            juhe_proto::decode_as(self.read, &response).map_err(Error::from)
        });
        let error = match result {
            Ok(outcome) => {
                return Step::Done(Ok(logged(
                    outcome.with_provenance(Provenance::Answered { attempts: self.made }),
                )));
            }
            Err(error) => error,
        };
        match self.core.retry.delay_before_retry(self.made, &error, jitter()) {
            Some(delay) => {
                tracing::warn!(attempt = self.made, error = %error, retry_in_ms = delay.as_millis() as u64, "retrying");
                Step::RetryAfter { delay, rate_limited: error.is_rate_limited() }
            }
            None => {
                tracing::info!(attempt = self.made, error = %error, billed_maybe = error.may_be_billed(), "check failed");
                Step::Done(Err(error.after_attempts(self.made)))
            }
        }
    }
}

fn logged<O: Outcome>(outcome: O) -> O {
    tracing::info!(verdict = ?outcome.verdict(), order_id = outcome.order_id(), billed = true, "checked");
    outcome
}

#[cfg(test)]
mod tests {
    use juhe_proto::{Credentials, Telecom3Check};
    use juhe_transport::{Delivery, TransportErrorKind};

    use super::*;
    use crate::ConfigError;

    fn core() -> std::sync::Arc<Core> {
        let protocol = Protocol::new(Credentials::new("k").unwrap());
        let retry = RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(10));
        std::sync::Arc::new(Core {
            protocol,
            mode: Mode::Plain,
            retry,
            #[cfg(feature = "ledger")]
            journal: None,
        })
    }

    fn answer(body: &str) -> Result<HttpResponse, TransportError> {
        Ok(http::Response::new(body.as_bytes().to_vec()))
    }

    fn refused() -> Result<HttpResponse, TransportError> {
        Err(TransportError::new(TransportErrorKind::Connect, Delivery::NotSent, "refused"))
    }

    /// The decision alone, with no transport: what cannot have been billed is retried until
    /// the attempts run out; a billed answer ends the check; a timeout after sending is not
    /// retried.
    #[test]
    fn each_answer_decides_the_next_step() {
        let core = core();
        let check = Telecom3Check::new("张三", "11010519491231002X", "13912345678").unwrap();
        let mut attempts = core.start(&check, Mode::Plain).unwrap();
        assert!(matches!(
            attempts.next(refused(), Instant::now(), || 0.5),
            Step::RetryAfter { rate_limited: false, .. }
        ));
        let rate_limited = answer(r#"{"error_code":10012,"reason":"limit","result":null}"#);
        assert!(matches!(
            attempts.next(rate_limited, Instant::now(), || 0.5),
            Step::RetryAfter { rate_limited: true, .. }
        ));
        assert!(
            matches!(attempts.next(refused(), Instant::now(), || 0.5), Step::Done(Err(Error::NotSent(_)))),
            "3 attempts at most"
        );

        let mut attempts = core.start(&check, Mode::Plain).unwrap();
        let billed = answer(r#"{"error_code":0,"reason":"ok","result":{"res":"1","rescode":"11"}}"#);
        assert!(matches!(attempts.next(billed, Instant::now(), || 0.5), Step::Done(Ok(_))));

        let mut attempts = core.start(&check, Mode::Plain).unwrap();
        let timeout = Err(TransportError::new(TransportErrorKind::Timeout, Delivery::MaybeSent, "slow"));
        assert!(matches!(
            attempts.next(timeout, Instant::now(), || 0.5),
            Step::Done(Err(Error::NoAnswer(_)))
        ));
    }

    #[test]
    fn a_mode_without_its_credential_is_refused_before_any_attempt() {
        let check = Telecom3Check::new("张三", "11010519491231002X", "13912345678").unwrap();
        assert!(matches!(
            core().start(&check, Mode::Aes),
            Err(Error::Config(ConfigError::MissingCredential(_)))
        ));
    }
}
