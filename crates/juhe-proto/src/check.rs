//! The four checks: what a caller asks Juhe to verify.

use std::borrow::Cow;

use crate::Product;
use crate::outcome::{FaceOutcome, IdCardOutcome, Outcome, Telecom2Outcome, Telecom3Outcome};
use crate::validation::{FaceImage, IdCardNumber, MobileNumber, PersonName, ValidationError};

mod sealed {
    pub trait Sealed {}
}

/// A verification request of one product. Sealed: the four checks below are all there are.
pub trait Check: sealed::Sealed + std::fmt::Debug + Clone + Send + Sync + 'static {
    /// What a billed answer to this check says.
    type Outcome: Outcome;
    /// The product this check belongs to.
    const PRODUCT: Product;
    /// The value of a personal field by its wire name (`realname`, `idcard`, `mobile`,
    /// `image`), as it is sent before any encryption.
    fn field(&self, wire_name: &str) -> Option<Cow<'_, str>>;
}

/// ID card number + name (身份证实名认证).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCardCheck {
    /// The name on the card.
    pub name: PersonName,
    /// The card number.
    pub idcard: IdCardNumber,
}

/// Mobile number + ID card number (手机身份证二要素核验).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecom2Check {
    /// The card number.
    pub idcard: IdCardNumber,
    /// The mobile number.
    pub mobile: MobileNumber,
}

/// Mobile number + name + ID card number (三网手机实名制认证).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecom3Check {
    /// The name on the card.
    pub name: PersonName,
    /// The card number.
    pub idcard: IdCardNumber,
    /// The mobile number.
    pub mobile: MobileNumber,
}

/// Face photo + mobile number + name + ID card number (人脸四要素核验).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceCheck {
    /// The name on the card.
    pub name: PersonName,
    /// The card number.
    pub idcard: IdCardNumber,
    /// The mobile number.
    pub mobile: MobileNumber,
    /// The face photo.
    pub image: FaceImage,
}

impl IdCardCheck {
    /// Validates both fields; the error names the first bad one.
    pub fn new(name: &str, idcard: &str) -> Result<Self, ValidationError> {
        Ok(Self { name: PersonName::parse(name)?, idcard: IdCardNumber::parse(idcard)? })
    }
}

impl Telecom2Check {
    /// Validates both fields; the error names the first bad one.
    pub fn new(idcard: &str, mobile: &str) -> Result<Self, ValidationError> {
        Ok(Self { idcard: IdCardNumber::parse(idcard)?, mobile: MobileNumber::parse(mobile)? })
    }
}

impl Telecom3Check {
    /// Validates all three fields; the error names the first bad one.
    pub fn new(name: &str, idcard: &str, mobile: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            name: PersonName::parse(name)?,
            idcard: IdCardNumber::parse(idcard)?,
            mobile: MobileNumber::parse(mobile)?,
        })
    }
}

impl FaceCheck {
    /// Validates all four fields; `image` is the photo's file bytes (JPEG or PNG).
    pub fn new(name: &str, idcard: &str, mobile: &str, image: Vec<u8>) -> Result<Self, ValidationError> {
        Ok(Self {
            name: PersonName::parse(name)?,
            idcard: IdCardNumber::parse(idcard)?,
            mobile: MobileNumber::parse(mobile)?,
            image: FaceImage::from_bytes(image)?,
        })
    }
}

impl sealed::Sealed for IdCardCheck {}
impl sealed::Sealed for Telecom2Check {}
impl sealed::Sealed for Telecom3Check {}
impl sealed::Sealed for FaceCheck {}

impl Check for IdCardCheck {
    type Outcome = IdCardOutcome;
    const PRODUCT: Product = Product::IdCard;
    fn field(&self, wire_name: &str) -> Option<Cow<'_, str>> {
        match wire_name {
            "realname" => Some(self.name.as_str().into()),
            "idcard" => Some(self.idcard.as_str().into()),
            _ => None,
        }
    }
}

impl Check for Telecom2Check {
    type Outcome = Telecom2Outcome;
    const PRODUCT: Product = Product::Telecom2;
    fn field(&self, wire_name: &str) -> Option<Cow<'_, str>> {
        match wire_name {
            "idcard" => Some(self.idcard.as_str().into()),
            "mobile" => Some(self.mobile.as_str().into()),
            _ => None,
        }
    }
}

impl Check for Telecom3Check {
    type Outcome = Telecom3Outcome;
    const PRODUCT: Product = Product::Telecom3;
    fn field(&self, wire_name: &str) -> Option<Cow<'_, str>> {
        match wire_name {
            "realname" => Some(self.name.as_str().into()),
            "idcard" => Some(self.idcard.as_str().into()),
            "mobile" => Some(self.mobile.as_str().into()),
            _ => None,
        }
    }
}

impl Check for FaceCheck {
    type Outcome = FaceOutcome;
    const PRODUCT: Product = Product::Face;
    fn field(&self, wire_name: &str) -> Option<Cow<'_, str>> {
        match wire_name {
            "realname" => Some(self.name.as_str().into()),
            "idcard" => Some(self.idcard.as_str().into()),
            "mobile" => Some(self.mobile.as_str().into()),
            "image" => Some(self.image.to_base64().into()),
            _ => None,
        }
    }
}
