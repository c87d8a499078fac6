//! Why a batch's files cannot be used.

/// Why a batch's files cannot be read or written. [`kind`](Self::kind) tells a mistake in
/// the files (nothing was sent; fix them) from a failure to read or write them.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CsvError {
    kind: CsvErrorKind,
    message: String,
}

/// What kind of [`CsvError`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvErrorKind {
    /// The files are not what the batch needs (a missing or ambiguous column, an output that
    /// belongs to another input, a mixed encoding): fix them. Nothing was sent.
    Input,
    /// Reading or writing failed (a full disk, a file removed meanwhile).
    Io,
}

impl CsvError {
    /// A mistake in the files, described by `message` (which says what to fix).
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: CsvErrorKind::Input, message: message.into() }
    }

    /// A failure to read or write, described by `message`.
    pub fn io(message: impl Into<String>) -> Self {
        Self { kind: CsvErrorKind::Io, message: message.into() }
    }

    /// What kind of error it is.
    pub fn kind(&self) -> CsvErrorKind {
        self.kind
    }

    /// What happened and what to do, for a person to read.
    pub fn message(&self) -> &str {
        &self.message
    }
}
