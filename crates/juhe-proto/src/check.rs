//! The four checks: what a caller asks Juhe to verify.

use std::borrow::Cow;

use crate::outcome::{FaceOutcome, IdCardOutcome, Outcome, Telecom2Outcome, Telecom3Outcome};
use crate::validation::{CivilDate, FaceImage, IdCardNumber, MobileNumber, PersonName, ValidationError};
use crate::{Param, Product};

mod sealed {
    pub trait Sealed {}
}

/// A verification request of one product. Sealed: the four checks below are all there are.
pub trait Check: sealed::Sealed + std::fmt::Debug + Clone + Send + Sync + 'static {
    /// What a billed answer to this check says.
    type Outcome: Outcome;
    /// The product this check belongs to.
    const PRODUCT: Product;
    /// The value of a personal parameter ([`ParamKind::Personal`](crate::ParamKind)) as it is
    /// sent before any encryption; `None` for a parameter this product does not take.
    fn field(&self, param: Param) -> Option<Cow<'_, str>>;
}

/// ID card number + name (身份证实名认证).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCardCheck {
    /// The name on the card, normalised (NFC, `·` for look-alike dots); masked in `Debug`.
    pub name: PersonName,
    /// The 18-character card number, checksum and birth date verified; masked in `Debug`.
    pub idcard: IdCardNumber,
}

/// Mobile number + ID card number (手机身份证二要素核验).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecom2Check {
    /// The 18-character card number, checksum and birth date verified; masked in `Debug`.
    pub idcard: IdCardNumber,
    /// The 11-digit mainland number, country code and separators removed; masked in `Debug`.
    pub mobile: MobileNumber,
}

/// Mobile number + name + ID card number (三网手机实名制认证).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecom3Check {
    /// The name on the card, normalised (NFC, `·` for look-alike dots); masked in `Debug`.
    pub name: PersonName,
    /// The 18-character card number, checksum and birth date verified; masked in `Debug`.
    pub idcard: IdCardNumber,
    /// The 11-digit mainland number, country code and separators removed; masked in `Debug`.
    pub mobile: MobileNumber,
}

/// Face photo + mobile number + name + ID card number (人脸四要素核验).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceCheck {
    /// The name on the card, normalised (NFC, `·` for look-alike dots); masked in `Debug`.
    pub name: PersonName,
    /// The 18-character card number, checksum and birth date verified; masked in `Debug`.
    pub idcard: IdCardNumber,
    /// The 11-digit mainland number, country code and separators removed; masked in `Debug`.
    pub mobile: MobileNumber,
    /// The face photo, a JPEG or PNG whose header was read; `Debug` shows its size only.
    pub image: FaceImage,
}

// Each check has `new_on`, which takes today's date (ID numbers with a birth date after it
// are refused), and, with the `clock` feature, `new`, which reads the system clock: the
// sans-IO core never reads a clock unless its user asks for one.

impl IdCardCheck {
    /// Validates both fields against `today`; the error names the first bad one.
    pub fn new_on(name: &str, idcard: &str, today: CivilDate) -> Result<Self, ValidationError> {
        Ok(Self { name: PersonName::parse(name)?, idcard: IdCardNumber::parse_on(idcard, today)? })
    }

    /// Validates both fields against today's date in China.
    #[cfg(feature = "clock")]
    pub fn new(name: &str, idcard: &str) -> Result<Self, ValidationError> {
        Self::new_on(name, idcard, CivilDate::today_in_china())
    }
}

impl Telecom2Check {
    /// Validates both fields against `today`; the error names the first bad one.
    pub fn new_on(idcard: &str, mobile: &str, today: CivilDate) -> Result<Self, ValidationError> {
        Ok(Self { idcard: IdCardNumber::parse_on(idcard, today)?, mobile: MobileNumber::parse(mobile)? })
    }

    /// Validates both fields against today's date in China.
    #[cfg(feature = "clock")]
    pub fn new(idcard: &str, mobile: &str) -> Result<Self, ValidationError> {
        Self::new_on(idcard, mobile, CivilDate::today_in_china())
    }
}

impl Telecom3Check {
    /// Validates all three fields against `today`; the error names the first bad one.
    pub fn new_on(name: &str, idcard: &str, mobile: &str, today: CivilDate) -> Result<Self, ValidationError> {
        Ok(Self {
            name: PersonName::parse(name)?,
            idcard: IdCardNumber::parse_on(idcard, today)?,
            mobile: MobileNumber::parse(mobile)?,
        })
    }

    /// Validates all three fields against today's date in China.
    #[cfg(feature = "clock")]
    pub fn new(name: &str, idcard: &str, mobile: &str) -> Result<Self, ValidationError> {
        Self::new_on(name, idcard, mobile, CivilDate::today_in_china())
    }
}

impl FaceCheck {
    /// Validates all four fields against `today`; `image` is the photo's file bytes (JPEG or
    /// PNG).
    pub fn new_on(
        name: &str,
        idcard: &str,
        mobile: &str,
        image: Vec<u8>,
        today: CivilDate,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            name: PersonName::parse(name)?,
            idcard: IdCardNumber::parse_on(idcard, today)?,
            mobile: MobileNumber::parse(mobile)?,
            image: FaceImage::from_bytes(image)?,
        })
    }

    /// Validates all four fields against today's date in China.
    #[cfg(feature = "clock")]
    pub fn new(name: &str, idcard: &str, mobile: &str, image: Vec<u8>) -> Result<Self, ValidationError> {
        Self::new_on(name, idcard, mobile, image, CivilDate::today_in_china())
    }
}

impl sealed::Sealed for IdCardCheck {}
impl sealed::Sealed for Telecom2Check {}
impl sealed::Sealed for Telecom3Check {}
impl sealed::Sealed for FaceCheck {}

impl Check for IdCardCheck {
    type Outcome = IdCardOutcome;
    const PRODUCT: Product = Product::IdCard;
    fn field(&self, param: Param) -> Option<Cow<'_, str>> {
        match param {
            Param::Realname => Some(self.name.as_str().into()),
            Param::Idcard => Some(self.idcard.as_str().into()),
            _ => None,
        }
    }
}

impl Check for Telecom2Check {
    type Outcome = Telecom2Outcome;
    const PRODUCT: Product = Product::Telecom2;
    fn field(&self, param: Param) -> Option<Cow<'_, str>> {
        match param {
            Param::Idcard => Some(self.idcard.as_str().into()),
            Param::Mobile => Some(self.mobile.as_str().into()),
            _ => None,
        }
    }
}

impl Check for Telecom3Check {
    type Outcome = Telecom3Outcome;
    const PRODUCT: Product = Product::Telecom3;
    fn field(&self, param: Param) -> Option<Cow<'_, str>> {
        match param {
            Param::Realname => Some(self.name.as_str().into()),
            Param::Idcard => Some(self.idcard.as_str().into()),
            Param::Mobile => Some(self.mobile.as_str().into()),
            _ => None,
        }
    }
}

impl Check for FaceCheck {
    type Outcome = FaceOutcome;
    const PRODUCT: Product = Product::Face;
    fn field(&self, param: Param) -> Option<Cow<'_, str>> {
        match param {
            Param::Realname => Some(self.name.as_str().into()),
            Param::Idcard => Some(self.idcard.as_str().into()),
            Param::Mobile => Some(self.mobile.as_str().into()),
            Param::Image => Some(self.image.to_base64().into()),
            _ => None,
        }
    }
}
