//! Whether a check was paid for: the three words every report of money uses.

use std::fmt;
use std::str::FromStr;

/// Whether a check was paid for: the three states every report of money uses, written as
/// `true`, `false` and `maybe` (a batch's `juhe_billed` column, the CLI's reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Billing {
    /// Juhe answered with `error_code` 0: billed.
    Billed,
    /// Nothing was billed: not sent, refused by Juhe with a code, or an answer reused (from
    /// another input of a batch, or from a ledger).
    NotBilled,
    /// It may have been billed: sent, and no answer that says either way came back.
    MaybeBilled,
}

impl Billing {
    /// Every state.
    pub const ALL: [Self; 3] = [Self::Billed, Self::NotBilled, Self::MaybeBilled];

    /// The word reports use: `true`, `false`, `maybe`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Billed => "true",
            Self::NotBilled => "false",
            Self::MaybeBilled => "maybe",
        }
    }

    /// As JSON would have it: `Some(true)`, `Some(false)`, or `None` for maybe.
    pub const fn as_bool(self) -> Option<bool> {
        match self {
            Self::Billed => Some(true),
            Self::NotBilled => Some(false),
            Self::MaybeBilled => None,
        }
    }
}

impl fmt::Display for Billing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not `true`, `false` or `maybe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a billing word: expected true, false or maybe")]
pub struct NotABillingWord;

impl FromStr for Billing {
    type Err = NotABillingWord;

    /// Reads [`as_str`](Self::as_str)'s words, exactly.
    fn from_str(word: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|b| b.as_str() == word).ok_or(NotABillingWord)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_round_trip_exactly() {
        for billing in Billing::ALL {
            assert_eq!(billing.as_str().parse(), Ok(billing));
            assert_eq!(billing.to_string(), billing.as_str());
        }
        assert_eq!("True".parse::<Billing>(), Err(NotABillingWord));
        assert_eq!("".parse::<Billing>(), Err(NotABillingWord));
    }
}
