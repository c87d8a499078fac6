//! Reading a request as Juhe would: its parameters, decrypted, validated.

use std::collections::HashMap;

use juhe_crypto::{AesKey, RsaPadding, RsaPrivateKey, aes_cbc_decrypt, aes_ecb_decrypt, md5_sign};
use juhe_proto::{
    Endpoint, FaceImage, Field, FieldEncoding, IdCardNumber, MobileNumber, Param, ParamKind, PersonName,
    Product, decode_form,
};

use crate::reply::Reply;

/// The parameters of a request: the query string, and for POST a form body. A body parameter
/// wins over a query parameter of the same name; of repeated names the first counts. Names
/// that are no [`Param`] are ignored, as Juhe ignores them.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<Param, String>);

impl Params {
    pub(crate) fn of(request: &http::Request<Vec<u8>>) -> Self {
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
    pub(crate) fn get(&self, param: Param) -> &str {
        self.0.get(&param).map_or("", String::as_str)
    }
}

/// The personal fields of a check, decrypted and validated.
#[derive(Debug, Default)]
pub(crate) struct CheckFields {
    pub(crate) name: Option<PersonName>,
    pub(crate) idcard: Option<IdCardNumber>,
    pub(crate) mobile: Option<MobileNumber>,
    pub(crate) image: Option<FaceImage>,
}

impl CheckFields {
    /// `张*/110***********7777/139****5678`, for the log.
    pub(crate) fn masked(&self) -> String {
        let parts = [
            self.name.as_ref().map(PersonName::masked),
            self.idcard.as_ref().map(IdCardNumber::masked),
            self.mobile.as_ref().map(MobileNumber::masked),
        ];
        parts.into_iter().flatten().collect::<Vec<_>>().join("/")
    }
}

/// The secrets the sandbox decrypts and checks signs with.
pub(crate) struct Keys<'a> {
    pub(crate) key: &'a str,
    pub(crate) openid: &'a str,
    pub(crate) openid_key: &'a AesKey,
    pub(crate) private_key: &'a RsaPrivateKey,
    pub(crate) idcard_key_padding: RsaPadding,
}

/// Decrypts, checks the sign and validates every personal field `endpoint` takes.
pub(crate) fn read_fields(
    endpoint: Endpoint,
    params: &Params,
    keys: &Keys<'_>,
) -> Result<CheckFields, Reply> {
    let info = endpoint.info();
    let product = info.product;
    let cbc_key = match info.encoding {
        FieldEncoding::AesCbcWithRsaKey => Some(unwrap_aes_key(product, params, keys)?),
        _ => None,
    };
    let mut plain: HashMap<Param, String> = HashMap::new();
    for &param in info.params.iter().filter(|p| p.kind() == ParamKind::Personal) {
        let raw = params.get(param);
        let field = Field::from_param(param).unwrap_or(Field::Image);
        if raw.is_empty() {
            return Err(Reply::parameter_error(product, field, "不能为空"));
        }
        let opened = match info.encoding {
            FieldEncoding::Plain | FieldEncoding::Signed => Some(raw.to_owned()),
            FieldEncoding::AesEcb => utf8(aes_ecb_decrypt(keys.openid_key, raw).ok()),
            FieldEncoding::RsaOaep => utf8(keys.private_key.decrypt(RsaPadding::OaepSha1, raw).ok()),
            FieldEncoding::AesCbcWithRsaKey => {
                utf8(cbc_key.as_ref().and_then(|k| aes_cbc_decrypt(k, keys.openid_key, raw).ok()))
            }
        };
        let opened = opened.ok_or_else(|| Reply::parameter_error(product, field, "解密失败"))?;
        plain.insert(param, opened);
    }
    if info.encoding == FieldEncoding::Signed {
        check_sign(params, &plain, keys)?;
    }
    validate(product, &plain)
}

fn utf8(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.and_then(|b| String::from_utf8(b).ok())
}

/// `aesKey`: the caller's AES key, RSA-encrypted.
fn unwrap_aes_key(product: Product, params: &Params, keys: &Keys<'_>) -> Result<AesKey, Reply> {
    let wrapped = params.get(Param::AesKey);
    if wrapped.is_empty() {
        return Err(Reply::parameter_error(product, Field::Key, "aesKey不能为空"));
    }
    keys.private_key
        .decrypt(keys.idcard_key_padding, wrapped)
        .ok()
        .and_then(|bytes| AesKey::from_bytes(&bytes).ok())
        .ok_or_else(|| Reply::parameter_error(product, Field::Key, "aesKey解密失败"))
}

/// The sign is over the values as received, in the documented order.
fn check_sign(params: &Params, plain: &HashMap<Param, String>, keys: &Keys<'_>) -> Result<(), Reply> {
    let field = |param| plain.get(&param).map(String::as_str).unwrap_or_default();
    let expected = md5_sign(&[
        keys.openid,
        keys.key,
        field(Param::Realname),
        field(Param::Idcard),
        field(Param::Mobile),
    ]);
    // Lowercase hex, as documented ("后小写"): an uppercase sign is refused, so a client's
    // tests catch the mistake before Juhe does.
    if params.get(Param::Sign) == expected {
        Ok(())
    } else {
        Err(Reply::parameter_error(Product::Telecom3, Field::Key, "签名错误"))
    }
}

fn validate(product: Product, plain: &HashMap<Param, String>) -> Result<CheckFields, Reply> {
    let bad = |field: Field| Reply::parameter_error(product, field, "格式错误");
    let mut fields = CheckFields::default();
    if let Some(name) = plain.get(&Param::Realname) {
        fields.name = Some(PersonName::parse(name).map_err(|_| bad(Field::Name))?);
    }
    if let Some(idcard) = plain.get(&Param::Idcard) {
        fields.idcard = Some(IdCardNumber::parse(idcard).map_err(|_| bad(Field::IdCard))?);
    }
    if let Some(mobile) = plain.get(&Param::Mobile) {
        fields.mobile = Some(MobileNumber::parse(mobile).map_err(|_| bad(Field::Mobile))?);
    }
    if let Some(image) = plain.get(&Param::Image) {
        // Juhe wants bare base64: no `data:` prefix, no line breaks (docs/protocol.md, "Face image").
        if image.starts_with("data:") || image.chars().any(char::is_whitespace) {
            return Err(bad(Field::Image));
        }
        fields.image = Some(FaceImage::from_base64(image).map_err(|_| bad(Field::Image))?);
    }
    Ok(fields)
}
