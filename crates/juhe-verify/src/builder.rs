//! Configuring a client: credentials, where to send, mode, timeouts, retries, transport.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use juhe_proto::{Account, BaseUrls, Credentials, Mode, Protocol, RsaPadding, RsaPublicKey};
use juhe_transport::{AsyncTransport, Transport, TransportConfig};
use zeroize::Zeroizing;

use crate::attempts::Core;
use crate::{Client, ConfigError, Error, RetryPolicy, blocking};

/// Builds a [`Client`] or a [`blocking::Client`] from the same settings.
///
/// ```
/// use std::time::Duration;
/// use juhe_verify::{Client, Mode, RetryPolicy};
///
/// let builder = Client::builder()
///     .key("your-api-key")
///     .openid("your-openid")
///     .mode(Mode::Aes)
///     .timeouts(Duration::from_secs(3), Duration::from_secs(20))
///     .retry_policy(RetryPolicy::default().max_attempts(2));
/// let client = builder.build_blocking()?;
/// # Ok::<(), juhe_verify::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    // Zeroized on drop, like the `Credentials` built from them.
    key: Option<Zeroizing<String>>,
    openid: Option<Zeroizing<String>>,
    rsa_public_key: Option<String>,
    base_url: Option<String>,
    base_urls: Option<(String, String)>,
    mode: Mode,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    /// The one opt-in to pay twice: applied to the retry policy and the ledger when built.
    resend_maybe_billed: bool,
    idcard_key_padding: Option<RsaPadding>,
    async_transport: Option<Arc<dyn AsyncTransport>>,
    transport: Option<Arc<dyn Transport>>,
    /// Extra trust roots, PEM.
    root_certificates: Vec<String>,
    /// A variable of `from_env` that could not be read: reported by `build`.
    env_error: Option<(&'static str, &'static str)>,
    #[cfg(feature = "ledger")]
    ledger: LedgerSettings,
}

/// The shortest timeout a client takes (100 ms), for a whole attempt and for connecting. A
/// deadline shorter than a round trip cannot see an answer, yet its request still leaves and
/// may be billed: `build` refuses it, and nothing is sent.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(100);

/// What [`ClientBuilder::ledger`] and its companions set.
#[cfg(feature = "ledger")]
#[derive(Clone, Default)]
struct LedgerSettings {
    ledger: Option<juhe_ledger::Ledger>,
    secret: Option<Zeroizing<String>>,
    /// The secret `secret` replaces, kept while entries hashed under it must still be found.
    previous_secret: Option<Zeroizing<String>>,
    policy: juhe_ledger::Policy,
    target: Option<String>,
    /// How long a single check waits for its start in the key's pace; `None`: the default.
    live_start_within: Option<Duration>,
    /// Why its checks are made, recorded with each.
    purpose: Option<juhe_ledger::Purpose>,
}

/// How long a single check with a ledger waits at most for its start in the key's pace (see
/// [`ClientBuilder::live_start_within`]).
#[cfg(feature = "ledger")]
pub const LIVE_START_WITHIN: Duration = Duration::from_secs(2);

impl ClientBuilder {
    /// Empty settings: plain mode, Juhe's hosts over HTTPS, default timeouts and retries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Settings from the environment. Unset or empty variables are left out; later calls
    /// override them; a value that cannot be read is reported by `build`, naming the variable.
    ///
    /// | variable | setting | value |
    /// |---|---|---|
    /// | `JUHE_KEY` | [`key`](Self::key) | the API key |
    /// | `JUHE_OPENID` | [`openid`](Self::openid) | the account's openid |
    /// | `JUHE_RSA_PUBLIC_KEY` | [`rsa_public_key`](Self::rsa_public_key) | the key itself, or a path to a file holding it |
    /// | `JUHE_BASE_URL` | [`base_url`](Self::base_url) | one URL replacing both of Juhe's hosts |
    /// | `JUHE_MODE` | [`mode`](Self::mode) | `plain`, `signed`, `aes` or `rsa`, in any case |
    /// | `JUHE_TIMEOUT` | [`timeout`](Self::timeout) | seconds, at least 0.1 and at most 3600 |
    /// | `JUHE_LEDGER_SECRET` | `ledger_secret` (feature `ledger`) | the ledger's secret |
    /// | `JUHE_LEDGER_SECRET_PREVIOUS` | `previous_ledger_secret` (feature `ledger`) | the secret it replaces |
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
        let mut builder = Self {
            key: var("JUHE_KEY").map(Zeroizing::new),
            openid: var("JUHE_OPENID").map(Zeroizing::new),
            rsa_public_key: var("JUHE_RSA_PUBLIC_KEY"),
            base_url: var("JUHE_BASE_URL"),
            ..Self::default()
        };
        #[cfg(feature = "ledger")]
        {
            builder.ledger.secret = var("JUHE_LEDGER_SECRET").map(Zeroizing::new);
            builder.ledger.previous_secret = var("JUHE_LEDGER_SECRET_PREVIOUS").map(Zeroizing::new);
        }
        if let Some(mode) = var("JUHE_MODE") {
            match Mode::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(mode.trim())) {
                Some(mode) => builder.mode = mode,
                None => builder.env_error = Some(("JUHE_MODE", "plain, signed, aes or rsa")),
            }
        }
        if let Some(secs) = var("JUHE_TIMEOUT") {
            match secs.trim().parse::<f64>().ok().filter(|s| *s >= MIN_TIMEOUT.as_secs_f64() && *s <= 3600.0)
            {
                Some(secs) => builder.timeout = Some(Duration::from_secs_f64(secs)),
                None => builder.env_error = Some(("JUHE_TIMEOUT", "seconds, at least 0.1 and at most 3600")),
            }
        }
        builder
    }

    /// The API key (个人中心 → 我的数据).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(Zeroizing::new(key.into()));
        self
    }

    /// The account's openid (needed by the signed and AES modes, and idcard's RSA mode).
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(Zeroizing::new(openid.into()));
        self
    }

    /// The account's RSA public key (needed by the RSA modes): PEM (SPKI or PKCS#1), bare
    /// base64 of either, or a path to a file holding one.
    pub fn rsa_public_key(mut self, key_or_path: impl Into<String>) -> Self {
        self.rsa_public_key = Some(key_or_path.into());
        self
    }

    /// The base URL and every credential of `account` (a sandbox's test account, say), and
    /// the CA certificate it is served with, if any.
    pub fn account(self, account: &Account) -> Self {
        let builder = self
            .key(account.key())
            .openid(account.openid())
            .rsa_public_key(account.rsa_public_key_pem())
            .base_url(account.base_url());
        match account.ca_certificate_pem() {
            Some(pem) => builder.add_root_certificate(pem),
            None => builder,
        }
    }

    /// Also trusts the certificate (or certificates) of `pem` as a root, beside the
    /// platform's: a test sandbox's CA, a corporate proxy's. For the default transports.
    pub fn add_root_certificate(mut self, pem: impl Into<String>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// One base URL replacing both Juhe hosts (a sandbox, a proxy).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Separate base URLs for `apis.juhe.cn` and `op.juhe.cn`.
    pub fn base_urls(mut self, apis: impl Into<String>, op: impl Into<String>) -> Self {
        self.base_urls = Some((apis.into(), op.into()));
        self
    }

    /// The default mode of every check (each call can name another).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The deadline of each attempt of the default transports: connecting, sending and the
    /// whole answer (30 s by default). A transport of your own keeps its own deadlines: with
    /// one, `build` refuses a timeout rather than ignore it.
    pub fn timeout(mut self, total: Duration) -> Self {
        self.timeout = Some(total);
        self
    }

    /// Like [`timeout`](Self::timeout), and a shorter limit for connecting (DNS, TCP, TLS;
    /// 5 s by default), which fails before anything is sent.
    pub fn timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect_timeout = Some(connect);
        self.timeout = Some(total);
        self
    }

    /// The retry policy; see [`RetryPolicy`] for the default.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The RSA padding of `aesKey` in `idcard/queryEncryV2` (PKCS#1 v1.5 by default).
    pub fn idcard_key_padding(mut self, padding: RsaPadding) -> Self {
        self.idcard_key_padding = Some(padding);
        self
    }

    /// Records every check in `ledger` before it is sent and settles it after (feature
    /// `ledger`). With a ledger, checks can also reuse earlier answers
    /// ([`reuse_within`](Self::reuse_within)) and share budgets
    /// ([`max_billed_per_day`](Self::max_billed_per_day)) with every process on it. A ledger
    /// that cannot record a check stops it: [`Error::Ledger`], nothing sent.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn ledger(mut self, ledger: juhe_ledger::Ledger) -> Self {
        self.ledger.ledger = Some(ledger);
        self
    }

    /// The secret the ledger's subjects are hashed under, instead of one derived from the API
    /// key (`JUHE_LEDGER_SECRET` in [`from_env`](Self::from_env)); at least 16 bytes. Every
    /// process sharing a ledger must use the same one.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn ledger_secret(mut self, secret: impl Into<String>) -> Self {
        self.ledger.secret = Some(Zeroizing::new(secret.into()));
        self
    }

    /// The ledger secret the one given to [`ledger_secret`](Self::ledger_secret) replaces
    /// (`JUHE_LEDGER_SECRET_PREVIOUS` in [`from_env`](Self::from_env)): entries hashed under it
    /// are still reused, waited for and forgotten, new ones are hashed under the new one. Drop
    /// it (and destroy it) once its entries may no longer be linked to anyone: erasure by key
    /// destruction. Moving from the default (derived from the API key) to a secret, give the
    /// API key here.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn previous_ledger_secret(mut self, secret: impl Into<String>) -> Self {
        self.ledger.previous_secret = Some(Zeroizing::new(secret.into()));
        self
    }

    /// Reuses a billed, documented answer from the ledger to the same question sent to the
    /// same target within `window`, and waits for the same question in flight elsewhere
    /// instead of paying for it twice. The outcome says so ([`Outcome::reused`](juhe_proto::Outcome::reused)).
    /// Off by default: people's data changes (a mobile is reassigned), so pick the window.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn reuse_within(mut self, window: Duration) -> Self {
        self.ledger.policy = self.ledger.policy.reuse_within(window);
        self
    }

    /// At most `cap` checks that cost or may cost money per day (China time), counted in the
    /// ledger for every process on it and this account. Over it, checks are not sent:
    /// [`Skipped::LedgerBudget`](crate::Skipped::LedgerBudget).
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn max_billed_per_day(mut self, cap: u64) -> Self {
        self.ledger.policy = self.ledger.policy.max_billed_per_day(cap);
        self
    }

    /// The same per calendar month (China time).
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn max_billed_per_month(mut self, cap: u64) -> Self {
        self.ledger.policy = self.ledger.policy.max_billed_per_month(cap);
        self
    }

    /// Why this client's checks are made (`onboarding`), recorded with each in the ledger and
    /// shown by its audit; reuse answers a check only from checks of the same purpose unless
    /// [`reuse_across_purposes`](Self::reuse_across_purposes). No personal data in it.
    /// [`Client::with_purpose`](crate::Client::with_purpose) sets it for some checks only.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn purpose(mut self, label: impl Into<String>) -> Self {
        let consent_ref = self.ledger.purpose.take().and_then(|p| p.consent_ref);
        self.ledger.purpose = Some(juhe_ledger::Purpose { label: label.into(), consent_ref });
        self
    }

    /// The reference of the consent the checked people gave (as your records name it),
    /// recorded with each check beside its [`purpose`](Self::purpose).
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn consent_ref(mut self, reference: impl Into<String>) -> Self {
        let mut purpose = self.ledger.purpose.take().unwrap_or_default();
        purpose.consent_ref = Some(reference.into());
        self.ledger.purpose = Some(purpose);
        self
    }

    /// Reuse an answer whatever the purpose it was checked for.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn reuse_across_purposes(mut self) -> Self {
        self.ledger.policy = self.ledger.policy.reuse_across_purposes();
        self
    }

    /// The one opt-in to pay twice ([`Resend::RisksPayingTwice`](crate::Resend)): requests
    /// that may have been billed without an answer are retried
    /// ([`RetryPolicy::resend_maybe_billed`]), and with a ledger a check is sent although the
    /// ledger holds an earlier one of the same question that may have been billed without an
    /// answer (refused as `Skipped::MaybeBilledEarlier` otherwise). Each may be billed again,
    /// on purpose: the CLI's `--resend-maybe-billed`.
    pub fn resend_maybe_billed(mut self) -> Self {
        self.resend_maybe_billed = true;
        self
    }

    /// The name the ledger records as the checks' target, instead of `juhe` (Juhe's own
    /// hosts) or the base URL's origin. Reuse never crosses targets.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn ledger_target(mut self, target: impl Into<String>) -> Self {
        self.ledger.target = Some(target.into());
        self
    }

    /// With a ledger, every check takes its start in the key's pace, kept in the ledger and
    /// shared by every process on it (batches, services, machines on one PostgreSQL): single
    /// checks before batches. A single check that finds no start free within `within`
    /// (default [`LIVE_START_WITHIN`], 2 s) is not sent:
    /// [`Skipped::KeyBusy`](crate::Skipped::KeyBusy), instead of going over the key's rate.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn live_start_within(mut self, within: Duration) -> Self {
        self.ledger.live_start_within = Some(within);
        self
    }

    /// Your own async transport for [`build`](Self::build).
    pub fn transport(mut self, transport: impl AsyncTransport + 'static) -> Self {
        self.async_transport = Some(Arc::new(transport));
        self
    }

    /// Your own blocking transport for [`build_blocking`](Self::build_blocking).
    pub fn blocking_transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The async client. Without a transport of your own it uses reqwest (feature `reqwest`).
    pub fn build(self) -> Result<Client, Error> {
        let core = Arc::new(self.core()?);
        let transport = match self.async_transport.clone() {
            Some(transport) => self.own_transport(transport)?,
            None => self.default_async_transport()?,
        };
        Ok(Client::new(core, transport))
    }

    /// The blocking client. Without a transport of your own it uses ureq (feature `ureq`).
    pub fn build_blocking(self) -> Result<blocking::Client, Error> {
        let core = Arc::new(self.core()?);
        let transport = match self.transport.clone() {
            Some(transport) => self.own_transport(transport)?,
            None => self.default_blocking_transport()?,
        };
        Ok(blocking::Client::new(core, transport))
    }

    /// A transport of the caller's, once no setting meant for the default ones was given.
    fn own_transport<T: ?Sized>(&self, transport: Arc<T>) -> Result<Arc<T>, ConfigError> {
        let ignored = if self.timeout.is_some() || self.connect_timeout.is_some() {
            Some("a timeout (timeout, timeouts or JUHE_TIMEOUT)")
        } else if !self.root_certificates.is_empty() {
            Some("a root certificate (add_root_certificate)")
        } else {
            None
        };
        match ignored {
            Some(setting) => Err(ConfigError::NotForOwnTransport { setting }),
            None => Ok(transport),
        }
    }

    /// The settings of the default transports.
    fn transport_config(&self) -> Result<TransportConfig, ConfigError> {
        let defaults = TransportConfig::default();
        let mut config = TransportConfig::with_timeouts(
            self.connect_timeout.unwrap_or(defaults.connect_timeout),
            self.timeout.unwrap_or(defaults.timeout),
        );
        for pem in &self.root_certificates {
            config = config.with_root_certificates_pem(pem).map_err(ConfigError::RootCertificate)?;
        }
        Ok(config)
    }

    #[cfg(feature = "reqwest")]
    fn default_async_transport(&self) -> Result<Arc<dyn AsyncTransport>, ConfigError> {
        let transport = juhe_transport::ReqwestTransport::with_config(&self.transport_config()?)
            .map_err(ConfigError::Transport)?;
        Ok(Arc::new(transport))
    }

    #[cfg(not(feature = "reqwest"))]
    fn default_async_transport(&self) -> Result<Arc<dyn AsyncTransport>, ConfigError> {
        self.transport_config()?;
        Err(ConfigError::NoTransport { kind: "async", feature: "reqwest" })
    }

    #[cfg(feature = "ureq")]
    fn default_blocking_transport(&self) -> Result<Arc<dyn Transport>, ConfigError> {
        let transport = juhe_transport::UreqTransport::with_config(&self.transport_config()?)
            .map_err(ConfigError::Transport)?;
        Ok(Arc::new(transport))
    }

    #[cfg(not(feature = "ureq"))]
    fn default_blocking_transport(&self) -> Result<Arc<dyn Transport>, ConfigError> {
        self.transport_config()?;
        Err(ConfigError::NoTransport { kind: "blocking", feature: "ureq" })
    }

    /// Checks the settings and makes the shared protocol core.
    fn core(&self) -> Result<Core, Error> {
        if let Some((variable, expected)) = self.env_error {
            return Err(ConfigError::Environment { variable, expected }.into());
        }
        for given in [self.timeout, self.connect_timeout].into_iter().flatten() {
            if given < MIN_TIMEOUT {
                return Err(ConfigError::TimeoutTooShort { given, min: MIN_TIMEOUT }.into());
            }
        }
        let key = self.key.as_deref().ok_or(ConfigError::MissingKey)?;
        let mut credentials = Credentials::new(key)?;
        if let Some(openid) = &self.openid {
            credentials = credentials.with_openid(openid)?;
        }
        if let Some(key) = &self.rsa_public_key {
            credentials = credentials.with_rsa_public_key(read_rsa_key(key)?);
        }
        // The client's mode must work for every product: found now, not by the first check.
        credentials.require_mode(self.mode).map_err(ConfigError::from)?;
        let mut protocol = Protocol::new(credentials);
        if let Some(url) = &self.base_url {
            protocol = protocol.with_base_urls(BaseUrls::single(url)?);
        } else if let Some((apis, op)) = &self.base_urls {
            protocol = protocol.with_base_urls(BaseUrls::new(apis, op)?);
        }
        if let Some(padding) = self.idcard_key_padding {
            protocol = protocol.with_idcard_key_padding(padding);
        }
        Ok(Core {
            protocol,
            mode: self.mode,
            retry: self.retry_policy_built(),
            #[cfg(feature = "ledger")]
            journal: self.journal(key)?,
        })
    }

    /// The retry policy, with the opt-in to pay twice when it was given.
    fn retry_policy_built(&self) -> RetryPolicy {
        if self.resend_maybe_billed { self.retry.clone().resend_maybe_billed() } else { self.retry.clone() }
    }

    /// The ledger's side of the client: its secret, policy, target and deadline.
    #[cfg(feature = "ledger")]
    fn journal(&self, key: &str) -> Result<Option<Arc<crate::journal::Journal>>, Error> {
        let Some(ledger) = self.ledger.ledger.clone() else { return Ok(None) };
        let mut secret = match &self.ledger.secret {
            Some(secret) => juhe_ledger::LedgerSecret::from_secret(secret, key).map_err(Error::Ledger)?,
            None => juhe_ledger::LedgerSecret::from_api_key(key),
        };
        if let Some(previous) = &self.ledger.previous_secret {
            let previous = juhe_ledger::LedgerSecret::from_secret(previous, key).map_err(Error::Ledger)?;
            secret = secret.with_previous(previous).map_err(Error::Ledger)?;
        }
        let target = self.target_name();
        let per_attempt = self.timeout.unwrap_or(juhe_transport::DEFAULT_TIMEOUT);
        let deadline = self.retry.longest_check(per_attempt);
        Ok(Some(Arc::new(crate::journal::Journal {
            secret,
            policy: if self.resend_maybe_billed {
                self.ledger.policy.resend_maybe_billed()
            } else {
                self.ledger.policy
            },
            target,
            deadline,
            live_start_within: self.ledger.live_start_within.unwrap_or(LIVE_START_WITHIN),
            thread: if ledger.answers_one_call_at_a_time() {
                crate::journal::LedgerThread::start()
            } else {
                None
            },
            ledger,
            activity: Arc::default(),
            team: None,
            purpose: self.ledger.purpose.clone(),
        })))
    }

    /// Where this builder's checks go, by name: the one given to
    /// [`ledger_target`](Self::ledger_target), else `juhe` for Juhe's own hosts, else the
    /// origin of the base URL (`http://127.0.0.1:8080`, without any credentials in it). The
    /// ledger records it, and reuse never crosses it; a batch tool can bind its output to it.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn target_name(&self) -> String {
        self.ledger.target.clone().unwrap_or_else(|| self.origin())
    }

    /// `juhe` for Juhe's own hosts, else the origin the checks go to.
    #[cfg(feature = "ledger")]
    fn origin(&self) -> String {
        let url = self.base_url.as_deref().or(self.base_urls.as_ref().map(|(apis, _)| apis.as_str()));
        let Some(url) = url else { return "juhe".to_owned() };
        let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Credentials in a URL are not part of its origin, and never belong in a ledger.
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
    }
}

/// A key given as text, or as the path of a file holding it.
fn read_rsa_key(key_or_path: &str) -> Result<RsaPublicKey, ConfigError> {
    let text = key_or_path.trim();
    if looks_like_a_key(text) || (looks_like_base64_der(text) && !Path::new(text).exists()) {
        return RsaPublicKey::parse(text).map_err(ConfigError::RsaPublicKey);
    }
    let path = Path::new(text);
    let file_error = |source| ConfigError::RsaPublicKeyFile { path: path.to_owned(), source };
    let metadata = std::fs::metadata(path).map_err(file_error)?;
    if !metadata.is_file() {
        return Err(ConfigError::RsaPublicKeyNotAFile { path: path.to_owned() });
    }
    // A key file is a few hundred bytes: read no more than a generous bound.
    let mut contents = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_KEY_FILE_BYTES).read_to_string(&mut contents))
        .map_err(file_error)?;
    RsaPublicKey::parse(&contents)
        .map_err(|source| ConfigError::RsaPublicKeyInFile { path: path.to_owned(), source })
}

/// The most of a key file read; a 4096-bit key in PEM is under 1 KiB.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// PEM, or a long run of base64 starting like DER (`MI…`): text that is a key, not a path.
fn looks_like_a_key(text: &str) -> bool {
    text.contains("-----") || text.contains('\n') || (text.len() >= 100 && looks_like_base64_der(text))
}

/// Base64 starting like DER (`MI…`), of any length: a key, cut short or damaged, unless a file
/// of that name exists (then it is the file's path).
fn looks_like_base64_der(text: &str) -> bool {
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    text.len() >= 16 && text.starts_with("MI") && text.chars().all(base64)
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: bool| if v { "***" } else { "None" };
        f.debug_struct("ClientBuilder")
            .field("key", &format_args!("{}", set(self.key.is_some())))
            .field("openid", &format_args!("{}", set(self.openid.is_some())))
            .field("rsa_public_key", &self.rsa_public_key.is_some())
            .field("base_url", &self.base_url)
            .field("mode", &self.mode)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use juhe_proto::{Credential, MissingCredential};

    use super::*;

    const PUBLIC_PEM: &str = include_str!("../../juhe-crypto/tests/data/rsa_public_spki.pem");
    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../juhe-crypto/tests/data");

    /// The message of building a client with `rsa_public_key(given)`, causes included.
    fn rsa_key_message(given: &str) -> String {
        let error = ClientBuilder::new().key("k").rsa_public_key(given).build_blocking().unwrap_err();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text += &format!(": {cause}");
            source = cause.source();
        }
        text
    }

    #[test]
    fn rsa_key_files_and_texts_get_messages_that_say_what_is_wrong() {
        assert!(
            ClientBuilder::new()
                .key("k")
                .rsa_public_key(format!("{DATA}/rsa_public_spki.pem"))
                .build_blocking()
                .is_ok()
        );
        assert!(ClientBuilder::new().key("k").rsa_public_key(PUBLIC_PEM).build_blocking().is_ok());
        let missing = rsa_key_message("/no/such/key.pem");
        assert!(missing.starts_with("RSA public key file not found: /no/such/key.pem"), "{missing}");
        let directory = rsa_key_message(DATA);
        assert!(directory.contains("is a directory"), "{directory}");
        let ec = rsa_key_message(&format!("{DATA}/wrong_keys/ec_public.pem"));
        assert!(ec.contains("wrong_keys/ec_public.pem") && ec.contains("EC (elliptic-curve) key"), "{ec}");
        // A key pasted short is a key that cannot be read, not a missing file.
        let cut = rsa_key_message("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA");
        assert!(cut.starts_with("the RSA public key could not be read") && !cut.contains("file"), "{cut}");
        let private = rsa_key_message(include_str!("../../juhe-crypto/tests/data/rsa_private.pem"));
        assert!(private.contains("private key") && !private.contains("MII"), "{private}");
    }

    fn missing(builder: ClientBuilder) -> Option<MissingCredential> {
        match builder.build_blocking() {
            Err(Error::Config(ConfigError::MissingCredential(missing))) => Some(missing),
            _ => None,
        }
    }

    /// idcard's RSA mode uses the openid as its IV, so an RSA client without one is refused
    /// when built, not by its first idcard check.
    #[test]
    fn rsa_mode_needs_the_openid_too() {
        let rsa_only = ClientBuilder::new().key("k").rsa_public_key(PUBLIC_PEM).mode(Mode::Rsa);
        assert_eq!(
            missing(rsa_only.clone()),
            Some(MissingCredential { credential: Credential::Openid, mode: Mode::Rsa })
        );
        assert!(rsa_only.openid("o").build_blocking().is_ok());
    }

    #[test]
    fn each_mode_asks_for_what_it_lacks() {
        let key_only = ClientBuilder::new().key("k");
        assert!(key_only.clone().build_blocking().is_ok());
        for (mode, credential) in [
            (Mode::Signed, Credential::Openid),
            (Mode::Aes, Credential::Openid),
            (Mode::Rsa, Credential::RsaPublicKey),
        ] {
            assert_eq!(missing(key_only.clone().mode(mode)), Some(MissingCredential { credential, mode }));
        }
        assert!(matches!(ClientBuilder::new().build_blocking(), Err(Error::Config(ConfigError::MissingKey))));
    }

    #[test]
    fn the_environment_gives_mode_and_timeout_and_names_a_bad_value() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        };
        let builder = ClientBuilder::from_vars(vars(&[
            ("JUHE_KEY", "k"),
            ("JUHE_MODE", "signed"),
            ("JUHE_TIMEOUT", "2.5"),
        ]));
        assert_eq!((builder.mode, builder.timeout), (Mode::Signed, Some(Duration::from_millis(2500))));
        let any_case = ClientBuilder::from_vars(vars(&[("JUHE_KEY", "k"), ("JUHE_MODE", " AES ")]));
        assert_eq!(any_case.mode, Mode::Aes, "as the CLI, any case");
        for (var, value) in [("JUHE_MODE", "aes-cbc"), ("JUHE_TIMEOUT", "0"), ("JUHE_TIMEOUT", "ten")] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(vec![("JUHE_KEY", "k"), (var, value)].into_boxed_slice());
            let error = ClientBuilder::from_vars(vars(pairs)).build_blocking().unwrap_err().to_string();
            assert!(error.starts_with(var), "{error}");
        }
    }

    #[test]
    fn a_timeout_with_your_own_transport_is_refused_not_ignored() {
        struct Canned;
        impl juhe_transport::Transport for Canned {
            fn send(
                &self,
                _: juhe_transport::HttpRequest,
            ) -> Result<juhe_transport::HttpResponse, juhe_transport::TransportError> {
                Ok(http::Response::new(Vec::new()))
            }
        }
        assert!(ClientBuilder::new().key("k").blocking_transport(Canned).build_blocking().is_ok());
        let error = ClientBuilder::new()
            .key("k")
            .timeout(Duration::from_secs(1))
            .blocking_transport(Canned)
            .build_blocking()
            .unwrap_err();
        assert!(matches!(error, Error::Config(ConfigError::NotForOwnTransport { .. })), "{error}");
        assert!(error.to_string().contains("your own transport"), "{error}");
    }
}
