//! The blocking client: the same protocol path as [`Client`](crate::Client), sent with a
//! blocking transport and waited on with `std::thread::sleep`.

use std::sync::Arc;

use juhe_proto::{
    Check, FaceCheck, FaceOutcome, IdCardCheck, IdCardOutcome, Mode, Telecom2Check, Telecom2Outcome,
    Telecom3Check, Telecom3Outcome,
};
use juhe_transport::Transport;

use crate::core::Core;
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
    core: Arc<Core>,
    transport: Arc<dyn Transport>,
}

impl Client {
    /// A builder; finish it with [`ClientBuilder::build_blocking`].
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
        let encoded = self.core.encode(check, mode)?;
        let _span = Core::span(check, encoded.endpoint).entered();
        let mut attempt = 1;
        let result = loop {
            let sent = {
                let _attempt = tracing::debug_span!("juhe.attempt", attempt).entered();
                self.transport.send(encoded.request.clone())
            };
            match self.core.interpret::<C>(sent) {
                Err(error) => match self.core.retry_delay(attempt, &error) {
                    Some(delay) => std::thread::sleep(delay),
                    None => break Err(error),
                },
                done => break done,
            }
            attempt += 1;
        };
        Core::record(&result);
        result
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Client").field("core", &self.core).finish_non_exhaustive()
    }
}
