//! A durable journal of every Juhe (聚合数据) check that costs or may cost money.
//!
//! Juhe bills every answer with `error_code` 0. A process forgets that the moment it ends; a
//! ledger does not. Before a check's request leaves, a **pending** entry is committed; when the
//! answer comes, the entry gets its outcome (billed, not billed or maybe billed, Juhe's code,
//! the verdict, the order number, the attempts). The same journal then serves:
//!
//! - **reuse**: within a window the user picks, a billed, documented answer to the same question
//!   sent to the same target is returned without sending ([`Policy::reuse_within`]);
//! - **single flight**: with reuse on, a check whose question is in flight elsewhere (another
//!   thread, process, or machine on the same PostgreSQL) waits for that answer instead of
//!   paying for its own ([`Admission::Wait`]);
//! - **budgets** per day and month, counted in the database for every process on it, pending
//!   entries included ([`Policy::max_billed_per_day`]);
//! - **reconciliation**: [`Ledger::report`], [`Ledger::unanswered`] (what a crash left pending)
//!   and [`Ledger::entries`] (for finance), against Juhe's own order records; and
//!   [`Ledger::settle`], which records what a person found there.
//!
//! # Entries that settle themselves
//! Every ledger handle is an *owner*, whose token each of its pending entries carries and
//! whose liveness any other process can test (a locked file beside a SQLite ledger; a
//! session-level advisory lock on PostgreSQL, released when its connection dies). A pending
//! entry whose process is alive is in flight, and a check of the same question waits for it;
//! one whose process died is maybe billed at once: nobody waits for a dead process's
//! deadline, and [`Ledger::settle`] may then record whether Juhe billed it.
//!
//! # No personal data
//! A check is named by its [`Subject`]: HMAC-SHA256 of the product and the
//! normalised personal fields under a key that the ledger never stores. By default the key is
//! derived from the Juhe API key with HKDF ([`LedgerSecret::from_api_key`]); another secret can
//! be given ([`LedgerSecret::from_secret`], `JUHE_LEDGER_SECRET` in the CLI). Without that key,
//! a stolen ledger cannot be matched against anyone, even by trying every ID number. Entries
//! keep masked forms (`张*`, `110***********002X`, `139****5678`) for people reading reports.
//!
//! # Backends
//! - **SQLite** (feature `sqlite`, default): one file, WAL, several processes on one machine.
//!   Committed entries survive any process crash; see [`Ledger::open_sqlite_durable`](https://docs.rs/juhe-ledger/latest/juhe_ledger/struct.Ledger.html#method.open_sqlite_durable) for
//!   power cuts.
//! - **PostgreSQL** (feature `postgres`): one ledger for a fleet of machines.
//!
//! Calls block. An async program calls them from `spawn_blocking`, as `juhe-verify`'s async
//! client does.
//!
//! # Fails closed
//! Every error from [`Ledger::begin`] means: do not send. An unreachable server, a lock held
//! too long, a file that is not a ledger or of a newer schema are each a [`LedgerError`] that
//! names the ledger and what to do. A damaged file is never rewritten.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use juhe_ledger::{Admission, Intent, Ledger, LedgerSecret, Policy, Settlement};
//! use juhe_proto::{CivilDate, Mode, Subject, Telecom3Check, Verdict, masking};
//!
//! let dir = std::env::temp_dir().join(format!("juhe-ledger-doc-{}", std::process::id()));
//! let ledger = Ledger::open_sqlite(&dir.join("ledger.sqlite"))?;
//! let secret = LedgerSecret::from_api_key("the account's API key");
//! let today = CivilDate::new(2026, 12, 1).unwrap();
//! let check = Telecom3Check::new_on("张三", "11010519491231002X", "13912345678", today).unwrap();
//! let intent = Intent {
//!     subject: Subject::of(&check, secret.subject_key()),
//!     product: Telecom3Check::PRODUCT,
//!     mode: Mode::Plain,
//!     target: "juhe".into(),
//!     masked: masking::mask_check(&check),
//!     deadline: Duration::from_secs(30),
//!     team: None,
//!     purpose: None,
//!     previous_subject: None,
//! };
//! let policy = Policy::record_only().reuse_within(Duration::from_secs(86_400));
//! let Admission::Send(entry) = ledger.begin(&secret, &intent, &policy)? else { unreachable!() };
//! // … send the request; Juhe answers error_code 0 …
//! let result = serde_json::json!({"res": 1, "rescode": "11"}).as_object().unwrap().clone();
//! ledger.finish(entry, &Settlement::billed(1, Verdict::Match, Some("JH01".into()), "成功".into(), result))?;
//! // The same question again, within the day: reused, nothing sent.
//! assert!(matches!(ledger.begin(&secret, &intent, &policy)?, Admission::Reuse(_)));
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), juhe_ledger::LedgerError>(())
//! ```
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without a backend the crate still builds (its types, for a crate that passes ledgers on), and
// the decision the backends share has no caller.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

mod admission;
mod calendar;
pub mod chart;
#[cfg(feature = "sqlite")]
mod checkpointer;
mod error;
mod location;
mod owner;
mod pace;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
mod report;
mod retention;
mod reuse_counts;
mod schema;
mod secret;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod team_keys;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use juhe_proto::{AnyCheck, CivilDate, PersonalFields, Product, Subject};

pub use admission::{Admission, Period, Policy};
pub use calendar::{china_timestamp, parse_date};
pub use error::{BoxError, LedgerError};
pub use location::Location;
pub use pace::{BATCH_HORIZON, Priority, Start, StartRequest};
pub use record::{
    Actor, Entry, EntryId, Intent, Purpose, Reconciliation, Recorded, Settled, Settlement, Settler, State,
};
pub use report::{Counts, Grouping, Report, SANDBOX_TARGET, Span};
pub use retention::{DEFAULT_BILLING, DEFAULT_PERSONAL, Expiry, Retention};
pub use secret::LedgerSecret;
pub use team_keys::{AdminAction, KeyChange, NewTeamKey, TeamKey};

/// How long a ledger call waits for a lock another process holds (SQLite's file lock, a
/// PostgreSQL row or advisory lock) before it fails closed: the check is then not sent. A
/// PostgreSQL server that does not answer at all is given [`LOCK_WAIT`] plus 5 s.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

use store::{Selection, Store};

/// A ledger: cheap to clone, safe to share between threads; clones share the connection.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn Store>,
    location: Arc<str>,
    reused: Arc<reuse_counts::ReuseCounts>,
    /// The ledger's retention periods, as last read: reuse never reaches past the personal one.
    retention: Arc<Mutex<Retention>>,
    /// Applies them at open and daily; `None` without a thread for it.
    _keeper: Option<Arc<retention::Keeper>>,
    /// A SQLite file: one connection, one call at a time.
    one_call_at_a_time: bool,
}

impl Ledger {
    /// Opens the ledger at `location`: a SQLite file or a PostgreSQL database, as the backend
    /// features allow.
    pub fn open(location: &Location) -> Result<Self, LedgerError> {
        match location {
            #[cfg(feature = "sqlite")]
            Location::Sqlite(path) => Self::open_sqlite(path),
            #[cfg(feature = "postgres")]
            Location::Postgres(url) => Self::connect_postgres(url),
            #[allow(unreachable_patterns)]
            other => Err(LedgerError::Unreachable {
                location: other.to_string(),
                source:
                    "this build has no backend for it: enable juhe-ledger's `sqlite` or `postgres` feature"
                        .into(),
            }),
        }
    }

    /// Opens (or creates, mode 0600) the SQLite ledger at `path`, with `synchronous = NORMAL`:
    /// every committed entry survives a process crash.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn open_sqlite(path: &std::path::Path) -> Result<Self, LedgerError> {
        Self::new(sqlite::SqliteStore::open(path, false)?, Location::Sqlite(path.into()))
    }

    /// [`open_sqlite`](Self::open_sqlite) with `synchronous = FULL`: committed entries also
    /// survive an operating-system crash or a power cut, at the cost of an fsync per commit.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn open_sqlite_durable(path: &std::path::Path) -> Result<Self, LedgerError> {
        Self::new(sqlite::SqliteStore::open(path, true)?, Location::Sqlite(path.into()))
    }

    /// Connects to the PostgreSQL ledger at `url` (`postgres://user:password@host/db`),
    /// creating its tables on first use.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn connect_postgres(url: &str) -> Result<Self, LedgerError> {
        Self::new(postgres::PostgresStore::connect(url)?, Location::Postgres(url.into()))
    }

    fn new(store: impl Store + 'static, location: Location) -> Result<Self, LedgerError> {
        let store: Arc<dyn Store> = Arc::new(store);
        let reused = Arc::new(reuse_counts::ReuseCounts::new(Arc::clone(&store)));
        let retention = Arc::new(Mutex::new(store.retention()?));
        let keeper = retention::Keeper::start(Arc::downgrade(&store), Arc::clone(&retention)).map(Arc::new);
        let one_call_at_a_time = matches!(location, Location::Sqlite(_));
        Ok(Self {
            store,
            location: location.to_string().into(),
            reused,
            retention,
            _keeper: keeper,
            one_call_at_a_time,
        })
    }

    /// `policy`, its reuse window no longer than the personal retention: an entry past it is
    /// never reused, even before a pass clears it.
    fn within_retention(&self, policy: &Policy) -> Policy {
        let personal = self.retention.lock().unwrap_or_else(std::sync::PoisonError::into_inner).personal;
        policy.reuse_at_most(personal)
    }

    /// The ledger's retention periods (docs: [`retention`](crate::Retention)).
    pub fn retention(&self) -> Result<Retention, LedgerError> {
        let retention = self.store.retention()?;
        *self.retention.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = retention;
        Ok(retention)
    }

    /// Sets the ledger's retention periods, for every process on it (each sees them within
    /// an hour, this one at once), and logs the change in the admin log with this process's
    /// user. The next pass applies them.
    pub fn set_retention(&self, retention: Retention) -> Result<(), LedgerError> {
        self.store.set_retention(&retention, &Actor::current().user, SystemTime::now())?;
        *self.retention.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = retention;
        Ok(())
    }

    /// Applies the retention as of `now` (the handle does it by itself at open and daily;
    /// this is for `juhe ledger prune` and for tests on a scripted clock): the personal
    /// fields of entries past the personal period are cleared, entries past the billing
    /// period deleted, the pass logged when it changed something. On SQLite what the rows
    /// held is overwritten in the file and its log.
    pub fn expire(&self, now: SystemTime) -> Result<Expiry, LedgerError> {
        self.store.expire(retention::Pass::Now, now).map(|e| e.unwrap_or_else(|| nothing_expired(now)))
    }

    /// What [`expire`](Self::expire) would do as of `now`, changing nothing.
    pub fn expiring(&self, now: SystemTime) -> Result<Expiry, LedgerError> {
        self.store.expire(retention::Pass::DryRun, now).map(|e| e.unwrap_or_else(|| nothing_expired(now)))
    }

    /// Where it is, with any password masked.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether this ledger answers one call at a time, whatever threads make them (a SQLite
    /// file: one connection). Its calls then cost least made one after another from one
    /// thread, as `juhe-verify`'s async client makes them; a PostgreSQL ledger answers several
    /// at once, on connections of its own.
    pub fn answers_one_call_at_a_time(&self) -> bool {
        self.one_call_at_a_time
    }

    /// Before sending a check: decides, in one transaction, whether to send it (and commits
    /// its pending entry), reuse an earlier answer, wait, or refuse. Any error means: do not
    /// send.
    pub fn begin(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
    ) -> Result<Admission, LedgerError> {
        let now = SystemTime::now();
        let admission = self.store.begin(secret, intent, &self.within_retention(policy), now)?;
        if let Admission::Reuse(_) = admission {
            self.reused.count(secret.account(), intent, now);
        }
        Ok(admission)
    }

    /// The billed, documented answer [`begin`](Self::begin) would reuse for `intent` under
    /// `policy`, read without a write lock and without recording anything; `None` without
    /// reuse or when there is none. For a caller that must know before it spends something
    /// else on the check (a batch's place in the key's pace). An answer found counts as
    /// reused in reports ([`Counts::reused`]), as one from [`begin`](Self::begin) does: call
    /// it when the answer found will be used.
    pub fn reusable(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
    ) -> Result<Option<Recorded>, LedgerError> {
        let now = SystemTime::now();
        let found = self.store.reusable(secret, intent, &self.within_retention(policy), now)?;
        if found.is_some() {
            self.reused.count(secret.account(), intent, now);
        }
        Ok(found)
    }

    /// After the answer: records the outcome of a pending entry. An entry already settled is
    /// left as it was. When this fails the entry stays pending, which reports and budgets
    /// count as maybe billed: the safe side.
    pub fn finish(&self, entry: EntryId, settlement: &Settlement) -> Result<(), LedgerError> {
        self.store.finish(entry, settlement, SystemTime::now())
    }

    /// Records a reconciliation: an unanswered entry (maybe billed, or pending after its
    /// process died) was found in Juhe's order records ([`Reconciliation::Billed`]) or not
    /// ([`Reconciliation::NotBilled`]). Billed counts as billed in reports and budgets but is
    /// never reused (its answer is unknown); not billed frees its question and gives its share
    /// of the budget back. The record keeps when, by whom and from which state
    /// ([`Entry::settled`]).
    ///
    /// Refused, changing nothing: an entry that does not exist ([`LedgerError::NoEntry`]), one
    /// with an answer ([`LedgerError::Answered`]), and one whose process is alive
    /// ([`LedgerError::InFlight`]: its answer is still coming).
    pub fn settle(&self, entry: EntryId, how: &Reconciliation, by: &Settler) -> Result<Settled, LedgerError> {
        self.store.settle(entry, how, by, SystemTime::now())
    }

    /// Entries sent with no answer recorded, oldest first: pending (a process died, or the
    /// check is in flight) and maybe billed (timed out). What to reconcile against Juhe's
    /// order records.
    pub fn unanswered(&self) -> Result<Vec<Entry>, LedgerError> {
        let mut entries = Vec::new();
        self.store.visit(Selection::Unanswered, &mut |e| {
            entries.push(e);
            true
        })?;
        Ok(entries)
    }

    /// Visits the entries sent in `span`, oldest first, while `visit` returns `true`: an
    /// export streams through here without holding the ledger in memory.
    pub fn entries(&self, span: Span, visit: &mut dyn FnMut(Entry) -> bool) -> Result<(), LedgerError> {
        self.store.visit(Selection::In(span), visit)
    }

    /// Billed, maybe billed (pending included) and not billed counts in `span`, and the
    /// checks answered from the ledger instead ([`Counts::reused`]).
    pub fn report(&self, span: Span, by: Grouping) -> Result<Report, LedgerError> {
        // This process's own reuse counts first, so they are in the report.
        self.reused.flush();
        self.store.report(span, by)
    }

    /// Deletes the entries sent before `before`, for retention rules; how many went.
    pub fn prune(&self, before: SystemTime) -> Result<u64, LedgerError> {
        self.store.prune(before)
    }

    /// How many entries [`prune`](Self::prune) would delete now, deleting nothing.
    pub fn count_before(&self, before: SystemTime) -> Result<u64, LedgerError> {
        self.store.count_before(before)
    }

    /// Every key a gateway issued to a team on this ledger, revoked ones too, oldest first.
    pub fn team_keys(&self) -> Result<Vec<TeamKey>, LedgerError> {
        self.store.team_keys()
    }

    /// Issues, rotates or revokes a team's key, and records in the same transaction that
    /// `by` (an operating-system user) did it. A team has at most one live key.
    pub fn change_team_keys(&self, change: &KeyChange, by: &str) -> Result<(), LedgerError> {
        self.store.change_team_keys(change, by, SystemTime::now())
    }

    /// What admins did to the team keys, oldest first.
    pub fn admin_actions(&self) -> Result<Vec<AdminAction>, LedgerError> {
        self.store.admin_actions()
    }

    /// A number that changes whenever the team keys do: a gateway reads it before trusting
    /// the keys it holds in memory, so a revoked key is refused at once on every replica.
    pub fn team_keys_generation(&self) -> Result<i64, LedgerError> {
        self.store.team_keys_generation()
    }

    /// Forgets a person: the personal fields (masked form, result fields, subject hash) of the
    /// entries of `secret`'s account about the people `fields` describe are removed, for every
    /// product whose parameters `fields` all give (a name and ID card number find idcard checks;
    /// with a mobile, telecom2 and telecom3 ones too; with a photo, face ones), under the
    /// secret and its previous one while kept. The billing facts stay (time, product, mode,
    /// state, code, order number), unlinkable to anyone; the entries are no longer reusable.
    /// SQLite's old values are zeroed in the file and its log.
    pub fn forget(
        &self,
        secret: &LedgerSecret,
        fields: &PersonalFields,
        today: CivilDate,
    ) -> Result<Forgotten, LedgerError> {
        self.forget_people(secret, std::slice::from_ref(fields), today)
    }

    /// [`forget`](Self::forget) for many people at once (a list of erasure requests): one
    /// pass over the ledger (one rebuild of a SQLite file) and one receipt. `products` then
    /// holds every product looked for.
    pub fn forget_people(
        &self,
        secret: &LedgerSecret,
        people: &[PersonalFields],
        today: CivilDate,
    ) -> Result<Forgotten, LedgerError> {
        let mut subjects = Vec::new();
        let mut products = Vec::new();
        for fields in people {
            for product in Product::ALL {
                let given = product.params().iter().all(|p| !fields.get(*p).is_empty());
                if let (true, Ok(check)) = (given, AnyCheck::parse(product, fields, today)) {
                    let keys =
                        std::iter::once(secret).chain(secret.previous()).map(LedgerSecret::subject_key);
                    subjects.extend(keys.map(|key| Subject::of(&check, key)));
                    if !products.contains(&product) {
                        products.push(product);
                    }
                }
            }
        }
        let entries = self.store.forget(secret.account(), &subjects)?;
        let names: Vec<&str> = products.iter().map(|p| p.name()).collect();
        let people_text =
            if people.len() == 1 { String::new() } else { format!(" of {} people", people.len()) };
        let receipt = AdminAction {
            id: 0,
            // To the millisecond, as the log keeps it.
            at: calendar::from_unix_ms(calendar::unix_ms(SystemTime::now())),
            by: Actor::current().user.clone(),
            action: "forget".into(),
            team: String::new(),
            detail: format!("{entries} entries{people_text} of {}", names.join(", ")),
        };
        self.store.log_action(&receipt)?;
        Ok(Forgotten { entries, products, at: receipt.at })
    }

    /// The secret versions the ledger's linkable entries are hashed under, oldest first: how
    /// many entries each, and the first and last check. A version no longer configured can
    /// never be linked to a person again; one whose entries are all gone may be destroyed.
    pub fn secret_versions(&self) -> Result<Vec<SecretVersion>, LedgerError> {
        self.store.secret_versions()
    }

    /// Takes a start in the key's pace: the schedule of the account `secret` names and of
    /// `target`, shared by every process on this ledger. A live check gets the next free start
    /// if it comes within its bound; a batch's check only a near one, so live checks go first
    /// (see [`Start`]). Without a refusal or a cap, past 5,000 checks a second, starts are not
    /// paced (and the row is not written).
    pub fn take_start(
        &self,
        secret: &LedgerSecret,
        target: &str,
        request: &StartRequest,
    ) -> Result<Start, LedgerError> {
        self.store.take_start(secret.account(), target, request, SystemTime::now())
    }

    /// Juhe refused a check for the rate (10011, 10012, HTTP 429): the key's limit becomes what
    /// went through in the last second, counted from this ledger's answers (every process's),
    /// once a second at most; starts wait until the key's window frees. `cap` is the asker's
    /// cap, if any (a cap below one a second is its floor).
    pub fn rate_limited(
        &self,
        secret: &LedgerSecret,
        target: &str,
        cap: Option<f64>,
    ) -> Result<(), LedgerError> {
        self.store.rate_limited(secret.account(), target, cap, SystemTime::now())
    }

    /// The rate the key's starts are held to under `cap`, checks per second; `None` when they
    /// are not paced.
    pub fn pace_rate(
        &self,
        secret: &LedgerSecret,
        target: &str,
        cap: Option<f64>,
    ) -> Result<Option<f64>, LedgerError> {
        self.store.pace_rate(secret.account(), target, cap, SystemTime::now())
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("location", &self.location).finish_non_exhaustive()
    }
}

/// The README's example (crates.io's page), compiled and run as a doc test so it stays true.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;

/// What [`Ledger::forget`] did, with no personal data: a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Forgotten {
    /// How many entries lost their personal fields.
    pub entries: u64,
    /// The products whose checks of the person were looked for.
    pub products: Vec<Product>,
    /// When, as the receipt in the admin log says (`juhe ledger audit`).
    pub at: SystemTime,
}

/// The entries hashed under one secret version ([`Ledger::secret_versions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecretVersion {
    /// The version ([`LedgerSecret::version`]); empty for entries written before versions
    /// were recorded.
    pub version: String,
    /// How many entries still hold a subject hashed under it.
    pub entries: u64,
    /// When the first of them was sent.
    pub first: SystemTime,
    /// When the last of them was sent.
    pub last: SystemTime,
}

/// A pass that found nothing to do.
fn nothing_expired(now: SystemTime) -> Expiry {
    Expiry { cleared: 0, deleted: 0, personal_before: now, billing_before: now }
}
