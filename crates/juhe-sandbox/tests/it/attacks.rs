//! The sandbox against what a shared test host throws at it: idle and slowloris connections,
//! more connections than it will hold, half-sent huge uploads, broken chunked bodies, and a
//! non-loopback address. Each case recreates the condition with raw sockets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use juhe_sandbox::{SANDBOX_KEY, Sandbox, SandboxError};

use crate::raw_http::post_form;

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
}

/// Waits for the server to close `stream`; how long that took.
fn closed_after(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

/// A good request's status, on a fresh connection, or `None` if no answer came in `wait`.
fn good_request(addr: SocketAddr, wait: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(wait)).ok()?;
    let body = format!("key={SANDBOX_KEY}&realname=x");
    let head = format!(
        "POST /idcard/query HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[test]
fn idle_and_slow_connections_are_closed() {
    let timeout = Duration::from_millis(400);
    let sandbox = Sandbox::builder().header_read_timeout(timeout).start().unwrap();
    let addr = sandbox.addr();
    // Idle from the start.
    let idle = closed_after(connect(addr));
    // Slowloris: a head sent a byte at a time, never finished in time.
    let mut slow = connect(addr);
    let dripper = std::thread::spawn(move || {
        for byte in b"POST /idcard/query HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if slow.write_all(&[*byte]).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        false
    });
    // Idle between two requests of a kept-alive connection.
    let mut kept = connect(addr);
    let body = format!("key={SANDBOX_KEY}");
    let request = format!(
        "POST /idcard/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    kept.write_all(request.as_bytes()).unwrap();
    let mut first = [0u8; 512];
    assert!(kept.read(&mut first).unwrap() > 0, "the first request is answered");
    let kept_idle = closed_after(kept);
    for (what, took) in [("idle", idle), ("idle after a request", kept_idle)] {
        assert!(
            took >= timeout - Duration::from_millis(50) && took < timeout * 4,
            "{what}: closed after {took:?}"
        );
    }
    assert!(dripper.join().unwrap(), "the slow head was cut off before it was finished");
    assert_eq!(good_request(addr, Duration::from_secs(2)), Some(200), "the server still answers");
}

#[test]
fn connections_beyond_the_cap_wait_and_are_served_when_one_closes() {
    let sandbox =
        Sandbox::builder().max_connections(4).header_read_timeout(Duration::from_secs(30)).start().unwrap();
    let addr = sandbox.addr();
    let held: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    // Let the server take the four.
    std::thread::sleep(Duration::from_millis(100));
    let waiting = std::thread::spawn(move || good_request(addr, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiting.is_finished(), "a fifth connection was served while four were held");
    drop(held);
    assert_eq!(waiting.join().unwrap(), Some(200));
}

/// A head that announces a body and a stalled upload, sent from `count` raw connections.
fn stalled_uploads(addr: SocketAddr, count: usize, announced: usize, sent: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = connect(addr);
            let head = format!(
                "POST /verifyface_mobile/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {announced}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).unwrap();
            let _ = stream.write_all(&vec![b'a'; sent]);
            stream
        })
        .collect()
}

/// Heads that announce 16 MiB and send nothing take none of the body budget: a real check
/// is answered at once (it got 503 while they held the whole 64 MiB).
#[test]
fn announced_lengths_take_no_budget() {
    let sandbox = Sandbox::start().unwrap();
    let addr = sandbox.addr();
    let _announced = stalled_uploads(addr, 4, 16 * 1024 * 1024, 0);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(good_request(addr, Duration::from_secs(2)), Some(200));
}

/// The bytes actually held are bounded together: with a budget of 8 MiB, uploads that each
/// sent 1 MiB and stalled are refused (503) once their bytes would pass it.
#[test]
fn bodies_in_flight_are_bounded_together_and_refused_early_by_length() {
    let sandbox = Sandbox::builder().max_bodies_in_flight(8 << 20).start().unwrap();
    let addr = sandbox.addr();
    let uploads = stalled_uploads(addr, 12, 15_000_000, 1 << 20);
    let mut busy = 0;
    let mut pending = 0;
    for mut stream in uploads {
        stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        let mut answer = [0u8; 64];
        match stream.read(&mut answer) {
            Ok(n) if n > 0 && answer.starts_with(b"HTTP/1.1 503") => busy += 1,
            Ok(_) => panic!("{}", String::from_utf8_lossy(&answer)),
            Err(_) => pending += 1,
        }
    }
    assert!(pending <= 8 && busy >= 4, "{pending} uploads held, {busy} refused");
    // A body announced over the limit is refused by its head alone.
    let mut huge = connect(addr);
    huge.write_all(b"POST /verifyface_mobile/query HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n\r\n")
        .unwrap();
    let mut answer = [0u8; 64];
    let n = huge.read(&mut answer).unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 413"), "{}", String::from_utf8_lossy(&answer[..n]));
}

/// Bodies sent a byte at a time are cut at the body deadline (408, closed): with every slot
/// taken by them, a real check waits only that long, then is answered.
#[test]
fn slow_bodies_are_cut_at_the_body_deadline() {
    let deadline = Duration::from_millis(600);
    let sandbox = Sandbox::builder().max_connections(4).body_read_timeout(deadline).start().unwrap();
    let addr = sandbox.addr();
    let started = Instant::now();
    let drippers: Vec<_> = stalled_uploads(addr, 4, 1000, 1)
        .into_iter()
        .map(|mut stream| {
            std::thread::spawn(move || {
                for _ in 0..50 {
                    if stream.write_all(b"a").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer).into_owned()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(good_request(addr, Duration::from_secs(3)), Some(200), "a real check behind four slow bodies");
    assert!(started.elapsed() < deadline * 4, "served after {:?}", started.elapsed());
    for dripper in drippers {
        let answer = dripper.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

#[test]
fn a_malformed_chunked_body_is_a_bad_request() {
    let sandbox = Sandbox::start().unwrap();
    let mut stream = connect(sandbox.addr());
    stream
        .write_all(b"POST /idcard/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz-not-hex\r\nabc\r\n0\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("malformed request body"), "{text}");
    assert_eq!(sandbox.ledger().billed, 0);
}

#[test]
fn a_non_loopback_address_needs_expose_and_then_the_key_on_admin_routes() {
    let refused = Sandbox::builder().addr("0.0.0.0:0").start().unwrap_err();
    assert!(matches!(refused, SandboxError::NotLoopback { .. }), "{refused}");
    assert!(refused.to_string().contains("--expose"), "{refused}");

    let exposed = Sandbox::builder().addr("0.0.0.0:0").expose().start().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], exposed.addr().port()));
    let ask = |target: &str, header: Option<&str>| {
        let mut stream = connect(addr);
        let extra = header.map(|h| format!("X-Juhe-Sandbox-Key: {h}\r\n")).unwrap_or_default();
        stream
            .write_all(
                format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").as_bytes(),
            )
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };
    let admin = exposed.admin_key().expect("an exposed sandbox has an admin key").to_owned();
    assert_eq!(admin.len(), 32, "128 random bits");
    assert!(ask("/__sandbox/identities", None).starts_with("HTTP/1.1 401"));
    assert!(ask("/__sandbox/identities", Some("wrong")).starts_with("HTTP/1.1 401"));
    assert!(ask("/__sandbox/identities", Some(&admin[..31])).starts_with("HTTP/1.1 401"), "a prefix");
    // The published API key opens nothing.
    assert!(ask(&format!("/__sandbox/identities?key={SANDBOX_KEY}"), None).starts_with("HTTP/1.1 401"));
    assert!(ask("/__sandbox/ledger", Some(SANDBOX_KEY)).starts_with("HTTP/1.1 401"));
    assert!(ask(&format!("/__sandbox/identities?key={admin}"), None).starts_with("HTTP/1.1 200"));
    assert!(ask("/__sandbox/ledger", Some(&admin)).starts_with("HTTP/1.1 200"));
    let other = Sandbox::builder().addr("0.0.0.0:0").expose().start().unwrap();
    assert_ne!(other.admin_key(), Some(admin.as_str()), "each sandbox draws its own");
    let chosen = Sandbox::builder().addr("0.0.0.0:0").expose().admin_key("chosen-admin-key").start().unwrap();
    assert_eq!(chosen.admin_key(), Some("chosen-admin-key"));
    assert_eq!(Sandbox::start().unwrap().admin_key(), None, "loopback: open admin routes");
    // The API itself works as before.
    let answer = post_form(addr, "/idcard/query", format!("key={SANDBOX_KEY}").as_bytes()).unwrap();
    assert_eq!(answer.status, 200);

    // On loopback, admin routes stay open, as documented.
    let local = Sandbox::start().unwrap();
    let mut stream = connect(local.addr());
    stream.write_all(b"GET /__sandbox/ledger HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 200"));
}
