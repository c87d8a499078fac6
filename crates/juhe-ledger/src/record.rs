//! What an entry holds: a check's intent before it is sent, and its settlement after.

use std::time::{Duration, SystemTime};

use juhe_proto::{Billing, Mode, Product, Subject, Verdict};
use serde_json::{Map, Value};

/// An entry's number in its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub(crate) i64);

impl EntryId {
    /// The entry numbered `id`, as reports show it (to settle it, for instance).
    pub fn new(id: i64) -> Self {
        Self(id)
    }

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

    /// What it means for money: a pending entry may have been billed.
    pub const fn billing(self) -> Billing {
        match self {
            Self::Billed => Billing::Billed,
            Self::NotBilled => Billing::NotBilled,
            Self::Pending | Self::MaybeBilled => Billing::MaybeBilled,
        }
    }
}

impl From<Billing> for State {
    /// The state a check's billing settles its entry in.
    fn from(billing: Billing) -> Self {
        match billing {
            Billing::Billed => Self::Billed,
            Billing::NotBilled => Self::NotBilled,
            Billing::MaybeBilled => Self::MaybeBilled,
        }
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
    /// The team it is made for, through a gateway; `None` for the account's own checks.
    pub team: Option<String>,
    /// Why the person is checked, stored with the entry; reuse answers only a check of the same
    /// purpose unless the policy says otherwise ([`Policy::reuse_across_purposes`](crate::Policy::reuse_across_purposes)).
    pub purpose: Option<Purpose>,
    /// The same check's subject under the previous ledger secret, while one is kept
    /// ([`LedgerSecret::with_previous`](crate::LedgerSecret::with_previous)): entries hashed
    /// under it are still found. `None` without one.
    pub previous_subject: Option<Subject>,
}

/// Why a person is checked: a label the user chose (`onboarding`, `payout review`) and the
/// reference of the consent the person gave, as the user's own records name it. Neither may
/// hold personal data: they are stored as given, and the audit shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purpose {
    /// The purpose's label.
    pub label: String,
    /// The consent's reference, if any.
    pub consent_ref: Option<String>,
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

/// Why an entry cannot be settled by hand.
pub(crate) enum Unsettleable {
    /// It has an answer (or was settled before).
    Answered(State),
    /// Its sender is alive: the answer is still coming.
    InFlight,
}

/// Whether an entry in `state` (its sender `alive` or not) may be settled by hand: only an
/// unanswered one, and only once its sender has died.
pub(crate) fn may_settle(state: State, alive: bool) -> Result<(), Unsettleable> {
    match state {
        State::Pending if alive => Err(Unsettleable::InFlight),
        State::Pending | State::MaybeBilled => Ok(()),
        State::Billed | State::NotBilled => Err(Unsettleable::Answered(state)),
    }
}

impl Unsettleable {
    pub(crate) fn error(self, location: &str, entry: EntryId) -> crate::LedgerError {
        let (location, entry) = (location.to_owned(), entry.0);
        match self {
            Self::Answered(state) => crate::LedgerError::Answered { location, entry, state: state.as_str() },
            Self::InFlight => crate::LedgerError::InFlight { location, entry },
        }
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
    /// Pending, and the process that sent it is alive: its answer is still coming. A pending
    /// entry whose process died is not in flight: it may have been billed, and only a
    /// reconciliation ([`Ledger::settle`](crate::Ledger::settle)) tells.
    pub in_flight: bool,
    /// The reconciliation that set its state, when a person settled it by hand.
    pub settled: Option<Settled>,
    /// The team it was made for, through a gateway.
    pub team: Option<String>,
    /// Its purpose's label.
    pub purpose: Option<String>,
    /// Its consent's reference.
    pub consent_ref: Option<String>,
    /// Who sent it: the operating-system user, host and process (entries of schema 3 and
    /// before have none).
    pub actor: Option<Actor>,
}

/// Who ran a check or an admin action: the operating-system user, the host and the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The login name the environment gives (`USER`, `LOGNAME`), else `uid N`.
    pub user: String,
    /// The host's name.
    pub host: String,
    /// The process id.
    pub pid: u32,
}

impl Actor {
    /// This process's.
    pub fn current() -> &'static Actor {
        static CURRENT: std::sync::OnceLock<Actor> = std::sync::OnceLock::new();
        CURRENT.get_or_init(|| Actor { user: os_user(), host: host_name(), pid: std::process::id() })
    }
}

fn os_user() -> String {
    let named = ["USER", "LOGNAME"].into_iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    named.unwrap_or_else(|| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(meta) = std::fs::metadata("/proc/self") {
                return format!("uid {}", meta.uid());
            }
        }
        "unknown".to_owned()
    })
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .into_iter()
        .find_map(|path| {
            std::fs::read_to_string(path).ok().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty())
        })
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Entry {
    /// Whether it was sent to the embedded sandbox ([`SANDBOX_TARGET`](crate::SANDBOX_TARGET)):
    /// never billed by Juhe, whatever the sandbox answered.
    pub fn is_sandbox(&self) -> bool {
        self.target == crate::SANDBOX_TARGET
    }
}

/// What a person found an unanswered entry to be, in Juhe's order records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reconciliation {
    /// Juhe billed it. It then counts as billed in reports and budgets; it is never reused,
    /// since its answer is unknown.
    Billed {
        /// Juhe's order number, when found.
        order_id: Option<String>,
    },
    /// Juhe did not bill it: its question is free to be asked again, and its share of the
    /// budget is given back.
    NotBilled,
}

impl Reconciliation {
    /// The state it gives the entry.
    pub fn state(&self) -> State {
        match self {
            Self::Billed { .. } => State::Billed,
            Self::NotBilled => State::NotBilled,
        }
    }
}

/// Who settles an entry: the operating-system user and the host, as the record keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settler {
    /// The user name.
    pub user: String,
    /// The host name.
    pub host: String,
}

impl Settler {
    /// The user running this process (`USER`, `LOGNAME` or `USERNAME`) on this host
    /// (`HOSTNAME`, or the kernel's host name); `unknown` for what cannot be found.
    pub fn of_this_process() -> Self {
        let var = |names: &[&str]| {
            names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
        };
        let host = var(&["HOSTNAME", "COMPUTERNAME"])
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        Self {
            user: var(&["USER", "LOGNAME", "USERNAME"]).unwrap_or_else(|| "unknown".into()),
            host: host.unwrap_or_else(|| "unknown".into()),
        }
    }

    /// `user@host`, as stored.
    pub(crate) fn stored(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

/// A reconciliation, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settled {
    /// When.
    pub at: SystemTime,
    /// By whom: `user@host`.
    pub by: String,
    /// The state the entry was in before: `pending` (its process died) or `maybe_billed`.
    pub from: State,
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
