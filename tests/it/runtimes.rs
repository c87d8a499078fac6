//! A client outlives the runtime it was first used on: a `static` client shared by
//! `#[tokio::test]`s, each with a runtime of its own, is the common case.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use juhe_sandbox::Sandbox;
use juhe_verify::{Client, Telecom3Check, Verdict};

use crate::fixtures::builder;

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The first runtime stays alive but idle (no `block_on` drives it) while the second uses
/// the client: the pooled connection of the first must not be used from the second.
#[test]
fn a_client_works_from_a_second_runtime_while_the_first_is_idle() {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    static CLIENT: OnceLock<Client> = OnceLock::new();
    let sandbox = SANDBOX.get_or_init(|| Sandbox::start().unwrap());
    let client = CLIENT.get_or_init(|| {
        builder(sandbox).timeouts(Duration::from_secs(2), Duration::from_secs(10)).build().unwrap()
    });
    let p = &sandbox.identities()[0];
    let check = Telecom3Check::new(&p.name, &p.idcard, &p.mobile).unwrap();

    let first = current_thread_runtime();
    assert_eq!(first.block_on(client.telecom3(&check)).unwrap().verdict, Verdict::Match);
    let second = current_thread_runtime();
    let started = Instant::now();
    let outcome = second.block_on(client.telecom3(&check));
    assert_eq!(outcome.unwrap().verdict, Verdict::Match, "after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!((sandbox.ledger().requests, sandbox.ledger().billed), (2, 2));
    drop(first);
    // And a third, after the first is gone.
    let third = current_thread_runtime();
    assert_eq!(third.block_on(client.telecom3(&check)).unwrap().verdict, Verdict::Match);
    assert_eq!(sandbox.ledger().requests, 3);
}
