//! The HTTP/1.1 server that [`juhe-sandbox`](https://docs.rs/juhe-sandbox) and
//! [`juhe-gateway`](https://docs.rs/juhe-gateway) serve Juhe's API with: hyper over tokio,
//! answering with what a [`Responder`] decides, and holding out against the clients of a
//! shared host. Idle and slow connections are closed, open connections and request bodies in
//! flight are bounded, accept errors are waited out, and TLS (rustls, features `aws-lc` or
//! `ring`) has the same deadline as a head.
//!
//! ```no_run
//! use std::sync::Arc;
//! use juhe_server::{Answer, Limits, Responder, serve};
//!
//! struct Hello;
//!
//! impl Responder for Hello {
//!     async fn respond(&self, _request: http::Request<Vec<u8>>) -> Answer {
//!         Answer::json(200, br#"{"hello":"world"}"#.to_vec())
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (_stop, stopped) = tokio::sync::watch::channel(false);
//! serve(listener, Arc::new(Hello), Limits::default(), None, stopped).await;
//! # Ok(()) }
//! ```
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod tls;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
pub use tls::{TlsError, tls_acceptor, tls_acceptor_from_pem};
/// What [`serve`] takes for HTTPS.
pub use tokio_rustls::TlsAcceptor;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// What a request to a [`Responder`] carries in its extensions: the client's address (for
/// per-address caps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::IpAddr);

/// What to answer a request with.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A complete answer.
    Body {
        /// The HTTP status.
        status: u16,
        /// Its `Content-Type`.
        content_type: &'static str,
        /// The body.
        body: Vec<u8>,
    },
    /// A complete answer with headers of its own (`Content-Length` is set by the server).
    Headed {
        /// The HTTP status.
        status: u16,
        /// Its headers, `Content-Type` among them.
        headers: http::HeaderMap,
        /// The body.
        body: Vec<u8>,
    },
    /// Announce `body` in full, send half of it, then close the connection (a fault).
    Truncated {
        /// The whole body.
        body: Vec<u8>,
    },
    /// Close the connection without answering (a fault).
    Close,
    /// Wait, then answer.
    Delayed {
        /// How long.
        delay: Duration,
        /// Then this.
        answer: Box<Answer>,
    },
}

impl Answer {
    /// A JSON body, UTF-8.
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Answer::Body { status, content_type: "application/json;charset=utf-8", body }
    }
}

/// What a server answers requests with. The server has read the whole body, within the
/// [`Limits`], before it asks.
pub trait Responder: Send + Sync + 'static {
    /// The answer to `request`, whose extensions hold its [`PeerAddr`].
    fn respond(&self, request: http::Request<Vec<u8>>) -> impl Future<Output = Answer> + Send;
}

/// What the server lets its clients use.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// A request head must arrive whole within this; a connection idle this long between
    /// requests is closed too.
    pub header_read_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// The largest request body; a face image of a few MB fits.
    pub max_body: usize,
    /// Bytes of request bodies held at once, all requests together.
    pub max_bodies_in_flight: usize,
    /// A request body must arrive whole within this, counted from the end of its head: a
    /// body sent a byte at a time cannot hold a connection slot for long.
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_body: 16 * 1024 * 1024,
            max_bodies_in_flight: 64 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(10),
        }
    }
}

/// The budget of body bytes, in KiB (a semaphore counts in `u32`).
const BUDGET_UNIT: usize = 1024;

/// How long to wait after a failed accept (out of file descriptors, say) before the next:
/// retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections until `shutdown` changes; over TLS when `tls` is given.
pub async fn serve<R: Responder>(
    listener: TcpListener,
    api: Arc<R>,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let bodies = Arc::new(Semaphore::new(limits.max_bodies_in_flight.div_ceil(BUDGET_UNIT)));
    let limits = Arc::new(limits);
    loop {
        // A slot first: at the cap, connections wait in the backlog instead of being taken.
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok((stream, peer)) => (stream, peer),
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Shared {
            api: Arc::clone(&api),
            bodies: Arc::clone(&bodies),
            limits: Arc::clone(&limits),
            peer: PeerAddr(peer.ip()),
        };
        let (shutdown, tls) = (shutdown.clone(), tls.clone());
        tokio::spawn(async move {
            let _slot: OwnedSemaphorePermit = permit;
            match tls {
                None => shared.serve_connection(TokioIo::new(stream), shutdown).await,
                Some(acceptor) => {
                    // The handshake is a head too: it must not take longer.
                    let handshake =
                        tokio::time::timeout(shared.limits.header_read_timeout, acceptor.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        shared.serve_connection(TokioIo::new(stream), shutdown).await;
                    }
                }
            }
        });
    }
}

/// What every connection of a server shares.
struct Shared<R> {
    api: Arc<R>,
    bodies: Arc<Semaphore>,
    limits: Arc<Limits>,
    /// The connection's client, for per-address caps.
    peer: PeerAddr,
}

impl<R> Clone for Shared<R> {
    fn clone(&self) -> Self {
        Self {
            api: Arc::clone(&self.api),
            bodies: Arc::clone(&self.bodies),
            limits: Arc::clone(&self.limits),
            peer: self.peer,
        }
    }
}

impl<R: Responder> Shared<R> {
    /// Serves the requests of one connection, plain or TLS, until it closes or the server
    /// stops.
    async fn serve_connection<I>(self, io: I, mut shutdown: watch::Receiver<bool>)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let header_read_timeout = self.limits.header_read_timeout;
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(self.peer);
            respond(Arc::clone(&self.api), Arc::clone(&self.bodies), Arc::clone(&self.limits), request)
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .keep_alive(true)
            .serve_connection(io, service);
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => {}
            _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
        }
    }
}

/// Why a request body was not read whole.
enum BodyRefusal {
    /// Over the per-request limit: 413.
    TooLarge,
    /// The bodies in flight already hold the budget: 503, try again.
    Busy,
    /// Not valid HTTP framing (a malformed chunk): 400.
    Malformed,
    /// Not whole within the body deadline: 408.
    TooSlow,
}

/// Reads a body within the limits, holding its share of the budget until it is dropped. The
/// budget is taken as bytes arrive, never for what a head only announces: four heads that
/// announce 16 MiB each and send nothing must not starve every real check.
async fn read_body(
    body: Incoming,
    declared: Option<usize>,
    bodies: &Arc<Semaphore>,
    limits: &Limits,
) -> Result<(Vec<u8>, Vec<OwnedSemaphorePermit>), BodyRefusal> {
    if declared.is_some_and(|n| n > limits.max_body) {
        return Err(BodyRefusal::TooLarge);
    }
    let mut reserved = Vec::new();
    let mut reserve = |bytes: usize| -> Result<(), BodyRefusal> {
        let units = u32::try_from(bytes.div_ceil(BUDGET_UNIT)).map_err(|_| BodyRefusal::TooLarge)?;
        if units > 0 {
            reserved.push(Arc::clone(bodies).try_acquire_many_owned(units).map_err(|_| BodyRefusal::Busy)?);
        }
        Ok(())
    };
    // Memory, too, grows with what arrives, not with what is announced.
    let mut received = Vec::with_capacity(declared.unwrap_or(0).min(64 * 1024));
    let mut held = 0;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyRefusal::Malformed)?;
        let Ok(data) = frame.into_data() else { continue };
        if received.len() + data.len() > limits.max_body {
            return Err(BodyRefusal::TooLarge);
        }
        received.extend_from_slice(&data);
        // Whole units of the budget for the bytes received so far.
        let needed = received.len().div_ceil(BUDGET_UNIT) * BUDGET_UNIT;
        reserve(needed - held)?;
        held = needed;
    }
    Ok((received, reserved))
}

/// One request. An `Err` makes hyper close the connection without answering: that is how
/// the close-connection fault is done.
async fn respond<R: Responder>(
    api: Arc<R>,
    bodies: Arc<Semaphore>,
    limits: Arc<Limits>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<ServerBody>, io::Error> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let read = tokio::time::timeout(limits.body_read_timeout, read_body(body, declared, &bodies, &limits));
    let (body, _reserved) = match read.await {
        Ok(Ok(read)) => read,
        Ok(Err(refusal)) => return Ok(refused(refusal)),
        Err(_) => return Ok(refused(BodyRefusal::TooSlow)),
    };
    let request = http::Request::from_parts(parts, body);
    let mut answer = api.respond(request).await;
    loop {
        return match answer {
            Answer::Delayed { delay, answer: next } => {
                tokio::time::sleep(delay).await;
                answer = *next;
                continue;
            }
            Answer::Close => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "fault: close connection")),
            Answer::Body { status, content_type, body } => Ok(with_type(plain(status, body), content_type)),
            Answer::Headed { status, headers, body } => {
                let mut response = plain(status, body);
                response.headers_mut().extend(headers);
                Ok(response)
            }
            Answer::Truncated { body } => {
                let length = body.len();
                let mut response = hyper::Response::new(ServerBody::Truncated(Some(Bytes::from(body)), None));
                response.headers_mut().insert(http::header::CONTENT_LENGTH, length.into());
                Ok(with_type(response, "application/json;charset=utf-8"))
            }
        };
    }
}

/// The answer to a body that was not read: an HTTP error with a JSON reason, as a gateway
/// in front of Juhe would give (not an `error_code` 0, never billed).
fn refused(refusal: BodyRefusal) -> hyper::Response<ServerBody> {
    let (status, reason) = match refusal {
        BodyRefusal::TooLarge => (413, "request body too large"),
        BodyRefusal::Busy => (503, "too many request bodies in flight: try again"),
        BodyRefusal::Malformed => (400, "malformed request body (bad chunked encoding)"),
        BodyRefusal::TooSlow => (408, "request body not received in time"),
    };
    let body = format!(r#"{{"reason":"{reason}","result":null,"error_code":10014}}"#).into_bytes();
    let mut response = plain(status, body);
    // The connection's framing cannot be trusted after a refused body: close it.
    response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    response
}

fn plain(status: u16, body: Vec<u8>) -> hyper::Response<ServerBody> {
    let mut response = hyper::Response::new(ServerBody::Full(Some(Bytes::from(body))));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    with_type(response, "application/json;charset=utf-8")
}

fn with_type(
    mut response: hyper::Response<ServerBody>,
    content_type: &'static str,
) -> hyper::Response<ServerBody> {
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}

/// A body that is whole, or that breaks off half-way.
enum ServerBody {
    Full(Option<Bytes>),
    /// The data still to send, and the pause after the first half: hyper flushes what it has
    /// while the body is pending, so the client really receives half a body before the break.
    Truncated(Option<Bytes>, Option<Pin<Box<tokio::time::Sleep>>>),
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ServerBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ServerBody::Truncated(data, pause) => {
                if let Some(d) = data.take() {
                    *pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                    return Poll::Ready(Some(Ok(Frame::data(d.slice(..d.len() / 2)))));
                }
                match pause.as_mut().map(|p| p.as_mut().poll(cx)) {
                    Some(Poll::Pending) => Poll::Pending,
                    _ => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "fault: truncated body",
                    )))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ServerBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServerBody::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            ServerBody::Full(None) => SizeHint::with_exact(0),
            ServerBody::Truncated(..) => SizeHint::default(),
        }
    }
}
