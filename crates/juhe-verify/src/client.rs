//! The async client.

use std::sync::Arc;

use juhe_proto::{
    Check, FaceCheck, FaceOutcome, IdCardCheck, IdCardOutcome, Mode, Telecom2Check, Telecom2Outcome,
    Telecom3Check, Telecom3Outcome,
};
use juhe_transport::AsyncTransport;
use tracing::Instrument;

use crate::attempts::{Core, Step, paced};
#[cfg(feature = "ledger")]
use crate::journal::{Admitted, Gate, settlement};
use crate::pacer::Pacer;
use crate::{ClientBuilder, Error};

/// The async client: one method per product, validation before sending, retries that never
/// pay twice unless told to. Cheap to clone; clones share the connection pool.
///
/// ```no_run
/// # async fn run() -> Result<(), juhe_verify::Error> {
/// use juhe_verify::{Client, IdCardCheck, Verdict};
///
/// let client = Client::from_env()?; // JUHE_KEY, JUHE_OPENID, JUHE_RSA_PUBLIC_KEY, JUHE_BASE_URL
/// let outcome = client.idcard(&IdCardCheck::new("张三", "11010519491231002X")?).await?;
/// if outcome.verdict == Verdict::Match {
///     println!("verified, order {:?}", outcome.order_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    core: Arc<Core>,
    transport: Arc<dyn AsyncTransport>,
}

impl Client {
    /// Settings to build a client from: credentials, mode, timeouts, retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from `JUHE_KEY`, `JUHE_OPENID`, `JUHE_RSA_PUBLIC_KEY` and
    /// `JUHE_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_env().build()
    }

    pub(crate) fn new(core: Arc<Core>, transport: Arc<dyn AsyncTransport>) -> Self {
        Self { core, transport }
    }

    /// The default mode of its checks.
    pub(crate) fn mode(&self) -> Mode {
        self.core.mode
    }

    /// ID card number + name, in the client's mode.
    pub async fn idcard(&self, check: &IdCardCheck) -> Result<IdCardOutcome, Error> {
        self.verify(check).await
    }

    /// Mobile + ID card number, in the client's mode.
    pub async fn telecom2(&self, check: &Telecom2Check) -> Result<Telecom2Outcome, Error> {
        self.verify(check).await
    }

    /// Mobile + name + ID card number, in the client's mode.
    pub async fn telecom3(&self, check: &Telecom3Check) -> Result<Telecom3Outcome, Error> {
        self.verify(check).await
    }

    /// Face photo + mobile + name + ID card number (plain mode: the only one Juhe offers).
    pub async fn face(&self, check: &FaceCheck) -> Result<FaceOutcome, Error> {
        self.verify_in(Mode::Plain, check).await
    }

    /// Any check, in the client's mode.
    pub async fn verify<C: Check>(&self, check: &C) -> Result<C::Outcome, Error> {
        self.verify_in(self.core.mode, check).await
    }

    /// Any check, in `mode`.
    pub async fn verify_in<C: Check>(&self, mode: Mode, check: &C) -> Result<C::Outcome, Error> {
        self.verify_paced(mode, check, None).await
    }

    /// A check of a batch: rate limits met on the way slow `pacer` down.
    pub(crate) async fn verify_paced<C: Check>(
        &self,
        mode: Mode,
        check: &C,
        pacer: Option<&Pacer>,
    ) -> Result<C::Outcome, Error> {
        let mut attempts = self.core.start(check, mode)?;
        let span = attempts.span();
        async move {
            #[cfg(feature = "ledger")]
            let entry = match self.admitted(check, mode).await? {
                Admitted::Send(entry) => entry,
                Admitted::Reused(outcome) => return Ok(outcome),
            };
            let result = loop {
                let sent = self.transport.send(attempts.request()).instrument(attempts.attempt_span()).await;
                match attempts.next(sent) {
                    Step::Done(result) => break paced(result, pacer, attempts.round_trip()),
                    Step::RetryAfter { delay, rate_limited } => {
                        if let (true, Some(pacer)) = (rate_limited, pacer) {
                            pacer.rate_limited();
                        }
                        tokio::time::sleep(delay).await;
                        // A batch's retry is a start too: once its backoff is over (a key's window stays
                        // full for up to a second), it takes its place in the pace. Booked before the
                        // backoff, its place would go unused and the retry come on top of later ones.
                        if let Some(pacer) = pacer {
                            tokio::time::sleep(pacer.wait()).await;
                        }
                    }
                }
            };
            #[cfg(feature = "ledger")]
            if let (Some(journal), Some(entry)) = (self.core.journal.clone(), entry) {
                let settlement = settlement::<C>(&result, attempts.made());
                // Dropping this future now leaves the entry pending (maybe billed): safe.
                let settled = off_runtime(move || {
                    journal.settle(entry, &settlement);
                    Ok(())
                });
                let _ = settled.await;
            }
            result
        }
        .instrument(span)
        .await
    }

    /// Asks the ledger, if any, until it says send or reuse; the ledger's calls block, so they
    /// run on tokio's blocking threads.
    #[cfg(feature = "ledger")]
    async fn admitted<C: Check>(&self, check: &C, mode: Mode) -> Result<Admitted<C::Outcome>, Error> {
        let Some(journal) = self.core.journal.clone() else { return Ok(Admitted::Send(None)) };
        let intent = std::sync::Arc::new(journal.intent(check, mode));
        let since = std::time::Instant::now();
        loop {
            let (journal, intent) = (journal.clone(), intent.clone());
            match off_runtime(move || journal.gate(&intent, since)).await? {
                Gate::Send(entry) => return Ok(Admitted::Send(Some(entry))),
                Gate::Reused(outcome) => return Ok(Admitted::Reused(outcome)),
                Gate::Pause(pause) => tokio::time::sleep(pause).await,
            }
        }
    }
}

/// Runs a blocking ledger call on tokio's blocking threads. A panic there is resumed here; a
/// runtime shutting down is a ledger that could not answer.
#[cfg(feature = "ledger")]
async fn off_runtime<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(Error::Ledger(juhe_ledger::LedgerError::Database {
            location: "(the async runtime)".into(),
            source: join.to_string().into(),
        })),
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("core", &self.core).finish_non_exhaustive()
    }
}
