//! What Juhe's codes mean: billing, retrying, and the messages of every documented code.

use std::fmt;

use crate::{FaceCode, IdCardCode, SystemCode, Telecom2Code, Telecom3Code};

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
pub struct CodeInfo {
    /// The `error_code`.
    pub code: i64,
    /// Our identifier for it.
    pub name: &'static str,
    /// Juhe's message.
    pub zh: &'static str,
    /// Our English message.
    pub en: &'static str,
    /// Whether retrying can help.
    pub retry: RetryClass,
    /// The old `resultcode` of system codes.
    pub legacy_resultcode: Option<i64>,
}

/// One row of a result table (telecom3 `rescode`, face `res`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultInfo {
    /// The raw value.
    pub code: i64,
    /// Our identifier for it.
    pub name: &'static str,
    /// Match or mismatch.
    pub verdict: Verdict,
    /// Juhe's message.
    pub zh: &'static str,
    /// Our English message.
    pub en: &'static str,
}

/// A non-zero `error_code`, decoded. Codes are unique across Juhe's products, so the code
/// alone tells which table it belongs to; a code in no table is kept as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 10001–10021: account, key or service.
    System(SystemCode),
    /// 2103xx: ID card + name.
    IdCard(IdCardCode),
    /// 2329xx: mobile + ID card.
    Telecom2(Telecom2Code),
    /// 2339xx: mobile + name + ID card.
    Telecom3(Telecom3Code),
    /// 2801xx: face + mobile + name + ID card.
    Face(FaceCode),
    /// A code no table lists, kept as it came.
    Unknown(i64),
}

impl ErrorCode {
    /// Decodes a raw `error_code`.
    pub fn from_code(code: i64) -> Self {
        None.or_else(|| SystemCode::from_code(code).map(Self::System))
            .or_else(|| IdCardCode::from_code(code).map(Self::IdCard))
            .or_else(|| Telecom2Code::from_code(code).map(Self::Telecom2))
            .or_else(|| Telecom3Code::from_code(code).map(Self::Telecom3))
            .or_else(|| FaceCode::from_code(code).map(Self::Face))
            .unwrap_or(Self::Unknown(code))
    }

    /// The table row, unless the code is unknown.
    pub fn info(self) -> Option<&'static CodeInfo> {
        match self {
            Self::System(c) => Some(c.info()),
            Self::IdCard(c) => Some(c.info()),
            Self::Telecom2(c) => Some(c.info()),
            Self::Telecom3(c) => Some(c.info()),
            Self::Face(c) => Some(c.info()),
            Self::Unknown(_) => None,
        }
    }

    /// The raw code.
    pub fn code(self) -> i64 {
        match self {
            Self::Unknown(code) => code,
            known => known.info().map_or(0, |i| i.code),
        }
    }

    /// Whether retrying can help. Unknown codes are taken as permanent: an SDK must not
    /// hammer a service with requests it does not understand the refusal of.
    pub fn retry_class(self) -> RetryClass {
        self.info().map_or(RetryClass::Permanent, |i| i.retry)
    }

    /// Every documented code, system codes first.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        let system = SystemCode::ALL.iter().map(|c| Self::System(*c));
        let idcard = IdCardCode::ALL.iter().map(|c| Self::IdCard(*c));
        let telecom2 = Telecom2Code::ALL.iter().map(|c| Self::Telecom2(*c));
        let telecom3 = Telecom3Code::ALL.iter().map(|c| Self::Telecom3(*c));
        let face = FaceCode::ALL.iter().map(|c| Self::Face(*c));
        system.chain(idcard).chain(telecom2).chain(telecom3).chain(face)
    }
}

impl fmt::Display for ErrorCode {
    /// `233903 库中无此记录 (no record)`, or the bare number for an unknown code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            Some(info) => write!(f, "{} {} ({})", info.code, info.zh, info.en),
            None => write!(f, "{} (a code Juhe's documents do not list)", self.code()),
        }
    }
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
        let mut count = 0;
        for code in ErrorCode::all() {
            assert_eq!(ErrorCode::from_code(code.code()), code);
            assert!(!matches!(code, ErrorCode::Unknown(_)));
            count += 1;
        }
        // 14 system + 4 idcard + 6 telecom2 + 4 telecom3 + 5 face
        assert_eq!(count, 33);
    }

    #[test]
    fn unknown_codes_are_kept_and_not_retried() {
        let code = ErrorCode::from_code(299999);
        assert_eq!(code, ErrorCode::Unknown(299999));
        assert_eq!(code.code(), 299999);
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
            assert_eq!(ErrorCode::from_code(code).retry_class(), class, "{code}");
        }
    }

    #[test]
    fn display_carries_code_and_both_messages() {
        assert_eq!(ErrorCode::from_code(233903).to_string(), "233903 库中无此记录 (no record)");
    }
}
