//! HTTPS for the sandbox: a certificate authority and a server certificate made at start,
//! so tests go through TLS as they do against Juhe. Both keys live only in this process; the
//! CA's certificate is what a client is given to trust.

#[cfg(any(feature = "aws-lc", feature = "ring"))]
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
};
#[cfg(any(feature = "aws-lc", feature = "ring"))]
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::SandboxError;

/// The names the server certificate is for, unless the builder names others.
pub(crate) const DEFAULT_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// How long the CA and the server certificate are valid from start: a sandbox is for a test
/// run, and a CA someone trusted and forgot should soon be worth nothing.
pub(crate) const CERTIFICATE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

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
    ca.distinguished_name
        .push(DnType::CommonName, "juhe-sandbox test CA (made at start; trust it for tests only)");
    ca.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    // Trusted by a test machine, it must vouch for nothing but the sandbox's own names.
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.name_constraints = Some(constraints(names));
    let (not_before, not_after) = validity();
    (ca.not_before, ca.not_after) = (not_before, not_after);
    let ca_certificate = ca.self_signed(&ca_key).map_err(failed)?;

    let server_key = KeyPair::generate().map_err(failed)?;
    let mut server = CertificateParams::new(names.to_vec()).map_err(failed)?;
    server.distinguished_name.push(DnType::CommonName, "juhe-sandbox");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (server.not_before, server.not_after) = (not_before, not_after);
    let issuer = Issuer::from_params(&ca, &ca_key);
    let server_certificate = server.signed_by(&server_key, &issuer).map_err(failed)?;

    let chain: Vec<CertificateDer<'static>> =
        vec![server_certificate.der().clone(), ca_certificate.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let acceptor = juhe_server::tls_acceptor(chain, key).map_err(|e| SandboxError::Tls(e.to_string()))?;
    Ok(TlsIdentity { ca_pem: ca_certificate.pem(), acceptor })
}

/// The names the CA may sign: exactly the server's. A kind of name not among them (no IP
/// address, say) is excluded altogether rather than left open.
#[cfg(any(feature = "aws-lc", feature = "ring"))]
fn constraints(names: &[String]) -> NameConstraints {
    let mut permitted = Vec::new();
    let (mut any_ip, mut any_dns) = (false, false);
    for name in names {
        match name.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                any_ip = true;
                let bits = if ip.is_ipv4() { 32 } else { 128 };
                permitted.push(GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(ip, bits)));
            }
            Err(_) => {
                any_dns = true;
                permitted.push(GeneralSubtree::DnsName(name.clone()));
            }
        }
    }
    let mut excluded = Vec::new();
    if !any_ip {
        excluded.push(GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([0; 4], 0)));
        excluded.push(GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix([0; 16], 0)));
    }
    if !any_dns {
        // Only names under the reserved `.invalid`, which no one can own.
        permitted.push(GeneralSubtree::DnsName("invalid".into()));
    }
    NameConstraints { permitted_subtrees: permitted, excluded_subtrees: excluded }
}

/// From an hour ago (clocks differ a little) to [`CERTIFICATE_LIFETIME`] from now.
#[cfg(any(feature = "aws-lc", feature = "ring"))]
fn validity() -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (now - time::Duration::hours(1), now + CERTIFICATE_LIFETIME)
}

#[cfg(all(test, any(feature = "aws-lc", feature = "ring")))]
mod tests {
    use super::*;

    /// The CA's DER, from its PEM.
    fn ca_der(names: &[&str]) -> Vec<u8> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let pem = identity(&names).unwrap().ca_pem;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        juhe_crypto::base64_decode(&body).unwrap()
    }

    /// The seconds since 1970 of each DER UTCTime (`YYMMDDHHMMSSZ`) in `der`, in order.
    fn utc_times(der: &[u8]) -> Vec<i64> {
        der.windows(15)
            .filter(|w| w[0] == 0x17 && w[1] == 13 && w[14] == b'Z')
            .filter_map(|w| {
                let digits = std::str::from_utf8(&w[2..14]).ok()?;
                let n = |at: usize| digits[at..at + 2].parse::<i64>().ok();
                let date = juhe_proto::CivilDate::new(2000 + n(0)? as i32, n(2)? as u32, n(4)? as u32)?;
                Some(date.to_unix_days() * 86_400 + n(6)? * 3600 + n(8)? * 60 + n(10)?)
            })
            .collect()
    }

    #[test]
    fn the_ca_is_name_constrained_and_short_lived() {
        let der = ca_der(&["localhost", "127.0.0.1"]);
        // id-ce-nameConstraints (2.5.29.30), and the names it permits.
        assert!(der.windows(5).any(|w| w == [0x06, 0x03, 0x55, 0x1D, 0x1E]), "no name constraints");
        assert!(der.windows(9).any(|w| w == b"localhost"));
        let times = utc_times(&der);
        assert!(times.len() >= 2, "{times:?}");
        let (not_before, not_after) = (times[0], times[1]);
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!(not_before <= now && now < not_after, "{times:?} around {now}");
        assert!(not_after - now <= CERTIFICATE_LIFETIME.as_secs() as i64 + 5, "valid too long: {times:?}");
    }
}
