//! `juhe`: verify identities through Juhe (聚合数据) from the command line, or run the
//! offline sandbox.
//!
//! Exit status: 0 verified match; 1 verified mismatch; 2 bad input or usage (nothing was
//! sent); 3 Juhe answered with an error code; 4 transport or protocol failure.

mod batch_command;
mod batch_dedupe;
mod batch_encoding;
mod batch_input;
mod batch_output;
mod batch_resume;
mod batch_rows;
mod batch_summary;
mod check_output;
mod checks;
mod codes;
mod connection;
mod face_image_file;
mod failure;
mod hiargs;
mod lowargs;
mod sandbox_commands;
mod untrusted_text;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use juhe_verify::Endpoint;

use crate::failure::Failure;
use crate::hiargs::HiArgs;
use crate::lowargs::LowArgs;

fn main() -> ExitCode {
    // clap exits with status 2 on usage errors it finds, as the contract wants.
    let matches = LowArgs::command().get_matches();
    let low = match LowArgs::from_arg_matches(&matches) {
        Ok(low) => low,
        Err(error) => error.exit(),
    };
    let json_check = hiargs::wants_json_check(&low);
    let result = HiArgs::from_low(low, &matches).and_then(run);
    match result {
        Ok(code) => code,
        Err(failure) => {
            match json_check {
                // A check asked for JSON prints one JSON object, whatever stopped it.
                Some((product, mode)) => {
                    let api = Endpoint::find(product, mode).ok().map(|e| e.info().api);
                    println!("{}", check_output::json_failure(api, &failure.message));
                }
                None => eprintln!("juhe: {failure}"),
            }
            failure.exit_code()
        }
    }
}

fn run(args: HiArgs) -> Result<ExitCode, Failure> {
    match args {
        HiArgs::Check { input, connection, format } => checks::run(input, &connection, format),
        HiArgs::Batch { batch, connection, format } => batch_command::run(&batch, &connection, format),
        HiArgs::Codes { code, format } => codes::run(code, format),
        HiArgs::SandboxServe(serve) => sandbox_commands::serve(serve),
        HiArgs::SandboxIdentities { identities, format } => sandbox_commands::identities(identities, format),
    }
}
