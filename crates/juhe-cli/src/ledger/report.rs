//! `juhe ledger report`: counts for reconciling with Juhe's bill, and with prices the money —
//! spent (billed), at risk (maybe billed) and saved (answered from the ledger instead) — per
//! group and account; as text, JSON, or one HTML page with charts.

use std::fmt::Write as _;

use juhe_verify::ledger::chart::{BarChart, Series, escape as html};
use juhe_verify::ledger::{Counts, Grouping, Ledger, LedgerError, Report, Span, china_timestamp};
use serde_json::{Value, json};

use crate::args::lowargs::ReportFormat;
use crate::prices::{Money, Prices};
use crate::untrusted_text::escaped;

/// What a group's checks cost: billed, maybe billed and reused, each at its product's price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Spend {
    spent: Money,
    at_risk: Money,
    saved: Money,
}

impl Spend {
    fn add(&mut self, price: Money, counts: &Counts) {
        self.spent = self.spent.plus(price.times(counts.billed));
        self.at_risk = self.at_risk.plus(price.times(counts.maybe_billed));
        self.saved = self.saved.plus(price.times(counts.reused));
    }

    fn json(&self) -> Value {
        json!({"spent": self.spent.to_json(), "at_risk": self.at_risk.to_json(), "saved": self.saved.to_json()})
    }
}

/// The report with its money, as every format prints it.
struct Priced<'a> {
    report: &'a Report,
    prices: &'a Prices,
    /// Per group, per account, and the total.
    groups: Vec<Spend>,
    accounts: Vec<Spend>,
    total: Spend,
    /// Products with checks in the span and no price: their money is left out.
    unpriced: Vec<String>,
}

impl<'a> Priced<'a> {
    fn new(report: &'a Report, prices: &'a Prices) -> Self {
        let mut unpriced = Vec::new();
        let mut spend_of = |cells: &[((String, String), Counts)], key: &str| {
            let mut spend = Spend::default();
            for ((_, product), counts) in cells.iter().filter(|((k, _), _)| k == key) {
                match prices.of(product) {
                    Some(price) => spend.add(price, counts),
                    None if !unpriced.contains(product) => unpriced.push(product.clone()),
                    None => {}
                }
            }
            spend
        };
        let groups = report.groups.iter().map(|(key, _)| spend_of(&report.group_products, key)).collect();
        let accounts =
            report.accounts.iter().map(|(key, _)| spend_of(&report.account_products, key)).collect();
        let mut total = Spend::default();
        for spend in report.accounts.iter().map(|(key, _)| spend_of(&report.account_products, key)) {
            total = Spend {
                spent: total.spent.plus(spend.spent),
                at_risk: total.at_risk.plus(spend.at_risk),
                saved: total.saved.plus(spend.saved),
            };
        }
        unpriced.sort();
        Self { report, prices, groups, accounts, total, unpriced }
    }

    fn priced(&self) -> bool {
        !self.prices.is_empty()
    }
}

/// Reads the report (and, for HTML, the days its charts need) and prints it.
pub(crate) fn run(
    ledger: &Ledger,
    span: Span,
    by: Grouping,
    prices: &Prices,
    format: ReportFormat,
) -> Result<(), LedgerError> {
    let report = ledger.report(span, by)?;
    let priced = Priced::new(&report, prices);
    match format {
        ReportFormat::Json => println!("{}", report_json(ledger, &priced)),
        ReportFormat::Text => print_text(ledger, &priced),
        ReportFormat::Html => {
            let days =
                if by == Grouping::Day { report.clone() } else { ledger.report(span, Grouping::Day)? };
            let days = Priced::new(&days, prices);
            print!("{}", page(ledger, span, &priced, &days));
        }
    }
    Ok(())
}

pub(crate) fn counts_json(counts: &Counts) -> Value {
    json!({
        "billed": counts.billed,
        "maybe_billed": counts.maybe_billed,
        "pending": counts.pending,
        "in_flight": counts.in_flight,
        "not_billed": counts.not_billed,
        "settled": counts.settled,
        "reused": counts.reused,
    })
}

fn report_json(ledger: &Ledger, priced: &Priced) -> Value {
    let report = priced.report;
    let row = |counts: &Counts, spend: &Spend| {
        let mut row = counts_json(counts);
        if priced.priced() {
            row["money"] = spend.json();
        }
        row
    };
    let mut object = row(&report.total, &priced.total);
    object["ledger"] = json!(ledger.location());
    let named = |name: &str, rows: &[(String, Counts)], spends: &[Spend]| -> Value {
        rows.iter()
            .zip(spends)
            .map(|((key, counts), spend)| {
                let mut row = row(counts, spend);
                row[name] = json!(key);
                row
            })
            .collect()
    };
    object["groups"] = named("key", &report.groups, &priced.groups);
    object["accounts"] = named("account", &report.accounts, &priced.accounts);
    object["sandbox"] = counts_json(&report.sandbox);
    if priced.priced() {
        object["prices"] = priced.prices.iter().map(|(p, m)| (p.to_owned(), m.to_json())).collect();
        object["unpriced"] = json!(priced.unpriced);
    }
    object
}

fn print_text(ledger: &Ledger, priced: &Priced) {
    let report = priced.report;
    println!("ledger {}", escaped(ledger.location()));
    let money_head = if priced.priced() {
        format!(" {:>12} {:>10} {:>10}", "spent", "at risk", "saved")
    } else {
        String::new()
    };
    println!(
        "{:<12} {:>10} {:>13} {:>9} {:>10} {:>11} {:>8} {:>8}{money_head}",
        "", "billed", "maybe billed", "pending", "in flight", "not billed", "settled", "reused"
    );
    let row = |name: &str, c: &Counts, spend: &Spend| {
        let money = if priced.priced() {
            format!(
                " {:>12} {:>10} {:>10}",
                spend.spent.to_string(),
                spend.at_risk.to_string(),
                spend.saved.to_string()
            )
        } else {
            String::new()
        };
        println!(
            "{:<12} {:>10} {:>13} {:>9} {:>10} {:>11} {:>8} {:>8}{money}",
            escaped(name),
            c.billed,
            c.maybe_billed,
            c.pending,
            c.in_flight,
            c.not_billed,
            c.settled,
            c.reused
        );
    };
    for ((key, counts), spend) in report.groups.iter().zip(&priced.groups) {
        row(key, counts, spend);
    }
    row("total", &report.total, &priced.total);
    if report.accounts.len() > 1 {
        // Each API key is billed on its own: one total over several matches no bill.
        println!("the total covers {} accounts (API keys); each one's bill:", report.accounts.len());
        for ((account, counts), spend) in report.accounts.iter().zip(&priced.accounts) {
            row(&format!("account {account}"), counts, spend);
        }
    }
    if priced.priced() {
        let prices: Vec<String> = priced.prices.iter().map(|(p, m)| format!("{p} {m}")).collect();
        println!("prices per check: {}", prices.join(", "));
        if !priced.unpriced.is_empty() {
            println!(
                "no price for {}: their checks are not in the money (--price PRODUCT=PRICE)",
                priced.unpriced.join(", ")
            );
        }
    }
    if report.sandbox != Counts::default() {
        let s = &report.sandbox;
        println!(
            "not in the total: {} against the embedded sandbox (never billed by Juhe)",
            crate::plural::counted(s.billed + s.maybe_billed + s.not_billed, "check", "checks")
        );
    }
    if report.total.maybe_billed > report.total.in_flight {
        println!(
            "maybe billed checks: `juhe ledger pending` lists them, to find in Juhe's order records \
             and settle (`juhe ledger settle ENTRY --billed` or `--not-billed`)"
        );
    }
}

/// The HTML page: the numbers as in `--format json`, and three charts drawn from the days.
fn page(ledger: &Ledger, span: Span, priced: &Priced, days: &Priced) -> String {
    let mut page = String::with_capacity(16 * 1024);
    page.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>juhe ledger report</title><style>",
        "body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:800px}",
        "table{border-collapse:collapse;margin:1em 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}",
        "th:first-child,td:first-child{text-align:left}.axis{font-size:11px;fill:#555}",
        "</style></head><body>\n<h1>juhe ledger report</h1>\n"
    ));
    let when = |d: Option<juhe_verify::proto::CivilDate>| d.map_or("…".to_owned(), |d| d.to_string());
    let _ = writeln!(
        page,
        "<p>ledger {} · days {} to {} (China time) · made {}</p>",
        html(ledger.location()),
        when(span.since),
        when(span.until),
        html(&china_timestamp(std::time::SystemTime::now()))
    );
    let _ = writeln!(
        page,
        "<script type=\"application/json\" id=\"report\">{}</script>",
        script_safe(&report_json(ledger, priced))
    );
    table(&mut page, priced);
    page.push_str(&spend_chart(days).html());
    page.push_str(&outcome_chart(priced.report).html());
    page.push_str(&reuse_chart(days).html());
    page.push_str("</body></html>\n");
    page
}

/// JSON inside a `<script>` element: `</script>` and `<!--` cannot close or confuse it.
fn script_safe(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

fn table(page: &mut String, priced: &Priced) {
    let report = priced.report;
    let money_head =
        if priced.priced() { "<th>spent</th><th>at risk</th><th>saved by reuse</th>" } else { "" };
    let _ = write!(
        page,
        "<table id=\"totals\"><tr><th></th><th>billed</th><th>maybe billed</th><th>not billed</th><th>reused</th>{money_head}</tr>"
    );
    let mut row = |name: &str, c: &Counts, s: &Spend| {
        let money = if priced.priced() {
            format!("<td>{}</td><td>{}</td><td>{}</td>", s.spent, s.at_risk, s.saved)
        } else {
            String::new()
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{money}</tr>",
            html(name),
            c.billed,
            c.maybe_billed,
            c.not_billed,
            c.reused
        );
    };
    for ((key, counts), spend) in report.groups.iter().zip(&priced.groups) {
        row(key, counts, spend);
    }
    row("total", &report.total, &priced.total);
    page.push_str("</table>\n");
    if priced.priced() && !priced.unpriced.is_empty() {
        let _ = writeln!(
            page,
            "<p id=\"unpriced\">No price for {}: their checks are not in the money.</p>",
            html(&priced.unpriced.join(", "))
        );
    }
    if !priced.priced() {
        page.push_str("<p id=\"unpriced\">No prices given (<code>--price telecom3=0.25</code> or a profile's <code>[prices]</code>): the money chart is empty.</p>\n");
    }
}

/// Money spent per day (billed × price), and at risk (maybe billed × price).
fn spend_chart(days: &Priced) -> BarChart {
    let money = |m: Money| (m.to_string().parse().unwrap_or(0.0), m.to_string());
    BarChart {
        id: "spend-per-day".into(),
        title: "Money spent per day".into(),
        categories: days.report.groups.iter().map(|(day, _)| day.clone()).collect(),
        series: vec![
            Series { name: "spent".into(), values: days.groups.iter().map(|s| money(s.spent)).collect() },
            Series { name: "at risk".into(), values: days.groups.iter().map(|s| money(s.at_risk)).collect() },
        ],
    }
}

/// Every check in the span by how it ended.
fn outcome_chart(report: &Report) -> BarChart {
    let t = &report.total;
    let count = |n: u64| (n as f64, n.to_string());
    BarChart {
        id: "checks-by-outcome".into(),
        title: "Checks by outcome".into(),
        categories: vec!["billed".into(), "maybe billed".into(), "not billed".into(), "reused".into()],
        series: vec![Series {
            name: "checks".into(),
            values: vec![count(t.billed), count(t.maybe_billed), count(t.not_billed), count(t.reused)],
        }],
    }
}

/// Per day: checks paid for, and checks answered from the ledger instead.
fn reuse_chart(days: &Priced) -> BarChart {
    let count = |n: u64| (n as f64, n.to_string());
    let groups = &days.report.groups;
    BarChart {
        id: "reused-vs-paid".into(),
        title: "Reused versus paid, per day".into(),
        categories: groups.iter().map(|(day, _)| day.clone()).collect(),
        series: vec![
            Series { name: "paid".into(), values: groups.iter().map(|(_, c)| count(c.billed)).collect() },
            Series { name: "reused".into(), values: groups.iter().map(|(_, c)| count(c.reused)).collect() },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_the_page_cannot_close_its_script() {
        let hostile = json!({"key": "</script><script>alert(1)</script>"});
        assert!(!script_safe(&hostile).contains("</script>"));
        let back: Value = serde_json::from_str(&script_safe(&hostile)).unwrap();
        assert_eq!(back, hostile);
    }
}
