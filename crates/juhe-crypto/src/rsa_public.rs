use std::fmt;
use std::marker::PhantomData;

use rand_core::CryptoRngCore;

use crate::CryptoError;
use crate::codec::base64_encode;
use crate::rsa_backend::{RsaBackend, Selected};
use crate::rsa_key_formats::{self, CheckedPublicKey};

/// The RSA padding of an encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// OAEP with SHA-1 and MGF1-SHA-1, empty label: Java's `RSA/ECB/OAEPWithSHA-1AndMGF1Padding`
    /// (`queryRV2` endpoints).
    OaepSha1,
    /// PKCS#1 v1.5 type 2: Java's plain `"RSA"` cipher.
    Pkcs1v15,
}

impl RsaPadding {
    /// Bytes of padding overhead, for the largest message a key can take.
    fn overhead(self) -> usize {
        match self {
            // 2 * SHA-1 output + 2
            RsaPadding::OaepSha1 => 42,
            RsaPadding::Pkcs1v15 => 11,
        }
    }
}

/// An RSA public key, parsed once from whatever form the Juhe account page shows it in, on
/// this build's backend ([`rsa_backend::Selected`](crate::rsa_backend::Selected)).
pub type RsaPublicKey = RsaPublicKeyOn<Selected>;

/// An RSA public key whose arithmetic is done by backend `B`. Use [`RsaPublicKey`]; this
/// generic form is how both backends are tested in one build.
pub struct RsaPublicKeyOn<B: RsaBackend> {
    key: B::Public,
    /// SubjectPublicKeyInfo DER, NULL parameters: what equality compares and PEM shows.
    spki: Vec<u8>,
    bits: usize,
    backend: PhantomData<B>,
}

impl<B: RsaBackend> RsaPublicKeyOn<B> {
    /// Reads a key in any of these forms ([docs/protocol.md, "Public key formats"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#public-key-formats)): PEM `BEGIN PUBLIC KEY` (SPKI), PEM
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1), or bare base64 of SPKI or PKCS#1 DER; with or without
    /// line breaks, CRLF, surrounding white space, or literal `\n` sequences (a PEM squeezed
    /// into one environment variable).
    ///
    /// What is not such a key is refused with a sentence saying what it is: a private key, a
    /// certificate, an EC key. Keys shorter than [`MIN_BITS`](Self::MIN_BITS) or longer than
    /// [`MAX_BITS`](Self::MAX_BITS) are refused.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        Self::from_checked(rsa_key_formats::public_key_from_text(text)?)
    }

    /// The shortest key accepted. Juhe's keys are 2048-bit: a shorter one is a copy-paste
    /// mistake or somebody else's key.
    pub const MIN_BITS: usize = rsa_key_formats::MIN_BITS;

    /// The longest key accepted, on both backends.
    pub const MAX_BITS: usize = rsa_key_formats::MAX_BITS;

    /// Reads DER of an X.509 SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_checked(rsa_key_formats::public_key_from_spki(der)?)
    }

    /// Reads DER of a PKCS#1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_checked(rsa_key_formats::public_key_from_pkcs1(der)?)
    }

    fn from_checked(checked: CheckedPublicKey) -> Result<Self, CryptoError> {
        let key = B::public_from_spki(&checked.spki)
            .ok_or_else(|| CryptoError::InvalidRsaKey("a damaged RSA public key".into()))?;
        Ok(Self { key, spki: checked.spki, bits: checked.bits, backend: PhantomData })
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The modulus size in bytes: the length of every ciphertext.
    fn len(&self) -> usize {
        self.bits.div_ceil(8)
    }

    /// The largest message, in bytes, that one encryption with `padding` can take.
    pub fn max_message_len(&self, padding: RsaPadding) -> usize {
        self.len().saturating_sub(padding.overhead())
    }

    /// Encrypts `message` and returns the ciphertext in base64. Randomized (the same message
    /// gives a new ciphertext each time), from the operating system's generator.
    pub fn encrypt(&self, padding: RsaPadding, message: &[u8]) -> Result<String, CryptoError> {
        self.encrypt_with_rng(padding, &mut rand_core::OsRng, message)
    }

    /// [`encrypt`](Self::encrypt) with the padding's randomness from `rng`, a cryptographic
    /// RNG (a seeded one repeats the ciphertext with `RustRsa`, for tests; the
    /// [`AwsLc`](crate::rsa_backend) backend uses its own and leaves `rng` alone).
    pub fn encrypt_with_rng(
        &self,
        padding: RsaPadding,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Result<String, CryptoError> {
        if !B::AVAILABLE {
            return Err(CryptoError::NoRsaBackend);
        }
        let max = self.max_message_len(padding);
        if message.len() > max {
            return Err(CryptoError::RsaMessageTooLong { len: message.len(), max });
        }
        let sealed = B::encrypt(&self.key, padding, rng, message).ok_or(CryptoError::Rsa("encryption"))?;
        Ok(base64_encode(&sealed))
    }

    /// The key as SPKI PEM (`BEGIN PUBLIC KEY`), the form Juhe's account page shows.
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        Ok(rsa_key_formats::pem_encode("PUBLIC KEY", &self.spki))
    }
}

impl<B: RsaBackend> Clone for RsaPublicKeyOn<B> {
    fn clone(&self) -> Self {
        Self { key: self.key.clone(), spki: self.spki.clone(), bits: self.bits, backend: PhantomData }
    }
}

impl<B: RsaBackend> PartialEq for RsaPublicKeyOn<B> {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl<B: RsaBackend> Eq for RsaPublicKeyOn<B> {}

impl<B: RsaBackend> fmt::Debug for RsaPublicKeyOn<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A public key is not secret, but its bytes are noise in a log: show its size.
        write!(f, "RsaPublicKey({} bits)", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error() {
        for text in ["", "hello", "-----BEGIN PUBLIC KEY-----\nAAAA", "MIIBIjAN"] {
            assert!(RsaPublicKey::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn private_keys_are_refused_with_a_clear_message() {
        let err =
            RsaPublicKey::parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
    }

    /// With no RSA library, keys are still read, and encrypting names the features to pick.
    #[cfg(not(any(feature = "rust-rsa", feature = "aws-lc")))]
    #[test]
    fn without_a_backend_rsa_says_which_feature_to_enable() {
        let key = RsaPublicKey::parse(include_str!("../tests/data/rsa_public_spki.pem")).unwrap();
        assert_eq!(key.bits(), 2048);
        let error = key.encrypt_with_rng(RsaPadding::OaepSha1, &mut rand_core::OsRng, b"x").unwrap_err();
        assert_eq!(error, CryptoError::NoRsaBackend);
        assert!(error.to_string().contains("`rust-rsa`") && error.to_string().contains("`aws-lc`"));
    }
}
