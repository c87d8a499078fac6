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
pub enum TextEncoding {
    /// UTF-8; `bom` when the file starts with a byte-order mark.
    Utf8 {
        /// Whether the file starts with a byte-order mark.
        bom: bool,
    },
    /// GBK, read and written as GB18030.
    Gbk,
    /// UTF-16 with a byte-order mark, little or big endian; read only.
    Utf16 {
        /// Big-endian (`FE FF`) rather than little-endian (`FF FE`).
        big_endian: bool,
    },
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl TextEncoding {
    /// The encoding of a file starting with `head`: its byte-order mark if it has one; else
    /// UTF-8 if `head` is UTF-8, GBK if it decodes as GB18030, UTF-8 otherwise (the lines that
    /// are not are then reported one by one). A head whose text lines are mostly UTF-8 but
    /// not all is [`MixedEncoding`]: read as GBK, every UTF-8 name would be garbled and still
    /// checked (and billed), so the user says which it is.
    pub fn detect(head: &[u8]) -> Result<Self, MixedEncoding> {
        if head.starts_with(UTF8_BOM) {
            return Ok(TextEncoding::Utf8 { bom: true });
        }
        if head.starts_with(b"\xFF\xFE") {
            return Ok(TextEncoding::Utf16 { big_endian: false });
        }
        if head.starts_with(b"\xFE\xFF") {
            return Ok(TextEncoding::Utf16 { big_endian: true });
        }
        let lines = Utf8Lines::count(head);
        match lines.first_other {
            None => Ok(TextEncoding::Utf8 { bom: false }),
            Some(line) if lines.utf8 > lines.other => Err(MixedEncoding { first_other_line: line }),
            Some(_) if decodes_as_gb18030(head) => Ok(TextEncoding::Gbk),
            Some(_) => Ok(TextEncoding::Utf8 { bom: false }),
        }
    }

    /// The bytes as the CSV parser should see them: UTF-16 is transcoded to UTF-8 (and loses
    /// its BOM); the others pass through as they are.
    pub fn reader<R: Read + Send + 'static>(self, raw: R) -> Box<dyn Read + Send> {
        match self {
            TextEncoding::Utf16 { big_endian } => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(if big_endian { UTF_16BE } else { UTF_16LE }))
                    .build(raw),
            ),
            TextEncoding::Utf8 { .. } | TextEncoding::Gbk => Box::new(raw),
        }
    }

    /// A field's text; `None` when its bytes are not text in this encoding, or hold U+FFFD:
    /// the mark of a decoding that lost characters (UTF-16's transcoding puts it where a lone
    /// surrogate was), so a name with it is not the name the user has.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        let text = match self {
            TextEncoding::Gbk => GB18030.decode_without_bom_handling_and_without_replacement(bytes),
            // UTF-16 has been transcoded to UTF-8 by `reader`.
            TextEncoding::Utf8 { .. } | TextEncoding::Utf16 { .. } => {
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            }
        }?;
        (!text.contains('\u{FFFD}')).then_some(text)
    }

    /// The encoding the output is written in for an input in this one.
    pub fn for_output(self) -> Self {
        match self {
            TextEncoding::Utf16 { .. } => TextEncoding::Utf8 { bom: true },
            other => other,
        }
    }

    /// What starts an output file in this encoding.
    pub fn bom(self) -> &'static [u8] {
        match self {
            TextEncoding::Utf8 { bom: true } => UTF8_BOM,
            _ => b"",
        }
    }

    /// `text` in this encoding, for writing.
    pub fn encode(self, text: &str) -> Cow<'_, [u8]> {
        match self {
            TextEncoding::Gbk => GB18030.encode(text).0,
            TextEncoding::Utf8 { .. } | TextEncoding::Utf16 { .. } => Cow::Borrowed(text.as_bytes()),
        }
    }

    /// [`encode`](Self::encode) of text given as UTF-8 bytes: read as text only when the
    /// encoding changes its bytes (a CSV writer's record, once a row, passes through as it is).
    pub fn encode_utf8(self, utf8: &[u8]) -> Result<Cow<'_, [u8]>, std::str::Utf8Error> {
        match self {
            TextEncoding::Gbk => Ok(Cow::Owned(self.encode(std::str::from_utf8(utf8)?).into_owned())),
            TextEncoding::Utf8 { .. } | TextEncoding::Utf16 { .. } => Ok(Cow::Borrowed(utf8)),
        }
    }

    /// Its name for messages.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 { bom: false } => "UTF-8",
            TextEncoding::Utf8 { bom: true } => "UTF-8 with BOM",
            TextEncoding::Gbk => "GBK",
            TextEncoding::Utf16 { big_endian: false } => "UTF-16LE",
            TextEncoding::Utf16 { big_endian: true } => "UTF-16BE",
        }
    }
}

/// A head of a file that is mostly UTF-8 text, but not all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixedEncoding {
    /// The first line (1-based) that is not UTF-8.
    pub first_other_line: u64,
}

/// The lines of a head that hold more than ASCII, by whether they are UTF-8.
struct Utf8Lines {
    utf8: u64,
    other: u64,
    first_other: Option<u64>,
}

impl Utf8Lines {
    fn count(head: &[u8]) -> Self {
        let mut lines = Utf8Lines { utf8: 0, other: 0, first_other: None };
        let mut pieces = head.split(|&b| b == b'\n').peekable();
        let mut number = 0;
        while let Some(line) = pieces.next() {
            number += 1;
            if line.is_ascii() {
                continue;
            }
            // The sample may end inside a character: judge the complete ones of the last line.
            let utf8 = match std::str::from_utf8(line) {
                Ok(_) => true,
                Err(e) => pieces.peek().is_none() && e.error_len().is_none(),
            };
            if utf8 {
                lines.utf8 += 1;
            } else {
                lines.other += 1;
                lines.first_other.get_or_insert(number);
            }
        }
        lines
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
        assert_eq!(TextEncoding::detect(b"name,idcard\n"), Ok(TextEncoding::Utf8 { bom: false }));
        assert_eq!(TextEncoding::detect("\u{feff}姓名\n".as_bytes()), Ok(TextEncoding::Utf8 { bom: true }));
        let gbk = GB18030.encode("姓名,身份证号码\n张三,110\n").0;
        assert_eq!(TextEncoding::detect(&gbk), Ok(TextEncoding::Gbk));
        // A sample cut inside a GBK character is still GBK.
        assert_eq!(TextEncoding::detect(&gbk[..gbk.len() - 6]), Ok(TextEncoding::Gbk));
        assert_eq!(TextEncoding::detect(b"\xFF\xFEn\0a\0"), Ok(TextEncoding::Utf16 { big_endian: false }));
        // A UTF-8 sample cut inside a character is still UTF-8.
        assert_eq!(TextEncoding::detect(&"张三".as_bytes()[..4]), Ok(TextEncoding::Utf8 { bom: false }));
        // UTF-8 with one line pasted from a GBK file is neither: the user says which.
        let mut mixed = "姓名,身份证号码\n梁雪,1\n张三,2\n".as_bytes().to_vec();
        mixed.extend_from_slice(&GB18030.encode("李四,3\n").0);
        assert_eq!(TextEncoding::detect(&mixed), Err(MixedEncoding { first_other_line: 4 }));
    }

    #[test]
    fn gbk_round_trips_rare_names_through_gb18030() {
        for name in ["张三", "阿依古丽·买买提", "𠮷野"] {
            let bytes = TextEncoding::Gbk.encode(name);
            assert_eq!(TextEncoding::Gbk.decode(&bytes).as_deref(), Some(name));
        }
    }

    #[test]
    fn encoding_utf8_bytes_is_encoding_their_text() {
        let text = "张三,𠮷田,\"a\"\r\n";
        for encoding in
            [TextEncoding::Utf8 { bom: false }, TextEncoding::Utf8 { bom: true }, TextEncoding::Gbk]
        {
            assert_eq!(
                encoding.encode_utf8(text.as_bytes()).unwrap(),
                encoding.encode(text),
                "{}",
                encoding.name()
            );
        }
        assert!(TextEncoding::Gbk.encode_utf8(b"\xFF").is_err(), "GBK reads the bytes as text first");
    }

    #[test]
    fn utf16_is_read_as_utf8() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("姓名,x\n".encode_utf16().flat_map(u16::to_le_bytes));
        let mut text = String::new();
        TextEncoding::detect(&bytes)
            .unwrap()
            .reader(std::io::Cursor::new(bytes))
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "姓名,x\n");
    }
}

#[cfg(test)]
mod replacement_tests {
    use super::*;

    #[test]
    fn text_that_lost_characters_is_no_text() {
        // A lone surrogate in UTF-16 comes out of the transcoding as U+FFFD.
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend([0x20, 0x5F, 0x00, 0xD8, 0x0B, 0x67]); // 张, a lone high surrogate, 朋
        let mut text = Vec::new();
        TextEncoding::Utf16 { big_endian: false }
            .reader(std::io::Cursor::new(bytes))
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(TextEncoding::Utf16 { big_endian: false }.decode(&text), None);
        assert_eq!(TextEncoding::Utf8 { bom: false }.decode("梁\u{FFFD}".as_bytes()), None);
        assert_eq!(TextEncoding::Utf8 { bom: false }.decode("梁雪".as_bytes()).as_deref(), Some("梁雪"));
    }
}
