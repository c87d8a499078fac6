//! Arbitrary requests never make the sandbox panic or hang, and are never billed.

use std::sync::OnceLock;
use std::time::Duration;

use juhe_proto::Endpoint;
use juhe_sandbox::{SANDBOX_KEY, Sandbox};
use proptest::prelude::*;

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| Sandbox::start().unwrap())
}

fn paths() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(Endpoint::ALL.to_vec()).prop_map(|e| format!("/{e}")),
        "/[a-zA-Z0-9_/]{0,30}",
    ]
}

/// Bodies that look like forms with Juhe's field names and arbitrary values.
fn form_bodies() -> impl Strategy<Value = Vec<u8>> {
    let names = prop::sample::select(vec![
        "key", "realname", "idcard", "mobile", "image", "sign", "aesKey", "orderid", "x",
    ]);
    prop::collection::vec((names, ".{0,40}"), 0..8).prop_map(|pairs| {
        let pairs: Vec<(&str, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n, if n == "key" && v.len() % 2 == 0 { SANDBOX_KEY.into() } else { v }))
            .collect();
        juhe_proto::encode_form(pairs.iter().map(|(n, v)| (*n, v.as_str()))).into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_requests_get_a_json_answer_and_are_never_billed(
        path in paths(),
        post in any::<bool>(),
        body in prop_oneof![form_bodies(), any::<Vec<u8>>()],
        form in any::<bool>(),
    ) {
        let sandbox = sandbox();
        let before = sandbox.ledger().billed;
        let content_type = form.then_some("application/x-www-form-urlencoded");
        let answer = crate::raw_http::send(sandbox.addr(), if post { "POST" } else { "GET" }, &path, content_type, &body, Duration::from_secs(5)).unwrap();
        let json = answer.json();
        prop_assert!(json["error_code"].as_i64().is_some_and(|c| c != 0), "{json}");
        prop_assert_eq!(sandbox.ledger().billed, before);
    }
}

#[test]
fn garbage_on_the_socket_does_not_take_the_server_down() {
    use std::io::{Read, Write};
    let sandbox = sandbox();
    for garbage in [
        &b"\x00\x01\x02 not http\r\n\r\n"[..],
        b"POST /idcard/query HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(sandbox.addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream.write_all(garbage).unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
    let answer = crate::raw_http::post_form(sandbox.addr(), "/idcard/query", b"key=wrong").unwrap();
    assert_eq!(answer.error_code(), 10001);
}
