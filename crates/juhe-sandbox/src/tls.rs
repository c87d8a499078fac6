//! HTTPS for the sandbox: a certificate authority and a server certificate made at start,
//! so tests go through TLS as they do against Juhe. Both keys live only in this process; the
//! CA's certificate is what a client is given to trust.

#[cfg(any(feature = "aws-lc", feature = "ring"))]
use std::sync::Arc;

#[cfg(any(feature = "aws-lc", feature = "ring"))]
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
#[cfg(any(feature = "aws-lc", feature = "ring"))]
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::SandboxError;

/// The names the server certificate is for, unless the builder names others.
pub(crate) const DEFAULT_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A server's TLS set-up and the certificate of the CA that signed it.
pub(crate) struct TlsIdentity {
    pub(crate) ca_pem: String,
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

/// Without a crypto provider there is no HTTPS (the crate says which features to enable).
#[cfg(not(any(feature = "aws-lc", feature = "ring")))]
pub(crate) fn identity(_names: &[String]) -> Result<TlsIdentity, SandboxError> {
    Err(SandboxError::Tls("HTTPS needs juhe-sandbox's `aws-lc` or `ring` feature".into()))
}

/// Makes a CA and a server certificate for `names` (host names or IP addresses).
#[cfg(any(feature = "aws-lc", feature = "ring"))]
pub(crate) fn identity(names: &[String]) -> Result<TlsIdentity, SandboxError> {
    let failed = |e: rcgen::Error| SandboxError::Tls(e.to_string());
    let ca_key = KeyPair::generate().map_err(failed)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "juhe-sandbox test CA (made at start; trust it for tests only)");
    ca.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_certificate = ca.self_signed(&ca_key).map_err(failed)?;

    let server_key = KeyPair::generate().map_err(failed)?;
    let mut server = CertificateParams::new(names.to_vec()).map_err(failed)?;
    server.distinguished_name.push(DnType::CommonName, "juhe-sandbox");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let issuer = Issuer::from_params(&ca, &ca_key);
    let server_certificate = server.signed_by(&server_key, &issuer).map_err(failed)?;

    let chain: Vec<CertificateDer<'static>> =
        vec![server_certificate.der().clone(), ca_certificate.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|c| c.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| SandboxError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        ca_pem: ca_certificate.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    })
}

/// AWS-LC when the `aws-lc` feature is on (as `rcgen` chooses), else *ring*: set per server, so
/// the process needs no global provider.
#[cfg(any(feature = "aws-lc", feature = "ring"))]
fn provider() -> rustls::crypto::CryptoProvider {
    #[cfg(feature = "aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "ring", not(feature = "aws-lc")))]
    let provider = rustls::crypto::ring::default_provider();
    provider
}
