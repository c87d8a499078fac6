//! The blocking backend: ureq.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport as UreqWire,
};

use crate::environment_proxy::{EnvironmentProxies, Host, Route};
use crate::{
    Delivery, HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Transport, TransportConfig, TransportError,
    TransportErrorKind, USER_AGENT,
};

/// A [`Transport`] over one shared `ureq::Agent` (which pools connections; a bare
/// `ureq::post` does not), following the transport contract: no redirects, one deadline per
/// attempt, a bounded answer.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_response_bytes: usize,
    /// The environment's proxies, applied per request (ureq's own reading ignores schemes).
    proxies: EnvironmentProxies,
}

impl UreqTransport {
    /// A transport with the default settings.
    pub fn new() -> Result<Self, TransportError> {
        Self::with_config(&TransportConfig::default())
    }

    /// A transport with these settings.
    pub fn with_config(config: &TransportConfig) -> Result<Self, TransportError> {
        let builder = ureq::Agent::config_builder()
            .timeout_connect(Some(config.connect_timeout))
            // One deadline covers resolving, connecting, sending and the whole answer.
            .timeout_global(Some(config.timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(USER_AGENT);
        // The proxy is chosen per request, by `EnvironmentProxies`.
        let builder = builder.proxy(None).tls_config(tls_config(config)?);
        let connector = ConnectionStarts.chain(DefaultConnector::new()).chain(ConnectionReady);
        let agent = ureq::Agent::with_parts(builder.build(), connector, CachingResolver::default());
        let proxies = if config.use_environment_proxy {
            EnvironmentProxies::from_env()
        } else {
            EnvironmentProxies::default()
        };
        Ok(Self { agent, max_response_bytes: config.max_response_bytes, proxies })
    }

    /// Uses your own configured agent (proxies, timeouts). Its settings are kept as they are,
    /// so give it `max_redirects(0)` and a global timeout; the answer is still read to
    /// [`MAX_RESPONSE_BYTES`] at most. If it turns 4xx/5xx statuses into errors, they come
    /// back as responses with an empty body.
    pub fn from_agent(agent: ureq::Agent) -> Self {
        Self { agent, max_response_bytes: MAX_RESPONSE_BYTES, proxies: EnvironmentProxies::default() }
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        PHASE.set(Phase::Pooled);
        DEPTH.set(0);
        let sent = match self.proxies.route(request.uri())? {
            Route::Direct => self.agent.run(request),
            Route::Proxy(url) => {
                let proxy = ureq::Proxy::new(url).map_err(|_| {
                    let why = "the proxy the environment names is not a proxy URL; nothing was sent";
                    TransportError::new(TransportErrorKind::Request, Delivery::NotSent, why)
                })?;
                use ureq::RequestExt;
                request.with_agent(&self.agent).configure().proxy(Some(proxy)).run()
            }
        };
        let response = match sent {
            Ok(response) => response,
            Err(ureq::Error::StatusCode(status)) => {
                return http::Response::builder()
                    .status(status)
                    .body(Vec::new())
                    .map_err(|e| TransportError::new(TransportErrorKind::Protocol, Delivery::MaybeSent, e));
            }
            // Failed while the connection was still being made (resolving, TCP, a proxy's
            // CONNECT, the TLS handshake): no byte of the request can have left.
            Err(error) => return Err(classify(error, PHASE.get() == Phase::Connecting)),
        };
        let (parts, mut body) = response.into_parts();
        // ureq stops reading at the limit, whatever the framing.
        let limit = self.max_response_bytes as u64;
        let bytes = body.with_config().limit(limit).read_to_vec().map_err(|e| classify(e, false))?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// The TLS of both backends: the platform's roots, and the extra ones beside them.
fn tls_config(config: &TransportConfig) -> Result<ureq::tls::TlsConfig, TransportError> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let provider = if cfg!(feature = "native-tls") { TlsProvider::NativeTls } else { TlsProvider::Rustls };
    let roots = if config.extra_root_certificates.is_empty() {
        RootCerts::PlatformVerifier
    } else {
        // ureq takes either the platform's verifier or a list: the list is the platform's
        // roots and the extra ones.
        let platform = rustls_native_certs::load_native_certs().certs;
        let all: Vec<Certificate<'static>> = platform
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .chain(config.extra_root_certificates.iter().map(|der| Certificate::from_der(der).to_owned()))
            .collect();
        RootCerts::new_with_certs(&all)
    };
    let builder = TlsConfig::builder().provider(provider).root_certs(roots);
    #[cfg(not(feature = "native-tls"))]
    let builder = builder.unversioned_rustls_crypto_provider(crate::rustls_provider::provider()?);
    Ok(builder.build())
}

/// How long a host name's addresses are reused before it is looked up again.
const DNS_TTL: Duration = Duration::from_secs(60);

/// Resolves without a thread on the hot path. ureq looks the host up on every request,
/// pooled connection or not, and with a deadline it does so on a new thread (~60 µs a
/// request on loopback, [docs/benchmarks.md](https://github.com/juhe-rs/juhe-rs/blob/main/docs/benchmarks.md)). An IP address needs no lookup, and a host name's
/// addresses are kept for [`DNS_TTL`]; the lookup itself, when needed, still runs under the
/// deadline.
#[derive(Debug, Default)]
struct CachingResolver {
    lookup: DefaultResolver,
    cache: Mutex<Vec<(String, ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        // An address in any spelling (`127.1`, `127.0.0.1.`, `::ffff:127.0.0.1`) is read as the
        // proxy rule reads it, and as reqwest's URL parser does: one host, one meaning.
        if let Host::Ip(ip) = Host::of(host) {
            let mut addrs = self.lookup.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.retain(|(_, _, at)| now.duration_since(*at) < DNS_TTL);
        if let Some((_, addrs, _)) = cache.iter().find(|(k, ..)| *k == key) {
            return Ok(addrs.clone());
        }
        drop(cache);
        // A name that does not resolve was never sent anywhere (ureq reports the lookup's
        // failure as a bare I/O error, which would read as "may have been sent").
        let addrs = self.lookup.resolve(uri, config, timeout).map_err(|error| match error {
            ureq::Error::Io(_) => ureq::Error::HostNotFound,
            other => other,
        })?;
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.push((key, addrs.clone(), now));
        Ok(addrs)
    }
}

/// Whether the TLS handshake refused the server (its certificate, or no common protocol):
/// that happens before the request is written.
#[cfg(not(feature = "native-tls"))]
fn refused_in_handshake(io: &std::io::Error) -> bool {
    io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()).is_some_and(|e| {
        matches!(
            e,
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::PeerIncompatible(_)
                | rustls::Error::UnsupportedNameType
        )
    })
}

/// With native TLS, ureq reports handshake failures as its own `Tls` error.
#[cfg(feature = "native-tls")]
fn refused_in_handshake(_: &std::io::Error) -> bool {
    false
}

/// How far the request on this thread got with its connection: ureq sends on the caller's
/// thread, and runs its connectors only for a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No connector ran (yet): a pooled connection, or nothing started.
    Pooled,
    /// A new connection is being made: nothing of the request has been written.
    Connecting,
    /// The new connection is ready (tunnel and TLS included): the request may leave.
    Ready,
}

thread_local! {
    static PHASE: std::cell::Cell<Phase> = const { std::cell::Cell::new(Phase::Pooled) };
    /// Connections being made, nested: a CONNECT proxy's own connection runs the whole chain
    /// again inside the target's.
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// First in the chain: a new connection starts.
#[derive(Debug)]
struct ConnectionStarts;

impl Connector<()> for ConnectionStarts {
    type Out = ();

    fn connect(&self, _: &ConnectionDetails, _: Option<()>) -> Result<Option<()>, ureq::Error> {
        PHASE.set(Phase::Connecting);
        DEPTH.set(DEPTH.get() + 1);
        Ok(None)
    }
}

/// Last in the chain: the connection is made (through any proxy's tunnel, past TLS).
#[derive(Debug)]
struct ConnectionReady;

impl Connector<Box<dyn UreqWire>> for ConnectionReady {
    type Out = Box<dyn UreqWire>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn UreqWire>>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if chained.is_some() {
            let depth = DEPTH.get().saturating_sub(1);
            DEPTH.set(depth);
            // Ready only when the outermost connection is: the proxy's own, inside, is not
            // the tunnel through it.
            if depth == 0 {
                PHASE.set(Phase::Ready);
            }
        }
        Ok(chained)
    }
}

/// Sorts a ureq error by whether the request may have left; `connecting` when it came while a
/// new connection was still being made, before any byte of the request could leave.
fn classify(error: ureq::Error, connecting: bool) -> TransportError {
    use ureq::Timeout;
    let (kind, delivery) = match &error {
        // A proxy that refuses the tunnel (502) never passed anything on.
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::ConnectProxyFailed(_) => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        ureq::Error::Timeout(_) => (TransportErrorKind::Timeout, Delivery::MaybeSent),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        // A write that failed on a closed pipe never handed the whole request over (a proxy
        // refusing the tunnel before reading the CONNECT, a server gone): every check is a
        // POST whose fields are all in its body, and no server processes half a body.
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            (TransportErrorKind::Timeout, Delivery::MaybeSent)
        }
        ureq::Error::Io(io) if refused_in_handshake(io) => (TransportErrorKind::Tls, Delivery::NotSent),
        ureq::Error::Io(_) => (TransportErrorKind::Io, Delivery::MaybeSent),
        ureq::Error::Tls(_) => (TransportErrorKind::Tls, Delivery::NotSent),
        // The platform's TLS fails the handshake (a certificate refused) before any request.
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(_) => (TransportErrorKind::Tls, Delivery::NotSent),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            (TransportErrorKind::Request, Delivery::NotSent)
        }
        ureq::Error::BodyExceedsLimit(_) => (TransportErrorKind::TooLarge, Delivery::MaybeSent),
        _ => (TransportErrorKind::Protocol, Delivery::MaybeSent),
    };
    let delivery = if connecting { Delivery::NotSent } else { delivery };
    // A bad URI's message repeats the URI: keep it out of the chain.
    if let ureq::Error::BadUri(_) = error {
        return TransportError::new(kind, delivery, "invalid URL");
    }
    TransportError::new(kind, delivery, error)
}
