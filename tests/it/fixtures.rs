//! Fixtures for the end-to-end tests: clients pointed at a sandbox, and the people to check.

use std::time::Duration;

use juhe_proto::{Endpoint, Product};
use juhe_sandbox::{Identity, Sandbox};
use juhe_verify::{ClientBuilder, FaceCheck, IdCardCheck, Outcome, Telecom2Check, Telecom3Check, Verdict};

/// A builder for the sandbox's test account.
pub(crate) fn builder(sandbox: &Sandbox) -> ClientBuilder {
    ClientBuilder::new().account(&sandbox.account()).timeouts(Duration::from_secs(2), Duration::from_secs(10))
}

/// Which client (and so which batch) runs a suite's checks: the async one or the blocking one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flavor {
    Async,
    Blocking,
}

/// Both flavours, for suites that must hold on each.
pub(crate) const BOTH: [Flavor; 2] = [Flavor::Async, Flavor::Blocking];

/// Which client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `Client` over reqwest.
    Reqwest,
    /// `blocking::Client` over ureq.
    Ureq,
}

/// A check of `who` on `endpoint`'s product, as the outcome's verdict, or the error.
pub(crate) fn verify(
    sandbox: &Sandbox,
    backend: Backend,
    endpoint: Endpoint,
    who: (&str, &str, &str, &[u8]),
) -> Result<Verdict, juhe_verify::Error> {
    let builder = builder(sandbox);
    let mode = endpoint.info().mode;
    let (name, idcard, mobile, image) = who;
    match backend {
        Backend::Ureq => {
            let client = builder.build_blocking()?;
            match endpoint.info().product {
                Product::IdCard => {
                    client.verify_in(mode, &IdCardCheck::new(name, idcard)?).map(|o| o.verdict())
                }
                Product::Telecom2 => {
                    client.verify_in(mode, &Telecom2Check::new(idcard, mobile)?).map(|o| o.verdict())
                }
                Product::Telecom3 => {
                    client.verify_in(mode, &Telecom3Check::new(name, idcard, mobile)?).map(|o| o.verdict())
                }
                Product::Face => {
                    let check = FaceCheck::new(name, idcard, mobile, image.to_vec())?;
                    client.verify_in(mode, &check).map(|o| o.verdict())
                }
            }
        }
        Backend::Reqwest => runtime().block_on(async {
            let client = builder.build()?;
            match endpoint.info().product {
                Product::IdCard => {
                    client.verify_in(mode, &IdCardCheck::new(name, idcard)?).await.map(|o| o.verdict())
                }
                Product::Telecom2 => {
                    client.verify_in(mode, &Telecom2Check::new(idcard, mobile)?).await.map(|o| o.verdict())
                }
                Product::Telecom3 => client
                    .verify_in(mode, &Telecom3Check::new(name, idcard, mobile)?)
                    .await
                    .map(|o| o.verdict()),
                Product::Face => {
                    let check = FaceCheck::new(name, idcard, mobile, image.to_vec())?;
                    client.verify_in(mode, &check).await.map(|o| o.verdict())
                }
            }
        }),
    }
}

/// A small multi-thread runtime (the one flavour this project uses).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A person's fields.
pub(crate) fn fields(identity: &Identity) -> (&str, &str, &str, &[u8]) {
    (&identity.name, &identity.idcard, &identity.mobile, &identity.face_image)
}
