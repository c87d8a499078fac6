//! The one rustls crypto provider both backends hand their TLS set-up: configured per client,
//! so the process needs no global provider and a build holds one crypto library, not two.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

use crate::TransportError;

/// AWS-LC when the `aws-lc` feature is on (the build already holds it for RSA), else *ring*;
/// with neither, the process's default provider, if the application installed one.
pub(crate) fn provider() -> Result<Arc<CryptoProvider>, TransportError> {
    #[cfg(feature = "aws-lc")]
    return Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    // rustls 0.23.48 deprecates *ring*'s provider: it has no post-quantum key exchange. It is
    // still the one to use without a C toolchain for AWS-LC; the `ring` feature's docs say so.
    #[cfg(all(feature = "ring", not(feature = "aws-lc")))]
    #[allow(deprecated)]
    return Ok(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc")))]
    CryptoProvider::get_default().cloned().ok_or_else(|| {
        TransportError::new(
            crate::TransportErrorKind::Tls,
            crate::Delivery::NotSent,
            "no TLS crypto provider: enable juhe-transport's `ring` or `aws-lc` feature (or `native-tls`), \
             or install a rustls CryptoProvider as the process default",
        )
    })
}
