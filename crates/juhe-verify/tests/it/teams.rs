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

/// The inputs of `batch_with_purposes`: person 5 for onboarding, for a loan, and for
/// onboarding again; person 6 with no purpose of its own (the client's: `kyc`).
fn purposed(
    sandbox: &Sandbox,
) -> Vec<(Option<&'static str>, Result<Telecom3Check, juhe_verify::ValidationError>)> {
    [(Some("onboarding"), 5), (Some("loan"), 5), (Some("onboarding"), 5), (None, 6)]
        .into_iter()
        .map(|(purpose, n)| (purpose, Ok(check(sandbox, n))))
        .collect()
}

fn purpose_of(tag: &Option<&'static str>) -> Option<Purpose> {
    tag.map(|label| Purpose { label: label.into(), consent_ref: Some(format!("{label}-consent")) })
}

/// Each input's purpose is recorded with its check; a person asked for two purposes is
/// checked for each, and asked twice for one purpose, once (dedupe keeps purposes apart).
fn assert_purposes_recorded(sandbox: &Sandbox, ledger: &Ledger, reused: usize) {
    assert_eq!(sandbox.ledger().billed, 3, "onboarding and loan for person 5, kyc for person 6");
    assert_eq!(reused, 1, "the second onboarding of person 5");
    let mut purposes = Vec::new();
    ledger
        .entries(juhe_verify::ledger::Span::all(), &mut |e| {
            purposes.push((e.purpose.clone().unwrap_or_default(), e.consent_ref.clone().unwrap_or_default()));
            true
        })
        .unwrap();
    purposes.sort();
    assert_eq!(
        purposes,
        [("kyc", ""), ("loan", "loan-consent"), ("onboarding", "onboarding-consent")]
            .map(|(p, c)| (p.to_owned(), c.to_owned()))
    );
}

#[test]
fn each_input_of_a_batch_can_have_its_own_purpose_on_both_clients() {
    for blocking in [false, true] {
        let sandbox = Sandbox::start().unwrap();
        let ledger = ledger(if blocking { "purposes-blocking" } else { "purposes-async" });
        let builder = Client::builder()
            .account(&sandbox.account())
            .ledger(ledger.clone())
            .purpose("kyc")
            .reuse_within(std::time::Duration::from_secs(3600));
        let options = juhe_verify::BatchOptions::default().concurrency(1);
        let reused = if blocking {
            let client = builder.build_blocking().unwrap();
            // Each item dropped as it comes: it holds the batch's one slot until then.
            let batch = client.batch_with_purposes(purposed(&sandbox), options, purpose_of);
            batch.filter(|item| item.reused_from().is_some()).count()
        } else {
            let client = builder.build().unwrap();
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut batch = client.batch_with_purposes(purposed(&sandbox), options, purpose_of);
                let mut reused = 0;
                while let Some(item) = batch.next().await {
                    reused += usize::from(item.reused_from().is_some());
                }
                reused
            })
        };
        assert_purposes_recorded(&sandbox, &ledger, reused);
    }
}

/// Without a ledger, an input with a purpose of its own is not sent: there is nowhere to
/// record it.
#[test]
fn a_purpose_without_a_ledger_is_not_sent() {
    let sandbox = Sandbox::start().unwrap();
    let client = Client::builder().account(&sandbox.account()).build_blocking().unwrap();
    let items: Vec<_> = client
        .batch_with_purposes(purposed(&sandbox), juhe_verify::BatchOptions::default(), purpose_of)
        .collect();
    let refused = items.iter().filter(|i| matches!(i.result, Err(Error::Config(_)))).count();
    assert_eq!(refused, 3, "the three inputs with a purpose");
    assert_eq!(sandbox.ledger().billed, 1, "only person 6, with none");
}
