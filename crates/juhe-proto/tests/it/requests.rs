//! Snapshots of every request the 11 endpoints build, with fixed credentials and a seeded RNG.
//! Each encrypted field is shown decrypted beside its ciphertext: these snapshots are the
//! protocol reference, reviewed by hand. RSA ciphertexts are shown by their length: the `aws-lc`
//! backend pads from its own generator, so they differ from run to run, and the snapshots are
//! the same for both backends.

use crate::{JPEG, TODAY};
use juhe_crypto::{AesKey, RsaPadding, RsaPrivateKey, RsaPublicKey, aes_cbc_decrypt, aes_ecb_decrypt};
use juhe_proto::{
    BaseUrls, Check, Credentials, EncodedRequest, Endpoint, FaceCheck, FieldEncoding, IdCardCheck, Product,
    Protocol, Telecom2Check, Telecom3Check, decode_form,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const KEY: &str = "0123456789abcdef0123456789abcdef";
const OPENID: &str = "JHopenid0123456789abcdef01234567";
const PRIVATE_PEM: &str = include_str!("../data/rsa_private.pem");
const PUBLIC_PEM: &str = include_str!("../data/rsa_public_spki.pem");

fn protocol() -> Protocol {
    let credentials = Credentials::new(KEY)
        .unwrap()
        .with_openid(OPENID)
        .unwrap()
        .with_rsa_public_key(RsaPublicKey::parse(PUBLIC_PEM).unwrap());
    Protocol::new(credentials)
}

fn encode(endpoint: Endpoint, protocol: &Protocol) -> EncodedRequest {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let (name, idcard, mobile) = ("阿依古丽·买买提", "11010519491231002X", "13912345678");
    let mode = endpoint.info().mode;
    let encoded = match endpoint.info().product {
        Product::IdCard => {
            protocol.encode_with_rng(&IdCardCheck::new_on(name, idcard, TODAY).unwrap(), mode, &mut rng)
        }
        Product::Telecom2 => {
            protocol.encode_with_rng(&Telecom2Check::new_on(idcard, mobile, TODAY).unwrap(), mode, &mut rng)
        }
        Product::Telecom3 => protocol.encode_with_rng(
            &Telecom3Check::new_on(name, idcard, mobile, TODAY).unwrap(),
            mode,
            &mut rng,
        ),
        Product::Face => protocol.encode_with_rng(
            &FaceCheck::new_on(name, idcard, mobile, JPEG.to_vec(), TODAY).unwrap(),
            mode,
            &mut rng,
        ),
    };
    let encoded = encoded.unwrap();
    assert_eq!(encoded.endpoint, endpoint);
    encoded
}

/// What an encrypted field holds, opened with the test keys.
fn opened(encoding: FieldEncoding, name: &str, value: &str, aes_key: Option<&AesKey>) -> Option<String> {
    let private = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    let openid_key = AesKey::from_openid(OPENID);
    let bytes = match (encoding, name) {
        (_, "key" | "sign" | "orderid") => return None,
        (FieldEncoding::AesCbcWithRsaKey, "aesKey") => private.decrypt(RsaPadding::Pkcs1v15, value).unwrap(),
        (FieldEncoding::AesCbcWithRsaKey, _) => {
            aes_cbc_decrypt(aes_key.unwrap(), &openid_key, value).unwrap()
        }
        (FieldEncoding::AesEcb, _) => aes_ecb_decrypt(&openid_key, value).unwrap(),
        (FieldEncoding::RsaOaep, _) => private.decrypt(RsaPadding::OaepSha1, value).unwrap(),
        (FieldEncoding::Plain | FieldEncoding::Signed, _) => return None,
    };
    Some(String::from_utf8(bytes).unwrap())
}

/// Whether a field of an endpoint with `encoding` is sealed with RSA.
fn is_rsa(encoding: FieldEncoding, name: &str) -> bool {
    match encoding {
        FieldEncoding::RsaOaep => name != "key",
        FieldEncoding::AesCbcWithRsaKey => name == "aesKey",
        _ => false,
    }
}

/// The body with each RSA ciphertext replaced by a placeholder (its length once URL-encoded
/// varies with the `+`, `/` and `=` it happens to hold).
fn body_without_rsa_ciphertexts(encoding: FieldEncoding, body: &str) -> String {
    let pairs = body.split('&').map(|pair| match pair.split_once('=') {
        Some((name, _)) if is_rsa(encoding, name) => format!("{name}=<RSA ciphertext>"),
        _ => pair.to_owned(),
    });
    pairs.collect::<Vec<_>>().join("&")
}

fn render(encoded: &EncodedRequest) -> String {
    let request = &encoded.request;
    let info = encoded.endpoint.info();
    let mut out = format!("{} {}\n", request.method(), request.uri());
    for (name, value) in request.headers() {
        out += &format!("{name}: {}\n", value.to_str().unwrap());
    }
    let body = body_without_rsa_ciphertexts(info.encoding, std::str::from_utf8(request.body()).unwrap());
    out += &format!("\n{body}\n\nform fields:\n");
    let fields = decode_form(request.body());
    let aes_key = fields.iter().find(|(n, _)| n == "aesKey").map(|(_, v)| {
        AesKey::from_bytes(
            &RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap().decrypt(RsaPadding::Pkcs1v15, v).unwrap(),
        )
        .unwrap()
    });
    for (name, value) in &fields {
        if is_rsa(info.encoding, name) {
            out += &format!("  {name} = <RSA: {} base64 characters>\n", value.len());
        } else {
            out += &format!("  {name} = {value}\n");
        }
        if let Some(plain) = opened(info.encoding, name, value, aes_key.as_ref()) {
            out += &format!("      decrypts to: {plain}\n");
        }
    }
    out
}

#[test]
fn every_endpoint_builds_its_documented_request() {
    let protocol = protocol();
    for endpoint in Endpoint::ALL {
        let encoded = encode(endpoint, &protocol);
        // Nothing personal, and no credential, in the URL.
        assert_eq!(encoded.request.uri().query(), None);
        assert_eq!(encoded.request.method(), http::Method::POST);
        let names: Vec<String> = decode_form(encoded.request.body()).into_iter().map(|(n, _)| n).collect();
        let params: Vec<&str> = endpoint.info().params.iter().map(|p| p.wire_name()).collect();
        assert_eq!(names, params);
        insta::assert_snapshot!(endpoint.info().api.replace('/', "__"), render(&encoded));
    }
}

/// The RNG is the only source of randomness: with the same seed, the same bytes. AWS-LC pads
/// RSA from its own generator, so with that backend the RSA fields are left out of the
/// comparison.
#[test]
fn the_same_seed_gives_the_same_bytes() {
    use juhe_crypto::rsa_backend::{RsaBackend, Selected};
    let rsa_is_seeded = Selected::DRAWS_FROM_CALLER_RNG;
    let protocol = protocol();
    for endpoint in Endpoint::ALL {
        let encoding = endpoint.info().encoding;
        let comparable = |encoded: EncodedRequest| -> Vec<(String, String)> {
            let fields = decode_form(encoded.request.body());
            fields.into_iter().filter(|(name, _)| rsa_is_seeded || !is_rsa(encoding, name)).collect()
        };
        assert_eq!(comparable(encode(endpoint, &protocol)), comparable(encode(endpoint, &protocol)));
    }
}

#[test]
fn every_field_decrypts_to_what_was_checked() {
    let protocol = protocol();
    for endpoint in Endpoint::ALL {
        let encoded = encode(endpoint, &protocol);
        let fields = decode_form(encoded.request.body());
        let aes_key = fields.iter().find(|(n, _)| n == "aesKey").map(|(_, v)| {
            AesKey::from_bytes(
                &RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap().decrypt(RsaPadding::Pkcs1v15, v).unwrap(),
            )
            .unwrap()
        });
        for (name, value) in &fields {
            let expected = match name.as_str() {
                "realname" => "阿依古丽·买买提",
                "idcard" => "11010519491231002X",
                "mobile" => "13912345678",
                _ => continue,
            };
            let plain = opened(endpoint.info().encoding, name, value, aes_key.as_ref())
                .unwrap_or_else(|| value.clone());
            assert_eq!(plain, expected, "{endpoint} {name}");
        }
    }
}

#[test]
fn the_sign_is_md5_of_openid_key_and_fields() {
    let encoded = encode(Endpoint::Telecom3Verify, &protocol());
    let fields = decode_form(encoded.request.body());
    let sign = &fields.iter().find(|(n, _)| n == "sign").unwrap().1;
    let expected =
        juhe_crypto::md5_sign(&[OPENID, KEY, "阿依古丽·买买提", "11010519491231002X", "13912345678"]);
    assert_eq!(sign, &expected);
}

#[test]
fn a_base_url_override_replaces_both_hosts() {
    let protocol = protocol().with_base_urls(BaseUrls::single("http://127.0.0.1:8080/").unwrap());
    assert_eq!(encode(Endpoint::IdCardQuery, &protocol).request.uri(), "http://127.0.0.1:8080/idcard/query");
    assert_eq!(
        encode(Endpoint::FaceQuery, &protocol).request.uri(),
        "http://127.0.0.1:8080/verifyface_mobile/query"
    );
}

#[test]
fn oaep_can_wrap_the_idcard_key_when_configured() {
    let protocol = protocol().with_idcard_key_padding(RsaPadding::OaepSha1);
    let encoded = encode(Endpoint::IdCardQueryEncryV2, &protocol);
    let fields = decode_form(encoded.request.body());
    let wrapped = &fields.iter().find(|(n, _)| n == "aesKey").unwrap().1;
    let private = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    assert!(private.decrypt(RsaPadding::OaepSha1, wrapped).is_ok());
    assert!(private.decrypt(RsaPadding::Pkcs1v15, wrapped).is_err());
}

#[test]
fn modes_without_their_credentials_are_refused_before_sending() {
    use juhe_proto::{Credential, EncodeError, MissingCredential, Mode};
    let plain_only = Protocol::new(Credentials::new(KEY).unwrap());
    let check = Telecom3Check::new_on("张三", "11010519491231002X", "13912345678", TODAY).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for (mode, credential) in [
        (Mode::Signed, Credential::Openid),
        (Mode::Aes, Credential::Openid),
        (Mode::Rsa, Credential::RsaPublicKey),
    ] {
        let err = plain_only.encode_with_rng(&check, mode, &mut rng).unwrap_err();
        assert_eq!(err, EncodeError::MissingCredential(MissingCredential { credential, mode }));
    }
    let face = FaceCheck::new_on("张三", "11010519491231002X", "13912345678", JPEG.to_vec(), TODAY).unwrap();
    assert!(matches!(
        protocol().encode_with_rng(&face, Mode::Aes, &mut rng),
        Err(EncodeError::UnsupportedMode(_))
    ));
    assert_eq!(face.product(), Product::Face);
    assert_eq!(FaceCheck::PRODUCT, Product::Face);
}
