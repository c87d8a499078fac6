//! `juhe`: verify identities through Juhe (聚合数据) from the command line, or run the
//! offline sandbox.
//!
//! Exit status: 0 verified match; 1 verified mismatch; 2 bad input or usage (nothing was
//! sent); 3 Juhe answered with an error code; 4 transport or protocol failure.

mod args;
mod batch_command;
mod batch_input;
mod batch_resume;
mod check_output;
mod checks;
mod codes;
mod failure;
mod sandbox_commands;

use std::process::ExitCode;

use clap::Parser;
use juhe_verify::{FaceCheck, IdCardCheck, Telecom2Check, Telecom3Check};

use crate::args::{Cli, Command};
use crate::failure::Failure;

fn main() -> ExitCode {
    // clap exits with status 2 on usage errors, as the contract wants.
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("juhe: {failure}");
            failure.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Idcard { name, idcard } => {
            checks::run(global, IdCardCheck::new(&name, &idcard).map_err(Into::into))
        }
        Command::Telecom2 { idcard, mobile } => {
            checks::run(global, Telecom2Check::new(&idcard, &mobile).map_err(Into::into))
        }
        Command::Telecom3 { name, idcard, mobile } => {
            checks::run(global, Telecom3Check::new(&name, &idcard, &mobile).map_err(Into::into))
        }
        Command::Face { name, idcard, mobile, image } => {
            let bytes = std::fs::read(&image)
                .map_err(|e| Failure::usage(format!("could not read --image {}: {e}", image.display())))?;
            checks::run(global, FaceCheck::new(&name, &idcard, &mobile, bytes).map_err(Into::into))
        }
        Command::Batch { product, input, concurrency, rate, resume } => {
            let request = batch_command::BatchRequest { product, input: &input, concurrency, rate, resume };
            batch_command::run(global, &request)
        }
        Command::Codes { code } => codes::run(code, global.output.as_deref()),
        Command::Sandbox { command } => sandbox_commands::run(command, global.output.as_deref()),
    }
}
