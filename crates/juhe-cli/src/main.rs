//! `juhe`: verify identities through Juhe (聚合数据) from the command line, or run the
//! offline sandbox.
//!
//! Exit status: 0 verified match; 1 verified mismatch; 2 bad input or usage (nothing was
//! sent); 3 Juhe answered with an error code; 4 transport or protocol failure.

// The command checks in RSA mode and serves HTTPS: it needs both, and `rust-rsa` brings *ring*
// for TLS. Said here, so that a build without either says what to enable.
#[cfg(not(any(feature = "aws-lc", feature = "rust-rsa")))]
compile_error!(
    "juhe-cli needs RSA and TLS: enable `aws-lc` (the default) or `rust-rsa` (pure-Rust RSA, TLS through ring)"
);

mod args;
mod batch;
mod check;
mod codes;
mod connection;
mod diagnostics;
mod failure;
mod ledger;
mod local_file;
mod sandbox;
mod untrusted_text;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use juhe_verify::Endpoint;

use crate::args::hiargs::HiArgs;
use crate::args::lowargs::LowArgs;
use crate::failure::Failure;

fn main() -> ExitCode {
    // clap exits with status 2 on usage errors it finds, as the contract wants.
    let matches = LowArgs::command().get_matches();
    let low = match LowArgs::from_arg_matches(&matches) {
        Ok(low) => low,
        Err(error) => error.exit(),
    };
    let json_check = crate::args::hiargs::wants_json_check(&low);
    let result =
        diagnostics::install(low.verbose).and_then(|()| HiArgs::from_low(low, &matches)).and_then(run);
    match result {
        Ok(code) => code,
        Err(failure) => {
            match json_check {
                // A check asked for JSON prints one JSON object, whatever stopped it.
                Some((product, mode)) => {
                    let api = Endpoint::find(product, mode).ok().map(|e| e.info().api);
                    println!("{}", check::output::json_failure(api, &failure.message));
                }
                None => eprintln!("juhe: {failure}"),
            }
            failure.exit_code()
        }
    }
}

fn run(args: HiArgs) -> Result<ExitCode, Failure> {
    match args {
        HiArgs::Check { input, connection, format } => check::run(input, &connection, format),
        HiArgs::Batch { batch, connection, format } => batch::run(&batch, &connection, format),
        HiArgs::Codes { code, format } => codes::run(code, format),
        HiArgs::SandboxServe(serve) => sandbox::serve(serve),
        HiArgs::SandboxIdentities { identities, format } => sandbox::identities(identities, format),
        HiArgs::Ledger { command, location } => ledger::run(command, &location),
    }
}
