//! Magic identities: like a payment provider's test card numbers, each one makes the sandbox
//! answer with one documented error or fault, every time.

use std::time::Duration;

use juhe_proto::{ErrorCode, Product};

use crate::faults::FaultKind;

/// A person whose check always ends one way. All of them are valid input (checksums, dates,
/// mobile segments), so the SDK's local validation lets them through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MagicIdentity {
    /// Name.
    pub name: &'static str,
    /// ID card number.
    pub idcard: &'static str,
    /// Mobile number.
    pub mobile: &'static str,
    /// What the sandbox does, per product: an `error_code`, a fault, or (`None`) a normal
    /// match.
    effects: [Option<Effect>; 4],
}

/// What a magic identity does to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Code(ErrorCode),
    UnspecifiedMismatch,
    Fault(FaultKind),
}

use Effect::{Code, Fault, UnspecifiedMismatch};

const fn every(effect: Effect) -> [Option<Effect>; 4] {
    [Some(effect); 4]
}

/// How long [`SLOW`] waits before answering.
pub const SLOW_DELAY: Duration = Duration::from_secs(3);

macro_rules! magic {
    ($($(#[$doc:meta])* $const:ident = $name:literal, $idcard:literal, $mobile:literal, $effects:expr;)*) => {
        $( $(#[$doc])* pub const $const: MagicIdentity = MagicIdentity { name: $name, idcard: $idcard, mobile: $mobile, effects: $effects }; )*
        /// Every magic identity.
        pub const ALL: &[MagicIdentity] = &[$($const),*];
    };
}

magic! {
    /// Provider network error: idcard 210305, telecom2 232905, telecom3 233901, face 10014.
    PROVIDER_ERROR = "网络异常", "110101190001019019", "14400000901", [Some(Code(ErrorCode::IDCARD_PROVIDER_NETWORK_ERROR)), Some(Code(ErrorCode::TELECOM2_NETWORK_ERROR)), Some(Code(ErrorCode::TELECOM3_PROVIDER_NETWORK_ERROR)), Some(Code(ErrorCode::INTERNAL_ERROR))];
    /// Query failed: idcard 210306, telecom2 232906, telecom3 233902, face 10014.
    QUERY_FAILED = "查询失败", "110101190001019027", "14400000902", [Some(Code(ErrorCode::IDCARD_DATA_SOURCE_ERROR)), Some(Code(ErrorCode::TELECOM2_QUERY_FAILED)), Some(Code(ErrorCode::TELECOM3_QUERY_FAILED)), Some(Code(ErrorCode::INTERNAL_ERROR))];
    /// No record: idcard 210301, telecom2 232904, telecom3 233903, face 280105.
    NO_RECORD = "查无此人", "110101190001019035", "14400000903", [Some(Code(ErrorCode::IDCARD_NO_RECORD)), Some(Code(ErrorCode::TELECOM2_NO_RECORD)), Some(Code(ErrorCode::TELECOM3_NO_RECORD)), Some(Code(ErrorCode::FACE_IDENTITY_AND_MOBILE_FAILED))];
    /// A parameter refused by the provider (such as the same data queried too often):
    /// idcard 210304, telecom2 232902, telecom3 233907, face 280101.
    PARAMETER_ERROR = "参数异常", "110101190001019043", "14400000904", [Some(Code(ErrorCode::IDCARD_INVALID_PARAMETER)), Some(Code(ErrorCode::TELECOM2_INVALID_ID_CARD)), Some(Code(ErrorCode::TELECOM3_INVALID_PARAMETER)), Some(Code(ErrorCode::FACE_MISSING_PARAMETER))];
    /// Mobile not supported: telecom2 232903, telecom3 233902, face 280103; idcard matches.
    UNSUPPORTED_MOBILE = "号码不支", "110101190001019051", "14400000905", [None, Some(Code(ErrorCode::TELECOM2_UNSUPPORTED_MOBILE)), Some(Code(ErrorCode::TELECOM3_QUERY_FAILED)), Some(Code(ErrorCode::FACE_INVALID_MOBILE))];
    /// Face 280105 (identity and mobile checks both failed, with an order id); others match.
    IDENTITY_AND_MOBILE_FAILED = "核验失败", "11010119000101906X", "14400000906", [None, None, None, Some(Code(ErrorCode::FACE_IDENTITY_AND_MOBILE_FAILED))];
    /// Telecom3 mismatch with `rescode` 24 (which field differs is unknown); others match.
    UNSPECIFIED_MISMATCH = "不明不符", "110101190001019078", "14400000907", [None, None, Some(UnspecifiedMismatch), None];
    /// 10011: too many requests from this IP, on every product.
    IP_RATE_LIMITED = "限流甲方", "110101190001019086", "14400000908", every(Fault(FaultKind::ErrorCode(10011)));
    /// 10012: request limit exceeded, on every product.
    RATE_LIMITED = "限流乙方", "110101190001019094", "14400000909", every(Fault(FaultKind::ErrorCode(10012)));
    /// 10014: internal error at Juhe, on every product.
    INTERNAL_ERROR = "内部异常", "110101190001019107", "14400000910", every(Code(ErrorCode::INTERNAL_ERROR));
    /// 10020: API under maintenance, on every product.
    MAINTENANCE = "接口维护", "110101190001019115", "14400000911", every(Code(ErrorCode::MAINTENANCE));
    /// A match, billed, answered after [`SLOW_DELAY`].
    SLOW = "慢速应答", "110101190001019123", "14400000912", every(Fault(FaultKind::Latency(SLOW_DELAY)));
    /// HTTP 500 from a gateway, not processed.
    HTTP_500 = "网关故障", "110101190001019131", "14400000913", every(Fault(FaultKind::HttpStatus(500)));
    /// A match, billed, whose body arrives as cut JSON.
    MALFORMED_BODY = "报文残缺", "11010119000101914X", "14400000914", every(Fault(FaultKind::MalformedBody));
    /// A match, billed, whose connection closes half-way through the body.
    TRUNCATED_BODY = "报文截断", "110101190001019158", "14400000915", every(Fault(FaultKind::TruncatedBody));
    /// A match, billed, whose connection closes with no answer.
    CLOSE_CONNECTION = "连接中断", "110101190001019166", "14400000916", every(Fault(FaultKind::CloseConnection));
}

impl MagicIdentity {
    /// The magic identity with this ID card number, if any.
    pub fn by_idcard(idcard: &str) -> Option<&'static MagicIdentity> {
        ALL.iter().find(|m| m.idcard == idcard)
    }

    /// The magic identity with this mobile number, if any.
    pub fn by_mobile(mobile: &str) -> Option<&'static MagicIdentity> {
        ALL.iter().find(|m| m.mobile == mobile)
    }

    pub(crate) fn effect(&self, product: Product) -> Option<&Effect> {
        let index = match product {
            Product::IdCard => 0,
            Product::Telecom2 => 1,
            Product::Telecom3 => 2,
            Product::Face => 3,
        };
        self.effects[index].as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use juhe_proto::{IdCardNumber, MobileNumber, PersonName};

    #[test]
    fn magic_identities_pass_local_validation() {
        for magic in ALL {
            PersonName::parse(magic.name).unwrap();
            IdCardNumber::parse(magic.idcard).unwrap();
            MobileNumber::parse(magic.mobile).unwrap();
        }
    }

    #[test]
    fn every_documented_service_code_has_a_magic_identity() {
        let triggered: Vec<i64> = ALL
            .iter()
            .flat_map(|m| m.effects.iter().flatten())
            .filter_map(|e| match e {
                Code(c) => Some(c.code()),
                Fault(FaultKind::ErrorCode(c)) => Some(*c),
                _ => None,
            })
            .collect();
        for code in ErrorCode::ALL.iter().filter(|c| c.product().is_some()) {
            // Format codes come from bad input, not from a magic identity; idcard has no sign
            // and the SDK always sends `orderid=1`, so 210307–210309 cannot arise from it.
            let not_from_people = [232901, 280102, 280104, 210307, 210308, 210309].contains(&code.code());
            assert!(not_from_people || triggered.contains(&code.code()), "{code} has no magic identity");
        }
    }
}
