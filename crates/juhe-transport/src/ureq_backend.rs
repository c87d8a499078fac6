//! The blocking backend: ureq.

use crate::{
    Delivery, HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Transport, TransportConfig, TransportError,
    TransportErrorKind, USER_AGENT,
};

/// A [`Transport`] over one shared `ureq::Agent` (which pools connections; a bare
/// `ureq::post` does not).
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_response_bytes: usize,
}

impl UreqTransport {
    /// An agent with the default settings.
    pub fn new() -> Result<Self, TransportError> {
        Self::with_config(&TransportConfig::default())
    }

    /// An agent with these settings.
    pub fn with_config(config: &TransportConfig) -> Result<Self, TransportError> {
        let (connect, total, limit) = (config.connect_timeout, config.timeout, config.max_response_bytes);
        // Per-phase timeouts, not ureq's global one: the global timeout re-arms the socket's
        // timeout on every read and write, which measured ~30 µs a request on loopback
        // (docs/benchmarks.md).
        let builder = ureq::Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_recv_response(Some(total))
            .timeout_recv_body(Some(total))
            .http_status_as_error(false)
            .user_agent(USER_AGENT);
        #[cfg(feature = "native-tls")]
        let builder = builder
            .tls_config(ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::NativeTls).build());
        Ok(Self { agent: builder.build().into(), max_response_bytes: limit })
    }

    /// Uses your own configured agent (proxies, timeouts). If it turns 4xx/5xx statuses into
    /// errors, they come back as responses with an empty body.
    pub fn from_agent(agent: ureq::Agent) -> Self {
        Self { agent, max_response_bytes: MAX_RESPONSE_BYTES }
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = match self.agent.run(request) {
            Ok(response) => response,
            Err(ureq::Error::StatusCode(status)) => {
                return http::Response::builder()
                    .status(status)
                    .body(Vec::new())
                    .map_err(|e| TransportError::new(TransportErrorKind::Protocol, Delivery::MaybeSent, e));
            }
            Err(error) => return Err(classify(error)),
        };
        let (parts, mut body) = response.into_parts();
        let bytes =
            body.with_config().limit(self.max_response_bytes as u64).read_to_vec().map_err(classify)?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// Sorts a ureq error by whether the request may have left.
fn classify(error: ureq::Error) -> TransportError {
    use ureq::Timeout;
    let (kind, delivery) = match &error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        ureq::Error::Timeout(_) => (TransportErrorKind::Timeout, Delivery::MaybeSent),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            (TransportErrorKind::Timeout, Delivery::MaybeSent)
        }
        ureq::Error::Io(_) => (TransportErrorKind::Io, Delivery::MaybeSent),
        ureq::Error::Tls(_) => (TransportErrorKind::Tls, Delivery::NotSent),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            (TransportErrorKind::Request, Delivery::NotSent)
        }
        _ => (TransportErrorKind::Protocol, Delivery::MaybeSent),
    };
    // A bad URI's message repeats the URI: keep it out of the chain.
    if let ureq::Error::BadUri(_) = error {
        return TransportError::new(kind, delivery, "invalid URL");
    }
    TransportError::new(kind, delivery, error)
}
