//! The batch engine's money guarantees, one suite run on every batch: the async `Client`'s
//! (through its `Stream`), its feeder a thread or a task on a current-thread runtime
//! (`BatchOptions::feed_on_runtime`, as `juhe batch` runs it), and the blocking client's. Every bound is read from the sandbox's
//! own ledger, and no latency is added anywhere: a race that breaks a bound shows.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use juhe_sandbox::{Identity, Sandbox, magic};
use juhe_verify::{
    BatchHandle, BatchItem, BatchOptions, BatchStats, Billing, ClientBuilder, Error, ErrorKind, RetryPolicy,
    Skipped, Telecom3Check, Telecom3Outcome, ValidationError,
};

use crate::fixtures::{BOTH, Flavor, builder, runtime};

/// What the suite keeps of an item.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) index: usize,
    pub(crate) tag: usize,
    pub(crate) billing: Billing,
    pub(crate) reused_from: Option<usize>,
    pub(crate) skipped: Option<Skipped>,
}

pub(crate) type Input = (usize, Result<Telecom3Check, ValidationError>);
type Item = BatchItem<usize, Telecom3Outcome>;

/// A batch of the suite: the client's flavor, and for the async one whether its feeder is a
/// task on a current-thread runtime.
#[derive(Debug, Clone, Copy)]
struct Batch {
    flavor: Flavor,
    fed_on_runtime: bool,
}

const BATCHES: [Batch; 3] = [
    Batch { flavor: Flavor::Async, fed_on_runtime: false },
    Batch { flavor: Flavor::Async, fed_on_runtime: true },
    Batch { flavor: Flavor::Blocking, fed_on_runtime: false },
];

/// Runs `inputs` through `batch`, never retrying; `on_item` sees every item (and may stop the
/// batch) before it is dropped.
fn run(
    sandbox: &Sandbox,
    batch: Batch,
    inputs: Vec<Input>,
    options: BatchOptions,
    on_item: impl FnMut(&Item, &BatchHandle),
) -> (Vec<Seen>, BatchStats) {
    run_on(builder(sandbox).retry_policy(RetryPolicy::never()), batch, inputs, options, on_item)
}

/// [`run`] with the clients of `builder`, the async one's feeder a thread.
pub(crate) fn run_with(
    builder: ClientBuilder,
    flavor: Flavor,
    inputs: Vec<Input>,
    options: BatchOptions,
    on_item: impl FnMut(&Item, &BatchHandle),
) -> (Vec<Seen>, BatchStats) {
    run_on(builder, Batch { flavor, fed_on_runtime: false }, inputs, options, on_item)
}

/// The runtime a batch's async client runs on: a task feeder's is current-thread.
fn runtime_for(batch: Batch) -> tokio::runtime::Runtime {
    if batch.fed_on_runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    } else {
        runtime()
    }
}

fn run_on(
    builder: ClientBuilder,
    batch: Batch,
    inputs: Vec<Input>,
    options: BatchOptions,
    mut on_item: impl FnMut(&Item, &BatchHandle),
) -> (Vec<Seen>, BatchStats) {
    let options = options.feed_on_runtime(batch.fed_on_runtime);
    let mut seen = Vec::new();
    let mut keep = |item: Item, handle: &BatchHandle| {
        on_item(&item, handle);
        seen.push(Seen {
            index: item.index,
            tag: item.tag,
            billing: item.billing(),
            reused_from: item.reused_from(),
            skipped: match &item.result {
                Err(Error::Skipped(skipped)) => Some(skipped.clone()),
                _ => None,
            },
        });
    };
    let stats = match batch.flavor {
        Flavor::Blocking => {
            let client = builder.build_blocking().unwrap();
            let mut batch = client.batch(inputs, options);
            let handle = batch.handle();
            for item in batch.by_ref() {
                keep(item, &handle);
            }
            batch.stats()
        }
        Flavor::Async => {
            let client = builder.build().unwrap();
            runtime_for(batch).block_on(async {
                let mut batch = client.batch(inputs, options);
                let handle = batch.handle();
                // Through the `Stream` implementation, as a `StreamExt` user would.
                while let Some(item) =
                    std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut batch), cx)).await
                {
                    keep(item, &handle);
                }
                batch.stats()
            })
        }
    };
    (seen, stats)
}

pub(crate) fn check_of(person: &Identity) -> Result<Telecom3Check, ValidationError> {
    Telecom3Check::new(&person.name, &person.idcard, &person.mobile)
}

fn magic_check(m: &magic::MagicIdentity) -> Result<Telecom3Check, ValidationError> {
    Telecom3Check::new(m.name, m.idcard, m.mobile)
}

/// Tags each check with its position.
pub(crate) fn tagged(checks: Vec<Result<Telecom3Check, ValidationError>>) -> Vec<Input> {
    checks.into_iter().enumerate().collect()
}

/// Every input yields exactly one item.
pub(crate) fn assert_one_item_each(seen: &[Seen], inputs: usize) {
    let mut indexes: Vec<usize> = seen.iter().map(|s| s.index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..inputs).collect::<Vec<_>>(), "an input came out twice or not at all");
    assert!(seen.iter().all(|s| s.index == s.tag), "an item came back with another input's tag");
}

/// 20 people three times each (the copies written differently: lower-case x, +86), a person
/// Juhe has no record of three times (unbilled: each copy is checked itself), and a check
/// whose connection closes after billing three times (maybe billed: the copies are not sent).
#[test]
fn dedupe_sends_each_question_once_and_never_pays_twice() {
    for flavor in BATCHES {
        let sandbox = Sandbox::start().unwrap();
        let people = &sandbox.identities()[..20];
        let mut checks: Vec<_> = people.iter().map(check_of).collect();
        for p in people {
            checks.push(Telecom3Check::new(&p.name, &p.idcard.to_lowercase(), &format!("+86 {}", p.mobile)));
            checks.push(check_of(p));
        }
        for m in [&magic::NO_RECORD, &magic::CLOSE_CONNECTION] {
            checks.extend((0..3).map(|_| magic_check(m)));
        }
        let count = checks.len();
        let (seen, stats) =
            run(&sandbox, flavor, tagged(checks), BatchOptions::default().concurrency(8), |_, _| {});
        assert_one_item_each(&seen, count);
        let ledger = sandbox.ledger();
        assert_eq!(ledger.requests, 20 + 3 + 1, "{flavor:?}: requests to the sandbox");
        assert_eq!(ledger.billed, 20 + 1, "{flavor:?}: billed by the sandbox");
        let reused: Vec<&Seen> = seen.iter().filter(|s| s.reused_from.is_some()).collect();
        assert_eq!(reused.len(), 40, "{flavor:?}");
        for copy in &reused {
            assert_eq!(copy.billing, Billing::NotBilled);
            assert_eq!(copy.reused_from, Some((copy.index - 20) / 2), "{flavor:?}: {copy:?}");
        }
        let after_maybe: Vec<&Seen> =
            seen.iter().filter(|s| matches!(s.skipped, Some(Skipped::SameAsMaybeBilled { .. }))).collect();
        assert_eq!(after_maybe.len(), 2, "{flavor:?}: copies of a maybe-billed check are not sent");
        assert!(after_maybe.iter().all(|s| s.billing == Billing::NotBilled));
        assert_eq!(
            (stats.items, stats.sent, stats.billed, stats.maybe_billed, stats.reused),
            (count as u64, 24, 20, 1, 40),
            "{flavor:?}: {stats:?}"
        );
        assert_eq!(stats.billed + stats.maybe_billed + stats.not_billed, stats.items);
    }
}

/// 120 inputs, every third a person Juhe has no record of (unbilled, so the budget they held
/// while in flight comes back): exactly the budget is billed, and the rest say why not.
#[test]
fn the_budget_holds_against_the_sandboxs_ledger() {
    for flavor in BATCHES {
        for concurrency in [1, 8, 32] {
            let sandbox = Sandbox::start().unwrap();
            let checks = (0..120)
                .map(|i| {
                    if i % 3 == 2 {
                        magic_check(&magic::NO_RECORD)
                    } else {
                        check_of(&sandbox.identities()[i])
                    }
                })
                .collect();
            let options = BatchOptions::default().concurrency(concurrency).max_billed(25).dedupe(false);
            let (seen, stats) = run(&sandbox, flavor, tagged(checks), options, |_, _| {});
            assert_one_item_each(&seen, 120);
            let ledger = sandbox.ledger();
            assert_eq!(ledger.billed, 25, "{flavor:?} at {concurrency}: billed by the sandbox");
            let over =
                seen.iter().filter(|s| matches!(s.skipped, Some(Skipped::Budget { max_billed: 25 }))).count();
            assert_eq!(over as u64, 120 - ledger.requests, "{flavor:?}: every input not sent says so");
            assert_eq!((stats.billed, stats.over_budget), (25, over as u64), "{flavor:?}: {stats:?}");
        }
    }
}

/// `stop()` from the reader, after every 50th item of a long batch: nothing reaches the
/// sandbox after it but the checks already in flight, and only they are yielded.
#[test]
fn after_stop_only_the_checks_in_flight_finish() {
    for flavor in BATCHES {
        for concurrency in [1, 4, 16] {
            let sandbox = Sandbox::start().unwrap();
            let people = sandbox.identities();
            let checks = (0..1000).map(|i| check_of(&people[i % people.len()])).collect();
            let at_stop = AtomicUsize::new(usize::MAX);
            let mut items = 0;
            let mut after = 0;
            let options = BatchOptions::default().concurrency(concurrency);
            let (_, stats) = run(&sandbox, flavor, tagged(checks), options, |_, handle| {
                items += 1;
                if at_stop.load(Ordering::SeqCst) != usize::MAX {
                    after += 1;
                } else if items == 50 {
                    handle.stop();
                    at_stop.store(sandbox.ledger().requests as usize, Ordering::SeqCst);
                }
            });
            let at_stop = at_stop.into_inner() as u64;
            let sent_after = sandbox.ledger().requests - at_stop;
            assert!(
                sent_after < concurrency as u64,
                "{flavor:?} at {concurrency}: {sent_after} requests reached the sandbox after stop()"
            );
            assert!(after < concurrency, "{flavor:?} at {concurrency}: {after} items after stop()");
            assert_eq!(stats.sent, sandbox.ledger().requests, "{flavor:?}: every request sent is counted");
        }
    }
}

/// A dropped batch stops: a reader that walks away leaves at most the checks in flight.
#[test]
fn dropping_a_batch_stops_it() {
    for flavor in BATCHES {
        let sandbox = Sandbox::start().unwrap();
        let people = sandbox.identities().to_vec();
        let inputs = (0..1000).map(move |i| (i, check_of(&people[i % people.len()])));
        let client = builder(&sandbox);
        let options = BatchOptions::default().concurrency(4).feed_on_runtime(flavor.fed_on_runtime);
        let at_drop = match flavor.flavor {
            Flavor::Blocking => {
                let client = client.build_blocking().unwrap();
                let mut batch = client.batch(inputs, options);
                batch.by_ref().take(10).for_each(drop);
                drop(batch);
                sandbox.ledger().requests
            }
            Flavor::Async => {
                let client = client.build().unwrap();
                runtime_for(flavor).block_on(async {
                    let mut batch = client.batch(inputs, options);
                    for _ in 0..10 {
                        batch.next().await.unwrap();
                    }
                    drop(batch);
                    let at_drop = sandbox.ledger().requests;
                    // The tasks of the checks in flight run on this runtime: let them end.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    at_drop
                })
            }
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        let after = sandbox.ledger().requests;
        assert!(
            after - at_drop <= 4,
            "{flavor:?}: {} checks reached the sandbox after the drop",
            after - at_drop
        );
        assert!(after <= 10 + 4, "{flavor:?}: {after} requests for 10 items read");
    }
}

/// Against a port nobody listens on, nothing is sent: the counts say so.
#[test]
fn a_closed_port_sends_nothing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for flavor in BOTH {
        let sandbox = Sandbox::start().unwrap();
        let checks: Vec<_> = sandbox.identities()[..6].iter().map(check_of).collect();
        let builder = builder(&sandbox).base_url(&url).retry_policy(RetryPolicy::never());
        let stats = match flavor {
            Flavor::Blocking => {
                let client = builder.build_blocking().unwrap();
                let mut batch = client.batch(tagged(checks), BatchOptions::default());
                batch.by_ref().for_each(drop);
                batch.stats()
            }
            Flavor::Async => {
                let client = builder.build().unwrap();
                runtime().block_on(async {
                    let mut batch = client.batch(tagged(checks), BatchOptions::default());
                    while batch.next().await.is_some() {}
                    batch.stats()
                })
            }
        };
        assert_eq!((stats.items, stats.sent, stats.not_billed), (6, 0, 6), "{flavor:?}: {stats:?}");
        assert_eq!(stats.failures_by_kind.get(&ErrorKind::NotSent), Some(&6));
    }
}

/// A blocking batch over data that lives on the caller's stack (a scope's threads).
#[test]
fn a_blocking_batch_borrows_its_inputs() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).build_blocking().unwrap();
    let rows: Vec<(String, String, String)> = sandbox.identities()[..30]
        .iter()
        .map(|p| (p.name.clone(), p.idcard.clone(), p.mobile.clone()))
        .collect();
    let verdicts: HashMap<&str, Billing> = std::thread::scope(|scope| {
        let inputs =
            rows.iter().map(|(name, id, mobile)| (name.as_str(), Telecom3Check::new(name, id, mobile)));
        client
            .batch_in(scope, inputs, BatchOptions::default().concurrency(4))
            .map(|item| (item.tag, item.billing()))
            .collect()
    });
    assert_eq!(verdicts.len(), 30);
    assert!(verdicts.values().all(|b| *b == Billing::Billed));
    assert_eq!(sandbox.ledger().billed, 30);
}
