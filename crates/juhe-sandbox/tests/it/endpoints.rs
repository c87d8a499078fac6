//! Every endpoint × mode against a running sandbox over loopback: match, mismatch, bad key,
//! each format error, tampered ciphertext, bad sign, unknown person and each magic identity;
//! requests made by `juhe-proto`, by crypto primitives directly, and by OpenSSL.

use std::time::Duration;

use crate::raw_http::{RawResponse, post_form, send_request};
use juhe_crypto::{AesKey, RsaPadding, RsaPublicKey, aes_cbc_encrypt, aes_ecb_encrypt, md5_sign};
use juhe_proto::{
    AnyCheck, BaseUrls, Credentials, DecodeError, Endpoint, FaceCheck, FieldEncoding, IdCardCheck, Outcome,
    Param, Product, Protocol, Telecom2Check, Telecom3Check, Telecom3Outcome, Telecom3Rescode, Verdict,
    decode, encode_form,
};
use juhe_sandbox::{Identity, SANDBOX_KEY, SANDBOX_OPENID, SANDBOX_RSA_PUBLIC_KEY_PEM, Sandbox, magic};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn protocol(sandbox: &Sandbox, key: &str) -> Protocol {
    let credentials = Credentials::new(key)
        .unwrap()
        .with_openid(SANDBOX_OPENID)
        .unwrap()
        .with_rsa_public_key(RsaPublicKey::parse(SANDBOX_RSA_PUBLIC_KEY_PEM).unwrap());
    Protocol::new(credentials).with_base_urls(BaseUrls::single(sandbox.base_url()).unwrap())
}

/// A person's fields for an endpoint: (name, idcard, mobile, image).
type Person<'a> = (&'a str, &'a str, &'a str, &'a [u8]);

fn person(identity: &Identity) -> Person<'_> {
    (&identity.name, &identity.idcard, &identity.mobile, &identity.face_image)
}

/// Sends a check built by `juhe-proto` and returns the verdict, or the error code.
fn check(
    sandbox: &Sandbox,
    protocol: &Protocol,
    endpoint: Endpoint,
    who: Person<'_>,
) -> Result<Verdict, i64> {
    let (name, idcard, mobile, image) = who;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mode = endpoint.info().mode;
    let check: AnyCheck = match endpoint.info().product {
        Product::IdCard => IdCardCheck::new(name, idcard).unwrap().into(),
        Product::Telecom2 => Telecom2Check::new(idcard, mobile).unwrap().into(),
        Product::Telecom3 => Telecom3Check::new(name, idcard, mobile).unwrap().into(),
        Product::Face => FaceCheck::new(name, idcard, mobile, image.to_vec()).unwrap().into(),
    };
    let (request, response) = roundtrip(sandbox, protocol.encode_with_rng(&check, mode, &mut rng));
    assert_eq!(request, endpoint);
    let decoded = decode(&check, &response).map(|o| o.verdict());
    match decoded {
        Ok(verdict) => Ok(verdict),
        Err(DecodeError::Service(e)) => Err(e.code.code()),
        Err(other) => panic!("{endpoint}: {other}"),
    }
}

fn roundtrip(
    sandbox: &Sandbox,
    encoded: Result<juhe_proto::EncodedRequest, juhe_proto::EncodeError>,
) -> (Endpoint, http::Response<Vec<u8>>) {
    let encoded = encoded.unwrap();
    (encoded.endpoint, send_request(sandbox.addr(), &encoded.request).unwrap().to_http())
}

/// Builds a body from raw field values with the crypto primitives, bypassing the SDK's
/// validation, optionally corrupting the first encrypted field.
fn raw_body(endpoint: Endpoint, fields: &[(&str, &str)], tamper: bool) -> Vec<u8> {
    let info = endpoint.info();
    let openid_key = AesKey::from_openid(SANDBOX_OPENID);
    let rsa = RsaPublicKey::parse(SANDBOX_RSA_PUBLIC_KEY_PEM).unwrap();
    let cbc_key = AesKey::from_bytes(b"TestsOwnAesKey16").unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut pairs = vec![("key".to_owned(), SANDBOX_KEY.to_owned())];
    if info.encoding == FieldEncoding::AesCbcWithRsaKey {
        pairs.push((
            "aesKey".into(),
            rsa.encrypt_with_rng(RsaPadding::Pkcs1v15, &mut rng, cbc_key.as_bytes()).unwrap(),
        ));
    }
    for (name, value) in fields {
        let sealed = match info.encoding {
            FieldEncoding::Plain | FieldEncoding::Signed => value.to_string(),
            FieldEncoding::AesEcb => aes_ecb_encrypt(&openid_key, value.as_bytes()),
            FieldEncoding::RsaOaep => {
                rsa.encrypt_with_rng(RsaPadding::OaepSha1, &mut rng, value.as_bytes()).unwrap()
            }
            FieldEncoding::AesCbcWithRsaKey => aes_cbc_encrypt(&cbc_key, &openid_key, value.as_bytes()),
        };
        pairs.push((name.to_string(), sealed));
    }
    if info.encoding == FieldEncoding::Signed {
        let get = |n: &str| fields.iter().find(|(k, _)| *k == n).map_or("", |(_, v)| *v);
        pairs.push((
            "sign".into(),
            md5_sign(&[SANDBOX_OPENID, SANDBOX_KEY, get("realname"), get("idcard"), get("mobile")]),
        ));
    }
    if tamper {
        // Flip a character in the middle of the last field's base64.
        let last = pairs.last_mut().unwrap();
        let mut chars: Vec<char> = last.1.chars().collect();
        let i = chars.len() / 2;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        last.1 = chars.into_iter().collect();
    }
    encode_form(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))).into_bytes()
}

/// The personal fields an endpoint takes, filled from `who`, as base64 for the image.
fn fields_of(endpoint: Endpoint, who: Person<'_>) -> Vec<(&'static str, String)> {
    let (name, idcard, mobile, image) = who;
    endpoint
        .info()
        .params
        .iter()
        .filter_map(|p| match *p {
            Param::Realname => Some((p.wire_name(), name.to_owned())),
            Param::Idcard => Some((p.wire_name(), idcard.to_owned())),
            Param::Mobile => Some((p.wire_name(), mobile.to_owned())),
            Param::Image => Some((p.wire_name(), juhe_crypto::base64_encode(image))),
            _ => None,
        })
        .collect()
}

fn raw_code(sandbox: &Sandbox, endpoint: Endpoint, fields: &[(&str, String)], tamper: bool) -> i64 {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    post_form(sandbox.addr(), &format!("/{endpoint}"), &raw_body(endpoint, &fields, tamper))
        .unwrap()
        .error_code()
}

/// The code a product answers a bad field with.
fn format_code(product: Product, field: &str, empty: bool) -> i64 {
    match (product, field) {
        (Product::IdCard, _) => 210304,
        (Product::Telecom2, "mobile") => 232901,
        (Product::Telecom2, _) => 232902,
        (Product::Telecom3, _) => 233907,
        (Product::Face, _) if empty => 280101,
        (Product::Face, "realname") => 280104,
        (Product::Face, "idcard") => 280102,
        (Product::Face, "mobile") => 280103,
        (Product::Face, _) => 280101,
    }
}

#[test]
fn match_and_mismatch_on_every_endpoint() {
    let sandbox = Sandbox::start().unwrap();
    let protocol = protocol(&sandbox, SANDBOX_KEY);
    let (p, q) = (&sandbox.identities()[0], &sandbox.identities()[1]);
    let mut billed = 0;
    for endpoint in Endpoint::ALL {
        assert_eq!(check(&sandbox, &protocol, endpoint, person(p)), Ok(Verdict::Match), "{endpoint}");
        // Someone else's name (or, for telecom2, ID card) with p's other data.
        let other = match endpoint.info().product {
            Product::Telecom2 => (p.name.as_str(), q.idcard.as_str(), p.mobile.as_str(), &p.face_image[..]),
            _ => (q.name.as_str(), p.idcard.as_str(), p.mobile.as_str(), &p.face_image[..]),
        };
        assert_eq!(check(&sandbox, &protocol, endpoint, other), Ok(Verdict::Mismatch), "{endpoint}");
        billed += 2;
    }
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (22, billed));
    assert_eq!(ledger.apis.len(), 11);
}

#[test]
fn telecom3_details_and_face_results() {
    let sandbox = Sandbox::start().unwrap();
    let protocol = protocol(&sandbox, SANDBOX_KEY);
    let (p, q) = (&sandbox.identities()[0], &sandbox.identities()[1]);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let telecom3 = |name: &str, idcard: &str| -> Telecom3Outcome {
        let check = Telecom3Check::new(name, idcard, &p.mobile).unwrap();
        let encoded = protocol.encode_with_rng(&check, juhe_proto::Mode::Rsa, &mut rng.clone()).unwrap();
        decode(&check, &send_request(sandbox.addr(), &encoded.request).unwrap().to_http()).unwrap()
    };
    assert_eq!(telecom3(&p.name, &p.idcard).rescode, Some(Telecom3Rescode::MATCH));
    assert_eq!(telecom3(&q.name, &p.idcard).rescode, Some(Telecom3Rescode::NAME_MISMATCH));
    assert_eq!(telecom3(&p.name, &q.idcard).rescode, Some(Telecom3Rescode::ID_CARD_MISMATCH));
    let both = telecom3(&q.name, &q.idcard);
    assert_eq!(both.rescode, Some(Telecom3Rescode::NAME_AND_ID_CARD_MISMATCH));
    assert_eq!(both.province.as_deref(), Some(p.province.as_str()));
    assert_eq!(both.carrier.as_ref().map(|c| c.name().to_owned()), Some(p.carrier.clone()));

    let mut face = |name: &str, mobile: &str, image: &[u8]| {
        let check = FaceCheck::new(name, &p.idcard, mobile, image.to_vec()).unwrap();
        let encoded = protocol.encode_with_rng(&check, juhe_proto::Mode::Plain, &mut rng).unwrap();
        decode(&check, &send_request(sandbox.addr(), &encoded.request).unwrap().to_http()).unwrap()
    };
    let pass = face(&p.name, &p.mobile, &p.face_image);
    assert_eq!(pass.result.map(|r| r.code()), Some(100));
    assert!(pass.score.unwrap() >= 900.0);
    let wrong_face = face(&p.name, &p.mobile, &q.face_image);
    assert_eq!(wrong_face.result.map(|r| r.code()), Some(102));
    assert!(wrong_face.score.unwrap() < 400.0);
    assert_eq!(face(&p.name, &q.mobile, &p.face_image).result.map(|r| r.code()), Some(101));
    assert_eq!(face(&p.name, &q.mobile, &q.face_image).result.map(|r| r.code()), Some(103));
    assert_eq!(face(&q.name, &p.mobile, &p.face_image).result.map(|r| r.code()), Some(105));
    assert_eq!(face(&q.name, &q.mobile, &p.face_image).result.map(|r| r.code()), Some(107));
}

#[test]
fn refusals_are_answered_with_the_documented_codes_and_never_billed() {
    let sandbox = Sandbox::start().unwrap();
    let good = protocol(&sandbox, SANDBOX_KEY);
    let bad_key = protocol(&sandbox, "not-the-sandbox-key");
    let p = &sandbox.identities()[0];
    // A valid person the registry does not hold.
    let stranger = ("陌生人", "11010519491231002X", "13800000000", &p.face_image[..]);
    assert!(sandbox.identities().iter().all(|i| i.idcard != stranger.1 && i.mobile != stranger.2));
    for endpoint in Endpoint::ALL {
        let product = endpoint.info().product;
        assert_eq!(check(&sandbox, &bad_key, endpoint, person(p)), Err(10001), "{endpoint}");
        let no_record = match product {
            Product::IdCard => 210301,
            Product::Telecom2 => 232904,
            Product::Telecom3 => 233903,
            Product::Face => 280105,
        };
        assert_eq!(check(&sandbox, &good, endpoint, stranger), Err(no_record), "{endpoint}");
        let fields = fields_of(endpoint, person(p));
        for (i, (name, _)) in fields.iter().enumerate() {
            for (bad, empty) in [("12345", false), ("", true)] {
                let mut broken = fields.clone();
                broken[i].1 = bad.to_owned();
                assert_eq!(
                    raw_code(&sandbox, endpoint, &broken, false),
                    format_code(product, name, empty),
                    "{endpoint} {name}={bad:?}"
                );
            }
        }
        if endpoint.info().encoding != FieldEncoding::Plain {
            let tampered = raw_code(&sandbox, endpoint, &fields, true);
            assert_ne!(tampered, 0, "{endpoint}: a tampered request was billed");
        }
        // The raw encoder agrees with the SDK's: untampered, the same fields match.
        assert_eq!(raw_code(&sandbox, endpoint, &fields, false), 0, "{endpoint}");
    }
    assert_eq!(sandbox.ledger().billed, 11, "only the 11 untampered raw requests are billed");
}

#[test]
fn a_bad_sign_and_a_missing_key_are_refused() {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let fields = fields_of(Endpoint::Telecom3Verify, person(p));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let body = String::from_utf8(raw_body(Endpoint::Telecom3Verify, &fields, false)).unwrap();
    let (head, sign) = body.rsplit_once("sign=").unwrap();
    let wrong = format!("{head}sign={}", sign.replace(|c: char| c.is_ascii_digit(), "0"));
    let answer = post_form(sandbox.addr(), "/telecom3/verify", wrong.as_bytes()).unwrap();
    assert_eq!(answer.error_code(), 233907);
    assert!(answer.json()["reason"].as_str().unwrap().contains("签名"));
    let unsigned =
        post_form(sandbox.addr(), "/telecom3/verify", head.trim_end_matches('&').as_bytes()).unwrap();
    assert_eq!(unsigned.error_code(), 233907);
    // The document says lowercase hex ("后小写"): the right sign in capitals is refused.
    let shouted = format!("{head}sign={}", sign.to_ascii_uppercase());
    assert_ne!(shouted, body, "the sign has letters to shout");
    let answer = post_form(sandbox.addr(), "/telecom3/verify", shouted.as_bytes()).unwrap();
    assert_eq!(answer.error_code(), 233907);
    let keyless = post_form(sandbox.addr(), "/idcard/query", b"realname=x&idcard=y").unwrap();
    assert_eq!(keyless.error_code(), 10001);
    assert_eq!(sandbox.ledger().billed, 0);
}

/// `idcard/query` returns the order number only when the request asks (`orderid=1`), as the
/// document says; the check is billed either way.
#[test]
fn idcard_query_gives_its_order_number_only_when_asked() {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let fields = fields_of(Endpoint::IdCardQuery, person(p));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let unasked = String::from_utf8(raw_body(Endpoint::IdCardQuery, &fields, false)).unwrap();
    assert!(!unasked.contains("orderid"), "{unasked}");
    let asked = format!("{unasked}&orderid=1");
    let answer = post_form(sandbox.addr(), "/idcard/query", asked.as_bytes()).unwrap().json();
    assert!(answer["result"]["orderid"].as_str().is_some_and(|o| o.starts_with("JHSB")), "{answer}");
    let answer = post_form(sandbox.addr(), "/idcard/query", unasked.as_bytes()).unwrap().json();
    assert_eq!((answer["error_code"].as_i64(), answer["result"].get("orderid")), (Some(0), None), "{answer}");
    assert_eq!(sandbox.ledger().billed, 2);
}

#[test]
fn requests_made_by_openssl_are_understood() {
    let sandbox = Sandbox::start().unwrap();
    let mut seen = 0;
    for line in include_str!("../data/openssl_requests.tsv").lines().filter(|l| !l.starts_with('#')) {
        let (api, body) = line.split_once('\t').unwrap();
        let answer = post_form(sandbox.addr(), &format!("/{api}"), body.as_bytes()).unwrap();
        let json = answer.json();
        assert_eq!(json["error_code"], 0, "{api}: {json}");
        assert_eq!(json["result"]["res"], 1, "{api}: {json}");
        seen += 1;
    }
    assert_eq!(seen, 7);
    assert_eq!(sandbox.ledger().billed, 7);
}

#[test]
fn get_with_a_query_string_works_except_for_face() {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let query = encode_form([
        ("key", SANDBOX_KEY),
        ("realname", p.name.as_str()),
        ("idcard", p.idcard.as_str()),
        ("orderid", "1"),
    ]);
    let answer = crate::raw_http::send(
        sandbox.addr(),
        "GET",
        &format!("/idcard/query?{query}"),
        None,
        b"",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(answer.json()["result"]["res"], 1);
    let face_get = crate::raw_http::send(
        sandbox.addr(),
        "GET",
        &format!("/verifyface_mobile/query?key={SANDBOX_KEY}"),
        None,
        b"",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(face_get.error_code(), 280101);
    let nowhere = post_form(sandbox.addr(), "/idcard/nowhere", b"key=x").unwrap();
    assert_eq!((nowhere.status, nowhere.error_code()), (404, 10021));
}

/// What each magic identity does on each product: `Ok(verdict)` billed, `Err(code)` not.
fn expected(magic: &magic::MagicIdentity, product: Product) -> Result<Verdict, i64> {
    let per_product = |codes: [Option<i64>; 4]| {
        let i = Product::ALL.iter().position(|p| *p == product).unwrap();
        codes[i].map_or(Ok(Verdict::Match), Err)
    };
    match magic.idcard {
        id if id == magic::PROVIDER_ERROR.idcard => {
            per_product([Some(210305), Some(232905), Some(233901), Some(10014)])
        }
        id if id == magic::QUERY_FAILED.idcard => {
            per_product([Some(210306), Some(232906), Some(233902), Some(10014)])
        }
        id if id == magic::NO_RECORD.idcard => {
            per_product([Some(210301), Some(232904), Some(233903), Some(280105)])
        }
        id if id == magic::PARAMETER_ERROR.idcard => {
            per_product([Some(210304), Some(232902), Some(233907), Some(280101)])
        }
        id if id == magic::UNSUPPORTED_MOBILE.idcard => {
            per_product([None, Some(232903), Some(233902), Some(280103)])
        }
        id if id == magic::IDENTITY_AND_MOBILE_FAILED.idcard => per_product([None, None, None, Some(280105)]),
        id if id == magic::UNSPECIFIED_MISMATCH.idcard => match product {
            Product::Telecom3 => Ok(Verdict::Mismatch),
            _ => Ok(Verdict::Match),
        },
        id if id == magic::IP_RATE_LIMITED.idcard => Err(10011),
        id if id == magic::RATE_LIMITED.idcard => Err(10012),
        id if id == magic::INTERNAL_ERROR.idcard => Err(10014),
        id if id == magic::MAINTENANCE.idcard => Err(10020),
        _ => unreachable!("fault identities are tested below"),
    }
}

#[test]
fn each_magic_identity_gives_its_answer_on_every_endpoint() {
    let sandbox = Sandbox::start().unwrap();
    let protocol = protocol(&sandbox, SANDBOX_KEY);
    let faults =
        [magic::SLOW, magic::HTTP_500, magic::MALFORMED_BODY, magic::TRUNCATED_BODY, magic::CLOSE_CONNECTION];
    let mut billed = 0;
    for magic in magic::ALL.iter().filter(|m| !faults.contains(m)) {
        for endpoint in Endpoint::ALL {
            let product = endpoint.info().product;
            // Any photo: the magic identities' reference faces are not published, so the face
            // comparison fails where the identity is otherwise processed.
            let image = &sandbox.identities()[0].face_image;
            let got = check(&sandbox, &protocol, endpoint, (magic.name, magic.idcard, magic.mobile, image));
            let want = match (expected(magic, product), product) {
                (Ok(_), Product::Face) => Ok(Verdict::Mismatch),
                (other, _) => other,
            };
            assert_eq!(got, want, "{} on {endpoint}", magic.name);
            billed += u64::from(got.is_ok());
        }
    }
    assert_eq!(sandbox.ledger().billed, billed);
}

#[test]
fn fault_identities_break_the_answer_as_documented() {
    let sandbox = Sandbox::start().unwrap();
    let protocol = protocol(&sandbox, SANDBOX_KEY);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let send = |magic: &magic::MagicIdentity,
                endpoint: Endpoint,
                rng: &mut ChaCha20Rng|
     -> std::io::Result<RawResponse> {
        let check = Telecom3Check::new(magic.name, magic.idcard, magic.mobile).unwrap();
        let encoded = protocol.encode_with_rng(&check, endpoint.info().mode, rng).unwrap();
        let target = encoded.request.uri().path().to_owned();
        crate::raw_http::send(
            sandbox.addr(),
            "POST",
            &target,
            Some(juhe_proto::CONTENT_TYPE),
            encoded.request.body(),
            Duration::from_millis(500),
        )
    };
    let telecom3 = [
        Endpoint::Telecom3Query,
        Endpoint::Telecom3Verify,
        Endpoint::Telecom3QueryEncry,
        Endpoint::Telecom3QueryRv2,
    ];
    for endpoint in telecom3 {
        let before = sandbox.ledger().billed;
        let gateway = send(&magic::HTTP_500, endpoint, &mut rng).unwrap();
        assert_eq!(gateway.status, 500);
        assert!(serde_json::from_slice::<serde_json::Value>(&gateway.body).is_err());
        assert_eq!(sandbox.ledger().billed, before, "a gateway error is not billed");

        let malformed = send(&magic::MALFORMED_BODY, endpoint, &mut rng).unwrap();
        assert!(
            malformed.complete() && serde_json::from_slice::<serde_json::Value>(&malformed.body).is_err()
        );
        assert!(matches!(
            decode(
                &Telecom3Check::new(
                    magic::MALFORMED_BODY.name,
                    magic::MALFORMED_BODY.idcard,
                    magic::MALFORMED_BODY.mobile
                )
                .unwrap(),
                &malformed.to_http()
            ),
            Err(DecodeError::Answer(juhe_proto::AnswerError::Malformed { may_be_billed: true, .. }))
        ));

        let truncated = send(&magic::TRUNCATED_BODY, endpoint, &mut rng).unwrap();
        assert!(!truncated.complete(), "{truncated:?}");

        assert!(send(&magic::CLOSE_CONNECTION, endpoint, &mut rng).is_err());
        assert_eq!(sandbox.ledger().billed, before + 3, "processed, then broken: billed");
    }
    // Slow: the client gives up after 500 ms, the check was billed anyway.
    let before = sandbox.ledger().billed;
    assert!(send(&magic::SLOW, Endpoint::Telecom3Query, &mut rng).is_err());
    assert_eq!(sandbox.ledger().billed, before + 1);
    // And the sandbox still serves.
    let p = &sandbox.identities()[0];
    assert_eq!(check(&sandbox, &protocol, Endpoint::IdCardQuery, person(p)), Ok(Verdict::Match));
}
