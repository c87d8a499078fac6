//! Clients from the command line's connection settings, and the embedded sandbox they may
//! point at.

use juhe_sandbox::Sandbox;
use juhe_verify::{ClientBuilder, TransportConfig};

use crate::args::hiargs::{Connection, Target};
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
    match &connection.target {
        Target::EmbeddedSandbox { why } => {
            let sandbox = Sandbox::start()
                .map_err(|e| Failure::failed(format!("could not start the embedded sandbox: {e}")))?;
            eprintln!(
                "juhe: {why}: checking against the embedded sandbox; test data only, nothing is billed"
            );
            Ok((builder.account(&sandbox.account()), Some(sandbox)))
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

/// A runtime for the async client: one worker is plenty for one check, two for a batch.
pub(crate) fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))
}
