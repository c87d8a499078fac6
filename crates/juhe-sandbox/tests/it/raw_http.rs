//! A deliberately small HTTP/1.1 client over `std::net`, so the sandbox's tests need no client
//! crate (the sandbox must not depend on ours) and can see exactly what came over the wire:
//! truncated bodies and closed connections included.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What came back.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) content_length: Option<usize>,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    /// Whether the whole announced body arrived.
    pub(crate) fn complete(&self) -> bool {
        self.content_length.is_none_or(|n| n == self.body.len())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn error_code(&self) -> i64 {
        self.json()["error_code"].as_i64().expect("error_code")
    }

    /// As an `http::Response`, for `juhe_proto::decode`.
    pub(crate) fn to_http(&self) -> http::Response<Vec<u8>> {
        http::Response::builder().status(self.status).body(self.body.clone()).unwrap()
    }
}

/// Sends one request on a fresh connection. `Err` when nothing came back at all.
pub(crate) fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(timeout))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head += &format!("Content-Type: {ct}\r\n");
    }
    head += "\r\n";
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw)
        && raw.is_empty()
    {
        return Err(e);
    }
    if raw.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed without an answer",
        ));
    }
    parse(&raw)
}

/// Sends a request built by `juhe_proto` (its URI is absolute).
pub(crate) fn send_request(
    addr: SocketAddr,
    request: &http::Request<Vec<u8>>,
) -> std::io::Result<RawResponse> {
    let content_type =
        request.headers().get(http::header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    send(
        addr,
        request.method().as_str(),
        request.uri().path(),
        content_type.as_deref(),
        request.body(),
        Duration::from_secs(10),
    )
}

/// A form POST.
pub(crate) fn post_form(addr: SocketAddr, path: &str, body: &[u8]) -> std::io::Result<RawResponse> {
    send(
        addr,
        "POST",
        path,
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        body,
        Duration::from_secs(10),
    )
}

fn parse(raw: &[u8]) -> std::io::Result<RawResponse> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of head"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad("head not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let content_length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Ok(RawResponse { status, content_length, body: raw[end + 4..].to_vec() })
}
