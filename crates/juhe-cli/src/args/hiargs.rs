//! The command line as meant: each command's settings, typed and checked together, so every
//! usage error is found before anything starts (model: ripgrep's `lowargs` → `hiargs`).

use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;
use juhe_verify::{Mode, Product};

use crate::args::lowargs::{CONNECTION_OPTIONS, Command, GlobalArgs, LowArgs, SandboxCommand, ServeArgs};
use crate::batch::encoding::TextEncoding;
use crate::failure::Failure;

/// What to run.
#[derive(Debug)]
pub(crate) enum HiArgs {
    /// One check.
    Check { input: CheckInput, connection: Connection, format: Format },
    /// A CSV file of checks.
    Batch { batch: BatchArgs, connection: Connection, format: Format },
    /// Explain codes.
    Codes { code: Option<i64>, format: Format },
    /// Serve the sandbox.
    SandboxServe(ServeArgs),
    /// Print the sandbox's identities.
    SandboxIdentities { identities: Option<PathBuf>, format: IdentityFormat },
}

/// Text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

/// How `sandbox identities` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentityFormat {
    Csv,
    Json,
}

/// The fields of one check, as typed (validated by the library).
#[derive(Debug)]
pub(crate) enum CheckInput {
    IdCard { name: String, idcard: String },
    Telecom2 { idcard: String, mobile: String },
    Telecom3 { name: String, idcard: String, mobile: String },
    Face { name: String, idcard: String, mobile: String, image: PathBuf },
}

impl CheckInput {
    pub(crate) fn product(&self) -> Product {
        match self {
            CheckInput::IdCard { .. } => Product::IdCard,
            CheckInput::Telecom2 { .. } => Product::Telecom2,
            CheckInput::Telecom3 { .. } => Product::Telecom3,
            CheckInput::Face { .. } => Product::Face,
        }
    }
}

/// `juhe batch`'s own settings.
#[derive(Debug)]
pub(crate) struct BatchArgs {
    pub(crate) product: Product,
    pub(crate) input: PathBuf,
    pub(crate) output: PathBuf,
    pub(crate) concurrency: usize,
    pub(crate) rate: Option<f64>,
    pub(crate) resume: bool,
    pub(crate) dedupe: bool,
    pub(crate) max_billed: Option<u64>,
    /// Given with `--encoding`; detected otherwise.
    pub(crate) encoding: Option<TextEncoding>,
}

/// Where checks go and how.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) target: Target,
    pub(crate) mode: Mode,
    /// The blocking client (ureq) rather than the async one (reqwest).
    pub(crate) blocking: bool,
    pub(crate) timeout: Duration,
    /// The PEM of a CA certificate to trust.
    pub(crate) ca_cert: Option<String>,
}

/// Juhe (or a server standing in for it), or the embedded sandbox.
#[derive(Debug)]
pub(crate) enum Target {
    Juhe {
        key: String,
        openid: Option<String>,
        rsa_public_key: Option<String>,
        base_url: Option<String>,
    },
    /// Started for this run; `why` is said on stderr.
    EmbeddedSandbox {
        why: &'static str,
    },
}

impl HiArgs {
    /// Checks the options together. `matches` tells typed options from environment values.
    pub(crate) fn from_low(low: LowArgs, matches: &ArgMatches) -> Result<HiArgs, Failure> {
        let LowArgs { global, command } = low;
        let format = |allowed: &[&str], default: &str| -> Result<String, Failure> {
            let chosen = global.format.clone().unwrap_or_else(|| default.to_owned());
            if allowed.contains(&chosen.as_str()) {
                Ok(chosen)
            } else {
                Err(Failure::usage(format!(
                    "--format {chosen}: this command prints {}",
                    allowed.join(" or ")
                )))
            }
        };
        let text_or_json = || {
            format(&["text", "json"], "text").map(|f| if f == "json" { Format::Json } else { Format::Text })
        };
        Ok(match command {
            Command::Codes { code } => {
                refuse_connection_options(matches, "codes")?;
                HiArgs::Codes { code, format: text_or_json()? }
            }
            Command::Sandbox { command } => {
                let name = match command {
                    SandboxCommand::Serve(_) => "sandbox serve",
                    SandboxCommand::Identities { .. } => "sandbox identities",
                };
                refuse_connection_options(matches, name)?;
                match command {
                    SandboxCommand::Identities { identities } => {
                        let format = match format(&["csv", "json"], "csv")?.as_str() {
                            "json" => IdentityFormat::Json,
                            _ => IdentityFormat::Csv,
                        };
                        HiArgs::SandboxIdentities { identities, format }
                    }
                    SandboxCommand::Serve(serve) => {
                        if global.format.is_some() {
                            return Err(Failure::usage("--format has no effect on `sandbox serve`"));
                        }
                        HiArgs::SandboxServe(serve)
                    }
                }
            }
            Command::Batch {
                product,
                input,
                output,
                concurrency,
                rate,
                resume,
                no_dedupe,
                max_billed,
                encoding,
            } => {
                let format = text_or_json()?;
                let encoding = encoding
                    .map(|e| if e == "gbk" { TextEncoding::Gbk } else { TextEncoding::Utf8 { bom: false } });
                let dedupe = !no_dedupe;
                let batch = BatchArgs {
                    product,
                    input,
                    output,
                    concurrency,
                    rate,
                    resume,
                    dedupe,
                    max_billed,
                    encoding,
                };
                HiArgs::Batch { batch, connection: connection(global)?, format }
            }
            Command::Idcard { name, idcard } => HiArgs::Check {
                format: text_or_json()?,
                input: CheckInput::IdCard { name, idcard },
                connection: connection(global)?,
            },
            Command::Telecom2 { idcard, mobile } => HiArgs::Check {
                format: text_or_json()?,
                input: CheckInput::Telecom2 { idcard, mobile },
                connection: connection(global)?,
            },
            Command::Telecom3 { name, idcard, mobile } => HiArgs::Check {
                format: text_or_json()?,
                input: CheckInput::Telecom3 { name, idcard, mobile },
                connection: connection(global)?,
            },
            Command::Face { name, idcard, mobile, image } => HiArgs::Check {
                format: text_or_json()?,
                input: CheckInput::Face { name, idcard, mobile, image },
                connection: connection(global)?,
            },
        })
    }
}

/// Whether `low` asks for a check printed as JSON: then every failure, usage errors found
/// here included, is printed as one JSON object.
pub(crate) fn wants_json_check(low: &LowArgs) -> Option<(Product, Mode)> {
    let json = low.global.format.as_deref() == Some("json");
    let product = match &low.command {
        Command::Idcard { .. } => Product::IdCard,
        Command::Telecom2 { .. } => Product::Telecom2,
        Command::Telecom3 { .. } => Product::Telecom3,
        Command::Face { .. } => Product::Face,
        _ => return None,
    };
    json.then_some((product, low.global.mode))
}

/// Where checks go. The embedded sandbox only on request, or when nothing points elsewhere:
/// a base URL without a key is a mistake (it would check real people against test data).
fn connection(global: GlobalArgs) -> Result<Connection, Failure> {
    let GlobalArgs {
        key, openid, rsa_public_key, base_url, mode, transport, timeout, sandbox, ca_cert, ..
    } = global;
    let ca_cert = match ca_cert {
        Some(path) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| Failure::usage(format!("could not read --ca-cert {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let target = match (sandbox, key, &base_url) {
        (true, ..) => Target::EmbeddedSandbox { why: "--sandbox" },
        (false, None, None) => {
            Target::EmbeddedSandbox { why: "no key or base URL configured (set JUHE_KEY or --key for Juhe)" }
        }
        (false, None, Some(_)) => {
            return Err(Failure::usage(
                "a base URL (--base-url or JUHE_BASE_URL) needs a key (--key or JUHE_KEY); \
                 for the embedded sandbox pass --sandbox",
            ));
        }
        (false, Some(key), _) => Target::Juhe { key, openid, rsa_public_key, base_url },
    };
    Ok(Connection { target, mode, blocking: transport == "ureq", timeout, ca_cert })
}

/// Refuses connection options typed on the command line of a command that makes no check;
/// values from the environment are left alone (they are there for other commands).
fn refuse_connection_options(matches: &ArgMatches, command: &str) -> Result<(), Failure> {
    let typed = CONNECTION_OPTIONS
        .into_iter()
        .find(|id| matches!(value_source(matches, id), Some(ValueSource::CommandLine)));
    match typed {
        Some(id) => Err(Failure::usage(format!("--{} has no effect on `{command}`", id.replace('_', "-")))),
        None => Ok(()),
    }
}

/// Where an option's value came from, looked for in the subcommand that holds it.
fn value_source(matches: &ArgMatches, id: &str) -> Option<ValueSource> {
    let mut current = Some(matches);
    let mut found = None;
    while let Some(m) = current {
        if let Some(source) = m.value_source(id) {
            found = Some(source).filter(|s| *s == ValueSource::CommandLine).or(found).or(Some(source));
        }
        current = m.subcommand().map(|(_, sub)| sub);
    }
    found
}
