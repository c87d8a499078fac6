//! The retry policy against the sandbox's faults: what may have been billed is never sent
//! twice unless the caller opted in.

use std::time::{Duration, Instant};

use crate::fixtures::{builder, runtime};
use juhe_sandbox::{MagicIdentity, Sandbox, magic};
use juhe_verify::{Error, RetryPolicy, Telecom3Check, Verdict};

fn check_of(m: &MagicIdentity) -> Telecom3Check {
    Telecom3Check::new(m.name, m.idcard, m.mobile).unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(20), Duration::from_millis(100))
}

#[test]
fn a_refused_connection_is_retried_until_the_server_is_up() {
    for blocking in [true, false] {
        // A free port, with nothing listening yet.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let starter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            Sandbox::builder().addr(format!("127.0.0.1:{port}")).start().unwrap()
        });
        let person = juhe_sandbox::builtin_population().swap_remove(0);
        let check = Telecom3Check::new(&person.name, &person.idcard, &person.mobile).unwrap();
        let settings = juhe_verify::ClientBuilder::new()
            .key(juhe_sandbox::SANDBOX_KEY)
            .base_url(format!("http://127.0.0.1:{port}"))
            .retry_policy(
                RetryPolicy::default()
                    .max_attempts(6)
                    .backoff(Duration::from_millis(100), Duration::from_millis(400)),
            );
        let outcome = if blocking {
            settings.build_blocking().unwrap().telecom3(&check)
        } else {
            runtime().block_on(async { settings.build().unwrap().telecom3(&check).await })
        };
        let sandbox = starter.join().unwrap();
        assert_eq!(outcome.unwrap().verdict, Verdict::Match, "blocking: {blocking}");
        assert_eq!((sandbox.ledger().requests, sandbox.ledger().billed), (1, 1));
    }
}

#[test]
fn a_timeout_after_sending_is_not_retried() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox)
        .timeouts(Duration::from_secs(1), Duration::from_millis(400))
        .retry_policy(fast_retries())
        .build_blocking()
        .unwrap();
    let error = client.telecom3(&check_of(&magic::SLOW)).unwrap_err();
    assert!(matches!(error, Error::NoAnswer(_)), "{error}");
    assert_eq!(error.attempts(), 1);
    assert!(error.may_be_billed());
    assert!(error.to_string().contains("may have been billed"), "{error}");
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (1, 1), "sent once, billed once");

    // A gateway error may hide a processed check: not retried either.
    let gateway = client.telecom3(&check_of(&magic::HTTP_500)).unwrap_err();
    assert!(gateway.may_be_billed(), "{gateway}");
    assert_eq!(sandbox.ledger().requests, 2);
}

#[test]
fn opting_in_retries_timeouts_and_pays_for_each() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox)
        .timeouts(Duration::from_secs(1), Duration::from_millis(400))
        .retry_policy(fast_retries().resend_maybe_billed())
        .build()
        .unwrap();
    let error = runtime().block_on(client.telecom3(&check_of(&magic::SLOW))).unwrap_err();
    assert!(matches!(error, Error::NoAnswer(_)), "{error}");
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (3, 3), "three attempts, three charges");
}

#[test]
fn rate_limits_back_off_and_give_up_after_the_last_attempt() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox)
        .retry_policy(fast_retries().rate_limit_backoff(Duration::from_millis(200)))
        .build_blocking()
        .unwrap();
    let started = Instant::now();
    let error = client.telecom3(&check_of(&magic::RATE_LIMITED)).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.code().map(|c| c.code()), Some(10012));
    assert!(error.to_string().contains("10012"), "{error}");
    // Two waits of 100-200 ms each: the 200 ms rate-limit base (never capped below itself),
    // halved at least by the jitter. The transient base here is only 20 ms.
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (3, 0));
}

#[test]
fn provider_errors_are_retried_and_permanent_ones_are_not() {
    let sandbox = Sandbox::start().unwrap();
    let client = builder(&sandbox).retry_policy(fast_retries()).build_blocking().unwrap();
    let transient = client.telecom3(&check_of(&magic::PROVIDER_ERROR)).unwrap_err();
    assert_eq!(transient.code().map(|c| c.code()), Some(233901));
    assert_eq!(sandbox.ledger().requests, 3);
    let permanent = client.telecom3(&check_of(&magic::NO_RECORD)).unwrap_err();
    assert_eq!(permanent.code().map(|c| c.code()), Some(233903));
    assert_eq!(sandbox.ledger().requests, 4);
    assert_eq!(sandbox.ledger().billed, 0);
}

/// Every error says how many attempts the check made: a transient refusal retried to the
/// policy's limit on both clients, and 0 for input refused before sending.
#[test]
fn errors_say_how_many_attempts_were_made() {
    let sandbox = Sandbox::start().unwrap();
    let policy = fast_retries().max_attempts(3);
    let check = check_of(&magic::INTERNAL_ERROR);
    let blocking = builder(&sandbox).retry_policy(policy.clone()).build_blocking().unwrap();
    let error = blocking.telecom3(&check).unwrap_err();
    assert!(matches!(error, Error::Service(_)), "{error}");
    assert_eq!(error.attempts(), 3, "blocking: {error}");
    let client = builder(&sandbox).retry_policy(policy).build().unwrap();
    let error = runtime().block_on(client.telecom3(&check)).unwrap_err();
    assert_eq!(error.attempts(), 3, "async: {error}");
    assert_eq!(sandbox.ledger().requests, 6);
    let invalid = Error::from(Telecom3Check::new("张三", "110105194912310021", "13912345678").unwrap_err());
    assert_eq!(invalid.attempts(), 0);
}
