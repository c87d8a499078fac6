//! The one error type of the transports.

use std::error::Error as StdError;
use std::fmt;

/// Whether a failed request may have reached Juhe, which decides whether it may have been
/// billed and whether it is safe to send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// It failed before anything was sent (DNS, connection refused, TLS handshake): Juhe never
    /// saw it. Safe to retry.
    NotSent,
    /// It may have been sent, and no (complete) answer came back: Juhe may have processed and
    /// billed it.
    MaybeSent,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// DNS or TCP connection failure.
    Connect,
    /// TLS failure.
    Tls,
    /// A timeout.
    Timeout,
    /// The connection broke (reset, closed, truncated answer).
    Io,
    /// The answer was not valid HTTP.
    Protocol,
    /// The answer was larger than the limit.
    TooLarge,
    /// The request could not be built (a bad URL).
    Request,
}

/// A request that did not get a complete answer. Its `Display` never holds a URL (an URL
/// could hold credentials in some setups) and keeps the source chain.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    delivery: Delivery,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// An error of `kind`, with its delivery and cause.
    pub fn new(
        kind: TransportErrorKind,
        delivery: Delivery,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self { kind, delivery, source: Some(source.into()) }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether Juhe may have seen the request.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// Whether it was a timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Tls => "TLS failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "the connection broke",
            TransportErrorKind::Protocol => "the answer was not valid HTTP",
            TransportErrorKind::TooLarge => "the answer was too large to read",
            TransportErrorKind::Request => "the request could not be built",
        };
        let consequence = match self.delivery {
            Delivery::NotSent => "before the request was sent (not billed; safe to retry)",
            Delivery::MaybeSent => "after the request may have been sent (it may have been billed)",
        };
        write!(f, "{what} {consequence}")
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_whether_it_may_be_billed() {
        let e = TransportError::new(TransportErrorKind::Timeout, Delivery::MaybeSent, "slow");
        assert_eq!(e.to_string(), "timed out after the request may have been sent (it may have been billed)");
        assert_eq!(e.source().map(|s| s.to_string()), Some("slow".into()));
    }
}
