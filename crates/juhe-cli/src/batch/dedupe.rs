//! Dedupe across a resumed run. Within a run the library's batch engine checks each distinct
//! question once. A resumed run gives the engine only the rows still to do, so a row that
//! repeats one the earlier run already checked would be paid again: before the batch starts,
//! such rows are written from the earlier row's result (marked reused, not billed), or, when
//! that row may have been billed without an answer, as not sent.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use juhe_proto::{IdCardNumber, MobileNumber, PersonName, Product};
use juhe_verify::{Billing, Resend};

use crate::batch::input::{IDCARD, IMAGE, InputFile, MOBILE, NAME, Record};
use crate::batch::output::{Output, ResultCells};
use crate::batch::resume::{DoneRow, DoneRows};
use crate::failure::Failure;

/// A row's fields as a keyed 128-bit hash: two SipHash keys made for this run, so equal keys
/// mean equal fields (a chance collision is one in 2^128) and nobody can aim for one.
#[derive(Debug, Default)]
pub(crate) struct KeyHasher(RandomState, RandomState);

/// The key of a row's fields.
pub(crate) type Key = (u64, u64);

impl KeyHasher {
    /// The key of a row's fields after the library's normalisation (`x` and `X`, `+86`,
    /// spaces), or `None` when a field is invalid: an invalid row is never sent.
    pub(crate) fn key(&self, product: Product, fields: &[(&str, &str)]) -> Option<Key> {
        let mut normalized = Vec::with_capacity(fields.len() + 1);
        normalized.push(product.name().to_owned());
        for &(field, text) in fields {
            normalized.push(match field {
                NAME => PersonName::parse(text).ok()?.as_str().to_owned(),
                IDCARD => IdCardNumber::parse(text).ok()?.as_str().to_owned(),
                MOBILE => MobileNumber::parse(text).ok()?.as_str().to_owned(),
                IMAGE => text.trim().to_owned(),
                _ => return None,
            });
        }
        Some((self.0.hash_one(&normalized), self.1.hash_one(&normalized)))
    }

    fn key_of(
        &self,
        product: Product,
        positions: &[(&'static str, usize)],
        columns: &[String],
    ) -> Option<Key> {
        let fields: Vec<(&str, &str)> = positions
            .iter()
            .map(|&(field, index)| (field, columns.get(index).map_or("", String::as_str)))
            .collect();
        self.key(product, &fields)
    }
}

/// Writes every row still to do whose fields repeat a row done by an earlier run that was
/// billed or maybe billed; returns the rows written. Two passes over the input: the done rows'
/// keys (a keyed hash and 32 bytes of position each, no one's data), then the copies.
pub(crate) fn write_copies_of_done_rows(
    input: &InputFile,
    done: &DoneRows,
    product: Product,
    output: &mut Output,
    details: usize,
) -> Result<Vec<DoneRow>, Failure> {
    let keys = KeyHasher::default();
    let mut answered: HashMap<Key, DoneRow> = HashMap::new();
    for record in input.records()? {
        let Record::Row { row, columns } = record else { continue };
        // A row checked again is not done: its copies wait for its new answer (the batch's
        // own dedupe gives it them).
        let answered_earlier = |d: &&DoneRow| !d.redo && d.billing.is_some_and(|b| b != Billing::NotBilled);
        let Some(done_row) = done.get(row).filter(answered_earlier) else {
            continue;
        };
        if let Some(key) = keys.key_of(product, &input.positions, &columns) {
            answered.entry(key).or_insert(*done_row);
        }
    }
    let mut written = Vec::new();
    if answered.is_empty() {
        return Ok(written);
    }
    let path = output.path().to_owned();
    let failed = |e: std::io::Error| Failure::failed(format!("could not write {}: {e}", path.display()));
    for record in input.records()? {
        let Record::Row { row, columns } = record else { continue };
        if done.contains(row) {
            continue;
        }
        let Some(original) = keys.key_of(product, &input.positions, &columns).and_then(|k| answered.get(&k))
        else {
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
pub(crate) fn not_sent_after_maybe_billed(original: u64, details: usize) -> ResultCells {
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

    #[test]
    fn equal_fields_after_normalisation_have_one_key() {
        let hasher = KeyHasher::default();
        let fields =
            |id: &str, mobile: &str| hasher.key(Product::Telecom2, &[(IDCARD, id), (MOBILE, mobile)]);
        let key = fields("11010519491231002X", "13912345678");
        assert!(key.is_some());
        assert_eq!(fields(" 11010519491231002x", "+86 139-1234-5678"), key);
        assert_ne!(fields("11010519491231002X", "13912345679"), key);
        assert_ne!(
            hasher.key(Product::Telecom3, &[(IDCARD, "11010519491231002X"), (MOBILE, "13912345678")]),
            key
        );
        assert_eq!(fields("not an id", "13912345678"), None);
    }
}
