//! What Juhe's codes mean: billing, retrying, and the messages of every documented code.

use std::fmt;

use crate::Product;

/// Whether an answer with this `error_code` is billed: Juhe charges once for `0`, never for
/// anything else.
pub const fn is_billed(error_code: i64) -> bool {
    error_code == 0
}

/// What retrying a request that got this code can achieve. No code but 0 is billed, so a
/// retry after an error code never pays twice; the question is only whether it can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// The request was understood and refused, or the account needs attention: fix the input
    /// or the account; retrying the same request gets the same answer.
    Permanent,
    /// Not processed because of a fault at Juhe or its provider: safe to retry, and it may
    /// succeed.
    Transient,
    /// Rate limited: safe to retry after backing off.
    RateLimited,
}

impl RetryClass {
    /// Whether an automatic retry is worth making.
    pub const fn is_retryable(self) -> bool {
        !matches!(self, RetryClass::Permanent)
    }
}

/// The verdict of a billed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// Every field matches.
    Match,
    /// At least one field does not match.
    Mismatch,
    /// The answer was billed but its result value is one the documents do not list: the
    /// outcome keeps the raw value.
    Unknown,
}

/// One row of an error-code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeInfo {
    /// The `error_code`.
    pub code: i64,
    /// The name of its [`ErrorCode`] constant.
    pub name: &'static str,
    /// The product whose table lists it; `None` for system codes, which every product shares.
    pub product: Option<Product>,
    /// Juhe's message.
    pub zh: &'static str,
    /// Our English message.
    pub en: &'static str,
    /// Whether retrying can help.
    pub retry: RetryClass,
    /// The `resultcode` older answers carry beside a system code.
    pub legacy_resultcode: Option<i64>,
}

/// One row of a result table (telecom3 `rescode`, face `res`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultInfo {
    /// The raw value.
    pub code: i64,
    /// The name of its constant.
    pub name: &'static str,
    /// Match or mismatch.
    pub verdict: Verdict,
    /// Juhe's message.
    pub zh: &'static str,
    /// Our English message.
    pub en: &'static str,
}

/// A non-zero `error_code`. Any number is one: a code the documents do not list is kept as
/// it came, and [`ErrorCode::info`] is `None` for it. The documented ones are constants
/// (`ErrorCode::TELECOM3_NO_RECORD`), usable in `match` patterns; codes are unique across
/// products, so the number alone tells which table a code belongs to.
///
/// A newtype with constants rather than an enum per table, like `http::StatusCode`: the set
/// is open (Juhe adds codes), so a `match` must always keep a fallback arm, and one type
/// keeps every table behind one lookup ([docs/architecture.md, "Codes"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/architecture.md#codes)).
///
/// ```
/// use juhe_proto::{ErrorCode, Product, RetryClass};
///
/// let code = ErrorCode::new(233903);
/// assert_eq!(code, ErrorCode::TELECOM3_NO_RECORD);
/// assert_eq!(code.product(), Some(Product::Telecom3));
/// assert_eq!(code.retry_class(), RetryClass::Permanent);
/// assert!(ErrorCode::new(299999).info().is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(i64);

impl ErrorCode {
    /// The code for a raw `error_code`, documented or not.
    pub const fn new(code: i64) -> Self {
        Self(code)
    }

    /// The raw number.
    pub const fn code(self) -> i64 {
        self.0
    }

    /// The product whose table lists it; `None` for system codes and undocumented ones.
    pub fn product(self) -> Option<Product> {
        self.info().and_then(|i| i.product)
    }

    /// Whether retrying can help. Codes the documents do not list are taken as permanent: an
    /// SDK must not hammer a service with requests whose refusal it does not understand.
    pub fn retry_class(self) -> RetryClass {
        self.info().map_or(RetryClass::Permanent, |i| i.retry)
    }
}

impl fmt::Debug for ErrorCode {
    /// `ErrorCode::TELECOM3_NO_RECORD`, or `ErrorCode(299999)` for an undocumented code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            Some(info) => write!(f, "ErrorCode::{}", info.name),
            None => write!(f, "ErrorCode({})", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    /// `233903 库中无此记录 (no record)`, or the number and a note for an undocumented code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            Some(info) => write!(f, "{} {} ({})", info.code, info.zh, info.en),
            None => write!(f, "{} (a code Juhe's documents do not list)", self.0),
        }
    }
}

/// Declares a result-code newtype: the raw value, kept whatever it is, with constants for
/// the documented values (generated) and their table rows.
macro_rules! result_code {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// The value for a raw code, documented or not.
            pub const fn new(code: i64) -> Self {
                Self(code)
            }

            /// The raw value.
            pub const fn code(self) -> i64 {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.info() {
                    Some(info) => write!(f, "{}::{}", stringify!($name), info.name),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }
    };
}

result_code! {
    /// The detail (`rescode`) of a billed mobile + name + ID card answer: which field differs.
    /// Documented values are constants (`Telecom3Rescode::MATCH`); others are kept raw.
    Telecom3Rescode
}

result_code! {
    /// The result (`res`, 100–116) of a billed face + mobile + name + ID card answer. Only
    /// [`FaceResult::ALL_PASS`] is a match; others are kept raw.
    FaceResult
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_zero_is_billed() {
        assert!(is_billed(0));
        assert!(!is_billed(10001));
        assert!(!is_billed(-1));
    }

    #[test]
    fn every_documented_code_decodes_to_itself() {
        for code in ErrorCode::ALL {
            let info = code.info().unwrap();
            assert_eq!(info.code, code.code());
            assert_eq!(format!("{code:?}"), format!("ErrorCode::{}", info.name));
        }
        // 14 system + 7 idcard + 6 telecom2 + 4 telecom3 + 5 face
        assert_eq!(ErrorCode::ALL.len(), 36);
        let mut sorted = ErrorCode::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ErrorCode::ALL.len(), "a code is listed twice");
    }

    #[test]
    fn unknown_codes_are_kept_and_not_retried() {
        let code = ErrorCode::new(299999);
        assert_eq!(code.info(), None);
        assert_eq!(format!("{code:?}"), "ErrorCode(299999)");
        assert_eq!(code.retry_class(), RetryClass::Permanent);
    }

    #[test]
    fn retry_classes_follow_the_design() {
        for (code, class) in [
            (233901, RetryClass::Transient),
            (232905, RetryClass::Transient),
            (210305, RetryClass::Transient),
            (10011, RetryClass::RateLimited),
            (10012, RetryClass::RateLimited),
            (10001, RetryClass::Permanent),
            (233903, RetryClass::Permanent),
        ] {
            assert_eq!(ErrorCode::new(code).retry_class(), class, "{code}");
        }
    }

    #[test]
    fn display_carries_code_and_both_messages() {
        assert_eq!(ErrorCode::new(233903).to_string(), "233903 库中无此记录 (no record)");
    }
}
