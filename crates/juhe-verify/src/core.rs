//! The one protocol path both clients run: encode, interpret the answer, decide on retries.
//! The clients differ only in how they send and how they wait.

use std::time::Duration;

use juhe_proto::{Check, EncodedRequest, Endpoint, Mode, Outcome, Protocol};
use juhe_transport::{HttpResponse, TransportError};
use rand_core::{OsRng, RngCore};

use crate::{Error, RetryPolicy};

/// Configuration shared by a client and its clones.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) protocol: Protocol,
    pub(crate) mode: Mode,
    pub(crate) retry: RetryPolicy,
}

impl Core {
    /// The endpoint and request for `check`. Fails before anything is sent.
    pub(crate) fn encode<C: Check>(&self, check: &C, mode: Mode) -> Result<EncodedRequest, Error> {
        self.protocol.encode(check, mode, &mut OsRng).map_err(Error::from_proto)
    }

    /// What one attempt came to.
    pub(crate) fn interpret<C: Check>(
        &self,
        sent: Result<HttpResponse, TransportError>,
    ) -> Result<C::Outcome, Error> {
        let response = sent.map_err(Error::from_transport)?;
        tracing::trace!(
            status = response.status().as_u16(),
            bytes = response.body().len(),
            "answer received"
        );
        self.protocol.decode::<C>(&response).map_err(Error::from_proto)
    }

    /// Whether to try again after `attempts_made` attempts, and after how long.
    pub(crate) fn retry_delay(&self, attempts_made: u32, error: &Error) -> Option<Duration> {
        let jitter = f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
        let delay = self.retry.delay_before_retry(attempts_made, error, jitter);
        match delay {
            Some(delay) => {
                tracing::warn!(attempt = attempts_made, error = %error, retry_in_ms = delay.as_millis() as u64, "retrying")
            }
            None => {
                tracing::debug!(attempt = attempts_made, error = %error, billed_maybe = error.may_be_billed(), "giving up")
            }
        }
        delay
    }

    /// The span of one check. The check's `Debug` is masked.
    pub(crate) fn span<C: Check>(check: &C, endpoint: Endpoint) -> tracing::Span {
        let info = endpoint.info();
        tracing::info_span!("juhe.check", product = %info.product, api = info.api, mode = %info.mode, check = ?check)
    }

    /// Logs a finished check.
    pub(crate) fn record<O: Outcome>(result: &Result<O, Error>) {
        match result {
            Ok(outcome) => {
                tracing::info!(verdict = ?outcome.verdict(), order_id = outcome.order_id(), billed = true, "checked")
            }
            Err(error) => {
                tracing::info!(error = %error, billed_maybe = error.may_be_billed(), "check failed")
            }
        }
    }
}
