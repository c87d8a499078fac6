//! Both backends against the sandbox over loopback: answers of any status come back as
//! responses; failures are sorted by whether the request may have been sent.

use std::time::Duration;

use juhe_proto::{BaseUrls, Credentials, Mode, Protocol, Telecom3Check};
use juhe_sandbox::{MagicIdentity, Sandbox, magic};
use juhe_transport::{
    AsyncTransport, Delivery, HttpRequest, ReqwestTransport, Transport, TransportErrorKind, UreqTransport,
};

fn request(base_url: &str, name: &str, idcard: &str, mobile: &str) -> HttpRequest {
    let protocol = Protocol::new(Credentials::new(juhe_sandbox::SANDBOX_KEY).unwrap())
        .with_base_urls(BaseUrls::single(base_url).unwrap());
    let check = Telecom3Check::new(name, idcard, mobile).unwrap();
    protocol.encode(&check, Mode::Plain, &mut rand_core::OsRng).unwrap().request
}

fn magic_request(sandbox: &Sandbox, magic: &MagicIdentity) -> HttpRequest {
    request(sandbox.base_url(), magic.name, magic.idcard, magic.mobile)
}

/// A port nothing listens on.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn ureq_answers_failures_and_timeouts() {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let transport = UreqTransport::with_timeouts(Duration::from_secs(2), Duration::from_millis(500));

    let ok = transport.send(request(sandbox.base_url(), &p.name, &p.idcard, &p.mobile)).unwrap();
    assert_eq!(ok.status(), 200);
    assert!(std::str::from_utf8(ok.body()).unwrap().contains("\"error_code\":0"));

    let gateway = transport.send(magic_request(&sandbox, &magic::HTTP_500)).unwrap();
    assert_eq!(gateway.status(), 500, "a 5xx is a response, not an error");

    let refused = transport.send(request(&closed_port_url(), &p.name, &p.idcard, &p.mobile)).unwrap_err();
    assert_eq!((refused.kind(), refused.delivery()), (TransportErrorKind::Connect, Delivery::NotSent));

    let slow = transport.send(magic_request(&sandbox, &magic::SLOW)).unwrap_err();
    assert_eq!((slow.kind(), slow.delivery()), (TransportErrorKind::Timeout, Delivery::MaybeSent));

    let closed = transport.send(magic_request(&sandbox, &magic::CLOSE_CONNECTION)).unwrap_err();
    assert_eq!(closed.delivery(), Delivery::MaybeSent);
    let truncated = transport.send(magic_request(&sandbox, &magic::TRUNCATED_BODY)).unwrap_err();
    assert_eq!(truncated.delivery(), Delivery::MaybeSent);
}

#[tokio::test(flavor = "multi_thread")]
async fn reqwest_answers_failures_and_timeouts() {
    let sandbox = Sandbox::start().unwrap();
    let p = sandbox.identities()[0].clone();
    let transport =
        ReqwestTransport::with_timeouts(Duration::from_secs(2), Duration::from_millis(500)).unwrap();

    let ok = transport.send(request(sandbox.base_url(), &p.name, &p.idcard, &p.mobile)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(std::str::from_utf8(ok.body()).unwrap().contains("\"error_code\":0"));

    let gateway = transport.send(magic_request(&sandbox, &magic::HTTP_500)).await.unwrap();
    assert_eq!(gateway.status(), 500);

    let refused =
        transport.send(request(&closed_port_url(), &p.name, &p.idcard, &p.mobile)).await.unwrap_err();
    assert_eq!((refused.kind(), refused.delivery()), (TransportErrorKind::Connect, Delivery::NotSent));

    let slow = transport.send(magic_request(&sandbox, &magic::SLOW)).await.unwrap_err();
    assert_eq!((slow.kind(), slow.delivery()), (TransportErrorKind::Timeout, Delivery::MaybeSent));

    let closed = transport.send(magic_request(&sandbox, &magic::CLOSE_CONNECTION)).await.unwrap_err();
    assert_eq!(closed.delivery(), Delivery::MaybeSent);
    let truncated = transport.send(magic_request(&sandbox, &magic::TRUNCATED_BODY)).await.unwrap_err();
    assert_eq!(truncated.delivery(), Delivery::MaybeSent);
    // Nothing in the error chain shows the URL.
    let mut chain = format!("{refused}");
    let mut source = std::error::Error::source(&refused);
    while let Some(s) = source {
        chain += &format!(" / {s}");
        source = s.source();
    }
    assert!(!chain.contains("127.0.0.1"), "{chain}");
}

#[test]
fn the_traits_are_dyn_compatible() {
    let blocking: std::sync::Arc<dyn Transport> = std::sync::Arc::new(UreqTransport::new());
    let asynchronous: std::sync::Arc<dyn AsyncTransport> =
        std::sync::Arc::new(ReqwestTransport::new().unwrap());
    let _ = (blocking, asynchronous);
}
