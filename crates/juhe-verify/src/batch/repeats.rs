//! Which questions repeat among a batch's inputs, found by a first pass over them. A batch
//! given [`Repeats`] remembers only those subjects, so its memory stays at a few bytes per
//! repeated question however many inputs are unique; without it, dedupe remembers every
//! billed subject and its outcome until the batch ends.

use std::fmt;
use std::sync::{Arc, PoisonError};

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
        let all = checks.into_iter().map(|check| Subject::of(&check, &key).short()).collect();
        Self::among(key, all)
    }

    /// [`find`](Self::find) with the checks made on every core while this thread reads
    /// `items`: `make` turns an item (a row as read) into its check, or `None` for one that is
    /// not a check. A batch's first pass runs before anything is sent, when the other cores
    /// are idle; validating rows and hashing their fields is most of its work.
    ///
    /// ```
    /// use juhe_verify::{IdCardCheck, batch::Repeats};
    ///
    /// let rows = ["张三,11010519491231002X", "李四,11010519491231003X", "张三,11010519491231002x"];
    /// let repeats = Repeats::find_in_parallel(rows, |row| {
    ///     let (name, id) = row.split_once(',')?;
    ///     IdCardCheck::new(name, id).ok()
    /// });
    /// assert_eq!(repeats.len(), 1);
    /// ```
    pub fn find_in_parallel<T: Send, C: Check>(
        items: impl IntoIterator<Item = T>,
        make: impl Fn(T) -> Option<C> + Sync,
    ) -> Self {
        let key = SubjectKey::generate();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let subject = |item: T| make(item).map(|check| Subject::of(&check, &key).short());
        let all = if cores < 2 {
            items.into_iter().filter_map(subject).collect()
        } else {
            in_parallel(items, &subject, cores)
        };
        Self::among(key, all)
    }

    /// The subjects of `all` that occur more than once.
    fn among(key: SubjectKey, mut all: Vec<u128>) -> Self {
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

/// How many items a worker takes at a time: enough that the hand-over is a small part of
/// the work, few enough that the workers start at once and end together.
const CHUNK: usize = 256;

/// `subject` of each item of `items`, made by `workers` threads while this one reads and
/// hands them out; in no particular order.
fn in_parallel<T: Send>(
    items: impl IntoIterator<Item = T>,
    subject: &(impl Fn(T) -> Option<u128> + Sync),
    workers: usize,
) -> Vec<u128> {
    // Two chunks a worker waiting: the reader is never far ahead, so memory stays bounded.
    let (chunks, waiting) = std::sync::mpsc::sync_channel::<Vec<T>>(workers * 2);
    let waiting = std::sync::Mutex::new(waiting);
    std::thread::scope(|scope| {
        let work = || {
            let mut subjects = Vec::new();
            loop {
                // The lock is held while waiting (the next chunk goes to whichever worker
                // asked first, the others wait their turn to ask), not while working.
                let next = waiting.lock().unwrap_or_else(PoisonError::into_inner).recv();
                let Ok(chunk) = next else { return subjects };
                subjects.extend(chunk.into_iter().filter_map(subject));
            }
        };
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<T> = items.by_ref().take(CHUNK).collect();
            if chunks.send(chunk).is_err() {
                break; // Every worker has gone: a panic, re-raised below.
            }
        }
        drop(chunks);
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        all
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut subjects: Vec<u128>) -> Vec<u128> {
        subjects.sort_unstable();
        subjects
    }

    #[test]
    fn the_workers_make_every_items_subject_once() {
        // Items that are no check (every seventh) make none; chunks end mid-way.
        let subject = |i: u64| (!i.is_multiple_of(7)).then_some(u128::from(i % 1_000));
        for (count, workers) in [(0, 2), (1, 2), (CHUNK as u64, 2), (10_001, 2), (10_001, 3)] {
            let expected: Vec<u128> = (0..count).filter_map(subject).collect();
            assert_eq!(
                sorted(in_parallel(0..count, &subject, workers)),
                sorted(expected),
                "{count} on {workers}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "a worker's panic")]
    fn a_workers_panic_reaches_the_caller_instead_of_hanging_the_reader() {
        let subject = |i: u64| {
            assert!(i != 5_000, "a worker's panic");
            Some(u128::from(i))
        };
        in_parallel(0..20_000, &subject, 2);
    }

    #[test]
    fn in_parallel_the_same_questions_repeat() {
        use juhe_proto::IdCardCheck;
        // 3,000 rows of 1,200 values: those under 400 are 400 distinct checks, three times
        // each; the others stand for invalid rows, which make no check.
        let names = ["张三", "李四", "王五", "赵六"];
        let check_of = |row: &u32| {
            let value = (row % 1_200) as usize;
            let id = with_check_digit(&format!("1101051949123{:04}", value % 100));
            names.get(value / 100).and_then(|name| IdCardCheck::new(name, &id).ok())
        };
        let rows: Vec<u32> = (0..3_000).collect();
        let parallel = Repeats::find_in_parallel(&rows, check_of);
        assert_eq!(parallel.len(), 400);
        assert_eq!(Repeats::find(rows.iter().filter_map(check_of)).len(), 400);
        for check in rows.iter().filter_map(check_of) {
            assert!(parallel.contains(Subject::of(&check, parallel.key()).short()));
        }
    }

    /// An 18-character ID number from its first 17 (GB 11643's check digit).
    fn with_check_digit(first17: &str) -> String {
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
        let digit = b"10X98765432"[(sum % 11) as usize] as char;
        format!("{first17}{digit}")
    }
}
