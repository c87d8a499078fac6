//! Both clients against servers that misbehave: what was sent once is reported once, may
//! have been billed, is never retried and never reaches another host; an answer that does
//! not support a match is never one.

use std::time::Duration;

use juhe_verify::proto::AnswerError;
use juhe_verify::{ClientBuilder, Error, RetryPolicy, Telecom3Check, Verdict};

use crate::fixtures::runtime;
use juhe_test_support::hostile::{Hostile, Script};

fn settings(server: &Hostile) -> ClientBuilder {
    ClientBuilder::new()
        .key("k")
        .base_url(server.base_url())
        .timeouts(Duration::from_secs(2), Duration::from_secs(5))
        // Retries are allowed, even of what may be billed: none may happen here.
        .retry_policy(RetryPolicy::default().backoff(Duration::ZERO, Duration::ZERO).resend_maybe_billed())
}

fn check() -> Telecom3Check {
    Telecom3Check::new("张三", "11010519491231002X", "13912345678").unwrap()
}

fn both(server: &Hostile) -> [Result<juhe_verify::Telecom3Outcome, Error>; 2] {
    let blocking = settings(server).build_blocking().unwrap().telecom3(&check());
    let client = settings(server).build().unwrap();
    let asynchronous = runtime().block_on(client.telecom3(&check()));
    [blocking, asynchronous]
}

#[test]
fn a_redirect_is_a_possibly_billed_error_and_the_new_host_gets_nothing() {
    let elsewhere =
        Hostile::start(Script::Json(r#"{"error_code":0,"reason":"ok","result":{"res":1}}"#.into()));
    for status in [301, 302, 303, 307, 308] {
        let location = format!("{}/telecom3/query", elsewhere.base_url());
        let server = Hostile::start(Script::Redirect { status, location });
        for result in both(&server) {
            let error = result.unwrap_err();
            assert!(
                matches!(&error, Error::Protocol(e) if **e == AnswerError::Redirect { status }),
                "{error:?}"
            );
            assert_eq!(error.attempts(), 1, "a redirect is never followed nor retried");
            assert!(error.may_be_billed() && error.to_string().contains("sent once"), "{error}");
        }
        assert_eq!(server.accepted(), 2, "{status}: once per client, never retried");
    }
    assert_eq!(elsewhere.accepted(), 0, "the redirect's host was contacted");
}

#[test]
fn an_undocumented_res_beside_a_matching_rescode_is_not_a_match() {
    let server = Hostile::start(Script::Json(
        r#"{"error_code":0,"reason":"ok","result":{"res":9,"rescode":"11","orderid":"J1"}}"#.into(),
    ));
    for result in both(&server) {
        let outcome = result.unwrap();
        assert_eq!(outcome.verdict, Verdict::Unknown);
        assert_eq!(outcome.order_id.as_deref(), Some("J1"), "billed: the order number is kept");
    }
}
