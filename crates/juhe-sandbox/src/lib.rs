//! An offline Juhe (聚合数据) identity-verification server, for tests.
//!
//! **One job:** behave like Juhe, closely enough that code which passes against the sandbox
//! works against Juhe — without an account, without paying, without anyone's real data.
//!
//! - All 11 endpoints on one host, GET and POST, with the real encodings: it decrypts
//!   AES-ECB, AES-CBC and RSA, checks the MD5 sign, validates every field, and answers with
//!   the documented codes.
//! - A deterministic population of 1,200 people ([`Sandbox::identities`]), plus your own
//!   ([`SandboxBuilder::identities_file`]).
//! - [`magic`] identities that always end one way (provider error, rate limit, a slow
//!   answer, a dropped connection, …), like a payment provider's test card numbers.
//! - [`Fault`] injection by rate and endpoint.
//! - A billing ledger ([`Sandbox::ledger`], `GET /__sandbox/ledger`).
//!
//! ```
//! let sandbox = juhe_sandbox::Sandbox::start()?;
//! let person = &sandbox.identities()[0];
//! // Point the SDK (or any client) at `sandbox.base_url()` with `sandbox.key()`.
//! assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sandbox.ledger().billed, 0);
//! # let _ = person;
//! # Ok::<(), juhe_sandbox::SandboxError>(())
//! ```
//!
//! The sandbox listens on its own thread and tokio runtime, so it works from plain tests,
//! `#[tokio::test]` and `main` alike, and stops when dropped.
//!
//! # Security
//! The shipped RSA key pair ([`SANDBOX_RSA_PRIVATE_KEY_PEM`]) is published: it is for tests
//! only. [`SandboxBuilder::fresh_rsa_key`] makes a new one.
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod carriers;
mod error;
mod face_png;
mod faults;
mod identity;
mod juhe_api;
mod ledger;
pub mod magic;
mod network;
mod population;
mod sandbox;
mod tls;
mod verdicts;

pub use error::SandboxError;
pub use faults::{Fault, FaultKind};
pub use identity::{Identity, MAX_IDENTITIES_FILE_BYTES, load_identities};
pub use ledger::{ApiCounts, LedgerSnapshot, RequestRecord};
pub use magic::MagicIdentity;
pub use population::{POPULATION_SIZE, builtin_population};
pub use sandbox::{
    OfflineSandbox, SANDBOX_KEY, SANDBOX_OPENID, SANDBOX_RSA_PRIVATE_KEY_PEM, SANDBOX_RSA_PUBLIC_KEY_PEM,
    Sandbox, SandboxBuilder,
};

/// The README's example (crates.io's page), compiled and run as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
