//! Requests that go straight to their host, no proxy between: sent by hyper-util's pooled
//! client, the HTTP/1.1 engine under reqwest, without reqwest's layers. Those layers cost about
//! a fifth of the transport's CPU a request (a redirect layer installed whatever the policy,
//! which formats each request's URI and parses it back into a `Url`, and the answer's `Url`
//! parsed again: docs/benchmarks.md), and a batch on loopback is bound by that CPU. Requests
//! through a proxy still go through reqwest, which speaks to proxies.
//!
//! The contract is the backend's: rustls with the same configuration, one deadline over
//! connecting, sending and the whole answer, no redirect followed, the answer bounded, and
//! each failure sorted by whether the request may have left. One difference: the connect
//! timeout covers the TCP connection only, so a TLS handshake that stalls runs to the
//! deadline and is reported as maybe sent (reqwest's timeout covered the handshake and said
//! not sent). That errs towards "may have been billed": nothing is paid twice, but such a
//! check is not retried without the caller's consent.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{Delivery, HttpRequest, HttpResponse, TransportConfig, TransportError, TransportErrorKind};

/// hyper-util's pooled client over TCP and rustls.
pub(crate) type DirectClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for one runtime: its connections' tasks run on the runtime current when each
/// is opened.
pub(crate) fn client(config: &TransportConfig, tls: rustls::ClientConfig) -> DirectClient {
    let mut tcp = HttpConnector::new();
    // `https://` is the TLS layer's to handle, `http://` passes through it.
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(config.connect_timeout));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

/// Sends `request` and reads the whole answer, at most `limit` bytes of it, within `deadline`.
pub(crate) async fn send(
    client: &DirectClient,
    request: HttpRequest,
    deadline: Duration,
    limit: usize,
) -> Result<HttpResponse, TransportError> {
    tokio::time::timeout(deadline, exchange(client, request, limit)).await.unwrap_or_else(|_| {
        Err(TransportError::new(
            TransportErrorKind::Timeout,
            Delivery::MaybeSent,
            format!("no whole answer within {:.1} s", deadline.as_secs_f64()),
        ))
    })
}

async fn exchange(
    client: &DirectClient,
    request: HttpRequest,
    limit: usize,
) -> Result<HttpResponse, TransportError> {
    let (mut parts, body) = request.into_parts();
    // The headers reqwest adds to every request, so both routes send the same.
    let headers = &mut parts.headers;
    headers.entry(http::header::USER_AGENT).or_insert(http::HeaderValue::from_static(crate::USER_AGENT));
    headers.entry(http::header::ACCEPT).or_insert(http::HeaderValue::from_static("*/*"));
    let response = client
        .request(http::Request::from_parts(parts, Full::new(Bytes::from(body))))
        .await
        .map_err(classify)?;
    let (parts, mut body) = response.into_parts();
    let declared =
        parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(crate::reqwest_backend::too_large(limit));
    }
    // Read as it streams, whatever the framing: a chunked or close-delimited answer stops
    // being read at the limit.
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| TransportError::new(TransportErrorKind::Io, Delivery::MaybeSent, e))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(crate::reqwest_backend::too_large(limit));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(http::Response::from_parts(parts, bytes))
}

/// Sorts a failure of the client by whether the request may have left: only a connection
/// that never opened (refused, timed out, its TLS handshake failed) is known not to have.
fn classify(error: hyper_util::client::legacy::Error) -> TransportError {
    let (kind, delivery) = if error.is_connect() && crate::reqwest_backend::is_rustls(&error) {
        (TransportErrorKind::Tls, Delivery::NotSent)
    } else if error.is_connect() {
        (TransportErrorKind::Connect, Delivery::NotSent)
    } else if crate::reqwest_backend::is_hyper_parse(&error) {
        (TransportErrorKind::Protocol, Delivery::MaybeSent)
    } else {
        (TransportErrorKind::Io, Delivery::MaybeSent)
    };
    TransportError::new(kind, delivery, error)
}
