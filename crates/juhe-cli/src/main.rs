//! `juhe`: verify identities through Juhe (聚合数据) from the command line, or run the
//! offline sandbox.
//!
//! Exit status: 0 verified match; 1 verified mismatch; 2 bad input or usage (nothing was
//! sent); 3 Juhe answered with an error code; 4 transport or protocol failure.

mod args;
mod failure;
mod sandbox_commands;

use std::process::ExitCode;

use clap::Parser;

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
    match cli.command {
        Command::Sandbox { command } => sandbox_commands::run(command, cli.output.as_deref()),
    }
}
