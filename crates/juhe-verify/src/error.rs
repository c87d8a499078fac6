//! The one error type of the clients.

use juhe_proto::{ErrorCode, ProtoError, ServiceError, ValidationError};
use juhe_transport::{Delivery, TransportError};

/// Why a check has no outcome. The variants tell apart what matters for money: whether
/// anything was sent, and whether it may have been billed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input field is invalid: nothing was sent, nothing billed. The message names the
    /// field.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The check cannot be made as asked (a mode the product does not have, a credential the
    /// mode needs, a field too long for the RSA key): nothing was sent.
    #[error("rejected before sending: {0}")]
    Rejected(ProtoError),
    /// The client is misconfigured.
    #[error("client configuration: {0}")]
    Config(String),
    /// The request failed before it was sent (DNS, connection refused): not billed, safe to
    /// retry.
    #[error(transparent)]
    NotSent(TransportError),
    /// The request may have been sent and no answer came (timeout, reset): it may have been
    /// billed. Not retried unless the retry policy opts in.
    #[error(transparent)]
    NoAnswer(TransportError),
    /// Juhe answered with a non-zero `error_code`: not billed. `Display` shows the code and
    /// the reason: `233903 库中无此记录 (no record)`.
    #[error("Juhe answered {0}")]
    Service(ServiceError),
    /// An answer came but could not be understood (a gateway status, a broken body).
    #[error(transparent)]
    Protocol(ProtoError),
}

impl Error {
    /// Whether the check may have been billed.
    pub fn may_be_billed(&self) -> bool {
        match self {
            Error::NoAnswer(_) => true,
            Error::Protocol(e) => e.may_be_billed(),
            _ => false,
        }
    }

    /// Whether anything may have reached Juhe.
    pub fn was_sent(&self) -> bool {
        matches!(self, Error::NoAnswer(_) | Error::Service(_) | Error::Protocol(_))
    }

    /// The Juhe code of a service error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Service(e) => Some(e.code),
            _ => None,
        }
    }

    pub(crate) fn from_transport(error: TransportError) -> Self {
        match error.delivery() {
            Delivery::NotSent => Error::NotSent(error),
            Delivery::MaybeSent => Error::NoAnswer(error),
        }
    }

    pub(crate) fn from_proto(error: ProtoError) -> Self {
        match error {
            ProtoError::Invalid(e) => Error::Invalid(e),
            ProtoError::Service(e) => Error::Service(e),
            e @ (ProtoError::HttpStatus { .. } | ProtoError::Malformed { .. }) => Error::Protocol(e),
            other => Error::Rejected(other),
        }
    }
}
