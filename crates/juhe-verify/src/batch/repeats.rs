//! Which questions repeat among a batch's inputs, found by a first pass over them. A batch
//! given [`Repeats`] remembers only those subjects, so its memory stays at a few bytes per
//! repeated question however many inputs are unique; without it, dedupe remembers every
//! billed subject and its outcome until the batch ends.

use std::fmt;
use std::sync::Arc;

use juhe_proto::{Check, Subject, SubjectKey};

/// The subjects (keyed hashes of the product and the normalised fields) that occur more than
/// once among some checks, under a key made for them. Cheap to clone.
///
/// ```
/// use juhe_verify::{IdCardCheck, batch::Repeats};
///
/// let rows = [("张三", "11010519491231002X"), ("李四", "11010519491231003X"), ("张三", "11010519491231002x")];
/// let repeats = Repeats::find(rows.iter().filter_map(|(n, id)| IdCardCheck::new(n, id).ok()));
/// assert_eq!(repeats.len(), 1);
/// ```
#[derive(Clone)]
pub struct Repeats(Arc<Found>);

struct Found {
    key: SubjectKey,
    /// Sorted, each once.
    repeated: Vec<u128>,
}

impl Repeats {
    /// Surveys `checks` (16 bytes a check while it runs, then 16 bytes a repeated subject).
    pub fn find<C: Check>(checks: impl IntoIterator<Item = C>) -> Self {
        let key = SubjectKey::generate();
        let mut all: Vec<u128> = checks.into_iter().map(|check| Subject::of(&check, &key).short()).collect();
        all.sort_unstable();
        let mut repeated: Vec<u128> =
            all.chunk_by(|a, b| a == b).filter(|run| run.len() > 1).map(|run| run[0]).collect();
        repeated.shrink_to_fit();
        Self(Arc::new(Found { key, repeated }))
    }

    /// How many questions occur more than once.
    pub fn len(&self) -> usize {
        self.0.repeated.len()
    }

    /// Whether no question repeats.
    pub fn is_empty(&self) -> bool {
        self.0.repeated.is_empty()
    }

    pub(crate) fn key(&self) -> &SubjectKey {
        &self.0.key
    }

    pub(crate) fn contains(&self, subject: u128) -> bool {
        self.0.repeated.binary_search(&subject).is_ok()
    }
}

impl fmt::Debug for Repeats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repeats").field("repeated", &self.len()).finish_non_exhaustive()
    }
}

impl PartialEq for Repeats {
    /// The same survey.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
