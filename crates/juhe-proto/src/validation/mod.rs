//! Local validation: bad input is refused before anything is sent (and paid for), with an
//! error that names the field and never echoes its value.

/// [`PersonalValue`](crate::PersonalValue) for a text type over a `String` whose caller's input
/// and wire text are read alike, by its `parse`, and whose masked form is its `masked`.
macro_rules! text_personal_value {
    ($ty:ident) => {
        impl crate::PersonalValue for $ty {
            type Input<'a> = &'a str;
            fn from_input(input: &str, _today: super::CivilDate) -> Result<Self, ValidationError> {
                Self::parse(input)
            }
            fn from_wire(text: &str, _today: super::CivilDate) -> Result<Self, ValidationError> {
                Self::parse(text)
            }
            fn wire(&self) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed(&self.0)
            }
            fn masked(&self) -> Option<String> {
                Some($ty::masked(self))
            }
        }
    };
}
pub(crate) use text_personal_value;

mod civil_date;
mod face_image;
mod id_card;
pub mod masking;
mod mobile;
mod name;

use std::fmt;

use crate::Param;

pub use civil_date::CivilDate;
pub use face_image::{FaceImage, ImageFormat};
pub use id_card::IdCardNumber;
pub(crate) use masking::mask_secret;
pub use mobile::MobileNumber;
pub use name::PersonName;

/// The input a [`ValidationError`] is about. `Display` gives the wire name of the fields that
/// are sent ([`Field::param`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The person's name (`realname`).
    Name,
    /// The ID card number (`idcard`).
    IdCard,
    /// The mobile number (`mobile`).
    Mobile,
    /// The face image (`image`).
    Image,
    /// The API key (`key`).
    Key,
    /// The account's openid.
    Openid,
    /// A base URL.
    BaseUrl,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 7] =
        [Field::Name, Field::IdCard, Field::Mobile, Field::Image, Field::Key, Field::Openid, Field::BaseUrl];

    /// The field sent as `param`, if one is.
    pub fn from_param(param: Param) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.param() == Some(param))
    }

    /// The form parameter it is sent as; `None` for what is not sent as itself.
    pub const fn param(self) -> Option<Param> {
        match self {
            Field::Name => Some(Param::Realname),
            Field::IdCard => Some(Param::Idcard),
            Field::Mobile => Some(Param::Mobile),
            Field::Image => Some(Param::Image),
            Field::Key => Some(Param::Key),
            Field::Openid | Field::BaseUrl => None,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.param(), self) {
            (Some(param), _) => f.write_str(param.wire_name()),
            (None, Field::Openid) => f.write_str("openid"),
            (None, _) => f.write_str("base URL"),
        }
    }
}

/// What is wrong with a field. Messages say what to fix; none repeats the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Nothing was given.
    #[error("it is empty")]
    Empty,
    /// Too short or too long.
    #[error("it has {found} {}, {expected}", if *found == 1 { "character" } else { "characters" })]
    Length {
        /// What the length should be.
        expected: &'static str,
        /// What it was.
        found: usize,
    },
    /// A character that cannot be there, at a 1-based character position.
    #[error("character {position} is not allowed: {expected}")]
    Character {
        /// 1-based position, counted in characters.
        position: usize,
        /// What is allowed.
        expected: &'static str,
    },
    /// The ID card check character does not match the other 17 digits.
    #[error("the check character (the 18th) does not match: a digit is mistyped")]
    Checksum,
    /// The ID card's province code is not a Chinese province.
    #[error("the first two digits are not a province code")]
    Province,
    /// Digits 7–14 of the ID card are not a real date.
    #[error("digits 7-14 are not a valid birth date")]
    BirthDate,
    /// The birth date is after today, or before 1900.
    #[error("the birth date is out of range (1900 to today)")]
    BirthDateRange,
    /// A mobile number must start with 13–19.
    #[error("a mainland mobile number starts with 13 to 19")]
    MobilePrefix,
    /// A `·` at the start or end of a name, or two in a row.
    #[error("a middle dot (·) must stand between two parts of the name")]
    DotPlacement,
    /// The image is not base64.
    #[error("it is not valid base64")]
    NotBase64,
    /// The image is not a JPEG or PNG with a readable header.
    #[error("it is not a JPEG or PNG image with a readable header")]
    ImageFormat,
    /// The image's size in pixels cannot be a face photo.
    #[error("it is {width}x{height} pixels; each side must be from {min} to {max}")]
    ImageDimensions {
        /// Its width.
        width: usize,
        /// Its height.
        height: usize,
        /// The smallest side accepted.
        min: usize,
        /// The largest side accepted.
        max: usize,
    },
    /// The image is too large.
    #[error("it is {bytes} bytes; the limit is {max} (Juhe advises 16-20 KB)")]
    ImageTooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A file that should hold the value could not be read.
    #[error("the file could not be read")]
    Unreadable,
    /// A URL that is not an absolute `http` or `https` URL without query or fragment.
    #[error("it must be an absolute http:// or https:// URL with no query or fragment")]
    Url,
}

/// Input that was refused locally, before anything was sent: nothing was billed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {problem}")]
pub struct ValidationError {
    /// The field to fix.
    pub field: Field,
    /// What is wrong with it.
    pub problem: Problem,
}

impl ValidationError {
    /// An error about `field`.
    pub fn new(field: Field, problem: Problem) -> Self {
        Self { field, problem }
    }
}

/// A field without the white space around it: every field is trimmed the same way. Besides
/// Unicode white space (`\n`, `\r`, the ideographic space U+3000…), the zero-width space and
/// the byte-order mark, which spreadsheets and copy-paste leave behind.
pub(crate) fn trimmed(input: &str) -> &str {
    input.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}'))
}

/// A JPEG header of 32 x 32 pixels (start of image, a baseline frame header, end of image),
/// for tests: enough for the header check, which never decodes pixels.
#[cfg(test)]
pub(crate) const TEST_JPEG: &[u8] =
    &[0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 32, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9];

/// Maps full-width ASCII (`０`–`９`, `Ｘ`, `＋`…), as Chinese input methods type it, to ASCII.
pub(crate) fn to_halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}
