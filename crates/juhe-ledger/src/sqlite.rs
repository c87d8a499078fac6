//! The SQLite backend: one file, shared by the processes of one machine.
//!
//! Durability: WAL with `synchronous = NORMAL`. A committed entry survives the death of any
//! process (SIGKILL included), because it is in the WAL file once the commit returns; an
//! operating-system crash or a power cut may lose the last commits before the next
//! checkpoint. `Ledger::open_sqlite_durable` uses `synchronous = FULL`, which survives those
//! too at the cost of an fsync per commit.
//!
//! Concurrency: every decision runs in a `BEGIN IMMEDIATE` transaction, which holds the
//! file's write lock, so the processes on one file decide one at a time. A process waits up to
//! [`LOCK_WAIT`] for the lock, then fails closed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::admission::{Admission, BeginTx, Earlier, NewRow, Policy, admit, holders, reusable, sender_alive};
use crate::calendar::{from_unix_ms, periods, unix_ms};
use crate::checkpointer::Checkpointer;
use crate::owner::{self, files};
use crate::pace::{self, KeyPace, PaceRows, Passed, Start, StartRequest, started_since};
use crate::record::{
    Actor, Entry, EntryId, Intent, Reconciliation, Recorded, Settled, Settlement, Settler, State, may_settle,
    verdict_name,
};
use crate::report::{Grouping, Report, ReuseTally, SANDBOX_TARGET, Span, TALLY_OWNER, Tally};
use crate::retention::{Expiry, Pass, Retention, china_day, expired_detail, pass_due, retention_detail};
use crate::reuse_counts::ReuseKey;
use crate::schema::{
    EARLIER_COLUMNS, EARLIER_LIMIT, ENTRY_COLUMNS, FORGOTTEN_SUBJECT, MIGRATIONS, PaceSql,
    SQLITE_APPLICATION_ID, VERSION,
};
use crate::schema::{RETAIN_BILLING, RETAIN_PERSONAL, RETENTION_APPLIED_AT, RetentionSql};
use crate::team_keys::{AdminAction, KeyChange, KeysTx, NewTeamKey, TeamKey, apply};
use juhe_proto::Subject;

use crate::store::{Selection, Store};
use crate::{LedgerError, LedgerSecret};

use crate::LOCK_WAIT;

/// The SQLite backend.
pub(crate) struct SqliteStore {
    connection: Mutex<Connection>,
    location: String,
    /// This handle's owner token, held by a locked file in `owners` while it lives.
    owner: i64,
    owners: PathBuf,
    _held: files::Held,
    /// Copies the log back into the database off the commit path, and says when to restart it.
    checkpointer: Option<Checkpointer>,
}

impl SqliteStore {
    /// The retention periods stored, or the defaults.
    fn read_retention(&self, connection: &Connection) -> Result<Retention, LedgerError> {
        let read = |name: &str| -> Result<Option<Duration>, LedgerError> {
            let value: Option<String> = connection
                .query_row(&RETENTION_SQL.read, params![name], |r| r.get(0))
                .optional()
                .map_err(|e| self.error(e))?;
            Ok(value.and_then(|v| v.parse::<u64>().ok()).map(Duration::from_millis))
        };
        let default = Retention::default();
        Ok(Retention {
            personal: read(RETAIN_PERSONAL)?.unwrap_or(default.personal),
            billing: read(RETAIN_BILLING)?.unwrap_or(default.billing),
        })
    }

    /// Whether no retention pass ran in the last day.
    fn due(&self, connection: &Connection, now: SystemTime) -> Result<bool, LedgerError> {
        let applied: Option<String> = connection
            .query_row(&RETENTION_SQL.read, params![RETENTION_APPLIED_AT], |r| r.get(0))
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(pass_due(applied.as_deref(), now))
    }

    /// A pass in one transaction: counts, or clears and deletes and records when.
    fn expire_on(
        &self,
        connection: &mut Connection,
        pass: Pass,
        now: SystemTime,
    ) -> Result<Option<Expiry>, LedgerError> {
        let behavior =
            if pass == Pass::DryRun { TransactionBehavior::Deferred } else { TransactionBehavior::Immediate };
        let tx = connection.transaction_with_behavior(behavior).map_err(|e| self.error(e))?;
        // Another process may have run it while this one waited.
        if pass == Pass::IfDue && !self.due(&tx, now)? {
            return Ok(None);
        }
        let retention = self.read_retention(&tx)?;
        let (personal, billing) = retention.cuts(now);
        let forgotten = &FORGOTTEN_SUBJECT[..];
        let count = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<u64, LedgerError> {
            let n: i64 = tx.query_row(sql, args, |r| r.get(0)).map_err(|e| self.error(e))?;
            Ok(n.unsigned_abs())
        };
        let (cleared, deleted) = if pass == Pass::DryRun {
            (
                count(&RETENTION_SQL.count_clear, &[&personal, &billing, &forgotten])?,
                count(&RETENTION_SQL.count_delete, &[&billing])?,
            )
        } else {
            let cleared = tx
                .execute(&RETENTION_SQL.clear, params![personal, billing, forgotten])
                .map_err(|e| self.error(e))? as u64;
            let deleted =
                tx.execute(&RETENTION_SQL.delete, params![billing]).map_err(|e| self.error(e))? as u64;
            tx.execute(&RETENTION_SQL.delete_reuse, params![china_day(billing)])
                .map_err(|e| self.error(e))?;
            tx.execute(&RETENTION_SQL.write, params![RETENTION_APPLIED_AT, unix_ms(now).to_string()])
                .map_err(|e| self.error(e))?;
            if cleared + deleted > 0 {
                tx.execute(
                    "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES (?1, ?2, 'expire', '', ?3)",
                    params![unix_ms(now), Actor::current().user, expired_detail(cleared, deleted)],
                )
                .map_err(|e| self.error(e))?;
            }
            (cleared, deleted)
        };
        tx.commit().map_err(|e| self.error(e))?;
        Ok(Some(Expiry {
            cleared,
            deleted,
            personal_before: from_unix_ms(personal),
            billing_before: from_unix_ms(billing),
        }))
    }

    /// The answers reused in `span`, grouped as the report asks.
    fn reuse_tally(
        &self,
        connection: &Connection,
        span: Span,
        by: Grouping,
    ) -> Result<Vec<ReuseTally>, LedgerError> {
        let key = match by {
            Grouping::Total => "''",
            Grouping::Day => "CAST(day AS TEXT)",
            Grouping::Product => "product",
            Grouping::Mode => "mode",
            Grouping::Team => "team",
        };
        let (from, to) = span.days();
        let sql = format!(
            "SELECT {key}, account, target = ?3, product, sum(count) FROM juhe_ledger_reuse \
             WHERE day >= ?1 AND day < ?2 GROUP BY 1, 2, 3, 4"
        );
        let mut statement = connection.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![from, to, SANDBOX_TARGET], |r| {
                let count: i64 = r.get(4)?;
                Ok(ReuseTally {
                    key: r.get(0)?,
                    account: r.get(1)?,
                    sandbox: r.get(2)?,
                    product: r.get(3)?,
                    count: count.unsigned_abs(),
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.error(e))
    }

    /// Opens the ledger at `path`, creating it (mode 0600, in a directory made 0700) when it
    /// does not exist. An existing file is read before anything is written: a file that is
    /// not a juhe ledger, or of a newer schema, is refused and left as it is.
    pub(crate) fn open(path: &Path, durable: bool) -> Result<Self, LedgerError> {
        let location = format!("sqlite://{}", path.display());
        let unreachable = |source: std::io::Error| LedgerError::Unreachable {
            location: location.clone(),
            source: source.into(),
        };
        prepare_file(path).map_err(unreachable)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)
            .map_err(|e| LedgerError::Unreachable { location: location.clone(), source: e.into() })?;
        let owner = owner::new_token();
        let owners = files::directory(path);
        let held = files::hold(&owners, owner).map_err(unreachable)?;
        let mut store = Self {
            connection: Mutex::new(connection),
            location,
            owner,
            owners,
            _held: held,
            checkpointer: None,
        };
        store.check_and_migrate(durable)?;
        // What a row held before an update or a delete is overwritten, not left in free
        // space: cleared personal fields (retention, forget) leave no copy in the file.
        store.lock().pragma_update(None, "secure_delete", "ON").map_err(|e| store.error(e))?;
        if let Some(checkpointer) = Checkpointer::start(path) {
            store.lock().pragma_update(None, "wal_autocheckpoint", 0).map_err(|e| store.error(e))?;
            store.checkpointer = Some(checkpointer);
        }
        Ok(store)
    }

    /// Whether the process holding `owner` is alive; a lock file that cannot be read counts
    /// as alive (the check is then waited for until its deadline, the safe side).
    fn alive(&self, owner: i64) -> bool {
        files::alive(&self.owners, owner).unwrap_or(true)
    }

    /// Whether a pending entry's sender is alive, asking each owner once per `known`.
    fn sender_alive(
        &self,
        owner: Option<i64>,
        deadline_at: i64,
        now: i64,
        known: &mut HashMap<i64, bool>,
    ) -> bool {
        sender_alive(owner, deadline_at, now, self.owner, &mut |o| {
            Ok(*known.entry(o).or_insert_with(|| self.alive(o)))
        })
        .unwrap_or(true)
    }

    /// [`Store::forget`]'s update, in one transaction.
    fn forget_in(
        &self,
        connection: &mut Connection,
        account: &str,
        subjects: &[Subject],
    ) -> Result<u64, LedgerError> {
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        let mut forgotten = 0;
        for subject in subjects {
            forgotten += tx
                .execute(
                    "UPDATE juhe_ledger_entries SET masked = '', result = NULL, subject = ?3 \
                     WHERE account = ?1 AND subject = ?2",
                    params![account, &subject.as_bytes()[..], &FORGOTTEN_SUBJECT[..]],
                )
                .map_err(|e| self.error(e))? as u64;
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(forgotten)
    }

    /// Starts the log over when the checkpointer asks (`checkpointer.rs`): the frames written
    /// since its last checkpoint are copied back and the next write begins the log again. A
    /// reader of another process still on the log holds the restart off, never this check:
    /// the checkpointer then waits a while before asking again.
    fn restart_log_if_long(&self, connection: &Connection) {
        let Some(checkpointer) = self.checkpointer.as_ref().filter(|c| c.restart_wanted()) else {
            return;
        };
        if connection.busy_timeout(Duration::ZERO).is_ok() {
            // The first column is 1 when the restart could not be completed.
            let held_off =
                connection.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| row.get::<_, i64>(0));
            if held_off.is_ok_and(|busy| busy != 0) {
                checkpointer.restart_held_off();
            }
        }
        let _ = connection.busy_timeout(LOCK_WAIT);
    }

    /// Copies the log back and empties it: its frames still hold rows as they were before an
    /// expiry or a forget cleared them. Taken in turn with the checkpointer's checkpoints (two
    /// at once make one busy); held off by another process (a reader on an old snapshot, its
    /// checkpoint), it is left to the checkpointer, which tries at each period until done.
    fn empty_log(&self, connection: &Connection) {
        let turn = self.checkpointer.as_ref().map(Checkpointer::turn);
        // The first column is 1 when the checkpoint could not be completed.
        let busy = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0));
        drop(turn);
        if !busy.is_ok_and(|busy| busy == 0)
            && let Some(checkpointer) = &self.checkpointer
        {
            checkpointer.empty_log_later();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no transaction open: rusqlite rolls it back
        // on drop, so the connection is still good.
        self.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the file's identity and version, then sets the journal up and migrates.
    fn check_and_migrate(&self, durable: bool) -> Result<(), LedgerError> {
        let mut connection = self.lock();
        connection.busy_timeout(LOCK_WAIT).map_err(|e| self.error(e))?;
        let version = {
            // One snapshot: another process may be migrating the new file meanwhile.
            let snapshot = connection.transaction().map_err(|e| self.error(e))?;
            self.check_identity(&snapshot)?;
            self.version(&snapshot)?
        };
        self.enter_wal(&connection)?;
        let synchronous = if durable { "FULL" } else { "NORMAL" };
        connection.pragma_update(None, "synchronous", synchronous).map_err(|e| self.error(e))?;
        if version == VERSION {
            // Nothing to migrate: opening takes no write lock, so a report or a check opens
            // the ledger while another process holds a write transaction.
            return Ok(());
        }
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        // Another process may have migrated while this one waited for the lock.
        let version = self.version(&tx)?;
        for migration in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(usize::MAX)) {
            tx.execute_batch(migration.sqlite).map_err(|e| self.error(e))?;
        }
        if version < VERSION {
            tx.pragma_update(None, "application_id", SQLITE_APPLICATION_ID).map_err(|e| self.error(e))?;
            tx.pragma_update(None, "user_version", VERSION).map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Turns the file to WAL (a no-op once it is). When another connection turns the same new
    /// file at the same moment, SQLite refuses at once instead of calling the busy handler
    /// (both hold a read lock, so waiting there could deadlock); this waits as the handler
    /// would, outside any transaction, up to [`LOCK_WAIT`].
    fn enter_wal(&self, connection: &Connection) -> Result<(), LedgerError> {
        let deadline = Instant::now() + LOCK_WAIT;
        let mut pause = Duration::from_millis(1);
        loop {
            match connection
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            {
                Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
                Ok(mode) => {
                    return Err(
                        self.corrupt(format!("it cannot use a write-ahead log (journal mode {mode})"))
                    );
                }
                Err(e)
                    if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(e) => return Err(self.error(e)),
            }
        }
    }

    /// Refuses a file of another program, a damaged one and a newer schema, by reading only.
    fn check_identity(&self, connection: &Connection) -> Result<(), LedgerError> {
        let id: i64 =
            connection.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| self.error(e))?;
        if id == 0 {
            let tables: i64 = connection
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
                .map_err(|e| self.error(e))?;
            if tables > 0 {
                return Err(
                    self.corrupt("it is a SQLite database of another program, not a juhe ledger".into())
                );
            }
        } else if id != SQLITE_APPLICATION_ID {
            return Err(
                self.corrupt(format!("it is a SQLite database of another program (application id {id:#x})"))
            );
        }
        self.version(connection).map(|_| ())
    }

    fn version(&self, connection: &Connection) -> Result<i64, LedgerError> {
        let found: i64 =
            connection.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| self.error(e))?;
        if found > VERSION {
            return Err(LedgerError::NewerSchema {
                location: self.location.clone(),
                found,
                supported: VERSION,
            });
        }
        Ok(found)
    }

    /// Gives an entry's share of its day's and month's budget back.
    fn give_back(
        &self,
        tx: &rusqlite::Transaction<'_>,
        account: &str,
        team: Option<&str>,
        started_at: i64,
    ) -> Result<(), LedgerError> {
        for (holder, period) in
            holders(account, team).iter().flat_map(|h| periods(started_at).map(|p| (h, p)))
        {
            tx.prepare_cached(
                "UPDATE juhe_ledger_spend SET spent = spent - 1 WHERE account = ?1 AND period = ?2 AND spent > 0",
            )
            .and_then(|mut s| s.execute(params![holder, period]))
            .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    fn corrupt(&self, detail: String) -> LedgerError {
        LedgerError::Corrupt { location: self.location.clone(), detail }
    }

    /// SQLite's error, typed: a damaged file, a lock held too long, anything else.
    fn error(&self, error: rusqlite::Error) -> LedgerError {
        let location = self.location.clone();
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => self.corrupt("it is not a SQLite database".into()),
            Some(ErrorCode::DatabaseCorrupt) => self.corrupt(format!("it is damaged ({error})")),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                LedgerError::Locked { location, waited: LOCK_WAIT }
            }
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
                LedgerError::Unreachable { location, source: error.into() }
            }
            _ => LedgerError::Database { location, source: error.into() },
        }
    }
}

/// Creates a missing ledger file privately; refuses an existing path that is not a regular
/// file (a FIFO would hang SQLite, a device would be overwritten).
fn prepare_file(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "it is not a regular file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private(path),
        Err(e) => Err(e),
    }
}

fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut dirs = std::fs::DirBuilder::new();
    dirs.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        options.mode(0o600);
        dirs.mode(0o700);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        dirs.create(parent)?;
    }
    match options.open(path) {
        // Another process created it first: theirs is as good.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// The key-change transaction's statements.
struct KeysOn<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    store: &'t SqliteStore,
}

impl KeysTx for KeysOn<'_> {
    fn live_keys(&mut self, team: &str) -> Result<u64, LedgerError> {
        let n: i64 = self
            .tx
            .query_row(
                "SELECT count(*) FROM juhe_ledger_team_keys WHERE team = ?1 AND revoked_at IS NULL",
                params![team],
                |r| r.get(0),
            )
            .map_err(|e| self.store.error(e))?;
        Ok(n.unsigned_abs())
    }

    fn revoke(&mut self, team: &str, at_ms: i64) -> Result<u64, LedgerError> {
        let n = self
            .tx
            .execute(
                "UPDATE juhe_ledger_team_keys SET revoked_at = ?2 WHERE team = ?1 AND revoked_at IS NULL",
                params![team, at_ms],
            )
            .map_err(|e| self.store.error(e))?;
        Ok(n as u64)
    }

    fn insert(&mut self, key: &NewTeamKey, at_ms: i64) -> Result<(), LedgerError> {
        self.tx
            .execute(
                "INSERT INTO juhe_ledger_team_keys (team, key_hash, sealed, rules, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.team, &key.key_hash[..], key.sealed, key.rules, at_ms],
            )
            .map(drop)
            .map_err(|e| self.store.error(e))
    }

    fn log(&mut self, at_ms: i64, by: &str, action: &str, team: &str) -> Result<(), LedgerError> {
        self.tx
            .execute(
                "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES (?1, ?2, ?3, ?4, '')",
                params![at_ms, by, action, team],
            )
            .map(drop)
            .map_err(|e| self.store.error(e))
    }
}

/// The begin transaction's statements.
struct Begin<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    store: &'t SqliteStore,
}

impl BeginTx for Begin<'_> {
    fn lock_subject(&mut self, _subject: &[u8; 32]) -> Result<(), LedgerError> {
        Ok(()) // BEGIN IMMEDIATE holds the whole file's write lock.
    }

    fn earlier(&mut self, row: &NewRow<'_>, since: i64) -> Result<Vec<Earlier>, LedgerError> {
        let sql = format!(
            "SELECT {EARLIER_COLUMNS} FROM juhe_ledger_entries \
             WHERE (subject = ?1 OR subject = ?10) AND product = ?2 AND target = ?3 AND started_at >= ?4 \
             AND account = ?5 AND state <> 'not_billed' AND (NOT ?6 OR team IS ?7) AND (?8 OR purpose IS ?9) \
             ORDER BY started_at DESC, id DESC LIMIT {EARLIER_LIMIT}"
        );
        let mut statement = self.tx.prepare_cached(&sql).map_err(|e| self.store.error(e))?;
        let rows = statement
            .query_map(
                params![
                    &row.subject[..],
                    row.product,
                    row.target,
                    since,
                    row.account,
                    row.apart,
                    row.team,
                    row.across_purposes,
                    row.purpose,
                    &row.previous_subject.unwrap_or(row.subject)[..]
                ],
                |r| {
                    Ok(Earlier {
                        id: r.get(0)?,
                        state: State::parse(&r.get::<_, String>(1)?).unwrap_or(State::MaybeBilled),
                        started_at: r.get(2)?,
                        deadline_at: r.get(3)?,
                        verdict: r.get(4)?,
                        order_id: r.get(5)?,
                        reason: r.get(6)?,
                        result: r.get(7)?,
                        owner: r.get(8)?,
                        alive: false,
                    })
                },
            )
            .map_err(|e| self.store.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.store.error(e))
    }

    fn spend(&mut self, account: &str, period: &str, cap: Option<u64>) -> Result<bool, LedgerError> {
        let cap = cap.map_or(i64::MAX, |c| i64::try_from(c).unwrap_or(i64::MAX));
        if cap == 0 {
            return Ok(false);
        }
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT INTO juhe_ledger_spend (account, period, spent) VALUES (?1, ?2, 1) \
                 ON CONFLICT (account, period) DO UPDATE SET spent = juhe_ledger_spend.spent + 1 \
                 WHERE juhe_ledger_spend.spent < ?3",
            )
            .map_err(|e| self.store.error(e))?;
        Ok(statement.execute(params![account, period, cap]).map_err(|e| self.store.error(e))? == 1)
    }

    fn insert(&mut self, row: &NewRow<'_>) -> Result<i64, LedgerError> {
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT INTO juhe_ledger_entries \
                 (account, subject, product, mode, target, masked, started_at, deadline_at, state, owner, \
                 team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )
            .map_err(|e| self.store.error(e))?;
        statement
            .execute(params![
                row.account,
                &row.subject[..],
                row.product,
                row.mode,
                row.target,
                row.masked,
                row.started_at,
                row.deadline_at,
                row.owner,
                row.team,
                row.purpose,
                row.consent_ref,
                row.actor.user,
                row.actor.host,
                row.actor.pid,
                row.secret_version
            ])
            .map_err(|e| self.store.error(e))?;
        Ok(self.tx.last_insert_rowid())
    }

    fn owner(&self) -> i64 {
        self.store.owner
    }

    fn alive(&mut self, owner: i64) -> Result<bool, LedgerError> {
        Ok(self.store.alive(owner))
    }
}

impl Store for SqliteStore {
    fn begin(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
        now: SystemTime,
    ) -> Result<Admission, LedgerError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        let admission = admit(&mut Begin { tx: &tx, store: self }, secret, intent, policy, now)?;
        if matches!(admission, Admission::Send(_)) {
            tx.commit().map_err(|e| self.error(e))?;
        }
        Ok(admission)
    }

    fn reusable(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
        now: SystemTime,
    ) -> Result<Option<Recorded>, LedgerError> {
        let mut connection = self.lock();
        // A deferred transaction that only reads: WAL lets it through any writer.
        let tx = connection.transaction().map_err(|e| self.error(e))?;
        reusable(&mut Begin { tx: &tx, store: self }, secret, intent, policy, now)
    }

    fn finish(&self, entry: EntryId, settlement: &Settlement, now: SystemTime) -> Result<(), LedgerError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        let result = settlement.result.as_ref().map(|r| serde_json::Value::Object(r.clone()).to_string());
        let settled: Option<(String, i64, Option<String>)> = tx
            .prepare_cached(
                "UPDATE juhe_ledger_entries SET state = ?2, finished_at = ?3, error_code = ?4, verdict = ?5, \
                 order_id = ?6, attempts = ?7, reason = ?8, result = ?9 \
                 WHERE id = ?1 AND state = 'pending' RETURNING account, started_at, team",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        entry.0,
                        settlement.state.as_str(),
                        unix_ms(now),
                        settlement.error_code,
                        settlement.verdict.map(verdict_name),
                        settlement.order_id,
                        settlement.attempts,
                        settlement.reason,
                        result
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
            })
            .map_err(|e| self.error(e))?;
        if let (Some((account, started_at, team)), false) = (settled, settlement.state.may_cost()) {
            self.give_back(&tx, &account, team.as_deref(), started_at)?;
        }
        tx.commit().map_err(|e| self.error(e))?;
        self.restart_log_if_long(&connection);
        Ok(())
    }

    fn settle(
        &self,
        entry: EntryId,
        how: &Reconciliation,
        by: &Settler,
        now: SystemTime,
    ) -> Result<Settled, LedgerError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        type Found = (String, String, i64, i64, Option<i64>, Option<String>);
        let found: Option<Found> = tx
            .query_row(
                "SELECT state, account, started_at, deadline_at, owner, team FROM juhe_ledger_entries WHERE id = ?1",
                params![entry.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        let Some((state, account, started_at, deadline_at, owner, team)) = found else {
            return Err(LedgerError::NoEntry { location: self.location.clone(), entry: entry.0 });
        };
        let from = State::parse(&state).unwrap_or(State::MaybeBilled);
        let now_ms = unix_ms(now);
        let alive = self.sender_alive(owner, deadline_at, now_ms, &mut HashMap::new());
        may_settle(from, alive).map_err(|refusal| refusal.error(&self.location, entry))?;
        let order_id = match how {
            Reconciliation::Billed { order_id } => order_id.as_deref(),
            Reconciliation::NotBilled => None,
        };
        let settled_by = by.stored();
        tx.execute(
            "UPDATE juhe_ledger_entries SET state = ?2, order_id = coalesce(?3, order_id), \
             finished_at = coalesce(finished_at, ?4), settled_at = ?4, settled_by = ?5, settled_from = ?6 \
             WHERE id = ?1",
            params![entry.0, how.state().as_str(), order_id, now_ms, settled_by, from.as_str()],
        )
        .map_err(|e| self.error(e))?;
        if !how.state().may_cost() {
            self.give_back(&tx, &account, team.as_deref(), started_at)?;
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(Settled { at: from_unix_ms(now_ms), by: settled_by, from })
    }

    fn visit(&self, selection: Selection, visit: &mut dyn FnMut(Entry) -> bool) -> Result<(), LedgerError> {
        let connection = self.lock();
        let (from, to) = match selection {
            Selection::Unanswered => (i64::MIN, i64::MAX),
            Selection::In(span) => span.millis(),
        };
        let unanswered = matches!(selection, Selection::Unanswered);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM juhe_ledger_entries \
             WHERE started_at >= ?1 AND started_at < ?2 AND (NOT ?3 OR state IN ('pending', 'maybe_billed')) \
             ORDER BY id"
        );
        let mut statement = connection.prepare(&sql).map_err(|e| self.error(e))?;
        let mut rows = statement.query(params![from, to, unanswered]).map_err(|e| self.error(e))?;
        let (now, mut known) = (unix_ms(SystemTime::now()), HashMap::new());
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let (mut entry, owner, deadline_at) = entry_of(row).map_err(|e| self.error(e))?;
            entry.in_flight =
                entry.state == State::Pending && self.sender_alive(owner, deadline_at, now, &mut known);
            if !visit(entry) {
                break;
            }
        }
        Ok(())
    }

    fn report(&self, span: Span, by: Grouping) -> Result<Report, LedgerError> {
        let key = match by {
            Grouping::Total => "''",
            Grouping::Day => "CAST((started_at + 28800000) / 86400000 AS TEXT)",
            Grouping::Product => "product",
            Grouping::Mode => "mode",
            Grouping::Team => "coalesce(team, '')",
        };
        let (from, to) = span.millis();
        let connection = self.lock();
        let sql = format!(
            "SELECT {key}, account, target = ?3, state, {TALLY_OWNER}, max(deadline_at), count(*), count(settled_at), \
             product FROM juhe_ledger_entries WHERE started_at >= ?1 AND started_at < ?2 GROUP BY 1, 2, 3, 4, 5, 9"
        );
        let mut statement = connection.prepare(&sql).map_err(|e| self.error(e))?;
        type Row = ((String, String, bool, String), Option<i64>, i64, i64, i64, String);
        let rows = statement
            .query_map(params![from, to, SANDBOX_TARGET], |r| -> rusqlite::Result<Row> {
                let group = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok((group, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
            })
            .map_err(|e| self.error(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))?;
        let (now, mut known) = (unix_ms(SystemTime::now()), HashMap::new());
        let tally = rows.into_iter().filter_map(
            |((key, account, sandbox, state), owner, deadline_at, n, settled, product)| {
                let state = State::parse(&state)?;
                let in_flight =
                    state == State::Pending && self.sender_alive(owner, deadline_at, now, &mut known);
                let (count, settled) = (n.unsigned_abs(), settled.unsigned_abs());
                Some(Tally { key, product, account, sandbox, state, in_flight, count, settled })
            },
        );
        let tally = tally.collect::<Vec<_>>();
        let reused = self.reuse_tally(&connection, span, by)?;
        Ok(Report::from_tally(by, tally, reused))
    }

    fn retention(&self) -> Result<Retention, LedgerError> {
        let connection = self.lock();
        self.read_retention(&connection)
    }

    fn set_retention(&self, retention: &Retention, by: &str, now: SystemTime) -> Result<(), LedgerError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        for (name, period) in [(RETAIN_PERSONAL, retention.personal), (RETAIN_BILLING, retention.billing)] {
            let ms = period.as_millis().to_string();
            tx.execute(&RETENTION_SQL.write, params![name, ms]).map_err(|e| self.error(e))?;
        }
        let detail = retention_detail(retention);
        tx.execute(
            "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES (?1, ?2, 'retention', '', ?3)",
            params![unix_ms(now), by, detail],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))
    }

    fn expire(&self, pass: Pass, now: SystemTime) -> Result<Option<Expiry>, LedgerError> {
        let mut connection = self.lock();
        if pass == Pass::IfDue {
            // The common case, read without a write lock: a pass ran in the last day.
            if !self.due(&connection, now)? {
                return Ok(None);
            }
            // Due: try once, never waiting for the ledger (a check must not wait for this).
            connection.busy_timeout(Duration::ZERO).map_err(|e| self.error(e))?;
        }
        let expiry = self.expire_on(&mut connection, pass, now);
        if pass == Pass::IfDue {
            connection.busy_timeout(LOCK_WAIT).map_err(|e| self.error(e))?;
        }
        let expiry = match expiry {
            Err(LedgerError::Locked { .. }) if pass == Pass::IfDue => return Ok(None),
            other => other?,
        };
        if expiry.is_some_and(|e| pass != Pass::DryRun && e.cleared + e.deleted > 0) {
            self.empty_log(&connection);
        }
        Ok(expiry)
    }

    fn secret_versions(&self) -> Result<Vec<crate::SecretVersion>, LedgerError> {
        let connection = self.lock();
        let mut statement =
            connection.prepare(&crate::schema::secret_versions_sql('?')).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![&FORGOTTEN_SUBJECT[..]], |r| {
                let entries: i64 = r.get(1)?;
                Ok(crate::SecretVersion {
                    version: r.get(0)?,
                    entries: entries.unsigned_abs(),
                    first: from_unix_ms(r.get(2)?),
                    last: from_unix_ms(r.get(3)?),
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    fn add_reuse(&self, counts: &[(ReuseKey, u64)]) -> Result<(), LedgerError> {
        let mut connection = self.lock();
        let tx = connection.transaction().map_err(|e| self.error(e))?;
        {
            let mut add = tx.prepare_cached(&crate::schema::add_reuse_sql('?')).map_err(|e| self.error(e))?;
            for (k, n) in counts {
                let n = i64::try_from(*n).unwrap_or(i64::MAX);
                add.execute(params![k.account, k.day, k.product, k.mode, k.team, k.target, n])
                    .map_err(|e| self.error(e))?;
            }
        }
        tx.commit().map_err(|e| self.error(e))
    }

    fn prune(&self, before: SystemTime) -> Result<u64, LedgerError> {
        let connection = self.lock();
        let deleted = connection
            .execute("DELETE FROM juhe_ledger_entries WHERE started_at < ?1", params![unix_ms(before)])
            .map_err(|e| self.error(e))?;
        Ok(deleted as u64)
    }

    fn count_before(&self, before: SystemTime) -> Result<u64, LedgerError> {
        let connection = self.lock();
        let count: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM juhe_ledger_entries WHERE started_at < ?1",
                params![unix_ms(before)],
                |r| r.get(0),
            )
            .map_err(|e| self.error(e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn forget(&self, account: &str, subjects: &[Subject]) -> Result<u64, LedgerError> {
        let mut connection = self.lock();
        let forgotten = self.forget_in(&mut connection, account, subjects)?;
        // The old values are still in the file: in the space earlier updates of the same rows
        // freed (a row is rewritten when its check finishes), and in the log's old frames.
        // VACUUM rebuilds the file from the live rows only; the checkpoint then copies the
        // rebuilt pages into it and truncates the log. It rewrites the whole file and holds
        // the write lock meanwhile: other processes' checks wait, or fail closed past
        // LOCK_WAIT (docs/ledger.md, "Forgetting a person").
        connection.execute_batch("VACUUM").map_err(|e| self.error(e))?;
        self.empty_log(&connection);
        Ok(forgotten)
    }

    fn take_start(
        &self,
        account: &str,
        target: &str,
        request: &StartRequest,
        now: SystemTime,
    ) -> Result<Start, LedgerError> {
        let connection = self.lock();
        pace::take_start(
            &mut Pace { connection: &connection, store: self },
            account,
            target,
            request,
            now,
            &self.location,
        )
    }

    fn rate_limited(
        &self,
        account: &str,
        target: &str,
        cap: Option<f64>,
        now: SystemTime,
    ) -> Result<(), LedgerError> {
        let connection = self.lock();
        pace::refused(
            &mut Pace { connection: &connection, store: self },
            account,
            target,
            cap,
            now,
            &self.location,
        )
    }

    fn pace_rate(
        &self,
        account: &str,
        target: &str,
        cap: Option<f64>,
        now: SystemTime,
    ) -> Result<Option<f64>, LedgerError> {
        let connection = self.lock();
        pace::rate(&mut Pace { connection: &connection, store: self }, account, target, cap, now)
    }

    fn team_keys(&self) -> Result<Vec<TeamKey>, LedgerError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare(
                "SELECT id, team, key_hash, sealed, rules, created_at, revoked_at \
                 FROM juhe_ledger_team_keys ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |r| {
                let hash: Vec<u8> = r.get(2)?;
                Ok(TeamKey {
                    id: r.get(0)?,
                    team: r.get(1)?,
                    key_hash: hash.try_into().unwrap_or([0; 32]),
                    sealed: r.get(3)?,
                    rules: r.get(4)?,
                    created_at: from_unix_ms(r.get(5)?),
                    revoked_at: r.get::<_, Option<i64>>(6)?.map(from_unix_ms),
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    fn change_team_keys(&self, change: &KeyChange, by: &str, now: SystemTime) -> Result<(), LedgerError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        apply(&mut KeysOn { tx: &tx, store: self }, change, by, unix_ms(now), &self.location)?;
        tx.commit().map_err(|e| self.error(e))
    }

    fn admin_actions(&self) -> Result<Vec<AdminAction>, LedgerError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT id, at, by_user, action, team, detail FROM juhe_ledger_admin_log ORDER BY id")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |r| {
                Ok(AdminAction {
                    id: r.get(0)?,
                    at: from_unix_ms(r.get(1)?),
                    by: r.get(2)?,
                    action: r.get(3)?,
                    team: r.get(4)?,
                    detail: r.get(5)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    fn log_action(&self, action: &AdminAction) -> Result<(), LedgerError> {
        self.lock()
            .execute(
                "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![unix_ms(action.at), action.by, action.action, action.team, action.detail],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    fn team_keys_generation(&self) -> Result<i64, LedgerError> {
        let connection = self.lock();
        connection
            .prepare_cached("SELECT coalesce(max(id), 0) FROM juhe_ledger_admin_log")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| self.error(e))
    }
}

/// The retention's statements, with this backend's parameter marks.
static RETENTION_SQL: std::sync::LazyLock<RetentionSql> = std::sync::LazyLock::new(|| RetentionSql::new('?'));

/// The pace's statements, with this backend's parameter marks.
static PACE_SQL: std::sync::LazyLock<PaceSql> = std::sync::LazyLock::new(|| PaceSql::new('?'));

/// The pace's row on SQLite: each statement on its own (a read needs no lock in WAL; a store
/// is one conditional write).
struct Pace<'c> {
    connection: &'c Connection,
    store: &'c SqliteStore,
}

impl PaceRows for Pace<'_> {
    fn sent(&mut self, account: &str, target: &str, from_ms: i64, to_ms: i64) -> Result<u64, LedgerError> {
        self.connection
            .prepare_cached(
                "SELECT count(*) FROM juhe_ledger_entries WHERE started_at > ?3 AND started_at <= ?4 \
                 AND account = ?1 AND target = ?2 AND state = 'billed' AND settled_at IS NULL",
            )
            .and_then(|mut s| s.query_row(params![account, target, from_ms, to_ms], |r| r.get::<_, i64>(0)))
            .map(i64::unsigned_abs)
            .map_err(|e| self.store.error(e))
    }

    fn load(&mut self, account: &str, target: &str) -> Result<Option<(KeyPace, i64)>, LedgerError> {
        let sql = &PACE_SQL.select;
        self.connection
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_row(params![account, target], |r| {
                    Ok((
                        KeyPace {
                            next_at: r.get(1)?,
                            rate: r.get(2)?,
                            limit: r.get(3)?,
                            refused_at: r.get(4)?,
                            last_cut: r.get(5)?,
                            remeasure_at: r.get(6)?,
                            touched_at: r.get(7)?,
                            cap: r.get(8)?,
                            cap_seen_at: r.get(9)?,
                            created_at: r.get(10)?,
                            live_at: r.get(11)?,
                        },
                        r.get(0)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| self.store.error(e))
    }

    fn store(
        &mut self,
        account: &str,
        target: &str,
        pace: &KeyPace,
        version: Option<i64>,
    ) -> Result<bool, LedgerError> {
        let sql = if version.is_some() { &PACE_SQL.update } else { &PACE_SQL.insert };
        let changed = self
            .connection
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.execute(params![
                    account,
                    target,
                    version.unwrap_or(0),
                    pace.next_at,
                    pace.rate,
                    pace.limit,
                    pace.refused_at,
                    pace.last_cut,
                    pace.remeasure_at,
                    pace.touched_at,
                    pace.cap,
                    pace.cap_seen_at,
                    pace.created_at,
                    pace.live_at
                ])
            })
            .map_err(|e| self.store.error(e))?;
        Ok(changed == 1)
    }

    fn passed(
        &mut self,
        account: &str,
        target: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Passed, LedgerError> {
        self.connection
            .prepare_cached(
                "SELECT count(*), min(finished_at) FROM juhe_ledger_entries \
                 WHERE started_at >= ?3 AND account = ?1 AND target = ?2 AND state = 'billed' \
                 AND settled_at IS NULL AND finished_at > ?4 AND finished_at <= ?5",
            )
            .and_then(|mut s| {
                s.query_row(params![account, target, started_since(from_ms), from_ms, to_ms], |r| {
                    Ok(Passed { count: r.get::<_, i64>(0)?.unsigned_abs(), oldest_ms: r.get(1)? })
                })
            })
            .map_err(|e| self.store.error(e))
    }
}

/// A row read as an entry, with its owner and deadline (to tell whether it is in flight).
fn entry_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Entry, Option<i64>, i64)> {
    let settled = match (row.get::<_, Option<i64>>(15)?, row.get::<_, Option<String>>(16)?) {
        (Some(at), Some(by)) => Some(Settled {
            at: from_unix_ms(at),
            by,
            from: State::parse(&row.get::<_, Option<String>>(17)?.unwrap_or_default())
                .unwrap_or(State::MaybeBilled),
        }),
        _ => None,
    };
    let entry = Entry {
        id: EntryId(row.get(0)?),
        account: row.get(1)?,
        product: row.get(2)?,
        mode: row.get(3)?,
        target: row.get(4)?,
        masked: row.get(5)?,
        started_at: from_unix_ms(row.get(6)?),
        finished_at: row.get::<_, Option<i64>>(7)?.map(from_unix_ms),
        state: State::parse(&row.get::<_, String>(8)?).unwrap_or(State::MaybeBilled),
        error_code: row.get(9)?,
        verdict: row.get(10)?,
        order_id: row.get(11)?,
        attempts: row.get::<_, Option<i64>>(12)?.and_then(|a| u32::try_from(a).ok()),
        in_flight: false,
        settled,
        team: row.get(18)?,
        purpose: row.get(19)?,
        consent_ref: row.get(20)?,
        actor: match (
            row.get::<_, Option<String>>(21)?,
            row.get::<_, Option<String>>(22)?,
            row.get::<_, Option<u32>>(23)?,
        ) {
            (Some(user), Some(host), Some(pid)) => Some(Actor { user, host, pid }),
            _ => None,
        },
    };
    Ok((entry, row.get(13)?, row.get(14)?))
}
