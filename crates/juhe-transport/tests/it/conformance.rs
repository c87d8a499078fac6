//! What every backend does, the same way: answers of any status come back as responses, and
//! failures are sorted by whether the request may have been sent. Each case runs against
//! each backend (see `for_each_backend!` at the bottom).

use std::time::Duration;

use juhe_proto::{BaseUrls, Credentials, HttpRequest, HttpResponse, Mode, Protocol, Telecom3Check};
use juhe_sandbox::{MagicIdentity, Sandbox, magic};
use juhe_transport::{
    AsyncTransport, Delivery, ReqwestTransport, Transport, TransportConfig, TransportError,
    TransportErrorKind, UreqTransport,
};

/// A backend as the cases see it: a blocking send.
pub(crate) trait Backend {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl Backend for UreqTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Transport::send(self, request)
    }
}

/// The async backend, driven by a runtime of its own.
pub(crate) struct Reqwest(ReqwestTransport, tokio::runtime::Runtime);

impl Backend for Reqwest {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.1.block_on(AsyncTransport::send(&self.0, request))
    }
}

/// Makes a backend from settings.
pub(crate) type Make = fn(&TransportConfig) -> Box<dyn Backend>;

pub(crate) fn ureq(config: &TransportConfig) -> Box<dyn Backend> {
    Box::new(UreqTransport::with_config(config).unwrap())
}

pub(crate) fn reqwest(config: &TransportConfig) -> Box<dyn Backend> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let transport = {
        let _in_runtime = runtime.enter();
        ReqwestTransport::with_config(config).unwrap()
    };
    Box::new(Reqwest(transport, runtime))
}

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

fn short_timeouts() -> TransportConfig {
    TransportConfig::with_timeouts(Duration::from_secs(2), Duration::from_millis(500))
}

/// A 200 and a 500 are both answers: what they mean is the protocol's business.
pub(crate) fn any_status_is_an_answer(make: Make) {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let backend = make(&short_timeouts());
    let ok = backend.send(request(sandbox.base_url(), &p.name, &p.idcard, &p.mobile)).unwrap();
    assert_eq!(ok.status(), 200);
    assert!(std::str::from_utf8(ok.body()).unwrap().contains("\"error_code\":0"));
    let gateway = backend.send(magic_request(&sandbox, &magic::HTTP_500)).unwrap();
    assert_eq!(gateway.status(), 500, "a 5xx is a response, not an error");
}

/// A refused connection was not sent; a timeout, a closed connection and a truncated body
/// after sending may have been billed.
pub(crate) fn failures_say_whether_the_request_was_sent(make: Make) {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let backend = make(&short_timeouts());
    let refused = backend.send(request(&closed_port_url(), &p.name, &p.idcard, &p.mobile)).unwrap_err();
    assert_eq!((refused.kind(), refused.delivery()), (TransportErrorKind::Connect, Delivery::NotSent));
    let slow = backend.send(magic_request(&sandbox, &magic::SLOW)).unwrap_err();
    assert_eq!((slow.kind(), slow.delivery()), (TransportErrorKind::Timeout, Delivery::MaybeSent));
    let closed = backend.send(magic_request(&sandbox, &magic::CLOSE_CONNECTION)).unwrap_err();
    assert_eq!(closed.delivery(), Delivery::MaybeSent);
    let truncated = backend.send(magic_request(&sandbox, &magic::TRUNCATED_BODY)).unwrap_err();
    assert_eq!(truncated.delivery(), Delivery::MaybeSent);
}

/// No error's message or source chain holds the URL (it could hold a token).
pub(crate) fn errors_never_show_the_url(make: Make) {
    let backend = make(&short_timeouts());
    let refused =
        backend.send(request(&closed_port_url(), "张三", "11010519491231002X", "13912345678")).unwrap_err();
    let mut chain = format!("{refused}");
    let mut source = std::error::Error::source(&refused);
    while let Some(s) = source {
        chain += &format!(" / {s}");
        source = s.source();
    }
    assert!(!chain.contains("127.0.0.1"), "{chain}");
}

/// Runs every case against every backend, each as its own test.
macro_rules! for_each_backend {
    ($($case:ident),* $(,)?) => {
        mod ureq_backend {
            $( #[test] fn $case() { super::$case(super::ureq) } )*
        }
        mod reqwest_backend {
            $( #[test] fn $case() { super::$case(super::reqwest) } )*
        }
    };
}

for_each_backend!(
    any_status_is_an_answer,
    failures_say_whether_the_request_was_sent,
    errors_never_show_the_url
);

#[test]
fn the_traits_are_dyn_compatible_and_constructed_alike() {
    let blocking: std::sync::Arc<dyn Transport> = std::sync::Arc::new(UreqTransport::new().unwrap());
    let asynchronous: std::sync::Arc<dyn AsyncTransport> =
        std::sync::Arc::new(ReqwestTransport::new().unwrap());
    let _ = (blocking, asynchronous);
}
