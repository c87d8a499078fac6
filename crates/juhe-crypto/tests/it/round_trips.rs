//! Property tests: whatever we seal, we open, for arbitrary UTF-8 (CJK, `·`, astral planes).

use std::sync::OnceLock;

use juhe_crypto::{
    AesKey, RsaPadding, RsaPrivateKey, aes_cbc_decrypt, aes_cbc_encrypt, aes_ecb_decrypt, aes_ecb_encrypt,
    base64_decode, base64_encode,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn private_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::from_pem(include_str!("../data/rsa_private.pem")).unwrap())
}

/// Strings as identity fields look: CJK, the middle dot, astral CJK, ASCII.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[\\u{4e00}-\\u{9fa5}·]{0,20}",
        "[\\u{20000}-\\u{2a6df}\\u{4e00}-\\u{9fa5}]{1,8}",
        "[0-9X]{18}",
    ]
}

proptest! {
    #[test]
    fn aes_ecb_round_trips(openid in ".*", text in field()) {
        let key = AesKey::from_openid(&openid);
        let sealed = aes_ecb_encrypt(&key, text.as_bytes());
        prop_assert_eq!(aes_ecb_decrypt(&key, &sealed).unwrap(), text.as_bytes());
    }

    #[test]
    fn aes_cbc_round_trips(seed: u64, openid in ".*", text in field()) {
        let key = AesKey::random(&mut ChaCha20Rng::seed_from_u64(seed));
        let iv = AesKey::from_openid(&openid);
        let sealed = aes_cbc_encrypt(&key, &iv, text.as_bytes());
        prop_assert_eq!(aes_cbc_decrypt(&key, &iv, &sealed).unwrap(), text.as_bytes());
    }

    #[test]
    fn base64_round_trips(bytes: Vec<u8>) {
        prop_assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn aes_decrypt_of_arbitrary_text_never_panics(text in ".*") {
        let key = AesKey::from_openid("k");
        let _ = aes_ecb_decrypt(&key, &text);
        let _ = aes_cbc_decrypt(&key, &key, &text);
        let _ = private_key().decrypt(RsaPadding::OaepSha1, &text);
    }
}

proptest! {
    // RSA is slow even at release speed: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn rsa_round_trips_with_both_paddings(seed: u64, text in "[\\u{4e00}-\\u{9fa5}·0-9a-zA-Z]{0,20}") {
        let public = private_key().public_key();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        for padding in [RsaPadding::OaepSha1, RsaPadding::Pkcs1v15] {
            let sealed = public.encrypt(padding, &mut rng, text.as_bytes()).unwrap();
            prop_assert_eq!(private_key().decrypt(padding, &sealed).unwrap(), text.as_bytes());
        }
    }
}

#[test]
fn rsa_refuses_a_message_too_long_for_the_key() {
    let public = private_key().public_key();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let max = public.max_message_len(RsaPadding::OaepSha1);
    assert_eq!(max, 256 - 42);
    assert!(public.encrypt(RsaPadding::OaepSha1, &mut rng, &vec![b'a'; max]).is_ok());
    assert!(public.encrypt(RsaPadding::OaepSha1, &mut rng, &vec![b'a'; max + 1]).is_err());
}

#[test]
fn rsa_is_randomized() {
    let public = private_key().public_key();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let a = public.encrypt(RsaPadding::OaepSha1, &mut rng, b"x").unwrap();
    let b = public.encrypt(RsaPadding::OaepSha1, &mut rng, b"x").unwrap();
    assert_ne!(a, b);
}
