// Every form of the account's public key that docs/protocol.md ("Public key formats") lists
// reads as the same key. (Included once per backend: `RsaPublicKey` is the backend's.)

use proptest::prelude::*;
use rand_core::SeedableRng as _;

const SPKI_PEM: &str = include_str!("../../data/rsa_public_spki.pem");
const PKCS1_PEM: &str = include_str!("../../data/rsa_public_pkcs1.pem");
const SPKI_B64: &str = include_str!("../../data/rsa_public_spki.b64");
const PKCS1_B64: &str = include_str!("../../data/rsa_public_pkcs1.b64");
const PRIVATE_PEM: &str = include_str!("../../data/rsa_private.pem");

fn reference() -> RsaPublicKey {
    RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap().public_key()
}

#[test]
fn all_four_formats_read_as_the_same_key() {
    let expected = reference();
    for text in [SPKI_PEM, PKCS1_PEM, SPKI_B64, PKCS1_B64] {
        assert_eq!(RsaPublicKey::parse(text).unwrap(), expected, "{}", &text[..30]);
    }
    assert_eq!(expected.bits(), 2048);
}

#[test]
fn pem_written_by_us_reads_back() {
    let key = reference();
    assert_eq!(RsaPublicKey::parse(&key.to_pem().unwrap()).unwrap(), key);
}

#[test]
fn a_pem_squeezed_into_an_env_var_reads() {
    let squeezed = SPKI_PEM.trim().replace('\n', "\\n");
    assert_eq!(RsaPublicKey::parse(&squeezed).unwrap(), reference());
}

/// Re-wraps base64 at `width` with `newline`, as a key pasted from a web page might be.
fn rewrap(b64: &str, width: usize, newline: &str) -> String {
    let b64: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    b64.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(newline)
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

proptest! {
    #[test]
    fn any_wrapping_of_any_format_reads_the_same(
        width in 1usize..400,
        newline in prop::sample::select(vec!["\n", "\r\n", " ", ""]),
        pad in prop::sample::select(vec!["", "\n", "  \r\n\t"]),
        which in 0usize..4,
    ) {
        let text = match which {
            0 => format!("{pad}-----BEGIN PUBLIC KEY-----{newline}{}{newline}-----END PUBLIC KEY-----{pad}",
                rewrap(&pem_body(SPKI_PEM), width, newline)),
            1 => format!("{pad}-----BEGIN RSA PUBLIC KEY-----{newline}{}{newline}-----END RSA PUBLIC KEY-----{pad}",
                rewrap(&pem_body(PKCS1_PEM), width, newline)),
            2 => format!("{pad}{}{pad}", rewrap(SPKI_B64, width, newline)),
            _ => format!("{pad}{}{pad}", rewrap(PKCS1_B64, width, newline)),
        };
        prop_assert_eq!(RsaPublicKey::parse(&text).unwrap(), reference());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".*") {
        let _ = RsaPublicKey::parse(&text);
    }
}

/// What a user might paste instead of the account's public key gets a sentence saying what it
/// is, never the key echoed back.
#[test]
fn the_wrong_things_say_what_they_are() {
    let message = |text: &str| RsaPublicKey::parse(text).unwrap_err().to_string();
    let ec = message(include_str!("../../data/wrong_keys/ec_public.pem"));
    assert!(ec.contains("EC (elliptic-curve) key") && ec.contains("RSA public key"), "{ec}");
    let certificate = message(include_str!("../../data/wrong_keys/certificate.pem"));
    assert!(
        certificate.contains("certificate") && certificate.contains("openssl x509 -pubkey"),
        "{certificate}"
    );
    let private = message(PRIVATE_PEM);
    assert!(private.contains("private key"), "{private}");
    assert!(!private.contains("MII"), "the private key is not echoed: {private}");
    let short = message(include_str!("../../data/wrong_keys/rsa1024_public.pem"));
    assert!(short.contains("1024-bit") && short.contains("2048"), "{short}");
}

#[test]
fn private_keys_read_from_pkcs8_and_pkcs1_pem_and_write_back() {
    let pkcs8 = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    let pkcs1 = RsaPrivateKey::from_pem(include_str!("../../data/rsa_private_pkcs1.pem")).unwrap();
    assert_eq!(pkcs1.public_key(), pkcs8.public_key());
    let written = pkcs1.to_pem().unwrap();
    assert!(written.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8 is written");
    assert_eq!(RsaPrivateKey::from_pem(&written).unwrap().public_key(), reference());
}

#[test]
fn what_is_not_an_rsa_private_key_is_refused() {
    for text in [SPKI_PEM, "", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"] {
        let error = RsaPrivateKey::from_pem(text).unwrap_err().to_string();
        assert!(error.contains("RSA private key"), "{error}");
    }
}

#[test]
fn generated_keys_work_and_only_supported_sizes_are_made() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let key = RsaPrivateKey::generate_with_rng(&mut rng, 2048).unwrap();
    assert_eq!(key.public_key().bits(), 2048);
    let sealed = key.public_key().encrypt_with_rng(juhe_crypto::RsaPadding::OaepSha1, &mut rng, b"x").unwrap();
    assert_eq!(key.decrypt(juhe_crypto::RsaPadding::OaepSha1, &sealed).unwrap(), b"x");
    assert!(RsaPrivateKey::generate_with_rng(&mut rng, 1024).is_err());
}
