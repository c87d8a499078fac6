//! Building requests: a check, a mode and the credentials become one HTTP request.

use std::borrow::Cow;

use juhe_crypto::rand_core::CryptoRngCore;
use juhe_crypto::{AesKey, RsaPadding, RsaPublicKey, aes_cbc_encrypt, aes_ecb_encrypt, md5_sign};

use crate::error::Credential;
use crate::form::encode_form;
use crate::{
    BaseUrls, Check, Credentials, Endpoint, FieldEncoding, HttpRequest, HttpResponse, Mode, ProtoError,
};

/// The content type of every request. The charset matters: Java servlet containers read form
/// bodies as ISO-8859-1 unless told otherwise, which would garble Chinese names.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// The protocol configuration: credentials, where to send, and the one RSA setting the
/// documents leave open. Cheap to clone; build once, use for every request.
#[derive(Debug, Clone)]
pub struct Protocol {
    credentials: Credentials,
    base_urls: BaseUrls,
    idcard_key_padding: RsaPadding,
}

/// A request ready to send, and the endpoint it is for.
#[derive(Debug)]
pub struct EncodedRequest {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The HTTP request: a POST with a form body; nothing personal in the URL.
    pub request: HttpRequest,
}

impl Protocol {
    /// A protocol for Juhe's real hosts over HTTPS.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials, base_urls: BaseUrls::default(), idcard_key_padding: RsaPadding::Pkcs1v15 }
    }

    /// Sends to other base URLs (a sandbox, a proxy).
    pub fn with_base_urls(mut self, base_urls: BaseUrls) -> Self {
        self.base_urls = base_urls;
        self
    }

    /// The RSA padding of `aesKey` in `idcard/queryEncryV2`, which the documents do not state:
    /// PKCS#1 v1.5 by default (spec README §2).
    pub fn with_idcard_key_padding(mut self, padding: RsaPadding) -> Self {
        self.idcard_key_padding = padding;
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The base URLs.
    pub fn base_urls(&self) -> &BaseUrls {
        &self.base_urls
    }

    /// The endpoint for `C` in `mode`, once the credentials the mode needs are there.
    pub fn endpoint<C: Check>(&self, mode: Mode) -> Result<Endpoint, ProtoError> {
        let endpoint = Endpoint::find(C::PRODUCT, mode)
            .ok_or(ProtoError::UnsupportedMode { product: C::PRODUCT, mode })?;
        let encoding = endpoint.info().encoding;
        let needs_openid = matches!(
            encoding,
            FieldEncoding::Signed | FieldEncoding::AesEcb | FieldEncoding::AesCbcWithRsaKey
        );
        let needs_rsa = matches!(encoding, FieldEncoding::RsaOaep | FieldEncoding::AesCbcWithRsaKey);
        if needs_openid && self.credentials.openid().is_none() {
            return Err(ProtoError::MissingCredential { credential: Credential::Openid, mode });
        }
        if needs_rsa && self.credentials.rsa_public_key().is_none() {
            return Err(ProtoError::MissingCredential { credential: Credential::RsaPublicKey, mode });
        }
        Ok(endpoint)
    }

    /// Builds the request for `check` in `mode`. `rng` feeds the RSA modes (padding and, for
    /// idcard, the fresh AES key); pass a cryptographic RNG such as `rand::rngs::OsRng`.
    pub fn encode<C: Check>(
        &self,
        check: &C,
        mode: Mode,
        rng: &mut impl CryptoRngCore,
    ) -> Result<EncodedRequest, ProtoError> {
        let endpoint = self.endpoint::<C>(mode)?;
        let info = endpoint.info();
        let encoder = FieldEncoder::new(self, info.encoding, rng)?;
        let mut pairs: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(info.params.len());
        for &param in info.params {
            let value = match param {
                "key" => Cow::Borrowed(self.credentials.key()),
                "orderid" => Cow::Borrowed("1"),
                "sign" => Cow::Owned(self.sign(check)),
                "aesKey" => Cow::Owned(encoder.wrapped_key.clone().unwrap_or_default()),
                field => encoder.encode(check.field(field).unwrap_or_default(), rng)?,
            };
            pairs.push((param, value));
        }
        let body = encode_form(pairs.iter().map(|(n, v)| (*n, v.as_ref())));
        let url = format!("{}/{}", self.base_urls.of(info.host), info.api);
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(http::header::ACCEPT, "application/json")
            .body(body.into_bytes())
            .map_err(|_| crate::ValidationError::new(crate::Field::BaseUrl, crate::Problem::Url))?;
        Ok(EncodedRequest { endpoint, request })
    }

    /// Reads the answer to a check (see [`decode`](crate::decode)).
    pub fn decode<C: Check>(&self, response: &HttpResponse) -> Result<C::Outcome, ProtoError> {
        crate::decode::<C>(response)
    }

    /// `md5(openid + key + realname + idcard + mobile)`, lowercase hex (spec §5).
    fn sign<C: Check>(&self, check: &C) -> String {
        let field = |name| check.field(name).unwrap_or_default();
        let (name, idcard, mobile) = (field("realname"), field("idcard"), field("mobile"));
        let openid = self.credentials.openid().unwrap_or_default();
        md5_sign(&[openid, self.credentials.key(), &name, &idcard, &mobile])
    }
}

/// Encodes the personal fields of one request.
struct FieldEncoder<'p> {
    encoding: FieldEncoding,
    openid_key: Option<&'p AesKey>,
    rsa: Option<&'p RsaPublicKey>,
    /// For `AesCbcWithRsaKey`: the fresh AES key, and the same key RSA-wrapped for `aesKey`.
    random_key: Option<AesKey>,
    wrapped_key: Option<String>,
}

impl<'p> FieldEncoder<'p> {
    fn new(
        protocol: &'p Protocol,
        encoding: FieldEncoding,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, ProtoError> {
        let credentials = &protocol.credentials;
        let mut encoder = Self {
            encoding,
            openid_key: credentials.openid_aes_key(),
            rsa: credentials.rsa_public_key(),
            random_key: None,
            wrapped_key: None,
        };
        if let (FieldEncoding::AesCbcWithRsaKey, Some(rsa)) = (encoding, encoder.rsa) {
            let key = AesKey::random(rng);
            encoder.wrapped_key = Some(rsa.encrypt(protocol.idcard_key_padding, rng, key.as_bytes())?);
            encoder.random_key = Some(key);
        }
        Ok(encoder)
    }

    fn encode<'v>(
        &self,
        plain: Cow<'v, str>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Cow<'v, str>, ProtoError> {
        // `endpoint()` has checked that the credentials this encoding needs are present.
        let missing = |credential| ProtoError::MissingCredential { credential, mode: Mode::Rsa };
        Ok(match self.encoding {
            FieldEncoding::Plain | FieldEncoding::Signed => plain,
            FieldEncoding::AesEcb => {
                let key = self.openid_key.ok_or(missing(Credential::Openid))?;
                Cow::Owned(aes_ecb_encrypt(key, plain.as_bytes()))
            }
            FieldEncoding::RsaOaep => {
                let rsa = self.rsa.ok_or(missing(Credential::RsaPublicKey))?;
                Cow::Owned(rsa.encrypt(RsaPadding::OaepSha1, rng, plain.as_bytes())?)
            }
            FieldEncoding::AesCbcWithRsaKey => {
                let iv = self.openid_key.ok_or(missing(Credential::Openid))?;
                let key = self.random_key.as_ref().ok_or(missing(Credential::RsaPublicKey))?;
                Cow::Owned(aes_cbc_encrypt(key, iv, plain.as_bytes()))
            }
        })
    }
}
