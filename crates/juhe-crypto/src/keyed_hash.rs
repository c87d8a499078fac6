//! HMAC-SHA256: a name for a set of fields that reveals nothing about them without the key.
//! A batch uses one to find repeated checks, a ledger to find earlier ones, and neither ever
//! stores the fields themselves.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 (RFC 2104) of `parts`, each prefixed with its length as a big-endian `u32`,
/// under `key`. The length prefixes make the encoding injective: `["ab", "c"]` and
/// `["a", "bc"]` hash apart.
///
/// ```
/// let a = juhe_crypto::keyed_hash(b"key", &[b"ab", b"c"]);
/// assert_ne!(a, juhe_crypto::keyed_hash(b"key", &[b"a", b"bc"]));
/// assert_ne!(a, juhe_crypto::keyed_hash(b"other key", &[b"ab", b"c"]));
/// ```
pub fn keyed_hash(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = hmac_sha256(key);
    for part in parts {
        // A part longer than 4 GiB cannot be a field of a check (the largest, an image, is
        // capped far below); saturating keeps the function total.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        mac.update(&len.to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `message` as it is, for known-answer tests against other implementations.
pub fn hmac_sha256_digest(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = hmac_sha256(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 (RFC 5869) with a 32-byte output: a key for one purpose, named by `info`,
/// from secret material `ikm` that may serve others. A ledger derives the key of its subjects
/// from the account's API key this way, so the API key itself is never stored or reused.
///
/// ```
/// let a = juhe_crypto::hkdf_sha256(b"salt", b"api key", b"purpose one");
/// assert_ne!(a, juhe_crypto::hkdf_sha256(b"salt", b"api key", b"purpose two"));
/// ```
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    // RustCrypto's `hkdf`, reviewed on its own, rather than a block of this crate's.
    let mut okm = [0; 32];
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, &mut okm).unwrap_or_else(|_| {
        unreachable!("32 bytes is one block of HKDF-SHA256's output, far under its 8,160")
    });
    okm
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length (longer keys are hashed first): this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// `a == b` for secrets (API keys, admin keys, key hashes): in time that depends on the
/// lengths only, so an answer's timing tells nothing of how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let differences = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(differences) == 0 && a.len() == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231, test cases 1 and 2: answers from an independent implementation.
    #[test]
    fn known_answers_of_rfc_4231() {
        assert_eq!(
            hex(&hmac_sha256_digest(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256_digest(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// RFC 5869, test case 1: the first 32 bytes of its 42-byte output.
    #[test]
    fn known_answer_of_rfc_5869() {
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        assert_eq!(
            hex(&hkdf_sha256(&salt, &[0x0b; 22], &info)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn parts_are_length_prefixed() {
        let message = [&3u32.to_be_bytes()[..], b"abc", &0u32.to_be_bytes()].concat();
        assert_eq!(keyed_hash(b"k", &[b"abc", b""]), hmac_sha256_digest(b"k", &message));
    }
}
