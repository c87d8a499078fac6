//! Duplicates: CRM exports repeat people, and each repeat would be paid again. A batch checks
//! each distinct (product, fields) once; later copies are written with the first one's
//! result, marked as reused, not billed.
//!
//! Memory: the survey keeps a keyed 128-bit hash and a row number per row (24 bytes; no one's
//! data), then only the keys seen more than once. A copy's result is read back from the
//! output file where its first row was written, so no result is held in memory either.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use juhe_proto::{IdCardNumber, MobileNumber, PersonName, Product};

use crate::batch::input::{IDCARD, IMAGE, MOBILE, NAME, Record, Records};
use crate::batch::resume::DoneRows;

/// A check's fields as a keyed 128-bit hash: two SipHash keys made for this run, so equal
/// keys mean equal fields (a chance collision is one in 2^128) and nobody can aim for one.
#[derive(Debug, Default)]
pub(crate) struct KeyHasher(RandomState, RandomState);

/// The key of a check: `u128` as two halves, so a survey entry packs into 24 bytes.
pub(crate) type Key = (u64, u64);

impl KeyHasher {
    /// The key of a row's fields after normalisation (`x` and `X`, `+86`, spaces), or `None`
    /// when a field is invalid: an invalid row is never sent, so it needs no key.
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
}

/// Where a row stands among duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Its fields appear once, or dedupe is off.
    Unique,
    /// The first of several rows with these fields: it is checked.
    Original,
    /// A later copy of `first`.
    Copy { first: u64 },
}

#[derive(Debug)]
struct Group {
    first: u64,
    state: GroupState,
}

#[derive(Debug, Clone, Copy)]
enum GroupState {
    /// The first row's result is not written yet.
    Pending,
    /// It is written at this offset of the output.
    Written { offset: u64 },
    /// It was not checked (invalid) or could not be written: copies are checked themselves.
    Unusable,
}

/// The duplicate groups of one input, shared by the reader of the input (which waits for a
/// first row's result before writing its copies) and the writer of the output.
#[derive(Debug, Default)]
pub(crate) struct Duplicates {
    groups: Mutex<HashMap<Key, Group>>,
    changed: Condvar,
}

impl Duplicates {
    /// The groups among `survey` (every row's key and number, in any order), each with the
    /// row that comes first; rows an earlier run wrote are found in `done`.
    pub(crate) fn find(mut survey: Vec<(Key, u64)>, done: &DoneRows) -> Self {
        survey.sort_unstable();
        let mut groups = HashMap::new();
        for run in survey.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
            let (key, first) = run[0];
            let state =
                done.get(first).map_or(GroupState::Pending, |d| GroupState::Written { offset: d.offset });
            groups.insert(key, Group { first, state });
        }
        Self { groups: Mutex::new(groups), changed: Condvar::new() }
    }

    /// How many fields repeat.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The role of `row`, whose key is `key`.
    pub(crate) fn role(&self, key: Key, row: u64) -> Role {
        match self.lock().get(&key) {
            None => Role::Unique,
            Some(group) if group.first == row => Role::Original,
            Some(group) => Role::Copy { first: group.first },
        }
    }

    /// Waits until the first row of `key` is written: its offset, or `None` when copies must
    /// be checked themselves, or when `stop` is set.
    pub(crate) fn wait_for(&self, key: Key, stop: &AtomicBool) -> Option<u64> {
        let mut groups = self.lock();
        loop {
            match groups.get(&key).map(|g| g.state) {
                Some(GroupState::Written { offset }) => return Some(offset),
                Some(GroupState::Pending) if !stop.load(Ordering::SeqCst) => {}
                _ => return None,
            }
            // Woken by `written`, `unusable` or `wake_all`; the timeout is a second look at
            // `stop`, which may be set by a signal handler that cannot notify.
            groups = self
                .changed
                .wait_timeout(groups, Duration::from_millis(100))
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// The first row of `key` is written at `offset`.
    pub(crate) fn written(&self, key: Key, offset: u64) {
        self.set(key, GroupState::Written { offset });
    }

    /// The first row of `key` will have no result to reuse.
    pub(crate) fn unusable(&self, key: Key) {
        self.set(key, GroupState::Unusable);
    }

    /// Wakes every waiting copy (the run is stopping).
    pub(crate) fn wake_all(&self) {
        self.changed.notify_all();
    }

    fn set(&self, key: Key, state: GroupState) {
        if let Some(group) = self.lock().get_mut(&key) {
            group.state = state;
        }
        self.changed.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Group>> {
        self.groups.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every valid row's key and number: one pass over the input, 24 bytes a row.
pub(crate) fn survey(
    records: Records,
    positions: &[(&'static str, usize)],
    product: Product,
    keys: &KeyHasher,
) -> Vec<(Key, u64)> {
    records
        .filter_map(|record| match record {
            Record::Row { row, columns } => {
                let fields: Vec<(&str, &str)> = positions
                    .iter()
                    .map(|&(field, index)| (field, columns.get(index).map_or("", String::as_str)))
                    .collect();
                keys.key(product, &fields).map(|key| (key, row))
            }
            Record::Malformed { .. } => None,
        })
        .collect()
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

    #[test]
    fn groups_know_their_first_row_and_copies_wait_for_it() {
        let (a, b) = ((1, 1), (2, 2));
        let duplicates =
            Duplicates::find(vec![(b, 9), (a, 4), (a, 2), (b, 3), ((3, 3), 1)], &DoneRows::default());
        assert_eq!(duplicates.len(), 2);
        assert_eq!(duplicates.role(a, 2), Role::Original);
        assert_eq!(duplicates.role(a, 4), Role::Copy { first: 2 });
        assert_eq!(duplicates.role((3, 3), 1), Role::Unique);
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| duplicates.wait_for(a, &stop));
            duplicates.written(a, 120);
            assert_eq!(waiter.join().unwrap(), Some(120));
        });
        duplicates.unusable(b);
        assert_eq!(duplicates.wait_for(b, &stop), None);
    }
}
