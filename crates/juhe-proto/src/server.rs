//! The server side of the protocol, sans IO: reading a request as Juhe reads it — its
//! parameters, the decryption of its personal fields, the sign, validation — into an
//! [`AnyCheck`], or a [`Refusal`] that knows the code and the reason Juhe answers with. The
//! sandbox and the gateway serve Juhe's API through it; the HTTP, the key check, rate caps and
//! what the answer says stay theirs.
//!
//! ```
//! use juhe_proto::server::{RequestParams, read_check};
//! use juhe_proto::{AnyCheck, CivilDate, Endpoint, Param};
//!
//! let request = http::Request::post("https://apis.juhe.cn/telecom3/query")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(b"key=k&realname=%E5%BC%A0%E4%B8%89&idcard=11010519491231002X&mobile=139-1234-5678".to_vec())?;
//! let params = RequestParams::of(&request);
//! assert_eq!(params.get(Param::Key), "k");
//! let today = CivilDate::new(2026, 12, 1).expect("a date");
//! let check = read_check(Endpoint::Telecom3Query, &params, None, today).expect("a valid request");
//! assert!(matches!(check, AnyCheck::Telecom3(_)));
//!
//! let bad = RequestParams::of(&http::Request::post("/telecom3/query").body(Vec::new())?);
//! let refusal = read_check(Endpoint::Telecom3Query, &bad, None, today).unwrap_err();
//! assert_eq!(refusal.error_code(Endpoint::Telecom3Query.info().product).code(), 233907);
//! assert_eq!(refusal.reason(), "参数错误：姓名不能为空");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;

pub use crate::reply::{Reply, fields_of};
pub use juhe_crypto::{AesKey, RsaPrivateKey};
use juhe_crypto::{aes_cbc_decrypt, aes_ecb_decrypt, md5_sign};

use crate::{
    AnyCheck, CivilDate, Endpoint, ErrorCode, FieldEncoding, HttpRequest, Param, ParamKind, PersonalFields,
    Product, RsaPadding, decode_form,
};

/// The parameters of a request: the query string, and for a POST a form body. A body
/// parameter wins over a query parameter of the same name; of repeated names the first counts.
/// Names that are no [`Param`] are ignored, as Juhe ignores them. `Debug` shows names only.
#[derive(Default)]
pub struct RequestParams(HashMap<Param, String>);

impl RequestParams {
    /// The parameters `request` carries.
    pub fn of(request: &HttpRequest) -> Self {
        let mut params = HashMap::new();
        let is_form =
            request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(
                |v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"),
            );
        let body = (request.method() == http::Method::POST && is_form).then(|| decode_form(request.body()));
        let query = decode_form(request.uri().query().unwrap_or_default().as_bytes());
        for (name, value) in body.into_iter().flatten().chain(query) {
            if let Some(param) = Param::from_wire_name(&name) {
                params.entry(param).or_insert(value);
            }
        }
        Self(params)
    }

    /// The value of `param`; empty when it was not sent.
    pub fn get(&self, param: Param) -> &str {
        self.0.get(&param).map_or("", String::as_str)
    }
}

impl std::fmt::Debug for RequestParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys().map(|p| p.wire_name())).finish()
    }
}

/// The account's secrets a server needs to read encrypted and signed requests: the API key
/// and openid (the sign), the openid's AES key, and the RSA private key.
pub struct ServerKeys<'a> {
    /// The API key, as the sign covers it.
    pub key: &'a str,
    /// The openid, as the sign covers it.
    pub openid: &'a str,
    /// The AES key derived from the openid ([`AesKey::from_openid`]).
    pub openid_key: &'a AesKey,
    /// The account's RSA private key.
    pub private_key: &'a RsaPrivateKey,
    /// The padding idcard's `aesKey` is wrapped with (see the spec's README).
    pub idcard_key_padding: RsaPadding,
}

/// Why a request is refused before it is processed (and so not billed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The parameter at fault.
    pub param: Param,
    /// What is wrong with it.
    pub problem: RefusalProblem,
}

/// What is wrong with a refused parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalProblem {
    /// It was not sent, or sent empty.
    Empty,
    /// It could not be decrypted (or did not decrypt to UTF-8).
    Undecryptable,
    /// It does not validate.
    Malformed,
    /// The sign does not match the fields.
    BadSign,
    /// The endpoint's encoding needs credentials the server was not given.
    NoKeys,
}

impl Refusal {
    fn new(param: Param, problem: RefusalProblem) -> Self {
        Self { param, problem }
    }

    /// The code `product` answers with ([`ErrorCode::refusing`]).
    pub fn error_code(&self, product: Product) -> ErrorCode {
        ErrorCode::refusing(product, Some(self.param), self.problem == RefusalProblem::Empty)
    }

    /// Juhe's reason text: `参数错误：` and what is wrong, naming the field as Juhe does.
    pub fn reason(&self) -> String {
        let label = self.param.zh().unwrap_or(self.param.wire_name());
        let what = match self.problem {
            RefusalProblem::Empty => format!("{label}不能为空"),
            RefusalProblem::Undecryptable => format!("{label}解密失败"),
            RefusalProblem::Malformed => format!("{label}格式错误"),
            RefusalProblem::BadSign => "签名错误".to_owned(),
            RefusalProblem::NoKeys => format!("{label}无法解密"),
        };
        format!("参数错误：{what}")
    }
}

/// Reads the check a request to `endpoint` asks for: every personal field it takes present,
/// decrypted with `keys` as its encoding says, the sign (if any) matching, and the fields
/// valid against `today`. `keys` may be `None` for the plain endpoints.
pub fn read_check(
    endpoint: Endpoint,
    params: &RequestParams,
    keys: Option<&ServerKeys<'_>>,
    today: CivilDate,
) -> Result<AnyCheck, Refusal> {
    let info = endpoint.info();
    let opener = Opener::new(info.encoding, params, keys)?;
    let mut fields = PersonalFields::new();
    for &param in info.params.iter().filter(|p| p.kind() == ParamKind::Personal) {
        let raw = params.get(param);
        if raw.is_empty() {
            return Err(Refusal::new(param, RefusalProblem::Empty));
        }
        let opened = opener.open(raw).ok_or(Refusal::new(param, RefusalProblem::Undecryptable))?;
        fields.insert(param, opened);
    }
    if info.encoding == FieldEncoding::Signed {
        check_sign(params, &fields, keys)?;
    }
    AnyCheck::parse(info.product, &fields, today).map_err(|error| {
        // Every field `AnyCheck::parse` validates is a parameter.
        let param = error.field.param().unwrap_or(Param::Key);
        Refusal::new(param, RefusalProblem::Malformed)
    })
}

/// Decrypts one field as the endpoint's encoding says.
enum Opener<'k> {
    Plain,
    AesEcb(&'k AesKey),
    RsaOaep(&'k RsaPrivateKey),
    AesCbc { key: AesKey, iv: &'k AesKey },
}

impl<'k> Opener<'k> {
    fn new(
        encoding: FieldEncoding,
        params: &RequestParams,
        keys: Option<&'k ServerKeys<'_>>,
    ) -> Result<Self, Refusal> {
        let keys = || keys.ok_or(Refusal::new(Param::Key, RefusalProblem::NoKeys));
        Ok(match encoding {
            FieldEncoding::Plain | FieldEncoding::Signed => Self::Plain,
            FieldEncoding::AesEcb => Self::AesEcb(keys()?.openid_key),
            FieldEncoding::RsaOaep => Self::RsaOaep(keys()?.private_key),
            FieldEncoding::AesCbcWithRsaKey => {
                let keys = keys()?;
                Self::AesCbc { key: unwrap_aes_key(params, keys)?, iv: keys.openid_key }
            }
        })
    }

    fn open(&self, raw: &str) -> Option<String> {
        let bytes = match self {
            Self::Plain => return Some(raw.to_owned()),
            Self::AesEcb(key) => aes_ecb_decrypt(key, raw).ok()?,
            Self::RsaOaep(key) => key.decrypt(RsaPadding::OaepSha1, raw).ok()?,
            Self::AesCbc { key, iv } => aes_cbc_decrypt(key, iv, raw).ok()?,
        };
        String::from_utf8(bytes).ok()
    }
}

/// `aesKey`: the caller's AES key, RSA-encrypted.
fn unwrap_aes_key(params: &RequestParams, keys: &ServerKeys<'_>) -> Result<AesKey, Refusal> {
    let wrapped = params.get(Param::AesKey);
    if wrapped.is_empty() {
        return Err(Refusal::new(Param::AesKey, RefusalProblem::Empty));
    }
    keys.private_key
        .decrypt(keys.idcard_key_padding, wrapped)
        .ok()
        .and_then(|bytes| AesKey::from_bytes(&bytes[..]).ok())
        .ok_or(Refusal::new(Param::AesKey, RefusalProblem::Undecryptable))
}

/// The sign is over the values as received, in the documented order.
fn check_sign(
    params: &RequestParams,
    fields: &PersonalFields,
    keys: Option<&ServerKeys<'_>>,
) -> Result<(), Refusal> {
    let keys = keys.ok_or(Refusal::new(Param::Sign, RefusalProblem::NoKeys))?;
    let expected = md5_sign(&[
        keys.openid,
        keys.key,
        fields.get(Param::Realname),
        fields.get(Param::Idcard),
        fields.get(Param::Mobile),
    ]);
    // Lowercase hex, as documented ("后小写"): an uppercase sign is refused, so a client's
    // tests catch the mistake before Juhe does.
    if params.get(Param::Sign) == expected {
        Ok(())
    } else {
        Err(Refusal::new(Param::Sign, RefusalProblem::BadSign))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> CivilDate {
        CivilDate::new(2026, 12, 1).unwrap()
    }

    fn params(body: &str) -> RequestParams {
        let request = http::Request::post("/x?mobile=13000000000")
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.as_bytes().to_vec())
            .unwrap();
        RequestParams::of(&request)
    }

    #[test]
    fn the_body_wins_over_the_query_and_unknown_names_are_ignored() {
        let p = params("mobile=13912345678&mobile=13800000000&nonsense=1");
        assert_eq!(p.get(Param::Mobile), "13912345678");
        assert_eq!(format!("{p:?}"), r#"{"mobile"}"#);
    }

    #[test]
    fn refusals_carry_the_products_code_and_juhes_reason() {
        let face = Refusal::new(Param::Idcard, RefusalProblem::Empty);
        assert_eq!(face.error_code(Product::Face), ErrorCode::FACE_MISSING_PARAMETER);
        assert_eq!(face.reason(), "参数错误：身份证号码不能为空");
        let malformed = Refusal::new(Param::Idcard, RefusalProblem::Malformed);
        assert_eq!(malformed.error_code(Product::Face), ErrorCode::FACE_INVALID_ID_CARD);
        assert_eq!(malformed.error_code(Product::Telecom2), ErrorCode::TELECOM2_INVALID_ID_CARD);
        let mobile = Refusal::new(Param::Mobile, RefusalProblem::Malformed);
        assert_eq!(mobile.error_code(Product::Telecom2), ErrorCode::TELECOM2_INVALID_MOBILE);
        let aes_key = Refusal::new(Param::AesKey, RefusalProblem::Undecryptable);
        assert_eq!(aes_key.error_code(Product::IdCard), ErrorCode::IDCARD_INVALID_PARAMETER);
        assert_eq!(aes_key.reason(), "参数错误：aesKey解密失败");
        assert_eq!(Refusal::new(Param::Sign, RefusalProblem::BadSign).reason(), "参数错误：签名错误");
    }

    #[test]
    fn a_field_names_itself_when_malformed() {
        let p = params("realname=%E5%BC%A0%E4%B8%89&idcard=11010519491231002Y&mobile=13912345678");
        let refusal = read_check(Endpoint::Telecom3Query, &p, None, today()).unwrap_err();
        assert_eq!(refusal, Refusal::new(Param::Idcard, RefusalProblem::Malformed));
    }

    #[test]
    fn encrypted_endpoints_without_keys_are_refused_not_read() {
        let p = params("realname=a&idcard=b&mobile=c");
        let refusal = read_check(Endpoint::Telecom3QueryEncry, &p, None, today()).unwrap_err();
        assert_eq!(refusal.problem, RefusalProblem::NoKeys);
    }
}
