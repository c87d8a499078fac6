//! Verify Chinese identities through Juhe (聚合数据).
//!
//! | product | check | method |
//! |---|---|---|
//! | ID card number + name (身份证实名认证) | [`IdCardCheck`] | [`Client::idcard`] |
//! | mobile + ID card number (手机身份证二要素) | [`Telecom2Check`] | [`Client::telecom2`] |
//! | mobile + name + ID card number (三网手机实名制) | [`Telecom3Check`] | [`Client::telecom3`] |
//! | face + mobile + name + ID card number (人脸四要素) | [`FaceCheck`] | [`Client::face`] |
//!
//! Every Juhe transmission mode works: [`Mode::Plain`], [`Mode::Signed`] (telecom3),
//! [`Mode::Aes`] and [`Mode::Rsa`], as the client's default or per call
//! ([`Client::verify_in`]).
//!
//! ```no_run
//! use juhe_verify::{Client, Mode, Telecom3Check, Verdict};
//!
//! # async fn run() -> Result<(), juhe_verify::Error> {
//! let client = Client::builder().key("KEY").openid("OPENID").mode(Mode::Aes).build()?;
//! let check = Telecom3Check::new("张三", "11010519491231002X", "13912345678")?; // validated here
//! let outcome = client.telecom3(&check).await?;
//! match outcome.verdict {
//!     Verdict::Match => println!("match (order {:?})", outcome.order_id),
//!     _ => println!("no match: {:?}", outcome.rescode),
//! }
//! # Ok(()) }
//! ```
//!
//! The blocking twin is [`blocking::Client`]; both run one protocol path
//! (`juhe-proto`) and differ only in how they send (`juhe-transport`).
//!
//! # Money
//! Juhe bills every answer with `error_code` 0. So the client:
//! - validates every field before sending: invalid input is [`Error::Invalid`], names the
//!   field, and costs nothing;
//! - by default retries only what cannot have been billed ([`RetryPolicy`]);
//! - tells, on every error, whether the check may have been billed ([`Error::may_be_billed`]),
//!   and gives Juhe's order number on every outcome.
//!
//! # Batches
//! [`Client::batch`] and [`blocking::Client::batch`] check many inputs at once through one
//! engine ([`batch`]) that owns every money guarantee: a slot per input held until its
//! [`BatchItem`] is dropped (billed but unrecorded ≤ concurrency), an exact
//! [`Batch::stop`], a budget ([`BatchOptions::max_billed`]), dedupe of inputs that ask the
//! same question ([`BatchItem::reused_from`]), and counts ([`BatchStats`]).
//!
//! ```no_run
//! # async fn run(client: juhe_verify::Client, people: Vec<(String, String)>) {
//! use juhe_verify::{BatchOptions, Billing, IdCardCheck};
//!
//! let inputs = people.into_iter().map(|(name, id)| {
//!     let check = IdCardCheck::new(&name, &id);
//!     (name, check)
//! });
//! let mut batch = client.batch(inputs, BatchOptions::default().concurrency(16).max_billed(100));
//! while let Some(item) = batch.next().await {
//!     if item.billing() != Billing::NotBilled {
//!         // Record it before `item` is dropped: that is what bounds the unrecorded.
//!     }
//! }
//! let stats = batch.stats();
//! println!("{} billed, {} reused, {} over budget", stats.billed, stats.reused, stats.over_budget);
//! # }
//! ```
//!
//! # A ledger (features `sqlite`, `postgres`)
//! Give the builder a [`ledger::Ledger`](https://docs.rs/juhe-ledger/latest/juhe_ledger/struct.Ledger.html) and every check is recorded before its request
//! leaves and settled when the answer comes, for both clients and every batch. The same
//! record reuses billed answers across runs, processes and machines
//! ([`ClientBuilder::reuse_within`](https://docs.rs/juhe-verify/latest/juhe_verify/struct.ClientBuilder.html#method.reuse_within); the outcome's [`Outcome::reused`] says so), waits for a
//! question already in flight elsewhere, and keeps daily and monthly caps
//! ([`ClientBuilder::max_billed_per_day`](https://docs.rs/juhe-verify/latest/juhe_verify/struct.ClientBuilder.html#method.max_billed_per_day)) for every process on it. A ledger that cannot
//! record a check stops it ([`Error::Ledger`](https://docs.rs/juhe-verify/latest/juhe_verify/enum.Error.html#variant.Ledger)): nothing is sent unrecorded.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn run(check: juhe_verify::Telecom3Check) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use juhe_verify::{Client, Outcome, ledger::Ledger};
//!
//! let ledger = Ledger::open_sqlite("ledger.sqlite".as_ref())?;
//! let client = Client::builder()
//!     .key("your-api-key")
//!     .ledger(ledger)
//!     .reuse_within(Duration::from_secs(30 * 86_400))
//!     .max_billed_per_day(5_000)
//!     .build()?;
//! let outcome = client.telecom3(&check).await?;
//! if let Some(earlier) = outcome.reused() {
//!     println!("not billed now: Juhe's order {:?} answered it", earlier.order_id);
//! }
//! # Ok(()) }
//! ```
//!
//! # Guides
//! Each a tested example, run as the page shows it by the repository's end-to-end tests:
//! - [A PostgreSQL ledger from the library](https://github.com/juhe-rs/juhe-rs/blob/main/docs/guides/postgres-ledger.md):
//!   a fleet on one key, paying once per person;
//! - [An axum service](https://github.com/juhe-rs/juhe-rs/blob/main/docs/guides/axum-service.md):
//!   one shared [`Client`], errors to HTTP statuses by what they mean for money, tests against
//!   the sandbox;
//! - [A tokio worker](https://github.com/juhe-rs/juhe-rs/blob/main/docs/guides/tokio-worker.md):
//!   jobs from a queue through [`Client::batch`], stopped and restarted without paying twice.
//!
//! # Cancellation
//! **With a ledger, checks are cancel-safe.** From the ledger's first look on, an async check
//! runs on a task of its own: dropping its future (a web framework cancelling the handler of a
//! request whose browser went away, a `tokio::time::timeout` around it, a `select!` that takes
//! another branch, a panic in the caller) stops the waiting, not the check. Once its request
//! may have left, the exchange ends and the ledger gets the outcome, so the next check of the
//! same person (with [`ClientBuilder::reuse_within`](https://docs.rs/juhe-verify/latest/juhe_verify/struct.ClientBuilder.html#method.reuse_within)) is answered from it without paying.
//! Dropped before its request left, it sends nothing. A plain `.await` in a handler is safe.
//! The blocking client runs a check to its end on the calling thread, so a caller that stops
//! waiting for that thread loses nothing either; a panic in a transport of your own leaves
//! the entry maybe billed, never in flight. A process that dies mid-check leaves its entry
//! pending, which every other process sees at once as maybe billed (the ledger's owners):
//! nobody waits for it, and `juhe ledger settle` records what Juhe's order records say.
//!
//! Without a ledger there is nowhere to keep an answer nobody waits for: dropping the future
//! of a check already sent loses its outcome and order number (it may still be billed). Give
//! the client a deadline instead ([`ClientBuilder::timeout`]), which ends the check with
//! [`Error::NoAnswer`] (it says it may have been billed), or let the check finish on its own
//! task and record what comes:
//!
//! ```no_run
//! # async fn run(client: juhe_verify::Client, check: juhe_verify::IdCardCheck) {
//! let task = tokio::spawn({
//!     let client = client.clone();
//!     async move { client.idcard(&check).await }
//! });
//! // The caller may stop waiting on `task`; the check still ends, and its result (with the
//! // order number) can be recorded from the task, never lost mid-flight.
//! let outcome = task.await;
//! # let _ = outcome;
//! # }
//! ```
//! A batch has the same rule built in: [`Batch::stop`] lets the checks in flight finish, and
//! [`BatchHandle::waiting`] says what a quiet batch waits for.
//!
//! # Tracing
//! The clients emit [`tracing`](https://docs.rs/tracing) spans and events, every field masked:
//!
//! | name | kind, level | fields |
//! |---|---|---|
//! | `juhe.check` | span, INFO | `product`, `api`, `mode`, `check` (masked: `张*`, `110***********002X`) |
//! | `juhe.attempt` | span, DEBUG, inside `juhe.check` | `attempt` (1, 2, …) |
//! | `answer received` | event, TRACE | `status`, `bytes` |
//! | `checked` | event, INFO | `verdict`, `order_id`, `billed` |
//! | `retrying` | event, WARN | `attempt`, `error`, `retry_in_ms` |
//! | `check failed` | event, INFO | `attempt`, `error`, `billed_maybe` |
//! | `reused from the ledger` | event, INFO | `entry`, `order_id` |
//! | `the outcome could not be recorded…` | event, ERROR | `entry`, `ledger`, `error` |
//!
//! No key, openid, name, ID number, mobile or image appears in any of them.
//!
//! # Privacy
//! Keys, openids, names, ID numbers, mobiles and images never appear unmasked in `Debug`,
//! `Display`, errors or `tracing` events: `张*`, `110***********002X`, `139****5678`.
//!
//! # Testing without an account
//! The `juhe-sandbox` crate runs an offline Juhe: `ClientBuilder::account(&sandbox.account())`
//! points a client at it. The crate's `batch_money` example checks the batch guarantees
//! against the sandbox's ledger.
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod activity;
mod attempts;
pub mod batch;
pub mod blocking;
mod builder;
mod client;
mod driver;
mod error;
#[cfg(feature = "ledger")]
mod journal;
mod pacer;
mod retry;
mod starts;
#[cfg(feature = "ledger")]
mod team;

pub use activity::Waiting;
pub use batch::{
    Batch, BatchHandle, BatchItem, BatchOptions, BatchStats, DEFAULT_CONCURRENCY, MAX_CONCURRENCY,
    ROUND_TRIP_ALLOWANCE,
};
#[cfg(feature = "ledger")]
#[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
pub use builder::LIVE_START_WITHIN;
pub use builder::{ClientBuilder, MIN_TIMEOUT};
pub use client::Client;
pub use error::{Attempted, ConfigError, Error, ErrorKind, Rejected, Resend, Skipped, billing_of};
pub use pacer::MIN_RATE;
pub use retry::RetryPolicy;
#[cfg(feature = "ledger")]
#[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
pub use team::Team;

/// The ledger crate (feature `ledger`): open one and give it to [`ClientBuilder::ledger`].
#[cfg(feature = "ledger")]
#[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
pub use juhe_ledger as ledger;
/// The protocol core, for what the facade does not re-export.
pub use juhe_proto as proto;
pub use juhe_proto::{
    Account, AnyCheck, AnyOutcome, Billing, Carrier, Endpoint, ErrorCode, FaceCheck, FaceOutcome, FaceResult,
    IdCardCheck, IdCardOutcome, MatchOutcome, Mode, Outcome, Product, Provenance, ResultField, RetryClass,
    Reuse, ServiceError, Telecom2Check, Telecom2Outcome, Telecom3Check, Telecom3Outcome, Telecom3Rescode,
    ValidationError, Verdict,
};
/// The transports, to configure or replace.
pub use juhe_transport as transport;
pub use juhe_transport::TransportConfig;

/// The README's example (crates.io's page), compiled and run as a doc test so it stays true.
#[cfg(all(doctest, feature = "ureq"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
