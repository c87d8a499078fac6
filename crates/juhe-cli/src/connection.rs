//! Clients from the command line's connection settings, and the embedded sandbox they may
//! point at.

use juhe_sandbox::Sandbox;
use juhe_verify::{ClientBuilder, TransportConfig};

use crate::args::hiargs::{Connection, LedgerSetup, Target};
use crate::failure::Failure;

/// Client settings for `connection`. The embedded sandbox, if any, lives as long as the
/// returned value.
pub(crate) fn settings(connection: &Connection) -> Result<(ClientBuilder, Option<Sandbox>), Failure> {
    let mut builder = ClientBuilder::new()
        .mode(connection.mode)
        .timeouts(TransportConfig::default().connect_timeout.min(connection.timeout), connection.timeout);
    if let Some(pem) = &connection.ca_cert {
        builder = builder.add_root_certificate(pem);
    }
    if let Some(setup) = &connection.ledger {
        builder = with_ledger(builder, setup)?;
    }
    match &connection.target {
        Target::EmbeddedSandbox { why } => {
            let sandbox = Sandbox::start()
                .map_err(|e| Failure::failed(format!("could not start the embedded sandbox: {e}")))?;
            eprintln!(
                "juhe: {why}: checking against the embedded sandbox; test data only, nothing is billed"
            );
            // Its port changes every run: the ledger names it by what it is.
            let builder = builder.account(&sandbox.account()).ledger_target(EMBEDDED_SANDBOX);
            Ok((builder, Some(sandbox)))
        }
        Target::Juhe { key, openid, rsa_public_key, base_url } => {
            let mut builder = builder.key(key);
            if let Some(openid) = openid {
                builder = builder.openid(openid);
            }
            if let Some(rsa) = rsa_public_key {
                builder = builder.rsa_public_key(rsa);
            }
            if let Some(url) = base_url {
                builder = builder.base_url(url);
            }
            Ok((builder, None))
        }
    }
}

/// The target the ledger records for checks against the embedded sandbox.
/// The target the embedded sandbox's checks are recorded under: the ledger never counts them billed.
const EMBEDDED_SANDBOX: &str = juhe_verify::ledger::SANDBOX_TARGET;

/// Where `connection`'s checks go, by the name the ledger records (the builder's rule), without
/// starting anything.
pub(crate) fn target_name(connection: &Connection) -> String {
    match &connection.target {
        Target::EmbeddedSandbox { .. } => EMBEDDED_SANDBOX.to_owned(),
        Target::Juhe { base_url: Some(url), .. } => ClientBuilder::new().base_url(url).target_name(),
        Target::Juhe { base_url: None, .. } => ClientBuilder::new().target_name(),
    }
}

/// The builder with the ledger opened and its policy set. A ledger that cannot be opened is a
/// usage error (exit 2): nothing is sent without a record.
fn with_ledger(builder: ClientBuilder, setup: &LedgerSetup) -> Result<ClientBuilder, Failure> {
    let ledger = crate::ledger::open(&setup.location)?;
    let mut builder = builder.ledger(ledger);
    if let Some(secret) = std::env::var("JUHE_LEDGER_SECRET").ok().filter(|s| !s.is_empty()) {
        builder = builder.ledger_secret(secret);
    }
    if let Some(previous) = std::env::var("JUHE_LEDGER_SECRET_PREVIOUS").ok().filter(|s| !s.is_empty()) {
        builder = builder.previous_ledger_secret(previous);
    }
    if let Some(window) = setup.reuse_within {
        builder = builder.reuse_within(window);
    }
    if let Some(cap) = setup.max_billed_per_day {
        builder = builder.max_billed_per_day(cap);
    }
    if let Some(cap) = setup.max_billed_per_month {
        builder = builder.max_billed_per_month(cap);
    }
    if let Some(purpose) = &setup.purpose {
        builder = builder.purpose(purpose.label.clone());
        if let Some(reference) = &purpose.consent_ref {
            builder = builder.consent_ref(reference.clone());
        }
    }
    Ok(builder)
}

/// The runtime of a batch: the thread that writes the rows runs it, so an answer reaches the
/// writer without waking another thread, and the tasks' own I/O wakes none either (a worker
/// pool costs ~4 futex calls and a thread switch per row on loopback: docs/benchmarks.md).
pub(crate) fn batch_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))
}

/// A runtime with worker threads: one is plenty for one check (or a blocking batch's stop
/// signals), two for the gateway.
pub(crate) fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))
}
