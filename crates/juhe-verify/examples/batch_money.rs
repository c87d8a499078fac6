//! The batch engine's money guarantees, shown against the sandbox's own ledger: dedupe, a
//! budget, and an exact stop, for the async and the blocking batch alike.
//!
//! `cargo run -p juhe-verify --example batch_money` (offline; nothing is billed).

use juhe_sandbox::Sandbox;
use juhe_verify::{BatchOptions, Billing, Client, Telecom3Check, blocking};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report = run()?;
    println!("{report}");
    Ok(())
}

/// Runs the three demonstrations and checks each against the sandbox; returns what happened.
pub(crate) fn run() -> Result<String, Box<dyn std::error::Error>> {
    let mut report = String::new();

    // Dedupe: 30 inputs asking about 10 people, each written three ways.
    let sandbox = Sandbox::start()?;
    let people = &sandbox.identities()[..10];
    let inputs: Vec<_> = (0..30)
        .map(|i| {
            let p = &people[i % 10];
            let mobile = if i >= 20 { format!("+86 {}", p.mobile) } else { p.mobile.clone() };
            (i, Telecom3Check::new(&p.name, &p.idcard.to_lowercase(), &mobile))
        })
        .collect();
    let client = blocking::Client::builder().account(&sandbox.account()).build_blocking()?;
    let mut batch = client.batch(inputs, BatchOptions::default().concurrency(4));
    let reused = batch.by_ref().filter(|item| item.reused_from().is_some()).count();
    let ledger = sandbox.ledger();
    assert_eq!((ledger.billed, reused), (10, 20), "each person is paid for once");
    report += &format!("dedupe: 30 inputs, {} billed by the sandbox, {reused} reused\n", ledger.billed);

    // A budget: 200 people, at most 25 billed, whatever the concurrency.
    let sandbox = Sandbox::start()?;
    let inputs: Vec<_> = sandbox.identities()[..200]
        .iter()
        .enumerate()
        .map(|(i, p)| (i, Telecom3Check::new(&p.name, &p.idcard, &p.mobile)))
        .collect();
    let client = Client::builder().account(&sandbox.account()).build()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let stats = runtime.block_on(async {
        let mut batch = client.batch(inputs, BatchOptions::default().concurrency(32).max_billed(25));
        while let Some(item) = batch.next().await {
            // Items past the budget come too, each saying it was not sent.
            debug_assert!(item.billing() != Billing::MaybeBilled);
        }
        batch.stats()
    });
    assert_eq!((sandbox.ledger().billed, stats.billed, stats.over_budget), (25, 25, 175));
    report += &format!(
        "budget: 200 inputs, max_billed 25: {} billed, {} not sent\n",
        stats.billed, stats.over_budget
    );

    // Stop: after the 40th item, nothing new is sent; the checks in flight finish.
    let sandbox = Sandbox::start()?;
    let people = sandbox.identities().to_vec();
    let endless = (0..).map(move |i: usize| {
        let p = &people[i % people.len()];
        (i, Telecom3Check::new(&p.name, &p.idcard, &p.mobile))
    });
    let client = blocking::Client::builder().account(&sandbox.account()).build_blocking()?;
    let mut batch = client.batch(endless, BatchOptions::default().concurrency(8).dedupe(false));
    let handle = batch.handle();
    let mut at_stop = 0;
    for (seen, _item) in batch.by_ref().enumerate() {
        if seen + 1 == 40 {
            handle.stop();
            at_stop = sandbox.ledger().requests;
            break;
        }
    }
    let after = batch.count();
    let sent_after = sandbox.ledger().requests - at_stop;
    assert!(sent_after < 8 && after < 8, "only the checks in flight finish");
    report += &format!(
        "stop: after the 40th item, {after} more items, {sent_after} more requests reached the sandbox\n"
    );
    Ok(report)
}
