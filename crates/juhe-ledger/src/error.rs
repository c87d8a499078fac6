//! What can go wrong with a ledger. Every error means the check it was asked about was **not
//! sent** (a ledger fails closed), except where [`Ledger::settle`](crate::Ledger::settle)
//! says otherwise.

use std::time::Duration;

/// The source of a database error, kept whole.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A ledger that cannot be used. Messages name the ledger (a PostgreSQL password is masked)
/// and say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The location is neither a path, `sqlite://PATH` nor `postgres://…`.
    #[error("ledger location {0:?} is not a path, sqlite://PATH or postgres://…")]
    Location(String),
    /// The file or server could not be opened or reached.
    #[error(
        "ledger {location}: cannot open it ({source}); check the path or URL and that the database is up"
    )]
    Unreachable {
        /// Which ledger.
        location: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// Another process held the ledger locked for longer than the wait allows.
    #[error(
        "ledger {location}: still locked by another process after {waited:?}; try again, or look for a stuck juhe process"
    )]
    Locked {
        /// Which ledger.
        location: String,
        /// How long this process waited.
        waited: Duration,
    },
    /// The file is not a juhe ledger, or is damaged. It was left exactly as it was.
    #[error(
        "ledger {location}: {detail}; the file was left unchanged: restore it from a backup, or give another --ledger"
    )]
    Corrupt {
        /// Which ledger.
        location: String,
        /// What is wrong.
        detail: String,
    },
    /// The ledger was written by a newer juhe-ledger, whose schema this one does not know.
    #[error(
        "ledger {location}: schema version {found} is newer than the {supported} this juhe understands; upgrade juhe"
    )]
    NewerSchema {
        /// Which ledger.
        location: String,
        /// The ledger's schema version.
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
    /// Any other database failure (a full disk, a dropped connection, …).
    #[error("ledger {location}: {source}")]
    Database {
        /// Which ledger.
        location: String,
        /// The database's error.
        #[source]
        source: BoxError,
    },
    /// [`Ledger::settle`](crate::Ledger::settle): no entry has this number.
    #[error("ledger {location}: there is no entry {entry}; `juhe ledger pending` lists the unanswered ones")]
    NoEntry {
        /// Which ledger.
        location: String,
        /// The number asked for.
        entry: i64,
    },
    /// [`Ledger::settle`](crate::Ledger::settle): the entry already has an answer (or a
    /// reconciliation), which a settlement must not overwrite.
    #[error("ledger {location}: entry {entry} is already {state}; only unanswered entries are settled")]
    Answered {
        /// Which ledger.
        location: String,
        /// The entry.
        entry: i64,
        /// Its state.
        state: &'static str,
    },
    /// [`Ledger::settle`](crate::Ledger::settle): the process that sent the entry is alive,
    /// and its answer is still coming.
    #[error(
        "ledger {location}: entry {entry} is still in flight (the process that sent it is alive); wait for its answer, or stop that process first"
    )]
    InFlight {
        /// Which ledger.
        location: String,
        /// The entry.
        entry: i64,
    },
    /// A change to a gateway's team keys that the keys' rules refuse.
    #[error("ledger {location}: {problem}")]
    TeamKey {
        /// The ledger.
        location: String,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// A ledger secret that is too short to hide anything.
    #[error("ledger secret: {0}")]
    Secret(&'static str),
    /// A retention period the ledger refuses.
    #[error("retention: {0}")]
    Retention(&'static str),
}

impl LedgerError {
    /// Whether another try later may succeed (a lock, a connection), as opposed to a ledger
    /// that needs a person's attention.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Locked { .. } | Self::Unreachable { .. } | Self::Database { .. })
    }
}
