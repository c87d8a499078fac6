//! What an entry holds: a check's intent before it is sent, and its settlement after.

use std::time::{Duration, SystemTime};

use juhe_proto::{Mode, Product, Subject, Verdict};
use serde_json::{Map, Value};

/// An entry's number in its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub(crate) i64);

impl EntryId {
    /// The number, as reports show it.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Where an entry stands as far as money goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Recorded before the request left; no outcome recorded yet. A process killed in between
    /// leaves its entry pending: reports and budgets count it as maybe billed.
    Pending,
    /// Juhe answered with error_code 0.
    Billed,
    /// Not billed: refused before Juhe processed it, or answered with an error code.
    NotBilled,
    /// Sent, and no answer came (a timeout, a reset): Juhe may have billed it.
    MaybeBilled,
}

impl State {
    /// `pending`, `billed`, `not_billed`, `maybe_billed`: how the ledger stores it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Billed => "billed",
            Self::NotBilled => "not_billed",
            Self::MaybeBilled => "maybe_billed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Billed, Self::NotBilled, Self::MaybeBilled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether the entry counts against a budget: everything but `NotBilled`.
    pub const fn may_cost(self) -> bool {
        !matches!(self, Self::NotBilled)
    }
}

/// A check about to be sent, as its pending entry records it.
#[derive(Debug, Clone)]
pub struct Intent {
    /// The keyed hash of the product and the personal fields.
    pub subject: Subject,
    /// The product.
    pub product: Product,
    /// The transmission mode.
    pub mode: Mode,
    /// Where the check is sent: `juhe` for Juhe's own hosts, the embedded sandbox, or the base
    /// URL's origin. Reuse never crosses targets.
    pub target: String,
    /// The personal fields, masked (`张* 110***********002X 139****5678`).
    pub masked: String,
    /// How long the check may take, retries included. Past it a pending entry is taken to be
    /// abandoned (its process died): nobody waits for it any more, and it stays maybe billed.
    pub deadline: Duration,
}

/// What an entry's check came to, recorded once the answer is in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settlement {
    /// Billed, not billed, or maybe billed.
    pub state: State,
    /// Juhe's error_code, when it answered.
    pub error_code: Option<i64>,
    /// The verdict of a billed answer.
    pub verdict: Option<Verdict>,
    /// Juhe's order number.
    pub order_id: Option<String>,
    /// How many times the request was sent.
    pub attempts: u32,
    /// Juhe's `reason`.
    pub reason: Option<String>,
    /// The answer's result fields (none of them personal: `res`, `rescode`, carrier,
    /// province, …), kept so that a later check can reuse the answer.
    pub result: Option<Map<String, Value>>,
}

impl Settlement {
    /// A settlement with `state` and nothing else known yet.
    pub fn new(state: State, attempts: u32) -> Self {
        Self { state, error_code: None, verdict: None, order_id: None, attempts, reason: None, result: None }
    }

    /// A billed answer: its code 0, verdict, order number, reason and result fields.
    pub fn billed(
        attempts: u32,
        verdict: Verdict,
        order_id: Option<String>,
        reason: String,
        result: Map<String, Value>,
    ) -> Self {
        Self {
            state: State::Billed,
            error_code: Some(0),
            verdict: Some(verdict),
            order_id,
            attempts,
            reason: Some(reason),
            result: Some(result),
        }
    }

    /// With Juhe's error code and order number, when an error answer had them.
    pub fn with_code(mut self, code: Option<i64>, order_id: Option<String>) -> Self {
        self.error_code = code;
        self.order_id = order_id;
        self
    }
}

/// The stored name of a verdict.
pub(crate) fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Match => "match",
        Verdict::Mismatch => "mismatch",
        _ => "unknown",
    }
}

/// One entry, as reports, `pending` and exports read it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// Its number.
    pub id: EntryId,
    /// The account (see [`LedgerSecret::account`](crate::LedgerSecret::account)).
    pub account: String,
    /// The product's name.
    pub product: String,
    /// The mode's name.
    pub mode: String,
    /// Where the check was sent.
    pub target: String,
    /// The personal fields, masked.
    pub masked: String,
    /// When the pending entry was recorded, just before sending.
    pub started_at: SystemTime,
    /// When the outcome was recorded.
    pub finished_at: Option<SystemTime>,
    /// Where it stands.
    pub state: State,
    /// Juhe's error_code.
    pub error_code: Option<i64>,
    /// `match`, `mismatch` or `unknown`, for a billed answer.
    pub verdict: Option<String>,
    /// Juhe's order number.
    pub order_id: Option<String>,
    /// How many times it was sent.
    pub attempts: Option<u32>,
}

/// A billed earlier check found for the same subject, product and target.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recorded {
    /// Its entry.
    pub entry: EntryId,
    /// When it was sent.
    pub started_at: SystemTime,
    /// Its state: billed for a reusable answer; pending or maybe billed otherwise.
    pub state: State,
    /// Juhe's order number.
    pub order_id: Option<String>,
    /// Juhe's `reason`.
    pub reason: String,
    /// The answer's result fields.
    pub result: Map<String, Value>,
}
