use std::fmt;

use rand_core::CryptoRngCore;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Oaep, Pkcs1v15Encrypt};
use sha1::Sha1;
use zeroize::Zeroizing;

use crate::codec::base64_decode;
use crate::{CryptoError, RsaPadding, RsaPublicKey};

/// An RSA private key, for the server side of the RSA modes (feature `decrypt`).
#[derive(Clone)]
pub struct RsaPrivateKey(rsa::RsaPrivateKey);

impl RsaPrivateKey {
    /// Reads a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map(Self)
            .map_err(|e| CryptoError::InvalidRsaKey(format!("not a PEM RSA private key: {e}")))
    }

    /// Generates a fresh key pair. Slow (hundreds of milliseconds for 2048 bits).
    pub fn generate(rng: &mut impl CryptoRngCore, bits: usize) -> Result<Self, CryptoError> {
        rsa::RsaPrivateKey::new(rng, bits).map(Self).map_err(|_| CryptoError::Rsa("key generation"))
    }

    /// The matching public key.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey::from_inner(self.0.to_public_key())
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        self.0.to_pkcs8_pem(LineEnding::LF).map_err(|_| CryptoError::Rsa("PEM encoding"))
    }

    /// Decrypts a base64 ciphertext made with `padding`.
    pub fn decrypt(&self, padding: RsaPadding, base64: &str) -> Result<Vec<u8>, CryptoError> {
        let sealed = base64_decode(base64)?;
        match padding {
            RsaPadding::OaepSha1 => self.0.decrypt(Oaep::new::<Sha1>(), &sealed),
            RsaPadding::Pkcs1v15 => self.0.decrypt(Pkcs1v15Encrypt, &sealed),
        }
        .map_err(|_| CryptoError::Rsa("decryption"))
    }
}

impl RsaPublicKey {
    /// The key as SPKI PEM (`BEGIN PUBLIC KEY`), the form Juhe's account page shows.
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        self.inner().to_public_key_pem(LineEnding::LF).map_err(|_| CryptoError::Rsa("PEM encoding"))
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaPrivateKey(***)")
    }
}
