use thiserror::Error;

/// Everything that can go wrong in this crate. No message ever contains key material or
/// plaintext.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The RSA key could not be read. The message says which format was tried and why it
    /// failed.
    #[error("invalid RSA key: {0}")]
    InvalidRsaKey(String),
    /// Text that should be base64 is not.
    #[error("invalid base64: {0}")]
    Base64(String),
    /// An AES key must be exactly 16 bytes (AES-128).
    #[error("an AES-128 key must be 16 bytes, got {0}")]
    AesKeyLength(usize),
    /// Decryption found bad PKCS#7 padding or a length that is not a multiple of 16: the
    /// ciphertext was tampered with or made with another key.
    #[error("AES decryption failed: wrong key or corrupted ciphertext")]
    AesPadding,
    /// The message is too long for one RSA block of this key size.
    #[error("message of {len} bytes is too long for RSA with this key (at most {max} bytes)")]
    RsaMessageTooLong {
        /// Length of the message.
        len: usize,
        /// Largest message this key and padding can encrypt.
        max: usize,
    },
    /// This build has no RSA library.
    #[error(
        "RSA needs a backend in this build: enable juhe-crypto's `rust-rsa` (pure Rust) or `aws-lc` feature"
    )]
    NoRsaBackend,
    /// The RSA operation itself failed (decryption of a tampered ciphertext, for instance).
    #[error("RSA {0} failed")]
    Rsa(&'static str),
    /// A master key for sealed secrets must hold at least 32 bytes.
    #[error(
        "a master key must hold at least 32 bytes (256 bits), got {0}: make one with `openssl rand -base64 32`"
    )]
    MasterKeyTooShort(usize),
    /// A sealed secret did not open: it was altered, or sealed under another master key.
    #[error("a sealed secret did not open: it was altered, or sealed under another master key")]
    Unsealed,
}
