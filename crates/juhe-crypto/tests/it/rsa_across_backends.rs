//! With both backends compiled, each opens what the other seals and both read every key the
//! same way: the backend is a speed choice, never a behaviour change.

use juhe_crypto::rsa_backend::{AwsLc, RustRsa};
use juhe_crypto::{RsaPadding, RsaPrivateKeyOn, RsaPublicKeyOn};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const PRIVATE_PEM: &str = include_str!("../data/rsa_private.pem");

#[test]
fn each_backend_opens_what_the_other_seals() {
    let rust = RsaPrivateKeyOn::<RustRsa>::from_pem(PRIVATE_PEM).unwrap();
    let aws = RsaPrivateKeyOn::<AwsLc>::from_pem(PRIVATE_PEM).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let message = "欧阳·娜娜 44030519900101001X".as_bytes();
    for padding in [RsaPadding::OaepSha1, RsaPadding::Pkcs1v15] {
        let by_rust = rust.public_key().encrypt_with_rng(padding, &mut rng, message).unwrap();
        let by_aws = aws.public_key().encrypt_with_rng(padding, &mut rng, message).unwrap();
        assert_eq!(aws.decrypt(padding, &by_rust).unwrap(), message, "{padding:?}");
        assert_eq!(rust.decrypt(padding, &by_aws).unwrap(), message, "{padding:?}");
    }
}

#[test]
fn both_backends_write_the_same_pem() {
    let rust = RsaPrivateKeyOn::<RustRsa>::from_pem(PRIVATE_PEM).unwrap();
    let aws = RsaPrivateKeyOn::<AwsLc>::from_pem(PRIVATE_PEM).unwrap();
    assert_eq!(rust.public_key().to_pem().unwrap(), aws.public_key().to_pem().unwrap());
    assert_eq!(*rust.to_pem().unwrap(), *aws.to_pem().unwrap());
}

/// Damage to a real key: a byte changed, bytes cut or added.
fn damaged_key() -> impl Strategy<Value = Vec<u8>> {
    let der = juhe_crypto::base64_decode(include_str!("../data/rsa_public_spki.b64")).unwrap();
    (any::<prop::sample::Index>(), any::<u8>(), 0usize..3).prop_map(move |(at, byte, how)| {
        let mut der = der.clone();
        let i = at.index(der.len());
        match how {
            0 => der[i] = byte,
            1 => der.truncate(i),
            _ => der.insert(i, byte),
        }
        der
    })
}

proptest! {
    #[test]
    fn both_backends_accept_and_refuse_the_same_keys(der in damaged_key()) {
        let rust = RsaPublicKeyOn::<RustRsa>::from_spki_der(&der);
        let aws = RsaPublicKeyOn::<AwsLc>::from_spki_der(&der);
        match (rust, aws) {
            (Ok(rust), Ok(aws)) => prop_assert_eq!(rust.to_pem().unwrap(), aws.to_pem().unwrap()),
            (Err(rust), Err(aws)) => prop_assert_eq!(rust, aws),
            (rust, aws) => prop_assert!(false, "the backends disagree: {rust:?} / {aws:?}"),
        }
    }
}
