//! The async backend: reqwest.

use std::sync::{Arc, Mutex};

use crate::environment_proxy::{EnvironmentProxies, Route};
use crate::{
    AsyncTransport, Delivery, HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, TransportConfig, TransportError,
    TransportErrorKind, USER_AGENT,
};

/// An [`AsyncTransport`] over reqwest (connection pooling, HTTP/1.1 keep-alive), following
/// the transport contract: no redirects, one deadline per attempt, a bounded answer.
///
/// A request whose host is reached directly (the environment names no proxy for it) is sent
/// by hyper-util's pooled client, the engine under reqwest, with the same TLS settings and
/// the same contract, without reqwest's layers (they cost about a fifth of the transport's
/// CPU a request on loopback); one through a proxy goes through reqwest. With
/// the `native-tls` feature, or a client of your own ([`from_client`](Self::from_client)),
/// every request goes through reqwest.
///
/// A pooled connection belongs to the runtime that opened it, so the transport keeps one
/// `reqwest::Client` per tokio runtime: a client shared by several runtimes (a `static`
/// client in `#[tokio::test]`s) never waits on a connection whose runtime is idle or gone.
#[derive(Clone)]
pub struct ReqwestTransport {
    make: Arc<MakeClient>,
    /// The clients made so far, by runtime; the most recently used last.
    clients: Arc<Mutex<Vec<RuntimeClient>>>,
    max_response_bytes: usize,
    /// The environment's proxies: a request whose proxy cannot be used is refused here.
    proxies: Arc<EnvironmentProxies>,
    /// The last few endpoints' URLs, parsed: reqwest wants a `Url`, and parsing the same
    /// endpoint's for every request cost ~3% of a loopback batch's CPU (docs/benchmarks.md).
    urls: Arc<Mutex<Vec<(http::Uri, Endpoint)>>>,
    /// The client made to check the settings, kept for the first runtime that sends: making
    /// one reads the platform's root certificates (~5 ms, half a one-off check's time).
    spare: Arc<Mutex<Option<reqwest::Client>>>,
    /// How requests reached directly are sent without reqwest's layers (`None` for a client
    /// of your own, whose settings are kept as they are).
    direct: Option<Arc<Direct>>,
}

/// The direct route's settings and its clients, one per runtime as reqwest's.
struct Direct {
    #[cfg(not(feature = "native-tls"))]
    make: Box<dyn Fn() -> crate::direct::DirectClient + Send + Sync>,
    #[cfg(not(feature = "native-tls"))]
    clients: Mutex<Vec<(tokio::runtime::Id, crate::direct::DirectClient)>>,
    deadline: std::time::Duration,
}

/// An endpoint's URL as reqwest reads it, and as an `http::Uri` for the direct route.
#[derive(Clone)]
struct Endpoint {
    url: reqwest::Url,
    uri: http::Uri,
}

/// The endpoints' URLs kept parsed: a client of every product and mode uses at most 11.
const URLS_KEPT: usize = 12;

/// Makes a client for one more runtime.
type MakeClient = dyn Fn() -> Result<reqwest::Client, TransportError> + Send + Sync;

/// The client of one runtime (`None`: used outside any runtime).
type RuntimeClient = (Option<tokio::runtime::Id>, reqwest::Client);

/// How many runtimes' clients are kept; the least recently used goes first.
const RUNTIMES_KEPT: usize = 8;

impl ReqwestTransport {
    /// A transport with the default settings.
    pub fn new() -> Result<Self, TransportError> {
        Self::with_config(&TransportConfig::default())
    }

    /// A transport with these settings.
    pub fn with_config(config: &TransportConfig) -> Result<Self, TransportError> {
        let limit = config.max_response_bytes;
        let proxies = Arc::new(if config.use_environment_proxy {
            EnvironmentProxies::from_env()
        } else {
            EnvironmentProxies::default()
        });
        // Read once: each reads the platform's root certificates.
        let tls = tls_config(config)?;
        let direct = Direct::new(config, &tls);
        let (config, for_clients) = (config.clone(), Arc::clone(&proxies));
        let make = move || build(&config, &for_clients, &tls);
        // Settings that cannot work fail here, not at the first check.
        let spare = Arc::new(Mutex::new(Some(make()?)));
        Ok(Self { proxies, spare, direct: Some(Arc::new(direct)), ..Self::from_maker(Arc::new(make), limit) })
    }

    /// Uses your own configured client (proxies, timeouts). Its settings are kept as they
    /// are, so give it `redirect::Policy::none()` and a timeout; the answer is still read to
    /// [`MAX_RESPONSE_BYTES`] at most. Its pool is shared by every runtime that uses it:
    /// use it from one runtime only.
    pub fn from_client(client: reqwest::Client) -> Self {
        Self::from_maker(Arc::new(move || Ok(client.clone())), MAX_RESPONSE_BYTES)
    }

    fn from_maker(make: Arc<MakeClient>, max_response_bytes: usize) -> Self {
        Self {
            make,
            clients: Arc::default(),
            max_response_bytes,
            proxies: Arc::default(),
            urls: Arc::default(),
            spare: Arc::default(),
            direct: None,
        }
    }

    /// `request` for reqwest, its URL parsed once per endpoint (what `Request::try_from`
    /// does, without parsing the same URL again).
    fn request(&self, request: HttpRequest) -> Result<reqwest::Request, TransportError> {
        let (parts, body) = request.into_parts();
        let mut converted = reqwest::Request::new(parts.method, self.url(&parts.uri)?);
        *converted.headers_mut() = parts.headers;
        *converted.version_mut() = parts.version;
        *converted.body_mut() = Some(body.into());
        Ok(converted)
    }

    fn url(&self, uri: &http::Uri) -> Result<reqwest::Url, TransportError> {
        Ok(self.endpoint(uri)?.url)
    }

    /// The endpoint `uri` names, parsed once by the URL standard as reqwest reads it: hosts
    /// spelled `127.0.0.1.`, `127.1` or in Unicode are the addresses and names reqwest would
    /// reach, on either route.
    fn endpoint(&self, uri: &http::Uri) -> Result<Endpoint, TransportError> {
        let mut urls = self.urls.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, endpoint)) = urls.iter().find(|(known, _)| known == uri) {
            return Ok(endpoint.clone());
        }
        let bad = |e: &dyn std::fmt::Display| {
            TransportError::new(
                TransportErrorKind::Request,
                Delivery::NotSent,
                format!("the endpoint's URL: {e}"),
            )
        };
        let url = reqwest::Url::parse(&uri.to_string()).map_err(|e| bad(&e))?;
        let normalised = url.as_str().parse::<http::Uri>().map_err(|e| bad(&e))?;
        let endpoint = Endpoint { url, uri: normalised };
        if urls.len() == URLS_KEPT {
            urls.remove(0);
        }
        urls.push((uri.clone(), endpoint.clone()));
        Ok(endpoint)
    }

    /// `request` to the endpoint as reqwest would reach it.
    fn normalised(&self, request: HttpRequest) -> Result<HttpRequest, TransportError> {
        let (mut parts, body) = request.into_parts();
        parts.uri = self.endpoint(&parts.uri)?.uri;
        Ok(HttpRequest::from_parts(parts, body))
    }

    /// The client of the current runtime, made on its first use there.
    fn client(&self) -> Result<reqwest::Client, TransportError> {
        let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = clients.iter().position(|(id, _)| *id == runtime) {
            let entry = clients.remove(at);
            let client = entry.1.clone();
            clients.push(entry);
            return Ok(client);
        }
        let spare = self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let client = match spare {
            Some(client) => client,
            None => (self.make)()?,
        };
        if clients.len() == RUNTIMES_KEPT {
            clients.remove(0);
        }
        clients.push((runtime, client.clone()));
        Ok(client)
    }
}

impl std::fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestTransport").field("max_response_bytes", &self.max_response_bytes).finish()
    }
}

/// A client following the transport contract.
fn build(
    config: &TransportConfig,
    proxies: &Arc<EnvironmentProxies>,
    tls: &Tls,
) -> Result<reqwest::Client, TransportError> {
    // reqwest's own reading of the environment is replaced by the rule both backends share.
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .no_proxy();
    // With no proxy named, no rule at all: reqwest would format and parse each request's URL
    // to ask it (~2% of a loopback batch's CPU).
    if !proxies.is_empty() {
        let proxies = Arc::clone(proxies);
        builder = builder.proxy(reqwest::Proxy::custom(move |url| {
            let uri = url.as_str().parse::<http::Uri>().ok()?;
            match proxies.route(&uri) {
                Ok(Route::Proxy(proxy)) => Some(proxy.to_owned()),
                Ok(Route::Direct) | Err(_) => None,
            }
        }));
    }
    with_tls(builder, tls)?
        .build()
        .map_err(|e| TransportError::new(TransportErrorKind::Tls, Delivery::NotSent, e.without_url()))
}

/// The TLS settings every client of a transport shares.
#[cfg(feature = "native-tls")]
type Tls = Vec<Vec<u8>>;
#[cfg(not(feature = "native-tls"))]
type Tls = rustls::ClientConfig;

/// The platform's TLS: its roots and the extra ones, read when a client is made.
#[cfg(feature = "native-tls")]
fn tls_config(config: &TransportConfig) -> Result<Tls, TransportError> {
    Ok(config.extra_root_certificates.clone())
}

#[cfg(feature = "native-tls")]
fn with_tls(builder: reqwest::ClientBuilder, extra: &Tls) -> Result<reqwest::ClientBuilder, TransportError> {
    let mut builder = builder.tls_backend_native();
    for der in extra {
        let certificate = reqwest::Certificate::from_der(der)
            .map_err(|e| TransportError::new(TransportErrorKind::Tls, Delivery::NotSent, e.without_url()))?;
        builder = builder.add_root_certificate(certificate);
    }
    Ok(builder)
}

/// rustls with this build's provider, the platform's roots and the extra ones.
#[cfg(not(feature = "native-tls"))]
fn tls_config(config: &TransportConfig) -> Result<Tls, TransportError> {
    let tls_error = |e: rustls::Error| TransportError::new(TransportErrorKind::Tls, Delivery::NotSent, e);
    let provider = crate::rustls_provider::provider()?;
    let extra =
        config.extra_root_certificates.iter().map(|der| rustls_pki_types::CertificateDer::from(der.clone()));
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, Arc::clone(&provider))
        .map_err(tls_error)?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

#[cfg(not(feature = "native-tls"))]
fn with_tls(builder: reqwest::ClientBuilder, tls: &Tls) -> Result<reqwest::ClientBuilder, TransportError> {
    Ok(builder.tls_backend_preconfigured(tls.clone()))
}

impl Direct {
    #[cfg(not(feature = "native-tls"))]
    fn new(config: &TransportConfig, tls: &Tls) -> Self {
        let (config, tls) = (config.clone(), tls.clone());
        let deadline = config.timeout;
        let make = Box::new(move || crate::direct::client(&config, tls.clone()));
        Self { make, clients: Mutex::default(), deadline }
    }

    /// With native-tls, every request goes through reqwest.
    #[cfg(feature = "native-tls")]
    fn new(config: &TransportConfig, _: &Tls) -> Self {
        Self { deadline: config.timeout }
    }

    /// Sends `request` on the current runtime's direct client; gives it back where there is
    /// none (no runtime, or native-tls).
    #[cfg(not(feature = "native-tls"))]
    async fn send(
        &self,
        request: HttpRequest,
        limit: usize,
    ) -> Result<Result<HttpResponse, TransportError>, HttpRequest> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return Err(request) };
        let client = {
            let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match clients.iter().position(|(id, _)| *id == runtime.id()) {
                Some(at) => clients[at].1.clone(),
                None => {
                    if clients.len() == RUNTIMES_KEPT {
                        clients.remove(0);
                    }
                    let client = (self.make)();
                    clients.push((runtime.id(), client.clone()));
                    client
                }
            }
        };
        Ok(crate::direct::send(&client, request, self.deadline, limit).await)
    }

    #[cfg(feature = "native-tls")]
    async fn send(
        &self,
        request: HttpRequest,
        _: usize,
    ) -> Result<Result<HttpResponse, TransportError>, HttpRequest> {
        let _ = self.deadline;
        Err(request)
    }
}

#[async_trait::async_trait]
impl AsyncTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // A proxy of a kind reqwest cannot use would be gone around: refuse, nothing sent.
        let direct = matches!(self.proxies.route(request.uri())?, Route::Direct);
        let request = match &self.direct {
            Some(route) if direct => {
                match route.send(self.normalised(request)?, self.max_response_bytes).await {
                    Ok(answer) => return answer,
                    Err(request) => request,
                }
            }
            _ => request,
        };
        let client = self.client()?;
        let request = self.request(request)?;
        let mut response = client.execute(request).await.map_err(classify)?;
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let mut answer = http::Response::builder().status(response.status()).version(response.version());
        if let Some(headers) = answer.headers_mut() {
            headers.extend(response.headers().iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        // Read as it streams, whatever the framing: a chunked or close-delimited answer
        // stops being read at the limit.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body)
            .map_err(|e| TransportError::new(TransportErrorKind::Protocol, Delivery::MaybeSent, e))
    }
}

pub(crate) fn too_large(limit: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::TooLarge,
        Delivery::MaybeSent,
        format!("the answer is larger than {limit} bytes"),
    )
}

/// Sorts a reqwest error by whether the request may have left.
fn classify(error: reqwest::Error) -> TransportError {
    let refused_before_sending = error.is_connect() || is_connection_refused(&error);
    let (kind, delivery) = if refused_before_sending && is_tls(&error) {
        (TransportErrorKind::Tls, Delivery::NotSent)
    } else if refused_before_sending {
        // A connect timeout is also "not sent": nothing reached Juhe.
        (TransportErrorKind::Connect, Delivery::NotSent)
    } else if error.is_timeout() {
        (TransportErrorKind::Timeout, Delivery::MaybeSent)
    } else if error.is_builder() {
        (TransportErrorKind::Request, Delivery::NotSent)
    } else if error.is_decode() || is_not_http(&error) {
        (TransportErrorKind::Protocol, Delivery::MaybeSent)
    } else {
        (TransportErrorKind::Io, Delivery::MaybeSent)
    };
    TransportError::new(kind, delivery, error.without_url())
}

fn is_connection_refused(error: &reqwest::Error) -> bool {
    causes(error).any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    })
}

/// Whether connecting failed in the TLS handshake (a certificate refused, say).
#[cfg(not(feature = "native-tls"))]
fn is_tls(error: &reqwest::Error) -> bool {
    is_rustls(error)
}

/// Whether rustls is among `error`'s causes.
#[cfg(not(feature = "native-tls"))]
pub(crate) fn is_rustls(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|c| c.is::<rustls::Error>())
}

/// native-tls reports through OpenSSL's messages; its error types are not ours to name.
#[cfg(feature = "native-tls")]
fn is_tls(error: &reqwest::Error) -> bool {
    causes(error).any(|c| {
        let text = c.to_string();
        text.contains("certificate") || text.contains("handshake")
    })
}

/// Whether hyper could not parse the answer as HTTP.
fn is_not_http(error: &reqwest::Error) -> bool {
    is_hyper_parse(error)
}

/// Whether hyper's failure to parse an answer is among `error`'s causes.
pub(crate) fn is_hyper_parse(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error)
        .any(|c| c.downcast_ref::<hyper::Error>().is_some_and(|h| h.is_parse() || h.is_parse_status()))
}

/// Every cause of `error`, with the errors an `io::Error` wraps (its `source()` skips them).
fn causes<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    let mut pending: Vec<&'e (dyn std::error::Error + 'static)> = error.source().into_iter().collect();
    std::iter::from_fn(move || {
        let cause = pending.pop()?;
        pending.extend(cause.source());
        if let Some(inner) = cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            pending.push(inner);
        }
        Some(cause)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_made_to_check_the_settings_serves_the_first_runtime_only() {
        let transport = ReqwestTransport::new().expect("a transport");
        let spare = || transport.spare.lock().expect("not poisoned").is_some();
        assert!(spare(), "kept from the settings' check");
        let runtime = || tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        runtime().block_on(async { transport.client().expect("a client") });
        assert!(!spare(), "the first runtime took it instead of making another");
        runtime().block_on(async { transport.client().expect("a client") });
        assert_eq!(transport.clients.lock().expect("not poisoned").len(), 2, "one client per runtime");
    }

    /// A host reached directly is sent to by the direct route's client; reqwest's is not made.
    #[cfg(not(feature = "native-tls"))]
    #[test]
    fn a_host_reached_directly_goes_by_the_direct_route() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/telecom3/query", listener.local_addr().expect("an address"));
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().expect("a connection");
            let mut head = [0; 4096];
            let read = socket.read(&mut head).expect("the request");
            let asked = String::from_utf8_lossy(&head[..read]).to_lowercase();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                .expect("sent");
            asked
        });
        let transport = ReqwestTransport::new().expect("a transport");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let request = http::Request::post(url).body(b"a=1".to_vec()).expect("a request");
        let answer = runtime.block_on(transport.send(request)).expect("an answer");
        assert_eq!(answer.body(), b"{}");
        let asked = server.join().expect("the server");
        assert!(asked.contains(&format!("user-agent: {}", USER_AGENT.to_lowercase())), "{asked}");
        let direct = transport.direct.as_ref().expect("a direct route");
        assert_eq!(direct.clients.lock().expect("not poisoned").len(), 1, "sent by the direct route");
        assert!(transport.clients.lock().expect("not poisoned").is_empty(), "reqwest's client was made");
    }
}
