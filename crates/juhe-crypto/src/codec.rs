use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::CryptoError;

/// Standard base64 (RFC 4648 alphabet, `=` padding, no line breaks), as Juhe expects it.
pub fn base64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64. ASCII white space (line breaks in pasted keys or images) is
/// ignored; anything else that is not base64 is an error.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact.as_bytes()).map_err(|e| CryptoError::Base64(e.to_string()))
}

/// Lowercase hexadecimal.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex_lower(&[0x00, 0x0a, 0xff]), "000aff");
    }

    #[test]
    fn base64_ignores_line_breaks_but_not_garbage() {
        assert_eq!(base64_decode("aGVs\r\nbG8=").unwrap(), b"hello");
        assert!(base64_decode("aGVs*bG8=").is_err());
    }
}
