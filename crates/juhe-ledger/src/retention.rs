//! How long the ledger keeps what, on two clocks (PIPL art. 19 and 47: no longer than the
//! purpose needs). An entry's **personal fields** — its masked form, its answer's result fields
//! (carrier, province, city) and the keyed hash that links it to a person — go after
//! [`Retention::personal`] (180 days unless set); its **billing facts** (time, product, mode,
//! account, state, code, order number, attempts) stay for reconciliation and the accounts
//! until [`Retention::billing`] (3 years unless set), when the entry goes.
//!
//! The periods are the ledger's own (every process on it applies the same), changed with
//! [`Ledger::set_retention`](crate::Ledger::set_retention) and logged. A handle applies them
//! when it opens and then once a day, on a thread of its own and by one process at a time
//! (a pass that finds the ledger busy tries again an hour later, and never makes a check
//! wait). An entry past its personal period is never reused, even before a pass clears it.

use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::LedgerError;
use crate::calendar::unix_ms;
use crate::store::Store;

const DAY: Duration = Duration::from_secs(86_400);

/// The personal fields' period unless the ledger sets one: 180 days.
pub const DEFAULT_PERSONAL: Duration = Duration::from_secs(180 * 86_400);
/// The billing facts' period unless the ledger sets one: three years (1,096 days).
pub const DEFAULT_BILLING: Duration = Duration::from_secs(1_096 * 86_400);
/// The longest period: ten years.
const LONGEST: Duration = Duration::from_secs(3_660 * 86_400);
/// How often passes run, at most, across every process on the ledger.
pub(crate) const PASS_EVERY: Duration = DAY;
/// How often a handle looks whether a pass is due.
const LOOK_EVERY: Duration = Duration::from_secs(3_600);

/// The two periods of a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retention {
    /// How long an entry keeps its personal fields.
    pub personal: Duration,
    /// How long an entry is kept at all (its billing facts).
    pub billing: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self { personal: DEFAULT_PERSONAL, billing: DEFAULT_BILLING }
    }
}

impl Retention {
    /// Personal fields kept for `personal`, entries for `billing`: each at least a day (a
    /// check in flight never expires under it), at most ten years, and the billing facts at
    /// least as long as the personal fields.
    pub fn new(personal: Duration, billing: Duration) -> Result<Self, LedgerError> {
        if personal < DAY || billing < DAY {
            return Err(LedgerError::Retention("a retention period is at least a day"));
        }
        if personal > LONGEST || billing > LONGEST {
            return Err(LedgerError::Retention("a retention period is at most ten years"));
        }
        if billing < personal {
            return Err(LedgerError::Retention(
                "the billing facts are kept at least as long as the personal fields (the entry goes with them)",
            ));
        }
        Ok(Self { personal, billing })
    }

    /// The cut-offs at `now`, in Unix milliseconds: personal fields of entries sent before
    /// the first go; entries sent before the second go.
    pub(crate) fn cuts(&self, now: SystemTime) -> (i64, i64) {
        let now = unix_ms(now);
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        (now.saturating_sub(ms(self.personal)), now.saturating_sub(ms(self.billing)))
    }
}

/// What a pass did, or would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expiry {
    /// Entries whose personal fields were cleared (or would be).
    pub cleared: u64,
    /// Entries deleted (or that would be).
    pub deleted: u64,
    /// Personal fields of entries sent before this went.
    pub personal_before: SystemTime,
    /// Entries sent before this went.
    pub billing_before: SystemTime,
}

/// The Unix day in China of `ms`: reuse counts are kept by day.
pub(crate) fn china_day(ms: i64) -> i64 {
    (ms + crate::calendar::CHINA_OFFSET_MS).div_euclid(crate::calendar::DAY_MS)
}

/// Whether a pass is due, given when the last one ran (milliseconds, as stored).
pub(crate) fn pass_due(applied_at: Option<&str>, now: SystemTime) -> bool {
    let every = i64::try_from(PASS_EVERY.as_millis()).unwrap_or(i64::MAX);
    match applied_at.and_then(|a| a.parse::<i64>().ok()) {
        Some(at) => unix_ms(now).saturating_sub(at) >= every,
        None => true,
    }
}

/// The admin log's line for a change of periods.
pub(crate) fn retention_detail(retention: &Retention) -> String {
    format!(
        "personal fields {} days, billing facts {} days",
        retention.personal.as_secs() / 86_400,
        retention.billing.as_secs() / 86_400
    )
}

/// The admin log's line for a pass that changed something.
pub(crate) fn expired_detail(cleared: u64, deleted: u64) -> String {
    format!("personal fields of {cleared} entries cleared, {deleted} entries deleted")
}

/// How a backend runs a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Count only.
    DryRun,
    /// Apply now, waiting for the ledger as any write does.
    Now,
    /// Apply if no pass ran in the last day, and only if the ledger is free now.
    IfDue,
}

/// The thread that applies the retention of one ledger handle: at once, then every hour it
/// looks whether a pass is due. Stopped and joined when the handle's last clone goes.
pub(crate) struct Keeper {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Keeper {
    /// `None` when no thread can be had: the ledger still clamps reuse to the periods, and
    /// `juhe ledger prune` applies them by hand.
    pub(crate) fn start(store: Weak<dyn Store>, retention: Arc<Mutex<Retention>>) -> Option<Self> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("juhe-ledger-retention".into())
            .spawn(move || keep(&store, &retention, &stopping))
            .ok()?;
        Some(Self { stop, thread: Some(thread) })
    }
}

fn keep(store: &Weak<dyn Store>, retention: &Mutex<Retention>, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    loop {
        if let Some(store) = store.upgrade() {
            // Another process may have changed the periods.
            if let Ok(current) = store.retention() {
                *retention.lock().unwrap_or_else(PoisonError::into_inner) = current;
            }
            // Busy, failed or not due: the next look tries again; nothing is lost.
            let _ = store.expire(Pass::IfDue, SystemTime::now());
        }
        let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = wake
            .wait_timeout_while(guard, LOOK_EVERY, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        if *guard {
            return;
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_checked_together() {
        assert_eq!(Retention::default().personal, DEFAULT_PERSONAL);
        assert!(Retention::new(DAY * 30, DAY * 365).is_ok());
        assert!(Retention::new(DAY * 30, DAY * 10).is_err(), "billing shorter than personal");
        assert!(Retention::new(Duration::from_secs(3_600), DAY).is_err(), "under a day");
        assert!(Retention::new(DAY, DAY * 4_000).is_err(), "over ten years");
    }

    #[test]
    fn cuts_are_now_minus_each_period() {
        let now = SystemTime::UNIX_EPOCH + DAY * 1_000;
        let retention = Retention::new(DAY * 10, DAY * 100).unwrap();
        assert_eq!(retention.cuts(now), (990 * 86_400_000, 900 * 86_400_000));
    }
}
