//! The async backend: reqwest.

use std::error::Error as _;

use crate::{
    AsyncTransport, Delivery, HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, TransportConfig, TransportError,
    TransportErrorKind, USER_AGENT,
};

/// An [`AsyncTransport`] over a `reqwest::Client` (connection pooling, HTTP/1.1 keep-alive).
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
}

impl ReqwestTransport {
    /// A client with the default settings.
    pub fn new() -> Result<Self, TransportError> {
        Self::with_config(&TransportConfig::default())
    }

    /// A client with these settings.
    pub fn with_config(config: &TransportConfig) -> Result<Self, TransportError> {
        let builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(USER_AGENT);
        let client = with_tls(builder)?
            .build()
            .map_err(|e| TransportError::new(TransportErrorKind::Tls, Delivery::NotSent, e.without_url()))?;
        Ok(Self { client, max_response_bytes: config.max_response_bytes })
    }

    /// Uses your own configured client (proxies, pools, timeouts). Its settings are kept as
    /// they are.
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client, max_response_bytes: MAX_RESPONSE_BYTES }
    }
}

#[cfg(feature = "native-tls")]
fn with_tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, TransportError> {
    Ok(builder.tls_backend_native())
}

/// rustls with the `ring` provider and the platform's roots: configured here, so the process
/// needs no global crypto provider and only one provider is compiled in.
#[cfg(not(feature = "native-tls"))]
fn with_tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, TransportError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let tls_error = |e: rustls::Error| TransportError::new(TransportErrorKind::Tls, Delivery::NotSent, e);
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    Ok(builder.tls_backend_preconfigured(config))
}

#[async_trait::async_trait]
impl AsyncTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(|e| {
            TransportError::new(TransportErrorKind::Request, Delivery::NotSent, e.without_url())
        })?;
        let response = self.client.execute(request).await.map_err(classify)?;
        if response.content_length().is_some_and(|n| n > self.max_response_bytes as u64) {
            return Err(TransportError::new(
                TransportErrorKind::Protocol,
                Delivery::MaybeSent,
                "response too large",
            ));
        }
        let mut answer = http::Response::builder().status(response.status()).version(response.version());
        if let Some(headers) = answer.headers_mut() {
            headers.extend(response.headers().iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let body = response.bytes().await.map_err(classify)?;
        answer
            .body(body.to_vec())
            .map_err(|e| TransportError::new(TransportErrorKind::Protocol, Delivery::MaybeSent, e))
    }
}

/// Sorts a reqwest error by whether the request may have left.
fn classify(error: reqwest::Error) -> TransportError {
    let refused_before_sending = error.is_connect() || is_connection_refused(&error);
    let (kind, delivery) = if refused_before_sending {
        // A connect timeout is also "not sent": nothing reached Juhe.
        (TransportErrorKind::Connect, Delivery::NotSent)
    } else if error.is_timeout() {
        (TransportErrorKind::Timeout, Delivery::MaybeSent)
    } else if error.is_builder() {
        (TransportErrorKind::Request, Delivery::NotSent)
    } else if error.is_decode() {
        (TransportErrorKind::Protocol, Delivery::MaybeSent)
    } else {
        (TransportErrorKind::Io, Delivery::MaybeSent)
    };
    TransportError::new(kind, delivery, error.without_url())
}

fn is_connection_refused(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        source = cause.source();
    }
    false
}
