//! The async client.

use std::sync::Arc;

use juhe_proto::{
    Check, FaceCheck, FaceOutcome, IdCardCheck, IdCardOutcome, Mode, Telecom2Check, Telecom2Outcome,
    Telecom3Check, Telecom3Outcome,
};
use juhe_transport::AsyncTransport;
use tracing::Instrument;

use crate::attempts::{Core, Step, paced};
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
            loop {
                let sent = self.transport.send(attempts.request()).instrument(attempts.attempt_span()).await;
                match attempts.next(sent) {
                    Step::Done(result) => return paced(result, pacer),
                    Step::RetryAfter { delay, rate_limited } => {
                        if let (true, Some(pacer)) = (rate_limited, pacer) {
                            pacer.rate_limited();
                        }
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("core", &self.core).finish_non_exhaustive()
    }
}
