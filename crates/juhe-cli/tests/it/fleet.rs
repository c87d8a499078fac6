//! A fleet on one key: several real `juhe batch` processes on one ledger, against a sandbox
//! that behaves like Juhe over a network (answers after 50–150 ms, 100 requests a second per
//! key, 10012 beyond). Their starts share the key's pace in the ledger, so together they keep
//! to the key's limit; each pacing itself, they collapsed (8 processes: 70 billed a second,
//! 16: 16). The full table, with 1, 4, 8 and 16 processes and 3,000 rows, is
//! `benches/fleet.sh`'s (docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use juhe_sandbox::{Sandbox, builtin_population};
use juhe_test_support::postgres_server;

use crate::batch_command::{batch, column, read_output, stderr, temp_dir};

/// `rows` distinct telecom3 rows, every one valid (each is billed once sent), dealt into
/// `parts` files.
fn dealt_input(dir: &Path, rows: usize, parts: usize) -> Vec<PathBuf> {
    let people = builtin_population();
    assert!(rows <= 2 * people.len(), "rows would repeat");
    let paths: Vec<PathBuf> = (0..parts).map(|n| dir.join(format!("part-{n}.csv"))).collect();
    let mut writers: Vec<_> = paths.iter().map(|p| csv::Writer::from_path(p).unwrap()).collect();
    for writer in &mut writers {
        writer.write_record(["name", "idcard", "mobile"]).unwrap();
    }
    for i in 0..rows {
        let p = &people[i % people.len()];
        // Past the population, the same people with the next one's mobile: a new question.
        let mobile = &people[(i + i / people.len()) % people.len()].mobile;
        writers[i % parts].write_record([&p.name, &p.idcard, mobile]).unwrap();
    }
    for mut writer in writers {
        writer.flush().unwrap();
    }
    paths
}

/// Runs `processes` batches at once on `ledger`; returns billed per second over the whole
/// run and the share of requests refused (10012), after checking every row was billed once.
fn fleet(name: &str, ledger: &str, processes: usize, rows: usize) -> (f64, f64) {
    let dir = temp_dir(&format!("fleet-{name}-{processes}"));
    let inputs = dealt_input(&dir, rows, processes);
    let sandbox = Sandbox::builder()
        .latency(Duration::from_millis(50)..=Duration::from_millis(150))
        .qps(100)
        .start()
        .unwrap();
    let started = Instant::now();
    let children: Vec<(Child, PathBuf)> = inputs
        .iter()
        .enumerate()
        .map(|(n, input)| {
            let output = dir.join(format!("out-{n}.csv"));
            let child = batch(&sandbox, input, &output, &["--ledger", ledger])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (child, output)
        })
        .collect();
    let mut written = 0;
    for (child, output) in children {
        let done = child.wait_with_output().unwrap();
        assert!(done.status.success(), "{name}, {processes} processes: {}", stderr(&done));
        let (headers, records) = read_output(&output);
        let billed = column(&headers, "juhe_billed");
        assert!(records.iter().all(|r| &r[billed] == "true"), "every row billed: {output:?}");
        written += records.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let ledger = sandbox.ledger();
    assert_eq!((written, ledger.billed), (rows, rows as u64), "every row billed once ({name}, {processes})");
    let refused = ledger.codes.get("10012").copied().unwrap_or(0);
    (ledger.billed as f64 / seconds, refused as f64 / ledger.requests as f64)
}

/// Four, then sixteen processes on one key and one ledger keep to the key's limit together:
/// every row billed once, near the limit, few refusals. The bounds are looser than the
/// benchmark's (95 a second and 1% refused, met there at every size, `benches/fleet.sh`) for a
/// shorter run whose 16 processes, the sandbox and the test share two cores: waiting for one
/// delays a process between its start and its send, bunching requests the pace had spaced
/// (16 processes on PostgreSQL drew 3.4% refused at 88 a second here when the suite's other
/// tests still ran beside). Each process pacing itself gives
/// 93.5 a second with 1.9% refused at 4 processes, and 55 with 5.8% at 16: the collapse these
/// bounds catch.
fn a_fleet_keeps_to_the_keys_limit(name: &str, ledger: &str) {
    // Each measures a key's pace in real time: the machine must be the test's.
    let _alone = crate::machine::alone();
    for (processes, least_rate, most_refused) in [(4, 85.0, 0.015), (16, 75.0, 0.05)] {
        let (rate, refused) = fleet(name, ledger, processes, 800);
        eprintln!(
            "{name}, {processes} processes: {rate:.1} billed a second, {:.2}% refused",
            refused * 100.0
        );
        assert!(rate >= least_rate, "{name}, {processes} processes: {rate:.1} billed a second");
        assert!(refused <= most_refused, "{name}, {processes} processes: {:.2}% refused", refused * 100.0);
    }
}

#[test]
fn a_fleet_on_one_sqlite_ledger_keeps_to_the_keys_limit() {
    let ledger = temp_dir("fleet-sqlite").join("ledger.sqlite");
    a_fleet_keeps_to_the_keys_limit("sqlite", &ledger.display().to_string());
}

#[test]
fn a_fleet_on_one_postgres_ledger_keeps_to_the_keys_limit() {
    a_fleet_keeps_to_the_keys_limit("postgres", &postgres_server::shared().new_database());
}

/// A blocking transport that notes when a check's first attempt left and whether any of its
/// answers was a refusal for the rate.
struct Watched {
    inner: juhe_verify::transport::UreqTransport,
    first_sent: std::sync::Mutex<Option<Instant>>,
    refused: std::sync::atomic::AtomicUsize,
}

impl juhe_verify::transport::Transport for Watched {
    fn send(
        &self,
        request: juhe_verify::proto::HttpRequest,
    ) -> Result<juhe_verify::proto::HttpResponse, juhe_verify::transport::TransportError> {
        self.first_sent.lock().unwrap().get_or_insert_with(Instant::now);
        let response = self.inner.send(request)?;
        let code = serde_json::from_slice::<serde_json::Value>(response.body())
            .ok()
            .and_then(|v| v["error_code"].as_i64());
        if code == Some(10012) {
            self.refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(response)
    }
}

/// Single checks beside a batch running at the key's limit, on one ledger: ten a second from
/// a service (the library's blocking client), once the batch has found the limit. Together
/// they keep to the key's limit; no single check is refused; each waits for its start at most
/// 100 ms (p99) on top of its own exchange. The batch yields its starts to them.
fn live_checks_beside_a_batch(name: &str, ledger: &str) {
    // Each measures a key's pace in real time: the machine must be the test's.
    let _alone = crate::machine::alone();
    let dir = temp_dir(&format!("live-{name}"));
    let input = &dealt_input(&dir, 2000, 1)[0];
    let sandbox = Sandbox::builder()
        .latency(Duration::from_millis(50)..=Duration::from_millis(150))
        .qps(100)
        .start()
        .unwrap();
    let output = dir.join("out.csv");
    let started = Instant::now();
    let mut batch_process = batch(&sandbox, input, &output, &["--ledger", ledger])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The batch finds the key's limit first (its slow start's refusals are its own).
    std::thread::sleep(Duration::from_secs(3));
    let transport = std::sync::Arc::new(Watched {
        inner: juhe_verify::transport::UreqTransport::new().unwrap(),
        first_sent: std::sync::Mutex::new(None),
        refused: std::sync::atomic::AtomicUsize::new(0),
    });
    let client = juhe_verify::ClientBuilder::new()
        .key(sandbox.key())
        .base_url(sandbox.base_url())
        .ledger(
            juhe_verify::ledger::Ledger::open(&juhe_verify::ledger::Location::parse(ledger).unwrap())
                .unwrap(),
        )
        .blocking_transport(transport.clone())
        .build_blocking()
        .unwrap();
    let people = builtin_population();
    let mut waits = Vec::new();
    let stream_began = Instant::now();
    for n in 0..120 {
        let due = stream_began + Duration::from_millis(100 * n as u64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let (p, other) = (&people[people.len() - 1 - n], &people[n + 7]);
        // Questions the batch never asks: a person with someone else's mobile.
        let check = juhe_verify::Telecom3Check::new(&p.name, &p.idcard, &other.mobile).unwrap();
        *transport.first_sent.lock().unwrap() = None;
        let asked = Instant::now();
        let outcome = client.telecom3(&check);
        assert!(outcome.is_ok(), "live check {n}: {outcome:?}");
        waits.push(transport.first_sent.lock().unwrap().unwrap() - asked);
    }
    let done = batch_process.wait().unwrap();
    assert!(done.success(), "the batch failed");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        transport.refused.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "{name}: a single check was refused"
    );
    waits.sort();
    let p99 = waits[waits.len() * 99 / 100];
    assert!(p99 <= Duration::from_millis(100), "{name}: p99 wait for a start {p99:?} (all: {waits:?})");
    let billed = sandbox.ledger().billed;
    assert_eq!(billed, 2000 + 120, "every check billed once");
    let rate = billed as f64 / seconds;
    eprintln!("{name}: {rate:.1} billed a second together; single checks' wait for a start p99 {p99:?}");
    assert!(rate >= 90.0, "{name}: {rate:.1} billed a second together");
}

#[test]
fn live_checks_beside_a_batch_on_sqlite() {
    let ledger = temp_dir("live-sqlite-ledger").join("ledger.sqlite");
    live_checks_beside_a_batch("sqlite", &ledger.display().to_string());
}

#[test]
fn live_checks_beside_a_batch_on_postgres() {
    live_checks_beside_a_batch("postgres", &postgres_server::shared().new_database());
}
