//! The crypto crate's integration tests, in one binary: OpenSSL's known answers, OpenSSL
//! interoperability, every key format, and property-tested round trips. The RSA suite runs once
//! for each backend compiled in (`cargo test -p juhe-crypto --features aws-lc` runs both).

mod known_answers;
mod round_trips;

/// The files of `rsa/`, compiled once per backend: in each copy `RsaPublicKey` and
/// `RsaPrivateKey` are that backend's keys.
macro_rules! rsa_suite {
    ($name:ident, $feature:literal, $backend:ty) => {
        #[cfg(feature = $feature)]
        mod $name {
            type RsaPublicKey = juhe_crypto::RsaPublicKeyOn<$backend>;
            type RsaPrivateKey = juhe_crypto::RsaPrivateKeyOn<$backend>;
            mod key_formats {
                use super::*;
                include!("rsa/key_formats.rs");
            }
            mod known_answers {
                use super::*;
                include!("rsa/known_answers.rs");
            }
            mod openssl_interop {
                use super::*;
                include!("rsa/openssl_interop.rs");
            }
            mod round_trips {
                use super::*;
                include!("rsa/round_trips.rs");
            }
        }
    };
}

rsa_suite!(rsa_on_rust_rsa, "rust-rsa", juhe_crypto::rsa_backend::RustRsa);
rsa_suite!(rsa_on_aws_lc, "aws-lc", juhe_crypto::rsa_backend::AwsLc);

#[cfg(all(feature = "rust-rsa", feature = "aws-lc"))]
mod rsa_across_backends;
