//! The protocol's errors, one type per phase: what fails while building a request was never
//! sent ([`EncodeError`]); what fails while reading an answer was sent ([`DecodeError`]). The
//! type, not a `match`, tells a caller whether money may be involved.

use std::fmt;

use juhe_crypto::CryptoError;

use crate::{Credential, Endpoint, ErrorCode, Mode, Product, RetryClass};

/// A product has no endpoint for the mode asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{product} has no {mode} mode (it has {})", modes_of(*product))]
pub struct UnsupportedMode {
    /// The product asked for.
    pub product: Product,
    /// The mode it does not have.
    pub mode: Mode,
}

fn modes_of(product: Product) -> String {
    let modes: Vec<&str> = Endpoint::ALL
        .iter()
        .map(|e| e.info())
        .filter(|i| i.product == product)
        .map(|i| i.mode.name())
        .collect();
    modes.join(", ")
}

/// A mode needs a credential the configuration lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{mode} mode needs the account's {credential}{}: configure it ({})", why(*mode, *credential), credential.env_var())]
pub struct MissingCredential {
    /// The credential to add to the configuration.
    pub credential: Credential,
    /// The mode that needs it.
    pub mode: Mode,
}

/// Why a mode that does not obviously use a credential needs it.
fn why(mode: Mode, credential: Credential) -> &'static str {
    match (mode, credential) {
        (Mode::Rsa, Credential::Openid) => " (idcard's RSA mode uses it as the AES IV)",
        _ => "",
    }
}

/// Why a request could not be built. Nothing was sent, so nothing was billed. (Invalid fields
/// never get this far: a check is validated when it is made.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The product has no endpoint for this mode.
    #[error(transparent)]
    UnsupportedMode(#[from] UnsupportedMode),
    /// The mode needs a credential that was not configured.
    #[error(transparent)]
    MissingCredential(#[from] MissingCredential),
    /// Encrypting a field failed (a field too long for the RSA key, for instance).
    #[error("could not encrypt the request")]
    Crypto(#[source] CryptoError),
    /// The base URL cannot address a request.
    #[error("the base URL cannot address a request: configure another (JUHE_BASE_URL)")]
    BaseUrl,
}

/// A non-zero `error_code`: Juhe refused or could not process the check. Never billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// Juhe's `error_code`; [`ErrorCode::info`] has its messages and retry class.
    pub code: ErrorCode,
    /// Juhe's `reason`, as sent.
    pub reason: String,
    /// The order number, when Juhe gave one (face 280105 does).
    pub order_id: Option<String>,
}

impl fmt::Display for ServiceError {
    /// `233903 库中无此记录 (no record)`: the code, Juhe's reason, our English message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.code.info();
        let reason = if self.reason.is_empty() { info.map_or("", |i| i.zh) } else { &self.reason };
        write!(f, "{}", self.code.code())?;
        if !reason.is_empty() {
            write!(f, " {reason}")?;
        }
        match info {
            Some(info) => write!(f, " ({})", info.en)?,
            None => f.write_str(" (a code Juhe's documents do not list)")?,
        }
        if let Some(order) = &self.order_id {
            write!(f, " [order {order}]")?;
        }
        Ok(())
    }
}

/// Why an answer is not an outcome. The request was sent and something came back: Juhe's
/// refusal, or something that is not Juhe's answer at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Juhe answered with a non-zero `error_code`. Not billed.
    #[error("Juhe answered {0}")]
    Service(ServiceError),
    /// What came back is not Juhe's answer: it may have been billed.
    #[error(transparent)]
    Answer(#[from] AnswerError),
}

/// An answer that is not Juhe's: a redirect, a gateway's status, a body that cannot be read.
/// The request was sent, and may have been billed ([`AnswerError::may_be_billed`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The answer was a redirect. Juhe never redirects an API call, so something in between
    /// did: the request was sent once, not to the new address, and may have been billed.
    #[error(
        "the answer was a redirect (HTTP {status}), which Juhe never sends: the request was sent once and may have been billed; it was not sent to the new address"
    )]
    Redirect {
        /// The status code, 300–399.
        status: u16,
    },
    /// The HTTP status was not 2xx. Juhe answers its own errors with 200 and an
    /// `error_code`, so this comes from something in between (a gateway, a proxy).
    #[error("HTTP status {status} instead of Juhe's answer{}", billing_note(self.may_be_billed()))]
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// The answer could not be read.
    #[error("Juhe's answer could not be understood ({detail}){}", billing_note(*.may_be_billed))]
    Malformed {
        /// What was wrong, without the body (it may hold personal data).
        detail: String,
        /// Whether the check may have been processed and billed.
        may_be_billed: bool,
    },
}

fn billing_note(may_be_billed: bool) -> &'static str {
    if may_be_billed { "; it may have been billed: keep the order records" } else { "" }
}

impl DecodeError {
    /// Whether the check may have been billed: never for Juhe's own refusal.
    pub fn may_be_billed(&self) -> bool {
        match self {
            DecodeError::Service(_) => false,
            DecodeError::Answer(answer) => answer.may_be_billed(),
        }
    }

    /// What retrying the same request can do.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            DecodeError::Service(e) => e.code.retry_class(),
            DecodeError::Answer(answer) => answer.retry_class(),
        }
    }
}

impl AnswerError {
    /// Whether the check may have been billed: an answer that could not be read, or a gateway
    /// status that may hide a processed request.
    pub fn may_be_billed(&self) -> bool {
        match self {
            AnswerError::Malformed { may_be_billed, .. } => *may_be_billed,
            AnswerError::Redirect { .. } => true,
            // 429 and 503 mean the request was turned away; other statuses may hide a
            // processed check behind a failing gateway.
            AnswerError::HttpStatus { status } => !matches!(status, 429 | 503),
        }
    }

    /// What retrying the same request can do.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            AnswerError::HttpStatus { status: 429 } => RetryClass::RateLimited,
            AnswerError::HttpStatus { status: 502..=504 } => RetryClass::Transient,
            AnswerError::Redirect { .. } | AnswerError::HttpStatus { .. } | AnswerError::Malformed { .. } => {
                RetryClass::Permanent
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let unsupported = UnsupportedMode { product: Product::Telecom2, mode: Mode::Signed };
        assert_eq!(unsupported.to_string(), "telecom2 has no signed mode (it has plain, aes, rsa)");
        let missing = MissingCredential { credential: Credential::Openid, mode: Mode::Rsa };
        assert_eq!(
            missing.to_string(),
            "rsa mode needs the account's openid (idcard's RSA mode uses it as the AES IV): configure it (JUHE_OPENID)"
        );
    }

    #[test]
    fn only_unreadable_answers_and_gateway_statuses_may_be_billed() {
        let service = ServiceError { code: ErrorCode::new(233903), reason: String::new(), order_id: None };
        assert!(!DecodeError::Service(service).may_be_billed());
        assert!(AnswerError::HttpStatus { status: 502 }.may_be_billed());
        assert!(!AnswerError::HttpStatus { status: 429 }.may_be_billed());
        assert!(AnswerError::Malformed { detail: "x".into(), may_be_billed: true }.may_be_billed());
    }
}
