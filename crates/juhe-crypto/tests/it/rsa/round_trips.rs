// Property tests: whatever we seal with RSA, we open. (Included once per backend.)

use std::sync::OnceLock;

use juhe_crypto::RsaPadding;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn private_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::from_pem(include_str!("../../data/rsa_private.pem")).unwrap())
}

proptest! {
    #[test]
    fn decrypt_of_arbitrary_text_never_panics(text in ".*") {
        let _ = private_key().decrypt(RsaPadding::OaepSha1, &text);
        let _ = private_key().decrypt(RsaPadding::Pkcs1v15, &text);
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
            let sealed = public.encrypt_with_rng(padding, &mut rng, text.as_bytes()).unwrap();
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
    assert!(public.encrypt_with_rng(RsaPadding::OaepSha1, &mut rng, &vec![b'a'; max]).is_ok());
    assert!(public.encrypt_with_rng(RsaPadding::OaepSha1, &mut rng, &vec![b'a'; max + 1]).is_err());
}

#[test]
fn rsa_is_randomized() {
    let public = private_key().public_key();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let a = public.encrypt_with_rng(RsaPadding::OaepSha1, &mut rng, b"x").unwrap();
    let b = public.encrypt_with_rng(RsaPadding::OaepSha1, &mut rng, b"x").unwrap();
    assert_ne!(a, b);
}
