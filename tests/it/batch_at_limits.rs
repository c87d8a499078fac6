//! The library's batch at a key's rate limit, async and blocking: a sandbox that answers
//! 20–60 ms late and refuses (10012, unbilled) what passes 50 requests in any one second,
//! as Juhe does. Every row must be billed exactly once, with the default options (the batch
//! finds the limit) and with a cap at the limit (it never passes it). How close to the limit
//! the batch runs is the benchmark's business (`benches/batch_limits.sh`); these check that
//! the pacer holds it below the limit and gives up nothing.

use std::time::Duration;

use juhe_sandbox::{LedgerSnapshot, Sandbox};
use juhe_verify::{BatchOptions, BatchStats, Billing};

use crate::batch_engine::{assert_one_item_each, check_of, run_with, tagged};
use crate::fixtures::{BOTH, Flavor, builder};

/// The sandbox's per-key limit, requests a second.
const LIMIT: u32 = 50;
/// Three seconds' worth of rows at the limit.
const ROWS: usize = 150;

/// Runs [`ROWS`] people, each once, through `flavor`'s batch with `options` and the default
/// retry policy, against a fresh rate-limited sandbox; every row must come back billed.
fn at_the_limit(flavor: Flavor, options: BatchOptions) -> (LedgerSnapshot, BatchStats) {
    let sandbox = Sandbox::builder()
        .latency(Duration::from_millis(20)..=Duration::from_millis(60))
        .qps(LIMIT)
        .seed(2026)
        .start()
        .unwrap();
    let checks = sandbox.identities()[..ROWS].iter().map(check_of).collect();
    let (seen, stats) = run_with(builder(&sandbox), flavor, tagged(checks), options, |_, _| {});
    assert_one_item_each(&seen, ROWS);
    let unbilled: Vec<_> = seen.iter().filter(|s| s.billing != Billing::Billed).collect();
    assert!(unbilled.is_empty(), "{flavor:?}: rows not billed: {unbilled:?}");
    let ledger = sandbox.ledger();
    assert_eq!(ledger.billed, ROWS as u64, "{flavor:?}: each row billed once: {ledger:?}");
    assert_eq!((stats.billed, stats.maybe_billed), (ROWS as u64, 0), "{flavor:?}: {stats:?}");
    (ledger, stats)
}

/// What the sandbox refused for the rate: 10012 answers.
fn refused(ledger: &LedgerSnapshot) -> u64 {
    ledger.codes.get("10012").copied().unwrap_or(0)
}

/// Without a cap the batch starts at 100 a second or more, meets the limit, and holds under
/// it: the refusals are those sent before the first came back, about fifteen (a pacer that
/// kept its speed draws one for every request past 50 a second: 70).
#[test]
fn an_uncapped_batch_finds_the_limit_and_pays_each_row_once() {
    for flavor in BOTH {
        let (ledger, stats) = at_the_limit(flavor, BatchOptions::default());
        let refused = refused(&ledger);
        assert!(refused >= 1, "{flavor:?}: 100 a second against 50 draws a refusal: {ledger:?}");
        assert!(refused <= ROWS as u64 / 5, "{flavor:?}: {refused} refusals for {ROWS} rows: {ledger:?}");
        assert_eq!(ledger.requests, ROWS as u64 + refused, "{flavor:?}: only refusals sent again");
        let rate = stats.rate.expect("a refusal sets the batch's rate");
        assert!(rate <= f64::from(LIMIT), "{flavor:?}: held at {rate}/s, above the limit");
    }
}

/// Capped at the limit, starts are spaced 20 ms apart, so no one-second window holds more than
/// 50 sent: a refusal (0–1 here) comes only from arrivals bunched by a few milliseconds on
/// the way, and lowers the rate.
#[test]
fn a_batch_capped_at_the_limit_stays_under_it() {
    for flavor in BOTH {
        let (ledger, stats) = at_the_limit(flavor, BatchOptions::default().rate_per_second(f64::from(LIMIT)));
        let refused = refused(&ledger);
        assert!(refused <= 5, "{flavor:?}: {refused} refusals at the cap: {ledger:?}");
        assert_eq!(ledger.requests, ROWS as u64 + refused, "{flavor:?}");
        assert!(stats.rate.is_some_and(|r| r <= f64::from(LIMIT)), "{flavor:?}: {stats:?}");
    }
}
