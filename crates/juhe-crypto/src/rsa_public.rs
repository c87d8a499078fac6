use std::fmt;

use rand_core::CryptoRngCore;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Encrypt};
use sha1::Sha1;

use crate::CryptoError;
use crate::codec::{base64_decode, base64_encode};

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

/// An RSA public key, parsed once from whatever form the Juhe account page shows it in.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey(rsa::RsaPublicKey);

impl RsaPublicKey {
    /// Reads a key in any of these forms (docs/protocol.md, "Public key formats"): PEM `BEGIN PUBLIC KEY` (SPKI), PEM
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1), or bare base64 of SPKI or PKCS#1 DER; with or without
    /// line breaks, CRLF, surrounding white space, or literal `\n` sequences (a PEM squeezed
    /// into one environment variable).
    ///
    /// What is not such a key is refused with a sentence saying what it is: a private key, a
    /// certificate, an EC key. Keys shorter than [`MIN_BITS`](Self::MIN_BITS) are refused.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.replace("\\n", "\n");
        let (label, body) = split_pem(&text)?;
        let invalid = |message: &str| CryptoError::InvalidRsaKey(message.to_owned());
        match label {
            Some(label) if label.contains("PRIVATE") => {
                return Err(invalid(
                    "this is a private key, which must stay secret: give the account's public key",
                ));
            }
            Some("CERTIFICATE") => {
                return Err(invalid(
                    "this is a certificate, not a public key: take the key out of it with `openssl x509 -pubkey -noout`",
                ));
            }
            _ => {}
        }
        let der =
            base64_decode(body).map_err(|_| invalid("the key is neither PEM nor base64 of a DER key"))?;
        let key = match label {
            Some("PUBLIC KEY") => Self::from_spki_der(&der)?,
            Some("RSA PUBLIC KEY") => Self::from_pkcs1_der(&der)?,
            Some(_) => return Err(invalid("the PEM label says this is not a public key")),
            None => Self::from_spki_der(&der).or_else(|spki| Self::from_pkcs1_der(&der).map_err(|_| spki))?,
        };
        if key.bits() < Self::MIN_BITS {
            return Err(CryptoError::InvalidRsaKey(format!(
                "a {}-bit key: Juhe's keys are {} bits or more; check that the whole key was copied",
                key.bits(),
                Self::MIN_BITS
            )));
        }
        Ok(key)
    }

    /// The shortest key accepted. Juhe's keys are 2048-bit: a shorter one is a copy-paste
    /// mistake or somebody else's key.
    pub const MIN_BITS: usize = 2048;

    /// Reads DER of an X.509 SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        use spki::der::Decode;
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| CryptoError::InvalidRsaKey("not a DER public key (SubjectPublicKeyInfo)".into()))?;
        if info.algorithm.oid != RSA_ENCRYPTION {
            let what = match info.algorithm.oid {
                EC_PUBLIC_KEY => "an EC (elliptic-curve) key",
                ED25519 => "an Ed25519 key",
                _ => "not an RSA key",
            };
            return Err(CryptoError::InvalidRsaKey(format!(
                "this is {what}: Juhe's account page gives an RSA public key"
            )));
        }
        rsa::RsaPublicKey::from_public_key_der(der)
            .map(Self)
            .map_err(|_| CryptoError::InvalidRsaKey("a damaged RSA public key (SubjectPublicKeyInfo)".into()))
    }

    /// Reads DER of a PKCS#1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        rsa::RsaPublicKey::from_pkcs1_der(der)
            .map(Self)
            .map_err(|_| CryptoError::InvalidRsaKey("not a DER RSA public key (PKCS#1)".into()))
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// The largest message, in bytes, that one encryption with `padding` can take.
    pub fn max_message_len(&self, padding: RsaPadding) -> usize {
        self.0.size().saturating_sub(padding.overhead())
    }

    /// Encrypts `message` and returns the ciphertext in base64. Randomized: the same message
    /// gives a new ciphertext each time, so `rng` must be a cryptographic RNG.
    pub fn encrypt(
        &self,
        padding: RsaPadding,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Result<String, CryptoError> {
        let max = self.max_message_len(padding);
        if message.len() > max {
            return Err(CryptoError::RsaMessageTooLong { len: message.len(), max });
        }
        let sealed = match padding {
            RsaPadding::OaepSha1 => self.0.encrypt(rng, Oaep::new::<Sha1>(), message),
            RsaPadding::Pkcs1v15 => self.0.encrypt(rng, Pkcs1v15Encrypt, message),
        }
        .map_err(|_| CryptoError::Rsa("encryption"))?;
        Ok(base64_encode(&sealed))
    }

    #[cfg(feature = "decrypt")]
    pub(crate) fn from_inner(key: rsa::RsaPublicKey) -> Self {
        Self(key)
    }

    #[cfg(feature = "decrypt")]
    pub(crate) fn inner(&self) -> &rsa::RsaPublicKey {
        &self.0
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A public key is not secret, but its bytes are noise in a log: show its size.
        write!(f, "RsaPublicKey({} bits)", self.bits())
    }
}

/// The algorithm identifiers of a SubjectPublicKeyInfo the messages tell apart.
const RSA_ENCRYPTION: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.101.112");

/// Splits PEM armour from its base64 body. Text without armour is all body.
fn split_pem(text: &str) -> Result<(Option<&str>, &str), CryptoError> {
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok((None, text.trim()));
    };
    let after_begin = &text[start + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find("-----")
        .ok_or_else(|| CryptoError::InvalidRsaKey("unterminated PEM BEGIN line".into()))?;
    let label = &after_begin[..label_end];
    let body_and_end = &after_begin[label_end + "-----".len()..];
    let end = body_and_end
        .find("-----END ")
        .ok_or_else(|| CryptoError::InvalidRsaKey(format!("PEM `{label}` has no END line")))?;
    Ok((Some(label), &body_and_end[..end]))
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
}
