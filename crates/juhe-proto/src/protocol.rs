//! Building requests: a check, a mode and the credentials become one HTTP request.

use std::borrow::Cow;
use std::sync::Arc;

use juhe_crypto::rand_core::CryptoRngCore;
use juhe_crypto::{AesKey, RsaPadding, RsaPublicKey, aes_cbc_encrypt, aes_ecb_encrypt, md5_sign};

use crate::form::encode_form;
use crate::{
    BaseUrls, Check, Credential, Credentials, DecodeError, EncodeError, Endpoint, EndpointInfo,
    FieldEncoding, HttpRequest, HttpResponse, MissingCredential, Mode, Param, ParamKind, Product,
};

/// The content type of every request. The charset matters: Java servlet containers read form
/// bodies as ISO-8859-1 unless told otherwise, which would garble Chinese names.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// The protocol configuration: credentials, where to send, and the one RSA setting the
/// documents leave open. Cheap to clone; build once, use for every request.
#[derive(Clone)]
pub struct Protocol {
    credentials: Credentials,
    base_urls: BaseUrls,
    idcard_key_padding: RsaPadding,
    /// Each endpoint's URL under `base_urls`, in the order of [`Endpoint::ALL`], parsed once:
    /// a request's URL is a clone of it, not a string formatted and parsed again per request.
    endpoint_urls: Arc<[Option<http::Uri>]>,
}

impl std::fmt::Debug for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protocol")
            .field("credentials", &self.credentials)
            .field("base_urls", &self.base_urls)
            .field("idcard_key_padding", &self.idcard_key_padding)
            .finish_non_exhaustive()
    }
}

/// A request ready to send, and the endpoint it is for.
#[derive(Debug)]
pub struct EncodedRequest {
    /// The endpoint it is for: what to pass to [`decode`](crate::decode) is its product's
    /// check.
    pub endpoint: Endpoint,
    /// The HTTP request: a POST with a form body; nothing personal in the URL.
    pub request: HttpRequest,
}

impl Protocol {
    /// A protocol for Juhe's real hosts over HTTPS.
    pub fn new(credentials: Credentials) -> Self {
        let base_urls = BaseUrls::default();
        let endpoint_urls = endpoint_urls(&base_urls);
        Self { credentials, base_urls, idcard_key_padding: RsaPadding::Pkcs1v15, endpoint_urls }
    }

    /// Sends to other base URLs (a sandbox, a proxy).
    pub fn with_base_urls(mut self, base_urls: BaseUrls) -> Self {
        self.endpoint_urls = endpoint_urls(&base_urls);
        self.base_urls = base_urls;
        self
    }

    /// The RSA padding of `aesKey` in `idcard/queryEncryV2`, which the documents do not state:
    /// PKCS#1 v1.5 by default ([docs/protocol.md, "idcard RSA mode"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#idcard-rsa-mode)).
    pub fn with_idcard_key_padding(mut self, padding: RsaPadding) -> Self {
        self.idcard_key_padding = padding;
        self
    }

    /// The credentials requests are made with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Where requests go.
    pub fn base_urls(&self) -> &BaseUrls {
        &self.base_urls
    }

    /// The endpoint for `product` in `mode`, once the credentials it needs are there.
    pub fn endpoint(&self, product: Product, mode: Mode) -> Result<Endpoint, EncodeError> {
        let endpoint = Endpoint::find(product, mode)?;
        self.credentials.require_endpoint(endpoint)?;
        Ok(endpoint)
    }

    /// Builds the request for `check` in `mode`. The RSA modes draw their randomness (padding
    /// and, for idcard, the fresh AES key) from the operating system's generator: no RNG is
    /// needed from the caller, whatever version of `rand` it uses.
    pub fn encode<C: Check>(&self, check: &C, mode: Mode) -> Result<EncodedRequest, EncodeError> {
        self.encode_with_rng(check, mode, &mut juhe_crypto::rand_core::OsRng)
    }

    /// [`encode`](Self::encode) with the RSA modes' randomness from `rng` (a
    /// [`juhe_crypto::rand_core`] 0.6 generator): a seeded one makes the bytes repeat, for
    /// tests. Outside tests, use `encode`.
    pub fn encode_with_rng<C: Check>(
        &self,
        check: &C,
        mode: Mode,
        rng: &mut impl CryptoRngCore,
    ) -> Result<EncodedRequest, EncodeError> {
        let endpoint = self.endpoint(check.product(), mode)?;
        let info = endpoint.info();
        let encoder = FieldEncoder::new(self, info, rng)?;
        let mut pairs: Vec<(Param, Cow<'_, str>)> = Vec::with_capacity(info.params.len());
        for &param in info.params {
            let value = match param.kind() {
                ParamKind::Credential => Cow::Borrowed(self.credentials.key()),
                ParamKind::Constant => Cow::Borrowed(ORDERID_WANTED),
                ParamKind::Derived if param == Param::Sign => Cow::Owned(self.sign(check)),
                ParamKind::Derived => Cow::Owned(encoder.wrapped_key.clone().unwrap_or_default()),
                ParamKind::Personal => encoder.encode(personal(check, param), rng)?,
            };
            pairs.push((param, value));
        }
        let body = encode_form(pairs.iter().map(|(p, v)| (p.wire_name(), v.as_ref())));
        let url =
            Endpoint::ALL.iter().position(|e| *e == endpoint).and_then(|i| self.endpoint_urls[i].clone());
        let request = http::Request::post(url.ok_or(EncodeError::BaseUrl)?)
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(http::header::ACCEPT, "application/json")
            .body(body.into_bytes())
            .map_err(|_| EncodeError::BaseUrl)?;
        Ok(EncodedRequest { endpoint, request })
    }

    /// Reads the answer to `check` (see [`decode`](crate::decode)).
    pub fn decode<C: Check>(&self, check: &C, response: &HttpResponse) -> Result<C::Outcome, DecodeError> {
        crate::decode(check, response)
    }

    /// `md5(openid + key + realname + idcard + mobile)`, lowercase hex
    /// ([docs/protocol.md, "Sign"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#sign)).
    fn sign<C: Check>(&self, check: &C) -> String {
        let field = |param| check.field(param).unwrap_or_default();
        let (name, idcard, mobile) = (field(Param::Realname), field(Param::Idcard), field(Param::Mobile));
        let openid = self.credentials.openid().unwrap_or_default();
        md5_sign(&[openid, self.credentials.key(), &name, &idcard, &mobile])
    }
}

/// The URL of each of [`Endpoint::ALL`] under `base_urls` (`None`: not a URL, which the
/// checks of [`BaseUrls`] make impossible; encoding for it fails).
fn endpoint_urls(base_urls: &BaseUrls) -> Arc<[Option<http::Uri>]> {
    let url = |endpoint: &Endpoint| {
        let info = endpoint.info();
        format!("{}/{}", base_urls.of(info.host), info.api).parse().ok()
    };
    Endpoint::ALL.iter().map(url).collect()
}

/// The value of `orderid`: asks Juhe to put its order number in the answer
/// ([docs/protocol.md, "Order numbers"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#order-numbers)).
const ORDERID_WANTED: &str = "1";

/// A personal field of `check`. Every product's check has every personal parameter its
/// endpoints list (a test in this module walks them all), so `None` cannot happen.
fn personal<C: Check>(check: &C, param: Param) -> Cow<'_, str> {
    check.field(param).unwrap_or_default()
}

/// Encodes the personal fields of one request.
struct FieldEncoder<'p> {
    encoding: FieldEncoding,
    mode: Mode,
    openid_key: Option<&'p AesKey>,
    rsa: Option<&'p RsaPublicKey>,
    /// For `AesCbcWithRsaKey`: the fresh AES key, and the same key RSA-wrapped for `aesKey`.
    random_key: Option<AesKey>,
    wrapped_key: Option<String>,
}

impl<'p> FieldEncoder<'p> {
    fn new(
        protocol: &'p Protocol,
        info: &EndpointInfo,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, EncodeError> {
        let (encoding, credentials) = (info.encoding, &protocol.credentials);
        let mut encoder = Self {
            encoding,
            mode: info.mode,
            openid_key: credentials.openid_aes_key(),
            rsa: credentials.rsa_public_key(),
            random_key: None,
            wrapped_key: None,
        };
        if let (FieldEncoding::AesCbcWithRsaKey, Some(rsa)) = (encoding, encoder.rsa) {
            let key = AesKey::random(rng);
            let wrapped = rsa
                .encrypt_with_rng(protocol.idcard_key_padding, rng, key.as_bytes())
                .map_err(EncodeError::Crypto)?;
            encoder.wrapped_key = Some(wrapped);
            encoder.random_key = Some(key);
        }
        Ok(encoder)
    }

    fn encode<'v>(
        &self,
        plain: Cow<'v, str>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Cow<'v, str>, EncodeError> {
        // `endpoint()` has checked that the credentials this encoding needs are present.
        let missing = |credential| MissingCredential { credential, mode: self.mode };
        Ok(match self.encoding {
            FieldEncoding::Plain | FieldEncoding::Signed => plain,
            FieldEncoding::AesEcb => {
                let key = self.openid_key.ok_or(missing(Credential::Openid))?;
                Cow::Owned(aes_ecb_encrypt(key, plain.as_bytes()))
            }
            FieldEncoding::RsaOaep => {
                let rsa = self.rsa.ok_or(missing(Credential::RsaPublicKey))?;
                Cow::Owned(
                    rsa.encrypt_with_rng(RsaPadding::OaepSha1, rng, plain.as_bytes())
                        .map_err(EncodeError::Crypto)?,
                )
            }
            FieldEncoding::AesCbcWithRsaKey => {
                let iv = self.openid_key.ok_or(missing(Credential::Openid))?;
                let key = self.random_key.as_ref().ok_or(missing(Credential::RsaPublicKey))?;
                Cow::Owned(aes_cbc_encrypt(key, iv, plain.as_bytes()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FaceCheck, IdCardCheck, Product, Telecom2Check, Telecom3Check};

    /// Every personal parameter an endpoint lists is one its product's check has: the
    /// encoder never sends an empty field because a table names a parameter a check lacks.
    #[test]
    fn every_personal_parameter_of_every_endpoint_has_a_value() {
        let today = crate::CivilDate { year: 2026, month: 11, day: 23 };
        let png = crate::validation::TEST_JPEG.to_vec();
        let (id, mobile) = ("11010519491231002X", "13912345678");
        let idcard = IdCardCheck::new_on("张三", id, today).unwrap();
        let telecom2 = Telecom2Check::new_on(id, mobile, today).unwrap();
        let telecom3 = Telecom3Check::new_on("张三", id, mobile, today).unwrap();
        let face = FaceCheck::new_on("张三", id, mobile, png, today).unwrap();
        let has = |product: Product, param: Param| {
            match product {
                Product::IdCard => idcard.field(param),
                Product::Telecom2 => telecom2.field(param),
                Product::Telecom3 => telecom3.field(param),
                Product::Face => face.field(param),
            }
            .is_some_and(|v| !v.is_empty())
        };
        for endpoint in Endpoint::ALL {
            let info = endpoint.info();
            for param in info.params.iter().filter(|p| p.kind() == ParamKind::Personal) {
                assert!(has(info.product, *param), "{endpoint} sends {param}, which its check lacks");
            }
        }
    }
}
