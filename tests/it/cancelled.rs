//! Checks whose caller stops waiting: a web request cancelled mid-check (a real axum server
//! whose client disconnects, so axum drops the handler's future), a `tokio::time::timeout`
//! around a check, a caller gone before its request left, and a transport that panics. The
//! sandbox's own ledger says what was billed; the client's ledger must hold every billed
//! answer within one round trip, and the next asker (reuse on) must get it without paying.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use juhe_sandbox::Sandbox;
use juhe_test_support::postgres_server;
use juhe_transport::{AsyncTransport, HttpRequest, HttpResponse, Transport, TransportError};
use juhe_verify::ledger::{Grouping, Ledger, Span, State};
use juhe_verify::{Client, Outcome, Telecom3Check};

use crate::fixtures::{builder, runtime};

/// The sandbox's answer comes this long after it billed the check.
const LATENCY: Duration = Duration::from_millis(300);

fn slow_sandbox() -> Sandbox {
    Sandbox::builder().latency(LATENCY..=LATENCY).start().unwrap()
}

fn ledgers(name: &str) -> [(String, Box<dyn Fn() -> Ledger + Send + Sync>); 2] {
    let dir = std::env::temp_dir().join(format!("juhe-e2e-cancelled-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("ledger.sqlite");
    let url = postgres_server::shared().new_database();
    [
        ("sqlite".into(), Box::new(move || Ledger::open_sqlite(&path).unwrap())),
        ("postgres".into(), Box::new(move || Ledger::connect_postgres(&url).unwrap())),
    ]
}

fn client(sandbox: &Sandbox, ledger: Ledger) -> Client {
    builder(sandbox).ledger(ledger).reuse_within(Duration::from_secs(3600)).build().unwrap()
}

fn person(sandbox: &Sandbox, n: usize) -> Telecom3Check {
    let p = &sandbox.identities()[n];
    Telecom3Check::new(&p.name, &p.idcard, &p.mobile).unwrap()
}

/// Waits (at most `within`) until `ledger` holds `billed` billed entries; how long it took.
fn billed_within(ledger: &Ledger, billed: u64, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let counts = ledger.report(Span::all(), Grouping::Total).unwrap().total;
        if counts.billed == billed && counts.pending == 0 {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "after {within:?} the ledger holds {counts:?}, not {billed} billed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "waited 10 s for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sets its flag when dropped: proof that axum dropped the handler's future.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// An axum handler verifying telecom3 with the async client, as `examples/signup.rs` does: a
/// plain `await`. The browser disconnects while the check is in flight; axum drops the
/// handler. The answer still reaches the ledger within one round trip, and the same person
/// again is answered from it: the sandbox billed once.
#[test]
fn a_web_request_cancelled_mid_check_loses_no_billed_answer() {
    for (name, open) in ledgers("axum") {
        let sandbox = slow_sandbox();
        let runtime = runtime();
        let client = client(&sandbox, open());
        let check = person(&sandbox, 1);
        let dropped = Arc::new(AtomicBool::new(false));
        let (handler_client, handler_check, handler_dropped) =
            (client.clone(), check.clone(), dropped.clone());
        let app = axum::Router::new().route(
            "/signup",
            axum::routing::post(move || {
                let (client, check, dropped) =
                    (handler_client.clone(), handler_check.clone(), handler_dropped.clone());
                async move {
                    let _guard = Dropped(dropped);
                    match client.telecom3(&check).await {
                        Ok(outcome) => format!("{:?}", outcome.verdict),
                        Err(error) => error.to_string(),
                    }
                }
            }),
        );
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });

        let mut browser = std::net::TcpStream::connect(addr).unwrap();
        browser.write_all(b"POST /signup HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n").unwrap();
        wait_until("the check to reach the sandbox", || sandbox.ledger().requests == 1);
        let answered_by = Instant::now() + LATENCY;
        browser.shutdown(std::net::Shutdown::Both).unwrap();
        drop(browser);
        wait_until("axum to drop the handler", || dropped.load(Ordering::SeqCst));

        let ledger = open();
        // Within one round trip of the answer (the sandbox's latency), plus a moment to write.
        billed_within(&ledger, 1, (answered_by + LATENCY).saturating_duration_since(Instant::now()));
        let again = runtime.block_on(client.telecom3(&check)).unwrap();
        assert!(again.reused().is_some(), "{name}: the second asker reuses the answer");
        assert_eq!(sandbox.ledger().billed, 1, "{name}");
    }
}

/// `tokio::time::timeout` shorter than the sandbox's latency around a check: the caller gets
/// `Elapsed`, and the check goes on to the ledger; the next asker reuses it.
#[test]
fn a_timeout_around_a_check_loses_no_billed_answer() {
    for (name, open) in ledgers("timeout") {
        let sandbox = slow_sandbox();
        let runtime = runtime();
        let client = client(&sandbox, open());
        let check = person(&sandbox, 2);
        let started = Instant::now();
        let timed_out = runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), client.telecom3(&check)).await
        });
        assert!(timed_out.is_err(), "{name}: the caller stopped waiting");
        assert_eq!(sandbox.ledger().billed, 1, "{name}: the request had left and was billed");
        billed_within(&open(), 1, (LATENCY * 2).saturating_sub(started.elapsed()));
        let again = runtime.block_on(client.telecom3(&check)).unwrap();
        assert!(again.reused().is_some(), "{name}");
        assert_eq!(sandbox.ledger().billed, 1, "{name}");
    }
}

/// Callers that give up at once, before their request can have left, many times over: the
/// ledger never keeps an entry in flight for them, and bills nothing the sandbox did not.
#[test]
fn a_caller_gone_before_sending_leaves_nothing_in_flight() {
    for (name, open) in ledgers("gone") {
        let sandbox = Sandbox::start().unwrap();
        let runtime = runtime();
        let client = client(&sandbox, open());
        for n in 0..40 {
            let check = person(&sandbox, 10 + n);
            let _ = runtime
                .block_on(async { tokio::time::timeout(Duration::ZERO, client.telecom3(&check)).await });
        }
        let ledger = open();
        wait_until("every abandoned check to end", || {
            ledger.report(Span::all(), Grouping::Total).unwrap().total.pending == 0
        });
        let counts = ledger.report(Span::all(), Grouping::Total).unwrap().total;
        assert_eq!(counts.billed, sandbox.ledger().billed, "{name}: {counts:?}");
        assert_eq!(counts.maybe_billed, 0, "{name}: {counts:?}");
    }
}

/// A transport of the user's own that panics mid-send.
struct Panicking;

#[juhe_transport::async_trait]
impl AsyncTransport for Panicking {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        panic!("a transport's bug")
    }
}

impl Transport for Panicking {
    fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        panic!("a transport's bug")
    }
}

/// A panic in a transport, on either client: the entry does not stay in flight (nobody waits
/// for it); it is maybe billed, since the request may have left.
#[test]
fn a_panic_in_a_transport_leaves_the_entry_maybe_billed() {
    let sandbox = Sandbox::start().unwrap();
    for (name, open) in ledgers("panic") {
        let settings = || {
            juhe_verify::ClientBuilder::new()
                .account(&sandbox.account())
                .ledger(open())
                .reuse_within(Duration::from_secs(3600))
                .transport(Panicking)
                .blocking_transport(Panicking)
        };
        let blocking = settings().build_blocking().unwrap();
        let check = person(&sandbox, 3);
        assert!(
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| blocking.telecom3(&check))).is_err()
        );
        let client = settings().build().unwrap();
        let check = person(&sandbox, 4);
        let runtime = runtime();
        let panicked =
            runtime.block_on(async { tokio::spawn(async move { client.telecom3(&check).await }).await });
        assert!(panicked.unwrap_err().is_panic(), "{name}");
        let entries = open().unanswered().unwrap();
        assert_eq!(entries.len(), 2, "{name}");
        assert!(entries.iter().all(|e| e.state == State::MaybeBilled && !e.in_flight), "{name}: {entries:?}");
    }
}
