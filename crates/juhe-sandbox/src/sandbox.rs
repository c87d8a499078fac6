//! Starting and stopping a sandbox.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use juhe_crypto::{RsaPadding, RsaPrivateKey};
use tokio::sync::watch;

use crate::carriers::carrier_of;
use crate::face_png::face_png;
use crate::faults::{Fault, FaultPlan};
use crate::identity::{Identity, Registry, load_identities, seed_of};
use crate::juhe_api::{Answer, JuheApi, RequestHook, TestAccount};
use crate::ledger::{LedgerSnapshot, RequestRecord};
use crate::network::{Latency, Network, RateCap};
use crate::population::builtin_population;
use crate::{SandboxError, magic, tls};
use juhe_server::Limits;

/// The sandbox's default API key. Public: a test credential, like a payment provider's.
pub const SANDBOX_KEY: &str = "sandbox-key-0123456789abcdef0123";
/// The sandbox's default openid. Public.
pub const SANDBOX_OPENID: &str = "JHsandbox-openid-0123456789abcde";
/// The private half of the sandbox's shipped RSA key pair. **PUBLIC AND INSECURE**: anyone
/// can decrypt what is encrypted to it. For tests only.
pub const SANDBOX_RSA_PRIVATE_KEY_PEM: &str = include_str!("../keys/sandbox_rsa_private.pem");
/// The public half of the shipped key pair, as the sandbox's "account page" shows it.
pub const SANDBOX_RSA_PUBLIC_KEY_PEM: &str = include_str!("../keys/sandbox_rsa_public.pem");

/// How a sandbox is set up. Every setting has a documented default: `Sandbox::start()` is
/// `Sandbox::builder().start()`.
pub struct SandboxBuilder {
    addr: String,
    key: String,
    openid: String,
    rsa: RsaSource,
    builtin_population: bool,
    identities: Vec<Identity>,
    identity_files: Vec<PathBuf>,
    faults: Vec<Fault>,
    idcard_key_padding: RsaPadding,
    on_request: Option<RequestHook>,
    worker_threads: usize,
    limits: Limits,
    expose: bool,
    /// The key admin routes need when exposed; random when not given.
    admin_key: Option<String>,
    /// Each answer's added delay, drawn uniformly from this range.
    latency: Option<std::ops::RangeInclusive<Duration>>,
    /// Requests per key and second (10012 beyond), and per client address (10011).
    qps: Option<u32>,
    ip_qps: Option<u32>,
    /// The latency generator's seed; random when not given.
    seed: Option<u64>,
    /// The names of the server certificate, when serving HTTPS.
    tls: Option<Vec<String>>,
}

enum RsaSource {
    Shipped,
    Fresh,
    Pem(String),
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:0".into(),
            key: SANDBOX_KEY.into(),
            openid: SANDBOX_OPENID.into(),
            rsa: RsaSource::Shipped,
            builtin_population: true,
            identities: Vec::new(),
            identity_files: Vec::new(),
            faults: Vec::new(),
            idcard_key_padding: RsaPadding::Pkcs1v15,
            on_request: None,
            worker_threads: 2,
            limits: Limits::default(),
            expose: false,
            admin_key: None,
            latency: None,
            qps: None,
            ip_qps: None,
            seed: None,
            tls: None,
        }
    }
}

impl SandboxBuilder {
    /// Where to listen; `127.0.0.1:0` (a free port) by default.
    pub fn addr(mut self, addr: impl Into<String>) -> Self {
        self.addr = addr.into();
        self
    }

    /// Other credentials than [`SANDBOX_KEY`] and [`SANDBOX_OPENID`].
    pub fn credentials(mut self, key: impl Into<String>, openid: impl Into<String>) -> Self {
        self.key = key.into();
        self.openid = openid.into();
        self
    }

    /// A fresh RSA-2048 key pair made at start (slower to start, but not the published key).
    pub fn fresh_rsa_key(mut self) -> Self {
        self.rsa = RsaSource::Fresh;
        self
    }

    /// A given RSA private key (PKCS#8 or PKCS#1 PEM).
    pub fn rsa_private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.rsa = RsaSource::Pem(pem.into());
        self
    }

    /// Adds identities.
    pub fn identities(mut self, identities: impl IntoIterator<Item = Identity>) -> Self {
        self.identities.extend(identities);
        self
    }

    /// Adds the identities of a `.json` or `.csv` file (see [`load_identities`](crate::load_identities)).
    pub fn identities_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.identity_files.push(path.into());
        self
    }

    /// Leaves out the built-in population of 1,200 people.
    pub fn without_builtin_population(mut self) -> Self {
        self.builtin_population = false;
        self
    }

    /// Injects a fault (see [`Fault`]).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// The RSA padding expected for `aesKey` of `idcard/queryEncryV2`: PKCS#1 v1.5 by default,
    /// like the SDK.
    pub fn idcard_key_padding(mut self, padding: RsaPadding) -> Self {
        self.idcard_key_padding = padding;
        self
    }

    /// Calls `hook` after each API request with a masked record of it (for logging).
    pub fn on_request(mut self, hook: impl Fn(&RequestRecord) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Box::new(hook));
        self
    }

    /// Serves HTTPS, with a certificate authority and a server certificate (for `localhost`
    /// and `127.0.0.1`) made at start. [`Sandbox::ca_certificate_pem`] is the certificate a
    /// client must trust; [`Sandbox::account`] carries it. The CA is name-constrained to the
    /// server's names (it can vouch for no other host, even if its key leaked from a test
    /// machine), signs no other CA, and both certificates expire 7 days after start.
    pub fn tls(mut self) -> Self {
        self.tls = Some(tls::DEFAULT_NAMES.iter().map(|n| (*n).to_owned()).collect());
        self
    }

    /// Serves HTTPS with a server certificate for these names (host names or IP addresses)
    /// instead of `localhost` and `127.0.0.1`.
    pub fn tls_names(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.tls = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Lets the sandbox listen on an address other machines can reach. Without it, a
    /// non-loopback address is refused: the sandbox serves its identities (and those of
    /// [`identities_file`](Self::identities_file), maybe real people) to whoever asks. With
    /// it, every admin route needs the sandbox's key (`?key=` or the `X-Juhe-Sandbox-Key`
    /// header).
    ///
    /// The admin key is not the API key (which our docs publish): it is random unless given
    /// with [`admin_key`](Self::admin_key), and [`Sandbox::admin_key`] tells it.
    pub fn expose(mut self) -> Self {
        self.expose = true;
        self
    }

    /// Delays every API answer by a time drawn uniformly from `range`, after the request was
    /// processed (and billed), as a network to Juhe does: a client that gives up meanwhile
    /// has still paid. Added to a latency fault's delay. Reproducible with [`seed`](Self::seed).
    pub fn latency(mut self, range: std::ops::RangeInclusive<Duration>) -> Self {
        self.latency = Some(range);
        self
    }

    /// At most `per_second` requests of the key processed in any one-second window; the
    /// others are answered 10012 (请求超过次数限制), not processed and not billed, as at Juhe.
    pub fn qps(mut self, per_second: u32) -> Self {
        self.qps = Some(per_second);
        self
    }

    /// The same per client address, answered 10011. An offline sandbox has no addresses.
    pub fn ip_qps(mut self, per_second: u32) -> Self {
        self.ip_qps = Some(per_second);
        self
    }

    /// The seed of the latency's draws: the same seed, the same sequence of delays.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The key an [`expose`](Self::expose)d sandbox's admin routes need, instead of a random
    /// one. Choose one as hard to guess as a password: the routes serve every identity.
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.admin_key = Some(key.into());
        self
    }

    /// How long a client may take to send a request head, and may stay idle between
    /// requests, before its connection is closed; 10 s by default.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long a client may take to send a request body, once its head is in; 10 s by
    /// default. A body late past it is answered 408 and its connection closed, so bodies
    /// sent a byte at a time cannot hold every connection slot.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.body_read_timeout = timeout;
        self
    }

    /// Connections open at once (512 by default); more wait until one closes.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.limits.max_connections = connections.max(1);
        self
    }

    /// Bytes of request bodies the server holds at once, all requests together (64 MiB by
    /// default), counted as they arrive (a `Content-Length` alone takes none); a request whose
    /// bytes would go past it is answered 503. One request's body is at most 16 MiB (413
    /// beyond, refused by its `Content-Length` before it is read).
    pub fn max_bodies_in_flight(mut self, bytes: usize) -> Self {
        self.limits.max_bodies_in_flight = bytes;
        self
    }

    /// Server threads; 2 by default.
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = threads.max(1);
        self
    }

    /// Starts the server on its own thread and runtime, so it works the same from a plain test,
    /// a `#[tokio::test]` or a `main`. Returns once it is listening.
    pub fn start(self) -> Result<Sandbox, SandboxError> {
        let listener = std::net::TcpListener::bind(&self.addr)
            .map_err(|source| SandboxError::Bind { addr: self.addr.clone(), source })?;
        let addr = listener.local_addr().map_err(SandboxError::Start)?;
        if !addr.ip().is_loopback() && !self.expose {
            return Err(SandboxError::NotLoopback { addr: self.addr.clone() });
        }
        listener.set_nonblocking(true).map_err(SandboxError::Start)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads)
            .thread_name("juhe-sandbox")
            .enable_io()
            .enable_time()
            .build()
            .map_err(SandboxError::Start)?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(SandboxError::Start)?
        };
        let tls = self.tls.as_deref().map(tls::identity).transpose()?;
        let (ca_pem, acceptor) = tls.map(|t| (t.ca_pem, t.acceptor)).unzip();
        let limits = self.limits.clone();
        let (api, public_key_pem) = self.into_api()?;
        let api = Arc::new(api);
        let (shutdown, receiver) = watch::channel(false);
        let handle = runtime.handle().clone();
        let server_api = Arc::clone(&api);
        let thread = std::thread::Builder::new()
            .name("juhe-sandbox".into())
            .spawn(move || {
                runtime.block_on(juhe_server::serve(listener, server_api, limits, acceptor, receiver));
                // Delayed answers may still be sleeping: do not wait for them.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(SandboxError::Start)?;
        let scheme = if ca_pem.is_some() { "https" } else { "http" };
        Ok(Sandbox {
            api,
            base_url: format!("{scheme}://{addr}"),
            ca_pem,
            addr,
            public_key_pem,
            shutdown,
            thread: Some(thread),
            handle,
        })
    }

    /// The sandbox's answers without a server or a thread: what a running sandbox would
    /// answer to a request, computed by the caller. For fuzzing the sandbox's reading of
    /// requests, and for a test double of your own HTTP client.
    pub fn build_offline(self) -> Result<OfflineSandbox, SandboxError> {
        Ok(OfflineSandbox { api: self.into_api()?.0 })
    }

    /// The state of the fake Juhe, and its RSA public key as PEM.
    fn into_api(self) -> Result<(JuheApi, String), SandboxError> {
        let private_key = match &self.rsa {
            RsaSource::Shipped => RsaPrivateKey::from_pem(SANDBOX_RSA_PRIVATE_KEY_PEM)?,
            RsaSource::Pem(pem) => RsaPrivateKey::from_pem(pem)?,
            RsaSource::Fresh => RsaPrivateKey::generate(2048)?,
        };
        let public_key_pem = private_key.public_key().to_pem()?;
        let registry = self.registry()?;
        let account = TestAccount {
            key: self.key,
            openid: self.openid,
            private_key,
            idcard_key_padding: self.idcard_key_padding,
        };
        let admin_key = self.expose.then(|| self.admin_key.clone().unwrap_or_else(random_admin_key));
        let seed = self.seed.unwrap_or_else(|| rand_core::RngCore::next_u64(&mut rand_core::OsRng));
        let network = Network {
            latency: self.latency.map(|range| Latency::new(range, seed)),
            key_cap: self.qps.map(RateCap::new),
            ip_cap: self.ip_qps.map(RateCap::new),
        };
        let api =
            JuheApi::new(account, registry, FaultPlan::new(self.faults), self.on_request, admin_key, network);
        Ok((api, public_key_pem))
    }

    fn registry(&self) -> Result<Registry, SandboxError> {
        let mut registry = Registry::default();
        if self.builtin_population {
            registry.add(builtin_population(), "built-in")?;
        }
        registry.add(self.identities.iter().cloned(), "given")?;
        for path in &self.identity_files {
            registry.add(load_identities(path)?, &path.display().to_string())?;
        }
        registry.add_hidden(magic::ALL.iter().map(|m| Identity {
            name: m.name.into(),
            idcard: m.idcard.into(),
            mobile: m.mobile.into(),
            carrier: carrier_of(m.mobile).unwrap_or("移动").into(),
            province: "北京市".into(),
            city: "北京市".into(),
            face_image: face_png(seed_of(m.idcard)),
        }))?;
        Ok(registry)
    }
}

/// 128 random bits, as hex.
fn random_admin_key() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A sandbox without a server: [`OfflineSandbox::answer`] gives, for a request, the answer a
/// running sandbox would send.
pub struct OfflineSandbox {
    api: JuheApi,
}

impl OfflineSandbox {
    /// The answer to `request`; `None` when a fault would close the connection instead.
    /// Latency faults are not waited out; a truncated answer comes back cut in half.
    pub fn answer(&self, request: &http::Request<Vec<u8>>) -> Option<http::Response<Vec<u8>>> {
        let mut answer = self.api.answer(request);
        loop {
            let (status, content_type, body) = match answer {
                Answer::Delayed { answer: next, .. } => {
                    answer = *next;
                    continue;
                }
                Answer::Close => return None,
                Answer::Body { status, content_type, body } => (status, content_type, body),
                // The sandbox gives no headed answers; a gateway's would keep its headers.
                Answer::Headed { status, body, .. } => (status, "application/json;charset=utf-8", body),
                Answer::Truncated { body } => {
                    (200, "application/json;charset=utf-8", body[..body.len() / 2].to_vec())
                }
            };
            return http::Response::builder()
                .status(status)
                .header(http::header::CONTENT_TYPE, content_type)
                .body(body)
                .ok();
        }
    }

    /// Requests and billed answers so far.
    pub fn ledger(&self) -> LedgerSnapshot {
        self.api.ledger.snapshot()
    }
}

/// A running sandbox. Stops when dropped.
pub struct Sandbox {
    api: Arc<JuheApi>,
    base_url: String,
    ca_pem: Option<String>,
    addr: std::net::SocketAddr,
    public_key_pem: String,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    handle: tokio::runtime::Handle,
}

impl Sandbox {
    /// Starts a sandbox with every default: a free port on 127.0.0.1, the published test
    /// credentials and key pair, the built-in population, no faults.
    pub fn start() -> Result<Sandbox, SandboxError> {
        SandboxBuilder::default().start()
    }

    /// A builder for other settings.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`SandboxBuilder::tls`]): the base URL that
    /// replaces both Juhe hosts.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The API key it accepts.
    pub fn key(&self) -> &str {
        &self.api.key
    }

    /// The key its admin routes need (`?key=` or the `X-Juhe-Sandbox-Key` header) when it is
    /// exposed; `None` on loopback, where they are open.
    pub fn admin_key(&self) -> Option<&str> {
        self.api.admin_key.as_deref()
    }

    /// The openid its AES keys derive from.
    pub fn openid(&self) -> &str {
        &self.api.openid
    }

    /// Its RSA public key, SPKI PEM.
    pub fn rsa_public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// The certificate of the CA that signed its server certificate, PEM, when it serves
    /// HTTPS: what a client must trust.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Its base URL, test credentials and (over HTTPS) CA certificate as one value, for
    /// `ClientBuilder::account` in juhe-verify.
    pub fn account(&self) -> juhe_proto::Account {
        let account =
            juhe_proto::Account::new(self.base_url(), self.key(), self.openid(), self.rsa_public_key_pem());
        match &self.ca_pem {
            Some(pem) => account.with_ca_certificate_pem(pem),
            None => account,
        }
    }

    /// The people it knows (not the magic identities).
    pub fn identities(&self) -> &[Identity] {
        self.api.registry.public()
    }

    /// Requests and billed answers so far, in all and per endpoint.
    pub fn ledger(&self) -> LedgerSnapshot {
        self.api.ledger.snapshot()
    }

    /// The most recent requests (up to 10,000), masked.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.api.ledger.recent()
    }

    /// Replaces the injected faults while it runs.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.api.faults.replace(faults);
    }

    /// Blocks until Ctrl-C (SIGINT), then stops.
    pub fn run_until_ctrl_c(self) -> std::io::Result<()> {
        let result = self.handle.block_on(tokio::signal::ctrl_c());
        drop(self);
        result
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("identities", &self.identities().len())
            .finish_non_exhaustive()
    }
}
