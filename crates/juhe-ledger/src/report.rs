//! Counts for reconciling with Juhe's bill.

use juhe_proto::CivilDate;

use crate::calendar::china_midnight;
use crate::record::State;

/// How a report splits its counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grouping {
    /// One total.
    #[default]
    Total,
    /// Per day, China time (`2026-12-01`).
    Day,
    /// Per product (`telecom3`).
    Product,
    /// Per mode (`rsa`).
    Mode,
    /// Per team a gateway checked for (`payments`); the account's own checks under `""`.
    Team,
}

/// Which entries a report or an export covers: by the day they were sent, China time, both
/// ends included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Span {
    /// The first day.
    pub since: Option<CivilDate>,
    /// The last day.
    pub until: Option<CivilDate>,
}

impl Span {
    /// Every entry.
    pub fn all() -> Self {
        Self::default()
    }

    /// Entries sent from `since` to `until`, inclusive.
    pub fn new(since: Option<CivilDate>, until: Option<CivilDate>) -> Self {
        Self { since, until }
    }

    /// `[from, to)` in Unix days in China.
    pub(crate) fn days(&self) -> (i64, i64) {
        let from = self.since.map_or(i64::MIN, |d| d.to_unix_days());
        let to = self.until.map_or(i64::MAX, |d| d.to_unix_days() + 1);
        (from, to)
    }

    /// `[from, to)` in Unix milliseconds.
    pub(crate) fn millis(&self) -> (i64, i64) {
        let from = self.since.map_or(i64::MIN, china_midnight);
        let to =
            self.until.map_or(i64::MAX, |d| china_midnight(CivilDate::from_unix_days(d.to_unix_days() + 1)));
        (from, to)
    }
}

/// Checks by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Answered with error_code 0.
    pub billed: u64,
    /// Sent with no answer: timed out (`maybe_billed`) or never settled (`pending`, which
    /// this count includes).
    pub maybe_billed: u64,
    /// Of `maybe_billed`, those still pending: sent by a process that died, or in flight now.
    pub pending: u64,
    /// Of `pending`, those in flight now: their process is alive and their answer coming.
    /// The rest were left by a process that died, and only a reconciliation settles them.
    pub in_flight: u64,
    /// Not billed.
    pub not_billed: u64,
    /// Of `billed` and `not_billed`, those a person settled by hand (`Ledger::settle`).
    pub settled: u64,
    /// Checks answered from the ledger with an earlier billed answer instead of being sent:
    /// not billed, and what reuse saved. Counted by the day of the reuse, not of the answer
    /// reused; a process killed may leave out its last second of them.
    pub reused: u64,
}

impl Counts {
    fn add(&mut self, tally: &Tally) {
        let n = tally.count;
        match tally.state {
            State::Billed => self.billed += n,
            State::NotBilled => self.not_billed += n,
            State::MaybeBilled => self.maybe_billed += n,
            State::Pending => {
                self.maybe_billed += n;
                self.pending += n;
                if tally.in_flight {
                    self.in_flight += n;
                }
            }
        }
        self.settled += tally.settled;
    }
}

/// The SQL of a report's third grouping column: a pending entry's owner (whose liveness says
/// whether it is in flight); nothing for the other states, so they fold into one row.
pub(crate) const TALLY_OWNER: &str = "CASE WHEN state = 'pending' THEN owner END";

/// The target the CLI's embedded sandbox records its checks under: Juhe never sees them, so
/// reports count them apart ([`Report::sandbox`]) and never as billed. A program testing
/// against a [`juhe-sandbox`](https://docs.rs/juhe-sandbox) can record under it too
/// (`ClientBuilder::ledger_target`).
pub const SANDBOX_TARGET: &str = "embedded-sandbox";

/// One row of a backend's tally: entries of one group, account, target kind and state (and
/// owner, for pending).
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    pub(crate) key: String,
    pub(crate) product: String,
    pub(crate) account: String,
    /// Sent to [`SANDBOX_TARGET`].
    pub(crate) sandbox: bool,
    pub(crate) state: State,
    pub(crate) in_flight: bool,
    pub(crate) count: u64,
    /// How many of them were settled by hand.
    pub(crate) settled: u64,
}

/// One row of a backend's reuse tally: answers reused, of one group, account and target kind.
#[derive(Debug, Clone)]
pub(crate) struct ReuseTally {
    pub(crate) key: String,
    pub(crate) product: String,
    pub(crate) account: String,
    pub(crate) sandbox: bool,
    pub(crate) count: u64,
}

/// A report: the total, the groups asked for (in order of their names), each account apart,
/// and the sandbox's checks apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Every entry in the span sent to Juhe (or a base URL), every account on the ledger.
    pub total: Counts,
    /// Per group, when a grouping was asked for.
    pub groups: Vec<(String, Counts)>,
    /// Per account ([`LedgerSecret::account`](crate::LedgerSecret::account)), in order of
    /// their names: what each API key's own bill shows. Several accounts on one ledger make a
    /// total that matches neither bill.
    pub accounts: Vec<(String, Counts)>,
    /// Entries sent to the embedded sandbox ([`SANDBOX_TARGET`]): never billed by Juhe, so
    /// never in the total, the groups or the accounts.
    pub sandbox: Counts,
    /// Each group's counts split by product (group, product), in order: what a price per
    /// product turns into money per group. One group (`""`) without a grouping.
    pub group_products: Vec<((String, String), Counts)>,
    /// Each account's counts split by product (account, product), in order.
    pub account_products: Vec<((String, String), Counts)>,
}

impl Report {
    /// A report from `(group key, state, count)` rows, as a backend tallies them.
    pub(crate) fn from_tally(by: Grouping, rows: Vec<Tally>, reused: Vec<ReuseTally>) -> Self {
        let mut report = Report::default();
        let mut groups = std::collections::BTreeMap::<String, Counts>::new();
        let mut accounts = std::collections::BTreeMap::<String, Counts>::new();
        let mut group_products = std::collections::BTreeMap::<(String, String), Counts>::new();
        let mut account_products = std::collections::BTreeMap::<(String, String), Counts>::new();
        for tally in rows {
            if tally.sandbox {
                report.sandbox.add(&tally);
                continue;
            }
            report.total.add(&tally);
            accounts.entry(tally.account.clone()).or_default().add(&tally);
            account_products.entry((tally.account.clone(), tally.product.clone())).or_default().add(&tally);
            let group = group_name(by, tally.key.clone());
            group_products.entry((group.clone(), tally.product.clone())).or_default().add(&tally);
            if by != Grouping::Total {
                groups.entry(group).or_default().add(&tally);
            }
        }
        for tally in reused {
            if tally.sandbox {
                report.sandbox.reused += tally.count;
                continue;
            }
            report.total.reused += tally.count;
            accounts.entry(tally.account.clone()).or_default().reused += tally.count;
            account_products.entry((tally.account, tally.product.clone())).or_default().reused += tally.count;
            let group = group_name(by, tally.key);
            group_products.entry((group.clone(), tally.product)).or_default().reused += tally.count;
            if by != Grouping::Total {
                groups.entry(group).or_default().reused += tally.count;
            }
        }
        report.groups = groups.into_iter().collect();
        report.accounts = accounts.into_iter().collect();
        report.group_products = group_products.into_iter().collect();
        report.account_products = account_products.into_iter().collect();
        report
    }
}

/// A day group comes as its Unix day number in China; the others as they are.
fn group_name(by: Grouping, key: String) -> String {
    match (by, key.parse::<i64>()) {
        (Grouping::Day, Ok(day)) => {
            let date = CivilDate::from_unix_days(day);
            date.to_string()
        }
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_as_maybe_billed() {
        let tally = |key: &str, state, in_flight, count, settled| Tally {
            key: key.to_owned(),
            product: "telecom3".to_owned(),
            account: if count == 5 { "b".into() } else { "a".into() },
            sandbox: false,
            state,
            in_flight,
            count,
            settled,
        };
        let rows = vec![
            tally("20423", State::Billed, false, 3, 1),
            tally("20423", State::Pending, true, 1, 0),
            tally("20423", State::Pending, false, 4, 0),
            tally("20424", State::MaybeBilled, false, 2, 0),
            tally("20424", State::NotBilled, false, 5, 2),
        ];
        let reused = vec![
            ReuseTally {
                key: "20424".into(),
                product: "idcard".into(),
                account: "a".into(),
                sandbox: false,
                count: 6,
            },
            ReuseTally {
                key: "20425".into(),
                product: "idcard".into(),
                account: "a".into(),
                sandbox: true,
                count: 2,
            },
        ];
        let report = Report::from_tally(Grouping::Day, rows, reused);
        assert_eq!((report.groups[1].1.reused, report.total.reused, report.sandbox.reused), (6, 6, 2));
        assert_eq!(report.groups.len(), 2, "the sandbox's reuse makes no group");
        let cell = |group: &str, product: &str| {
            report.group_products.iter().find(|((g, p), _)| g == group && p == product).map(|(_, c)| *c)
        };
        assert_eq!(cell("2025-12-02", "idcard").map(|c| c.reused), Some(6));
        assert_eq!(cell("2025-12-01", "telecom3").map(|c| c.billed), Some(3));
        assert_eq!(report.account_products.len(), 3, "a/telecom3, a/idcard, b/telecom3");
        assert_eq!(
            report.total,
            Counts {
                billed: 3,
                maybe_billed: 7,
                pending: 5,
                in_flight: 1,
                not_billed: 5,
                settled: 3,
                reused: 6
            }
        );
        assert_eq!(report.groups[0].0, "2025-12-01");
        assert_eq!(report.groups[1].1.maybe_billed, 2);
        assert_eq!(report.accounts.len(), 2);
        assert_eq!(report.accounts[1].1.not_billed, 5);
        let mut sandbox = tally("20423", State::Billed, false, 9, 0);
        sandbox.sandbox = true;
        let report = Report::from_tally(Grouping::Total, vec![sandbox], Vec::new());
        assert_eq!(
            (report.total.billed, report.sandbox.billed),
            (0, 9),
            "the sandbox's checks are never billed"
        );
    }

    #[test]
    fn spans_cover_whole_days_in_china() {
        let day = CivilDate::new(2026, 12, 1).unwrap();
        let (from, to) = Span::new(Some(day), Some(day)).millis();
        assert_eq!(to - from, 86_400_000);
        assert_eq!(from, china_midnight(day));
    }
}
