//! TLS for a server: rustls, with the provider the crate's features pick (AWS-LC, else
//! *ring*), set per server so the process needs no global provider.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate chain's PEM holds no certificate, or one that does not parse.
    Certificates(String),
    /// The private key's PEM holds no key, or one that does not parse.
    Key(String),
    /// rustls refused the chain and key together (a key that does not match, say).
    Config(String),
    /// This build has no TLS provider.
    NoProvider,
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Certificates(why) => write!(f, "the TLS certificate chain could not be read: {why}"),
            Self::Key(why) => write!(f, "the TLS private key could not be read: {why}"),
            Self::Config(why) => write!(f, "TLS could not be set up: {why}"),
            Self::NoProvider => f.write_str("TLS needs juhe-server's `aws-lc` or `ring` feature"),
        }
    }
}

impl std::error::Error for TlsError {}

/// An acceptor for `chain` (the server's certificate first) and its `key`, HTTP/1.1 by ALPN.
pub fn tls_acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let provider = Arc::new(provider()?);
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|c| c.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// [`tls_acceptor`] from PEM text: the chain's certificates, and a PKCS#8, PKCS#1 or SEC1 key.
pub fn tls_acceptor_from_pem(chain_pem: &str, key_pem: &str) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificates(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Certificates("no CERTIFICATE block in it".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsError::Key(e.to_string()))?;
    tls_acceptor(chain, key)
}

#[cfg(feature = "aws-lc")]
fn provider() -> Result<rustls::crypto::CryptoProvider, TlsError> {
    Ok(rustls::crypto::aws_lc_rs::default_provider())
}

// Deprecated by rustls 0.23.48 (no post-quantum key exchange); AWS-LC is preferred when on.
#[cfg(all(feature = "ring", not(feature = "aws-lc")))]
#[allow(deprecated)]
fn provider() -> Result<rustls::crypto::CryptoProvider, TlsError> {
    Ok(rustls::crypto::ring::default_provider())
}

#[cfg(not(any(feature = "aws-lc", feature = "ring")))]
fn provider() -> Result<rustls::crypto::CryptoProvider, TlsError> {
    Err(TlsError::NoProvider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_a_certificate_is_refused_with_a_reason() {
        let error = tls_acceptor_from_pem("not pem", "not pem").err().unwrap();
        assert!(error.to_string().contains("certificate chain"), "{error}");
    }
}
