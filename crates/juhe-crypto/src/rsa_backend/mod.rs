//! Which library does the RSA arithmetic. Key formats, checks and messages are shared
//! (`rsa_key_formats`); a backend only turns checked DER into keys and keys into ciphertexts.
//!
//! [`RsaPublicKey`](crate::RsaPublicKey) and [`RsaPrivateKey`](https://docs.rs/juhe-crypto/latest/juhe_crypto/type.RsaPrivateKey.html) use
//! [`Selected`]: [`AwsLc`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.AwsLc.html) when the `aws-lc` feature is on, else [`RustRsa`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.RustRsa.html). With both
//! features on, both backends are compiled and [`RsaPublicKeyOn<RustRsa>`](crate::RsaPublicKeyOn)
//! still reaches the other one: that is how the test suite runs against each.

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(not(any(feature = "rust-rsa", feature = "aws-lc")))]
mod none;
#[cfg(feature = "rust-rsa")]
mod rust_rsa;

use rand_core::CryptoRngCore;

use crate::RsaPadding;

/// No RSA library (neither `rust-rsa` nor `aws-lc` is on): AES, MD5 signing and base64 work,
/// RSA keys are read and checked, and every RSA operation fails with
/// [`CryptoError::NoRsaBackend`](crate::CryptoError::NoRsaBackend).
#[cfg(not(any(feature = "rust-rsa", feature = "aws-lc")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRsa;

/// RSA through RustCrypto's pure-Rust `rsa` crate (feature `rust-rsa`, the default).
///
/// Its private-key operations are not constant-time (RUSTSEC-2023-0071): fine for a client,
/// which only encrypts, and for a local test server; see the crate's security notes.
#[cfg(feature = "rust-rsa")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RustRsa;

/// RSA through AWS-LC via `aws-lc-rs` (feature `aws-lc`): OpenSSL's speed, constant-time
/// private-key operations, a C compiler to build.
///
/// AWS-LC draws the padding's randomness from its own generator (seeded by the operating
/// system): the `rng` given to [`RsaPublicKeyOn::encrypt`](crate::RsaPublicKeyOn::encrypt)
/// and [`RsaPrivateKeyOn::generate`](crate::RsaPrivateKeyOn::generate) is not drawn from.
#[cfg(feature = "aws-lc")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsLc;

/// The backend of [`RsaPublicKey`](crate::RsaPublicKey) and
/// [`RsaPrivateKey`](https://docs.rs/juhe-crypto/latest/juhe_crypto/type.RsaPrivateKey.html) in this build.
#[cfg(feature = "aws-lc")]
pub type Selected = AwsLc;
/// The backend of [`RsaPublicKey`](crate::RsaPublicKey) and
/// [`RsaPrivateKey`](https://docs.rs/juhe-crypto/latest/juhe_crypto/type.RsaPrivateKey.html) in this build.
#[cfg(all(feature = "rust-rsa", not(feature = "aws-lc")))]
pub type Selected = RustRsa;
/// The backend of [`RsaPublicKey`](crate::RsaPublicKey) and
/// [`RsaPrivateKey`](https://docs.rs/juhe-crypto/latest/juhe_crypto/type.RsaPrivateKey.html) in this build: none.
#[cfg(not(any(feature = "rust-rsa", feature = "aws-lc")))]
pub type Selected = NoRsa;

mod sealed {
    pub trait Sealed {}
}

/// A library that does RSA for this crate: [`RustRsa`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.RustRsa.html) or [`AwsLc`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.AwsLc.html). Sealed; its items are
/// this crate's business.
pub trait RsaBackend: sealed::Sealed + Sized + Send + Sync + 'static {
    /// Whether encryption and key generation draw from the `rng` they are given, and so repeat
    /// with a seeded one: [`RustRsa`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.RustRsa.html) does, [`AwsLc`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.AwsLc.html) uses its own generator.
    const DRAWS_FROM_CALLER_RNG: bool;
    /// Whether it does RSA at all (`NoRsa`, the backend of a build with none, does not).
    const AVAILABLE: bool = true;

    #[doc(hidden)]
    type Public: Clone + Send + Sync + 'static;
    #[doc(hidden)]
    fn public_from_spki(spki: &[u8]) -> Option<Self::Public>;
    #[doc(hidden)]
    fn encrypt(
        key: &Self::Public,
        padding: RsaPadding,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Option<Vec<u8>>;

    #[cfg(feature = "decrypt")]
    #[doc(hidden)]
    type Private: Clone + Send + Sync + 'static;
    #[cfg(feature = "decrypt")]
    #[doc(hidden)]
    fn private_from_pkcs8(der: &[u8]) -> Option<Self::Private>;
    #[cfg(feature = "decrypt")]
    #[doc(hidden)]
    fn generate(rng: &mut impl CryptoRngCore, bits: usize) -> Option<Self::Private>;
    /// The public half as SubjectPublicKeyInfo DER.
    #[cfg(feature = "decrypt")]
    #[doc(hidden)]
    fn public_spki(key: &Self::Private) -> Option<Vec<u8>>;
    #[cfg(feature = "decrypt")]
    #[doc(hidden)]
    fn private_pkcs8(key: &Self::Private) -> Option<zeroize::Zeroizing<Vec<u8>>>;
    #[cfg(feature = "decrypt")]
    #[doc(hidden)]
    fn decrypt(key: &Self::Private, padding: RsaPadding, ciphertext: &[u8]) -> Option<Vec<u8>>;
}
