//! `application/x-www-form-urlencoded` bodies, percent-encoding every value (the
//! `percent-encoding` crate's, with this crate's choice of what stays as it is).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

/// What is percent-encoded: everything but `A–Z a–z 0–9 - . _ ~` (RFC 3986's unreserved).
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Encodes pairs as a form body. Everything but `A–Z a–z 0–9 - . _ ~` is percent-encoded as
/// UTF-8, spaces included (`%20`, never `+`): a base64 `+` sent raw would arrive as a space.
pub fn encode_form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut body = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            body.push('&');
        }
        percent_encode_into(&mut body, name);
        body.push('=');
        percent_encode_into(&mut body, value);
    }
    body
}

fn percent_encode_into(out: &mut String, text: &str) {
    out.extend(utf8_percent_encode(text, ENCODED));
}

/// Decodes a form body or query string into pairs; `+` is a space. Malformed escapes are kept
/// as they are and invalid UTF-8 is replaced, so any input decodes without error.
pub fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut halves = part.splitn(2, |&b| b == b'=');
            let name = decoded(halves.next().unwrap_or_default());
            let value = decoded(halves.next().unwrap_or_default());
            (name, value)
        })
        .collect()
}

/// One name or value: `+` is a space (an encoded `+` is `%2B`), then the escapes.
fn decoded(bytes: &[u8]) -> String {
    let spaced: Vec<u8> = bytes.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    String::from_utf8_lossy(&percent_decode(&spaced).collect::<Vec<u8>>()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_base64_and_cjk_safely() {
        assert_eq!(
            encode_form([("a", "x+y/z="), ("名", "张 三")]),
            "a=x%2By%2Fz%3D&%E5%90%8D=%E5%BC%A0%20%E4%B8%89"
        );
    }

    #[test]
    fn decodes_plus_as_space_and_keeps_bad_escapes() {
        assert_eq!(
            decode_form(b"a=x+y&b=%zz&c=%4"),
            vec![("a".into(), "x y".into()), ("b".into(), "%zz".into()), ("c".into(), "%4".into())]
        );
    }

    /// The encoder this crate had before it used `percent-encoding`, byte for byte: the
    /// reference the wire must keep.
    fn reference_encode(text: &str) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = String::new();
        for &byte in text.as_bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xF)]));
            }
        }
        out
    }

    proptest! {
        #[test]
        fn the_wire_bytes_are_the_reference_encoders(text in any::<String>()) {
            let mut ours = String::new();
            percent_encode_into(&mut ours, &text);
            prop_assert_eq!(ours, reference_encode(&text));
        }

        #[test]
        fn round_trips(pairs: Vec<(String, String)>) {
            let body = encode_form(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
            // An empty name and value encode to "=", which decodes back to an empty pair.
            prop_assert_eq!(decode_form(body.as_bytes()), pairs);
        }

        #[test]
        fn decoding_never_panics(bytes: Vec<u8>) {
            let _ = decode_form(&bytes);
        }
    }
}
