//! The account's secrets, kept out of every `Debug`, `Display` and log.

use std::fmt;

use juhe_crypto::{AesKey, RsaPublicKey};
use zeroize::Zeroize;

use crate::validation::{Field, Problem, ValidationError, mask_secret};
use crate::{Endpoint, MissingCredential, Mode};

/// A credential beyond the API key, which only some modes need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Credential {
    /// The openid: the AES key of `queryEncry`, the IV of `queryEncryV2`, part of the sign.
    Openid,
    /// The account's RSA public key (RSA modes).
    RsaPublicKey,
}

impl Credential {
    /// The environment variable the SDK and the CLI read it from.
    pub const fn env_var(self) -> &'static str {
        match self {
            Credential::Openid => "JUHE_OPENID",
            Credential::RsaPublicKey => "JUHE_RSA_PUBLIC_KEY",
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::Openid => "openid",
            Credential::RsaPublicKey => "RSA public key",
        })
    }
}

/// A secret string, zeroized on drop, never shown.
#[derive(Clone, PartialEq, Eq)]
struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The account's credentials: the API key (every mode), the openid (signed and AES modes, and
/// the IV of idcard's RSA mode) and the RSA public key (RSA modes).
///
/// `Debug` shows which are present, never their values.
#[derive(Clone)]
pub struct Credentials {
    key: Secret,
    openid: Option<Openid>,
    rsa_public_key: Option<RsaPublicKey>,
}

#[derive(Clone)]
struct Openid {
    text: Secret,
    /// Derived once: the AES key of `queryEncry` and the IV of `queryEncryV2`.
    aes_key: AesKey,
}

/// Checks a key or openid: non-empty printable ASCII without spaces.
fn token(field: Field, text: &str) -> Result<String, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, Problem::Empty));
    }
    if let Some(position) = text.chars().position(|c| !c.is_ascii_graphic()) {
        let expected = "printable ASCII without spaces";
        return Err(ValidationError::new(field, Problem::Character { position: position + 1, expected }));
    }
    Ok(text.to_owned())
}

impl Credentials {
    /// Credentials with the API key only: enough for plain mode.
    pub fn new(key: &str) -> Result<Self, ValidationError> {
        Ok(Self { key: Secret(token(Field::Key, key)?), openid: None, rsa_public_key: None })
    }

    /// Adds the openid (account page → 基本信息).
    pub fn with_openid(mut self, openid: &str) -> Result<Self, ValidationError> {
        let text = token(Field::Openid, openid)?;
        let aes_key = AesKey::from_openid(&text);
        self.openid = Some(Openid { text: Secret(text), aes_key });
        Ok(self)
    }

    /// Adds the account's RSA public key.
    pub fn with_rsa_public_key(mut self, key: RsaPublicKey) -> Self {
        self.rsa_public_key = Some(key);
        self
    }

    /// The API key.
    pub fn key(&self) -> &str {
        &self.key.0
    }

    /// The openid, if given.
    pub fn openid(&self) -> Option<&str> {
        self.openid.as_ref().map(|o| o.text.0.as_str())
    }

    /// The AES key derived from the openid, if given.
    pub fn openid_aes_key(&self) -> Option<&AesKey> {
        self.openid.as_ref().map(|o| &o.aes_key)
    }

    /// The RSA public key, if given.
    pub fn rsa_public_key(&self) -> Option<&RsaPublicKey> {
        self.rsa_public_key.as_ref()
    }

    /// Whether `credential` is here.
    pub fn has(&self, credential: Credential) -> bool {
        match credential {
            Credential::Openid => self.openid.is_some(),
            Credential::RsaPublicKey => self.rsa_public_key.is_some(),
        }
    }

    /// Checks that every product's endpoint in `mode` can be encoded with these credentials.
    /// A client checks its default mode with this when it is built, so a missing credential
    /// is found before the first check rather than by it.
    pub fn require_mode(&self, mode: Mode) -> Result<(), MissingCredential> {
        self.require(mode, mode.credentials())
    }

    /// Checks that `endpoint` can be encoded with these credentials.
    pub fn require_endpoint(&self, endpoint: Endpoint) -> Result<(), MissingCredential> {
        let info = endpoint.info();
        self.require(info.mode, info.encoding.credentials().iter().copied())
    }

    fn require(
        &self,
        mode: Mode,
        needs: impl IntoIterator<Item = Credential>,
    ) -> Result<(), MissingCredential> {
        match needs.into_iter().find(|c| !self.has(*c)) {
            Some(credential) => Err(MissingCredential { credential, mode }),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key", &format_args!("{}", mask_secret()))
            .field("openid", &format_args!("{}", if self.openid.is_some() { mask_secret() } else { "None" }))
            .field("rsa_public_key", &self.rsa_public_key)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key_and_openid() {
        let c = Credentials::new("0123456789abcdef0123456789abcdef")
            .unwrap()
            .with_openid("JHsecretopenid")
            .unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("0123456789"), "{debug}");
        assert!(!debug.contains("secretopenid"), "{debug}");
        assert_eq!(debug, "Credentials { key: ***, openid: ***, rsa_public_key: None }");
    }

    #[test]
    fn a_mode_needs_what_any_of_its_endpoints_needs() {
        let key_only = Credentials::new("k").unwrap();
        assert!(key_only.require_mode(Mode::Plain).is_ok());
        let with_openid = key_only.clone().with_openid("o").unwrap();
        assert_eq!(
            key_only.require_mode(Mode::Aes),
            Err(MissingCredential { credential: Credential::Openid, mode: Mode::Aes })
        );
        assert!(with_openid.require_mode(Mode::Signed).is_ok());
        // telecom3's RSA mode needs only the public key; idcard's also needs the openid (the
        // IV), so the mode as a whole needs both.
        let rsa_only = key_only.with_rsa_public_key(
            RsaPublicKey::parse(include_str!("../../juhe-crypto/tests/data/rsa_public_spki.pem")).unwrap(),
        );
        assert!(rsa_only.require_endpoint(Endpoint::Telecom3QueryRv2).is_ok());
        assert_eq!(
            rsa_only.require_mode(Mode::Rsa),
            Err(MissingCredential { credential: Credential::Openid, mode: Mode::Rsa })
        );
    }

    #[test]
    fn refuses_empty_or_spaced_tokens_without_echoing_them() {
        assert_eq!(Credentials::new("  ").unwrap_err().problem, Problem::Empty);
        let err = Credentials::new("abc def").unwrap_err();
        assert_eq!(err.field, Field::Key);
        assert!(!err.to_string().contains("abc"));
    }
}
