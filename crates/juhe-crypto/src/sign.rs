use md5::{Digest, Md5};

use crate::codec::hex_lower;

/// Lowercase hex MD5 of the parts concatenated as raw UTF-8, with no separator.
///
/// `telecom3/verify` signs `openid + key + realname + idcard + mobile` this way ([docs/protocol.md, "Sign"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#sign)); the
/// caller passes the parts in that order, before any URL encoding.
pub fn md5_sign(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex_lower(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_is_the_md5_of_nothing() {
        assert_eq!(md5_sign(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn parts_are_concatenated_without_separator() {
        assert_eq!(md5_sign(&["ab", "c"]), md5_sign(&["abc"]));
        assert_eq!(md5_sign(&["abc"]), "900150983cd24fb0d6963f7d28e17f72");
    }
}
