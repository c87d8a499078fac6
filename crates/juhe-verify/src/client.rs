//! The async client.

use std::sync::Arc;

use juhe_proto::{
    Check, FaceCheck, FaceOutcome, IdCardCheck, IdCardOutcome, Mode, Telecom2Check, Telecom2Outcome,
    Telecom3Check, Telecom3Outcome,
};
use juhe_transport::AsyncTransport;
use tracing::Instrument;

use crate::attempts::Core;
use crate::batch::Pace;
use crate::driver::OnTokio;
#[cfg(feature = "ledger")]
use crate::journal::runtime_gone;
use crate::starts::KeyPace;
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
    pub(crate) core: Arc<Core>,
    pub(crate) transport: Arc<dyn AsyncTransport>,
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

    /// The key's pace in its ledger, if it has one.
    pub(crate) fn key_pace(&self) -> KeyPace {
        KeyPace {
            #[cfg(feature = "ledger")]
            journal: self.core.journal.clone(),
        }
    }

    /// What its checks wait for, with a ledger (none without).
    pub(crate) fn activity(&self) -> Option<Arc<crate::activity::Activity>> {
        #[cfg(feature = "ledger")]
        if let Some(journal) = &self.core.journal {
            return Some(Arc::clone(&journal.activity));
        }
        None
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
    ///
    /// With a ledger the check runs on a task of its own from the ledger's first look on:
    /// dropping this future (a web request cancelled, a timeout around the call, a panic in
    /// the caller) no longer stops it once its request may have left. The exchange ends and
    /// the ledger gets its outcome all the same, so the next check of the same question (reuse
    /// on) is answered from it without paying. Dropped before its request left, it sends
    /// nothing and frees its entry.
    pub(crate) async fn verify_paced<C: Check>(
        &self,
        mode: Mode,
        check: &C,
        pace: Option<&Pace>,
    ) -> Result<C::Outcome, Error> {
        let mut attempts = self.core.start(check, mode)?;
        let span = attempts.span();
        let (transport, pace) = (Arc::clone(&self.transport), pace.cloned());
        #[cfg(feature = "ledger")]
        if let Some(journal) = self.core.journal.clone() {
            let intent = journal.intent(check, mode);
            let caller = Caller::default();
            let waiting = caller.waiting.clone();
            let check = async move {
                let caller_gone = move || !waiting.load(std::sync::atomic::Ordering::SeqCst);
                let io = OnTokio(&*transport);
                crate::driver::recorded(&io, &journal, intent, &mut attempts, pace.as_ref(), &caller_gone)
                    .await
            };
            return match tokio::spawn(check.instrument(span)).await {
                Ok(result) => result,
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(join) => Err(runtime_gone(join)),
            };
        }
        crate::driver::unrecorded(&OnTokio(&*transport), &mut attempts, pace.as_ref()).instrument(span).await
    }
}

/// Whether the caller of a recorded check still waits for it: cleared when its future is
/// dropped.
#[cfg(feature = "ledger")]
struct Caller {
    waiting: Arc<std::sync::atomic::AtomicBool>,
}

#[cfg(feature = "ledger")]
impl Default for Caller {
    fn default() -> Self {
        Self { waiting: Arc::new(std::sync::atomic::AtomicBool::new(true)) }
    }
}

#[cfg(feature = "ledger")]
impl Drop for Caller {
    fn drop(&mut self) {
        self.waiting.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("core", &self.core).finish_non_exhaustive()
    }
}
