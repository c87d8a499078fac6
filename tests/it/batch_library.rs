//! The batch API: every input out exactly once, invalid input never sent, bounded
//! concurrency and memory, a working rate cap; async and blocking.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::fixtures::{builder, runtime};
use juhe_sandbox::{Identity, Sandbox};
use juhe_verify::{BatchOptions, Error, IdCardCheck, Verdict};

/// Inputs: every 10th invalid, every 5th (of the rest) someone else's name.
fn inputs(
    people: &[Identity],
    count: usize,
) -> Vec<(Option<Verdict>, Result<IdCardCheck, juhe_verify::ValidationError>)> {
    (0..count)
        .map(|i| {
            let p = &people[i % people.len()];
            if i % 10 == 3 {
                (None, IdCardCheck::new(&p.name, "110105194912310021"))
            } else if i % 5 == 1 {
                let other = &people[(i + 1) % people.len()];
                (Some(Verdict::Mismatch), IdCardCheck::new(&other.name, &p.idcard))
            } else {
                (Some(Verdict::Match), IdCardCheck::new(&p.name, &p.idcard))
            }
        })
        .collect()
}

fn assert_complete(seen: Vec<(usize, Option<Verdict>, Result<Verdict, Error>)>, count: usize) {
    assert_eq!(seen.len(), count);
    let indexes: HashSet<usize> = seen.iter().map(|(i, ..)| *i).collect();
    assert_eq!(indexes.len(), count, "an input came out twice or not at all");
    for (index, expected, got) in seen {
        match (expected, got) {
            (None, Err(Error::Invalid(_))) => {}
            (Some(want), Ok(got)) => assert_eq!(want, got, "input {index}"),
            (want, got) => panic!("input {index}: wanted {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn async_batch_answers_every_input_once() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).build().unwrap();
    let inputs = inputs(sandbox.identities(), 600);
    let valid = inputs.iter().filter(|(want, _)| want.is_some()).count() as u64;
    let seen = runtime().block_on(async {
        let mut batch = client.batch(inputs, BatchOptions::default().concurrency(16));
        let mut seen = Vec::new();
        while let Some(item) = batch.next().await {
            seen.push((item.index, item.tag, item.result.map(|o| o.verdict)));
        }
        seen
    });
    assert_complete(seen, 600);
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (valid, valid), "invalid inputs must not be sent");
}

#[test]
fn blocking_batch_answers_every_input_once() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).build_blocking().unwrap();
    let inputs = inputs(sandbox.identities(), 400);
    let valid = inputs.iter().filter(|(want, _)| want.is_some()).count() as u64;
    let seen: Vec<_> = client
        .batch(inputs, BatchOptions::default().concurrency(8))
        .map(|item| (item.index, item.tag, item.result.map(|o| o.verdict)))
        .collect();
    assert_complete(seen, 400);
    assert_eq!(sandbox.ledger().billed, valid);
}

#[test]
fn the_rate_cap_spaces_requests() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).build_blocking().unwrap();
    let inputs = inputs(sandbox.identities(), 20).into_iter().filter(|(want, _)| want.is_some()).take(15);
    let started = Instant::now();
    let count = client.batch(inputs, BatchOptions::default().concurrency(8).rate_per_second(100.0)).count();
    assert_eq!(count, 15);
    // 15 starts at 100/s: the last starts 140 ms after the first.
    assert!(started.elapsed() >= Duration::from_millis(140), "{:?}", started.elapsed());
}

#[test]
fn a_slow_reader_holds_back_the_input() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).build().unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let people = sandbox.identities().to_vec();
    let endless = (0..).map(move |i: usize| {
        counter.fetch_add(1, Ordering::SeqCst);
        let p = &people[i % people.len()];
        (i, IdCardCheck::new(&p.name, &p.idcard))
    });
    runtime().block_on(async {
        let mut batch = client.batch(endless, BatchOptions::default().concurrency(4));
        for _ in 0..10 {
            batch.next().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // 10 read, 4 results waiting in the channel, 4 in flight, 1 waiting for a slot.
        let pulled = pulled.load(Ordering::SeqCst);
        assert!(pulled <= 10 + 4 + 4 + 2, "the batch read {pulled} inputs ahead of a slow reader");
    });
}

/// A check's slot is freed when its item is dropped, not when it finishes: a caller holding
/// `concurrency` unrecorded results gets no new check started, so billed-but-unrecorded
/// never exceeds the concurrency.
#[test]
fn slots_are_held_until_items_are_dropped() {
    let sandbox = Sandbox::start().unwrap();
    let people = sandbox.identities().to_vec();
    let checks = move || {
        let people = people.clone();
        (0..40).map(move |i| {
            let p = &people[i % people.len()];
            (i, IdCardCheck::new(&p.name, &p.idcard))
        })
    };
    let wait_for_more = || std::thread::sleep(Duration::from_millis(300));
    // Blocking.
    let client = builder(&sandbox).build_blocking().unwrap();
    let mut batch = client.batch(checks(), BatchOptions::default().concurrency(4));
    let held: Vec<_> = batch.by_ref().take(4).collect();
    wait_for_more();
    assert_eq!(sandbox.ledger().requests, 4, "a check started while 4 results were held");
    drop(held);
    assert_eq!(batch.count(), 36);
    assert_eq!(sandbox.ledger().requests, 40);
    // Async.
    let client = builder(&sandbox).build().unwrap();
    runtime().block_on(async {
        let mut batch = client.batch(checks(), BatchOptions::default().concurrency(4));
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(batch.next().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sandbox.ledger().requests, 44, "a check started while 4 results were held");
        drop(held);
        let mut rest = 0;
        while batch.next().await.is_some() {
            rest += 1;
        }
        assert_eq!(rest, 36);
    });
}

/// The worker threads of this process's blocking batches (Linux names them in /proc).
fn batch_worker_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|name| name.trim() == "juhe-batch-work")
                .count()
        })
        .unwrap_or(0)
}

/// A huge concurrency with few rows starts a thread per row at most, not one per unit of
/// concurrency.
#[test]
fn blocking_batch_threads_are_bounded_by_the_rows() {
    // Threads are counted process-wide, and other tests' batches run beside this one: the
    // count runs in a process of its own (this test binary, running only this test).
    const ALONE: &str = "JUHE_E2E_ALONE";
    if std::env::var_os(ALONE).is_none() {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "batch_library::blocking_batch_threads_are_bounded_by_the_rows"])
            .args(["--test-threads=1", "--nocapture"])
            .env(ALONE, "1")
            .status()
            .unwrap();
        assert!(status.success(), "the test failed in its own process: {status}");
        return;
    }
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).build_blocking().unwrap();
    let people = sandbox.identities().to_vec();
    let inputs = (0..20).map(move |i| (i, IdCardCheck::new(&people[i].name, &people[i].idcard)));
    let mut most = 0;
    let mut count = 0;
    for item in client.batch(inputs, BatchOptions::default().concurrency(usize::MAX)) {
        most = most.max(batch_worker_threads());
        count += 1;
        drop(item);
    }
    assert_eq!(count, 20);
    assert!((1..=20).contains(&most), "{most} worker threads for 20 rows");
}

/// Rate-limit answers slow a batch down by itself, capped or not; the pace it settled at is
/// there to report.
#[test]
fn rate_limits_slow_a_batch_down() {
    use juhe_sandbox::{Fault, FaultKind};
    use juhe_verify::RetryPolicy;
    let sandbox =
        Sandbox::builder().fault(Fault::always(FaultKind::ErrorCode(10012)).at_rate(0.5)).start().unwrap();
    let people = sandbox.identities().to_vec();
    let checks = move || {
        let people = people.clone();
        (0..24).map(move |i| (i, IdCardCheck::new(&people[i].name, &people[i].idcard)))
    };
    let blocking = builder(&sandbox).retry_policy(RetryPolicy::never()).build_blocking().unwrap();
    let mut batch = blocking.batch(checks(), BatchOptions::default().concurrency(4).rate_per_second(1000.0));
    // (The first answers may come before the next line runs: the rate is read only at the end.)
    assert_eq!(batch.by_ref().count(), 24);
    assert!(batch.rate().is_some_and(|r| r < 1000.0), "{:?}", batch.rate());

    let client = builder(&sandbox).retry_policy(RetryPolicy::never()).build().unwrap();
    runtime().block_on(async {
        // Few rows: once limited, an uncapped batch may slow to a check a second.
        let mut batch = client.batch(checks().take(6), BatchOptions::default().concurrency(4));
        assert_eq!(batch.rate(), None, "uncapped");
        while batch.next().await.is_some() {}
        assert!(batch.rate().is_some(), "a limited batch slows down");
    });
}
