//! Reading and writing RSA keys as text and DER, the same way whichever backend does the
//! arithmetic: every form a key can be pasted in ends as one SubjectPublicKeyInfo (public) or
//! PKCS#8 (private) DER document, checked here, so both backends accept and refuse the same
//! keys with the same sentences.

use pkcs1::der::{Decode, Encode};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::CryptoError;
use crate::codec::{base64_decode, base64_encode};

/// The shortest modulus accepted. Juhe's keys are 2048-bit: a shorter one is a copy-paste
/// mistake or somebody else's key.
pub(crate) const MIN_BITS: usize = 2048;

/// The longest modulus accepted: RustCrypto's `rsa` stops at 4096 bits, so both backends do.
pub(crate) const MAX_BITS: usize = 4096;

/// A public key that passed every check: its SubjectPublicKeyInfo DER and modulus size.
pub(crate) struct CheckedPublicKey {
    pub(crate) spki: Vec<u8>,
    pub(crate) bits: usize,
}

fn invalid(message: impl Into<String>) -> CryptoError {
    CryptoError::InvalidRsaKey(message.into())
}

/// Reads a public key pasted as PEM (SPKI or PKCS#1) or bare base64 of either DER.
pub(crate) fn public_key_from_text(text: &str) -> Result<CheckedPublicKey, CryptoError> {
    // A PEM squeezed into one environment variable carries literal `\n` sequences.
    let text = text.replace("\\n", "\n");
    let (label, body) = split_pem(&text)?;
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
    let der = base64_decode(body).map_err(|_| invalid("the key is neither PEM nor base64 of a DER key"))?;
    match label {
        Some("PUBLIC KEY") => public_key_from_spki(&der),
        Some("RSA PUBLIC KEY") => public_key_from_pkcs1(&der),
        Some(_) => Err(invalid("the PEM label says this is not a public key")),
        // Bare base64 says nothing of its form: SPKI is what Juhe's page shows, so its error
        // is the one reported.
        None => public_key_from_spki(&der).or_else(|spki| public_key_from_pkcs1(&der).map_err(|_| spki)),
    }
}

/// Checks DER of an X.509 SubjectPublicKeyInfo: an RSA key of an accepted size.
pub(crate) fn public_key_from_spki(der: &[u8]) -> Result<CheckedPublicKey, CryptoError> {
    let info = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| invalid("not a DER public key (SubjectPublicKeyInfo)"))?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        let what = match info.algorithm.oid {
            EC_PUBLIC_KEY => "an EC (elliptic-curve) key",
            ED25519 => "an Ed25519 key",
            _ => "not an RSA key",
        };
        return Err(invalid(format!("this is {what}: Juhe's account page gives an RSA public key")));
    }
    let pkcs1 = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("a damaged RSA public key (SubjectPublicKeyInfo)"))?;
    let bits = checked_modulus_bits(pkcs1, "a damaged RSA public key (SubjectPublicKeyInfo)")?;
    // Re-encoded with NULL parameters, the form both backends read: a key is equal to itself
    // however it was pasted.
    Ok(CheckedPublicKey { spki: wrap_pkcs1_public(pkcs1)?, bits })
}

/// Checks DER of a PKCS#1 `RSAPublicKey` and wraps it as a SubjectPublicKeyInfo.
pub(crate) fn public_key_from_pkcs1(der: &[u8]) -> Result<CheckedPublicKey, CryptoError> {
    let bits = checked_modulus_bits(der, "not a DER RSA public key (PKCS#1)")?;
    Ok(CheckedPublicKey { spki: wrap_pkcs1_public(der)?, bits })
}

/// The modulus size of a PKCS#1 public key, refusing what neither backend can use: sizes
/// outside [`MIN_BITS`]..=[`MAX_BITS`], an even modulus, an exponent that is even, below 3 or
/// above 2^33 (RustCrypto's bound; AWS-LC's is the same order).
fn checked_modulus_bits(pkcs1: &[u8], damaged: &str) -> Result<usize, CryptoError> {
    let key = pkcs1::RsaPublicKey::from_der(pkcs1).map_err(|_| invalid(damaged))?;
    let modulus = key.modulus.as_bytes();
    let exponent = key.public_exponent.as_bytes();
    let bits = significant_bits(modulus);
    if bits < MIN_BITS {
        return Err(invalid(format!(
            "a {bits}-bit key: Juhe's keys are {MIN_BITS} bits or more; check that the whole key was copied"
        )));
    }
    if bits > MAX_BITS {
        return Err(invalid(format!("a {bits}-bit key: keys longer than {MAX_BITS} bits are not supported")));
    }
    let odd = |n: &[u8]| n.last().is_some_and(|b| b & 1 == 1);
    let exponent_bits = significant_bits(exponent);
    if !odd(modulus) || !odd(exponent) || !(2..=33).contains(&exponent_bits) {
        return Err(invalid(damaged));
    }
    Ok(bits)
}

/// Bits of a big-endian unsigned integer, leading zeros not counted.
fn significant_bits(bytes: &[u8]) -> usize {
    let Some(first) = bytes.iter().position(|&b| b != 0) else {
        return 0;
    };
    (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize
}

fn wrap_pkcs1_public(pkcs1: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let info = SubjectPublicKeyInfoRef {
        algorithm: rsa_algorithm(),
        subject_public_key: spki::der::asn1::BitStringRef::from_bytes(pkcs1)
            .map_err(|_| invalid("a damaged RSA public key"))?,
    };
    info.to_der().map_err(|_| invalid("a damaged RSA public key"))
}

fn rsa_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef { oid: RSA_ENCRYPTION, parameters: Some(spki::der::asn1::AnyRef::NULL) }
}

/// The algorithm identifiers of a SubjectPublicKeyInfo the messages tell apart.
const RSA_ENCRYPTION: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.101.112");

/// Splits PEM armour from its base64 body. Text without armour is all body.
pub(crate) fn split_pem(text: &str) -> Result<(Option<&str>, &str), CryptoError> {
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok((None, text.trim()));
    };
    let after_begin = &text[start + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----").ok_or_else(|| invalid("unterminated PEM BEGIN line"))?;
    let label = &after_begin[..label_end];
    let body_and_end = &after_begin[label_end + "-----".len()..];
    let end =
        body_and_end.find("-----END ").ok_or_else(|| invalid(format!("PEM `{label}` has no END line")))?;
    Ok((Some(label), &body_and_end[..end]))
}

/// PEM armour around `der`: 64 base64 characters a line, LF line ends (what OpenSSL writes).
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64_encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 is ASCII: every chunk is valid UTF-8.
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Reads a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`),
/// as PKCS#8 DER.
#[cfg(feature = "decrypt")]
pub(crate) fn private_key_from_pem(pem: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
    let not_a_key = || invalid("not a PEM RSA private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`)");
    let (label, body) = split_pem(pem)?;
    let der = zeroize::Zeroizing::new(base64_decode(body).map_err(|_| not_a_key())?);
    match label {
        Some("PRIVATE KEY") => {
            let info = pkcs8::PrivateKeyInfo::from_der(&der).map_err(|_| not_a_key())?;
            if info.algorithm.oid != RSA_ENCRYPTION {
                return Err(invalid("this private key is not an RSA key"));
            }
            Ok(der)
        }
        Some("RSA PRIVATE KEY") => {
            pkcs1::RsaPrivateKey::from_der(&der).map_err(|_| not_a_key())?;
            let info = pkcs8::PrivateKeyInfo::new(rsa_algorithm(), &der);
            Ok(zeroize::Zeroizing::new(info.to_der().map_err(|_| not_a_key())?))
        }
        _ => Err(not_a_key()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_bits_ignore_leading_zeros() {
        assert_eq!(significant_bits(&[]), 0);
        assert_eq!(significant_bits(&[0, 0]), 0);
        assert_eq!(significant_bits(&[0, 1]), 1);
        assert_eq!(significant_bits(&[0x80, 0]), 16);
        assert_eq!(significant_bits(&[0, 0x7f, 0xff]), 15);
    }

    #[test]
    fn pem_lines_are_64_characters() {
        let pem = pem_encode("PUBLIC KEY", &[7; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"));
        let (label, body) = split_pem(&pem).unwrap();
        assert_eq!((label, base64_decode(body).unwrap()), (Some("PUBLIC KEY"), vec![7; 100]));
    }
}
