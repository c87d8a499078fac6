//! The command line, as the CLI contract describes it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Verify Chinese identities through Juhe (聚合数据), or run an offline Juhe sandbox.
///
/// With no key configured, checks run against an embedded sandbox (test data, no account).
/// Exit status: 0 match, 1 mismatch, 2 bad input or usage (nothing sent), 3 Juhe answered
/// with an error code, 4 transport or protocol failure.
#[derive(Debug, Parser)]
#[command(name = "juhe", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// API key (个人中心 → 我的数据).
    #[arg(long, global = true, env = "JUHE_KEY", hide_env_values = true)]
    pub(crate) key: Option<String>,
    /// Account openid (signed and AES modes; idcard's RSA mode).
    #[arg(long, global = true, env = "JUHE_OPENID", hide_env_values = true)]
    pub(crate) openid: Option<String>,
    /// Account RSA public key: a file, or the key itself (RSA mode).
    #[arg(long, global = true, env = "JUHE_RSA_PUBLIC_KEY", hide_env_values = true, value_name = "FILE")]
    pub(crate) rsa_public_key: Option<String>,
    /// One base URL replacing both Juhe hosts.
    #[arg(long, global = true, env = "JUHE_BASE_URL", value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Transmission mode (signed is telecom3 only; face is plain only).
    #[arg(long, global = true, value_enum, default_value_t = ModeArg::Plain)]
    pub(crate) mode: ModeArg,
    /// HTTP client: reqwest (async client) or ureq (blocking client).
    #[arg(long, global = true, value_enum, default_value_t = TransportArg::Reqwest)]
    pub(crate) transport: TransportArg,
    /// Output: text or json for checks; csv or json for `sandbox identities`; the output
    /// file for `batch`.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub(crate) output: Option<String>,
    /// Check against the embedded sandbox (the default when no key is configured).
    #[arg(long, global = true)]
    pub(crate) sandbox: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    Plain,
    Signed,
    Aes,
    Rsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProductArg {
    Idcard,
    Telecom2,
    Telecom3,
    Face,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransportArg {
    Reqwest,
    Ureq,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// ID card number + name (身份证实名认证).
    Idcard {
        /// Name on the ID card.
        #[arg(long)]
        name: String,
        /// 18-character ID card number.
        #[arg(long)]
        idcard: String,
    },
    /// Mobile + ID card number (手机身份证二要素).
    Telecom2 {
        /// 18-character ID card number.
        #[arg(long)]
        idcard: String,
        /// Mainland mobile number.
        #[arg(long)]
        mobile: String,
    },
    /// Mobile + name + ID card number (三网手机实名制).
    Telecom3 {
        /// Name on the ID card.
        #[arg(long)]
        name: String,
        /// 18-character ID card number.
        #[arg(long)]
        idcard: String,
        /// Mainland mobile number.
        #[arg(long)]
        mobile: String,
    },
    /// Face photo + mobile + name + ID card number (人脸四要素).
    Face {
        /// Name on the ID card.
        #[arg(long)]
        name: String,
        /// 18-character ID card number.
        #[arg(long)]
        idcard: String,
        /// Mainland mobile number.
        #[arg(long)]
        mobile: String,
        /// JPEG or PNG face photo.
        #[arg(long, value_name = "FILE")]
        image: PathBuf,
    },
    /// Check every row of a CSV file; results go to --output OUT.csv as each row finishes.
    ///
    /// Input: a header naming `name`, `idcard`, `mobile` (and `image`, a file path relative to
    /// the CSV, for face); other columns are carried through. Rows that fail validation are
    /// written with the reason and never sent. --resume skips rows already in OUT.csv.
    Batch {
        /// The product to check.
        #[arg(value_enum)]
        product: ProductArg,
        /// The input CSV.
        #[arg(long, value_name = "IN.csv")]
        input: PathBuf,
        /// Checks in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// At most this many checks started per second.
        #[arg(long, value_name = "R")]
        rate: Option<f64>,
        /// Continue an interrupted run: skip rows already in the output file.
        #[arg(long)]
        resume: bool,
    },
    /// Explain an error code, or list them all.
    Codes {
        /// A Juhe error_code.
        code: Option<i64>,
    },
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
