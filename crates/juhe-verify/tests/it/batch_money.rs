//! The `batch_money` example is a test too: dedupe, a budget and a stop, each checked against
//! the sandbox's ledger by a program that uses only `juhe-verify` and `juhe-sandbox`.

#[path = "../../examples/batch_money.rs"]
#[allow(dead_code, reason = "the example's `main` is not called here")]
mod example;

#[test]
fn the_example_shows_each_guarantee_against_the_sandbox() {
    let report = example::run().unwrap();
    assert!(report.contains("dedupe: 30 inputs, 10 billed by the sandbox, 20 reused"), "{report}");
    assert!(report.contains("budget: 200 inputs, max_billed 25: 25 billed, 175 not sent"), "{report}");
}
