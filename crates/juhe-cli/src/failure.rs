//! Why a command failed, and the exit status that says so.

use std::fmt;
use std::process::ExitCode;

/// The contract's exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// 0: verified match.
    Match = 0,
    /// 1: verified mismatch.
    Mismatch = 1,
    /// 2: bad input or usage; nothing was sent.
    Usage = 2,
    /// 3: Juhe answered with an error code.
    Service = 3,
    /// 4: a transport, protocol or local failure.
    Failure = 4,
    /// 5: a batch wrote rows that may have been billed by an earlier check whose answer never
    /// came (a run killed mid-check): settle them (`juhe ledger settle`).
    Unsettled = 5,
}

impl Status {
    pub(crate) fn exit_code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }

    /// The status of a client error.
    pub(crate) fn of(error: &juhe_verify::Error) -> Self {
        use juhe_verify::Error;
        match error {
            // Nothing was sent: bad input, or the ledger said no (a spent budget, a check that
            // may have been billed) or could not record it.
            Error::Invalid(_)
            | Error::Rejected(_)
            | Error::Config(_)
            | Error::Ledger(_)
            | Error::Skipped(_) => Status::Usage,
            Error::Service(_) => Status::Service,
            _ => Status::Failure,
        }
    }
}

/// A failed command: its status and a message for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: Status,
    pub(crate) message: String,
}

impl From<juhe_csv::CsvError> for Failure {
    /// A mistake in the batch's files is a usage error (exit 2, nothing sent); a failure to
    /// read or write them, a failure (exit 4).
    fn from(error: juhe_csv::CsvError) -> Self {
        match error.kind() {
            juhe_csv::CsvErrorKind::Input => Failure::usage(error.message()),
            _ => Failure::failed(error.message()),
        }
    }
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self { status: Status::Usage, message: message.into() }
    }

    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self { status: Status::Failure, message: message.into() }
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        self.status.exit_code()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error and its causes, `: `-separated, each said once.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}
