//! Checks: what a caller asks Juhe to verify. The check structs (`IdCardCheck`, …) and
//! [`AnyCheck`](crate::AnyCheck) are generated from `docs/api` (the product registry); this
//! module holds what they are made of.

use std::borrow::Cow;
use std::fmt;

use crate::outcome::{Outcome, ResultFields};
use crate::validation::{CivilDate, ValidationError};
use crate::{Param, Product};

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A verification request. Sealed: the generated checks of the product registry (one per
/// product, and [`AnyCheck`](crate::AnyCheck)) are all there are.
pub trait Check: sealed::Sealed + std::fmt::Debug + Clone + Send + Sync + 'static {
    /// What a billed answer to this check says.
    type Outcome: Outcome;
    /// The product this check belongs to.
    fn product(&self) -> Product;
    /// The value of a personal parameter ([`ParamKind::Personal`](crate::ParamKind)) as it is
    /// sent before any encryption (an image as base64); `None` for a parameter this product
    /// does not take.
    fn field(&self, param: Param) -> Option<Cow<'_, str>>;
    /// How a billed answer to this check is read: a plain function, so a client can keep it
    /// (and not the check, with its personal data) while the request is out.
    fn outcome_reader(&self) -> OutcomeReader<Self::Outcome>;

    /// Reads the `result` of a billed answer to this check (and Juhe's `reason`). Never fails:
    /// what is missing stays `None` and what is unknown is kept raw.
    fn outcome(&self, result: &ResultFields, reason: String) -> Self::Outcome {
        (self.outcome_reader())(result, reason)
    }
}

/// Reads the `result` object of a billed answer, and Juhe's `reason`, into an outcome
/// ([`Check::outcome_reader`]).
pub type OutcomeReader<O> = fn(&ResultFields, String) -> O;

/// A validated personal value: what a check's field holds. How a caller's input becomes one
/// (leniently: `+86 139-1234-5678` is a mobile number) and how the text on the wire does (as
/// Juhe reads it), written once per type; the generated checks are made of these.
pub trait PersonalValue: Sized {
    /// What a caller gives: text, or a file's bytes.
    type Input<'a>;
    /// Validates a caller's input against `today`.
    fn from_input(input: Self::Input<'_>, today: CivilDate) -> Result<Self, ValidationError>;
    /// Validates the text a request carries (after any decryption), as Juhe reads it.
    fn from_wire(text: &str, today: CivilDate) -> Result<Self, ValidationError>;
    /// The text sent, before any encryption.
    fn wire(&self) -> Cow<'_, str>;
    /// The value masked for a log (`张*`); `None` when nothing of it may be shown.
    fn masked(&self) -> Option<String>;
}

/// The personal fields of a request, by parameter, as they travel on the wire before
/// encryption (an image as base64): what [`AnyCheck::parse`](crate::AnyCheck::parse) reads.
/// `Debug` shows which parameters are present, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonalFields(Vec<(Param, String)>);

impl PersonalFields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `param` to `value`, replacing an earlier value.
    pub fn insert(&mut self, param: Param, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(p, _)| *p == param) {
            Some(slot) => slot.1 = value,
            None => self.0.push((param, value)),
        }
    }

    /// Sets a parameter whose caller gives bytes ([`ParamInput::Bytes`](crate::ParamInput),
    /// a photo) to `bytes`, as they travel: base64.
    pub fn insert_bytes(&mut self, param: Param, bytes: &[u8]) {
        self.insert(param, juhe_crypto::base64_encode(bytes));
    }

    /// [`insert`](Self::insert), chained.
    pub fn with(mut self, param: Param, value: impl Into<String>) -> Self {
        self.insert(param, value);
        self
    }

    /// The value of `param`; empty when it was not given.
    pub fn get(&self, param: Param) -> &str {
        self.0.iter().find(|(p, _)| *p == param).map_or("", |(_, v)| v.as_str())
    }

    /// The fields of `check`, as it sends them.
    pub fn of<C: Check>(check: &C) -> Self {
        let fields = check.product().params().iter().filter_map(|&p| Some((p, check.field(p)?.into_owned())));
        Self(fields.collect())
    }
}

impl fmt::Debug for PersonalFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter().map(|(p, _)| p.wire_name())).finish()
    }
}

impl FromIterator<(Param, String)> for PersonalFields {
    fn from_iter<I: IntoIterator<Item = (Param, String)>>(pairs: I) -> Self {
        let mut fields = Self::new();
        for (param, value) in pairs {
            fields.insert(param, value);
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnyCheck, FaceCheck, Field, Problem, Telecom3Check};

    fn today() -> CivilDate {
        CivilDate::new(2026, 12, 1).unwrap()
    }

    #[test]
    fn any_check_parses_what_a_check_sends() {
        let jpeg = crate::validation::TEST_JPEG.to_vec();
        let face = FaceCheck::new_on("张三", "11010519491231002X", "13912345678", jpeg, today()).unwrap();
        let parsed = AnyCheck::parse(Product::Face, &PersonalFields::of(&face), today()).unwrap();
        assert_eq!(parsed, AnyCheck::Face(face.clone()));
        assert_eq!(parsed.product(), Product::Face);
        assert_eq!(parsed.field(Param::Image), face.field(Param::Image));
        assert_eq!(parsed.masked(), "张*/110***********002X/139****5678");
    }

    #[test]
    fn any_check_names_the_missing_or_bad_field() {
        let fields = PersonalFields::new().with(Param::Realname, "张三").with(Param::Mobile, "13912345678");
        let error = AnyCheck::parse(Product::Telecom3, &fields, today()).unwrap_err();
        assert_eq!(error, ValidationError::new(Field::IdCard, Problem::Empty));
        let fields = fields.with(Param::Idcard, "11010519491231002X").with(Param::Mobile, "1391234567");
        let error = AnyCheck::parse(Product::Telecom3, &fields, today()).unwrap_err();
        assert_eq!(error.field, Field::Mobile);
        let fields = fields.with(Param::Mobile, "+86 139 1234 5678");
        let check = AnyCheck::parse(Product::Telecom3, &fields, today()).unwrap();
        let typed = Telecom3Check::new_on("张三", "11010519491231002X", "13912345678", today()).unwrap();
        assert_eq!(check, typed.into());
    }

    /// The wire is read as Juhe reads it: an image with a `data:` prefix or a line break is
    /// refused there, though a caller's base64 may have them.
    #[test]
    fn a_wire_image_is_bare_base64() {
        let base64 = crate::FaceImage::from_bytes(crate::validation::TEST_JPEG.to_vec()).unwrap().to_base64();
        let fields = |image: String| {
            PersonalFields::new()
                .with(Param::Realname, "张三")
                .with(Param::Idcard, "11010519491231002X")
                .with(Param::Mobile, "13912345678")
                .with(Param::Image, image)
        };
        assert!(AnyCheck::parse(Product::Face, &fields(base64.clone()), today()).is_ok());
        for bad in [format!("data:image/jpeg;base64,{base64}"), format!("{}\n{}", &base64[..4], &base64[4..])]
        {
            let error = AnyCheck::parse(Product::Face, &fields(bad), today()).unwrap_err();
            assert_eq!(error.field, Field::Image);
        }
    }

    #[test]
    fn debug_shows_parameters_not_values() {
        let fields = PersonalFields::new().with(Param::Realname, "张三");
        assert_eq!(format!("{fields:?}"), r#"{"realname"}"#);
    }
}
