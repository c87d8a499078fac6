//! A team's budget and purpose hold on both clients (reqwest/async and ureq/blocking), on a
//! real SQLite ledger in front of a sandbox: the second distinct person over a budget of one is
//! not sent, and a person checked for the team's purpose is reused only for that purpose.

#![cfg(feature = "sqlite")]

use juhe_sandbox::Sandbox;
use juhe_verify::ledger::{Ledger, Purpose};
use juhe_verify::{Client, Error, Skipped, Team, Telecom3Check};

fn ledger(name: &str) -> Ledger {
    let dir = std::env::temp_dir().join(format!("juhe-verify-teams-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Ledger::open_sqlite(&dir.join("ledger.sqlite")).unwrap()
}

fn check(sandbox: &Sandbox, n: usize) -> Telecom3Check {
    let p = &sandbox.identities()[n];
    Telecom3Check::new(&p.name, &p.idcard, &p.mobile).unwrap()
}

fn team() -> Team {
    Team::new("payments")
        .unwrap()
        .purpose("onboarding")
        .max_billed_per_day(2)
        .reuse_within(std::time::Duration::from_secs(3600))
}

#[test]
fn the_async_client_keeps_a_teams_budget_and_purpose() {
    let sandbox = Sandbox::start().unwrap();
    let base = Client::builder().account(&sandbox.account()).ledger(ledger("async")).build().unwrap();
    let client = base.for_team(&team()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        client.telecom3(&check(&sandbox, 1)).await.unwrap();
        client.telecom3(&check(&sandbox, 1)).await.unwrap();
        let loan = client.with_purpose(Purpose { label: "loan".into(), consent_ref: None }).unwrap();
        loan.telecom3(&check(&sandbox, 1)).await.unwrap();
        assert_eq!(sandbox.ledger().billed, 2, "reused for onboarding, asked again for a loan");
        let over = client.telecom3(&check(&sandbox, 2)).await.unwrap_err();
        assert!(matches!(over, Error::Skipped(Skipped::TeamBudget { cap: 2, .. })), "{over}");
    });
    assert_eq!(sandbox.ledger().billed, 2);
}

#[test]
fn the_blocking_client_keeps_a_teams_budget_and_purpose() {
    let sandbox = Sandbox::start().unwrap();
    let base =
        Client::builder().account(&sandbox.account()).ledger(ledger("blocking")).build_blocking().unwrap();
    let client = base.for_team(&team()).unwrap();
    client.telecom3(&check(&sandbox, 1)).unwrap();
    client.telecom3(&check(&sandbox, 1)).unwrap();
    let loan = client.with_purpose(Purpose { label: "loan".into(), consent_ref: None }).unwrap();
    loan.telecom3(&check(&sandbox, 1)).unwrap();
    assert_eq!(sandbox.ledger().billed, 2, "reused for onboarding, asked again for a loan");
    let over = client.telecom3(&check(&sandbox, 2)).unwrap_err();
    assert!(matches!(over, Error::Skipped(Skipped::TeamBudget { cap: 2, .. })), "{over}");
    assert_eq!(sandbox.ledger().billed, 2);
}
