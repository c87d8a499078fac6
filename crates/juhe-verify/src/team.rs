//! Checks made for a team (feature `ledger`): one client per team of a service that checks
//! for several (a gateway), all on one ledger, one key and one pace. Each team's checks carry
//! its name and purpose into the ledger, count against its own budgets on top of the
//! account's, and reuse answers within its own window.

use std::sync::Arc;
use std::time::Duration;

use juhe_ledger::Purpose;

use crate::attempts::Core;
use crate::{Client, ConfigError, Error, blocking};

/// A team and its rules.
///
/// ```no_run
/// # #[cfg(feature = "sqlite")]
/// # fn run(client: juhe_verify::Client) -> Result<(), juhe_verify::Error> {
/// use std::time::Duration;
/// use juhe_verify::Team;
///
/// let payments = Team::new("payments")?
///     .purpose("payout review")
///     .max_billed_per_day(500)
///     .reuse_within(Duration::from_secs(30 * 86_400));
/// let client = client.for_team(&payments)?; // the same ledger, key and pace
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    name: String,
    purpose: Option<String>,
    max_billed_per_day: Option<u64>,
    max_billed_per_month: Option<u64>,
    reuse_within: Option<Duration>,
    apart: bool,
    across_purposes: bool,
}

impl Team {
    /// A team named `name`: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    pub fn new(name: &str) -> Result<Self, ConfigError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) {
            return Err(ConfigError::TeamName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            purpose: None,
            max_billed_per_day: None,
            max_billed_per_month: None,
            reuse_within: None,
            apart: false,
            across_purposes: false,
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the team checks people, stored with each of its checks.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// At most `cap` checks that cost or may cost money per day (China time), across every
    /// process on the ledger. Over it a check is [`Skipped::TeamBudget`](crate::Skipped::TeamBudget).
    pub fn max_billed_per_day(mut self, cap: u64) -> Self {
        self.max_billed_per_day = Some(cap);
        self
    }

    /// The same per calendar month (China time).
    pub fn max_billed_per_month(mut self, cap: u64) -> Self {
        self.max_billed_per_month = Some(cap);
        self
    }

    /// Answers a person billed within `window` from the ledger instead of paying again:
    /// whichever team's check it was, unless [`apart`](Self::apart). Off by default.
    pub fn reuse_within(mut self, window: Duration) -> Self {
        self.reuse_within = Some(window);
        self
    }

    /// Reuses only this team's own answers.
    pub fn apart(mut self) -> Self {
        self.apart = true;
        self
    }

    /// Reuses answers whatever purpose they were checked for (by default, only those of the
    /// team's own purpose).
    pub fn across_purposes(mut self) -> Self {
        self.across_purposes = true;
        self
    }
}

impl Core {
    /// This core with `team`'s name, purpose, budgets and reuse: the one rule both clients'
    /// `for_team` apply.
    fn for_team(&self, team: &Team) -> Result<Core, Error> {
        let mut core = self.clone();
        let mut journal = core.journal.as_deref().ok_or(ConfigError::TeamWithoutLedger)?.clone();
        let mut policy = match team.reuse_within {
            Some(window) => journal.policy.reuse_within(window),
            None => journal.policy.no_reuse(),
        };
        if let Some(cap) = team.max_billed_per_day {
            policy = policy.team_max_billed_per_day(cap);
        }
        if let Some(cap) = team.max_billed_per_month {
            policy = policy.team_max_billed_per_month(cap);
        }
        if team.apart {
            policy = policy.teams_apart();
        }
        if team.across_purposes {
            policy = policy.reuse_across_purposes();
        }
        journal.policy = policy;
        journal.team = Some(team.name.clone());
        if let Some(label) = &team.purpose {
            journal.purpose = Some(Purpose { label: label.clone(), consent_ref: None });
        }
        core.journal = Some(Arc::new(journal));
        Ok(core)
    }

    /// This core with `purpose` on its checks.
    fn with_purpose(&self, purpose: Purpose) -> Result<Core, Error> {
        let mut core = self.clone();
        let mut journal = core.journal.as_deref().ok_or(ConfigError::PurposeWithoutLedger)?.clone();
        journal.purpose = Some(purpose);
        core.journal = Some(Arc::new(journal));
        Ok(core)
    }
}

impl Client {
    /// A client whose checks are made for `team`: the same ledger, key, pace and connections,
    /// with the team's name, purpose, budgets and reuse window. The account's own budgets
    /// still hold over every team. Needs a ledger.
    pub fn for_team(&self, team: &Team) -> Result<Client, Error> {
        Ok(Client::new(Arc::new(self.core.for_team(team)?), Arc::clone(&self.transport)))
    }

    /// A client whose checks are made for `purpose` (and its consent reference): the same
    /// ledger, key, pace and connections. Reuse then answers them only from checks of the
    /// same purpose, unless the client was built to reuse across purposes. Needs a ledger.
    pub fn with_purpose(&self, purpose: Purpose) -> Result<Client, Error> {
        Ok(Client::new(Arc::new(self.core.with_purpose(purpose)?), Arc::clone(&self.transport)))
    }
}

impl blocking::Client {
    /// [`Client::for_team`], for the blocking client.
    pub fn for_team(&self, team: &Team) -> Result<blocking::Client, Error> {
        Ok(blocking::Client::new(Arc::new(self.core.for_team(team)?), Arc::clone(&self.transport)))
    }

    /// [`Client::with_purpose`], for the blocking client.
    pub fn with_purpose(&self, purpose: Purpose) -> Result<blocking::Client, Error> {
        Ok(blocking::Client::new(Arc::new(self.core.with_purpose(purpose)?), Arc::clone(&self.transport)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_names_are_short_plain_ascii() {
        assert!(Team::new("payments-eu_2.0").is_ok());
        for bad in ["", "a/b", "团队", "a b", &"x".repeat(65)] {
            assert!(matches!(Team::new(bad), Err(ConfigError::TeamName(_))), "{bad:?}");
        }
    }
}
