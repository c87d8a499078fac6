//! Where a check's attempts take their starts: anywhere (a single check without a ledger), in
//! its batch's pace, or, for a single check with a ledger, in the key's pace that the ledger
//! keeps for every process on it (live checks before batches).
//!
//! One set of rules for both clients: each step has an async form (ledger calls on tokio's
//! blocking threads, sleeps on the runtime) and a blocking one.

#[cfg(feature = "ledger")]
use std::sync::Arc;
use std::time::Duration;

use crate::Error;
use crate::batch::Pace;
#[cfg(feature = "ledger")]
use crate::journal::{Journal, KeyStart, off_runtime};

/// How long a check waiting for its start sleeps at most before it looks whether it should
/// still start (its batch stopped, its caller gone).
pub(crate) const STOP_LOOK: Duration = Duration::from_millis(20);

/// The key's pace in a client's ledger, if it has one (never without the `ledger` feature).
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyPace {
    #[cfg(feature = "ledger")]
    pub(crate) journal: Option<Arc<Journal>>,
}

/// Where one check's attempts take their starts.
#[derive(Clone, Copy)]
pub(crate) enum Starts<'a> {
    /// Anywhere: a single check without a ledger.
    Free,
    /// In its batch's pace.
    Batch(&'a Pace),
    /// A single check with a ledger, in the key's pace.
    #[cfg(feature = "ledger")]
    Live(&'a Arc<Journal>),
}

impl Starts<'_> {
    /// Juhe refused an attempt for the rate: the pace learns it.
    pub(crate) async fn refused(self) {
        match self {
            Starts::Free => {}
            Starts::Batch(pace) => pace.refused().await,
            #[cfg(feature = "ledger")]
            Starts::Live(journal) => {
                let asker = Arc::clone(journal);
                let _ = off_runtime(journal, move || {
                    asker.rate_limited(None);
                    Ok(())
                })
                .await;
            }
        }
    }

    /// [`refused`](Self::refused), on this thread.
    pub(crate) fn refused_blocking(self) {
        match self {
            Starts::Free => {}
            Starts::Batch(pace) => pace.refused_blocking(),
            #[cfg(feature = "ledger")]
            Starts::Live(journal) => journal.rate_limited(None),
        }
    }

    /// A retry's start, once its backoff is over (a key's window stays full for up to a
    /// second): it takes its place in the pace then. Booked before the backoff, its place
    /// would go unused and the retry come on top of later ones. A retry was sent once already:
    /// it waits for its start whatever the bound of a first attempt.
    ///
    /// A ledger that fails to book it costs pace, not money: the retry goes unpaced (logged).
    /// Failing the check here would record it by the ledger's error, as not sent, when its
    /// earlier attempts were sent (and, with `resend_maybe_billed`, maybe billed).
    pub(crate) async fn retry(self) {
        let booked = match self {
            Starts::Free => Ok(()),
            Starts::Batch(pace) => pace.retry().await,
            #[cfg(feature = "ledger")]
            Starts::Live(journal) => {
                let request = juhe_ledger::StartRequest::live(Duration::MAX);
                key_start(journal, request, &|| false, &|_| {}).await.map(drop)
            }
        };
        unpaced_retry(booked);
    }

    /// [`retry`](Self::retry), on this thread.
    pub(crate) fn retry_blocking(self) {
        let booked = match self {
            Starts::Free => Ok(()),
            Starts::Batch(pace) => pace.retry_blocking(),
            #[cfg(feature = "ledger")]
            Starts::Live(journal) => key_start_blocking(
                journal,
                juhe_ledger::StartRequest::live(Duration::MAX),
                &std::thread::sleep,
                &|| false,
            )
            .map(drop),
        };
        unpaced_retry(booked);
    }

    /// The check ended after `round_trip`: its batch's pace learns how (a single check's
    /// refusals were reported as they came).
    pub(crate) async fn answered<O>(self, result: &Result<O, Error>, round_trip: Duration) {
        if let Starts::Batch(pace) = self {
            match result {
                Ok(_) => pace.went_through(round_trip),
                Err(error) if error.is_rate_limited() => pace.refused().await,
                Err(_) => {}
            }
        }
    }

    /// [`answered`](Self::answered), on this thread.
    pub(crate) fn answered_blocking<O>(self, result: &Result<O, Error>, round_trip: Duration) {
        if let Starts::Batch(pace) = self {
            match result {
                Ok(_) => pace.went_through(round_trip),
                Err(error) if error.is_rate_limited() => pace.refused_blocking(),
                Err(_) => {}
            }
        }
    }
}

/// How a wait for a start in the key's pace ended.
#[cfg(feature = "ledger")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Began {
    /// At its booked start.
    Booked,
    /// At once: the key is not paced.
    Unpaced,
    /// Not at all: told to stop first (nothing booked that will be used).
    Stopped,
}

/// Waits for a start booked in the key's pace for `request`, asking again while the ledger
/// says so (a batch's check, until a start is near); `pausing` hears of each pause first.
/// `Err(KeyBusy)`: a single check's bound passed, nothing booked.
#[cfg(feature = "ledger")]
pub(crate) async fn key_start(
    journal: &Arc<Journal>,
    request: juhe_ledger::StartRequest,
    stopped: &(dyn Fn() -> bool + Sync),
    pausing: &(dyn Fn(Duration) + Sync),
) -> Result<Began, Error> {
    loop {
        if stopped() {
            return Ok(Began::Stopped);
        }
        let asker = Arc::clone(journal);
        let (pause, began) =
            booked(journal, off_runtime(journal, move || asker.take_start(&request)).await?)?;
        pausing(pause);
        if !sleep_unless(pause, stopped).await {
            return Ok(Began::Stopped);
        }
        if let Some(began) = began {
            return Ok(began);
        }
    }
}

/// [`key_start`] on this thread; `sleep` sleeps, waking early when `stopped` would say so.
#[cfg(feature = "ledger")]
pub(crate) fn key_start_blocking(
    journal: &Arc<Journal>,
    request: juhe_ledger::StartRequest,
    sleep: &dyn Fn(Duration),
    stopped: &dyn Fn() -> bool,
) -> Result<Began, Error> {
    loop {
        if stopped() {
            return Ok(Began::Stopped);
        }
        let (pause, began) = booked(journal, journal.take_start(&request)?)?;
        if !pause.is_zero() {
            sleep(pause);
        }
        if stopped() {
            return Ok(Began::Stopped);
        }
        if let Some(began) = began {
            return Ok(began);
        }
    }
}

/// The pause before a start, and how it begins then (`None`: ask again); a single check's
/// bound passed is its error.
#[cfg(feature = "ledger")]
fn booked(journal: &Journal, start: KeyStart) -> Result<(Duration, Option<Began>), Error> {
    match start {
        KeyStart::After(pause) => Ok((pause, Some(Began::Booked))),
        KeyStart::AskAgainAfter(pause) => Ok((pause, None)),
        KeyStart::Full => Err(Error::Skipped(crate::Skipped::KeyBusy { within: journal.live_start_within })),
        KeyStart::Unpaced => Ok((Duration::ZERO, Some(Began::Unpaced))),
    }
}

/// A retry whose start could not be booked goes anyway: logged.
fn unpaced_retry(booked: Result<(), Error>) {
    if let Err(error) = booked {
        tracing::warn!(error = %error, "a retry's start could not be booked in the key's pace: it is sent unpaced");
    }
}

/// Sleeps `pause` on the runtime, looking every [`STOP_LOOK`] whether `stopped`; whether it
/// slept it all.
pub(crate) async fn sleep_unless(pause: Duration, stopped: &(dyn Fn() -> bool + Sync)) -> bool {
    let until = std::time::Instant::now() + pause;
    loop {
        if stopped() {
            return false;
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(STOP_LOOK)).await;
    }
}
