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
    /// Not billed.
    pub not_billed: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, state: State, n: u64) {
        match state {
            State::Billed => self.billed += n,
            State::NotBilled => self.not_billed += n,
            State::MaybeBilled => self.maybe_billed += n,
            State::Pending => {
                self.maybe_billed += n;
                self.pending += n;
            }
        }
    }
}

/// A report: the total, and the groups asked for (in order of their names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Every entry in the span.
    pub total: Counts,
    /// Per group, when a grouping was asked for.
    pub groups: Vec<(String, Counts)>,
}

impl Report {
    /// A report from `(group key, state, count)` rows, as a backend tallies them.
    pub(crate) fn from_tally(by: Grouping, rows: impl IntoIterator<Item = (String, State, u64)>) -> Self {
        let mut report = Report::default();
        let mut groups = std::collections::BTreeMap::<String, Counts>::new();
        for (key, state, n) in rows {
            report.total.add(state, n);
            if by != Grouping::Total {
                groups.entry(group_name(by, key)).or_default().add(state, n);
            }
        }
        report.groups = groups.into_iter().collect();
        report
    }
}

/// A day group comes as its Unix day number in China; the others as they are.
fn group_name(by: Grouping, key: String) -> String {
    match (by, key.parse::<i64>()) {
        (Grouping::Day, Ok(day)) => {
            let date = CivilDate::from_unix_days(day);
            format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
        }
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_as_maybe_billed() {
        let rows = [
            ("20423".to_owned(), State::Billed, 3),
            ("20423".to_owned(), State::Pending, 1),
            ("20424".to_owned(), State::MaybeBilled, 2),
            ("20424".to_owned(), State::NotBilled, 5),
        ];
        let report = Report::from_tally(Grouping::Day, rows);
        assert_eq!(report.total, Counts { billed: 3, maybe_billed: 3, pending: 1, not_billed: 5 });
        assert_eq!(report.groups[0].0, "2025-12-01");
        assert_eq!(report.groups[1].1.maybe_billed, 2);
    }

    #[test]
    fn spans_cover_whole_days_in_china() {
        let day = CivilDate::new(2026, 12, 1).unwrap();
        let (from, to) = Span::new(Some(day), Some(day)).millis();
        assert_eq!(to - from, 86_400_000);
        assert_eq!(from, china_midnight(day));
    }
}
