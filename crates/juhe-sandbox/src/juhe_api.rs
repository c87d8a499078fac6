//! The sandbox's behaviour as a pure function: an HTTP request in, an [`Answer`] out. The
//! server around it only moves bytes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use juhe_crypto::{AesKey, RsaPadding, RsaPrivateKey};
use juhe_proto::server::{RequestParams, ServerKeys, read_check};
use juhe_proto::{Check, CivilDate, Endpoint, ErrorCode, Param, Product, ResultField};

use crate::faults::{FaultKind, FaultPlan};
use crate::identity::Registry;
use crate::ledger::{Ledger, RequestRecord};
use crate::magic::{Effect, MagicIdentity};
use crate::network::Network;
use crate::verdicts::judge;
use juhe_proto::server::Reply;
pub(crate) use juhe_server::Answer;
use juhe_server::PeerAddr;

/// A request that is logged by the callback of [`SandboxBuilder::on_request`](crate::SandboxBuilder::on_request).
pub(crate) type RequestHook = Box<dyn Fn(&RequestRecord) + Send + Sync>;

/// The state of the fake Juhe.
pub(crate) struct JuheApi {
    pub(crate) key: String,
    pub(crate) openid: String,
    openid_key: AesKey,
    private_key: RsaPrivateKey,
    idcard_key_padding: RsaPadding,
    pub(crate) registry: Registry,
    pub(crate) faults: FaultPlan,
    pub(crate) ledger: Ledger,
    orders: AtomicU64,
    on_request: Option<RequestHook>,
    identities_json: OnceLock<Vec<u8>>,
    /// Reachable from other machines: admin routes need this key.
    pub(crate) admin_key: Option<String>,
    /// Latency and request caps.
    network: Network,
}

/// What processing a check came to.
struct Processed {
    reply: Reply,
    fault: Option<FaultKind>,
    who: String,
}

/// The test account the sandbox answers for: its credentials and RSA private key.
pub(crate) struct TestAccount {
    pub(crate) key: String,
    pub(crate) openid: String,
    pub(crate) private_key: RsaPrivateKey,
    pub(crate) idcard_key_padding: RsaPadding,
}

impl JuheApi {
    pub(crate) fn new(
        account: TestAccount,
        registry: Registry,
        faults: FaultPlan,
        on_request: Option<RequestHook>,
        admin_key: Option<String>,
        network: Network,
    ) -> Self {
        let TestAccount { key, openid, private_key, idcard_key_padding } = account;
        let openid_key = AesKey::from_openid(&openid);
        Self {
            key,
            openid,
            openid_key,
            private_key,
            idcard_key_padding,
            registry,
            faults,
            ledger: Ledger::new(),
            orders: AtomicU64::new(0),
            on_request,
            identities_json: OnceLock::new(),
            admin_key,
            network,
        }
    }
}

impl juhe_server::Responder for JuheApi {
    async fn respond(&self, request: http::Request<Vec<u8>>) -> Answer {
        self.answer(&request)
    }
}

impl JuheApi {
    /// Answers one request. Never panics, whatever the request.
    pub(crate) fn answer(&self, request: &http::Request<Vec<u8>>) -> Answer {
        let path = request.uri().path();
        if let Some(route) = path.strip_prefix("/__sandbox/") {
            if let Some(key) = &self.admin_key
                && !admin_key_given(request, key)
            {
                return Answer::json(
                    401,
                    br#"{"error":"this sandbox is exposed: admin routes need its admin key (?key= or X-Juhe-Sandbox-Key), which is not the API key"}"#
                        .to_vec(),
                );
            }
            return self.admin(request.method(), route);
        }
        let Some(endpoint) = Endpoint::from_path(path) else {
            let reply = Reply { reason: "接口地址不存在 (no such API)".into(), ..Reply::error(10021) };
            self.log(None, request, &reply, None, String::new());
            return Answer::json(404, reply.to_json());
        };
        let processed = self.process(endpoint, request);
        self.log(Some(endpoint), request, &processed.reply, processed.fault, processed.who);
        let answer = deliver(processed.reply, processed.fault);
        // The network's time comes on top of whatever the answer itself takes.
        match &self.network.latency {
            Some(latency) => Answer::Delayed { delay: latency.draw(), answer: Box::new(answer) },
            None => answer,
        }
    }

    fn process(&self, endpoint: Endpoint, request: &http::Request<Vec<u8>>) -> Processed {
        let info = endpoint.info();
        let params = RequestParams::of(request);
        let refuse = |reply: Reply| Processed { reply, fault: None, who: String::new() };
        let now = std::time::Instant::now();
        // Over a cap, a request is not processed, and not billed, as at Juhe.
        if let (Some(cap), Some(PeerAddr(ip))) =
            (&self.network.ip_cap, request.extensions().get::<PeerAddr>())
            && !cap.admit(ip, now)
        {
            return refuse(Reply::error(10011));
        }
        if params.get(Param::Key) != self.key {
            return refuse(Reply::error(10001));
        }
        if let Some(cap) = &self.network.key_cap
            && !cap.admit(&self.key, now)
        {
            return refuse(Reply::error(10012));
        }
        if info.post_only && request.method() != http::Method::POST {
            let code = ErrorCode::refusing(info.product, None, false);
            return refuse(Reply {
                reason: "请求方式错误：仅支持POST".into(), ..Reply::error(code.code())
            });
        }
        let fault = self.faults.draw(endpoint);
        if let Some(reply) = fault.and_then(unprocessed_reply) {
            return Processed { reply, fault, who: String::new() };
        }
        let keys = ServerKeys {
            key: &self.key,
            openid: &self.openid,
            openid_key: &self.openid_key,
            private_key: &self.private_key,
            idcard_key_padding: self.idcard_key_padding,
        };
        let check = match read_check(endpoint, &params, Some(&keys), CivilDate::today_in_china()) {
            Ok(check) => check,
            Err(refusal) => return refuse(Reply::refused(info.product, &refusal)),
        };
        let who = check.masked();
        let idcard = check.field(Param::Idcard);
        let magic = idcard.as_deref().and_then(MagicIdentity::by_idcard);
        let (mut fault, mut unspecified) = (fault, false);
        match magic.and_then(|m| m.effect(info.product)) {
            // This code comes with an order number (docs/protocol.md, "Codes documented once").
            Some(Effect::Code(ErrorCode::FACE_IDENTITY_AND_MOBILE_FAILED)) => {
                let code = ErrorCode::FACE_IDENTITY_AND_MOBILE_FAILED.code();
                return Processed {
                    reply: Reply::error_with_order(code, self.next_order(info.product)),
                    fault,
                    who,
                };
            }
            Some(Effect::Code(code)) => {
                return Processed { reply: Reply::error(code.code()), fault, who };
            }
            Some(Effect::Fault(kind)) => match unprocessed_reply(*kind) {
                Some(reply) => {
                    return Processed { reply, fault: Some(*kind), who };
                }
                None => fault = Some(*kind),
            },
            Some(Effect::UnspecifiedMismatch) => unspecified = true,
            None => {}
        }
        let mut reply = judge(&check, &self.registry, self.next_order(info.product), unspecified);
        // An endpoint that takes `orderid` returns the order number only when asked with
        // `orderid=1` ("传1时返回单号，默认不返回单号"); it is billed all the same.
        if info.params.contains(&Param::Orderid)
            && params.get(Param::Orderid) != "1"
            && let Some(result) = reply.result.as_object_mut()
        {
            result.remove(ResultField::OrderId.wire_name());
        }
        Processed { reply, fault, who }
    }

    fn next_order(&self, product: Product) -> String {
        let module = product.order_module();
        format!("JHSB{module}{:014}", self.orders.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn log(
        &self,
        endpoint: Option<Endpoint>,
        request: &http::Request<Vec<u8>>,
        reply: &Reply,
        fault: Option<FaultKind>,
        who: String,
    ) {
        let gateway_error = matches!(fault, Some(FaultKind::HttpStatus(_)));
        let record = RequestRecord {
            api: endpoint.map_or_else(|| request.uri().path().to_owned(), |e| e.info().api.to_owned()),
            method: request.method().to_string(),
            error_code: (!gateway_error).then_some(reply.error_code),
            billed: !gateway_error && reply.error_code == 0,
            who,
            fault: fault.map(|f| format!("{f:?}")),
        };
        if let Some(hook) = &self.on_request {
            hook(&record);
        }
        self.ledger.record(endpoint, record);
    }

    fn admin(&self, method: &http::Method, route: &str) -> Answer {
        if method != http::Method::GET {
            return Answer::json(405, br#"{"error":"admin routes take GET"}"#.to_vec());
        }
        match route {
            "ledger" => Answer::json(200, serde_json::to_vec(&self.ledger.snapshot()).unwrap_or_default()),
            "requests" => Answer::json(200, serde_json::to_vec(&self.ledger.recent()).unwrap_or_default()),
            "identities" => Answer::json(200, self.identities_json().to_vec()),
            _ => Answer::json(
                404,
                br#"{"error":"admin routes: /__sandbox/ledger, /__sandbox/identities, /__sandbox/requests"}"#
                    .to_vec(),
            ),
        }
    }

    /// The registry as JSON, made once: it does not change while the sandbox runs.
    pub(crate) fn identities_json(&self) -> &[u8] {
        self.identities_json.get_or_init(|| serde_json::to_vec(self.registry.public()).unwrap_or_default())
    }
}

/// The reply of a fault that stops the check before it is processed.
fn unprocessed_reply(kind: FaultKind) -> Option<Reply> {
    match kind {
        FaultKind::ErrorCode(code) => Some(Reply::error(code)),
        // The JSON is never sent: the gateway answers instead.
        FaultKind::HttpStatus(_) => Some(Reply::error(10014)),
        _ => None,
    }
}

/// Writes the reply, as the fault (if any) allows.
fn deliver(reply: Reply, fault: Option<FaultKind>) -> Answer {
    let body = reply.to_json();
    match fault {
        Some(FaultKind::HttpStatus(status)) => Answer::Body {
            status,
            content_type: "text/html",
            body: format!("<html><body><h1>{status}</h1>gateway error</body></html>").into_bytes(),
        },
        Some(FaultKind::Latency(delay)) => {
            Answer::Delayed { delay, answer: Box::new(Answer::json(200, body)) }
        }
        Some(FaultKind::MalformedBody) => {
            let cut = body.len() / 2;
            Answer::json(200, body[..cut].to_vec())
        }
        Some(FaultKind::TruncatedBody) => Answer::Truncated { body },
        Some(FaultKind::CloseConnection) => Answer::Close,
        Some(FaultKind::ErrorCode(_)) | None => Answer::json(200, body),
    }
}

/// Whether `request` carries the admin `key`, in the header or the query; compared in constant
/// time, so the answer's timing tells nothing about how much of a guess was right.
fn admin_key_given(request: &http::Request<Vec<u8>>, key: &str) -> bool {
    let header = request.headers().get("x-juhe-sandbox-key").map(|v| v.as_bytes());
    let query = request.uri().query().map(|q| juhe_proto::decode_form(q.as_bytes())).unwrap_or_default();
    let in_query = query
        .iter()
        .filter(|(name, _)| name == "key")
        .any(|(_, value)| juhe_crypto::constant_time_eq(value.as_bytes(), key.as_bytes()));
    header.is_some_and(|h| juhe_crypto::constant_time_eq(h, key.as_bytes())) | in_query
}
