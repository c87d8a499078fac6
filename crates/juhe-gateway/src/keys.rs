//! Team keys: issued, rotated and revoked in the ledger (so every replica sees one set), held
//! in memory by each gateway, reloaded whenever the ledger's key
//! generation moves. A key is stored as its hash only; a team's openid and RSA private key
//! are sealed under the gateway's master key.

use std::sync::Arc;
use std::time::Duration;

use juhe_crypto::{AesKey, RsaPadding, RsaPrivateKey, SealingKey, constant_time_eq, hmac_sha256_digest};
use juhe_proto::Product;
use juhe_verify::ledger::{KeyChange, Ledger, NewTeamKey, TeamKey};
use juhe_verify::{Client, Team};
use serde::{Deserialize, Serialize};

use crate::GatewayError;

/// What a team may do, set per key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TeamRules {
    /// The products it may check (`idcard`, `telecom2`, `telecom3`, `face`); all when empty.
    #[serde(default)]
    pub products: Vec<String>,
    /// Billed checks per day (China time), pending ones included.
    #[serde(default)]
    pub max_billed_per_day: Option<u64>,
    /// Billed checks per calendar month.
    #[serde(default)]
    pub max_billed_per_month: Option<u64>,
    /// Answer a person billed within this many seconds from the ledger.
    #[serde(default)]
    pub reuse_within_secs: Option<u64>,
    /// Why the team checks people, stored with each of its checks.
    #[serde(default)]
    pub purpose: Option<String>,
}

impl TeamRules {
    /// Every product, no budget, no reuse, no purpose.
    pub fn open() -> Self {
        Self {
            products: Vec::new(),
            max_billed_per_day: None,
            max_billed_per_month: None,
            reuse_within_secs: None,
            purpose: None,
        }
    }

    /// Whether the team may check `product`.
    pub fn allows(&self, product: Product) -> bool {
        self.products.is_empty() || self.products.iter().any(|p| p == product.name())
    }

    /// The rules as the client applies them.
    fn team(&self, name: &str, sharing: Sharing) -> Result<Team, GatewayError> {
        let mut team = Team::new(name).map_err(|e| GatewayError::Config(e.to_string()))?;
        if let Some(purpose) = &self.purpose {
            team = team.purpose(purpose.clone());
        }
        if let Some(cap) = self.max_billed_per_day {
            team = team.max_billed_per_day(cap);
        }
        if let Some(cap) = self.max_billed_per_month {
            team = team.max_billed_per_month(cap);
        }
        if let Some(secs) = self.reuse_within_secs {
            team = team.reuse_within(Duration::from_secs(secs));
        }
        if sharing.apart {
            team = team.apart();
        }
        if sharing.across_purposes {
            team = team.across_purposes();
        }
        Ok(team)
    }

    /// Refuses product names that are none of Juhe's.
    fn validate(&self) -> Result<(), GatewayError> {
        match self.products.iter().find(|p| Product::from_name(p).is_none()) {
            Some(unknown) => Err(GatewayError::Config(format!(
                "unknown product {unknown:?}: the products are idcard, telecom2, telecom3 and face"
            ))),
            None => Ok(()),
        }
    }
}

/// Whose answers a team's check may reuse: by default those of every team with the same
/// purpose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sharing {
    /// Only the team's own.
    pub(crate) apart: bool,
    /// Whatever their purpose.
    pub(crate) across_purposes: bool,
}

/// What a team is given when its key is issued: the three credentials of a Juhe account.
/// Shown once; the gateway keeps only the key's hash and the rest sealed.
pub struct IssuedKey {
    /// The team.
    pub team: String,
    /// The virtual API key (`key=`), 32 hexadecimal digits like Juhe's.
    pub key: String,
    /// The team's openid (the AES modes and the sign).
    pub openid: String,
    /// The team's RSA public key, SPKI PEM (the RSA modes).
    pub rsa_public_key_pem: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey").field("team", &self.team).finish_non_exhaustive()
    }
}

/// The sealed part of a key.
#[derive(Serialize, Deserialize)]
struct Secrets {
    openid: String,
    private_key_pem: String,
}

/// The hash a key is stored and compared as.
pub(crate) fn key_hash(key: &str) -> [u8; 32] {
    hmac_sha256_digest(b"juhe-gateway team key v1", key.as_bytes())
}

/// 16 random bytes as 32 hexadecimal digits.
fn random_hex() -> String {
    AesKey::generate().as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Issues a key to a new team (`rotate` false) or replaces its live one, recorded as done by
/// `by`.
pub fn issue(
    ledger: &Ledger,
    master: &SealingKey,
    team: &str,
    rules: &TeamRules,
    rotate: bool,
    by: &str,
) -> Result<IssuedKey, GatewayError> {
    Team::new(team).map_err(|e| GatewayError::Config(e.to_string()))?;
    rules.validate()?;
    let private_key = RsaPrivateKey::generate(2048).map_err(GatewayError::Crypto)?;
    let rsa_public_key_pem = private_key.public_key().to_pem().map_err(GatewayError::Crypto)?;
    let secrets = Secrets {
        openid: format!("JH{}", random_hex()),
        private_key_pem: private_key.to_pem().map_err(GatewayError::Crypto)?.to_string(),
    };
    let key = random_hex();
    let sealed = master.seal(&serde_json::to_vec(&secrets).map_err(|e| GatewayError::Config(e.to_string()))?);
    let rules = serde_json::to_string(rules).map_err(|e| GatewayError::Config(e.to_string()))?;
    let new = NewTeamKey { team: team.to_owned(), key_hash: key_hash(&key), sealed, rules };
    let change = if rotate { KeyChange::Rotate(new) } else { KeyChange::Add(new) };
    ledger.change_team_keys(&change, by).map_err(GatewayError::Ledger)?;
    Ok(IssuedKey { team: team.to_owned(), key, openid: secrets.openid, rsa_public_key_pem })
}

/// Revokes `team`'s live key, recorded as done by `by`.
pub fn revoke(ledger: &Ledger, team: &str, by: &str) -> Result<(), GatewayError> {
    ledger.change_team_keys(&KeyChange::Revoke { team: team.to_owned() }, by).map_err(GatewayError::Ledger)
}

/// A live key, opened: what a request under it is read and forwarded with.
pub(crate) struct LiveKey {
    pub(crate) team: String,
    hash: [u8; 32],
    pub(crate) rules: TeamRules,
    pub(crate) openid: String,
    pub(crate) openid_key: AesKey,
    pub(crate) private_key: RsaPrivateKey,
    /// The team's client: the gateway's, with the team's budgets, purpose and reuse.
    pub(crate) client: Client,
}

impl LiveKey {
    fn open(
        key: &TeamKey,
        master: &SealingKey,
        base: &Client,
        sharing: Sharing,
    ) -> Result<Self, GatewayError> {
        let opened = master.open(&key.sealed).map_err(GatewayError::Crypto)?;
        let secrets: Secrets = serde_json::from_slice(&opened)
            .map_err(|e| GatewayError::Config(format!("sealed secrets: {e}")))?;
        let rules: TeamRules = serde_json::from_str(&key.rules)
            .map_err(|e| GatewayError::Config(format!("team {}'s rules: {e}", key.team)))?;
        let client = base.for_team(&rules.team(&key.team, sharing)?).map_err(GatewayError::Client)?;
        Ok(Self {
            team: key.team.clone(),
            hash: key.key_hash,
            openid_key: AesKey::from_openid(&secrets.openid),
            private_key: RsaPrivateKey::from_pem(&secrets.private_key_pem).map_err(GatewayError::Crypto)?,
            openid: secrets.openid,
            rules,
            client,
        })
    }

    /// The padding of idcard's wrapped AES key: PKCS#1 v1.5, as the spec's README decided for
    /// Juhe (and as juhe-rs's clients send by default).
    pub(crate) const IDCARD_KEY_PADDING: RsaPadding = RsaPadding::Pkcs1v15;
}

/// The live keys a gateway holds, and the ledger generation they were read at.
pub(crate) struct KeyRing {
    pub(crate) generation: i64,
    keys: Vec<Arc<LiveKey>>,
}

impl KeyRing {
    /// Reads every live key from the ledger (this blocks).
    pub(crate) fn load(
        ledger: &Ledger,
        master: &SealingKey,
        base: &Client,
        sharing: Sharing,
    ) -> Result<Self, GatewayError> {
        let generation = ledger.team_keys_generation().map_err(GatewayError::Ledger)?;
        let mut keys = Vec::new();
        for key in ledger.team_keys().map_err(GatewayError::Ledger)?.iter().filter(|k| k.revoked_at.is_none())
        {
            keys.push(Arc::new(LiveKey::open(key, master, base, sharing)?));
        }
        Ok(Self { generation, keys })
    }

    /// The live key `key` is, compared by hash in time that does not depend on which key (or
    /// how much of one) matches.
    pub(crate) fn find(&self, key: &str) -> Option<Arc<LiveKey>> {
        let hash = key_hash(key);
        let mut found = None;
        for live in &self.keys {
            if constant_time_eq(&live.hash, &hash) {
                found = Some(Arc::clone(live));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_what_they_write_and_refuse_unknown_products() {
        let rules = TeamRules { products: vec!["telecom3".into()], ..TeamRules::open() };
        assert!(rules.allows(Product::Telecom3) && !rules.allows(Product::Face));
        assert!(TeamRules::open().allows(Product::Face));
        let bad = TeamRules { products: vec!["bankcard4".into()], ..TeamRules::open() };
        assert!(bad.validate().unwrap_err().to_string().contains("bankcard4"));
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<TeamRules>(&json).unwrap(), rules);
    }

    #[test]
    fn keys_are_32_hex_digits_and_hash_apart() {
        let (a, b) = (random_hex(), random_hex());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(key_hash(&a), key_hash(&b));
    }
}
