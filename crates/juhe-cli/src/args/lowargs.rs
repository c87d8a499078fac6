//! The command line as typed: clap's view, with each value parsed and range-checked once.
//! What the values mean together (which options a command takes, where checks go) is
//! `hiargs`'s job.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use juhe_verify::{MAX_CONCURRENCY, Mode, Product};

/// Verify Chinese identities through Juhe (聚合数据), or run an offline Juhe sandbox.
///
/// With neither a key nor a base URL configured, checks run against an embedded sandbox
/// (test data, no account). Exit status: 0 match, 1 mismatch, 2 bad input or usage (nothing
/// sent), 3 Juhe answered with an error code, 4 transport or protocol failure.
#[derive(Debug, Parser)]
#[command(name = "juhe", version, about, propagate_version = true)]
pub(crate) struct LowArgs {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes; `hiargs` refuses those a command would ignore.
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
    /// One base URL replacing both Juhe hosts; needs a key.
    #[arg(long, global = true, env = "JUHE_BASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Transmission mode (signed is telecom3 only; face is plain only).
    #[arg(long, global = true, value_parser = mode_parser(), default_value = "plain")]
    pub(crate) mode: Mode,
    /// HTTP client: reqwest (async client) or ureq (blocking client).
    #[arg(long, global = true, value_parser = ["reqwest", "ureq"], default_value = "reqwest")]
    pub(crate) transport: String,
    /// Output format: text or json (checks, codes, the batch summary); csv or json
    /// (sandbox identities, csv by default).
    #[arg(long, global = true, value_parser = ["text", "json", "csv"])]
    pub(crate) format: Option<String>,
    /// One deadline per attempt, connecting, sending and the whole answer included.
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_timeout, default_value = "30")]
    pub(crate) timeout: Duration,
    /// Check against the embedded sandbox, whatever is configured.
    #[arg(long, global = true)]
    pub(crate) sandbox: bool,
    /// A CA certificate (PEM) to trust beside the platform's: a sandbox served with --tls,
    /// a corporate proxy.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

/// The global options that say where and how checks go: refused by commands that make none.
pub(crate) const CONNECTION_OPTIONS: [&str; 9] =
    ["key", "openid", "rsa_public_key", "base_url", "mode", "transport", "timeout", "sandbox", "ca_cert"];

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
        #[arg(value_parser = product_parser())]
        product: Product,
        /// The input CSV.
        #[arg(long, value_name = "IN.csv")]
        input: PathBuf,
        /// The output CSV.
        #[arg(long, value_name = "OUT.csv")]
        output: PathBuf,
        /// Checks in flight (or finished but not yet written) at once.
        #[arg(long, default_value = "8", value_parser = parse_concurrency)]
        concurrency: usize,
        /// At most this many checks started per second.
        #[arg(long, value_name = "R", value_parser = parse_rate)]
        rate: Option<f64>,
        /// Continue an interrupted run: skip rows already in the output file, once they are
        /// proven to belong to this input.
        #[arg(long)]
        resume: bool,
        /// Check repeated rows each time instead of once (by default a repeat reuses the
        /// first row's result and is not billed).
        #[arg(long)]
        no_dedupe: bool,
        /// Stop before billed checks (counting those in flight) could exceed N; --resume
        /// continues.
        #[arg(long, value_name = "N")]
        max_billed: Option<u64>,
        /// The input's encoding, when detection guesses wrong; the output is written in it.
        #[arg(long, value_parser = ["utf-8", "gbk"])]
        encoding: Option<String>,
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
    Serve(ServeArgs),
    /// Print the built-in identities (and those of --identities FILE).
    Identities {
        /// Add the identities of a .json or .csv file.
        #[arg(long, value_name = "FILE")]
        identities: Option<PathBuf>,
    },
}

/// The library's modes by their names: no second enum to keep in step.
fn mode_parser() -> impl clap::builder::TypedValueParser<Value = Mode> {
    PossibleValuesParser::new(Mode::ALL.map(Mode::name))
        .map(|name| Mode::ALL.into_iter().find(|m| m.name() == name).unwrap_or_default())
}

/// The library's products by their names.
fn product_parser() -> impl clap::builder::TypedValueParser<Value = Product> {
    PossibleValuesParser::new(Product::ALL.map(Product::name))
        .map(|name| Product::ALL.into_iter().find(|p| p.name() == name).unwrap_or(Product::Telecom3))
}

/// The longest `--timeout`: an hour. Juhe answers in seconds.
pub(crate) const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// `--rate` bounds, checks per second.
pub(crate) const RATE_RANGE: (f64, f64) = (0.01, 100_000.0);

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(format!("must be more than 0 and at most {MAX_TIMEOUT_SECS} seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {MAX_CONCURRENCY}")),
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let (min, max) = RATE_RANGE;
    match text.trim().parse::<f64>() {
        Ok(rate) if (min..=max).contains(&rate) => Ok(rate),
        _ => Err(format!("must be a number of checks per second from {min} to {max}")),
    }
}

/// `juhe sandbox serve`'s options.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: String,
    /// Write {"base_url", "key", "openid", "rsa_public_key"} to this file once listening.
    #[arg(long, value_name = "FILE")]
    pub(crate) credentials_out: Option<PathBuf>,
    /// Add the identities of a .json or .csv file.
    #[arg(long, value_name = "FILE")]
    pub(crate) identities: Option<PathBuf>,
    /// Make a fresh RSA key pair instead of the published test pair.
    #[arg(long)]
    pub(crate) fresh_rsa_key: bool,
    /// Do not log requests.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Serve HTTPS with a certificate made at start; --credentials-out then also holds the
    /// CA certificate to trust (`ca_certificate`).
    #[arg(long)]
    pub(crate) tls: bool,
    /// Allow an address other machines can reach (refused otherwise): admin routes then need
    /// the sandbox's key (?key= or X-Juhe-Sandbox-Key).
    #[arg(long)]
    pub(crate) expose: bool,
}
