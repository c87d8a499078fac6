//! The one decision before a check leaves, made inside one database transaction by every
//! backend alike: reuse an earlier answer, wait for a check in flight elsewhere, refuse over a
//! budget, or record a pending entry and send.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::calendar::{from_unix_ms, periods, unix_ms};
use crate::record::{Actor, EntryId, Intent, Recorded, State};
use crate::{LedgerError, LedgerSecret};

/// What a check may do, beyond being recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    reuse_within: Option<Duration>,
    max_billed_per_day: Option<u64>,
    max_billed_per_month: Option<u64>,
    team_max_billed_per_day: Option<u64>,
    team_max_billed_per_month: Option<u64>,
    teams_apart: bool,
    across_purposes: bool,
    resend_maybe_billed: bool,
}

impl Policy {
    /// No budget of any kind: no check is ever refused for one.
    fn uncapped(&self) -> bool {
        self.max_billed_per_day.is_none()
            && self.max_billed_per_month.is_none()
            && self.team_max_billed_per_day.is_none()
            && self.team_max_billed_per_month.is_none()
    }

    /// Record only: no reuse, no budget.
    pub fn record_only() -> Self {
        Self::default()
    }

    /// Reuse a billed, documented answer to the same question, sent to the same target, this
    /// recently; also wait for the same question in flight elsewhere (single flight). Off by
    /// default: people's data changes (a mobile is reassigned), so the window is the user's
    /// choice.
    pub fn reuse_within(mut self, window: Duration) -> Self {
        self.reuse_within = Some(window);
        self
    }

    /// This policy with its reuse window cut to `limit` (the ledger's personal retention).
    pub(crate) fn reuse_at_most(mut self, limit: Duration) -> Self {
        self.reuse_within = self.reuse_within.map(|window| window.min(limit));
        self
    }

    /// No reuse, and no waiting for the same question in flight elsewhere (the default).
    pub fn no_reuse(mut self) -> Self {
        self.reuse_within = None;
        self
    }

    /// At most `cap` checks that cost or may cost money per day (China time) for the account,
    /// across every process on the ledger; pending entries count.
    pub fn max_billed_per_day(mut self, cap: u64) -> Self {
        self.max_billed_per_day = Some(cap);
        self
    }

    /// The same per calendar month (China time).
    pub fn max_billed_per_month(mut self, cap: u64) -> Self {
        self.max_billed_per_month = Some(cap);
        self
    }

    /// At most `cap` checks that cost or may cost money per day (China time) for the team a
    /// check is made for ([`Intent::team`]), across every process on the ledger; the
    /// account's own cap still holds. Checks without a team are not counted.
    pub fn team_max_billed_per_day(mut self, cap: u64) -> Self {
        self.team_max_billed_per_day = Some(cap);
        self
    }

    /// The same per calendar month (China time).
    pub fn team_max_billed_per_month(mut self, cap: u64) -> Self {
        self.team_max_billed_per_month = Some(cap);
        self
    }

    /// Reuse only the team's own answers, and wait only for its own checks in flight: a
    /// gateway whose operator keeps teams apart. By default a person one team checked is
    /// answered from the ledger for another.
    pub fn teams_apart(mut self) -> Self {
        self.teams_apart = true;
        self
    }

    /// Reuse an answer whatever the purpose it was checked for. By default a check is answered
    /// only from checks of the same purpose (none counts as one): a person checked to open an
    /// account has not thereby agreed to be checked again for a loan.
    pub fn reuse_across_purposes(mut self) -> Self {
        self.across_purposes = true;
        self
    }

    /// Sends a check again although an earlier one of the same question may have been
    /// billed without an answer (it timed out, or its process died): the user pays again, on
    /// purpose. Without it such a check is [`Admission::MaybeBilled`], not sent. Billed
    /// answers are still reused and checks in flight still waited for.
    pub fn resend_maybe_billed(mut self) -> Self {
        self.resend_maybe_billed = true;
        self
    }

    /// Whether earlier answers are looked for.
    pub fn reuses(&self) -> bool {
        self.reuse_within.is_some()
    }
}

/// The period of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A day, China time.
    Day,
    /// A calendar month, China time.
    Month,
}

/// What the ledger says about a check about to be sent. Exhaustive on purpose: a new answer
/// would be a new rule about money, which every caller must decide about.
#[derive(Debug, Clone)]
pub enum Admission {
    /// Send it: its pending entry is committed.
    Send(EntryId),
    /// Do not send: reuse this earlier billed answer.
    Reuse(Recorded),
    /// The same question is in flight elsewhere: ask again after a pause, until `until`.
    Wait {
        /// The other check's deadline.
        until: SystemTime,
    },
    /// Do not send: the same question was sent recently and may have been billed, with no
    /// answer recorded. Reconcile it (`juhe ledger pending`) or check without reuse.
    MaybeBilled(Recorded),
    /// Do not send: the budget of `period` is spent.
    OverBudget {
        /// Which budget.
        period: Period,
        /// Its cap.
        cap: u64,
    },
    /// Do not send: the budget of `period` of the team the check is made for is spent.
    TeamOverBudget {
        /// Which budget.
        period: Period,
        /// Its cap.
        cap: u64,
    },
}

/// An entry row about to be inserted.
pub(crate) struct NewRow<'a> {
    pub(crate) account: &'a str,
    /// The team it is made for, its purpose and consent.
    pub(crate) team: Option<&'a str>,
    pub(crate) purpose: Option<&'a str>,
    pub(crate) consent_ref: Option<&'a str>,
    /// Earlier entries count only when they were made for the same team.
    pub(crate) apart: bool,
    /// Earlier entries count whatever their purpose.
    pub(crate) across_purposes: bool,
    /// Who sends it.
    pub(crate) actor: &'static Actor,
    pub(crate) subject: &'a [u8; 32],
    /// The subject under the previous ledger secret, while one is kept: its entries match too.
    pub(crate) previous_subject: Option<&'a [u8; 32]>,
    /// The version of the secret `subject` is hashed under, recorded with the entry.
    pub(crate) secret_version: &'a str,
    pub(crate) product: &'static str,
    pub(crate) mode: &'static str,
    pub(crate) target: &'a str,
    pub(crate) masked: &'a str,
    pub(crate) started_at: i64,
    pub(crate) deadline_at: i64,
    /// The token of the ledger handle that sends it.
    pub(crate) owner: i64,
}

/// An earlier entry for the same subject, product, target and account, as the decision reads it.
pub(crate) struct Earlier {
    pub(crate) id: i64,
    pub(crate) state: State,
    pub(crate) started_at: i64,
    pub(crate) deadline_at: i64,
    pub(crate) verdict: Option<String>,
    pub(crate) order_id: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) result: Option<String>,
    /// Who sent it (none for entries of schema 1).
    pub(crate) owner: Option<i64>,
    /// Pending, and its sender is alive: filled in by [`admit`] before it judges.
    pub(crate) alive: bool,
}

/// What a backend's begin transaction offers the decision.
pub(crate) trait BeginTx {
    /// Serialises checks of one subject across processes (a no-op where the transaction
    /// already holds the database's write lock).
    fn lock_subject(&mut self, subject: &[u8; 32]) -> Result<(), LedgerError>;
    /// Entries that may cost money for this subject, product, target and account since
    /// `since`, newest first, at most a few. Never another account's: its answer is not this
    /// account's to reuse, its checks in flight not this one's to wait for, and either would
    /// tell this account whom the other checked.
    fn earlier(&mut self, row: &NewRow<'_>, since: i64) -> Result<Vec<Earlier>, LedgerError>;
    /// Adds one to the counter of `holder` (an account, or a team's [`team_holder`]) for `period`, unless it has reached `cap`; whether
    /// it did.
    fn spend(&mut self, holder: &str, period: &str, cap: Option<u64>) -> Result<bool, LedgerError>;
    /// Inserts the pending entry.
    fn insert(&mut self, row: &NewRow<'_>) -> Result<i64, LedgerError>;
    /// Adds one to each of `counters` (holder, period), with no cap, and inserts the pending
    /// entry: a check nothing can refuse. A backend may do it in one statement that is its
    /// own transaction (then nothing is left to commit).
    fn count_and_insert(
        &mut self,
        counters: &[(String, String)],
        row: &NewRow<'_>,
    ) -> Result<i64, LedgerError> {
        for (holder, period) in counters {
            self.spend(holder, period, None)?;
        }
        self.insert(row)
    }
    /// This ledger handle's owner token.
    fn owner(&self) -> i64;
    /// Whether the process holding `owner` is alive.
    fn alive(&mut self, owner: i64) -> Result<bool, LedgerError>;
}

/// Whether a pending entry's sender is alive. An entry of schema 1 has no owner: it is taken
/// to be alive until its deadline, as that schema's rule was.
pub(crate) fn sender_alive(
    owner: Option<i64>,
    deadline_at: i64,
    now_ms: i64,
    own: i64,
    alive: &mut dyn FnMut(i64) -> Result<bool, LedgerError>,
) -> Result<bool, LedgerError> {
    match owner {
        None => Ok(deadline_at > now_ms),
        Some(owner) if owner == own => Ok(true),
        Some(owner) => alive(owner),
    }
}

/// The row a check's pending entry would be, now.
fn new_row<'a>(
    tx: &dyn BeginTx,
    secret: &'a LedgerSecret,
    intent: &'a Intent,
    policy: &Policy,
    now_ms: i64,
) -> NewRow<'a> {
    let purpose = intent.purpose.as_ref();
    NewRow {
        account: secret.account(),
        team: intent.team.as_deref(),
        purpose: purpose.map(|p| p.label.as_str()),
        consent_ref: purpose.and_then(|p| p.consent_ref.as_deref()),
        apart: policy.teams_apart,
        across_purposes: policy.across_purposes,
        actor: Actor::current(),
        subject: intent.subject.as_bytes(),
        previous_subject: intent.previous_subject.as_ref().map(juhe_proto::Subject::as_bytes),
        secret_version: secret.version(),
        product: intent.product.name(),
        mode: intent.mode.name(),
        target: &intent.target,
        masked: &intent.masked,
        started_at: now_ms,
        deadline_at: now_ms.saturating_add(i64::try_from(intent.deadline.as_millis()).unwrap_or(i64::MAX)),
        owner: tx.owner(),
    }
}

/// Since when earlier entries count, under `window`.
fn since(now_ms: i64, window: Duration) -> i64 {
    now_ms.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))
}

/// The answer [`admit`] would reuse, read without deciding or recording anything: `None`
/// without reuse, or when there is none.
pub(crate) fn reusable(
    tx: &mut dyn BeginTx,
    secret: &LedgerSecret,
    intent: &Intent,
    policy: &Policy,
    now: SystemTime,
) -> Result<Option<Recorded>, LedgerError> {
    let Some(window) = policy.reuse_within else { return Ok(None) };
    let now_ms = unix_ms(now);
    let row = new_row(tx, secret, intent, policy, now_ms);
    let earlier = tx.earlier(&row, since(now_ms, window))?;
    Ok(reusable_of(&earlier).map(Earlier::recorded))
}

/// The decision, inside `tx`. Only [`Admission::Send`] leaves changes to commit.
pub(crate) fn admit(
    tx: &mut dyn BeginTx,
    secret: &LedgerSecret,
    intent: &Intent,
    policy: &Policy,
    now: SystemTime,
) -> Result<Admission, LedgerError> {
    let now_ms = unix_ms(now);
    let row = new_row(tx, secret, intent, policy, now_ms);
    if let Some(window) = policy.reuse_within {
        // Under both secrets while a previous one is kept, in one order for every process (a
        // process still on the previous secret locks that one alone).
        let mut subjects = [Some(row.subject), row.previous_subject];
        subjects.sort_unstable();
        for subject in subjects.into_iter().flatten() {
            tx.lock_subject(subject)?;
        }
        let mut earlier = tx.earlier(&row, since(now_ms, window))?;
        for e in earlier.iter_mut().filter(|e| e.state == State::Pending) {
            let own = tx.owner();
            e.alive = sender_alive(e.owner, e.deadline_at, now_ms, own, &mut |o| tx.alive(o))?;
        }
        match judge(&earlier, now_ms) {
            Some(Admission::MaybeBilled(_)) if policy.resend_maybe_billed => {}
            Some(decided) => return Ok(decided),
            None => {}
        }
    }
    let [day, month] = periods(now_ms);
    if policy.reuse_within.is_none() && policy.uncapped() {
        // No earlier entry to weigh and no cap to reach: nothing can refuse this check. The
        // same counters as below, each one more, and the entry.
        let team = row.team.map(|team| team_holder(row.account, team));
        let counters: Vec<(String, String)> = team
            .iter()
            .chain(std::iter::once(&row.account.to_owned()))
            .flat_map(|holder| [(holder.clone(), day.clone()), (holder.clone(), month.clone())])
            .collect();
        return Ok(Admission::Send(EntryId(tx.count_and_insert(&counters, &row)?)));
    }
    // Nothing spent so far is committed unless the check is sent: a refusal rolls it back.
    if let Some(team) = row.team {
        let holder = team_holder(row.account, team);
        for (period, name, cap) in [
            (Period::Day, &day, policy.team_max_billed_per_day),
            (Period::Month, &month, policy.team_max_billed_per_month),
        ] {
            if !tx.spend(&holder, name, cap)? {
                return Ok(Admission::TeamOverBudget { period, cap: cap.unwrap_or(0) });
            }
        }
    }
    for (period, name, cap) in
        [(Period::Day, day, policy.max_billed_per_day), (Period::Month, month, policy.max_billed_per_month)]
    {
        if !tx.spend(row.account, &name, cap)? {
            return Ok(Admission::OverBudget { period, cap: cap.unwrap_or(0) });
        }
    }
    Ok(Admission::Send(EntryId(tx.insert(&row)?)))
}

/// The name a team's budget counts under in `juhe_ledger_spend`: its account's, then the
/// team's (a team name holds no `/` the gateway allows, and an account is hex).
pub(crate) fn team_holder(account: &str, team: &str) -> String {
    format!("{account}/{team}")
}

/// Who an entry's share of a budget is given back to: its account, and its team.
pub(crate) fn holders(account: &str, team: Option<&str>) -> Vec<String> {
    std::iter::once(account.to_owned()).chain(team.map(|t| team_holder(account, t))).collect()
}

/// The newest billed answer with a documented verdict: what reuse returns.
fn reusable_of(earlier: &[Earlier]) -> Option<&Earlier> {
    let documented =
        |e: &&Earlier| matches!(e.verdict.as_deref(), Some("match" | "mismatch")) && e.result.is_some();
    earlier.iter().filter(|e| e.state == State::Billed).find(documented)
}

/// Earlier entries → what to do, newest first: a documented billed answer is reused; a check
/// still in flight (pending, its sender alive, before its deadline) is waited for; one that was
/// sent and never answered (timed out, or its sender died) stops this one at once.
fn judge(earlier: &[Earlier], now_ms: i64) -> Option<Admission> {
    if let Some(billed) = reusable_of(earlier) {
        return Some(Admission::Reuse(billed.recorded()));
    }
    let in_flight = earlier.iter().filter(|e| e.state == State::Pending && e.alive && e.deadline_at > now_ms);
    if let Some(until) = in_flight.map(|e| e.deadline_at).max() {
        return Some(Admission::Wait { until: from_unix_ms(until) });
    }
    earlier
        .iter()
        .find(|e| matches!(e.state, State::Pending | State::MaybeBilled))
        .map(|e| Admission::MaybeBilled(e.recorded()))
}

impl Earlier {
    fn recorded(&self) -> Recorded {
        let result = self.result.as_deref().and_then(|r| serde_json::from_str::<Map<String, Value>>(r).ok());
        Recorded {
            entry: EntryId(self.id),
            started_at: from_unix_ms(self.started_at),
            state: self.state,
            order_id: self.order_id.clone(),
            reason: self.reason.clone().unwrap_or_default(),
            result: result.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earlier(id: i64, state: State, deadline_at: i64, verdict: Option<&str>) -> Earlier {
        Earlier {
            owner: Some(7),
            alive: state == State::Pending,
            id,
            state,
            started_at: 0,
            deadline_at,
            verdict: verdict.map(str::to_owned),
            order_id: None,
            reason: None,
            result: verdict.map(|_| r#"{"res":1}"#.to_owned()),
        }
    }

    #[test]
    fn a_documented_billed_answer_wins_then_one_in_flight_then_one_unanswered() {
        let now = 1_000;
        assert!(judge(&[], now).is_none());
        let billed = earlier(1, State::Billed, 0, Some("match"));
        let unknown = earlier(2, State::Billed, 0, Some("unknown"));
        let flying = earlier(3, State::Pending, 2_000, None);
        let abandoned = earlier(4, State::Pending, 500, None);
        let timed_out = earlier(5, State::MaybeBilled, 0, None);
        assert!(matches!(judge(&[flying, billed], now), Some(Admission::Reuse(r)) if r.entry.0 == 1));
        let flying = earlier(3, State::Pending, 2_000, None);
        assert!(matches!(judge(&[unknown, flying], now), Some(Admission::Wait { .. })));
        let unknown = earlier(2, State::Billed, 0, Some("unknown"));
        assert!(
            judge(&[unknown], now).is_none(),
            "an undocumented answer is not reused, and cost nothing more to ask"
        );
        assert!(matches!(judge(&[abandoned], now), Some(Admission::MaybeBilled(r)) if r.entry.0 == 4));
        assert!(matches!(judge(&[timed_out], now), Some(Admission::MaybeBilled(r)) if r.entry.0 == 5));
    }

    #[test]
    fn a_pending_entry_whose_sender_died_is_maybe_billed_at_once() {
        let now = 1_000;
        let mut orphan = earlier(6, State::Pending, 60_000, None);
        orphan.alive = false;
        assert!(matches!(judge(&[orphan], now), Some(Admission::MaybeBilled(r)) if r.entry.0 == 6));
        let mut never = |_| -> Result<bool, LedgerError> { panic!("no owner to ask") };
        assert!(sender_alive(None, 2_000, now, 1, &mut never).unwrap(), "schema 1: alive until its deadline");
        assert!(!sender_alive(None, 500, now, 1, &mut never).unwrap());
        assert!(sender_alive(Some(1), 0, now, 1, &mut never).unwrap(), "this very handle");
        assert!(!sender_alive(Some(2), 60_000, now, 1, &mut |o| Ok(o != 2)).unwrap());
    }
}
