//! The blocking client and batch: the same decisions as [`Client`](crate::Client), sent with
//! a blocking transport and waited on with `std::thread::sleep`.

mod batch;

pub use batch::{Batch, MAX_THREADS};

use std::sync::Arc;

use juhe_proto::{
    Check, FaceCheck, FaceOutcome, IdCardCheck, IdCardOutcome, Mode, Telecom2Check, Telecom2Outcome,
    Telecom3Check, Telecom3Outcome,
};
use juhe_transport::Transport;

use crate::attempts::Core;
use crate::batch::Pace;
use crate::driver::{OnThisThread, block_on};
use crate::starts::KeyPace;
use crate::{ClientBuilder, Error};

/// The blocking client, for code without an async runtime.
///
/// ```no_run
/// use juhe_verify::{Telecom3Check, blocking};
///
/// let client = juhe_verify::ClientBuilder::from_env().build_blocking()?;
/// let outcome = client.telecom3(&Telecom3Check::new("张三", "11010519491231002X", "13912345678")?)?;
/// println!("{:?} {:?}", outcome.verdict, outcome.rescode);
/// # let _: Option<blocking::Client> = None;
/// # Ok::<(), juhe_verify::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) core: Arc<Core>,
    pub(crate) transport: Arc<dyn Transport>,
}

impl Client {
    /// Settings to build a client from; finish with [`ClientBuilder::build_blocking`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from `JUHE_KEY`, `JUHE_OPENID`, `JUHE_RSA_PUBLIC_KEY` and
    /// `JUHE_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_env().build_blocking()
    }

    pub(crate) fn new(core: Arc<Core>, transport: Arc<dyn Transport>) -> Self {
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
    pub fn idcard(&self, check: &IdCardCheck) -> Result<IdCardOutcome, Error> {
        self.verify(check)
    }

    /// Mobile + ID card number, in the client's mode.
    pub fn telecom2(&self, check: &Telecom2Check) -> Result<Telecom2Outcome, Error> {
        self.verify(check)
    }

    /// Mobile + name + ID card number, in the client's mode.
    pub fn telecom3(&self, check: &Telecom3Check) -> Result<Telecom3Outcome, Error> {
        self.verify(check)
    }

    /// Face photo + mobile + name + ID card number (plain mode: the only one Juhe offers).
    pub fn face(&self, check: &FaceCheck) -> Result<FaceOutcome, Error> {
        self.verify_in(Mode::Plain, check)
    }

    /// Any check, in the client's mode.
    pub fn verify<C: Check>(&self, check: &C) -> Result<C::Outcome, Error> {
        self.verify_in(self.core.mode, check)
    }

    /// Any check, in `mode`.
    pub fn verify_in<C: Check>(&self, mode: Mode, check: &C) -> Result<C::Outcome, Error> {
        self.verify_paced(mode, check, None)
    }

    /// A check of a batch: rate limits met on the way slow `pacer` down.
    ///
    /// The calling thread runs the check to its end, so a caller that stops waiting for it
    /// (a timeout around `spawn_blocking`) loses nothing: the ledger gets the outcome. A panic
    /// in a transport of your own records the entry as maybe billed instead of leaving it in
    /// flight.
    pub(crate) fn verify_paced<C: Check>(
        &self,
        mode: Mode,
        check: &C,
        pace: Option<&Pace>,
    ) -> Result<C::Outcome, Error> {
        let mut attempts = self.core.start(check, mode)?;
        let _in_check = attempts.span().entered();
        #[cfg(feature = "ledger")]
        if let Some(journal) = &self.core.journal {
            let intent = journal.intent(check, mode);
            let io = OnThisThread(&*self.transport);
            // The calling thread runs the check to its end: nobody stops waiting for it.
            return block_on(crate::driver::recorded(&io, journal, intent, &mut attempts, pace, &|| false));
        }
        block_on(crate::driver::unrecorded(&OnThisThread(&*self.transport), &mut attempts, pace))
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Client").field("core", &self.core).finish_non_exhaustive()
    }
}
