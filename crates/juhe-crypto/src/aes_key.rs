use std::fmt;

use md5::{Digest, Md5};
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::CryptoError;
use crate::codec::hex_lower;

/// An AES-128 key (or IV) of 16 bytes. Juhe's keys are always 16 printable ASCII characters.
///
/// Zeroized on drop; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 16]);

/// Characters of a random key: Juhe's documents ask for "16 characters" chosen by the caller.
const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl AesKey {
    /// The key of every `queryEncry` endpoint, and the IV of `idcard/queryEncryV2`: the first 16
    /// characters of the lowercase hex MD5 of the openid, as 16 ASCII bytes ([docs/protocol.md, "AES key from the openid"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#aes-key-from-the-openid)).
    pub fn from_openid(openid: &str) -> Self {
        let mut hex = hex_lower(&Md5::digest(openid.as_bytes()));
        let mut key = [0u8; 16];
        key.copy_from_slice(&hex.as_bytes()[..16]);
        hex.zeroize();
        Self(key)
    }

    /// A fresh key of 16 alphanumeric characters drawn from the operating system's generator,
    /// for `idcard/queryEncryV2` ([docs/protocol.md, "idcard RSA mode"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#idcard-rsa-mode)).
    pub fn generate() -> Self {
        Self::random(&mut rand_core::OsRng)
    }

    /// [`generate`](Self::generate) from `rng`: a seeded one repeats the key, for tests.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut key = [0u8; 16];
        for byte in &mut key {
            // Rejection sampling: 62 does not divide 256, and a modulo would bias the key.
            *byte = loop {
                let candidate = (rng.next_u32() & 0xff) as u8;
                if candidate < 248 {
                    break ALPHANUMERIC[usize::from(candidate % 62)];
                }
            };
        }
        Self(key)
    }

    /// A key from exactly 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; 16] = bytes.try_into().map_err(|_| CryptoError::AesKeyLength(bytes.len()))?;
        Ok(Self(key))
    }

    /// The 16 key bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl Drop for AesKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn openid_key_is_lowercase_hex_prefix_of_md5() {
        // md5("abc") = 900150983cd24fb0d6963f7d28e17f72
        assert_eq!(AesKey::from_openid("abc").as_bytes(), b"900150983cd24fb0");
    }

    #[test]
    fn random_keys_are_alphanumeric_and_differ() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let a = AesKey::random(&mut rng);
        let b = AesKey::random(&mut rng);
        assert!(a.as_bytes().iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
    }

    #[test]
    fn debug_hides_the_key() {
        let key = AesKey::from_openid("abc");
        assert_eq!(format!("{key:?}"), "AesKey(***)");
    }

    #[test]
    fn from_bytes_checks_length() {
        assert_eq!(AesKey::from_bytes(b"short"), Err(CryptoError::AesKeyLength(5)));
    }
}
