//! The command line, as the CLI contract in `docs/cli.md` describes it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Verify Chinese identities through Juhe (聚合数据), or run an offline Juhe sandbox.
#[derive(Debug, Parser)]
#[command(name = "juhe", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Output format: text or json for checks; csv or json for `sandbox identities`.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub(crate) output: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run or inspect the offline sandbox.
    Sandbox {
        #[command(subcommand)]
        command: SandboxCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SandboxCommand {
    /// Serve the sandbox until Ctrl-C, logging one masked line per request on stderr.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Write {"base_url", "key", "openid", "rsa_public_key"} to this file once listening.
        #[arg(long, value_name = "FILE")]
        credentials_out: Option<PathBuf>,
        /// Add the identities of a .json or .csv file.
        #[arg(long, value_name = "FILE")]
        identities: Option<PathBuf>,
        /// Make a fresh RSA key pair instead of the published test pair.
        #[arg(long)]
        fresh_rsa_key: bool,
        /// Do not log requests.
        #[arg(long)]
        quiet: bool,
    },
    /// Print the built-in identities (and those of --identities FILE).
    Identities {
        /// Add the identities of a .json or .csv file.
        #[arg(long, value_name = "FILE")]
        identities: Option<PathBuf>,
    },
}
