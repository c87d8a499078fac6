//! HTTP transports for the juhe-rs SDK.
//!
//! **One job:** carry a request built by the protocol core (the `juhe-proto` crate) to Juhe
//! and bring the response back. What goes into the request and what the response means is
//! decided there; a transport never looks inside, so any HTTP client can be one, and this
//! crate depends on no cryptography of the protocol's.
//!
//! | trait | for | backend (feature) |
//! |---|---|---|
//! | [`Transport`] | blocking code | [`UreqTransport`](https://docs.rs/juhe-transport/latest/juhe_transport/struct.UreqTransport.html) (`ureq`) |
//! | [`AsyncTransport`] | async code | [`ReqwestTransport`](https://docs.rs/juhe-transport/latest/juhe_transport/struct.ReqwestTransport.html) (`reqwest`) |
//!
//! The async backend sends a request its host is reached at directly (no proxy between) by
//! hyper-util's pooled client, reqwest's own engine, without reqwest's layers above it, which
//! cost about a fifth of its CPU a request; through a proxy it goes through reqwest.
//!
//! Both backends are on by default and build together. They use rustls, its cryptography from
//! *ring* (feature `ring`, the default) or AWS-LC (feature `aws-lc`), unless the `native-tls`
//! feature asks for the platform's TLS. Default timeouts:
//! [`DEFAULT_CONNECT_TIMEOUT`] to connect, [`DEFAULT_TIMEOUT`] for the whole exchange. The
//! user agent is [`USER_AGENT`]. Bring your own configured `reqwest::Client` or
//! `ureq::Agent` (proxies, pools) with `from_client` / `from_agent`.
//!
//! # Errors that matter for money
//! A [`TransportError`] says whether the request may have reached Juhe
//! ([`TransportError::delivery`]): a refused connection or a failed DNS lookup was
//! [`Delivery::NotSent`] and is safe to retry; a timeout or reset after sending is
//! [`Delivery::MaybeSent`], and the check may have been billed.
//!
//! # Your own client
//! ```
//! use juhe_transport::{HttpRequest, HttpResponse, Transport, TransportError};
//!
//! /// A transport that answers every request itself (a test double).
//! struct Canned;
//!
//! impl Transport for Canned {
//!     fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         Ok(http::Response::new(br#"{"error_code":10001,"reason":"x","result":null}"#.to_vec()))
//!     }
//! }
//! # let answer = Canned.send(http::Request::new(Vec::new())).unwrap();
//! # assert_eq!(answer.status(), 200);
//! ```
//!
//! An async one, with this crate's re-export of `async_trait` (the attribute writes the boxed
//! future that makes the trait usable as `Arc<dyn AsyncTransport>`):
//! ```
//! use juhe_transport::{AsyncTransport, HttpRequest, HttpResponse, TransportError, async_trait};
//!
//! /// Counts requests and answers each with a rate limit (a test double).
//! #[derive(Default)]
//! struct Limited(std::sync::atomic::AtomicU64);
//!
//! #[async_trait]
//! impl AsyncTransport for Limited {
//!     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
//!         Ok(http::Response::new(br#"{"error_code":10012,"reason":"limit","result":null}"#.to_vec()))
//!     }
//! }
//! let transport: std::sync::Arc<dyn AsyncTransport> = std::sync::Arc::new(Limited::default());
//! # let _ = transport;
//! ```
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "reqwest", feature = "ureq"))]
#[cfg(all(feature = "reqwest", not(feature = "native-tls")))]
mod direct;
mod environment_proxy;
mod error;
#[cfg(feature = "reqwest")]
mod reqwest_backend;
#[cfg(all(any(feature = "reqwest", feature = "ureq"), not(feature = "native-tls")))]
mod rustls_provider;
#[cfg(feature = "ureq")]
mod ureq_backend;

use std::sync::Arc;
use std::time::Duration;

/// A request as the protocol core builds it: the same type as `juhe_proto::HttpRequest`.
pub type HttpRequest = http::Request<Vec<u8>>;
/// A response as the protocol core reads it: the same type as `juhe_proto::HttpResponse`.
pub type HttpResponse = http::Response<Vec<u8>>;

/// The `async_trait` attribute, to implement [`AsyncTransport`] without writing out the boxed
/// future it stands for.
pub use async_trait::async_trait;

pub use error::{Delivery, TransportError, TransportErrorKind};
#[cfg(feature = "reqwest")]
pub use reqwest_backend::ReqwestTransport;
#[cfg(feature = "ureq")]
pub use ureq_backend::UreqTransport;

/// How a backend is set up. Both backends read the same settings and apply them the same
/// way; a conformance suite ([`tests/it/conformance.rs`](https://github.com/juhe-rs/juhe-rs/blob/main/crates/juhe-transport/tests/it/conformance.rs)) runs against each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// How long connecting (DNS, TCP, TLS) may take: a connection not made in time was not
    /// sent.
    pub connect_timeout: Duration,
    /// The deadline of one exchange, connecting, sending, and reading the answer included.
    pub timeout: Duration,
    /// The largest answer body read.
    pub max_response_bytes: usize,
    /// Certificates trusted as roots besides the platform's (a test sandbox's CA, a
    /// corporate proxy's), DER.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Whether the proxy the environment names is used; `true` by default. Both backends
    /// read it alike: `HTTPS_PROXY` for `https://`, `HTTP_PROXY` for `http://`, `ALL_PROXY`
    /// for either, hosts in `NO_PROXY` reached directly; a server on this machine is always
    /// reached directly (a proxy would see every request to it in clear); a proxy other than
    /// `http://` or `https://` (`socks5://`) refuses the request, not sent, naming the
    /// variable.
    pub use_environment_proxy: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: MAX_RESPONSE_BYTES,
            extra_root_certificates: Vec::new(),
            use_environment_proxy: true,
        }
    }
}

impl TransportConfig {
    /// The defaults with these timeouts.
    pub fn with_timeouts(connect: Duration, total: Duration) -> Self {
        Self { connect_timeout: connect, timeout: total, ..Self::default() }
    }

    /// These settings, never going through a proxy: for a server on this machine.
    pub fn without_proxy(mut self) -> Self {
        self.use_environment_proxy = false;
        self
    }

    /// Also trusts the certificates of `pem` (one or more `BEGIN CERTIFICATE` blocks) as
    /// roots. Fails, naming why, when `pem` holds no certificate.
    pub fn with_root_certificates_pem(mut self, pem: &str) -> Result<Self, TransportError> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let invalid = |why: String| TransportError::new(TransportErrorKind::Tls, Delivery::NotSent, why);
        let before = self.extra_root_certificates.len();
        for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let certificate = certificate.map_err(|e| invalid(format!("not a PEM certificate: {e}")))?;
            self.extra_root_certificates.push(certificate.to_vec());
        }
        if self.extra_root_certificates.len() == before {
            return Err(invalid("no `BEGIN CERTIFICATE` block found".to_owned()));
        }
        Ok(self)
    }
}

/// `juhe-rs/<version>`.
pub const USER_AGENT: &str = concat!("juhe-rs/", env!("CARGO_PKG_VERSION"));
/// How long connecting (DNS, TCP, TLS) may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole exchange may take by default. Juhe's checks query carriers and the
/// public-security database, which can take seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response body read. Juhe's answers are a few hundred bytes.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Sends one request and waits for the answer, blocking the thread.
pub trait Transport: Send + Sync {
    /// Sends `request` and returns the response, whatever its status.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Sends one request and awaits the answer. Dyn-compatible: clients hold an
/// `Arc<dyn AsyncTransport>`.
#[async_trait::async_trait]
pub trait AsyncTransport: Send + Sync {
    /// Sends `request` and returns the response, whatever its status.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request)
    }
}

#[async_trait::async_trait]
impl<T: AsyncTransport + ?Sized> AsyncTransport for Arc<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

/// The README's example (crates.io's page), compiled and run as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
