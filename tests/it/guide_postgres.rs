//! The example of docs/guides/postgres-ledger.md, verbatim, run against a real PostgreSQL
//! the test starts itself and a sandbox: two clients (two machines of a fleet) on one
//! database ask about the same person at once, and Juhe bills one check.

// --- example: fleet ---
use std::time::Duration;

use juhe_verify::ledger::{Grouping, Ledger, Span};
use juhe_verify::{Client, ClientBuilder, Outcome, Telecom3Check};

/// The client of one process of the fleet: every process opens the same database and uses
/// the same ledger secret, so they share reuse, single flight, budgets and the key's pace.
/// `account` carries the key: `ClientBuilder::from_env()` in production (`JUHE_KEY`, …),
/// `ClientBuilder::new().account(&sandbox.account())` in tests.
fn fleet_client(
    database_url: &str,
    ledger_secret: &str,
    account: ClientBuilder,
) -> Result<Client, Box<dyn std::error::Error>> {
    // Connects (8 connections at most, each with a thread of its own) and creates or
    // migrates the ledger's tables on first use.
    let ledger = Ledger::connect_postgres(database_url)?;
    let client = account
        .ledger(ledger)
        .ledger_secret(ledger_secret)
        .reuse_within(Duration::from_secs(30 * 24 * 3600))
        .max_billed_per_day(5_000)
        .build()?;
    Ok(client)
}

/// What the fleet paid today, as Juhe's bill will show it.
fn billed_today(database_url: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let ledger = Ledger::connect_postgres(database_url)?;
    let today = juhe_verify::proto::CivilDate::today_in_china();
    let report = ledger.report(Span::new(Some(today), Some(today)), Grouping::Total)?;
    Ok(report.total.billed)
}
// --- end ---

use juhe_sandbox::Sandbox;
use juhe_test_support::postgres_server;

use crate::fixtures::runtime;

#[test]
fn two_machines_on_one_postgres_pay_once_for_one_person() {
    let sandbox =
        Sandbox::builder().latency(Duration::from_millis(200)..=Duration::from_millis(200)).start().unwrap();
    let url = postgres_server::shared().new_database();
    let secret = "a secret every machine of the fleet shares";
    let (a, b) = (
        fleet_client(&url, secret, ClientBuilder::new().account(&sandbox.account())).unwrap(),
        fleet_client(&url, secret, ClientBuilder::new().account(&sandbox.account())).unwrap(),
    );
    let p = &sandbox.identities()[3];
    let check = Telecom3Check::new(&p.name, &p.idcard, &p.mobile).unwrap();
    let (first, second) = runtime().block_on(async { tokio::join!(a.telecom3(&check), b.telecom3(&check)) });
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.verdict, second.verdict);
    assert_eq!(
        [first.reused().is_some(), second.reused().is_some()].iter().filter(|r| **r).count(),
        1,
        "one machine waited for the other's answer"
    );
    assert_eq!(first.order_id, second.order_id, "one order, one payment");
    assert_eq!(sandbox.ledger().billed, 1);
    assert_eq!(billed_today(&url).unwrap(), 1);
}

const GUIDE: &str = include_str!("../../docs/guides/postgres-ledger.md");
const THIS_FILE: &str = include_str!("guide_postgres.rs");

#[test]
fn the_guide_shows_the_example_verbatim() {
    crate::guides::assert_shown(GUIDE, THIS_FILE, "fleet", "docs/guides/postgres-ledger.md");
}
