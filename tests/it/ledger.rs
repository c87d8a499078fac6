//! The clients with a ledger, against the sandbox: what the sandbox's own ledger billed is the
//! proof. Every test runs on both clients, and on SQLite and PostgreSQL where the backend
//! matters. Several `Ledger` values on one database stand for several processes: each has its
//! own connections, so the database alone keeps them apart.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use juhe_sandbox::{Identity, Sandbox};
use juhe_test_support::postgres_server;
use juhe_verify::ledger::{Ledger, LedgerError};
use juhe_verify::{
    BatchOptions, BatchStats, Billing, ClientBuilder, Error, Outcome, Skipped, Telecom3Check, Telecom3Outcome,
};

use crate::fixtures::{BOTH, Flavor, builder, runtime};

/// Where a test's ledger lives; `open` gives another handle on it, as another process has.
#[derive(Debug, Clone)]
enum Place {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Place {
    fn sqlite(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("juhe-e2e-ledger-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Place::Sqlite(dir.join("ledger.sqlite"))
    }

    fn postgres() -> Self {
        Place::Postgres(postgres_server::shared().new_database())
    }

    fn both(name: &str) -> [Self; 2] {
        [Self::sqlite(name), Self::postgres()]
    }

    fn open(&self) -> Ledger {
        match self {
            Place::Sqlite(path) => Ledger::open_sqlite(path).unwrap(),
            Place::Postgres(url) => Ledger::connect_postgres(url).unwrap(),
        }
    }
}

fn check_of(person: &Identity) -> Telecom3Check {
    Telecom3Check::new(&person.name, &person.idcard, &person.mobile).unwrap()
}

fn with_ledger(sandbox: &Sandbox, place: &Place) -> ClientBuilder {
    builder(sandbox).ledger(place.open()).reuse_within(Duration::from_secs(3600))
}

fn check(builder: ClientBuilder, flavor: Flavor, check: &Telecom3Check) -> Result<Telecom3Outcome, Error> {
    match flavor {
        Flavor::Blocking => builder.build_blocking()?.telecom3(check),
        Flavor::Async => runtime().block_on(async { builder.build()?.telecom3(check).await }),
    }
}

/// Runs `checks` as one batch; the items' results and the stats.
fn batch(
    builder: ClientBuilder,
    flavor: Flavor,
    checks: Vec<Telecom3Check>,
    options: BatchOptions,
) -> (Vec<Result<Telecom3Outcome, Error>>, BatchStats) {
    let inputs: Vec<_> = checks.into_iter().enumerate().map(|(i, c)| (i, Ok(c))).collect();
    let mut results = Vec::new();
    let stats = match flavor {
        Flavor::Blocking => {
            let client = builder.build_blocking().unwrap();
            let mut batch = client.batch(inputs, options);
            for item in batch.by_ref() {
                results.push((item.index, item.result));
            }
            batch.stats()
        }
        Flavor::Async => runtime().block_on(async {
            let client = builder.build().unwrap();
            let mut batch = client.batch(inputs, options);
            while let Some(item) =
                std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut batch), cx)).await
            {
                results.push((item.index, item.result));
            }
            batch.stats()
        }),
    };
    results.sort_by_key(|(i, _)| *i);
    (results.into_iter().map(|(_, r)| r).collect(), stats)
}

/// A second client on the same ledger (another process) gets the first one's answers: not
/// sent, not billed, with the original order number, and no attempt made.
#[test]
fn an_answer_is_paid_for_once_across_clients() {
    for flavor in BOTH {
        for place in Place::both("once") {
            let sandbox = Sandbox::start().unwrap();
            let people: Vec<_> = sandbox.identities()[..5].iter().map(check_of).collect();
            let first: Vec<_> =
                people.iter().map(|p| check(with_ledger(&sandbox, &place), flavor, p).unwrap()).collect();
            assert_eq!(sandbox.ledger().billed, 5, "{flavor:?} {place:?}");
            assert!(first.iter().all(|o| o.attempts() == 1 && o.reused().is_none()));
            for (person, original) in people.iter().zip(&first) {
                let again = check(with_ledger(&sandbox, &place), flavor, person).unwrap();
                let reuse = again.reused().expect("reused");
                assert_eq!(reuse.order_id, original.order_id, "{flavor:?} {place:?}");
                assert_eq!(
                    (again.verdict, again.rescode, again.attempts()),
                    (original.verdict, original.rescode, 0)
                );
                assert_eq!(juhe_verify::billing_of(&Ok::<_, Error>(again)), Billing::NotBilled);
            }
            assert_eq!(sandbox.ledger().requests, 5, "{flavor:?} {place:?}: nothing more was sent");
            // Without reuse, the ledger records but never answers for Juhe.
            let recorder = builder(&sandbox).ledger(place.open());
            assert!(check(recorder, flavor, &people[0]).unwrap().reused().is_none());
            assert_eq!(sandbox.ledger().billed, 6);
        }
    }
}

/// A rerun's answers from the ledger take no place of the key's pace: at a cap of one check
/// every 100 s, 30 reused rows finish at once (paced, the last would start 2,900 s in), on
/// both flavours. The bound is one interval, far from both.
#[test]
fn answers_from_the_ledger_take_no_place_in_the_pace() {
    for flavor in BOTH {
        let place = Place::sqlite(&format!("unpaced-{flavor:?}"));
        let sandbox = Sandbox::start().unwrap();
        let people: Vec<_> = sandbox.identities()[..30].iter().map(check_of).collect();
        batch(with_ledger(&sandbox, &place), flavor, people.clone(), BatchOptions::default());
        let slow = BatchOptions::default().concurrency(8).rate_per_second(0.01);
        let started = std::time::Instant::now();
        let (results, stats) = batch(with_ledger(&sandbox, &place), flavor, people, slow);
        assert!(started.elapsed() < Duration::from_secs(100), "{flavor:?}: a reused row waited on the pace");
        assert_eq!((stats.from_ledger, stats.sent), (30, 0), "{flavor:?}: {stats:?}");
        assert!(results.iter().all(|r| r.as_ref().is_ok_and(|o| o.reused().is_some())));
    }
}

/// A batch rerun on the same ledger sends nothing it already paid for.
#[test]
fn a_batch_rerun_reuses_the_first_runs_answers() {
    for flavor in BOTH {
        let place = Place::sqlite(&format!("rerun-{flavor:?}"));
        let sandbox = Sandbox::start().unwrap();
        let people: Vec<_> = sandbox.identities()[..30].iter().map(check_of).collect();
        let options = BatchOptions::default().concurrency(8);
        let (_, first) = batch(with_ledger(&sandbox, &place), flavor, people.clone(), options.clone());
        assert_eq!((first.billed, first.from_ledger), (30, 0), "{flavor:?}: {first:?}");
        let (results, second) = batch(with_ledger(&sandbox, &place), flavor, people, options);
        assert_eq!((second.billed, second.from_ledger, second.sent), (0, 30, 0), "{flavor:?}: {second:?}");
        assert!(results.iter().all(|r| r.as_ref().unwrap().reused().is_some()));
        assert_eq!(sandbox.ledger().billed, 30, "{flavor:?}: billed by the sandbox");
    }
}

/// Two batches at once on the same 40 new people, each with its own handle on the ledger:
/// every person is billed once between them.
#[test]
fn two_batches_at_once_pay_once_per_person() {
    for flavor in BOTH {
        for place in Place::both(&format!("flight-{flavor:?}")) {
            let sandbox = Sandbox::start().unwrap();
            let people: Vec<_> = sandbox.identities()[..40].iter().map(check_of).collect();
            let barrier = Arc::new(Barrier::new(2));
            let stats: Vec<BatchStats> = std::thread::scope(|scope| {
                let runs: Vec<_> = (0..2)
                    .map(|_| {
                        let (barrier, people, builder) =
                            (barrier.clone(), people.clone(), with_ledger(&sandbox, &place));
                        scope.spawn(move || {
                            barrier.wait();
                            batch(builder, flavor, people, BatchOptions::default().concurrency(8)).1
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            assert_eq!(sandbox.ledger().billed, 40, "{flavor:?} {place:?}: {stats:?}");
            assert_eq!(stats[0].billed + stats[1].billed, 40, "{stats:?}");
            assert_eq!(stats[0].from_ledger + stats[1].from_ledger, 40, "{stats:?}");
        }
    }
}

/// A daily cap shared by two clients racing on 30 different people: exactly the cap is billed
/// between them, and every check not sent says why.
#[test]
fn a_daily_cap_holds_across_clients() {
    for flavor in BOTH {
        for place in Place::both(&format!("cap-{flavor:?}")) {
            let sandbox = Sandbox::start().unwrap();
            let people: Vec<_> = sandbox.identities()[..30].iter().map(check_of).collect();
            let capped = || builder(&sandbox).ledger(place.open()).max_billed_per_day(7);
            let halves = [people[..15].to_vec(), people[15..].to_vec()];
            let results: Vec<_> = std::thread::scope(|scope| {
                let runs: Vec<_> = halves
                    .iter()
                    .map(|half| {
                        let (builder, half) = (capped(), half.clone());
                        scope.spawn(move || {
                            batch(builder, flavor, half, BatchOptions::default().concurrency(4)).0
                        })
                    })
                    .collect();
                runs.into_iter().flat_map(|r| r.join().unwrap()).collect()
            });
            assert_eq!(sandbox.ledger().billed, 7, "{flavor:?} {place:?}");
            let over = results
                .iter()
                .filter(|r| matches!(r, Err(Error::Skipped(Skipped::LedgerBudget { cap: 7, .. }))))
                .count();
            assert_eq!(over, 23, "{flavor:?} {place:?}");
            let one_more = check(capped(), flavor, &check_of(&sandbox.identities()[100]));
            assert!(matches!(one_more, Err(Error::Skipped(Skipped::LedgerBudget { .. }))), "{one_more:?}");
            assert_eq!(sandbox.ledger().requests, 7);
        }
    }
}

/// A ledger that fails (its table gone under it, on a real server) stops the check before
/// anything is sent.
#[test]
fn a_failing_ledger_sends_nothing() {
    for flavor in BOTH {
        let Place::Postgres(url) = Place::postgres() else { unreachable!() };
        let sandbox = Sandbox::start().unwrap();
        let ledger = Ledger::connect_postgres(&url).unwrap();
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin.batch_execute("ALTER TABLE juhe_ledger_entries RENAME TO gone").unwrap();
        let result = check(builder(&sandbox).ledger(ledger), flavor, &check_of(&sandbox.identities()[0]));
        match result {
            Err(Error::Ledger(LedgerError::Database { .. })) => {}
            other => panic!("{flavor:?}: expected a ledger error, got {other:?}"),
        }
        assert_eq!(sandbox.ledger().requests, 0, "{flavor:?}: nothing reached the sandbox");
    }
}

/// With a ledger a batch's cap is the key's: two batches at once on one ledger, each at
/// `rate_per_second(50)`, together start 50 checks a second (each pacing itself, they would
/// start 100), on both flavours and both backends. A process's own cap
/// (`process_rate_per_second`) holds beside the key's. The bounds are the starts' spacing
/// alone: the time the starts take at the cap, from below.
#[test]
fn with_a_ledger_the_rate_cap_is_the_keys() {
    for flavor in BOTH {
        for place in Place::both(&format!("key-cap-{flavor:?}")) {
            let sandbox = Sandbox::start().unwrap();
            let people: Vec<_> = sandbox.identities()[..60].iter().map(check_of).collect();
            let halves = [people[..30].to_vec(), people[30..].to_vec()];
            let barrier = Arc::new(Barrier::new(2));
            let started = std::time::Instant::now();
            std::thread::scope(|scope| {
                let runs: Vec<_> = halves
                    .iter()
                    .map(|half| {
                        let (barrier, half, builder) =
                            (barrier.clone(), half.clone(), with_ledger(&sandbox, &place));
                        scope.spawn(move || {
                            barrier.wait();
                            batch(
                                builder,
                                flavor,
                                half,
                                BatchOptions::default().concurrency(8).rate_per_second(50.0),
                            )
                        })
                    })
                    .collect();
                runs.into_iter().for_each(|r| assert_eq!(r.join().unwrap().1.billed, 30));
            });
            // 60 starts 20 ms apart: the last 1.18 s after the first (each alone: 0.58 s).
            let took = started.elapsed();
            assert!(took >= Duration::from_millis(1180), "{flavor:?} {place:?}: {took:?}");
            let own =
                BatchOptions::default().concurrency(8).rate_per_second(1000.0).process_rate_per_second(20.0);
            let fresh: Vec<_> = sandbox.identities()[60..80].iter().map(check_of).collect();
            let started = std::time::Instant::now();
            assert_eq!(batch(with_ledger(&sandbox, &place), flavor, fresh, own).1.billed, 20);
            let took = started.elapsed();
            // 20 starts 50 ms apart: 0.95 s.
            assert!(took >= Duration::from_millis(950), "{flavor:?} {place:?}: process cap: {took:?}");
            assert_eq!(sandbox.ledger().billed, 80);
        }
    }
}

/// A single check that finds no start in the key's pace within its bound is not sent: with
/// the key's starts booked two seconds ahead (by another process), a check that may wait
/// 100 ms fails at once with `Skipped::KeyBusy`, nothing reaches Juhe, and its entry says not
/// billed; one that may wait 5 s is sent at its start. Both flavours, both backends.
#[test]
fn a_single_check_past_its_bound_is_not_sent() {
    for flavor in BOTH {
        for place in Place::both(&format!("key-busy-{flavor:?}")) {
            let sandbox = Sandbox::start().unwrap();
            let secret = juhe_verify::ledger::LedgerSecret::from_api_key(sandbox.key());
            let target = builder(&sandbox).target_name();
            let other = place.open();
            let ahead = juhe_verify::ledger::StartRequest::live(Duration::from_secs(10)).capped(Some(10.0));
            for _ in 0..20 {
                other.take_start(&secret, &target, &ahead).unwrap();
            }
            let person = check_of(&sandbox.identities()[0]);
            let hurried =
                builder(&sandbox).ledger(place.open()).live_start_within(Duration::from_millis(100));
            let started = std::time::Instant::now();
            let error = check(hurried, flavor, &person).unwrap_err();
            assert!(
                matches!(error, Error::Skipped(Skipped::KeyBusy { .. })),
                "{flavor:?} {place:?}: {error:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(1), "{flavor:?}: it failed at once");
            assert_eq!(error.billing(), Billing::NotBilled);
            assert_eq!(sandbox.ledger().requests, 0, "{flavor:?} {place:?}: nothing sent");
            let entries = place.open().unanswered().unwrap();
            assert!(entries.is_empty(), "{flavor:?} {place:?}: its entry is settled not billed: {entries:?}");
            let patient = builder(&sandbox).ledger(place.open()).live_start_within(Duration::from_secs(5));
            let started = std::time::Instant::now();
            check(patient, flavor, &person).unwrap();
            assert!(started.elapsed() >= Duration::from_millis(1500), "{flavor:?}: sent at its start");
            assert_eq!(sandbox.ledger().billed, 1);
        }
    }
}

/// A batch held back by the key's pace (another process booked the next two seconds) says so
/// through its handle, as a batch held by its own pacer does.
#[test]
fn a_batch_held_by_the_keys_pace_says_so() {
    let place = Place::sqlite("held-by-the-key");
    let sandbox = Sandbox::start().unwrap();
    let secret = juhe_verify::ledger::LedgerSecret::from_api_key(sandbox.key());
    let target = builder(&sandbox).target_name();
    let ahead = juhe_verify::ledger::StartRequest::live(Duration::from_secs(10)).capped(Some(10.0));
    for _ in 0..20 {
        place.open().take_start(&secret, &target, &ahead).unwrap();
    }
    let client = with_ledger(&sandbox, &place).build_blocking().unwrap();
    let person = check_of(&sandbox.identities()[0]);
    let batch = client.batch(vec![(0, Ok(person))], BatchOptions::default());
    let handle = batch.handle();
    let waited = std::thread::scope(|scope| {
        let run = scope.spawn(move || batch.count());
        let asked = std::time::Instant::now();
        let mut seen = None;
        while seen.is_none() && asked.elapsed() < Duration::from_secs(1) {
            let waiting = handle.waiting();
            seen = waiting.paced_for.map(|paced| (paced, waiting.to_string()));
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(run.join().unwrap(), 1);
        seen
    });
    let (waited, said) = waited.expect("the handle said nothing of the key's pace");
    assert!(waited > Duration::from_millis(1000), "{waited:?}");
    assert!(said.contains("the pace holds the next check back"), "{said}");
    assert_eq!(handle.waiting().paced_for, None, "held no more once it started");
}
