//! The one rustls crypto provider both backends hand their TLS set-up: configured per client,
//! so the process needs no global provider and a build holds one crypto library, not two.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

#[cfg(not(any(feature = "ring", feature = "aws-lc")))]
compile_error!(
    "juhe-transport's rustls needs a crypto provider: enable `ring` (default) or `aws-lc`, or use `native-tls`"
);

/// AWS-LC when the `aws-lc` feature is on (the build already holds it for RSA), else *ring*.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    #[cfg(feature = "aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "ring", not(feature = "aws-lc")))]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}
