//! RSA through AWS-LC (`aws-lc-rs`).

use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, Pkcs1PublicEncryptingKey, PublicEncryptingKey,
};
use rand_core::CryptoRngCore;

use super::{AwsLc, RsaBackend, sealed};
use crate::RsaPadding;

impl sealed::Sealed for AwsLc {}

impl RsaBackend for AwsLc {
    const DRAWS_FROM_CALLER_RNG: bool = false;

    type Public = PublicEncryptingKey;

    fn public_from_spki(spki: &[u8]) -> Option<Self::Public> {
        PublicEncryptingKey::from_der(spki).ok()
    }

    fn encrypt(
        key: &Self::Public,
        padding: RsaPadding,
        // AWS-LC pads with its own generator (`AwsLc`'s documentation says so).
        _rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Option<Vec<u8>> {
        let mut sealed = vec![0; key.key_size_bytes()];
        // `new` only wraps the key (a reference count): nothing to cache between calls.
        let len = match padding {
            RsaPadding::OaepSha1 => OaepPublicEncryptingKey::new(key.clone())
                .ok()?
                .encrypt(&OAEP_SHA1_MGF1SHA1, message, &mut sealed, None)
                .ok()?
                .len(),
            RsaPadding::Pkcs1v15 => {
                Pkcs1PublicEncryptingKey::new(key.clone()).ok()?.encrypt(message, &mut sealed).ok()?.len()
            }
        };
        sealed.truncate(len);
        Some(sealed)
    }

    #[cfg(feature = "decrypt")]
    type Private = aws_lc_rs::rsa::PrivateDecryptingKey;

    #[cfg(feature = "decrypt")]
    fn private_from_pkcs8(der: &[u8]) -> Option<Self::Private> {
        aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der).ok()
    }

    #[cfg(feature = "decrypt")]
    fn generate(_rng: &mut impl CryptoRngCore, bits: usize) -> Option<Self::Private> {
        use aws_lc_rs::rsa::KeySize;
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return None,
        };
        aws_lc_rs::rsa::PrivateDecryptingKey::generate(size).ok()
    }

    #[cfg(feature = "decrypt")]
    fn public_spki(key: &Self::Private) -> Option<Vec<u8>> {
        use aws_lc_rs::encoding::AsDer;
        key.public_key().as_der().ok().map(|der| der.as_ref().to_vec())
    }

    #[cfg(feature = "decrypt")]
    fn private_pkcs8(key: &Self::Private) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        use aws_lc_rs::encoding::AsDer;
        key.as_der().ok().map(|der| zeroize::Zeroizing::new(der.as_ref().to_vec()))
    }

    #[cfg(feature = "decrypt")]
    fn decrypt(key: &Self::Private, padding: RsaPadding, ciphertext: &[u8]) -> Option<Vec<u8>> {
        use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, Pkcs1PrivateDecryptingKey};
        let mut plain = vec![0; key.key_size_bytes()];
        let len = match padding {
            RsaPadding::OaepSha1 => OaepPrivateDecryptingKey::new(key.clone())
                .ok()?
                .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut plain, None)
                .ok()?
                .len(),
            RsaPadding::Pkcs1v15 => {
                Pkcs1PrivateDecryptingKey::new(key.clone()).ok()?.decrypt(ciphertext, &mut plain).ok()?.len()
            }
        };
        plain.truncate(len);
        Some(plain)
    }
}
