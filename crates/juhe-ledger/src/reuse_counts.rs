//! How many checks the ledger answered from an earlier billed one: what reuse saved. A
//! reused answer is a read, and must stay one (a batch answered from the ledger runs at the
//! database's read speed), so the counts are kept in memory and added to
//! `juhe_ledger_reuse` by a thread of their own, a second after the first unwritten one (it
//! ends when none is left), and when the last handle on the ledger closes. A process killed
//! loses at most its last second of counts: a statistic, never a billing fact (nothing reused
//! was billed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use crate::calendar::unix_ms;
use crate::record::Intent;
use crate::store::Store;

/// How long a count waits in memory, at most (while the database takes writes).
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The row a reused answer counts in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReuseKey {
    pub(crate) account: String,
    /// The Unix day in China.
    pub(crate) day: i64,
    pub(crate) product: &'static str,
    pub(crate) mode: &'static str,
    /// `""` for the account's own checks.
    pub(crate) team: String,
    pub(crate) target: String,
}

impl ReuseKey {
    fn of(account: &str, intent: &Intent, now: SystemTime) -> Self {
        Self {
            account: account.to_owned(),
            day: crate::retention::china_day(unix_ms(now)),
            product: intent.product.name(),
            mode: intent.mode.name(),
            team: intent.team.clone().unwrap_or_default(),
            target: intent.target.clone(),
        }
    }
}

/// Counts not yet in the database.
struct Unwritten {
    counts: HashMap<ReuseKey, u64>,
    /// Whether a writer thread is running (it ends once it finds nothing left to write).
    writer: bool,
}

/// The counts of one ledger handle and its clones.
pub(crate) struct ReuseCounts {
    store: Arc<dyn Store>,
    unwritten: Mutex<Unwritten>,
}

impl ReuseCounts {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store, unwritten: Mutex::new(Unwritten { counts: HashMap::new(), writer: false }) }
    }

    /// Counts one answer reused for `intent`, and starts the writer if none runs. Never
    /// writes on the caller's path, unless no thread can be started.
    pub(crate) fn count(self: &Arc<Self>, account: &str, intent: &Intent, now: SystemTime) {
        let start_writer = {
            let mut unwritten = self.unwritten.lock().unwrap_or_else(PoisonError::into_inner);
            *unwritten.counts.entry(ReuseKey::of(account, intent, now)).or_default() += 1;
            !std::mem::replace(&mut unwritten.writer, true)
        };
        if start_writer {
            let counts = Arc::downgrade(self);
            let started = std::thread::Builder::new()
                .name("juhe-ledger-reuse".into())
                .spawn(move || write_every_second(&counts));
            if started.is_err() {
                self.unwritten.lock().unwrap_or_else(PoisonError::into_inner).writer = false;
                self.flush();
            }
        }
    }

    /// Writes the counts kept so far; on failure keeps them for the next write.
    pub(crate) fn flush(&self) {
        let counts: Vec<(ReuseKey, u64)> = {
            let mut unwritten = self.unwritten.lock().unwrap_or_else(PoisonError::into_inner);
            unwritten.counts.drain().collect()
        };
        if counts.is_empty() {
            return;
        }
        // A database that cannot take them now (locked, gone): they wait for the next write.
        if self.store.add_reuse(&counts).is_err() {
            let mut unwritten = self.unwritten.lock().unwrap_or_else(PoisonError::into_inner);
            for (key, n) in counts {
                *unwritten.counts.entry(key).or_default() += n;
            }
        }
    }
}

/// The writer: a second after it starts, and every second while counts come, writes them;
/// ends when nothing is left to write, or when the ledger is gone (its last handle wrote
/// them on closing).
fn write_every_second(counts: &Weak<ReuseCounts>) {
    loop {
        std::thread::sleep(FLUSH_EVERY);
        let Some(counts) = counts.upgrade() else { return };
        counts.flush();
        let mut unwritten = counts.unwritten.lock().unwrap_or_else(PoisonError::into_inner);
        if unwritten.counts.is_empty() {
            // Decided under the lock `count` takes: a count that comes after this starts a
            // writer of its own.
            unwritten.writer = false;
            return;
        }
    }
}

impl Drop for ReuseCounts {
    fn drop(&mut self) {
        self.flush();
    }
}
