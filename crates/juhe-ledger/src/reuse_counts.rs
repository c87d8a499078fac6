//! How many checks the ledger answered from an earlier billed one: what reuse saved. A
//! reused answer is a read, and must stay one (a batch answered from the ledger runs at the
//! database's read speed), so the counts are kept in memory and added to
//! `juhe_ledger_reuse` at most once a second, and when the last handle on the ledger closes.
//! A process killed loses at most its last second of counts: a statistic, never a billing
//! fact (nothing reused was billed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::calendar::{CHINA_OFFSET_MS, DAY_MS, unix_ms};
use crate::record::Intent;
use crate::store::Store;

/// How often counts reach the database, at most.
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
            day: (unix_ms(now) + CHINA_OFFSET_MS).div_euclid(DAY_MS),
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
    written_at: Instant,
}

/// The counts of one ledger handle and its clones.
pub(crate) struct ReuseCounts {
    store: Arc<dyn Store>,
    unwritten: Mutex<Unwritten>,
}

impl ReuseCounts {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            unwritten: Mutex::new(Unwritten { counts: HashMap::new(), written_at: Instant::now() }),
        }
    }

    /// Counts one answer reused for `intent`; writes the counts when the last write is a
    /// second old.
    pub(crate) fn count(&self, account: &str, intent: &Intent, now: SystemTime) {
        let due = {
            let mut unwritten = self.unwritten.lock().unwrap_or_else(PoisonError::into_inner);
            *unwritten.counts.entry(ReuseKey::of(account, intent, now)).or_default() += 1;
            unwritten.written_at.elapsed() >= FLUSH_EVERY
        };
        if due {
            self.flush();
        }
    }

    /// Writes the counts kept so far; on failure keeps them for the next write.
    pub(crate) fn flush(&self) {
        let counts: Vec<(ReuseKey, u64)> = {
            let mut unwritten = self.unwritten.lock().unwrap_or_else(PoisonError::into_inner);
            unwritten.written_at = Instant::now();
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

impl Drop for ReuseCounts {
    fn drop(&mut self) {
        self.flush();
    }
}
