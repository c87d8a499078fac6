//! The example of docs/guides/tokio-worker.md, verbatim, and its test as the guide shows it:
//! a worker fed from a queue, stopped mid-run and started again on the same SQLite ledger,
//! pays for each person once.

// --- example: worker ---
use std::time::Duration;

use juhe_verify::ledger::Ledger;
use juhe_verify::{BatchOptions, BatchStats, Billing, Client, ClientBuilder, IdCardCheck, Outcome, Verdict};
use tokio::sync::mpsc;

/// A job from your queue: an application, and whom to check for it.
struct Job {
    application: u64,
    name: String,
    idcard: String,
}

/// What the worker writes back for a job (your database, then your queue's acknowledgement).
#[derive(Debug)]
struct JobResult {
    application: u64,
    verdict: Result<Verdict, String>,
    billing: Billing,
    /// Answered from the ledger (an earlier run or another process paid for it).
    from_ledger: bool,
}

/// The worker's client: the account from `account` (`ClientBuilder::from_env()` in
/// production), a ledger file that survives restarts, and reuse, so a job done before a
/// restart is answered from the ledger instead of being paid again.
fn worker_client(
    account: ClientBuilder,
    ledger_path: &std::path::Path,
) -> Result<Client, Box<dyn std::error::Error>> {
    let ledger = Ledger::open_sqlite(ledger_path)?;
    let week = Duration::from_secs(7 * 24 * 3600);
    Ok(account.ledger(ledger).reuse_within(week).max_billed_per_day(20_000).build()?)
}

/// Checks every job `jobs` brings, 8 at a time under the key's pace, until the queue closes
/// (drop its sender to stop: the jobs already taken finish). Each result is written before
/// its slot goes to the next job, so a crash loses at most 8 results, and the ledger has
/// their answers for the next run.
async fn work(client: &Client, jobs: mpsc::Receiver<Job>, mut write: impl FnMut(JobResult)) -> BatchStats {
    let mut jobs = jobs;
    // The batch pulls its inputs on a thread of its own: a blocking receive is right there.
    let inputs = std::iter::from_fn(move || jobs.blocking_recv())
        .map(|job| (job.application, IdCardCheck::new(&job.name, &job.idcard)));
    let mut batch = client.batch(inputs, BatchOptions::default().concurrency(8));
    while let Some(item) = batch.next().await {
        let from_ledger = item.result.as_ref().is_ok_and(|outcome| outcome.reused().is_some());
        write(JobResult {
            application: item.tag,
            billing: item.billing(),
            verdict: item.result.map(|outcome| outcome.verdict).map_err(|error| error.to_string()),
            from_ledger,
        });
    }
    batch.stats()
}
// --- end ---

use std::sync::{Arc, Mutex};

use juhe_sandbox::Sandbox;

fn jobs_for(sandbox: &Sandbox, count: usize) -> Vec<Job> {
    (0..count)
        .map(|n| {
            let p = &sandbox.identities()[n];
            Job { application: n as u64, name: p.name.clone(), idcard: p.idcard.clone() }
        })
        .collect()
}

// --- example: restart ---
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_stopped_mid_run_and_started_again_pays_for_each_person_once() {
    let sandbox =
        Sandbox::builder().latency(Duration::from_millis(20)..=Duration::from_millis(60)).start().unwrap();
    let dir = std::env::temp_dir().join(format!("juhe-guide-worker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = dir.join("worker.sqlite");
    let account = || ClientBuilder::new().account(&sandbox.account());

    // First run: 40 jobs queued; the worker is stopped (its future dropped, as on a
    // shutdown that does not wait) once 15 results are written.
    let client = worker_client(account(), &ledger).unwrap();
    let (sender, jobs) = mpsc::channel(64);
    for job in jobs_for(&sandbox, 40) {
        sender.send(job).await.unwrap();
    }
    let written = Arc::new(Mutex::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let (count, notify) = (written.clone(), enough.clone());
    tokio::select! {
        _ = work(&client, jobs, move |_| {
            *count.lock().unwrap() += 1;
            if *count.lock().unwrap() == 15 { notify.notify_one(); }
        }) => panic!("the first run should not finish"),
        () = enough.notified() => {}
    }
    drop(sender);

    // Second run, as after a restart: a new client on the same ledger file, every job again.
    let client = worker_client(account(), &ledger).unwrap();
    let (sender, jobs) = mpsc::channel(64);
    for job in jobs_for(&sandbox, 40) {
        sender.send(job).await.unwrap();
    }
    drop(sender); // the queue is drained: the worker ends when the 40 are done
    let mut results = Vec::new();
    let stats = work(&client, jobs, |result| results.push(result)).await;

    let mut applications: Vec<u64> = results.iter().map(|r| r.application).collect();
    applications.sort_unstable();
    assert_eq!(applications, (0..40).collect::<Vec<u64>>(), "every job once");
    assert!(results.iter().filter(|r| r.from_ledger).all(|r| r.billing == Billing::NotBilled));
    assert!(results.iter().all(|r| r.verdict == Ok(Verdict::Match)));
    let from_ledger = results.iter().filter(|r| r.from_ledger).count();
    assert!(from_ledger >= 15, "the first run's answers come from the ledger: {from_ledger}");
    assert_eq!(stats.billed as usize + from_ledger, 40, "{stats:?}");
    assert_eq!(sandbox.ledger().billed, 40, "each person paid for once across both runs");
}
// --- end ---

const GUIDE: &str = include_str!("../../docs/guides/tokio-worker.md");
const THIS_FILE: &str = include_str!("guide_worker.rs");

#[test]
fn the_guide_shows_the_examples_verbatim() {
    for name in ["worker", "restart"] {
        crate::guides::assert_shown(GUIDE, THIS_FILE, name, "docs/guides/tokio-worker.md");
    }
}
