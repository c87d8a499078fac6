use aes::Aes128;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncryptMut, KeyInit, KeyIvInit};

use crate::AesKey;
use crate::codec::base64_encode;

/// AES-128-ECB with PKCS#7 padding (Java's `AES/ECB/PKCS5Padding`), base64: the field
/// encryption of every `queryEncry` endpoint.
pub fn aes_ecb_encrypt(key: &AesKey, plaintext: &[u8]) -> String {
    let cipher = ecb::Encryptor::<Aes128>::new(key.as_bytes().into());
    base64_encode(&cipher.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

/// AES-128-CBC with PKCS#7 padding (Java's `AES/CBC/PKCS5Padding`), base64: the field
/// encryption of `idcard/queryEncryV2`.
pub fn aes_cbc_encrypt(key: &AesKey, iv: &AesKey, plaintext: &[u8]) -> String {
    let cipher = cbc::Encryptor::<Aes128>::new(key.as_bytes().into(), iv.as_bytes().into());
    base64_encode(&cipher.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

#[cfg(feature = "decrypt")]
mod decrypt {
    use aes::Aes128;
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockDecryptMut, KeyInit, KeyIvInit};

    use crate::codec::base64_decode;
    use crate::{AesKey, CryptoError};

    /// Opens what [`aes_ecb_encrypt`](crate::aes_ecb_encrypt) sealed.
    pub fn aes_ecb_decrypt(key: &AesKey, base64: &str) -> Result<Vec<u8>, CryptoError> {
        let sealed = base64_decode(base64)?;
        ecb::Decryptor::<Aes128>::new(key.as_bytes().into())
            .decrypt_padded_vec_mut::<Pkcs7>(&sealed)
            .map_err(|_| CryptoError::AesPadding)
    }

    /// Opens what [`aes_cbc_encrypt`](crate::aes_cbc_encrypt) sealed.
    pub fn aes_cbc_decrypt(key: &AesKey, iv: &AesKey, base64: &str) -> Result<Vec<u8>, CryptoError> {
        let sealed = base64_decode(base64)?;
        cbc::Decryptor::<Aes128>::new(key.as_bytes().into(), iv.as_bytes().into())
            .decrypt_padded_vec_mut::<Pkcs7>(&sealed)
            .map_err(|_| CryptoError::AesPadding)
    }
}

#[cfg(feature = "decrypt")]
pub use decrypt::{aes_cbc_decrypt, aes_ecb_decrypt};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecb_pads_a_full_block_when_input_is_aligned() {
        let key = AesKey::from_openid("x");
        // 16 bytes of input become 32 bytes of ciphertext: 44 base64 characters.
        assert_eq!(aes_ecb_encrypt(&key, &[0u8; 16]).len(), 44);
        assert_eq!(aes_ecb_encrypt(&key, b"").len(), 24);
    }

    #[test]
    fn cbc_depends_on_the_iv() {
        let key = AesKey::from_openid("k");
        let a = aes_cbc_encrypt(&key, &AesKey::from_openid("a"), b"110101");
        let b = aes_cbc_encrypt(&key, &AesKey::from_openid("b"), b"110101");
        assert_ne!(a, b);
    }

    #[cfg(feature = "decrypt")]
    #[test]
    fn decrypting_garbage_is_an_error_not_a_panic() {
        use crate::CryptoError;
        let key = AesKey::from_openid("k");
        assert_eq!(aes_ecb_decrypt(&key, "AAAA"), Err(CryptoError::AesPadding));
        assert!(aes_cbc_decrypt(&key, &key, "%%%").is_err());
        assert_eq!(aes_ecb_decrypt(&key, ""), Err(CryptoError::AesPadding));
    }
}
