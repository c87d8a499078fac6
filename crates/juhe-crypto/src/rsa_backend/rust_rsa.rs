//! RSA through RustCrypto's `rsa` crate.

use rand_core::CryptoRngCore;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Oaep, Pkcs1v15Encrypt};
use sha1::Sha1;

use super::{RsaBackend, RustRsa, sealed};
use crate::RsaPadding;

impl sealed::Sealed for RustRsa {}

impl RsaBackend for RustRsa {
    const DRAWS_FROM_CALLER_RNG: bool = true;

    type Public = rsa::RsaPublicKey;

    fn public_from_spki(spki: &[u8]) -> Option<Self::Public> {
        rsa::RsaPublicKey::from_public_key_der(spki).ok()
    }

    fn encrypt(
        key: &Self::Public,
        padding: RsaPadding,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Option<Vec<u8>> {
        match padding {
            RsaPadding::OaepSha1 => key.encrypt(rng, Oaep::new::<Sha1>(), message),
            RsaPadding::Pkcs1v15 => key.encrypt(rng, Pkcs1v15Encrypt, message),
        }
        .ok()
    }

    #[cfg(feature = "decrypt")]
    type Private = rsa::RsaPrivateKey;

    #[cfg(feature = "decrypt")]
    fn private_from_pkcs8(der: &[u8]) -> Option<Self::Private> {
        use rsa::pkcs8::DecodePrivateKey;
        rsa::RsaPrivateKey::from_pkcs8_der(der).ok()
    }

    #[cfg(feature = "decrypt")]
    fn generate(rng: &mut impl CryptoRngCore, bits: usize) -> Option<Self::Private> {
        rsa::RsaPrivateKey::new(rng, bits).ok()
    }

    #[cfg(feature = "decrypt")]
    fn public_spki(key: &Self::Private) -> Option<Vec<u8>> {
        use rsa::pkcs8::EncodePublicKey;
        key.to_public_key().to_public_key_der().ok().map(|der| der.into_vec())
    }

    #[cfg(feature = "decrypt")]
    fn private_pkcs8(key: &Self::Private) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        use rsa::pkcs8::EncodePrivateKey;
        key.to_pkcs8_der().ok().map(|der| zeroize::Zeroizing::new(der.as_bytes().to_vec()))
    }

    #[cfg(feature = "decrypt")]
    fn decrypt(key: &Self::Private, padding: RsaPadding, ciphertext: &[u8]) -> Option<Vec<u8>> {
        match padding {
            RsaPadding::OaepSha1 => key.decrypt(Oaep::new::<Sha1>(), ciphertext),
            RsaPadding::Pkcs1v15 => key.decrypt(Pkcs1v15Encrypt, ciphertext),
        }
        .ok()
    }
}
