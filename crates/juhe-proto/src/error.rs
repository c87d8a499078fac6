//! The one error type of the protocol core.

use std::fmt;

use juhe_crypto::CryptoError;

use crate::validation::ValidationError;
use crate::{ErrorCode, Mode, Product, RetryClass};

/// A credential a mode needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The openid (signed and AES modes; idcard's RSA mode).
    Openid,
    /// The RSA public key (RSA modes).
    RsaPublicKey,
}

/// A non-zero `error_code`: Juhe refused or could not process the check. Never billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The decoded code.
    pub code: ErrorCode,
    /// Juhe's `reason`.
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

/// Everything the protocol core can refuse or fail to understand.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// Input refused before anything was sent: nothing was billed. Fix the named field.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The product has no endpoint for this mode.
    #[error("{product} has no {mode} mode (signed is telecom3 only; face is plain only)")]
    UnsupportedMode {
        /// The product.
        product: Product,
        /// The mode asked for.
        mode: Mode,
    },
    /// The mode needs a credential that was not configured.
    #[error("{mode} mode needs the account's {}: add it to the credentials", match .credential { Credential::Openid => "openid", Credential::RsaPublicKey => "RSA public key" })]
    MissingCredential {
        /// What is missing.
        credential: Credential,
        /// The mode that needs it.
        mode: Mode,
    },
    /// Encrypting a field failed (a field too long for the RSA key, for instance).
    #[error("could not encrypt the request: {0}")]
    Crypto(#[from] CryptoError),
    /// Juhe answered with a non-zero `error_code`. Not billed.
    #[error("Juhe answered {0}")]
    Service(ServiceError),
    /// The HTTP status was not 2xx. Juhe answers its own errors with 200 and an
    /// `error_code`, so this comes from something in between (a gateway, a proxy).
    #[error("HTTP status {status} instead of Juhe's answer")]
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// The answer could not be read.
    #[error("Juhe's answer could not be understood ({detail}){}", if *.may_be_billed { "; it may have been billed: keep the order records" } else { "" })]
    Malformed {
        /// What was wrong, without the body (it may hold personal data).
        detail: String,
        /// Whether the check may have been processed and billed.
        may_be_billed: bool,
    },
}

impl ProtoError {
    /// Whether the check may have been billed. Only answers that say `error_code` 0, or that
    /// could not be read at all, or a gateway status that may hide a processed request, may be.
    pub fn may_be_billed(&self) -> bool {
        match self {
            ProtoError::Malformed { may_be_billed, .. } => *may_be_billed,
            // 429 and 503 mean the request was turned away; other statuses may hide a
            // processed check behind a failing gateway.
            ProtoError::HttpStatus { status } => !matches!(status, 429 | 503),
            _ => false,
        }
    }

    /// What retrying the same request can do, for errors that come back from Juhe. Local
    /// errors (invalid input, missing credentials) are permanent: retrying cannot fix them.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            ProtoError::Service(e) => e.code.retry_class(),
            ProtoError::HttpStatus { status: 429 } => RetryClass::RateLimited,
            ProtoError::HttpStatus { status: 502..=504 } => RetryClass::Transient,
            _ => RetryClass::Permanent,
        }
    }
}
