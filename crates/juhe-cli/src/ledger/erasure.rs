//! `juhe ledger forget` (one person, or a CSV file of them) and `juhe ledger secrets`: erasure
//! on request and by key destruction. Receipts name counts, products and times, never a person.

use std::path::Path;
use std::process::ExitCode;

use juhe_verify::ledger::{Forgotten, Ledger, LedgerSecret, china_timestamp};
use juhe_verify::proto::{CivilDate, Param, PersonalFields};
use serde_json::json;

use crate::args::hiargs::Format;
use crate::failure::Failure;

/// People forgotten in one pass over the ledger (one rebuild of a SQLite file), at most.
const PEOPLE_PER_PASS: usize = 10_000;

/// The ledger secret the checks were hashed under: `JUHE_LEDGER_SECRET` (else the API key's),
/// with `JUHE_LEDGER_SECRET_PREVIOUS` while it is kept.
pub(crate) fn secret(key: &str) -> Result<LedgerSecret, Failure> {
    let usage = |e: juhe_verify::ledger::LedgerError| Failure::usage(crate::failure::error_chain(&e));
    let var = |name: &str| std::env::var(name).ok().filter(|s| !s.is_empty());
    let secret = match var("JUHE_LEDGER_SECRET") {
        Some(secret) => LedgerSecret::from_secret(&secret, key).map_err(usage)?,
        None => LedgerSecret::from_api_key(key),
    };
    match var("JUHE_LEDGER_SECRET_PREVIOUS") {
        Some(previous) => {
            secret.with_previous(LedgerSecret::from_secret(&previous, key).map_err(usage)?).map_err(usage)
        }
        None => Ok(secret),
    }
}

/// One person, from the command line.
pub(crate) fn forget_one(
    ledger: &Ledger,
    secret: &LedgerSecret,
    (name, idcard, mobile, image): (Option<String>, String, Option<String>, Option<std::path::PathBuf>),
) -> Result<ExitCode, Failure> {
    let mut fields = PersonalFields::new().with(Param::Idcard, idcard);
    if let Some(name) = name {
        fields.insert(Param::Realname, name);
    }
    if let Some(mobile) = mobile {
        fields.insert(Param::Mobile, mobile);
    }
    if let Some(path) = image {
        let bytes = juhe_csv::local_file::read(&path, juhe_csv::local_file::FACE_PHOTO)
            .map_err(|e| Failure::usage(format!("--image: {e}")))?;
        fields.insert_bytes(Param::Image, &bytes);
    }
    let receipt = forget(ledger, secret, &[fields])?;
    if receipt.products.is_empty() {
        return Err(Failure::usage(
            "these fields find no product's checks: give --name or --mobile with --idcard (valid ones)",
        ));
    }
    print_receipt(&receipt, 1, 0);
    Ok(ExitCode::SUCCESS)
}

/// Every person of a CSV file (columns `name`, `idcard`, and `mobile`, `image` when given).
/// A row that names no one (no valid ID card number with a name or a mobile) is reported by
/// its number and nothing of it is printed; the others are forgotten all the same, and the
/// exit status is then 2.
pub(crate) fn forget_file(ledger: &Ledger, secret: &LedgerSecret, path: &Path) -> Result<ExitCode, Failure> {
    let usage = |e: juhe_csv::CsvError| Failure::usage(format!("--people: {}", e.message()));
    let input = juhe_csv::InputFile::open(path, &[Param::Idcard], None).map_err(usage)?;
    let optional = |param: Param| {
        juhe_csv::InputFile::open(path, &[param], Some(input.encoding))
            .ok()
            .and_then(|f| f.positions.first().map(|p| p.1))
    };
    let columns = [Param::Realname, Param::Mobile, Param::Image].map(|p| (p, optional(p)));
    let idcard = input.positions[0].1;
    let (mut batch, mut total, mut people, mut unusable) =
        (Vec::new(), None::<Forgotten>, 0usize, Vec::new());
    for record in input.records().map_err(usage)? {
        let (row, cells) = match record {
            juhe_csv::Record::Row { row, columns } => (row, columns),
            juhe_csv::Record::Malformed { row, .. } => {
                unusable.push(row);
                continue;
            }
        };
        match person_of(&cells, idcard, &columns, input.base_dir()) {
            Some(fields) => batch.push(fields),
            None => unusable.push(row),
        }
        if batch.len() == PEOPLE_PER_PASS {
            people += batch.len();
            total = Some(add(total, forget(ledger, secret, &std::mem::take(&mut batch))?));
        }
    }
    if !batch.is_empty() {
        people += batch.len();
        total = Some(add(total, forget(ledger, secret, &batch)?));
    }
    if let Some(receipt) = &total {
        print_receipt(receipt, people, unusable.len());
    }
    if unusable.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let shown: Vec<String> = unusable.iter().take(20).map(u64::to_string).collect();
    eprintln!(
        "juhe: {} named no one (a valid ID card number with a name or a mobile is needed): rows {}{}",
        crate::plural::counted(unusable.len() as u64, "row", "rows"),
        shown.join(", "),
        if unusable.len() > shown.len() { ", …" } else { "" }
    );
    Ok(crate::failure::Status::Usage.exit_code())
}

/// A row's fields, if they can find a product's checks.
fn person_of(
    cells: &[String],
    idcard: usize,
    columns: &[(Param, Option<usize>); 3],
    base_dir: &Path,
) -> Option<PersonalFields> {
    let cell = |i: usize| cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty());
    let mut fields = PersonalFields::new().with(Param::Idcard, cell(idcard)?);
    let mut found = false;
    for (param, column) in columns {
        let Some(value) = column.and_then(cell) else { continue };
        if *param == Param::Image {
            let bytes =
                juhe_csv::local_file::read(&base_dir.join(value), juhe_csv::local_file::FACE_PHOTO).ok()?;
            fields.insert_bytes(Param::Image, &bytes);
        } else {
            fields.insert(*param, value);
            found = true;
        }
    }
    (found && finds_checks(&fields)).then_some(fields)
}

/// Whether `fields` make a valid check of some product (a mistyped ID number makes none).
fn finds_checks(fields: &PersonalFields) -> bool {
    let today = CivilDate::today_in_china();
    juhe_verify::Product::ALL.iter().any(|product| {
        product.params().iter().all(|p| !fields.get(*p).is_empty())
            && juhe_verify::AnyCheck::parse(*product, fields, today).is_ok()
    })
}

fn forget(ledger: &Ledger, secret: &LedgerSecret, people: &[PersonalFields]) -> Result<Forgotten, Failure> {
    ledger
        .forget_people(secret, people, CivilDate::today_in_china())
        .map_err(|e| Failure::failed(crate::failure::error_chain(&e)))
}

/// Two passes' receipts as one.
fn add(total: Option<Forgotten>, next: Forgotten) -> Forgotten {
    match total {
        None => next,
        Some(mut total) => {
            total.entries += next.entries;
            for product in next.products {
                if !total.products.contains(&product) {
                    total.products.push(product);
                }
            }
            total.at = next.at;
            total
        }
    }
}

fn print_receipt(receipt: &Forgotten, people: usize, unusable: usize) {
    let products: Vec<&str> = receipt.products.iter().map(|p| p.name()).collect();
    let of = if people == 1 && unusable == 0 { String::new() } else { format!(" of {people} people") };
    println!(
        "juhe: forgot the personal fields of {}{of} ({} checks looked for) at {}; billing facts kept",
        crate::plural::counted(receipt.entries, "entry", "entries"),
        products.join(", "),
        china_timestamp(receipt.at)
    );
}

/// `juhe ledger secrets`: the versions, marked when the key is given.
pub(crate) fn secrets(ledger: &Ledger, key: Option<&str>, format: Format) -> Result<(), Failure> {
    let versions = ledger.secret_versions().map_err(|e| Failure::usage(crate::failure::error_chain(&e)))?;
    let configured = key.map(secret).transpose()?;
    let role = |version: &str| match &configured {
        Some(s) if s.version() == version => "current",
        Some(s) if s.previous().is_some_and(|p| p.version() == version) => "previous",
        Some(_) if version.is_empty() => "unknown (before versions were recorded)",
        Some(_) => "not configured: unlinkable",
        None => "",
    };
    match format {
        Format::Json => {
            let rows: Vec<_> = versions
                .iter()
                .map(|v| {
                    json!({
                        "version": v.version,
                        "entries": v.entries,
                        "first": china_timestamp(v.first),
                        "last": china_timestamp(v.last),
                        "role": role(&v.version),
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(rows));
        }
        Format::Text => {
            for v in &versions {
                let name = if v.version.is_empty() { "(none)" } else { v.version.as_str() };
                let role = role(&v.version);
                println!(
                    "{name}  {} from {} to {}{}",
                    crate::plural::counted(v.entries, "entry", "entries"),
                    china_timestamp(v.first),
                    china_timestamp(v.last),
                    if role.is_empty() { String::new() } else { format!("  {role}") }
                );
            }
            if versions.is_empty() {
                println!("no entry holds a subject: nothing can be linked to anyone");
            }
        }
    }
    Ok(())
}
