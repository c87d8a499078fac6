//! Why a command failed, and the exit status that says so.

use std::fmt;
use std::process::ExitCode;

/// The contract's exit statuses, above 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// 2: bad input or usage; nothing was sent.
    Usage = 2,
    /// 4: a transport, protocol or local failure.
    Failure = 4,
}

/// A failed command: its status and a message for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: Status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self { status: Status::Usage, message: message.into() }
    }

    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self { status: Status::Failure, message: message.into() }
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.status as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
