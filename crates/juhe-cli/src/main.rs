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
mod gateway;
mod ledger;
mod plural;
mod prices;
mod private_file;
mod sandbox;
mod untrusted_text;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use juhe_verify::Endpoint;

use crate::args::hiargs::HiArgs;
use crate::args::lowargs::LowArgs;
use crate::failure::Failure;

/// mimalloc, not the system's: a check makes a few dozen short-lived allocations (the request,
/// its headers, the answer's JSON, the output row), and glibc's malloc and free were 15% of a
/// loopback batch's CPU; with mimalloc the batch runs 15-20% faster (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The status of a `juhe` whose standard output was closed (`juhe … | head -c0`): what a shell
/// sees of a Unix tool ended by SIGPIPE, 128 + 13.
const BROKEN_PIPE: i32 = 141;

/// A closed standard output ends the command quietly, as it ends Unix tools, instead of a
/// panic: Rust ignores SIGPIPE, so `println!` meets the closed pipe as an error. Everything
/// that costs money is recorded before anything is printed (the ledger has a check's outcome
/// before its result is shown; a batch's rows are in its output file), so nothing is lost.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    // clap exits with status 2 on usage errors it finds, as the contract wants.
    let command = LowArgs::command();
    let matches = match command.clone().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => {
            let error = crate::args::environment::named(error, &command);
            if error.use_stderr() && asks_batch_json() {
                let message = error.kind().as_str().map_or_else(|| error.to_string(), str::to_owned);
                println!("{}", serde_json::json!({ "error": message, "status": 2 }));
            }
            error.exit()
        }
    };
    let low = match LowArgs::from_arg_matches(&matches) {
        Ok(low) => low,
        Err(error) => error.exit(),
    };
    let json_check = crate::args::hiargs::wants_json_check(&low);
    let json_batch = crate::args::hiargs::wants_json_batch(&low);
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
                None => {
                    eprintln!("juhe: {failure}");
                    // A batch asked for JSON prints one object: its summary, or what stopped it.
                    if json_batch
                        && let Some(object) =
                            batch::summary::json_failure(&failure.message, failure.status as u8)
                    {
                        println!("{object}");
                    }
                }
            }
            failure.exit_code()
        }
    }
}

/// Whether the command line, which clap refused, was a batch asking for JSON: it then prints
/// one JSON object as every batch with `--format json` does.
fn asks_batch_json() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.windows(2).any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    json && args.iter().any(|a| a == "batch")
}

fn run(args: HiArgs) -> Result<ExitCode, Failure> {
    match args {
        HiArgs::Check { input, connection, format } => check::run(input, &connection, format),
        HiArgs::Batch { batch, connection, format } => batch::run(&batch, &connection, format),
        HiArgs::Codes { code, format } => codes::run(code, format),
        HiArgs::SandboxServe(serve) => sandbox::serve(serve),
        HiArgs::SandboxIdentities { identities, format } => sandbox::identities(identities, format),
        HiArgs::Ledger { command, location, prices } => ledger::run(command, &location, &prices),
        HiArgs::GatewayServe(serve) => gateway::serve(serve),
        HiArgs::GatewayKeys { command, location } => gateway::keys(command, &location),
        HiArgs::Completions(shell) => {
            clap_complete::generate(shell, &mut LowArgs::command(), "juhe", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        HiArgs::Man => {
            let page = clap_mangen::Man::new(LowArgs::command());
            page.render(&mut std::io::stdout())
                .map_err(|e| Failure::failed(format!("could not print the manual page: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
