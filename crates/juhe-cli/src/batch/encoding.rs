//! The text encodings of batch files. Chinese spreadsheets save CSV as GBK (Excel's "CSV"),
//! as UTF-8 with a byte-order mark ("CSV UTF-8"), or as UTF-16 ("Unicode text"); the input's
//! encoding is detected (or given with `--encoding`), and the output is written so that the
//! same program opens it: GBK stays GBK, UTF-8 keeps its BOM, UTF-16 becomes UTF-8 with a BOM.
//!
//! GBK is read and written as GB18030, its superset that maps every Unicode character, so no
//! rare name is lost. In GB18030 the bytes of `"`, `,`, `\r` and `\n` never occur inside a
//! character, so CSV is parsed on the raw bytes and each field decoded after: byte offsets in
//! the file stay exact, which resume and dedupe rely on.

use std::borrow::Cow;
use std::io::Read;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

/// How a batch file's text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    /// UTF-8; `bom` when the file starts with a byte-order mark.
    Utf8 { bom: bool },
    /// GBK, read and written as GB18030.
    Gbk,
    /// UTF-16 with a byte-order mark, little or big endian; read only.
    Utf16 { big_endian: bool },
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl TextEncoding {
    /// The encoding of a file starting with `head`: its byte-order mark if it has one; else
    /// UTF-8 if `head` is UTF-8, GBK if it decodes as GB18030, UTF-8 otherwise (the lines that
    /// are not are then reported one by one).
    pub(crate) fn detect(head: &[u8]) -> Self {
        if head.starts_with(UTF8_BOM) {
            return TextEncoding::Utf8 { bom: true };
        }
        if head.starts_with(b"\xFF\xFE") {
            return TextEncoding::Utf16 { big_endian: false };
        }
        if head.starts_with(b"\xFE\xFF") {
            return TextEncoding::Utf16 { big_endian: true };
        }
        // A sample may end inside a character: judge the complete ones.
        let utf8 = match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        };
        if !utf8 && decodes_as_gb18030(head) { TextEncoding::Gbk } else { TextEncoding::Utf8 { bom: false } }
    }

    /// The bytes as the CSV parser should see them: UTF-16 is transcoded to UTF-8 (and loses
    /// its BOM); the others pass through as they are.
    pub(crate) fn reader<R: Read + Send + 'static>(self, raw: R) -> Box<dyn Read + Send> {
        match self {
            TextEncoding::Utf16 { big_endian } => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(if big_endian { UTF_16BE } else { UTF_16LE }))
                    .build(raw),
            ),
            TextEncoding::Utf8 { .. } | TextEncoding::Gbk => Box::new(raw),
        }
    }

    /// A field's text; `None` when its bytes are not text in this encoding.
    pub(crate) fn decode<'a>(self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        match self {
            TextEncoding::Gbk => GB18030.decode_without_bom_handling_and_without_replacement(bytes),
            // UTF-16 has been transcoded to UTF-8 by `reader`.
            TextEncoding::Utf8 { .. } | TextEncoding::Utf16 { .. } => {
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            }
        }
    }

    /// The encoding the output is written in for an input in this one.
    pub(crate) fn for_output(self) -> Self {
        match self {
            TextEncoding::Utf16 { .. } => TextEncoding::Utf8 { bom: true },
            other => other,
        }
    }

    /// What starts an output file in this encoding.
    pub(crate) fn bom(self) -> &'static [u8] {
        match self {
            TextEncoding::Utf8 { bom: true } => UTF8_BOM,
            _ => b"",
        }
    }

    /// `text` in this encoding, for writing.
    pub(crate) fn encode(self, text: &str) -> Cow<'_, [u8]> {
        match self {
            TextEncoding::Gbk => GB18030.encode(text).0,
            TextEncoding::Utf8 { .. } | TextEncoding::Utf16 { .. } => Cow::Borrowed(text.as_bytes()),
        }
    }

    /// Its name for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 { bom: false } => "UTF-8",
            TextEncoding::Utf8 { bom: true } => "UTF-8 with BOM",
            TextEncoding::Gbk => "GBK",
            TextEncoding::Utf16 { big_endian: false } => "UTF-16LE",
            TextEncoding::Utf16 { big_endian: true } => "UTF-16BE",
        }
    }
}

/// Whether `bytes` is GB18030 text, allowing the last character to be cut off (a sample ends
/// anywhere; a GB18030 character is at most 4 bytes).
fn decodes_as_gb18030(bytes: &[u8]) -> bool {
    (0..=3.min(bytes.len())).any(|cut| {
        GB18030.decode_without_bom_handling_and_without_replacement(&bytes[..bytes.len() - cut]).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_what_spreadsheets_save() {
        assert_eq!(TextEncoding::detect(b"name,idcard\n"), TextEncoding::Utf8 { bom: false });
        assert_eq!(TextEncoding::detect("\u{feff}姓名\n".as_bytes()), TextEncoding::Utf8 { bom: true });
        let gbk = GB18030.encode("姓名,身份证号码\n张三,110\n").0;
        assert_eq!(TextEncoding::detect(&gbk), TextEncoding::Gbk);
        // A sample cut inside a GBK character is still GBK.
        assert_eq!(TextEncoding::detect(&gbk[..gbk.len() - 6]), TextEncoding::Gbk);
        assert_eq!(TextEncoding::detect(b"\xFF\xFEn\0a\0"), TextEncoding::Utf16 { big_endian: false });
        // A UTF-8 sample cut inside a character is still UTF-8.
        assert_eq!(TextEncoding::detect(&"张三".as_bytes()[..4]), TextEncoding::Utf8 { bom: false });
    }

    #[test]
    fn gbk_round_trips_rare_names_through_gb18030() {
        for name in ["张三", "阿依古丽·买买提", "𠮷野"] {
            let bytes = TextEncoding::Gbk.encode(name);
            assert_eq!(TextEncoding::Gbk.decode(&bytes).as_deref(), Some(name));
        }
    }

    #[test]
    fn utf16_is_read_as_utf8() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("姓名,x\n".encode_utf16().flat_map(u16::to_le_bytes));
        let mut text = String::new();
        TextEncoding::detect(&bytes).reader(std::io::Cursor::new(bytes)).read_to_string(&mut text).unwrap();
        assert_eq!(text, "姓名,x\n");
    }
}
