//! The clients' error: one type wrapping one error per phase, so what was sent, and what
//! may have been billed, follows from the variant.

use std::path::PathBuf;
use std::time::Duration;

use juhe_proto::{
    AnswerError, Billing, CryptoError, DecodeError, EncodeError, ErrorCode, MissingCredential, RetryClass,
    ServiceError, UnsupportedMode, ValidationError,
};
use juhe_transport::{Delivery, TransportError};

/// Why a check has no outcome. The variants tell apart what matters for money: whether
/// anything was sent, and whether it may have been billed.
///
/// | variant | sent | may be billed |
/// |---|---|---|
/// | `Invalid`, `Rejected`, `Config`, `NotSent`, `Skipped`, `Ledger` | no | no |
/// | `Service` | yes | no |
/// | `NoAnswer` | maybe | yes |
/// | `Protocol` | yes | [`AnswerError::may_be_billed`] |
///
/// Each state has one representation: an invalid field is only ever `Invalid`, a missing
/// credential only `Config`, Juhe's refusal only `Service`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input field is invalid: nothing was sent, nothing billed. The message names the
    /// field.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The check cannot be made as asked (a mode the product does not have, a field too long
    /// for the RSA key): nothing was sent.
    #[error(transparent)]
    Rejected(Rejected),
    /// The client is misconfigured, or lacks a credential the mode asked for: nothing was
    /// sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request failed before it was sent (DNS, connection refused, TLS): not billed, safe
    /// to retry.
    #[error(transparent)]
    NotSent(Attempted<TransportError>),
    /// The request may have been sent and no answer came (timeout, reset): it may have been
    /// billed. Not retried unless the retry policy opts in.
    #[error(transparent)]
    NoAnswer(Attempted<TransportError>),
    /// Juhe answered with a non-zero `error_code`: not billed. `Display` shows the code and
    /// the reason: `233903 库中无此记录 (no record)`.
    #[error("Juhe answered {0}")]
    Service(Attempted<ServiceError>),
    /// An answer came but is not Juhe's (a gateway status, a redirect, a broken body).
    #[error(transparent)]
    Protocol(Attempted<AnswerError>),
    /// The check was not sent by choice: a batch's or the ledger's budget is spent, or the
    /// same question may already have been billed without an answer.
    #[error(transparent)]
    Skipped(Skipped),
    /// The client's ledger could not record the check, so it was not sent (a ledger fails
    /// closed). The message names the ledger and what to do.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    #[error(transparent)]
    Ledger(juhe_ledger::LedgerError),
}

/// Why a check could not be made as asked. Nothing was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejected {
    /// The product has no endpoint for this mode.
    #[error(transparent)]
    UnsupportedMode(#[from] UnsupportedMode),
    /// Encrypting a field failed (a field too long for the RSA key, for instance).
    #[error("could not encrypt the request")]
    Crypto(#[source] CryptoError),
    /// The base URL cannot address a request.
    #[error("the base URL cannot address a request: configure another (JUHE_BASE_URL)")]
    BaseUrl,
    /// Another refusal of the protocol core, by its message.
    #[error("{0}")]
    Other(String),
}

/// Why a check was not sent, by the batch's or the ledger's rules. Nothing was sent, nothing
/// billed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Skipped {
    /// The batch's budget ([`BatchOptions::max_billed`](crate::BatchOptions::max_billed)) is
    /// spent: checks billed and those that may have been reached it.
    #[error(
        "not sent: the batch's budget of {max_billed} billed checks is spent (raise max_billed or check the rest in another batch)"
    )]
    Budget {
        /// The budget.
        max_billed: u64,
    },
    /// An earlier input with the same fields got no answer and may have been billed: sending
    /// this one could pay twice for one answer.
    #[error(
        "not sent: input {index} asks the same and may have been billed without an answer; find its outcome (Juhe's order records) before checking again"
    )]
    SameAsMaybeBilled {
        /// The 0-based index of the earlier input.
        index: usize,
    },
    /// The ledger's budget for the day or the month, shared by every process on it, is spent.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    #[error(
        "not sent: the ledger's budget of {cap} billed checks per {} is spent (checks that may have been billed count too); raise it, or wait for the next {}",
        period_name(*period), period_name(*period)
    )]
    LedgerBudget {
        /// The period.
        period: juhe_ledger::Period,
        /// The cap.
        cap: u64,
    },
    /// The budget for the day or the month of the team the check is made for
    /// ([`Team::max_billed_per_day`](crate::Team::max_billed_per_day)) is spent.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    #[error(
        "not sent: team {team}'s budget of {cap} billed checks per {} is spent (checks that may have been billed count too); ask the gateway's operator to raise it, or wait for the next {}",
        period_name(*period), period_name(*period)
    )]
    TeamBudget {
        /// The team.
        team: String,
        /// The period.
        period: juhe_ledger::Period,
        /// The cap.
        cap: u64,
    },
    /// With reuse on, the ledger holds the same question, sent recently with no answer
    /// recorded: it may have been billed.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    #[error(
        "not sent: ledger entry {entry} asked the same at {} and may have been billed without an answer; find it in Juhe's order records and settle it (juhe ledger settle {entry} --billed or --not-billed), or send again at the risk of paying twice (--resend-maybe-billed)",
        juhe_ledger::china_timestamp(*at)
    )]
    MaybeBilledEarlier {
        /// The earlier entry.
        entry: i64,
        /// When it was sent.
        at: std::time::SystemTime,
    },
    /// With reuse on, the same question stayed in flight elsewhere for longer than this
    /// check's own deadline.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    #[error("not sent: the same check is still in flight in another process; try again when it has finished")]
    StillInFlight,
    /// The caller stopped waiting (dropped the check's future) before its request left, so
    /// it was not sent. Only the check's own task sees this: its caller is gone.
    #[error("not sent: the caller stopped waiting before the request left")]
    CallerGone,
    /// The batch was stopped while this check waited for its place in the pace: it was not
    /// sent. A batch does not hand such inputs out (as those it never admitted).
    #[error("not sent: the batch was stopped")]
    BatchStopped,
    /// A single check found no start free in the key's pace (kept in the ledger, shared with
    /// every batch and service on it) within its bound: sent, it would have gone over the
    /// key's rate.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    #[error(
        "not sent: the key's rate is taken for the next {within:?} (its pace is shared by every process on the ledger); try again shortly, lower the batches' --rate, or let single checks wait longer (ClientBuilder::live_start_within)"
    )]
    KeyBusy {
        /// The check's bound.
        within: std::time::Duration,
    },
}

impl Skipped {
    /// Whether the skipped check may be sent later: a budget or a check in flight passes; the
    /// same question maybe billed earlier risks paying twice.
    fn resend(&self) -> Resend {
        match self {
            Skipped::Budget { .. } | Skipped::CallerGone | Skipped::BatchStopped => Resend::Safe,
            Skipped::SameAsMaybeBilled { .. } => Resend::RisksPayingTwice,
            #[cfg(feature = "ledger")]
            Skipped::LedgerBudget { .. }
            | Skipped::TeamBudget { .. }
            | Skipped::StillInFlight
            | Skipped::KeyBusy { .. } => Resend::Safe,
            #[cfg(feature = "ledger")]
            Skipped::MaybeBilledEarlier { .. } => Resend::RisksPayingTwice,
        }
    }

    /// The ledger entry that may have been billed for the same question, if that is why.
    pub fn maybe_billed_entry(&self) -> Option<i64> {
        match self {
            #[cfg(feature = "ledger")]
            Skipped::MaybeBilledEarlier { entry, .. } => Some(*entry),
            _ => None,
        }
    }
}

#[cfg(feature = "ledger")]
fn period_name(period: juhe_ledger::Period) -> &'static str {
    match period {
        juhe_ledger::Period::Day => "day (China time)",
        juhe_ledger::Period::Month => "month (China time)",
    }
}

/// The billing of a check's result: billed for an answer Juhe gave now, not billed for one
/// reused from a ledger or a refusal, maybe for an error that may have been billed.
pub fn billing_of<O: juhe_proto::Outcome>(result: &Result<O, Error>) -> Billing {
    match result {
        Ok(outcome) if outcome.reused().is_some() => Billing::NotBilled,
        Ok(_) => Billing::Billed,
        Err(error) if error.may_be_billed() => Billing::MaybeBilled,
        Err(_) => Billing::NotBilled,
    }
}

/// Whether a failed check may be sent again: the one rule the retry policy, the batch, a
/// resumed CLI batch and the ledger all apply ([`Error::resend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Resend {
    /// Nothing was billed and sending again can help (the request never left, Juhe said it
    /// did not process it, a rate limit, a budget or a lock that passes).
    Safe,
    /// It may have been billed without an answer: sending again may pay twice. Only with the
    /// opt-in, `resend_maybe_billed` ([`RetryPolicy::resend_maybe_billed`](crate::RetryPolicy::resend_maybe_billed),
    /// [`ClientBuilder::resend_maybe_billed`](crate::ClientBuilder::resend_maybe_billed), the CLI's
    /// `--resend-maybe-billed`).
    RisksPayingTwice,
    /// Sending the same again cannot help: invalid input, a refusal, a configuration, or an
    /// answer that will not change.
    Never,
}

impl Resend {
    /// `safe`, `risks_paying_twice`, `never`: how the CLI's batch output writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resend::Safe => "safe",
            Resend::RisksPayingTwice => "risks_paying_twice",
            Resend::Never => "never",
        }
    }

    /// Reads [`as_str`](Self::as_str)'s words back.
    pub fn parse(text: &str) -> Option<Self> {
        [Resend::Safe, Resend::RisksPayingTwice, Resend::Never].into_iter().find(|r| r.as_str() == text)
    }

    /// Whether to send again, with or without the opt-in to pay twice.
    pub fn allows(self, resend_maybe_billed: bool) -> bool {
        match self {
            Resend::Safe => true,
            Resend::RisksPayingTwice => resend_maybe_billed,
            Resend::Never => false,
        }
    }
}

/// The phase an [`Error`] comes from, as a value: for counting and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Invalid`].
    Invalid,
    /// [`Error::Rejected`].
    Rejected,
    /// [`Error::Config`].
    Config,
    /// [`Error::NotSent`].
    NotSent,
    /// [`Error::NoAnswer`].
    NoAnswer,
    /// [`Error::Service`].
    Service,
    /// [`Error::Protocol`].
    Protocol,
    /// [`Error::Skipped`].
    Skipped,
    /// `Error::Ledger` (feature `ledger`).
    Ledger,
}

impl ErrorKind {
    /// A short name for reports: `invalid`, `not sent`, `no answer`, …
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::Rejected => "refused",
            ErrorKind::Config => "misconfigured",
            ErrorKind::NotSent => "not sent",
            ErrorKind::NoAnswer => "no answer",
            ErrorKind::Service => "service error",
            ErrorKind::Protocol => "unreadable answer",
            ErrorKind::Skipped => "skipped",
            ErrorKind::Ledger => "ledger unavailable",
        }
    }
}

impl Error {
    /// Whether the check may have been billed.
    pub fn may_be_billed(&self) -> bool {
        match self {
            Error::NoAnswer(_) => true,
            Error::Protocol(e) => e.may_be_billed(),
            Error::Invalid(_)
            | Error::Rejected(_)
            | Error::Config(_)
            | Error::NotSent(_)
            | Error::Service(_)
            | Error::Skipped(_) => false,
            #[cfg(feature = "ledger")]
            Error::Ledger(_) => false,
        }
    }

    /// Whether this check may be sent again, and at what risk: the one rule behind retries,
    /// batches, `--resume` and the ledger. Decided by the phase the error comes from: what was
    /// never sent cannot have been billed.
    pub fn resend(&self) -> Resend {
        let passing = |class: RetryClass| match class {
            RetryClass::Transient | RetryClass::RateLimited => Resend::Safe,
            _ => Resend::Never,
        };
        match self {
            Error::Invalid(_) | Error::Rejected(_) | Error::Config(_) => Resend::Never,
            Error::NotSent(_) => Resend::Safe,
            Error::NoAnswer(_) => Resend::RisksPayingTwice,
            Error::Service(e) => passing(e.code.retry_class()),
            Error::Protocol(e) => match passing(e.retry_class()) {
                Resend::Safe if e.may_be_billed() => Resend::RisksPayingTwice,
                other => other,
            },
            Error::Skipped(skipped) => skipped.resend(),
            #[cfg(feature = "ledger")]
            Error::Ledger(e) => {
                if e.is_transient() {
                    Resend::Safe
                } else {
                    Resend::Never
                }
            }
        }
    }

    /// Whether Juhe (or a gateway, with HTTP 429) said the key or the address is over its
    /// rate limit: another attempt waits longer, and a batch slows down.
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Error::Service(e) => e.code.retry_class() == RetryClass::RateLimited,
            Error::Protocol(e) => e.retry_class() == RetryClass::RateLimited,
            _ => false,
        }
    }

    /// Whether anything may have reached Juhe.
    pub fn was_sent(&self) -> bool {
        match self.kind() {
            ErrorKind::NoAnswer | ErrorKind::Service | ErrorKind::Protocol => true,
            ErrorKind::Invalid
            | ErrorKind::Rejected
            | ErrorKind::Config
            | ErrorKind::NotSent
            | ErrorKind::Skipped
            | ErrorKind::Ledger => false,
        }
    }

    /// The phase the error comes from.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Rejected(_) => ErrorKind::Rejected,
            Error::Config(_) => ErrorKind::Config,
            Error::NotSent(_) => ErrorKind::NotSent,
            Error::NoAnswer(_) => ErrorKind::NoAnswer,
            Error::Service(_) => ErrorKind::Service,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Skipped(_) => ErrorKind::Skipped,
            #[cfg(feature = "ledger")]
            Error::Ledger(_) => ErrorKind::Ledger,
        }
    }

    /// Whether the check was billed, may have been, or was not: never [`Billing::Billed`],
    /// since an error is not a billed answer.
    pub fn billing(&self) -> Billing {
        if self.may_be_billed() { Billing::MaybeBilled } else { Billing::NotBilled }
    }

    /// The Juhe code of a service error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Service(e) => Some(e.code),
            _ => None,
        }
    }

    /// How many times the check's request was sent, or tried, before this error: 0 when it
    /// never was (invalid input, a refusal, configuration, a budget, the ledger), else the
    /// attempts the retry policy made, the last of which ended this way.
    pub fn attempts(&self) -> u32 {
        match self {
            Error::NotSent(e) | Error::NoAnswer(e) => e.attempts(),
            Error::Service(e) => e.attempts(),
            Error::Protocol(e) => e.attempts(),
            Error::Invalid(_) | Error::Rejected(_) | Error::Config(_) | Error::Skipped(_) => 0,
            #[cfg(feature = "ledger")]
            Error::Ledger(_) => 0,
        }
    }

    /// This error, saying `attempts` were made (the client's loop knows how many).
    pub(crate) fn after_attempts(mut self, attempts: u32) -> Self {
        match &mut self {
            Error::NotSent(e) | Error::NoAnswer(e) => e.attempts = attempts,
            Error::Service(e) => e.attempts = attempts,
            Error::Protocol(e) => e.attempts = attempts,
            _ => {}
        }
        self
    }
}

/// An error that came from trying to send a check: the error itself, and how many attempts
/// the check made. It reads as the error it holds (`Deref`): `e.code`, `e.delivery()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempted<E> {
    error: E,
    attempts: u32,
}

impl<E> Attempted<E> {
    /// `error`, after `attempts` attempts.
    pub fn new(error: E, attempts: u32) -> Self {
        Self { error, attempts }
    }

    fn once(error: E) -> Self {
        Self::new(error, 1)
    }

    /// How many times the request was sent, or tried.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The error itself.
    pub fn into_inner(self) -> E {
        self.error
    }
}

impl<E> std::ops::Deref for Attempted<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.error
    }
}

impl<E: std::fmt::Display> std::fmt::Display for Attempted<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Attempted<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl From<EncodeError> for Error {
    /// Every encode error was raised before sending; a missing credential is configuration.
    fn from(error: EncodeError) -> Self {
        match error {
            EncodeError::MissingCredential(missing) => Error::Config(ConfigError::MissingCredential(missing)),
            EncodeError::UnsupportedMode(mode) => Error::Rejected(Rejected::UnsupportedMode(mode)),
            EncodeError::Crypto(crypto) => Error::Rejected(Rejected::Crypto(crypto)),
            EncodeError::BaseUrl => Error::Rejected(Rejected::BaseUrl),
            // `EncodeError` is non-exhaustive: a refusal added later is still a refusal.
            other => Error::Rejected(Rejected::Other(other.to_string())),
        }
    }
}

impl From<DecodeError> for Error {
    /// Every decode error comes from an answer: Juhe's refusal, or an answer not Juhe's.
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::Service(service) => Error::Service(Attempted::once(service)),
            DecodeError::Answer(answer) => Error::Protocol(Attempted::once(answer)),
            // `DecodeError` is non-exhaustive: whatever else came back was sent and not read.
            other => Error::Protocol(Attempted::once(AnswerError::Malformed {
                detail: other.to_string(),
                may_be_billed: true,
            })),
        }
    }
}

impl From<TransportError> for Error {
    /// Sorted by whether the request may have left.
    fn from(error: TransportError) -> Self {
        match error.delivery() {
            Delivery::NotSent => Error::NotSent(Attempted::once(error)),
            Delivery::MaybeSent => Error::NoAnswer(Attempted::once(error)),
        }
    }
}

/// A client that cannot be built as configured. Messages say which setting to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No API key.
    #[error("no API key: set JUHE_KEY or call ClientBuilder::key")]
    MissingKey,
    /// The client's mode needs a credential that was not given.
    #[error(transparent)]
    MissingCredential(#[from] MissingCredential),
    /// The RSA public key given as text could not be read.
    #[error("the RSA public key could not be read")]
    RsaPublicKey(#[source] CryptoError),
    /// The RSA public key file could not be opened or read.
    #[error("{} {}", if source.kind() == std::io::ErrorKind::NotFound { "RSA public key file not found:" } else { "could not read the RSA public key file" }, path.display())]
    RsaPublicKeyFile {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The path given for the RSA public key is not a file.
    #[error("{} is a directory or device, not a file holding the account's RSA public key", path.display())]
    RsaPublicKeyNotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// The RSA public key file holds no usable key.
    #[error("the RSA public key in {} could not be read", path.display())]
    RsaPublicKeyInFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: CryptoError,
    },
    /// No transport: the feature of the default one is off and none was given.
    #[error("no {kind} transport: enable the `{feature}` feature of juhe-verify or pass your own")]
    NoTransport {
        /// `async` or `blocking`.
        kind: &'static str,
        /// The feature that brings the default one.
        feature: &'static str,
    },
    /// A certificate given to trust is not one.
    #[error("the root certificate to trust could not be read")]
    RootCertificate(#[source] TransportError),
    /// The default transport could not be set up.
    #[error("could not set up the HTTP client")]
    Transport(#[source] TransportError),
    /// A setting of the default transports was given with a transport of your own, which
    /// keeps its own.
    #[error(
        "{setting} applies to the default transports only: configure it on your own transport, or leave it out"
    )]
    NotForOwnTransport {
        /// The setting.
        setting: &'static str,
    },
    /// A timeout shorter than [`MIN_TIMEOUT`](crate::MIN_TIMEOUT): no answer could come
    /// within it, yet the request would leave and might be billed.
    #[error(
        "a timeout of {given:?} is shorter than {min:?}: no answer could come in time, yet the request would be sent and might be billed; give a longer timeout (--timeout, JUHE_TIMEOUT)"
    )]
    TimeoutTooShort {
        /// The timeout given.
        given: Duration,
        /// The shortest allowed.
        min: Duration,
    },
    /// An environment variable read by `ClientBuilder::from_env` holds no usable value.
    #[error("{variable} must be {expected}")]
    Environment {
        /// The variable.
        variable: &'static str,
        /// What it may hold.
        expected: &'static str,
    },
    /// A team's checks need a ledger: it holds their budgets, purpose and reuse.
    #[error("checks for a team need a ledger: give the client one (ClientBuilder::ledger)")]
    TeamWithoutLedger,
    /// A purpose is recorded in the ledger: without one there is nowhere to keep it.
    #[error(
        "a purpose is recorded with each check in the ledger: give the client one (ClientBuilder::ledger)"
    )]
    PurposeWithoutLedger,
    /// A team name the ledger and the gateway cannot hold.
    #[error("a team name is 1 to 64 ASCII letters, digits, '-', '_' or '.', got {0:?}")]
    TeamName(String),
}

#[cfg(test)]
mod tests {
    use juhe_proto::Field;
    use juhe_transport::TransportErrorKind;

    use super::*;

    fn service(code: i64) -> Error {
        Error::Service(Attempted::new(
            ServiceError { code: ErrorCode::new(code), reason: String::new(), order_id: None },
            1,
        ))
    }

    fn http(status: u16) -> Error {
        Error::Protocol(Attempted::new(AnswerError::HttpStatus { status }, 1))
    }

    /// The one rule, by phase: never sent → safe when it can pass; sent with no answer →
    /// risks paying twice; Juhe's refusal → safe when it passes, never otherwise.
    #[test]
    fn each_failure_is_classified_once() {
        let transport =
            |delivery| Error::from(TransportError::new(TransportErrorKind::Timeout, delivery, "x"));
        let invalid = Error::Invalid(ValidationError::new(Field::Mobile, juhe_proto::Problem::Empty));
        let cases = [
            (invalid, Resend::Never),
            (transport(Delivery::NotSent), Resend::Safe),
            (transport(Delivery::MaybeSent), Resend::RisksPayingTwice),
            (service(233901), Resend::Safe),
            (service(10012), Resend::Safe),
            (service(233903), Resend::Never),
            (http(503), Resend::Safe),
            (http(502), Resend::RisksPayingTwice),
            (Error::Skipped(Skipped::Budget { max_billed: 1 }), Resend::Safe),
            (Error::Skipped(Skipped::SameAsMaybeBilled { index: 0 }), Resend::RisksPayingTwice),
        ];
        for (error, resend) in cases {
            assert_eq!(error.resend(), resend, "{error:?}");
            assert_eq!(Resend::parse(resend.as_str()), Some(resend));
        }
        assert!(Resend::RisksPayingTwice.allows(true) && !Resend::RisksPayingTwice.allows(false));
        assert!(!Resend::Never.allows(true) && Resend::Safe.allows(false));
    }
}
