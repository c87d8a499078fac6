//! Moving bytes: hyper over tokio, answering with what [`JuheApi`] decides.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::juhe_api::{Answer, JuheApi};

/// The largest request body read; a face image of a few MB fits.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Accepts connections until `shutdown` changes.
pub(crate) async fn serve(listener: TcpListener, api: Arc<JuheApi>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let api = Arc::clone(&api);
                let mut shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| respond(Arc::clone(&api), request));
                    let connection = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
                    }
                });
            }
        }
    }
}

/// One request. An `Err` makes hyper close the connection without answering: that is how
/// the close-connection fault is done.
async fn respond(
    api: Arc<JuheApi>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<SandboxBody>, io::Error> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            return Ok(plain(
                413,
                br#"{"reason":"request body too large","result":null,"error_code":10014}"#.to_vec(),
            ));
        }
    };
    let request = http::Request::from_parts(parts, body);
    let mut answer = api.answer(&request);
    loop {
        return match answer {
            Answer::Delayed { delay, answer: next } => {
                tokio::time::sleep(delay).await;
                answer = *next;
                continue;
            }
            Answer::Close => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "fault: close connection")),
            Answer::Body { status, content_type, body } => Ok(with_type(plain(status, body), content_type)),
            Answer::Truncated { body } => {
                let length = body.len();
                let mut response =
                    hyper::Response::new(SandboxBody::Truncated(Some(Bytes::from(body)), None));
                response.headers_mut().insert(http::header::CONTENT_LENGTH, length.into());
                Ok(with_type(response, "application/json;charset=utf-8"))
            }
        };
    }
}

fn plain(status: u16, body: Vec<u8>) -> hyper::Response<SandboxBody> {
    let mut response = hyper::Response::new(SandboxBody::Full(Some(Bytes::from(body))));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    with_type(response, "application/json;charset=utf-8")
}

fn with_type(
    mut response: hyper::Response<SandboxBody>,
    content_type: &'static str,
) -> hyper::Response<SandboxBody> {
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}

/// A body that is whole, or that breaks off half-way.
pub(crate) enum SandboxBody {
    Full(Option<Bytes>),
    /// The data still to send, and the pause after the first half: hyper flushes what it has
    /// while the body is pending, so the client really receives half a body before the break.
    Truncated(Option<Bytes>, Option<Pin<Box<tokio::time::Sleep>>>),
}

impl Body for SandboxBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            SandboxBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            SandboxBody::Truncated(data, pause) => {
                if let Some(d) = data.take() {
                    *pause = Some(Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50))));
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
        matches!(self, SandboxBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SandboxBody::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            SandboxBody::Full(None) => SizeHint::with_exact(0),
            SandboxBody::Truncated(..) => SizeHint::default(),
        }
    }
}
