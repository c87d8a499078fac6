//! Dedupe across a resumed run. Within a run the library's batch engine checks each distinct
//! question once. A resumed run gives the engine only the rows still to do, so a row that
//! repeats one the earlier run already checked would be paid again: before the batch starts,
//! such rows are written from the earlier row's result (marked reused, not billed), or, when
//! that row may have been billed without an answer, as not sent.

use std::collections::HashMap;
use std::time::SystemTime;

use juhe_proto::{Subject, SubjectKey};
use juhe_verify::{Billing, Resend};

use crate::CsvError;
use crate::input::{InputFile, Record};
use crate::output::{Output, ResultCells};
use crate::resume::{DoneRow, DoneRows};
use crate::rows::RowChecks;

/// The question a row asks, as the library's batch and ledger know it: the subject of its
/// check (a keyed hash of the product and the normalised fields, a photo by its bytes, under a
/// key made for this run), or `None` when the row is invalid: an invalid row is never sent.
fn subject_of(checks: &RowChecks, key: &SubjectKey, columns: &[String]) -> Option<Subject> {
    checks.check(columns).ok().map(|check| Subject::of(&check, key))
}

/// Writes every row still to do whose fields repeat a row done by an earlier run that was
/// billed or maybe billed; returns the rows written. A row is the same question as a done one
/// when their checks have one subject, a photo by its bytes: the same photo under another
/// name is a repeat. A done row whose file changed after `run_began` (the output's first run)
/// is no original: the bytes it was checked with are not the ones on disk now. Two passes over the input: the done rows'
/// keys (a keyed hash and 32 bytes of position each, no one's data), then the copies.
pub fn write_copies_of_done_rows(
    input: &InputFile,
    done: &DoneRows,
    checks: &RowChecks,
    output: &mut Output,
    details: usize,
    run_began: SystemTime,
) -> Result<Vec<DoneRow>, CsvError> {
    let key = SubjectKey::generate();
    let mut answered: HashMap<Subject, DoneRow> = HashMap::new();
    for record in input.records()? {
        let Record::Row { row, columns } = record else { continue };
        // A row checked again is not done: its copies wait for its new answer (the batch's
        // own dedupe gives it them).
        let answered_earlier = |d: &&DoneRow| !d.redo && d.billing.is_some_and(|b| b != Billing::NotBilled);
        let Some(done_row) = done.get(row).filter(answered_earlier) else {
            continue;
        };
        if checks.files_changed_since(&columns, run_began) {
            continue;
        }
        if let Some(subject) = subject_of(checks, &key, &columns) {
            answered.entry(subject).or_insert(*done_row);
        }
    }
    let mut written = Vec::new();
    if answered.is_empty() {
        return Ok(written);
    }
    let path = output.path().to_owned();
    let failed = |e: std::io::Error| CsvError::io(format!("could not write {}: {e}", path.display()));
    for record in input.records()? {
        let Record::Row { row, columns } = record else { continue };
        if done.contains(row) {
            continue;
        }
        let Some(original) = subject_of(checks, &key, &columns).and_then(|s| answered.get(&s)) else {
            continue;
        };
        let cells = match original.billing {
            Some(Billing::Billed) => ResultCells {
                reused_from: Some(original.row),
                billing: Billing::NotBilled,
                ..output.result_at(original.offset).map_err(failed)?
            },
            _ => not_sent_after_maybe_billed(original.row, details),
        };
        let offset = output.write_row(&columns, row, &cells).map_err(failed)?;
        written.push(DoneRow::written(row, offset, Billing::NotBilled));
    }
    Ok(written)
}

/// The cells of a row not sent because row `original` asked the same and may have been billed.
pub fn not_sent_after_maybe_billed(original: u64, details: usize) -> ResultCells {
    ResultCells {
        error_code: String::new(),
        reason: format!(
            "not sent: row {original} asks the same and may have been billed without an answer; find its outcome in Juhe's order records before checking this row again"
        ),
        res: String::new(),
        billing: Billing::NotBilled,
        reused_from: None,
        resend: Some(Resend::RisksPayingTwice),
        ledger_entry: None,
        details: vec![String::new(); details],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use juhe_proto::{Param, Product};

    #[test]
    fn equal_fields_after_normalisation_are_one_question() {
        let checks = |product| RowChecks {
            product,
            positions: vec![(Param::Idcard, 0), (Param::Mobile, 1)],
            base_dir: std::path::PathBuf::new(),
        };
        let key = SubjectKey::generate();
        let row = |id: &str, mobile: &str| [id.to_owned(), mobile.to_owned()];
        let subject = |product, id: &str, mobile: &str| subject_of(&checks(product), &key, &row(id, mobile));
        let first = subject(Product::Telecom2, "11010519491231002X", "13912345678");
        assert!(first.is_some());
        assert_eq!(subject(Product::Telecom2, " 11010519491231002x", "+86 139-1234-5678"), first);
        assert_ne!(subject(Product::Telecom2, "11010519491231002X", "13912345679"), first);
        assert_eq!(subject(Product::Telecom2, "not an id", "13912345678"), None);
    }
}
