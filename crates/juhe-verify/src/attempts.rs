//! The one decision both clients run: build the request, read each answer, decide whether to
//! try again. [`Attempts::next`] is pure but for its jitter and its logs; a client's loop
//! only sends, sleeps and repeats (as oauth2's device-code flow shares one
//! `process_response` between its sync and async polling loops).

use std::marker::PhantomData;
use std::time::Duration;

use juhe_proto::{Check, HttpRequest, Mode, Outcome, Protocol};
use juhe_transport::{HttpResponse, TransportError};
use rand_core::{OsRng, RngCore};

use crate::{Error, RetryPolicy};

/// What a client is configured with; shared by the client and its clones.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) protocol: Protocol,
    pub(crate) mode: Mode,
    pub(crate) retry: RetryPolicy,
}

/// What the loop does next.
#[derive(Debug)]
pub(crate) enum Step<O> {
    /// The check is over.
    Done(Result<O, Error>),
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
}

/// One check's attempts: the request, and how many times it has been sent.
pub(crate) struct Attempts<'c, C> {
    core: &'c Core,
    request: HttpRequest,
    made: u32,
    span: tracing::Span,
    check: PhantomData<fn() -> C>,
}

impl Core {
    /// Validates the mode and credentials and builds the request for `check`. Nothing is
    /// sent; an error here was never sent.
    pub(crate) fn start<C: Check>(&self, check: &C, mode: Mode) -> Result<Attempts<'_, C>, Error> {
        let encoded = self.protocol.encode(check, mode, &mut OsRng)?;
        let info = encoded.endpoint.info();
        // The check's `Debug` is masked.
        let span = tracing::info_span!(
            "juhe.check", product = %info.product, api = info.api, mode = %info.mode, check = ?check
        );
        Ok(Attempts { core: self, request: encoded.request, made: 0, span, check: PhantomData })
    }
}

impl<C: Check> Attempts<'_, C> {
    /// The request to send for the next attempt.
    pub(crate) fn request(&self) -> HttpRequest {
        self.request.clone()
    }

    /// The span of the whole check.
    pub(crate) fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// The span of the attempt about to be made.
    pub(crate) fn attempt_span(&self) -> tracing::Span {
        tracing::debug_span!(parent: &self.span, "juhe.attempt", attempt = self.made + 1)
    }

    /// What the last attempt came to, and what to do about it.
    pub(crate) fn next(&mut self, sent: Result<HttpResponse, TransportError>) -> Step<C::Outcome> {
        self.made += 1;
        let _in_check = self.span.enter();
        let result = sent.map_err(Error::from).and_then(|response| {
            tracing::trace!(
                status = response.status().as_u16(),
                bytes = response.body().len(),
                "answer received"
            );
            self.core.protocol.decode::<C>(&response).map_err(Error::from)
        });
        let error = match result {
            Ok(outcome) => return Step::Done(Ok(logged(outcome))),
            Err(error) => error,
        };
        let jitter = f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
        match self.core.retry.delay_before_retry(self.made, &error, jitter) {
            Some(delay) => {
                tracing::warn!(attempt = self.made, error = %error, retry_in_ms = delay.as_millis() as u64, "retrying");
                Step::RetryAfter(delay)
            }
            None => {
                tracing::info!(attempt = self.made, error = %error, billed_maybe = error.may_be_billed(), "check failed");
                Step::Done(Err(error))
            }
        }
    }
}

fn logged<O: Outcome>(outcome: O) -> O {
    tracing::info!(verdict = ?outcome.verdict(), order_id = outcome.order_id(), billed = true, "checked");
    outcome
}
