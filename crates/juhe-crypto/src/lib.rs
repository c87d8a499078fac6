//! The cryptography of Juhe's (聚合数据) identity-verification APIs, as pure functions.
//!
//! Juhe offers each verification product in up to four transmission modes. This crate holds
//! everything those modes need and nothing else:
//!
//! | need | function |
//! |---|---|
//! | AES key and IV from the account's openid | [`AesKey::from_openid`] |
//! | a fresh random AES key (`idcard/queryEncryV2`) | [`AesKey::generate`] |
//! | AES-128-ECB / AES-128-CBC, PKCS#7, base64 | [`aes_ecb_encrypt`], [`aes_cbc_encrypt`] |
//! | RSA OAEP (SHA-1, MGF1-SHA-1) or PKCS#1 v1.5, base64 | [`RsaPublicKey::encrypt`] |
//! | the account's RSA public key in any format it is shown in | [`RsaPublicKey::parse`] |
//! | the MD5 request sign (`telecom3/verify`) | [`md5_sign`] |
//! | base64 | [`base64_encode`], [`base64_decode`] |
//! | a keyed name for a check's fields (HMAC-SHA256) | [`keyed_hash`] |
//! | a key for one purpose from another secret (HKDF-SHA256) | [`hkdf_sha256`] |
//! | secrets at rest under a master key (AES-256-CBC + HMAC-SHA256) | [`SealingKey`] |
//!
//! There is no I/O but the operating system's random generator: what needs randomness
//! ([`AesKey::generate`], [`RsaPublicKey::encrypt`], [`RsaPrivateKey::generate`][generate])
//! draws from it, so a caller needs no generator of its own (nor this crate's `rand_core` 0.6
//! beside today's `rand`). The `*_with_rng` and `random` forms take a
//! [`rand_core::CryptoRngCore`] instead, so a test with a seeded one repeats every output.
//!
//! [generate]: https://docs.rs/juhe-crypto/latest/juhe_crypto/struct.RsaPrivateKeyOn.html#method.generate
//!
//! With the `decrypt` feature the crate also opens what it seals ([`aes_ecb_decrypt`](https://docs.rs/juhe-crypto/latest/juhe_crypto/fn.aes_ecb_decrypt.html),
//! [`aes_cbc_decrypt`](https://docs.rs/juhe-crypto/latest/juhe_crypto/fn.aes_cbc_decrypt.html),
//! [`RsaPrivateKey`](https://docs.rs/juhe-crypto/latest/juhe_crypto/type.RsaPrivateKey.html)); a client never needs it, a server (such as the
//! `juhe-sandbox` crate) does.
//!
//! ```
//! use juhe_crypto::{AesKey, aes_ecb_encrypt, md5_sign};
//!
//! let key = AesKey::from_openid("JH0123456789abcdef");
//! let sealed = aes_ecb_encrypt(&key, "张三".as_bytes());
//! assert!(sealed.ends_with('='));
//! assert_eq!(md5_sign(&["a", "b"]).len(), 32);
//! ```
//!
//! # RSA backends
//! Key formats, checks and error messages are this crate's own and the same everywhere; the
//! RSA arithmetic comes from one of two libraries, chosen by a cargo feature:
//!
//! | feature | backend | one field (RSA-2048, OAEP) | builds with |
//! |---|---|---|---|
//! | `rust-rsa` (default) | [`rsa_backend::RustRsa`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.RustRsa.html): RustCrypto's `rsa` | encrypt ~450 µs, decrypt ~5.7 ms | the Rust toolchain |
//! | `aws-lc` | [`rsa_backend::AwsLc`](https://docs.rs/juhe-crypto/latest/juhe_crypto/rsa_backend/struct.AwsLc.html): AWS-LC via `aws-lc-rs` | encrypt ~24 µs, decrypt ~0.8 ms | a C compiler too |
//!
//! (Medians on the project's 2-core x86_64 machine; OpenSSL took ~30–40 µs and ~0.8 ms.)
//!
//! With both on, `aws-lc` is used ([`rsa_backend::Selected`]) and the other stays reachable as
//! [`RsaPublicKeyOn<RustRsa>`](RsaPublicKeyOn): the test suite runs against each. AWS-LC pads
//! with its own generator, so with it RSA ciphertexts do not repeat under a seeded `rng`
//! ([`RsaBackend::DRAWS_FROM_CALLER_RNG`](rsa_backend::RsaBackend::DRAWS_FROM_CALLER_RNG)).
//! AES and MD5 stay on RustCrypto in both: for a field of Juhe's size they are faster than
//! AWS-LC's ([docs/benchmarks.md](https://github.com/juhe-rs/juhe-rs/blob/main/docs/benchmarks.md)).
//!
//! ## A fresh process's first random bytes (`aws-lc`)
//! Unless told otherwise when it is built, AWS-LC seeds its generator on first use by running
//! a CPU-jitter entropy collector: 20–50 ms of CPU before a process's first RSA field (and
//! first TLS handshake), which is most of a one-off `juhe --mode rsa` check. Built with the
//! environment variable `AWS_LC_SYS_NO_JITTER_ENTROPY=1`, it seeds from the operating system's
//! generator (`getrandom`, as OpenSSL, ring and Go do) with RDRAND beside it, and a one-off RSA
//! check costs what a plain one does (docs/benchmarks.md, "A one-off check in a fresh
//! process"). This workspace sets it in `.cargo/config.toml`; a build elsewhere sets it itself:
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=1 cargo install juhe-cli`, or an `[env]` entry in the
//! application's own `.cargo/config.toml`. It changes only the seeding, never the ciphertexts'
//! form.
//!
//! # Security notes
//! The AES-ECB and PKCS#1 v1.5 schemes are what Juhe's API prescribes, not recommendations.
//! RUSTSEC-2023-0071 (the "Marvin" timing attack on the `rsa` crate) concerns private-key
//! operations: a client only encrypts with a public key, and the decryption behind the
//! `decrypt` feature is meant for a local test server, where no attacker measures timing.
//! With the `aws-lc` backend the advisory does not apply at all: AWS-LC's private-key
//! operations are constant-time, and `juhe-sandbox` uses that backend by default.
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod aes_cipher;
mod aes_key;
mod codec;
mod error;
mod keyed_hash;
pub mod rsa_backend;
mod rsa_key_formats;
#[cfg(feature = "decrypt")]
mod rsa_private;
mod rsa_public;
mod sealed;
mod sign;

#[cfg(feature = "decrypt")]
pub use aes_cipher::{aes_cbc_decrypt, aes_ecb_decrypt};
pub use aes_cipher::{aes_cbc_encrypt, aes_ecb_encrypt};
pub use aes_key::AesKey;
pub use codec::{base64_decode, base64_encode};
pub use error::CryptoError;
pub use keyed_hash::{constant_time_eq, hkdf_sha256, hmac_sha256_digest, keyed_hash};
pub use rand_core;
#[cfg(feature = "decrypt")]
pub use rsa_private::{RsaPrivateKey, RsaPrivateKeyOn};
pub use rsa_public::{RsaPadding, RsaPublicKey, RsaPublicKeyOn};
pub use sealed::{MIN_MASTER_KEY_LEN, SealingKey};
pub use sign::md5_sign;

/// The README's example (crates.io's page), compiled and run as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
