//! Juhe's (聚合数据) identity-verification API, served to every service in a company — Java,
//! Go, PHP, Python, Node — and forwarded to Juhe with the real key under juhe-rs's money and
//! privacy rules.
//!
//! A service keeps its Juhe client and changes only its host. The gateway answers on every
//! path of Juhe's two hosts, GET and POST, in every mode (plain, signed, AES, RSA). Each team
//! has a **virtual key** with its own openid and RSA key pair ([`keys::issue`]); the gateway
//! checks the sign, decrypts, validates and refuses bad input with Juhe's own codes before
//! anything is sent (nothing billed). A valid check goes to Juhe through
//! [`juhe_verify::Client`] with the real key, in the operator's mode, recorded in the ledger
//! before it leaves, paced with every other replica on the key, under the team's budgets and
//! reuse window ([`keys::TeamRules`]). The team gets Juhe's JSON back; a reused answer carries
//! the original order number and the header [`REUSED_HEADER`].
//!
//! | code | when |
//! |---|---|
//! | 10001 | an unknown or revoked virtual key |
//! | 10002 | a product the team's key does not allow |
//! | 10012 | a team's (or the account's) daily or monthly budget is spent: `reason` names it |
//! | 10014 | nothing sent (the ledger unreachable), or sent with no answer: `reason` says which |
//! | the product's own | a field missing, undecryptable or invalid; a wrong sign |
//!
//! The gateway stores no name, ID number, mobile or image: the ledger keeps keyed hashes and
//! masked forms, metrics are labelled by team, product, mode and outcome only.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use juhe_crypto::SealingKey;
//! use juhe_gateway::{Gateway, keys};
//! use juhe_verify::{Client, Mode, ledger::Ledger};
//!
//! let ledger = Ledger::open_sqlite("gateway.sqlite".as_ref())?;
//! let master = SealingKey::from_master(&std::fs::read("master.key")?)?;
//! let issued = keys::issue(&ledger, &master, "payments", &keys::TeamRules::open(), false, "ops")?;
//! println!("give the team: key {} openid {}", issued.key, issued.openid);
//!
//! let upstream = Client::from_env()?; // the real key; give it the same ledger:
//! # let upstream = Client::builder().key("k").ledger(ledger.clone()).build()?;
//! let gateway = Gateway::new(upstream, ledger, master, Mode::Aes)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let (_stop, stopped) = tokio::sync::watch::channel(false);
//! juhe_server::serve(listener, Arc::new(gateway), Default::default(), None, stopped).await;
//! # Ok(()) }
//! ```
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod dashboard;
pub mod keys;
mod metrics;
mod team_reply;

use std::sync::{Arc, RwLock};
use std::time::Instant;

use http::{HeaderValue, Method};
use juhe_crypto::SealingKey;
use juhe_proto::server::{Reply, RequestParams, ServerKeys, read_check};
use juhe_proto::{CivilDate, Endpoint, ErrorCode, Mode, Param, Product};
use juhe_server::{Answer, Responder};
use juhe_verify::Client;
use juhe_verify::ledger::Ledger;

use keys::{KeyRing, LiveKey, Sharing};
use team_reply::TeamReply;
pub use team_reply::{BILLED_HEADER, REUSED_HEADER};

/// Why a gateway could not start or an admin action failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The ledger failed: nothing was changed.
    #[error(transparent)]
    Ledger(juhe_verify::ledger::LedgerError),
    /// A sealed secret did not open (another master key?), or a key could not be made.
    #[error("team secrets: {0}")]
    Crypto(juhe_crypto::CryptoError),
    /// The upstream client refused a team's rules.
    #[error(transparent)]
    Client(juhe_verify::Error),
    /// A setting the gateway cannot use.
    #[error("{0}")]
    Config(String),
}

/// The gateway: a [`Responder`] to serve with [`juhe_server::serve`].
pub struct Gateway {
    upstream: Client,
    ledger: Ledger,
    master: Arc<SealingKey>,
    mode: Mode,
    sharing: Sharing,
    ring: RwLock<Arc<KeyRing>>,
    metrics: Arc<metrics::Metrics>,
    /// The key of `/__gateway/dashboard`; without one the page is not served.
    admin_key: Option<String>,
}

impl Gateway {
    /// A gateway forwarding through `upstream` (the real key; it must have `ledger`, which
    /// also holds the team keys), in `mode` for every product that has it (plain otherwise),
    /// with team secrets opened by `master`. It reads the team keys from the ledger (this
    /// blocks: call it before serving, or from `spawn_blocking`).
    pub fn new(
        upstream: Client,
        ledger: Ledger,
        master: SealingKey,
        mode: Mode,
    ) -> Result<Self, GatewayError> {
        let ring = KeyRing::load(&ledger, &master, &upstream, Sharing::default())?;
        Ok(Self {
            upstream,
            ledger,
            master: Arc::new(master),
            mode,
            sharing: Sharing::default(),
            ring: RwLock::new(Arc::new(ring)),
            metrics: Arc::default(),
            admin_key: None,
        })
    }

    /// Keeps teams apart: a team is answered from the ledger only with its own earlier checks.
    pub fn teams_apart(mut self) -> Result<Self, GatewayError> {
        self.sharing.apart = true;
        self.reload_now()
    }

    /// Answers a team from the ledger whatever purpose the earlier check was made for (by
    /// default only checks of the team's own purpose count: docs/privacy.md).
    pub fn reuse_across_purposes(mut self) -> Result<Self, GatewayError> {
        self.sharing.across_purposes = true;
        self.reload_now()
    }

    fn reload_now(self) -> Result<Self, GatewayError> {
        let ring = KeyRing::load(&self.ledger, &self.master, &self.upstream, self.sharing)?;
        *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(ring);
        Ok(self)
    }

    /// Serves the operator's page at `/__gateway/dashboard` to requests carrying `key` (the
    /// `x-juhe-gateway-admin-key` header, or `?admin_key=`): spend per team per day, reused
    /// and refused checks, pending entries, keys. It is not a team key.
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.admin_key = Some(key.into());
        self
    }

    /// The live keys, reloaded first when the ledger's key generation moved (a key issued,
    /// rotated or revoked by any admin or replica): a revoked key is refused from the next
    /// request on.
    async fn ring(&self) -> Result<Arc<KeyRing>, GatewayError> {
        let held = Arc::clone(&self.ring.read().unwrap_or_else(std::sync::PoisonError::into_inner));
        let ledger = self.ledger.clone();
        let generation =
            blocking(move || ledger.team_keys_generation()).await?.map_err(GatewayError::Ledger)?;
        if generation == held.generation {
            return Ok(held);
        }
        let (ledger, upstream, sharing) = (self.ledger.clone(), self.upstream.clone(), self.sharing);
        let master = Arc::clone(&self.master);
        let fresh = Arc::new(blocking(move || KeyRing::load(&ledger, &master, &upstream, sharing)).await??);
        *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&fresh);
        Ok(fresh)
    }

    /// The mode a check of `product` goes to Juhe in.
    fn upstream_mode(&self, product: Product) -> Mode {
        if Endpoint::find(product, self.mode).is_ok() { self.mode } else { Mode::Plain }
    }

    /// Juhe's API: one request, from its team's key to Juhe's answer.
    async fn check(&self, endpoint: Endpoint, request: &http::Request<Vec<u8>>) -> (String, TeamReply) {
        let info = endpoint.info();
        let params = RequestParams::of(request);
        let ring = match self.ring().await {
            Ok(ring) => ring,
            Err(error) => {
                tracing::error!(error = %error, "the team keys could not be read: nothing sent");
                let reason = format!("系统内部异常 (the gateway's keys could not be read: {error})");
                let reply = Reply { reason, ..Reply::error(ErrorCode::INTERNAL_ERROR.code()) };
                return (String::new(), TeamReply::refused(reply));
            }
        };
        let Some(team) = ring.find(params.get(Param::Key)) else {
            return (String::new(), TeamReply::refused(Reply::error(ErrorCode::WRONG_KEY.code())));
        };
        let refused = |reply| (team.team.clone(), TeamReply::refused(reply));
        if !team.rules.allows(info.product) {
            return refused(Reply::error(ErrorCode::KEY_NOT_PERMITTED.code()));
        }
        if info.post_only && request.method() != Method::POST {
            let code = ErrorCode::refusing(info.product, None, false).code();
            return refused(Reply {
                reason: "请求方式错误：仅支持POST".into(), ..Reply::error(code)
            });
        }
        let check =
            match read_check(endpoint, &params, Some(&server_keys(&team, params.get(Param::Key))), today()) {
                Ok(check) => check,
                Err(refusal) => return refused(Reply::refused(info.product, &refusal)),
            };
        let asked_order = params.get(Param::Orderid) == "1";
        let reply = match team.client.verify_in(self.upstream_mode(info.product), &check).await {
            Ok(outcome) => team_reply::answered(endpoint, asked_order, &outcome),
            Err(error) => team_reply::failed(&error),
        };
        (team.team.clone(), reply)
    }

    async fn dashboard(&self, request: &http::Request<Vec<u8>>) -> Answer {
        let given =
            request.headers().get("x-juhe-gateway-admin-key").map(|v| v.as_bytes().to_vec()).or_else(|| {
                let query = juhe_proto::decode_form(request.uri().query().unwrap_or_default().as_bytes());
                query.into_iter().find(|(name, _)| name == "admin_key").map(|(_, value)| value.into_bytes())
            });
        let allowed = match (&self.admin_key, given) {
            (Some(key), Some(given)) => juhe_crypto::constant_time_eq(key.as_bytes(), &given),
            _ => false,
        };
        if !allowed {
            return Answer::json(
                401,
                br#"{"error":"the dashboard needs the gateway's admin key (x-juhe-gateway-admin-key)"}"#
                    .to_vec(),
            );
        }
        let (ledger, metrics) = (self.ledger.clone(), Arc::clone(&self.metrics));
        match blocking(move || dashboard::Dashboard::read(&ledger, &metrics, today())).await {
            Ok(Ok(board)) => Answer::Body {
                status: 200,
                content_type: "text/html; charset=utf-8",
                body: board.html(std::time::SystemTime::now()).into_bytes(),
            },
            Ok(Err(error)) => Answer::json(
                503,
                format!(r#"{{"error":"the ledger: {}"}}"#, json_text(&error.to_string())).into_bytes(),
            ),
            Err(error) => {
                Answer::json(503, format!(r#"{{"error":"{}"}}"#, json_text(&error.to_string())).into_bytes())
            }
        }
    }

    fn admin_route(&self, path: &str) -> Option<Answer> {
        match path {
            "/healthz" => Some(Answer::json(200, br#"{"status":"ok"}"#.to_vec())),
            "/metrics" => Some(Answer::Body {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: self.metrics.render().into_bytes(),
            }),
            _ => None,
        }
    }
}

impl Responder for Gateway {
    async fn respond(&self, request: http::Request<Vec<u8>>) -> Answer {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        if let Some(answer) = self.admin_route(&path) {
            return answer;
        }
        if path == "/__gateway/dashboard" {
            return self.dashboard(&request).await;
        }
        let Some(endpoint) = Endpoint::from_path(&path) else {
            let reply = Reply { reason: "接口地址不存在 (no such API)".into(), ..Reply::error(10021) };
            return Answer::json(404, reply.to_json());
        };
        let info = endpoint.info();
        let (team, reply) = self.check(endpoint, &request).await;
        let mode = if reply.outcome == metrics::Outcome::Refused {
            info.mode
        } else {
            self.upstream_mode(info.product)
        };
        self.metrics.record(&team, info.product.name(), mode.name(), reply.outcome, started.elapsed());
        let mut headers = reply.headers;
        headers
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
        Answer::Headed { status: 200, headers, body: reply.reply.to_json() }
    }
}

/// The secrets a team's requests are read with.
fn server_keys<'a>(team: &'a LiveKey, key: &'a str) -> ServerKeys<'a> {
    ServerKeys {
        key,
        openid: &team.openid,
        openid_key: &team.openid_key,
        private_key: &team.private_key,
        idcard_key_padding: LiveKey::IDCARD_KEY_PADDING,
    }
}

/// `text` inside a JSON string.
fn json_text(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn today() -> CivilDate {
    CivilDate::today_in_china()
}

/// Runs a ledger call off the async threads.
async fn blocking<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, GatewayError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| GatewayError::Config(format!("a ledger call stopped: {e}")))
}
