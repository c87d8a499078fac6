//! The command line as meant: each command's settings, typed and checked together, so every
//! usage error is found before anything starts (model: ripgrep's `lowargs` → `hiargs`).

use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;
use juhe_verify::proto::Param;
use juhe_verify::{Mode, Product};

use juhe_verify::ledger::Location;

use crate::args::lowargs::{
    AnyFormat, BatchLowArgs, CONNECTION_OPTIONS, CheckArgs, Command, ConnectionArgs, EncodingArg,
    GatewayCommand, GatewayServeArgs, KeysCommand, LEDGER_OPTIONS, LedgerArgs, LedgerCommand, LowArgs,
    MasterKeyArgs, ReportFormat, SandboxCommand, ServeArgs, Transport,
};
use crate::args::product_commands::{FieldArg, ProductCommand};
use crate::args::profile::Profile;
use crate::failure::Failure;
use crate::prices::Prices;
use juhe_csv::TextEncoding;

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
    /// Read the ledger; `prices` for `ledger report`.
    Ledger { command: LedgerCommand, location: Location, prices: Prices },
    /// Serve the gateway.
    GatewayServe(GatewayServe),
    /// Manage the gateway's team keys in the ledger at `location`.
    GatewayKeys { command: KeysCommand, location: Location },
    /// Print a completion script.
    Completions(clap_complete::Shell),
    /// Print the manual page.
    Man,
}

pub(crate) use crate::args::lowargs::{Format, IdentityFormat};

/// `juhe gateway serve`, its options checked together.
#[derive(Debug)]
pub(crate) struct GatewayServe {
    pub(crate) addr: String,
    pub(crate) expose: bool,
    /// The certificate chain and key files, for HTTPS.
    pub(crate) tls: Option<(PathBuf, PathBuf)>,
    pub(crate) teams_apart: bool,
    pub(crate) reuse_across_purposes: bool,
    pub(crate) address_out: Option<PathBuf>,
    pub(crate) master_key: MasterKeyArgs,
    /// Where checks go; always with a ledger (it holds the team keys).
    pub(crate) connection: Connection,
}

/// The fields of one check, as typed (validated by the library).
#[derive(Debug)]
pub(crate) struct CheckInput {
    pub(crate) product: Product,
    pub(crate) fields: Vec<(Param, FieldArg)>,
}

/// `juhe batch`'s own settings.
#[derive(Debug)]
pub(crate) struct BatchArgs {
    pub(crate) product: Product,
    pub(crate) input: PathBuf,
    pub(crate) output: PathBuf,
    /// `None`: the library derives it from the rate.
    pub(crate) concurrency: Option<usize>,
    pub(crate) rate: Option<f64>,
    pub(crate) process_rate: Option<f64>,
    pub(crate) resume: bool,
    /// Check again, on resume, the rows an earlier run left maybe billed.
    pub(crate) resend_maybe_billed: bool,
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
    /// Where checks are recorded, and what the record may do; `None` records nothing.
    pub(crate) ledger: Option<LedgerSetup>,
}

/// The ledger of a command's checks.
#[derive(Debug)]
pub(crate) struct LedgerSetup {
    /// Why the checks are made.
    pub(crate) purpose: Option<juhe_verify::ledger::Purpose>,
    pub(crate) location: Location,
    pub(crate) reuse_within: Option<Duration>,
    pub(crate) max_billed_per_day: Option<u64>,
    pub(crate) max_billed_per_month: Option<u64>,
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
        // `verbose` is taken by `diagnostics::install` before anything runs.
        let LowArgs { before, command, verbose: _, profile, config } = low;
        let sub = matches.subcommand().map(|(_, m)| m);
        let name = command_name(&command);
        let uses_profile =
            makes_checks(&command) || matches!(command, Command::Ledger { .. } | Command::Gateway { .. });
        let profile = if uses_profile { Profile::load(profile.as_deref(), config)? } else { None };
        let (checks, format_before) = (makes_checks(&command), before.format);
        if !checks {
            let reads_ledger = matches!(command, Command::Ledger { .. } | Command::Gateway { .. });
            refuse_connection_options(matches, name, reads_ledger)?;
        }
        let text_or_json = |after: Option<Format>| -> Result<Format, Failure> {
            match (after, format_before) {
                (Some(format), _) => Ok(format),
                (None, None | Some(AnyFormat::Text)) => Ok(Format::Text),
                (None, Some(AnyFormat::Json)) => Ok(Format::Json),
                (None, Some(AnyFormat::Csv)) => {
                    Err(Failure::usage(format!("--format csv: `{name}` prints text or json")))
                }
            }
        };
        let connection = |args: CheckArgs| -> Result<(Connection, Format), Failure> {
            let after = sub.unwrap_or(matches);
            let mut merged = merge(before.connection.clone(), args.connection, after);
            let mut ledger = merge_ledger(before.ledger.clone(), args.ledger, after);
            if let Some(profile) = &profile {
                profile.fill_connection(&mut merged)?;
                profile.fill_ledger(&mut ledger)?;
            }
            Ok((connection(merged, ledger)?, text_or_json(args.format)?))
        };
        Ok(match command {
            Command::Completions { .. } | Command::Man if format_before.is_some() => {
                return Err(Failure::usage(format!("--format has no effect on `{name}`")));
            }
            Command::Completions { shell } => HiArgs::Completions(shell),
            Command::Man => HiArgs::Man,
            Command::Codes { code, format } => HiArgs::Codes { code, format: text_or_json(format)? },
            Command::Sandbox { command: SandboxCommand::Identities { identities, format } } => {
                HiArgs::SandboxIdentities { identities, format: identities_format(format, format_before)? }
            }
            Command::Ledger { command } => {
                let given = before.ledger.ledger.or(profile.as_ref().and_then(Profile::ledger));
                ledger_command(command, given, format_before, name, profile.as_ref())?
            }
            Command::Gateway { command: GatewayCommand::Keys { command } } => {
                let given = before.ledger.ledger.or(profile.as_ref().and_then(Profile::ledger));
                keys_command(command, given, format_before, name)?
            }
            Command::Gateway { command: GatewayCommand::Serve(serve) } => {
                if format_before.is_some() {
                    return Err(Failure::usage("--format has no effect on `gateway serve`"));
                }
                let after = sub.and_then(|m| m.subcommand()).map_or(matches, |(_, m)| m);
                gateway_serve(
                    serve,
                    before.connection.clone(),
                    before.ledger.clone(),
                    after,
                    profile.as_ref(),
                )?
            }
            Command::Sandbox { command: SandboxCommand::Serve(serve) } => {
                if format_before.is_some() {
                    return Err(Failure::usage("--format has no effect on `sandbox serve`"));
                }
                HiArgs::SandboxServe(serve)
            }
            Command::Batch(batch) => {
                let (batch, args) = BatchArgs::from_low(batch);
                let (connection, format) = connection(args)?;
                HiArgs::Batch { batch, connection, format }
            }
            Command::Check(ProductCommand { product, fields, args }) => {
                let (connection, format) = connection(args)?;
                HiArgs::Check { format, input: CheckInput { product, fields }, connection }
            }
        })
    }
}

/// `--format` for `sandbox identities`: csv unless json is asked for.
fn identities_format(
    after: Option<IdentityFormat>,
    before: Option<AnyFormat>,
) -> Result<IdentityFormat, Failure> {
    Ok(match (after, before) {
        (Some(format), _) => format,
        (None, None | Some(AnyFormat::Csv)) => IdentityFormat::Csv,
        (None, Some(AnyFormat::Json)) => IdentityFormat::Json,
        (None, Some(AnyFormat::Text)) => {
            return Err(Failure::usage("--format text: `sandbox identities` prints csv or json"));
        }
    })
}

/// A `juhe ledger` command: where the ledger is (`--ledger` after the command, before it, or
/// the default) and the format it prints in.
fn ledger_command(
    command: LedgerCommand,
    before: Option<String>,
    format_before: Option<AnyFormat>,
    name: &str,
    profile: Option<&Profile>,
) -> Result<HiArgs, Failure> {
    let typed = match &command {
        LedgerCommand::Report { at, .. }
        | LedgerCommand::Pending { at, .. }
        | LedgerCommand::Export { at, .. }
        | LedgerCommand::Audit { at, .. }
        | LedgerCommand::Settle { at, .. }
        | LedgerCommand::Forget { at, .. }
        | LedgerCommand::Prune { at, .. }
        | LedgerCommand::Secrets { at, .. }
        | LedgerCommand::Retention { at, .. } => at.ledger.clone(),
    };
    let location = match typed.or(before) {
        Some(text) => parse_location(&text)?,
        None => crate::args::default_ledger::location()?,
    };
    let prints_text_or_json = matches!(
        command,
        LedgerCommand::Report { .. }
            | LedgerCommand::Pending { .. }
            | LedgerCommand::Settle { .. }
            | LedgerCommand::Secrets { .. }
            | LedgerCommand::Retention { .. }
    );
    let format = match format_before {
        Some(AnyFormat::Json) => Format::Json,
        Some(AnyFormat::Csv) if prints_text_or_json => {
            return Err(Failure::usage(format!("--format csv: `{name}` prints text or json")));
        }
        Some(AnyFormat::Text) if !prints_text_or_json => {
            return Err(Failure::usage(format!("--format text has no effect on `{name}`")));
        }
        _ => Format::Text,
    };
    let prices = match &command {
        LedgerCommand::Report { price, .. } => {
            let mut typed = Prices::default();
            for text in price {
                typed.set(text).map_err(|e| Failure::usage(format!("--price: {e}")))?;
            }
            typed.over(profile.map(Profile::prices).transpose()?.unwrap_or_default())
        }
        _ => Prices::default(),
    };
    Ok(HiArgs::Ledger { command: with_format_before(command, format), location, prices })
}

/// `juhe gateway keys …`: where the ledger is, as for `juhe ledger`.
fn keys_command(
    command: KeysCommand,
    before: Option<String>,
    format_before: Option<AnyFormat>,
    name: &str,
) -> Result<HiArgs, Failure> {
    let typed = match &command {
        KeysCommand::Add { issue, .. } | KeysCommand::Rotate { issue, .. } => issue.at.ledger.clone(),
        KeysCommand::Revoke { at, .. } | KeysCommand::List { at, .. } => at.ledger.clone(),
    };
    let location = match typed.or(before) {
        Some(text) => parse_location(&text)?,
        None => crate::args::default_ledger::location()?,
    };
    let command = match (command, format_before) {
        (command, None) => command,
        (KeysCommand::List { log, format, at }, Some(before)) => {
            let format = match (format, before) {
                (Some(format), _) => format,
                (None, AnyFormat::Json) => Format::Json,
                (None, AnyFormat::Text) => Format::Text,
                (None, AnyFormat::Csv) => {
                    return Err(Failure::usage(format!("--format csv: `{name}` prints text or json")));
                }
            };
            KeysCommand::List { log, format: Some(format), at }
        }
        (_, Some(_)) => return Err(Failure::usage(format!("--format has no effect on `{name}`"))),
    };
    Ok(HiArgs::GatewayKeys { command, location })
}

/// `juhe gateway serve`: exposure needs TLS (or a TLS proxy said to be in front), and the
/// ledger is always there: it holds the team keys.
fn gateway_serve(
    serve: GatewayServeArgs,
    before_connection: ConnectionArgs,
    before_ledger: LedgerArgs,
    after: &ArgMatches,
    profile: Option<&Profile>,
) -> Result<HiArgs, Failure> {
    let GatewayServeArgs {
        addr,
        expose,
        tls_cert,
        tls_key,
        behind_tls_proxy,
        teams_apart,
        reuse_across_purposes,
        address_out,
        master_key,
        connection: typed,
        ledger,
    } = serve;
    let tls = tls_cert.zip(tls_key);
    if expose && tls.is_none() && !behind_tls_proxy {
        return Err(Failure::usage(
            "--expose sends personal data across a network: give --tls-cert and --tls-key, or \
             --behind-tls-proxy when a TLS proxy in front of the gateway terminates TLS",
        ));
    }
    if ledger.no_ledger {
        return Err(Failure::usage(
            "the gateway keeps its team keys and checks in the ledger: leave out --no-ledger",
        ));
    }
    let mut merged = merge(before_connection, typed, after);
    let mut merged_ledger = merge_ledger(before_ledger, ledger.clone(), after);
    if let Some(profile) = profile {
        profile.fill_connection(&mut merged)?;
        profile.fill_ledger(&mut merged_ledger)?;
    }
    let mode_given = merged.mode;
    let mut connection = connection(merged, merged_ledger)?;
    if connection.ledger.is_none() {
        let LedgerArgs {
            reuse_within, max_billed_per_day, max_billed_per_month, purpose, consent_ref, ..
        } = ledger;
        let location = crate::args::default_ledger::location()?;
        let purpose = purpose.map(|label| juhe_verify::ledger::Purpose { label, consent_ref });
        connection.ledger =
            Some(LedgerSetup { location, reuse_within, max_billed_per_day, max_billed_per_month, purpose });
    }
    if mode_given.is_none() {
        connection.mode = default_gateway_mode(&connection.target);
    }
    Ok(HiArgs::GatewayServe(GatewayServe {
        addr,
        expose,
        tls,
        teams_apart,
        reuse_across_purposes,
        address_out,
        master_key,
        connection,
    }))
}

/// An encrypted mode unless the credentials allow none: AES with an openid, else RSA with
/// the account's public key.
fn default_gateway_mode(target: &Target) -> Mode {
    match target {
        Target::EmbeddedSandbox { .. } | Target::Juhe { openid: Some(_), .. } => Mode::Aes,
        Target::Juhe { rsa_public_key: Some(_), .. } => Mode::Rsa,
        Target::Juhe { .. } => Mode::Plain,
    }
}

impl BatchArgs {
    /// The batch's own settings, and the options every check takes.
    fn from_low(batch: BatchLowArgs) -> (Self, CheckArgs) {
        let BatchLowArgs {
            product,
            input,
            output,
            concurrency,
            rate,
            process_rate,
            resume,
            resend_maybe_billed,
            no_dedupe,
            max_billed,
            encoding,
            args,
        } = batch;
        let encoding = encoding.map(|e| match e {
            EncodingArg::Gbk => TextEncoding::Gbk,
            EncodingArg::Utf8 => TextEncoding::Utf8 { bom: false },
        });
        let batch = BatchArgs {
            product,
            input,
            output,
            concurrency,
            rate,
            process_rate,
            resume,
            resend_maybe_billed,
            dedupe: !no_dedupe,
            max_billed,
            encoding,
        };
        (batch, args)
    }
}

/// The command's name, for messages.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Check(check) => check.product.name(),
        Command::Batch(_) => "batch",
        Command::Codes { .. } => "codes",
        Command::Sandbox { command: SandboxCommand::Serve(_) } => "sandbox serve",
        Command::Sandbox { command: SandboxCommand::Identities { .. } } => "sandbox identities",
        Command::Ledger { command: LedgerCommand::Report { .. } } => "ledger report",
        Command::Ledger { command: LedgerCommand::Pending { .. } } => "ledger pending",
        Command::Ledger { command: LedgerCommand::Export { .. } } => "ledger export",
        Command::Ledger { command: LedgerCommand::Audit { .. } } => "ledger audit",
        Command::Ledger { command: LedgerCommand::Prune { .. } } => "ledger prune",
        Command::Ledger { command: LedgerCommand::Retention { .. } } => "ledger retention",
        Command::Ledger { command: LedgerCommand::Secrets { .. } } => "ledger secrets",
        Command::Ledger { command: LedgerCommand::Settle { .. } } => "ledger settle",
        Command::Ledger { command: LedgerCommand::Forget { .. } } => "ledger forget",
        Command::Gateway { command: GatewayCommand::Serve(_) } => "gateway serve",
        Command::Gateway { command: GatewayCommand::Keys { command: KeysCommand::Add { .. } } } => {
            "gateway keys add"
        }
        Command::Gateway { command: GatewayCommand::Keys { command: KeysCommand::Rotate { .. } } } => {
            "gateway keys rotate"
        }
        Command::Gateway { command: GatewayCommand::Keys { command: KeysCommand::Revoke { .. } } } => {
            "gateway keys revoke"
        }
        Command::Gateway { command: GatewayCommand::Keys { command: KeysCommand::List { .. } } } => {
            "gateway keys list"
        }
        Command::Completions { .. } => "completions",
        Command::Man => "man",
    }
}

/// A `--format` typed before `ledger report`, `pending` or `settle` counts as theirs.
fn with_format_before(command: LedgerCommand, before: Format) -> LedgerCommand {
    match command {
        LedgerCommand::Report { since, until, by, price, format, at } => {
            let before = match before {
                Format::Text => ReportFormat::Text,
                Format::Json => ReportFormat::Json,
            };
            LedgerCommand::Report { since, until, by, price, format: Some(format.unwrap_or(before)), at }
        }
        LedgerCommand::Pending { format, at } => {
            LedgerCommand::Pending { format: Some(format.unwrap_or(before)), at }
        }
        LedgerCommand::Secrets { key, format, at } => {
            LedgerCommand::Secrets { key, format: Some(format.unwrap_or(before)), at }
        }
        LedgerCommand::Retention { personal, billing, format, at } => {
            LedgerCommand::Retention { personal, billing, format: Some(format.unwrap_or(before)), at }
        }
        LedgerCommand::Settle { entries, billed, order_id, not_billed, format, at } => {
            LedgerCommand::Settle {
                entries,
                billed,
                order_id,
                not_billed,
                format: Some(format.unwrap_or(before)),
                at,
            }
        }
        other => other,
    }
}

fn parse_location(text: &str) -> Result<Location, Failure> {
    Location::parse(text).map_err(|e| Failure::usage(format!("--ledger: {e}")))
}

/// The ledger options given before the command and after it, as [`merge`] does.
fn merge_ledger(before: LedgerArgs, after: LedgerArgs, after_matches: &ArgMatches) -> LedgerArgs {
    let typed = |id: &str| after_matches.value_source(id) == Some(ValueSource::CommandLine);
    LedgerArgs {
        ledger: if typed("ledger") { after.ledger } else { before.ledger.or(after.ledger) },
        no_ledger: after.no_ledger || before.no_ledger,
        reuse_within: after.reuse_within.or(before.reuse_within),
        max_billed_per_day: after.max_billed_per_day.or(before.max_billed_per_day),
        max_billed_per_month: after.max_billed_per_month.or(before.max_billed_per_month),
        purpose: after.purpose.or(before.purpose),
        consent_ref: after.consent_ref.or(before.consent_ref),
    }
}

/// Where a command's checks are recorded: the ledger given, or for checks against Juhe the
/// default one; nothing for the embedded sandbox unless a ledger is given, or with
/// `--no-ledger`. What the record may do needs a record.
fn ledger_setup(args: LedgerArgs, target: &Target) -> Result<Option<LedgerSetup>, Failure> {
    let LedgerArgs {
        ledger,
        no_ledger,
        reuse_within,
        max_billed_per_day,
        max_billed_per_month,
        purpose,
        consent_ref,
    } = args;
    let purpose = purpose.map(|label| juhe_verify::ledger::Purpose { label, consent_ref });
    let first_asked = [
        purpose.as_ref().map(|_| "--purpose"),
        reuse_within.map(|_| "--reuse-within"),
        max_billed_per_day.map(|_| "--max-billed-per-day"),
        max_billed_per_month.map(|_| "--max-billed-per-month"),
    ]
    .into_iter()
    .flatten()
    .next();
    let location = match (no_ledger, ledger, target) {
        (true, _, _) => {
            if let Some(option) = first_asked {
                return Err(Failure::usage(format!("{option} needs a ledger: leave out --no-ledger")));
            }
            return Ok(None);
        }
        (false, Some(text), _) => parse_location(&text)?,
        (false, None, Target::Juhe { .. }) => crate::args::default_ledger::location()?,
        (false, None, Target::EmbeddedSandbox { .. }) => {
            if let Some(option) = first_asked {
                return Err(Failure::usage(format!(
                    "{option} needs a ledger: the embedded sandbox records nowhere unless given --ledger"
                )));
            }
            return Ok(None);
        }
    };
    Ok(Some(LedgerSetup { location, reuse_within, max_billed_per_day, max_billed_per_month, purpose }))
}

/// Whether the command sends checks (and so takes the connection options).
fn makes_checks(command: &Command) -> bool {
    matches!(
        command,
        Command::Check(_) | Command::Batch(_) | Command::Gateway { command: GatewayCommand::Serve(_) }
    )
}

/// The connection options given before the command and after it, as one: a value typed after
/// the command wins, then one typed before it, then the environment's.
fn merge(before: ConnectionArgs, after: ConnectionArgs, after_matches: &ArgMatches) -> ConnectionArgs {
    fn pick<V>(typed_after: bool, after: Option<V>, before: Option<V>) -> Option<V> {
        // Both read the same environment: the one before the command was typed, or is that.
        if typed_after { after } else { before.or(after) }
    }
    let typed = |id: &str| after_matches.value_source(id) == Some(ValueSource::CommandLine);
    ConnectionArgs {
        key: pick(typed("key"), after.key, before.key),
        openid: pick(typed("openid"), after.openid, before.openid),
        rsa_public_key: pick(typed("rsa_public_key"), after.rsa_public_key, before.rsa_public_key),
        base_url: pick(typed("base_url"), after.base_url, before.base_url),
        mode: pick(typed("mode"), after.mode, before.mode),
        transport: after.transport.or(before.transport),
        timeout: pick(typed("timeout"), after.timeout, before.timeout),
        sandbox: after.sandbox || before.sandbox,
        ca_cert: after.ca_cert.or(before.ca_cert),
    }
}

/// Whether `low` asks for a check printed as JSON: then every failure, usage errors found
/// here included, is printed as one JSON object.
/// Whether a batch asked for JSON (after the command, or before it).
pub(crate) fn wants_json_batch(low: &LowArgs) -> bool {
    match &low.command {
        Command::Batch(batch) => match batch.args.format {
            Some(format) => format == Format::Json,
            None => low.before.format == Some(AnyFormat::Json),
        },
        _ => false,
    }
}

pub(crate) fn wants_json_check(low: &LowArgs) -> Option<(Product, Mode)> {
    let (product, args) = match &low.command {
        Command::Check(check) => (check.product, &check.args),
        _ => return None,
    };
    let json = match args.format {
        Some(format) => format == Format::Json,
        None => low.before.format == Some(AnyFormat::Json),
    };
    let mode = args.connection.mode.or(low.before.connection.mode).unwrap_or_default();
    json.then_some((product, mode))
}

/// Where checks go. The embedded sandbox only on request, or when nothing points elsewhere:
/// a base URL without a key is a mistake (it would check real people against test data).
fn connection(options: ConnectionArgs, ledger: LedgerArgs) -> Result<Connection, Failure> {
    let ConnectionArgs { key, openid, rsa_public_key, base_url, mode, transport, timeout, sandbox, ca_cert } =
        options;
    let ca_cert = match ca_cert {
        Some(path) => {
            let bytes = juhe_csv::local_file::read(&path, juhe_csv::local_file::CERTIFICATE)
                .map_err(|e| Failure::usage(format!("--ca-cert: {e}")))?;
            Some(String::from_utf8(bytes).map_err(|_| {
                Failure::usage(format!("--ca-cert {}: not a PEM certificate (not text)", path.display()))
            })?)
        }
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
    let ledger = ledger_setup(ledger, &target)?;
    Ok(Connection {
        target,
        mode: mode.unwrap_or_default(),
        blocking: transport == Some(Transport::Ureq),
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        ca_cert,
        ledger,
    })
}

/// `--timeout`'s default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Refuses connection options typed before a command that makes no check (the command
/// itself has none: clap refuses them after it). Values from the environment are left alone:
/// they are there for other commands.
fn refuse_connection_options(matches: &ArgMatches, command: &str, reads_ledger: bool) -> Result<(), Failure> {
    // `juhe --ledger URL ledger report` names the ledger to read.
    let ledger_options = LEDGER_OPTIONS.into_iter().filter(|id| !(reads_ledger && *id == "ledger"));
    let typed = CONNECTION_OPTIONS
        .into_iter()
        .chain(ledger_options)
        .find(|id| matches.value_source(id) == Some(ValueSource::CommandLine));
    match typed {
        Some(id) => Err(Failure::usage(format!("--{} has no effect on `{command}`", id.replace('_', "-")))),
        None => Ok(()),
    }
}
