//! Reading a request as Juhe would: its parameters, decrypted, validated.

use std::collections::HashMap;

use juhe_crypto::{AesKey, RsaPadding, RsaPrivateKey, aes_cbc_decrypt, aes_ecb_decrypt, md5_sign};
use juhe_proto::{
    Endpoint, FaceImage, Field, FieldEncoding, IdCardNumber, MobileNumber, PersonName, Product, decode_form,
};

use crate::reply::Reply;

/// The parameters of a request: the query string, and for POST a form body. A body parameter
/// wins over a query parameter of the same name; of repeated names the first counts.
pub(crate) fn params(request: &http::Request<Vec<u8>>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let is_form = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if request.method() == http::Method::POST && is_form {
        for (name, value) in decode_form(request.body()) {
            params.entry(name).or_insert(value);
        }
    }
    for (name, value) in decode_form(request.uri().query().unwrap_or_default().as_bytes()) {
        params.entry(name).or_insert(value);
    }
    params
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
    params: &HashMap<String, String>,
    keys: &Keys<'_>,
) -> Result<CheckFields, Reply> {
    let info = endpoint.info();
    let product = info.product;
    let cbc_key = match info.encoding {
        FieldEncoding::AesCbcWithRsaKey => Some(unwrap_aes_key(product, params, keys)?),
        _ => None,
    };
    let mut plain: HashMap<&str, String> = HashMap::new();
    for &name in info.params.iter().filter(|p| matches!(**p, "realname" | "idcard" | "mobile" | "image")) {
        let raw = params.get(name).map(|s| s.as_str()).unwrap_or_default();
        if raw.is_empty() {
            return Err(Reply::parameter_error(product, field_of(name), "不能为空"));
        }
        let opened = match info.encoding {
            FieldEncoding::Plain | FieldEncoding::Signed => Some(raw.to_owned()),
            FieldEncoding::AesEcb => utf8(aes_ecb_decrypt(keys.openid_key, raw).ok()),
            FieldEncoding::RsaOaep => utf8(keys.private_key.decrypt(RsaPadding::OaepSha1, raw).ok()),
            FieldEncoding::AesCbcWithRsaKey => {
                utf8(cbc_key.as_ref().and_then(|k| aes_cbc_decrypt(k, keys.openid_key, raw).ok()))
            }
        };
        let opened = opened.ok_or_else(|| Reply::parameter_error(product, field_of(name), "解密失败"))?;
        plain.insert(name, opened);
    }
    if info.encoding == FieldEncoding::Signed {
        check_sign(params, &plain, keys)?;
    }
    validate(product, &plain)
}

fn utf8(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.and_then(|b| String::from_utf8(b).ok())
}

fn field_of(wire_name: &str) -> Field {
    match wire_name {
        "realname" => Field::Name,
        "idcard" => Field::IdCard,
        "mobile" => Field::Mobile,
        _ => Field::Image,
    }
}

/// `aesKey`: the caller's AES key, RSA-encrypted.
fn unwrap_aes_key(
    product: Product,
    params: &HashMap<String, String>,
    keys: &Keys<'_>,
) -> Result<AesKey, Reply> {
    let wrapped = params.get("aesKey").map(String::as_str).unwrap_or_default();
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
fn check_sign(
    params: &HashMap<String, String>,
    plain: &HashMap<&str, String>,
    keys: &Keys<'_>,
) -> Result<(), Reply> {
    let field = |name: &str| plain.get(name).map(String::as_str).unwrap_or_default();
    let expected = md5_sign(&[keys.openid, keys.key, field("realname"), field("idcard"), field("mobile")]);
    let given = params.get("sign").map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default();
    if given == expected {
        Ok(())
    } else {
        Err(Reply::parameter_error(Product::Telecom3, Field::Key, "签名错误"))
    }
}

fn validate(product: Product, plain: &HashMap<&str, String>) -> Result<CheckFields, Reply> {
    let bad = |field: Field| Reply::parameter_error(product, field, "格式错误");
    let mut fields = CheckFields::default();
    if let Some(name) = plain.get("realname") {
        fields.name = Some(PersonName::parse(name).map_err(|_| bad(Field::Name))?);
    }
    if let Some(idcard) = plain.get("idcard") {
        fields.idcard = Some(IdCardNumber::parse(idcard).map_err(|_| bad(Field::IdCard))?);
    }
    if let Some(mobile) = plain.get("mobile") {
        fields.mobile = Some(MobileNumber::parse(mobile).map_err(|_| bad(Field::Mobile))?);
    }
    if let Some(image) = plain.get("image") {
        // Juhe wants bare base64: no `data:` prefix, no line breaks (spec §9).
        if image.starts_with("data:") || image.chars().any(char::is_whitespace) {
            return Err(bad(Field::Image));
        }
        fields.image = Some(FaceImage::from_base64(image).map_err(|_| bad(Field::Image))?);
    }
    Ok(fields)
}
