//! Secrets kept at rest under a master key (a gateway's team secrets in its database):
//! AES-256-CBC, then HMAC-SHA256 over the format's version, the IV and the ciphertext
//! (encrypt-then-MAC), each key derived from the master key with HKDF-SHA256. A sealed value
//! that was altered, or sealed under another master key, does not open.

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use rand_core::{CryptoRngCore, OsRng};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{CryptoError, hkdf_sha256};

/// The first byte of every sealed value: the format, so a later one can be told apart.
const VERSION: u8 = 1;
/// Version, IV, at least one block, tag.
const MIN_LEN: usize = 1 + 16 + 16 + 32;
/// The shortest master key taken: 256 bits.
pub const MIN_MASTER_KEY_LEN: usize = 32;

/// The keys that seal and open secrets at rest, derived from one master key.
pub struct SealingKey {
    cipher: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
}

impl SealingKey {
    /// The keys of `master`, which must hold at least [`MIN_MASTER_KEY_LEN`] bytes (draw them
    /// from a random generator: `openssl rand -base64 32`).
    pub fn from_master(master: &[u8]) -> Result<Self, CryptoError> {
        if master.len() < MIN_MASTER_KEY_LEN {
            return Err(CryptoError::MasterKeyTooShort(master.len()));
        }
        Ok(Self {
            cipher: Zeroizing::new(hkdf_sha256(b"juhe-rs sealed", master, b"aes-256-cbc v1")),
            mac: Zeroizing::new(hkdf_sha256(b"juhe-rs sealed", master, b"hmac-sha256 v1")),
        })
    }

    /// `plaintext`, sealed under a fresh IV from the operating system.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        self.seal_with_rng(&mut OsRng, plaintext)
    }

    /// [`seal`](Self::seal) with the IV drawn from `rng`.
    pub fn seal_with_rng(&self, rng: &mut impl CryptoRngCore, plaintext: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; 16];
        rng.fill_bytes(&mut iv);
        let cipher = cbc::Encryptor::<Aes256>::new(self.cipher.as_ref().into(), &iv.into());
        let mut sealed = Vec::with_capacity(MIN_LEN + plaintext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&iv);
        sealed.extend_from_slice(&cipher.encrypt_padded_vec_mut::<Pkcs7>(plaintext));
        let tag = self.tag(&sealed);
        sealed.extend_from_slice(&tag);
        sealed
    }

    /// What [`seal`](Self::seal) sealed, once its tag is found right (compared in constant
    /// time); the plaintext is wiped from memory when dropped.
    pub fn open(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < MIN_LEN || sealed[0] != VERSION || !(sealed.len() - MIN_LEN).is_multiple_of(16) {
            return Err(CryptoError::Unsealed);
        }
        let (body, tag) = sealed.split_at(sealed.len() - 32);
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(tag).map_err(|_| CryptoError::Unsealed)?;
        let (iv, ciphertext) = body[1..].split_at(16);
        let cipher = cbc::Decryptor::<Aes256>::new(self.cipher.as_ref().into(), iv.into());
        cipher
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Unsealed)
    }

    fn mac(&self) -> Hmac<Sha256> {
        // An HMAC takes a key of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(self.mac.as_ref()).unwrap_or_else(|_| unreachable!())
    }

    fn tag(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::from_master(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_short_master_key_is_refused() {
        assert_eq!(SealingKey::from_master(&[7; 31]).unwrap_err(), CryptoError::MasterKeyTooShort(31));
        assert_eq!(format!("{:?}", key(1)), "SealingKey(..)");
    }

    #[test]
    fn sealing_twice_gives_two_ciphertexts() {
        let k = key(1);
        assert_ne!(k.seal(b"openid"), k.seal(b"openid"));
    }

    proptest! {
        #[test]
        fn what_is_sealed_opens_and_nothing_altered_does(
            plaintext in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let k = key(1);
            let sealed = k.seal(&plaintext);
            prop_assert_eq!(&k.open(&sealed).unwrap()[..], &plaintext[..]);
            prop_assert!(!sealed.windows(plaintext.len().max(1)).any(|w| plaintext.len() > 8 && w == &plaintext[..]));
            let mut altered = sealed.clone();
            altered[flip.index(sealed.len())] ^= 1 << bit;
            prop_assert_eq!(k.open(&altered).unwrap_err(), CryptoError::Unsealed);
            prop_assert_eq!(key(2).open(&sealed).unwrap_err(), CryptoError::Unsealed);
            prop_assert!(k.open(&sealed[..sealed.len() - 1]).is_err());
        }
    }
}
