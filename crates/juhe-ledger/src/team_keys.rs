//! A gateway's team keys, kept where its checks are recorded so every replica on the ledger
//! sees one set: a key's hash (never the key), the team's secrets sealed under the gateway's
//! master key (never in clear), and its rules as the gateway wrote them. Every change is an
//! [`AdminAction`] in the same transaction; the rules of a change are decided once here, for
//! every backend.

use std::time::SystemTime;

use crate::LedgerError;

/// A team's key, as the ledger keeps it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TeamKey {
    /// Its number.
    pub id: i64,
    /// The team it belongs to.
    pub team: String,
    /// SHA-256 of the key: what a request's key is compared with.
    pub key_hash: [u8; 32],
    /// The team's secrets (openid, RSA private key), sealed by the gateway.
    pub sealed: Vec<u8>,
    /// The team's rules, as the gateway wrote them (JSON).
    pub rules: String,
    /// When it was issued.
    pub created_at: SystemTime,
    /// When it was revoked (or replaced by a rotation).
    pub revoked_at: Option<SystemTime>,
}

impl std::fmt::Debug for TeamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamKey")
            .field("id", &self.id)
            .field("team", &self.team)
            .field("rules", &self.rules)
            .field("revoked", &self.revoked_at.is_some())
            .finish_non_exhaustive()
    }
}

/// A key about to be issued.
#[derive(Clone)]
pub struct NewTeamKey {
    /// The team it is for.
    pub team: String,
    /// SHA-256 of the key.
    pub key_hash: [u8; 32],
    /// The team's secrets, sealed.
    pub sealed: Vec<u8>,
    /// The team's rules (JSON).
    pub rules: String,
}

/// What an admin does to a team's keys.
#[derive(Clone)]
pub enum KeyChange {
    /// Issue the first key of a new team (refused if the team has a live key).
    Add(NewTeamKey),
    /// Revoke the team's live key and issue this one in its place, in one transaction.
    Rotate(NewTeamKey),
    /// Revoke the team's live key: its next request is refused.
    Revoke {
        /// The team.
        team: String,
    },
}

impl KeyChange {
    /// The team it changes.
    pub fn team(&self) -> &str {
        match self {
            Self::Add(key) | Self::Rotate(key) => &key.team,
            Self::Revoke { team } => team,
        }
    }

    /// `add`, `rotate` or `revoke`, as the admin log records it.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Add(_) => "add",
            Self::Rotate(_) => "rotate",
            Self::Revoke { .. } => "revoke",
        }
    }
}

/// One change an admin made, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdminAction {
    /// Its number: the log only grows.
    pub id: i64,
    /// When.
    pub at: SystemTime,
    /// Who: the operating-system user that ran the command.
    pub by: String,
    /// `add`, `rotate` or `revoke`.
    pub action: String,
    /// The team (empty for an action on no team, an erasure).
    pub team: String,
    /// What was done, with no personal data (`3 entries, telecom3 and idcard`).
    pub detail: String,
}

/// What a backend's key-change transaction offers [`apply`].
pub(crate) trait KeysTx {
    /// How many live (unrevoked) keys `team` has.
    fn live_keys(&mut self, team: &str) -> Result<u64, LedgerError>;
    /// Revokes `team`'s live keys at `at_ms`.
    fn revoke(&mut self, team: &str, at_ms: i64) -> Result<u64, LedgerError>;
    /// Inserts a live key.
    fn insert(&mut self, key: &NewTeamKey, at_ms: i64) -> Result<(), LedgerError>;
    /// Appends to the admin log.
    fn log(&mut self, at_ms: i64, by: &str, action: &str, team: &str) -> Result<(), LedgerError>;
}

/// Makes `change` inside `tx`: a team has at most one live key; a rotation or revocation
/// needs one. The caller commits.
pub(crate) fn apply(
    tx: &mut dyn KeysTx,
    change: &KeyChange,
    by: &str,
    at_ms: i64,
    location: &str,
) -> Result<(), LedgerError> {
    let team = change.team();
    let live = tx.live_keys(team)?;
    let refused = |problem: String| LedgerError::TeamKey { location: location.to_owned(), problem };
    match change {
        KeyChange::Add(_) if live > 0 => {
            return Err(refused(format!("team {team:?} already has a key: rotate it instead")));
        }
        KeyChange::Rotate(_) | KeyChange::Revoke { .. } if live == 0 => {
            return Err(refused(format!("team {team:?} has no live key (`juhe gateway keys list`)")));
        }
        _ => {}
    }
    if matches!(change, KeyChange::Rotate(_) | KeyChange::Revoke { .. }) {
        tx.revoke(team, at_ms)?;
    }
    if let KeyChange::Add(key) | KeyChange::Rotate(key) = change {
        tx.insert(key, at_ms)?;
    }
    tx.log(at_ms, by, change.action(), team)
}
