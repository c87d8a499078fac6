//! Where an account is reached and with which credentials, as one value.

use std::fmt;

use zeroize::Zeroizing;

/// Everything a client needs to reach one Juhe account: the base URL and the credentials of
/// every mode. A sandbox hands one out for its own test account; `ClientBuilder::account` in
/// juhe-verify takes one, so tests wire a client to a sandbox in one call.
///
/// `Debug` shows the base URL only: the key and openid are secrets, zeroized on drop.
#[derive(Clone)]
pub struct Account {
    base_url: String,
    key: Zeroizing<String>,
    openid: Zeroizing<String>,
    rsa_public_key_pem: String,
    ca_certificate_pem: Option<String>,
}

impl Account {
    /// An account at `base_url` with these credentials; `rsa_public_key_pem` as the account
    /// page shows it.
    pub fn new(base_url: &str, key: &str, openid: &str, rsa_public_key_pem: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            key: Zeroizing::new(key.to_owned()),
            openid: Zeroizing::new(openid.to_owned()),
            rsa_public_key_pem: rsa_public_key_pem.to_owned(),
            ca_certificate_pem: None,
        }
    }

    /// The account is served over HTTPS with a certificate signed by this CA (PEM), which
    /// clients must trust: a test sandbox's.
    pub fn with_ca_certificate_pem(mut self, pem: &str) -> Self {
        self.ca_certificate_pem = Some(pem.to_owned());
        self
    }

    /// The CA certificate to trust, if the base URL needs one.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_certificate_pem.as_deref()
    }

    /// The base URL that replaces both Juhe hosts.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The openid.
    pub fn openid(&self) -> &str {
        &self.openid
    }

    /// The RSA public key, PEM.
    pub fn rsa_public_key_pem(&self) -> &str {
        &self.rsa_public_key_pem
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_base_url() {
        let account = Account::new("http://127.0.0.1:1", "secret-key", "secret-openid", "PEM");
        assert_eq!(format!("{account:?}"), r#"Account { base_url: "http://127.0.0.1:1", .. }"#);
    }
}
