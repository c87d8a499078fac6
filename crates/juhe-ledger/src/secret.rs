//! The secret a ledger's subjects are hashed under, which the ledger itself never stores.

use std::fmt;

use juhe_proto::SubjectKey;

use crate::LedgerError;

/// HKDF's salt: fixed, so that every process deriving from one API key agrees.
const SALT: &[u8] = b"juhe-ledger";

/// The key of a ledger's subjects and the name of the account its entries belong to.
///
/// By default both come from the Juhe API key, through HKDF-SHA256 with fixed labels: every
/// process and machine on one key agrees on them, and neither reveals the key. A stolen ledger
/// therefore tells nothing about whom it checked, not even to someone who tries every ID
/// number, unless they also hold the API key (or the secret given instead).
///
/// **Versions.** Each secret has a version (8 hex digits derived from it, revealing nothing),
/// recorded with every entry it hashed. To rotate, give the new secret its predecessor
/// ([`with_previous`](Self::with_previous)): entries hashed under either are found (reuse,
/// single flight, `forget`), new ones are hashed under the new one. Once the predecessor is
/// dropped (and destroyed), the entries it hashed can never be linked to a person again:
/// erasure by key destruction.
#[derive(Clone)]
pub struct LedgerSecret {
    subjects: SubjectKey,
    account: String,
    version: String,
    previous: Option<Box<LedgerSecret>>,
}

impl LedgerSecret {
    /// Both derived from the account's API key.
    pub fn from_api_key(api_key: &str) -> Self {
        Self::derive(api_key.as_bytes(), api_key)
    }

    /// Subjects hashed under `secret` (for instance `JUHE_LEDGER_SECRET`), so that whoever
    /// holds the API key still cannot test the ledger's subjects; the account name still
    /// comes from the API key. At least 16 bytes, of at least 8 different characters, not
    /// counting white space: sixteen spaces, or `aaaaaaaaaaaaaaaa`, hide nothing.
    pub fn from_secret(secret: &str, api_key: &str) -> Result<Self, LedgerError> {
        if secret.len() < 16 {
            return Err(LedgerError::Secret("it must be at least 16 bytes long"));
        }
        let mut different: Vec<char> = secret.chars().filter(|c| !c.is_whitespace()).collect();
        different.sort_unstable();
        different.dedup();
        if different.len() < 8 {
            return Err(LedgerError::Secret(
                "it must hold at least 8 different characters besides white space: make one with `openssl rand -hex 32`",
            ));
        }
        Ok(Self::derive(secret.as_bytes(), api_key))
    }

    fn derive(subject_material: &[u8], api_key: &str) -> Self {
        let subjects =
            SubjectKey::from_bytes(juhe_crypto::hkdf_sha256(SALT, subject_material, b"subject key v1"));
        let account = juhe_crypto::hkdf_sha256(SALT, api_key.as_bytes(), b"account name v1");
        let version = juhe_crypto::hkdf_sha256(SALT, subject_material, b"secret version v1");
        Self { subjects, account: hex(&account[..8]), version: hex(&version[..4]), previous: None }
    }

    /// This secret, with the one it replaces: entries hashed under `previous` stay found
    /// until it is dropped. One predecessor at a time (its own is not kept); both must name
    /// the same account (the same API key).
    pub fn with_previous(mut self, mut previous: LedgerSecret) -> Result<Self, LedgerError> {
        if previous.account != self.account {
            return Err(LedgerError::Secret("the previous secret must be of the same API key"));
        }
        if previous.version == self.version {
            return Err(LedgerError::Secret("the previous secret is the current one"));
        }
        previous.previous = None;
        self.previous = Some(Box::new(previous));
        Ok(self)
    }

    /// The secret this one replaces, while it is kept.
    pub fn previous(&self) -> Option<&LedgerSecret> {
        self.previous.as_deref()
    }

    /// The version: 8 hex digits derived from the secret, recorded with each entry it hashes.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The key subjects are hashed under.
    pub fn subject_key(&self) -> &SubjectKey {
        &self.subjects
    }

    /// The account's name in the ledger: 16 hex digits that identify the API key without
    /// revealing it. Budgets count per account.
    pub fn account(&self) -> &str {
        &self.account
    }
}

impl fmt::Debug for LedgerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerSecret")
            .field("account", &self.account)
            .field("version", &self.version)
            .field("previous", &self.previous.as_ref().map(|p| &p.version))
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_one_account_and_nothing_of_the_key_shows() {
        let key = "0123456789abcdef0123456789abcdef";
        let a = LedgerSecret::from_api_key(key);
        assert_eq!(a.account(), LedgerSecret::from_api_key(key).account());
        assert_ne!(a.account(), LedgerSecret::from_api_key("another key").account());
        assert!(!format!("{a:?}").contains(key));
        assert!(LedgerSecret::from_secret("short", key).is_err());
        for weak in [" ".repeat(16), "a".repeat(40), "abababababababab".into(), "\t".repeat(20)] {
            assert!(LedgerSecret::from_secret(&weak, key).is_err(), "{weak:?}");
        }
        let other = LedgerSecret::from_secret("a long enough ledger secret", key).unwrap();
        assert_eq!(other.account(), a.account(), "the account still names the API key");
    }

    #[test]
    fn versions_name_secrets_and_a_predecessor_must_be_of_the_same_key() {
        let key = "0123456789abcdef0123456789abcdef";
        let old = LedgerSecret::from_secret("the first ledger secret, 2026", key).unwrap();
        let new = LedgerSecret::from_secret("the second ledger secret, 2027", key).unwrap();
        assert_eq!(old.version().len(), 8);
        assert_ne!(old.version(), new.version());
        assert_eq!(
            old.version(),
            LedgerSecret::from_secret("the first ledger secret, 2026", key).unwrap().version()
        );
        let rotated = new.clone().with_previous(old.clone()).unwrap();
        assert_eq!(rotated.previous().map(LedgerSecret::version), Some(old.version()));
        assert!(!format!("{rotated:?}").contains("ledger secret"), "{rotated:?}");
        let other_key = LedgerSecret::from_secret("the first ledger secret, 2026", "another key").unwrap();
        assert!(new.clone().with_previous(other_key).is_err());
        assert!(new.clone().with_previous(new.clone()).is_err());
    }
}
