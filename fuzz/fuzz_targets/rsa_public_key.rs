//! The account's RSA public key, pasted in whatever form: a key or an error that says what
//! it is, never a panic; and both backends agree on every input (differential fuzzing).
#![no_main]

use juhe_crypto::RsaPublicKeyOn;
use juhe_crypto::rsa_backend::{AwsLc, RustRsa};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let rust = RsaPublicKeyOn::<RustRsa>::parse(&text);
    let aws = RsaPublicKeyOn::<AwsLc>::parse(&text);
    agree(&rust, &aws);
    if let Ok(key) = rust {
        assert!(key.bits() >= RsaPublicKeyOn::<RustRsa>::MIN_BITS);
    }
    agree(&RsaPublicKeyOn::<RustRsa>::from_spki_der(data), &RsaPublicKeyOn::<AwsLc>::from_spki_der(data));
    agree(&RsaPublicKeyOn::<RustRsa>::from_pkcs1_der(data), &RsaPublicKeyOn::<AwsLc>::from_pkcs1_der(data));
});

/// The same key, or the same error.
fn agree(
    rust: &Result<RsaPublicKeyOn<RustRsa>, juhe_crypto::CryptoError>,
    aws: &Result<RsaPublicKeyOn<AwsLc>, juhe_crypto::CryptoError>,
) {
    match (rust, aws) {
        (Ok(rust), Ok(aws)) => assert_eq!(rust.to_pem().unwrap(), aws.to_pem().unwrap()),
        (Err(rust), Err(aws)) => assert_eq!(rust, aws),
        _ => panic!("the backends disagree: {rust:?} / {aws:?}"),
    }
}
