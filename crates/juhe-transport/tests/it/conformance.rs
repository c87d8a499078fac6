//! What every backend does, the same way: answers of any status come back as responses, and
//! failures are sorted by whether the request may have been sent. Each case runs against
//! each backend (see `for_each_backend!` at the bottom).

use std::time::{Duration, Instant};

use juhe_test_support::hostile::{Hostile, Script};

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
    protocol.encode(&check, Mode::Plain).unwrap().request
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

fn deadline(seconds: f64) -> TransportConfig {
    TransportConfig::with_timeouts(Duration::from_secs(2), Duration::from_secs_f64(seconds))
}

/// A request to a hostile server, with a body of `body_bytes` bytes.
fn hostile_request(server: &Hostile, body_bytes: usize) -> HttpRequest {
    http::Request::post(format!("{}/telecom3/query", server.base_url()))
        .header(http::header::CONTENT_TYPE, juhe_proto::CONTENT_TYPE)
        .body(vec![b'a'; body_bytes])
        .unwrap()
}

/// No redirect is followed: the 3xx comes back as the answer, and the host it names
/// receives nothing (it would get the key and the person's data).
pub(crate) fn redirects_are_never_followed(make: Make) {
    let elsewhere =
        Hostile::start(Script::Json(r#"{"error_code":0,"reason":"ok","result":{"res":1}}"#.into()));
    let backend = make(&deadline(5.0));
    for status in [301, 302, 303, 307, 308] {
        let location = format!("{}/telecom3/query", elsewhere.base_url());
        let server = Hostile::start(Script::Redirect { status, location });
        let answer = backend.send(hostile_request(&server, 100)).unwrap();
        assert_eq!(answer.status(), status);
        assert_eq!(server.accepted(), 1, "{status}: sent once");
    }
    assert_eq!(elsewhere.accepted(), 0, "the redirect's host was contacted");
}

/// A huge answer fails at the limit whatever its framing, and the client stops reading:
/// the server cannot write more than the limit and the socket buffers.
pub(crate) fn huge_answers_stop_at_the_limit(make: Make) {
    let backend = make(&deadline(20.0));
    for script in [Script::Chunked { total: 64 << 20 }, Script::CloseDelimited { total: 64 << 20 }] {
        let server = Hostile::start(script.clone());
        let error = backend.send(hostile_request(&server, 100)).unwrap_err();
        assert_eq!(
            (error.kind(), error.delivery()),
            (TransportErrorKind::TooLarge, Delivery::MaybeSent),
            "{script:?}"
        );
        assert!(error.to_string().contains("too large"), "{error}");
        let written = writes_settled(&server);
        assert!(written < 16 << 20, "{script:?}: the client took {written} bytes of a 64 MiB answer");
    }
}

/// What the server wrote, once its writes stop growing: the client has let go.
fn writes_settled(server: &Hostile) -> u64 {
    let mut last = server.written();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = server.written();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// One deadline covers connecting, sending and the whole answer, however the server
/// stalls: each case ends at the deadline, and says the request may have been billed.
pub(crate) fn one_deadline_covers_every_phase(make: Make) {
    let limit = 1.0;
    let every = Duration::from_millis(50);
    let cases = [
        (Script::NeverReads, 5 << 20),
        (Script::DripHead { every }, 100),
        (Script::DripBody { every }, 100),
        (Script::EndlessChunks { every }, 100),
    ];
    // The cases run side by side, each with a backend of its own: the test takes one deadline.
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(script, body)| {
            std::thread::spawn(move || {
                let (server, backend) = (Hostile::start(script.clone()), make(&deadline(limit)));
                let started = Instant::now();
                let error = backend.send(hostile_request(&server, body)).unwrap_err();
                (script, error, started.elapsed().as_secs_f64())
            })
        })
        .collect();
    for run in runs {
        let (script, error, took) = run.join().unwrap();
        assert_eq!(
            (error.kind(), error.delivery()),
            (TransportErrorKind::Timeout, Delivery::MaybeSent),
            "{script:?}"
        );
        assert!(error.to_string().contains("may have been billed"), "{error}");
        assert!(
            (limit..limit + 0.7).contains(&took),
            "{script:?}: ended after {took:.2} s, the deadline is {limit} s"
        );
    }
}

/// What is not HTTP, and a compressed answer nobody asked for, come back distinctly: the
/// first as a protocol error, the second as the bytes that came (the protocol core refuses
/// them by their `Content-Encoding`).
pub(crate) fn garbage_and_compressed_answers_are_told_apart(make: Make) {
    let backend = make(&deadline(5.0));
    let garbage = Hostile::start(Script::Raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()));
    let error = backend.send(hostile_request(&garbage, 100)).unwrap_err();
    assert_eq!(
        (error.kind(), error.delivery()),
        (TransportErrorKind::Protocol, Delivery::MaybeSent),
        "{error:?}"
    );
    assert!(error.to_string().contains("not valid HTTP"), "{error}");

    let gzip = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        gzip.len()
    );
    let compressed = Hostile::start(Script::Raw([head.as_bytes(), &gzip].concat()));
    let answer = backend.send(hostile_request(&compressed, 100)).unwrap();
    assert_eq!(answer.headers()[http::header::CONTENT_ENCODING], "gzip");
    assert_eq!(answer.body(), &gzip, "the bytes as they came, not decompressed");
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
    errors_never_show_the_url,
    redirects_are_never_followed,
    huge_answers_stop_at_the_limit,
    one_deadline_covers_every_phase,
    garbage_and_compressed_answers_are_told_apart,
);

#[test]
fn the_traits_are_dyn_compatible_and_constructed_alike() {
    let blocking: std::sync::Arc<dyn Transport> = std::sync::Arc::new(UreqTransport::new().unwrap());
    let asynchronous: std::sync::Arc<dyn AsyncTransport> =
        std::sync::Arc::new(ReqwestTransport::new().unwrap());
    let _ = (blocking, asynchronous);
}
