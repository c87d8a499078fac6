//! `juhe ledger report | pending | export | audit | prune`, and where the default ledger lives.

mod audit;
mod erasure;
mod report;

use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use juhe_verify::ledger::{
    Entry, EntryId, Grouping, Ledger, Location, Reconciliation, Settled, Settler, Span, State,
    china_timestamp,
};
use serde_json::{Value, json};

use crate::args::hiargs::Format;
use crate::args::lowargs::{LedgerCommand, ReportFormat, ReportGrouping};
use crate::failure::Failure;
use crate::prices::Prices;
use crate::untrusted_text::{escaped, spreadsheet_safe};

/// Opens the ledger; one that cannot be used is a usage error (exit 2), and nothing is sent.
pub(crate) fn open(location: &Location) -> Result<Ledger, Failure> {
    Ledger::open(location).map_err(|e| Failure::usage(crate::failure::error_chain(&e)))
}

/// Runs a `juhe ledger` command.
pub(crate) fn run(command: LedgerCommand, location: &Location, prices: &Prices) -> Result<ExitCode, Failure> {
    let ledger = open(location)?;
    let failed = |e: juhe_verify::ledger::LedgerError| Failure::usage(crate::failure::error_chain(&e));
    match command {
        LedgerCommand::Report { since, until, by, format, .. } => {
            let by = match by {
                None => Grouping::Total,
                Some(ReportGrouping::Day) => Grouping::Day,
                Some(ReportGrouping::Product) => Grouping::Product,
                Some(ReportGrouping::Mode) => Grouping::Mode,
                Some(ReportGrouping::Team) => Grouping::Team,
            };
            report::run(&ledger, Span::new(since, until), by, prices, format.unwrap_or(ReportFormat::Text))
                .map_err(failed)?;
        }
        LedgerCommand::Pending { format, .. } => {
            let entries = ledger.unanswered().map_err(failed)?;
            print_pending(&entries, format.unwrap_or(Format::Text));
        }
        LedgerCommand::Export { since, until, .. } => export(&ledger, Span::new(since, until))?,
        LedgerCommand::Audit { since, until, format, .. } => {
            audit::run(&ledger, Span::new(since, until), format)?
        }
        LedgerCommand::Settle { entries, billed, order_id, format, .. } => {
            if order_id.is_some() && entries.len() > 1 {
                return Err(Failure::usage("--order-id names one entry's order: settle one entry with it"));
            }
            let how = if billed { Reconciliation::Billed { order_id } } else { Reconciliation::NotBilled };
            return Ok(settle(&ledger, &entries, &how, format.unwrap_or(Format::Text)));
        }
        LedgerCommand::Forget { name, idcard, mobile, image, people, key, .. } => {
            let secret = erasure::secret(&key)?;
            return match (people, idcard) {
                (Some(file), _) => erasure::forget_file(&ledger, &secret, &file),
                (None, Some(idcard)) => erasure::forget_one(&ledger, &secret, (name, idcard, mobile, image)),
                (None, None) => {
                    Err(Failure::usage("give --idcard (with --name or --mobile), or --people FILE.csv"))
                }
            };
        }
        LedgerCommand::Secrets { key, format, .. } => {
            erasure::secrets(&ledger, key.as_deref(), format.unwrap_or(Format::Text))?;
        }
        LedgerCommand::Prune { older_than: Some(older_than), dry_run, .. } => {
            let before = SystemTime::now().checked_sub(older_than).unwrap_or(SystemTime::UNIX_EPOCH);
            let (count, said) = if dry_run {
                (ledger.count_before(before).map_err(failed)?, "would delete")
            } else {
                (ledger.prune(before).map_err(failed)?, "deleted")
            };
            let nothing = if dry_run { " (--dry-run: nothing deleted)" } else { "" };
            eprintln!(
                "juhe: {said} {} sent before {}{nothing}",
                crate::plural::counted(count, "entry", "entries"),
                china_timestamp(before)
            );
        }
        LedgerCommand::Prune { older_than: None, dry_run, .. } => {
            let now = SystemTime::now();
            let expiry = if dry_run { ledger.expiring(now) } else { ledger.expire(now) }.map_err(failed)?;
            let (clear, delete) =
                if dry_run { ("would clear", "would delete") } else { ("cleared", "deleted") };
            let nothing = if dry_run { " (--dry-run: nothing changed)" } else { "" };
            eprintln!(
                "juhe: {clear} the personal fields of {} sent before {}, and {delete} {} sent before {}{nothing}",
                crate::plural::counted(expiry.cleared, "entry", "entries"),
                china_timestamp(expiry.personal_before),
                crate::plural::counted(expiry.deleted, "entry", "entries"),
                china_timestamp(expiry.billing_before),
            );
        }
        LedgerCommand::Retention { personal, billing, format, .. } => {
            retention(&ledger, personal, billing, format.unwrap_or(Format::Text))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `juhe ledger retention`: shows the periods, or sets those given (the other kept).
fn retention(
    ledger: &Ledger,
    personal: Option<std::time::Duration>,
    billing: Option<std::time::Duration>,
    format: Format,
) -> Result<(), Failure> {
    let failed = |e: juhe_verify::ledger::LedgerError| Failure::usage(crate::failure::error_chain(&e));
    let mut current = ledger.retention().map_err(failed)?;
    if personal.is_some() || billing.is_some() {
        let wanted = juhe_verify::ledger::Retention::new(
            personal.unwrap_or(current.personal),
            billing.unwrap_or(current.billing),
        )
        .map_err(failed)?;
        ledger.set_retention(wanted).map_err(failed)?;
        current = wanted;
    }
    let days = |d: std::time::Duration| d.as_secs() / 86_400;
    match format {
        Format::Json => println!(
            "{}",
            json!({"personal_days": days(current.personal), "billing_days": days(current.billing), "ledger": ledger.location()})
        ),
        Format::Text => println!(
            "ledger {}: personal fields kept {} days, billing facts {} days",
            escaped(ledger.location()),
            days(current.personal),
            days(current.billing)
        ),
    }
    Ok(())
}

/// Settles each entry as `how` says, by this process's user and host; exit 2 if any was
/// refused (the others are still settled, each on its own).
fn settle(ledger: &Ledger, entries: &[i64], how: &Reconciliation, format: Format) -> ExitCode {
    let by = Settler::of_this_process();
    let mut settled = Vec::new();
    let mut refused = 0;
    for &entry in entries {
        match ledger.settle(EntryId::new(entry), how, &by) {
            Ok(record) => settled.push((entry, record)),
            Err(error) => {
                refused += 1;
                eprintln!("juhe: {}", crate::failure::error_chain(&error));
            }
        }
    }
    let word = how.state().billing().as_str();
    match format {
        Format::Json => println!(
            "{}",
            Value::Array(
                settled
                    .iter()
                    .map(|(entry, s)| json!({"entry": entry, "billed": word, "settled": settled_json(s)}))
                    .collect()
            )
        ),
        Format::Text => {
            for (entry, s) in &settled {
                println!(
                    "entry {entry}: settled billed={word} (was {}), by {} at {}",
                    s.from.as_str(),
                    escaped(&s.by),
                    china_timestamp(s.at)
                );
            }
        }
    }
    if refused > 0 { crate::failure::Status::Usage.exit_code() } else { ExitCode::SUCCESS }
}

fn settled_json(settled: &Settled) -> Value {
    json!({"at": china_timestamp(settled.at), "by": settled.by, "from": settled.from.as_str()})
}

fn entry_json(entry: &Entry) -> Value {
    json!({
        "entry": entry.id.get(),
        "started_at": china_timestamp(entry.started_at),
        "product": entry.product,
        "mode": entry.mode,
        "target": entry.target,
        "subject": entry.masked,
        "state": entry.state.as_str(),
        "order_id": entry.order_id,
        "error_code": entry.error_code,
        "in_flight": entry.in_flight,
        "settled": entry.settled.as_ref().map(settled_json),
    })
}

fn print_pending(entries: &[Entry], format: Format) {
    match format {
        Format::Json => println!("{}", Value::Array(entries.iter().map(entry_json).collect())),
        Format::Text => {
            for e in entries {
                println!(
                    "#{} {} {} {} {} {} {}",
                    e.id.get(),
                    china_timestamp(e.started_at),
                    pending_word(e),
                    e.product,
                    e.mode,
                    escaped(&e.target),
                    escaped(&e.masked),
                );
            }
            let in_flight = entries.iter().filter(|e| e.in_flight).count();
            eprintln!(
                "juhe: {} sent with no answer recorded, {in_flight} of them still in flight; \
                 settle the others from Juhe's order records: juhe ledger settle ENTRY --billed | --not-billed",
                crate::plural::counted(entries.len() as u64, "check", "checks")
            );
        }
    }
}

/// How an unanswered entry stands: in flight, its process dead, or timed out.
fn pending_word(entry: &Entry) -> &'static str {
    match (entry.state, entry.in_flight) {
        (State::Pending, true) => "in-flight",
        (State::Pending, false) => "pending(sender-died)",
        (state, _) => state.as_str(),
    }
}

/// The export's columns.
const EXPORT_HEADER: [&str; 13] = [
    "order_id",
    "time",
    "product",
    "mode",
    "subject",
    "billed",
    "error_code",
    "entry",
    "target",
    "verdict",
    "settled_at",
    "settled_by",
    "settled_from",
];

/// One entry as an export row. Juhe's order number and the target came from outside: a
/// formula in either must not run in Excel.
fn export_row(e: &Entry) -> [String; 13] {
    let settled = e.settled.as_ref();
    [
        spreadsheet_safe(e.order_id.as_deref().unwrap_or_default()),
        china_timestamp(e.started_at),
        e.product.clone(),
        e.mode.clone(),
        e.masked.clone(),
        // The embedded sandbox's answers cost nothing, whatever it said.
        if e.is_sandbox() { "false" } else { e.state.billing().as_str() }.to_owned(),
        e.error_code.map(|c| c.to_string()).unwrap_or_default(),
        e.id.get().to_string(),
        spreadsheet_safe(&e.target),
        e.verdict.clone().unwrap_or_default(),
        settled.map(|s| china_timestamp(s.at)).unwrap_or_default(),
        settled.map(|s| spreadsheet_safe(&s.by)).unwrap_or_default(),
        settled.map(|s| s.from.as_str().to_owned()).unwrap_or_default(),
    ]
}

/// Hands every entry in `span` to `write`, oldest first, stopping at its first error: a ledger
/// that cannot be read is a usage error; the writer's own error is returned inside.
pub(crate) fn write_entries<E>(
    ledger: &Ledger,
    span: Span,
    mut write: impl FnMut(Entry) -> Result<(), E>,
) -> Result<Result<(), E>, Failure> {
    let mut failed = None;
    ledger
        .entries(span, &mut |entry| match write(entry) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        })
        .map_err(|e| Failure::usage(crate::failure::error_chain(&e)))?;
    Ok(failed.map_or(Ok(()), Err))
}

/// Streams every entry in `span` as CSV on stdout.
fn export(ledger: &Ledger, span: Span) -> Result<(), Failure> {
    let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(std::io::stdout().lock()));
    let cannot_write = |e: csv::Error| Failure::failed(format!("could not write the export: {e}"));
    csv.write_record(EXPORT_HEADER).map_err(cannot_write)?;
    write_entries(ledger, span, |entry| csv.write_record(export_row(&entry)))?.map_err(cannot_write)?;
    csv.flush().map_err(|e| cannot_write(e.into()))?;
    std::io::stdout().flush().map_err(|e| cannot_write(e.into()))
}
