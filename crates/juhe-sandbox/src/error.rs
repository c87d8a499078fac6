//! The one error type of the sandbox.

use std::path::PathBuf;

/// What can stop the sandbox from starting. (Requests never produce errors: every request
/// gets a JSON answer.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The listening socket could not be opened.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The address is not a loopback one and exposing the sandbox was not asked for.
    #[error(
        "{addr} is reachable from other machines, which would serve the sandbox's identities to anyone: listen on 127.0.0.1, or expose it on purpose (`--expose`, `SandboxBuilder::expose`)"
    )]
    NotLoopback {
        /// The address asked for.
        addr: String,
    },
    /// The runtime or server thread could not start.
    #[error("could not start the sandbox server: {0}")]
    Start(std::io::Error),
    /// An identities file could not be read.
    #[error("could not read identities from {path}: {source}")]
    IdentitiesFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An identity in a file is invalid. The message names the record and the field, not the
    /// value.
    #[error("identity {record}: {message}")]
    InvalidIdentity {
        /// The record: a CSV line number or a JSON array index.
        record: String,
        /// What is wrong.
        message: String,
    },
    /// Two identities share an ID card number or a mobile number.
    #[error("identity {record}: its {field} is already taken by another identity")]
    DuplicateIdentity {
        /// The record.
        record: String,
        /// `idcard` or `mobile`.
        field: &'static str,
    },
    /// The HTTPS certificates could not be made.
    #[error("could not make the sandbox's TLS certificates: {0}")]
    Tls(String),
    /// The RSA key pair could not be read or made.
    #[error("sandbox RSA key: {0}")]
    RsaKey(#[from] juhe_crypto::CryptoError),
}
