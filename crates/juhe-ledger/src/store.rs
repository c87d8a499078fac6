//! What a backend does. The decisions are not here: [`admit`](crate::admission::admit) makes
//! them for every backend, inside the transaction the backend opens.

use std::time::SystemTime;

use juhe_proto::Subject;

use crate::admission::{Admission, Policy};
use crate::pace::{Start, StartRequest};
use crate::record::{Entry, EntryId, Intent, Reconciliation, Recorded, Settled, Settlement, Settler};
use crate::report::{Grouping, Report, Span};
use crate::team_keys::{AdminAction, KeyChange, TeamKey};
use crate::{LedgerError, LedgerSecret};

/// Which entries to visit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Selection {
    /// Sent with no answer recorded: pending and maybe billed.
    Unanswered,
    /// Everything sent in the span.
    In(Span),
}

/// A ledger backend: one transaction per call, safe to share between threads.
pub(crate) trait Store: Send + Sync {
    /// Decides, and commits a pending entry when the answer is to send.
    fn begin(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
        now: SystemTime,
    ) -> Result<Admission, LedgerError>;
    /// The answer `begin` would reuse, read without a write lock and without recording.
    fn reusable(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
        now: SystemTime,
    ) -> Result<Option<Recorded>, LedgerError>;
    /// Records a pending entry's outcome; a settlement that is not billed gives its share of
    /// the budget back.
    fn finish(&self, entry: EntryId, settlement: &Settlement, now: SystemTime) -> Result<(), LedgerError>;
    /// Settles an unanswered entry whose sender died, as a person found it in Juhe's
    /// records; not billed gives its share of the budget back.
    fn settle(
        &self,
        entry: EntryId,
        how: &Reconciliation,
        by: &Settler,
        now: SystemTime,
    ) -> Result<Settled, LedgerError>;
    /// Visits entries, oldest first, until `visit` says stop.
    fn visit(&self, selection: Selection, visit: &mut dyn FnMut(Entry) -> bool) -> Result<(), LedgerError>;
    /// The ledger's retention periods (the defaults when never set).
    fn retention(&self) -> Result<crate::Retention, LedgerError>;
    /// Sets them, and logs it as done by `by`, in one transaction.
    fn set_retention(
        &self,
        retention: &crate::Retention,
        by: &str,
        now: SystemTime,
    ) -> Result<(), LedgerError>;
    /// Runs a retention pass (`None`: not due, or the ledger busy, under `Pass::IfDue`); one
    /// that changed something is logged.
    fn expire(
        &self,
        pass: crate::retention::Pass,
        now: SystemTime,
    ) -> Result<Option<crate::Expiry>, LedgerError>;
    /// The secret versions of the entries that still hold a subject, oldest first.
    fn secret_versions(&self) -> Result<Vec<crate::SecretVersion>, LedgerError>;
    /// Adds counts of answers reused.
    fn add_reuse(&self, counts: &[(crate::reuse_counts::ReuseKey, u64)]) -> Result<(), LedgerError>;
    /// Counts entries in `span`, and answers reused.
    fn report(&self, span: Span, by: Grouping) -> Result<Report, LedgerError>;
    /// Deletes entries sent before `before`; how many.
    fn prune(&self, before: SystemTime) -> Result<u64, LedgerError>;
    /// How many entries [`prune`](Self::prune) would delete.
    fn count_before(&self, before: SystemTime) -> Result<u64, LedgerError>;
    /// Removes the personal fields (masked form, result fields, subject) of `account`'s
    /// entries about `subjects`, and what the database keeps of their old values; how many.
    fn forget(&self, account: &str, subjects: &[Subject]) -> Result<u64, LedgerError>;
    /// Books a start in the pace of `account` and `target` (see [`crate::pace`]).
    fn take_start(
        &self,
        account: &str,
        target: &str,
        request: &StartRequest,
        now: SystemTime,
    ) -> Result<Start, LedgerError>;
    /// Records a refusal for the rate in that pace.
    fn rate_limited(
        &self,
        account: &str,
        target: &str,
        cap: Option<f64>,
        now: SystemTime,
    ) -> Result<(), LedgerError>;
    /// The rate that pace holds starts to under `cap`; `None` when it does not pace.
    fn pace_rate(
        &self,
        account: &str,
        target: &str,
        cap: Option<f64>,
        now: SystemTime,
    ) -> Result<Option<f64>, LedgerError>;
    /// Every team key, revoked ones too, oldest first.
    fn team_keys(&self) -> Result<Vec<TeamKey>, LedgerError>;
    /// Makes `change` and logs it as done by `by`, in one transaction.
    fn change_team_keys(&self, change: &KeyChange, by: &str, now: SystemTime) -> Result<(), LedgerError>;
    /// The admin log, oldest first.
    fn admin_actions(&self) -> Result<Vec<AdminAction>, LedgerError>;
    /// Appends an action that is no key change (an erasure) to the admin log.
    fn log_action(&self, action: &AdminAction) -> Result<(), LedgerError>;
    /// The number of the last admin action: it changes whenever the keys do.
    fn team_keys_generation(&self) -> Result<i64, LedgerError>;
}
