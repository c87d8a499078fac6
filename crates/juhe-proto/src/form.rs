//! `application/x-www-form-urlencoded` bodies, percent-encoding every value.

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
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
}

/// Decodes a form body or query string into pairs; `+` is a space. Malformed escapes are kept
/// as they are and invalid UTF-8 is replaced, so any input decodes without error.
pub fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut halves = part.splitn(2, |&b| b == b'=');
            let name = percent_decode(halves.next().unwrap_or_default());
            let value = percent_decode(halves.next().unwrap_or_default());
            (name, value)
        })
        .collect()
}

fn percent_decode(bytes: &[u8]) -> String {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

    proptest! {
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
