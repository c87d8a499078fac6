use std::fmt;

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::codec::base64_decode;
use crate::rsa_backend::{RsaBackend, Selected};
use crate::rsa_key_formats;
use crate::{CryptoError, RsaPadding, RsaPublicKeyOn};

/// An RSA private key, for the server side of the RSA modes (feature `decrypt`), on this
/// build's backend.
pub type RsaPrivateKey = RsaPrivateKeyOn<Selected>;

/// An RSA private key whose arithmetic is done by backend `B`. Use [`RsaPrivateKey`].
pub struct RsaPrivateKeyOn<B: RsaBackend> {
    key: B::Private,
    /// Read back from the private key when it is made, through the public key's checks: a
    /// private key whose public half would be refused is refused.
    public: RsaPublicKeyOn<B>,
}

impl<B: RsaBackend> RsaPrivateKeyOn<B> {
    /// Reads a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        if !B::AVAILABLE {
            return Err(CryptoError::NoRsaBackend);
        }
        let der = rsa_key_formats::private_key_from_pem(pem)?;
        let key = B::private_from_pkcs8(&der)
            .ok_or_else(|| CryptoError::InvalidRsaKey("a damaged RSA private key".into()))?;
        Self::with_public_half(key)
    }

    /// Generates a fresh key pair of 2048, 3072 or 4096 bits from the operating system's
    /// generator. Slow with [`RustRsa`](crate::rsa_backend::RustRsa) (hundreds of milliseconds
    /// for 2048 bits).
    pub fn generate(bits: usize) -> Result<Self, CryptoError> {
        Self::generate_with_rng(&mut rand_core::OsRng, bits)
    }

    /// [`generate`](Self::generate) from `rng` (with `RustRsa`, a seeded one repeats the key:
    /// for tests).
    pub fn generate_with_rng(rng: &mut impl CryptoRngCore, bits: usize) -> Result<Self, CryptoError> {
        if ![2048, 3072, 4096].contains(&bits) {
            return Err(CryptoError::Rsa("key generation (2048, 3072 or 4096 bits)"));
        }
        if !B::AVAILABLE {
            return Err(CryptoError::NoRsaBackend);
        }
        let key = B::generate(rng, bits).ok_or(CryptoError::Rsa("key generation"))?;
        Self::with_public_half(key)
    }

    fn with_public_half(key: B::Private) -> Result<Self, CryptoError> {
        let spki = B::public_spki(&key).ok_or(CryptoError::Rsa("public key encoding"))?;
        let public = RsaPublicKeyOn::from_spki_der(&spki)?;
        Ok(Self { key, public })
    }

    /// The matching public key.
    pub fn public_key(&self) -> RsaPublicKeyOn<B> {
        self.public.clone()
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        let der = B::private_pkcs8(&self.key).ok_or(CryptoError::Rsa("PEM encoding"))?;
        Ok(Zeroizing::new(rsa_key_formats::pem_encode("PRIVATE KEY", &der)))
    }

    /// Decrypts a base64 ciphertext made with `padding`.
    pub fn decrypt(&self, padding: RsaPadding, base64: &str) -> Result<Vec<u8>, CryptoError> {
        let sealed = base64_decode(base64)?;
        B::decrypt(&self.key, padding, &sealed).ok_or(CryptoError::Rsa("decryption"))
    }
}

impl<B: RsaBackend> Clone for RsaPrivateKeyOn<B> {
    fn clone(&self) -> Self {
        Self { key: self.key.clone(), public: self.public.clone() }
    }
}

impl<B: RsaBackend> fmt::Debug for RsaPrivateKeyOn<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaPrivateKey(***)")
    }
}
