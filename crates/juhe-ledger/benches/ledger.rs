//! The ledger's costs, on SQLite and on a real PostgreSQL:
//! - a start in the key's pace, booked (a read and a conditional write) or unpaced (a read),
//!   one handle and eight (`JUHE_BENCH_ONLY=pace` stops after it);
//! - the overhead per check (a begin, then a settle), p50 and p99, one thread and eight;
//! - `report` over 1,000,000 entries;
//! - bytes per entry.
//!
//! `cargo bench -p juhe-ledger --all-features --bench ledger`. PostgreSQL is started by the
//! test harness (initdb + pg_ctl in a temporary directory), or taken from
//! `JUHE_BENCH_POSTGRES=postgres://…`. Numbers: docs/benchmarks.md.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use juhe_ledger::{
    Admission, Grouping, Intent, Ledger, LedgerSecret, Policy, Settlement, Span, Start, StartRequest,
};
use juhe_proto::{Mode, Subject, SubjectKey, Telecom3Check, Verdict};

const CHECKS: usize = 4_000;
const REPORT_ENTRIES: i64 = 1_000_000;

fn intent(n: u64, key: &SubjectKey) -> Intent {
    let check = Telecom3Check::new_on(
        "张三",
        "11010519491231002X",
        &format!("139{:08}", n % 100_000_000),
        juhe_proto::CivilDate::new(2026, 12, 1).unwrap(),
    )
    .unwrap();
    Intent {
        subject: Subject::of(&check, key),
        product: Telecom3Check::PRODUCT,
        mode: Mode::Aes,
        target: "juhe".into(),
        masked: juhe_proto::masking::mask_check(&check),
        deadline: Duration::from_secs(30),
        team: None,
        purpose: None,
        previous_subject: None,
    }
}

fn billed(n: u64) -> Settlement {
    let result = serde_json::json!({"res": 1, "rescode": "11", "type": "移动", "province": "北京", "city": "北京", "orderid": format!("JH{n:016}")});
    Settlement::billed(
        1,
        Verdict::Match,
        Some(format!("JH{n:016}")),
        "成功".into(),
        result.as_object().unwrap().clone(),
    )
}

/// `threads` threads each record `per_thread` checks; every pair's latency, sorted.
fn overhead(
    open: &(dyn Fn() -> Ledger + Sync),
    run: u64,
    threads: usize,
    per_thread: usize,
    policy: Policy,
) -> (Vec<Duration>, Duration) {
    let secret = LedgerSecret::from_api_key("bench key");
    let barrier = Arc::new(Barrier::new(threads));
    let started = Instant::now();
    let mut all: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (ledger, secret, barrier) = (open(), secret.clone(), barrier.clone());
                scope.spawn(move || {
                    barrier.wait();
                    let mut times = Vec::with_capacity(per_thread);
                    for i in 0..per_thread {
                        // Subjects distinct across the runs on one database: none is reused.
                        let n = run * 1_000_000 + (t * per_thread + i) as u64;
                        let intent = intent(n, secret.subject_key());
                        let start = Instant::now();
                        let Admission::Send(entry) = ledger.begin(&secret, &intent, &policy).unwrap() else {
                            panic!("a fresh subject is sent")
                        };
                        ledger.finish(entry, &billed(n)).unwrap();
                        times.push(start.elapsed());
                    }
                    times
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let wall = started.elapsed();
    all.sort();
    (all, wall)
}

fn print_overhead(backend: &str, open: &(dyn Fn() -> Ledger + Sync)) {
    for (run, (threads, policy, what)) in [
        (1, Policy::record_only(), "record"),
        (
            1,
            Policy::record_only().reuse_within(Duration::from_secs(86_400)).max_billed_per_day(u64::MAX / 2),
            "reuse+cap",
        ),
        (8, Policy::record_only(), "record"),
        (
            8,
            Policy::record_only().reuse_within(Duration::from_secs(86_400)).max_billed_per_day(u64::MAX / 2),
            "reuse+cap",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (times, wall) = overhead(open, run as u64, threads, CHECKS / threads, policy);
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{backend:<10} {what:<9} {threads} thread(s): p50 {:>7.1} µs  p99 {:>7.1} µs  {:>6.0} checks/s",
            at(0.5).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
            times.len() as f64 / wall.as_secs_f64()
        );
    }
}

/// The key's pace: `threads` threads (each on its own handle, as processes would be) book
/// `per_thread` starts each. `paced`: under a cap every booking is a read and a conditional
/// write (contended across the handles); unpaced (uncapped, a server a millisecond away) a
/// read alone.
fn print_pace(backend: &str, open: &(dyn Fn() -> Ledger + Sync)) {
    for (run, (threads, paced)) in [(1, true), (8, true), (1, false), (8, false)].into_iter().enumerate() {
        let secret = LedgerSecret::from_api_key(&format!("pace bench key {run}"));
        let request = if paced {
            StartRequest::live(Duration::from_secs(3600)).capped(Some(1_000_000.0))
        } else {
            StartRequest::batch().round_trip(Some(Duration::from_millis(1)))
        };
        let per_thread = CHECKS / threads;
        let barrier = Arc::new(Barrier::new(threads));
        let started = Instant::now();
        let mut times: Vec<Duration> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (ledger, secret, barrier) = (open(), secret.clone(), barrier.clone());
                    scope.spawn(move || {
                        barrier.wait();
                        (0..per_thread)
                            .map(|_| {
                                let start = Instant::now();
                                assert!(matches!(
                                    ledger.take_start(&secret, "juhe", &request).unwrap(),
                                    Start::At(_) | Start::Unpaced
                                ));
                                start.elapsed()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let wall = started.elapsed();
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{backend:<10} pace {:<7} {threads} thread(s): p50 {:>7.1} µs  p99 {:>7.1} µs  {:>6.0} starts/s",
            if paced { "booked" } else { "unpaced" },
            at(0.5).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
            times.len() as f64 / wall.as_secs_f64()
        );
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("juhe-ledger-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sqlite = dir.join("bench.sqlite");
    let postgres = std::env::var("JUHE_BENCH_POSTGRES")
        .unwrap_or_else(|_| juhe_test_support::postgres_server::shared().new_database());

    print_pace("sqlite", &|| Ledger::open_sqlite(&sqlite).unwrap());
    print_pace("postgres", &|| Ledger::connect_postgres(&postgres).unwrap());
    if std::env::var("JUHE_BENCH_ONLY").is_ok_and(|only| only == "pace") {
        return;
    }
    print_overhead("sqlite", &|| Ledger::open_sqlite(&sqlite).unwrap());
    print_overhead("postgres", &|| Ledger::connect_postgres(&postgres).unwrap());

    // A million entries, written in bulk with SQL (through the API it would take minutes),
    // then reported on.
    let report_db = dir.join("report.sqlite");
    drop(Ledger::open_sqlite(&report_db).unwrap());
    let connection = rusqlite::Connection::open(&report_db).unwrap();
    let now = juhe_ms(SystemTime::now());
    connection
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {REPORT_ENTRIES}) \
             INSERT INTO juhe_ledger_entries (account, subject, product, mode, target, masked, started_at, deadline_at, \
               state, finished_at, error_code, verdict, order_id, attempts, reason, result) \
             SELECT 'bench', randomblob(32), CASE i % 3 WHEN 0 THEN 'telecom3' WHEN 1 THEN 'idcard' ELSE 'telecom2' END, \
               'aes', 'juhe', '张* 110***********002X 139****5678', {now} - i * 2000, {now} - i * 2000 + 30000, \
               CASE i % 50 WHEN 0 THEN 'not_billed' WHEN 1 THEN 'maybe_billed' ELSE 'billed' END, {now} - i * 2000 + 80, 0, \
               'match', printf('JH%016d', i), 1, '成功', \
               '{{\"res\":1,\"rescode\":\"11\",\"type\":\"移动\",\"province\":\"北京\",\"city\":\"北京\",\"orderid\":\"JH0000000000000001\"}}' \
             FROM n; PRAGMA wal_checkpoint(TRUNCATE);"
        ))
        .unwrap();
    let ledger = Ledger::open_sqlite(&report_db).unwrap();
    for by in [Grouping::Total, Grouping::Day, Grouping::Product] {
        let start = Instant::now();
        let report = ledger.report(Span::all(), by).unwrap();
        println!(
            "sqlite     report over {REPORT_ENTRIES} entries by {by:?}: {:.2} s ({} billed, {} groups)",
            start.elapsed().as_secs_f64(),
            report.total.billed,
            report.groups.len()
        );
    }
    let size = std::fs::metadata(&report_db).unwrap().len();
    println!(
        "sqlite     {:.0} bytes per entry (file, indexes included)",
        size as f64 / REPORT_ENTRIES as f64
    );

    let mut client = postgres::Client::connect(&postgres, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO juhe_ledger_entries (account, subject, product, mode, target, masked, started_at, deadline_at, \
               state, finished_at, error_code, verdict, order_id, attempts, reason, result) \
             SELECT 'bench', decode(md5(i::text) || md5((i + 1)::text), 'hex'), \
               CASE i % 3 WHEN 0 THEN 'telecom3' WHEN 1 THEN 'idcard' ELSE 'telecom2' END, 'aes', 'juhe', \
               '张* 110***********002X 139****5678', {now} - i * 2000, {now} - i * 2000 + 30000, \
               CASE i % 50 WHEN 0 THEN 'not_billed' WHEN 1 THEN 'maybe_billed' ELSE 'billed' END, {now} - i * 2000 + 80, 0, \
               'match', 'JH' || lpad(i::text, 16, '0'), 1, '成功', \
               '{{\"res\":1,\"rescode\":\"11\",\"type\":\"移动\",\"province\":\"北京\",\"city\":\"北京\",\"orderid\":\"JH0000000000000001\"}}' \
             FROM generate_series(1, {REPORT_ENTRIES}) AS i; ANALYZE juhe_ledger_entries;"
        ))
        .unwrap();
    let ledger = Ledger::connect_postgres(&postgres).unwrap();
    for by in [Grouping::Total, Grouping::Day, Grouping::Product] {
        let start = Instant::now();
        let report = ledger.report(Span::all(), by).unwrap();
        println!(
            "postgres   report over {REPORT_ENTRIES}+ entries by {by:?}: {:.2} s ({} billed, {} groups)",
            start.elapsed().as_secs_f64(),
            report.total.billed,
            report.groups.len()
        );
    }
    let row = client
        .query_one("SELECT pg_total_relation_size('juhe_ledger_entries')::float8 / count(*) FROM juhe_ledger_entries", &[])
        .unwrap();
    println!("postgres   {:.0} bytes per entry (table, indexes included)", row.get::<_, f64>(0));
    let _ = std::fs::remove_dir_all(&dir);
}

fn juhe_ms(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64
}
