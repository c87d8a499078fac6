//! The account's RSA public key, pasted in whatever form: a key or an error that says what
//! it is, never a panic.
#![no_main]

use juhe_crypto::RsaPublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(key) = RsaPublicKey::parse(&text) {
        assert!(key.bits() >= RsaPublicKey::MIN_BITS);
    }
    let _ = RsaPublicKey::from_spki_der(data);
    let _ = RsaPublicKey::from_pkcs1_der(data);
});
