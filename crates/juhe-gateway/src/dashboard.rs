//! The operator's page (`/__gateway/dashboard`, behind the admin key): spend per team per day
//! from the ledger, what this replica answered per team (billed, reused instead of paid,
//! refused, over budget), the checks left pending and the keys. Rendered here, as HTML with an
//! inline SVG chart: no script, nothing fetched, no personal data (teams, counts, dates).

use std::collections::BTreeMap;
use std::fmt::Write;

use juhe_proto::CivilDate;
use juhe_verify::ledger::chart::{BarChart, Series, escape};
use juhe_verify::ledger::{Grouping, Ledger, LedgerError, Span, china_timestamp};

use crate::metrics::{Metrics, Outcome};

/// How many days the chart shows, today included.
const DAYS: i64 = 7;

/// What the page shows, read from the ledger (this blocks) and the metrics.
pub(crate) struct Dashboard {
    /// Billed (and maybe billed) checks per day, per team: `days[i]` is `today - (DAYS-1-i)`.
    days: Vec<(CivilDate, BTreeMap<String, u64>)>,
    by_team: BTreeMap<String, BTreeMap<Outcome, u64>>,
    unanswered: usize,
    in_flight: usize,
    keys: Vec<(String, bool)>,
}

impl Dashboard {
    pub(crate) fn read(ledger: &Ledger, metrics: &Metrics, today: CivilDate) -> Result<Self, LedgerError> {
        let mut days = Vec::new();
        for back in (0..DAYS).rev() {
            let day = CivilDate::from_unix_days(today.to_unix_days() - back);
            let report = ledger.report(Span::new(Some(day), Some(day)), Grouping::Team)?;
            let spend = report
                .groups
                .into_iter()
                .filter(|(team, _)| !team.is_empty())
                .map(|(team, counts)| (team, counts.billed + counts.maybe_billed))
                .collect();
            days.push((day, spend));
        }
        let unanswered = ledger.unanswered()?;
        let keys = ledger.team_keys()?.into_iter().map(|k| (k.team, k.revoked_at.is_none())).collect();
        Ok(Self {
            days,
            by_team: metrics.by_team(),
            in_flight: unanswered.iter().filter(|e| e.in_flight).count(),
            unanswered: unanswered.len(),
            keys,
        })
    }

    /// The page.
    pub(crate) fn html(&self, now: std::time::SystemTime) -> String {
        let mut page = String::with_capacity(8 * 1024);
        page.push_str(concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>juhe gateway</title><style>",
            "body{font:14px system-ui,sans-serif;margin:2em;color:#222}",
            "table{border-collapse:collapse;margin:1em 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}",
            "th:first-child,td:first-child{text-align:left}.axis{font-size:11px;fill:#555}",
            "</style></head><body>\n<h1>juhe gateway</h1>\n"
        ));
        let _ = writeln!(page, "<p>as of {}</p>", escape(&china_timestamp(now)));
        self.chart(&mut page);
        self.replica_table(&mut page);
        let _ = writeln!(
            page,
            "<h2>Pending</h2><p id=\"pending\">{} sent with no answer recorded, {} in flight; \
             settle the others from Juhe's order records (<code>juhe ledger pending</code>).</p>",
            self.unanswered, self.in_flight
        );
        page.push_str("<h2>Keys</h2><table id=\"keys\"><tr><th>team</th><th>status</th></tr>");
        for (team, live) in &self.keys {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(team),
                if *live { "live" } else { "revoked" }
            );
        }
        page.push_str("</table>\n</body></html>\n");
        page
    }

    /// Billed checks per day, one bar per team and day, in an SVG.
    fn chart(&self, page: &mut String) {
        let mut teams: Vec<&String> = self.days.iter().flat_map(|(_, spend)| spend.keys()).collect();
        teams.sort();
        teams.dedup();
        let series = teams
            .iter()
            .map(|team| Series {
                name: (*team).clone(),
                values: self
                    .days
                    .iter()
                    .map(|(_, spend)| spend.get(*team).copied().unwrap_or(0))
                    .map(|n| (n as f64, n.to_string()))
                    .collect(),
            })
            .collect();
        let chart = BarChart {
            id: "spend".into(),
            title: "Billed checks per team per day".into(),
            categories: self.days.iter().map(|(day, _)| day.to_string()).collect(),
            series,
        };
        page.push_str(&chart.html());
    }

    /// What this replica answered since it started, per team.
    fn replica_table(&self, page: &mut String) {
        page.push_str("<h2>This replica, per team</h2><table id=\"teams\"><tr><th>team</th><th>billed</th><th>reused (not paid)</th><th>refused</th><th>over budget</th><th>maybe billed</th></tr>");
        for (team, outcomes) in &self.by_team {
            let n = |o: Outcome| outcomes.get(&o).copied().unwrap_or(0);
            let name = if team.is_empty() { "(no key)".to_owned() } else { escape(team) };
            let _ = write!(
                page,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                n(Outcome::Billed),
                n(Outcome::Reused),
                n(Outcome::Refused) + n(Outcome::Rejected),
                n(Outcome::OverBudget),
                n(Outcome::MaybeBilled)
            );
        }
        page.push_str("</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_draws_a_bar_per_team_and_day_and_escapes_names() {
        let today = CivilDate::new(2026, 12, 6).unwrap();
        let day = |back: i64| CivilDate::from_unix_days(today.to_unix_days() - back);
        let mut days: Vec<(CivilDate, BTreeMap<String, u64>)> =
            (0..DAYS).rev().map(|b| (day(b), BTreeMap::new())).collect();
        days[6].1.insert("pay<ments>".into(), 40);
        days[5].1.insert("risk".into(), 10);
        let board = Dashboard {
            days,
            by_team: BTreeMap::new(),
            unanswered: 2,
            in_flight: 1,
            keys: vec![("risk".into(), false)],
        };
        let html = board.html(std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(html.matches("<rect class=\"bar\" data-series").count(), 14, "two teams × seven days");
        assert!(
            html.contains("data-series=\"pay&lt;ments&gt;\" data-category=\"2026-12-06\" data-value=\"40\"")
        );
        assert!(!html.contains("pay<ments>"));
        assert!(html.contains("2 sent with no answer recorded, 1 in flight"));
        assert!(html.contains("<td>risk</td><td>revoked</td>"));
    }
}
