//! The floor under `juhe batch` on loopback: one pre-built request (no CSV, validation, JSON
//! or file) sent `count` times over `concurrency` connections, on one current-thread runtime
//! with mimalloc (as the `juhe` binary runs), by one of three clients:
//!
//! - `hyper`: hyper-util's pooled client, the HTTP/1.1 engine under reqwest;
//! - `reqwest`: a bare reqwest client, its layers (redirects, timeouts, URL handling) on top;
//! - `transport`: this crate's `ReqwestTransport`, what the SDK sends through.
//!
//! Prints `<client> <requests/s>`. `benches/transport_floor.sh` runs it beside `juhe batch`
//! and `wrk`; numbers in docs/benchmarks.md.
//!
//! `cargo run --release -p juhe-transport --example transport_floor -- <client> <url> <body-file> <count> <concurrency>`

use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use juhe_transport::{AsyncTransport, HttpRequest, ReqwestTransport};
use tokio::sync::Semaphore;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FORM: &str = "application/x-www-form-urlencoded";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client, url, body_file, count, concurrency] = args.as_slice() else {
        eprintln!("usage: transport_floor hyper|reqwest|transport <url> <body-file> <count> <concurrency>");
        std::process::exit(2);
    };
    let body = std::fs::read(body_file).expect("the body file");
    let (count, concurrency) = (count.parse().expect("a count"), concurrency.parse().expect("a concurrency"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let start = Instant::now();
    let received = runtime.block_on(send_all(client, url, body.into(), count, concurrency));
    let rate = count as f64 / start.elapsed().as_secs_f64();
    assert!(received >= count, "every request answered with a body");
    println!("{client} {rate:.0}");
}

/// Sends `count` copies of the request, at most `concurrency` at once; the answers' bytes.
async fn send_all(client: &str, url: &str, body: bytes::Bytes, count: usize, concurrency: usize) -> usize {
    let send = sender(client, url);
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let slot = Arc::clone(&slots).acquire_owned().await.expect("the semaphore stays open");
        let (send, body) = (Arc::clone(&send), body.clone());
        tasks.push(tokio::spawn(async move {
            let received = send.send(body).await;
            drop(slot);
            received
        }));
    }
    let mut received = 0;
    for task in tasks {
        received += task.await.expect("a task finishes");
    }
    received
}

/// One of the three clients, sending to `url`.
enum Sender {
    Hyper(
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            Full<bytes::Bytes>,
        >,
        http::Uri,
    ),
    Reqwest(reqwest::Client, reqwest::Url),
    Transport(ReqwestTransport, http::Uri),
}

fn sender(client: &str, url: &str) -> Arc<Sender> {
    let uri: http::Uri = url.parse().expect("a URL");
    Arc::new(match client {
        "hyper" => {
            let executor = hyper_util::rt::TokioExecutor::new();
            Sender::Hyper(hyper_util::client::legacy::Client::builder(executor).build_http(), uri)
        }
        "reqwest" => {
            // A bare client needs a process-wide TLS provider even for http://.
            #[allow(deprecated)]
            let _ = rustls::crypto::ring::default_provider().install_default();
            Sender::Reqwest(reqwest::Client::new(), url.parse().expect("a URL"))
        }
        "transport" => Sender::Transport(ReqwestTransport::new().expect("a transport"), uri),
        other => panic!("unknown client {other:?}: hyper, reqwest or transport"),
    })
}

impl Sender {
    /// Sends one request; the answer's length.
    async fn send(&self, body: bytes::Bytes) -> usize {
        match self {
            Self::Hyper(client, uri) => {
                let request = http::Request::post(uri.clone()).header(http::header::CONTENT_TYPE, FORM);
                let answer = client
                    .request(request.body(Full::new(body)).expect("a request"))
                    .await
                    .expect("an answer");
                answer.into_body().collect().await.expect("a body").to_bytes().len()
            }
            Self::Reqwest(client, url) => {
                let answer =
                    client.post(url.clone()).header(http::header::CONTENT_TYPE, FORM).body(body).send();
                answer.await.expect("an answer").bytes().await.expect("a body").len()
            }
            Self::Transport(transport, uri) => {
                let request: HttpRequest = http::Request::post(uri.clone())
                    .header(http::header::CONTENT_TYPE, FORM)
                    .body(body.to_vec())
                    .expect("a request");
                transport.send(request).await.expect("an answer").into_body().len()
            }
        }
    }
}
