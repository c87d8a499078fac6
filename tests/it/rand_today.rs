//! A program on today's `rand` (0.9) uses juhe-rs as it is: no API of juhe-rs asks it for a
//! generator of another `rand_core` (juhe-rs's RustCrypto stack is on rand_core 0.6, and a
//! 0.9 `OsRng` does not fit a 0.6 bound: `E0277 … multiple different versions of crate
//! rand_core`). Every API that needs randomness draws it from the operating system; the ones
//! that take a generator (`encode_with_rng`, `random`, `generate_with_rng`) are for seeded,
//! repeatable tests.

use juhe_crypto::{AesKey, RsaPrivateKey};
use juhe_proto::{CivilDate, Credentials, IdCardCheck, Mode, Protocol, SubjectKey};
use rand::Rng;

#[test]
fn a_program_on_rand_0_9_needs_no_generator_of_ours() {
    // The program's own randomness, from rand 0.9.
    let mut theirs = rand::rng();
    let _jitter: u32 = theirs.random_range(0..100);

    let private = RsaPrivateKey::generate(2048).unwrap();
    let public = juhe_proto::RsaPublicKey::parse(&private.public_key().to_pem().unwrap()).unwrap();
    let sealed = public.encrypt(juhe_proto::RsaPadding::OaepSha1, b"a field").unwrap();
    assert_eq!(private.decrypt(juhe_proto::RsaPadding::OaepSha1, &sealed).unwrap(), b"a field");
    let protocol = Protocol::new(
        Credentials::new("an-api-key")
            .unwrap()
            .with_openid("JH0123456789abcdef0123456789abcdef")
            .unwrap()
            .with_rsa_public_key(public),
    );
    let today = CivilDate::new(2026, 12, 6).unwrap();
    let check = IdCardCheck::new_on("张三", "11010519491231002X", today).unwrap();
    let mut bodies = Vec::new();
    for mode in [Mode::Plain, Mode::Aes, Mode::Rsa] {
        let encoded = protocol.encode(&check, mode).unwrap();
        assert_eq!(encoded.endpoint.info().mode, mode);
        bodies.push(encoded.request.into_body());
    }
    // RSA padding draws fresh randomness each time: the same check encodes apart.
    let again = protocol.encode(&check, Mode::Rsa).unwrap().request.into_body();
    assert_ne!(bodies[2], again, "RSA-OAEP with fresh randomness");
    assert_ne!(AesKey::generate().as_bytes(), AesKey::generate().as_bytes());
    let (a, b) = (SubjectKey::generate(), SubjectKey::generate());
    let subject = |key: &SubjectKey| juhe_proto::Subject::of(&check, key);
    assert_ne!(subject(&a), subject(&b), "two fresh keys name the same check apart");
}
