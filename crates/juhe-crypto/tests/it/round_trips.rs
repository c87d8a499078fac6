//! Property tests: whatever we seal with AES, we open, for arbitrary UTF-8 (CJK, `·`, astral
//! planes). RSA's are in `rsa/round_trips.rs`.

use juhe_crypto::{
    AesKey, aes_cbc_decrypt, aes_cbc_encrypt, aes_ecb_decrypt, aes_ecb_encrypt, base64_decode, base64_encode,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

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
    }
}
