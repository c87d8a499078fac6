//! The command line as typed: clap's view, with each value parsed and range-checked once.
//! What the values mean together (which options a command takes, where checks go) is
//! `hiargs`'s job.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::args::product_commands::ProductCommand;
use juhe_verify::{MAX_CONCURRENCY, Mode, Product};

/// Verify Chinese identities through Juhe (聚合数据), or run an offline Juhe sandbox.
///
/// With neither a key nor a base URL configured, checks run against an embedded sandbox
/// (test data, no account). Exit status: 0 match, 1 mismatch, 2 bad input or usage (nothing
/// sent), 3 Juhe answered with an error code, 4 transport or protocol failure.
///
/// The connection options and --format may come before the command as well as after it.
#[derive(Debug, Parser)]
#[command(name = "juhe", version, about, propagate_version = true)]
pub(crate) struct LowArgs {
    /// Options given before the command; `hiargs` refuses those the command would ignore.
    #[command(flatten)]
    pub(crate) before: BeforeArgs,

    /// Show what the library does for each check on stderr, masked: -v info, -vv debug,
    /// -vvv trace (RUST_LOG, a filter such as juhe_verify=debug, takes precedence).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Output")]
    pub(crate) verbose: u8,

    /// The profile of the config file to use (sandbox, staging, production…): its base URL,
    /// mode, credentials, ledger, caps and prices fill what the command line and the
    /// environment leave unset.
    #[arg(
        long,
        env = "JUHE_PROFILE",
        hide_env_values = true,
        global = true,
        value_name = "NAME",
        help_heading = "Profile"
    )]
    pub(crate) profile: Option<String>,

    /// The config file holding the profiles; config.toml in the user's config directory
    /// (~/.config/juhe) by default.
    #[arg(
        long,
        env = "JUHE_CONFIG",
        hide_env_values = true,
        global = true,
        value_name = "FILE",
        help_heading = "Profile"
    )]
    pub(crate) config: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What may come before the command.
#[derive(Debug, Args)]
pub(crate) struct BeforeArgs {
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    #[command(flatten)]
    pub(crate) ledger: LedgerArgs,
    /// Output format: text or json (checks, codes, the batch summary); csv or json
    /// (sandbox identities).
    #[arg(long, value_enum, help_heading = "Output")]
    pub(crate) format: Option<AnyFormat>,
}

/// Where and how checks go: taken by the commands that check (and before any command).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub(crate) struct ConnectionArgs {
    /// API key (个人中心 → 我的数据).
    #[arg(long, env = "JUHE_KEY", hide_env_values = true)]
    pub(crate) key: Option<String>,
    /// Account openid (signed and AES modes; idcard's RSA mode).
    #[arg(long, env = "JUHE_OPENID", hide_env_values = true)]
    pub(crate) openid: Option<String>,
    /// Account RSA public key: a file, or the key itself (RSA mode).
    #[arg(long, env = "JUHE_RSA_PUBLIC_KEY", hide_env_values = true, value_name = "FILE")]
    pub(crate) rsa_public_key: Option<String>,
    /// One base URL replacing both Juhe hosts; needs a key.
    #[arg(long, env = "JUHE_BASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Transmission mode, plain by default (signed is telecom3 only; face is plain only).
    #[arg(long, env = "JUHE_MODE", hide_env_values = true, ignore_case = true, value_parser = mode_parser())]
    pub(crate) mode: Option<Mode>,
    /// HTTP client, reqwest by default.
    #[arg(long, value_enum)]
    pub(crate) transport: Option<Transport>,
    /// One deadline per attempt, connecting, sending and the whole answer included; 30 by
    /// default.
    #[arg(long, env = "JUHE_TIMEOUT", hide_env_values = true, value_name = "SECS", value_parser = parse_timeout)]
    pub(crate) timeout: Option<Duration>,
    /// Check against the embedded sandbox, whatever is configured.
    #[arg(long)]
    pub(crate) sandbox: bool,
    /// A CA certificate (PEM) to trust beside the platform's: a sandbox served with --tls,
    /// a corporate proxy.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

/// Where billed checks are recorded and what the record may do: taken by the commands that
/// check (and before any command).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Ledger")]
pub(crate) struct LedgerArgs {
    /// The ledger of checks that cost money: a path, sqlite://PATH or postgres://…. By
    /// default checks against Juhe record to ledger.sqlite in the user's data directory; the
    /// embedded sandbox records nowhere unless given one.
    #[arg(long, env = "JUHE_LEDGER", hide_env_values = true, value_name = "URL")]
    pub(crate) ledger: Option<String>,
    /// Record nothing (and reuse nothing).
    #[arg(long)]
    pub(crate) no_ledger: bool,
    /// Reuse a billed answer to the same question from the ledger if it is this recent
    /// (12h, 30d), and wait for the same question in flight elsewhere instead of paying twice.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) reuse_within: Option<Duration>,
    /// At most N checks that cost or may cost money per day (China time), counted in the
    /// ledger across every process on it.
    #[arg(long, value_name = "N")]
    pub(crate) max_billed_per_day: Option<u64>,
    /// The same per calendar month.
    #[arg(long, value_name = "N")]
    pub(crate) max_billed_per_month: Option<u64>,
    /// Why these people are checked (onboarding, payout-review), recorded with each check in
    /// the ledger and shown by `juhe ledger audit`; reuse answers a check only from checks of
    /// the same purpose. No personal data in it.
    #[arg(long, value_name = "LABEL")]
    pub(crate) purpose: Option<String>,
    /// The reference of the consent the people gave (as your records name it), recorded
    /// beside --purpose.
    #[arg(long, value_name = "REF", requires = "purpose")]
    pub(crate) consent_ref: Option<String>,
}

/// The ledger options by their ids, for the same purpose as [`CONNECTION_OPTIONS`].
pub(crate) const LEDGER_OPTIONS: [&str; 7] = [
    "ledger",
    "no_ledger",
    "reuse_within",
    "max_billed_per_day",
    "max_billed_per_month",
    "purpose",
    "consent_ref",
];

/// The connection options by their ids, to tell typed ones from those of the environment.
pub(crate) const CONNECTION_OPTIONS: [&str; 9] =
    ["key", "openid", "rsa_public_key", "base_url", "mode", "transport", "timeout", "sandbox", "ca_cert"];

/// The HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Transport {
    /// The async client, over reqwest.
    Reqwest,
    /// The blocking client, over ureq.
    Ureq,
}

/// Any format a command prints: each command takes some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AnyFormat {
    /// Lines of text.
    Text,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// How a check, a batch summary or `codes` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Lines of text (the default).
    Text,
    /// One JSON object.
    Json,
}

/// How `ledger report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// A table (the default).
    Text,
    /// One JSON object.
    Json,
    /// One HTML page with its charts inline (SVG), readable offline.
    Html,
}

/// How `sandbox identities` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IdentityFormat {
    /// CSV (the default).
    Csv,
    /// A JSON array.
    Json,
}

/// A batch input's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EncodingArg {
    /// UTF-8, with or without a byte-order mark.
    #[value(name = "utf-8")]
    Utf8,
    /// GBK (GB18030), as Chinese Excel saves CSV.
    Gbk,
}

/// What a check command takes besides its fields.
#[derive(Debug, Clone, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    #[command(flatten)]
    pub(crate) ledger: LedgerArgs,
    /// Output format.
    #[arg(long, value_enum, help_heading = "Output")]
    pub(crate) format: Option<Format>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// `juhe idcard`, `juhe telecom2`, …: one check, a subcommand per product of the registry.
    #[command(flatten)]
    Check(ProductCommand),
    /// Check every row of a CSV file; results go to --output OUT.csv as each row finishes.
    ///
    /// Input: a header naming `name`, `idcard`, `mobile` (and `image`, a file path relative to
    /// the CSV, for face); other columns are carried through. Rows that fail validation are
    /// written with the reason and never sent. --resume skips rows already in OUT.csv.
    Batch(BatchLowArgs),
    /// Explain an error code, or list them all.
    Codes {
        /// A Juhe error_code.
        code: Option<i64>,
        /// Output format.
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<Format>,
    },
    /// Run or inspect the offline sandbox.
    Sandbox {
        #[command(subcommand)]
        command: SandboxCommand,
    },
    /// Read the ledger of checks that cost money: reports, unanswered checks, exports, pruning.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Serve Juhe's API to services in any language under per-team keys, forwarding to Juhe
    /// with the real key, the ledger, budgets and the key's pace; manage the teams' keys.
    Gateway {
        #[command(subcommand)]
        command: GatewayCommand,
    },
    /// Print a completion script for a shell, from this command line's own definition
    /// (bash: `source <(juhe completions bash)`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page, in roff (`juhe man > juhe.1; man -l juhe.1`).
    Man,
}

/// `juhe ledger …`.
#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Billed, maybe billed (pending included), not billed and reused checks, for reconciling
    /// with Juhe's bill; with prices, the money spent, at risk and saved by reuse.
    Report {
        /// From this day (China time), YYYY-MM-DD.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<juhe_proto::CivilDate>,
        /// Up to and including this day.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        until: Option<juhe_proto::CivilDate>,
        /// Split the counts.
        #[arg(long, value_enum)]
        by: Option<ReportGrouping>,
        /// What one check of a product costs, as your contract with Juhe says (repeat it per
        /// product; the profile's prices fill the rest): the report adds the money spent,
        /// maybe spent and saved by reuse.
        #[arg(long, value_name = "PRODUCT=PRICE", value_parser = crate::prices::parse_price)]
        price: Vec<String>,
        /// Output format: text, json, or html (one self-contained page with charts, for a
        /// browser, offline).
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<ReportFormat>,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// Checks sent with no answer recorded (a process killed, a timeout): what to reconcile
    /// against Juhe's order records.
    Pending {
        /// Output format (json: an array).
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<Format>,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// The processing record, with no personal data: each check's time, product, mode, target,
    /// team, purpose, consent reference, outcome, order number, and the user, host and process
    /// that ran it (and who settled it); then what admins did (team keys, erasures).
    Audit {
        /// From this day (China time), YYYY-MM-DD.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<juhe_proto::CivilDate>,
        /// Up to and including this day.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        until: Option<juhe_proto::CivilDate>,
        /// csv (the default) or json (one object per line).
        #[arg(long, value_enum, default_value = "csv")]
        format: AuditFormat,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// Every entry as CSV on stdout, for finance: order number, time, product, mode, masked
    /// subject, billed, error code.
    Export {
        /// The format: csv.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// From this day (China time), YYYY-MM-DD.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<juhe_proto::CivilDate>,
        /// Up to and including this day.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        until: Option<juhe_proto::CivilDate>,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// Record what Juhe's order records say of unanswered entries (`ledger pending`): billed
    /// (counted as billed, never reused) or not billed (the question is free again). Refused
    /// for an entry still in flight (its process is alive) or already answered.
    #[command(group = clap::ArgGroup::new("found").required(true).args(["billed", "not_billed"]))]
    Settle {
        /// The entries' numbers, as `ledger pending` and a batch's juhe_ledger_entry show them.
        #[arg(value_name = "ENTRY", required = true)]
        entries: Vec<i64>,
        /// Juhe billed them.
        #[arg(long)]
        billed: bool,
        /// Juhe's order number (one entry only).
        #[arg(long, value_name = "ID", requires = "billed")]
        order_id: Option<String>,
        /// Juhe did not bill them.
        #[arg(long)]
        not_billed: bool,
        /// Output format (json: an array of the settlements).
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<Format>,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// Forget a person on request: the personal fields of every entry about them (masked
    /// form, result fields, subject hash) are removed; the billing facts stay, linked to nobody.
    /// Prints a receipt with no personal data.
    ///
    /// The entries are found by the keyed hash of the fields given, for every product they
    /// cover: a name and ID card number find idcard checks; with a mobile, telecom2 and
    /// telecom3 ones; with a photo, face ones. A SQLite ledger's file is rebuilt (VACUUM) so no
    /// old value stays in it: checks of other processes wait meanwhile.
    Forget {
        /// Name on the ID card.
        #[arg(long, conflicts_with = "people")]
        name: Option<String>,
        /// 18-character ID card number.
        #[arg(long, required_unless_present = "people", conflicts_with = "people")]
        idcard: Option<String>,
        /// Mainland mobile number.
        #[arg(long)]
        mobile: Option<String>,
        /// JPEG or PNG face photo.
        #[arg(long, value_name = "FILE", conflicts_with = "people")]
        image: Option<PathBuf>,
        /// A CSV file of people to forget, one per row (a list of erasure requests): columns
        /// name and idcard, and mobile and image when known (UTF-8 or GBK). One receipt.
        #[arg(long, value_name = "FILE.csv")]
        people: Option<PathBuf>,
        /// The API key the checks were made with: the ledger's account, and (with
        /// JUHE_LEDGER_SECRET, and JUHE_LEDGER_SECRET_PREVIOUS while kept, if the checks had
        /// one) the key of its hashes.
        #[arg(long, env = "JUHE_KEY", hide_env_values = true)]
        key: String,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// The ledger secrets the entries' subjects are hashed under, by version: how many entries
    /// each, and when. Entries of a version no longer configured can never be linked to a
    /// person again (erasure by key destruction); a version with no entries left may be
    /// destroyed.
    Secrets {
        /// The API key: marks the versions JUHE_LEDGER_SECRET (or the key itself) and
        /// JUHE_LEDGER_SECRET_PREVIOUS make.
        #[arg(long, env = "JUHE_KEY", hide_env_values = true)]
        key: Option<String>,
        /// Output format.
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<Format>,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// The ledger's retention periods, for every process on it: how long entries keep their
    /// personal fields, and how long they are kept at all. Shows them; with an option, sets
    /// them (logged in the admin log).
    Retention {
        /// How long an entry keeps its masked form, result fields and subject hash (180d by
        /// default; at least 1d).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        personal: Option<Duration>,
        /// How long an entry's billing facts are kept (3y by default; at least --personal).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        billing: Option<Duration>,
        /// Output format.
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<Format>,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// Apply the ledger's retention now (personal fields past their period cleared, entries
    /// past the billing period deleted), or delete entries older than --older-than.
    Prune {
        /// Delete every entry sent longer ago than this (30d, 180d), billed or not, instead of
        /// applying the retention periods.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: Option<Duration>,
        /// Say how many entries would go, and delete nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        at: LedgerAt,
    },
}

/// Which ledger a `juhe ledger` command reads.
#[derive(Debug, Clone, Args)]
pub(crate) struct LedgerAt {
    /// The ledger: a path, sqlite://PATH or postgres://…; the default one otherwise.
    #[arg(long, env = "JUHE_LEDGER", hide_env_values = true, value_name = "URL")]
    pub(crate) ledger: Option<String>,
}

/// `juhe gateway …`.
#[derive(Debug, Subcommand)]
pub(crate) enum GatewayCommand {
    /// Serve Juhe's API (every endpoint, every mode) until Ctrl-C: a team's existing Juhe
    /// client changes only its host. Checks go to Juhe with the connection options' key (the
    /// embedded sandbox without one), recorded in the ledger, which also holds the team keys.
    Serve(GatewayServeArgs),
    /// Issue, rotate, revoke and list the teams' keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// `juhe gateway serve`'s options.
#[derive(Debug, Args)]
pub(crate) struct GatewayServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub(crate) addr: String,
    /// Allow an address other machines can reach (refused otherwise); needs --tls-cert and
    /// --tls-key, or --behind-tls-proxy.
    #[arg(long)]
    pub(crate) expose: bool,
    /// The server's certificate chain (PEM): serve HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an exposed address because a TLS proxy in front of it terminates
    /// TLS: personal data must never cross a network in clear.
    #[arg(long, requires = "expose")]
    pub(crate) behind_tls_proxy: bool,
    /// Answer a team from the ledger only with its own earlier checks (by default a person
    /// one team checked is answered from the ledger for another, within its reuse window).
    #[arg(long)]
    pub(crate) teams_apart: bool,
    /// Answer a team from the ledger whatever purpose the earlier check was made for (by
    /// default only checks of the same purpose count).
    #[arg(long)]
    pub(crate) reuse_across_purposes: bool,
    /// Write {"base_url", "admin_key"} to this file once listening, created 0600. The admin
    /// key opens /__gateway/dashboard; it is JUHE_GATEWAY_ADMIN_KEY, or drawn at random.
    #[arg(long, value_name = "FILE")]
    pub(crate) address_out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) master_key: MasterKeyArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    #[command(flatten)]
    pub(crate) ledger: LedgerArgs,
}

/// The key the teams' secrets are sealed under.
#[derive(Debug, Clone, Args)]
pub(crate) struct MasterKeyArgs {
    /// A file holding the master key (base64 of at least 32 random bytes: `openssl rand
    /// -base64 32`), readable by its owner only; JUHE_GATEWAY_MASTER_KEY holds it otherwise.
    #[arg(long, value_name = "FILE")]
    pub(crate) master_key_file: Option<PathBuf>,
}

/// `juhe gateway keys …`.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Issue a key to a new team: prints (or writes to --credentials-out) its key, openid and
    /// RSA public key, shown this once.
    Add {
        /// The team: 1 to 64 ASCII letters, digits, '-', '_' or '.'.
        team: String,
        #[command(flatten)]
        rules: TeamRulesArgs,
        #[command(flatten)]
        issue: IssueArgs,
    },
    /// Replace a team's key (its rules stay unless given): the old key is refused at once.
    Rotate {
        /// The team.
        team: String,
        #[command(flatten)]
        rules: TeamRulesArgs,
        #[command(flatten)]
        issue: IssueArgs,
    },
    /// Revoke a team's key: its next request is refused (10001), on every replica.
    Revoke {
        /// The team.
        team: String,
        #[command(flatten)]
        at: LedgerAt,
    },
    /// The teams' keys, live and revoked, with their rules; and the admin log with --log.
    List {
        /// Show the admin log (who issued, rotated or revoked what, and when) instead.
        #[arg(long)]
        log: bool,
        /// Output format.
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<Format>,
        #[command(flatten)]
        at: LedgerAt,
    },
}

/// Where a new key is recorded and written.
#[derive(Debug, Clone, Args)]
pub(crate) struct IssueArgs {
    /// Write the team's credentials as JSON to this file (created 0600) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) credentials_out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) master_key: MasterKeyArgs,
    #[command(flatten)]
    pub(crate) at: LedgerAt,
}

/// A team's rules.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Team rules")]
pub(crate) struct TeamRulesArgs {
    /// The products the team may check, comma-separated (all by default).
    #[arg(long, value_delimiter = ',', value_parser = product_parser())]
    pub(crate) products: Vec<Product>,
    /// At most N checks that cost or may cost money per day (China time) for the team.
    #[arg(long, value_name = "N")]
    pub(crate) max_billed_per_day: Option<u64>,
    /// The same per calendar month.
    #[arg(long, value_name = "N")]
    pub(crate) max_billed_per_month: Option<u64>,
    /// Answer a person billed this recently (12h, 30d) from the ledger instead of paying again.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) reuse_within: Option<Duration>,
    /// Why the team checks people, stored with each of its checks.
    #[arg(long, value_name = "TEXT")]
    pub(crate) purpose: Option<String>,
}

/// How `ledger report` splits its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportGrouping {
    /// Per day, China time.
    Day,
    /// Per product.
    Product,
    /// Per mode.
    Mode,
    /// Per team a gateway checked for.
    Team,
}

/// What `ledger audit` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    /// CSV with a header.
    Csv,
    /// One JSON object per line.
    Json,
}

/// What `ledger export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// CSV with a header.
    Csv,
}

/// `juhe batch`'s options.
#[derive(Debug, Args)]
pub(crate) struct BatchLowArgs {
    /// The product to check.
    #[arg(value_parser = product_parser())]
    pub(crate) product: Product,
    /// The input CSV.
    #[arg(long, value_name = "IN.csv")]
    pub(crate) input: PathBuf,
    /// The output CSV.
    #[arg(long, value_name = "OUT.csv")]
    pub(crate) output: PathBuf,
    /// Checks in flight (or finished but not yet written) at once [default: 32, or enough
    /// for --rate at a 320 ms round trip].
    #[arg(long, value_parser = parse_concurrency)]
    pub(crate) concurrency: Option<usize>,
    /// At most this many checks started per second: with a ledger by the whole key (every
    /// process on the ledger together), without one by this process.
    #[arg(long, value_name = "R", value_parser = parse_rate)]
    pub(crate) rate: Option<f64>,
    /// At most this many checks started per second by this process (its share of the key's
    /// pace, with a ledger).
    #[arg(long, value_name = "R", value_parser = parse_rate)]
    pub(crate) process_rate: Option<f64>,
    /// Continue an interrupted run: skip rows already in the output file, once they are
    /// proven to belong to this input.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Send again what may have been billed without an answer, paying twice on purpose: a
    /// timed-out attempt is retried, a row whose question a ledger entry left unanswered is
    /// sent, and with --resume the rows an earlier run left "maybe billed" are checked again.
    /// Rows that failed without being billed for a reason that passes (not sent, a rate limit,
    /// a provider's network error) are always checked again on --resume.
    #[arg(long)]
    pub(crate) resend_maybe_billed: bool,
    /// Check repeated rows each time instead of once (by default a repeat reuses the
    /// first row's result and is not billed).
    #[arg(long)]
    pub(crate) no_dedupe: bool,
    /// Stop before billed checks (counting those in flight) could exceed N; --resume
    /// continues.
    #[arg(long, value_name = "N")]
    pub(crate) max_billed: Option<u64>,
    /// The input's encoding, when detection guesses wrong; the output is written in it.
    #[arg(long, value_enum)]
    pub(crate) encoding: Option<EncodingArg>,
    /// Connection options and the summary's format.
    #[command(flatten)]
    pub(crate) args: CheckArgs,
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
        /// Output format.
        #[arg(long, value_enum, help_heading = "Output")]
        format: Option<IdentityFormat>,
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
        .try_map(|name| Product::from_name(&name).ok_or("not a product"))
}

/// The longest `--timeout`: an hour. Juhe answers in seconds.
pub(crate) const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// `--rate` bounds, checks per second.
pub(crate) const RATE_RANGE: (f64, f64) = (0.01, 100_000.0);

pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    let min = juhe_verify::MIN_TIMEOUT.as_secs_f64();
    if !(secs >= min && secs <= MAX_TIMEOUT_SECS) {
        return Err(format!(
            "must be at least {min} (a shorter one cannot see an answer, yet sends and may be billed) and at most {MAX_TIMEOUT_SECS} seconds; nothing was sent"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `45s`, `90m`, `12h`, `30d`, `2w`, `3y` (365 days): a whole number and a unit.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(format!("`{text}` is not a duration such as 45s, 90m, 12h, 30d, 2w or 3y")),
    };
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as 12h or 30d"))?;
    // Ten years is longer than any retention rule or reuse window.
    match number.checked_mul(seconds_per).filter(|s| *s <= 10 * 366 * 86_400) {
        Some(seconds) => Ok(Duration::from_secs(seconds)),
        None => Err(format!("`{text}` is longer than ten years")),
    }
}

/// `50ms..150ms`, `1s..2s`, or one value (`100ms`): at most a minute.
fn parse_latency(text: &str) -> Result<std::ops::RangeInclusive<Duration>, String> {
    let one = |part: &str| -> Result<Duration, String> {
        let part = part.trim();
        let (number, per) = if let Some(n) = part.strip_suffix("ms") {
            (n, Duration::from_millis(1))
        } else if let Some(n) = part.strip_suffix('s') {
            (n, Duration::from_secs(1))
        } else {
            return Err(format!("`{text}` is not a latency such as 50ms..150ms or 1s"));
        };
        let n: u32 =
            number.trim().parse().map_err(|_| format!("`{text}` is not a latency such as 50ms..150ms"))?;
        Some(per * n)
            .filter(|d| *d <= Duration::from_secs(60))
            .ok_or_else(|| format!("`{text}`: at most 60s"))
    };
    let (min, max) = match text.split_once("..") {
        Some((min, max)) => (one(min)?, one(max)?),
        None => (one(text)?, one(text)?),
    };
    if min > max {
        return Err(format!("`{text}`: the first bound is the smaller"));
    }
    Ok(min..=max)
}

fn parse_date(text: &str) -> Result<juhe_proto::CivilDate, String> {
    juhe_verify::ledger::parse_date(text).ok_or_else(|| format!("`{text}` is not a date written YYYY-MM-DD"))
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
    /// Write {"base_url", "key", "openid", "rsa_public_key"} (and "admin_key" with --expose)
    /// to this file once listening, created 0600.
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
    /// an admin key (?key= or X-Juhe-Sandbox-Key), random unless --admin-key gives one, and
    /// written only to --credentials-out.
    #[arg(long)]
    pub(crate) expose: bool,
    /// Delay each answer by a time drawn uniformly from MIN..MAX (50ms..150ms; one value for
    /// a fixed delay), after the check is processed and billed, as the network to Juhe does.
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_latency)]
    pub(crate) latency: Option<std::ops::RangeInclusive<Duration>>,
    /// Answer 10012 (not processed, not billed) to requests of the key beyond N in any one
    /// second, as Juhe caps a key.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) qps: Option<u32>,
    /// The same per client address, answered 10011.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) ip_qps: Option<u32>,
    /// Seed the latency's draws: the same seed, the same delays.
    #[arg(long, value_name = "SEED")]
    pub(crate) seed: Option<u64>,
    /// The admin key of an --expose'd sandbox, instead of a random one.
    #[arg(long, value_name = "KEY", requires = "expose")]
    pub(crate) admin_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_read_with_their_units() {
        let ms = Duration::from_millis;
        assert_eq!(parse_latency("50ms..150ms"), Ok(ms(50)..=ms(150)));
        assert_eq!(parse_latency("1s"), Ok(ms(1000)..=ms(1000)));
        for bad in ["150ms..50ms", "5", "2m", "61s", ".."] {
            assert!(parse_latency(bad).is_err(), "{bad}");
        }
    }
}
