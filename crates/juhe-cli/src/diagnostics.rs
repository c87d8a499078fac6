//! What the library says about each check (its `juhe.check` and `juhe.attempt` spans and their
//! events), on stderr when asked: `-v` (info), `-vv` (debug), `-vvv` (trace) for the juhe
//! crates, or any filter in `RUST_LOG` (`juhe_verify=debug,juhe_ledger=trace`). The library
//! masks every personal field and never logs a key or an openid, so nothing printed here needs
//! masking again; control characters in values are escaped by the formatter.

use std::str::FromStr;

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::failure::Failure;

/// The crates whose events `-v` shows.
const OURS: [&str; 5] = ["juhe_verify", "juhe_ledger", "juhe_transport", "juhe_sandbox", "juhe"];

/// Installs the subscriber that `verbosity` (the count of `-v`) or `RUST_LOG` asks for; none
/// when neither does. A `RUST_LOG` that is not a filter is a usage error naming it.
pub(crate) fn install(verbosity: u8) -> Result<(), Failure> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => Targets::from_str(spec.trim()).map_err(|e| {
            Failure::usage(format!("RUST_LOG is not a filter ({e}): try RUST_LOG=juhe_verify=debug"))
        })?,
        _ => {
            let level = match verbosity {
                0 => return Ok(()),
                1 => Level::INFO,
                2 => Level::DEBUG,
                _ => Level::TRACE,
            };
            Targets::new().with_targets(OURS.map(|target| (target, level)))
        }
    };
    // A span's close line gives each check and each attempt its time.
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE);
    // Another subscriber already installed (never, in this binary) is not worth failing over.
    let _ = tracing_subscriber::registry().with(output).with(filter).try_init();
    Ok(())
}
