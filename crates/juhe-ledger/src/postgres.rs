//! The PostgreSQL backend: one ledger for a fleet of machines on one Juhe key.
//!
//! Every decision runs in one transaction. Checks of one subject are serialised by a
//! transaction-scoped advisory lock on the subject (single flight); budgets by a conditional
//! increment of the period's counter row, which PostgreSQL re-checks after any wait for the
//! row's lock. Commits are PostgreSQL's own: durable once they return.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Row, Statement};

use crate::admission::{Admission, BeginTx, Earlier, NewRow, Policy, admit, holders, reusable, sender_alive};
use crate::calendar::{from_unix_ms, periods, unix_ms};
use crate::location::mask_password;
use crate::owner;
use crate::pace::{self, KeyPace, PaceMemory, PaceRows, Passed, Start, StartRequest, started_since};
use crate::record::{
    Actor, Entry, EntryId, Intent, Reconciliation, Recorded, Settled, Settlement, Settler, State, may_settle,
    verdict_name,
};
use crate::report::{Grouping, Report, ReuseTally, SANDBOX_TARGET, Span, TALLY_OWNER, Tally};
use crate::retention::{Expiry, Pass, Retention, china_day, expired_detail, pass_due, retention_detail};
use crate::reuse_counts::ReuseKey;
use crate::schema::{
    EARLIER_COLUMNS, EARLIER_LIMIT, ENTRY_COLUMNS, FORGOTTEN_SUBJECT, MIGRATIONS, PaceSql, VERSION,
};
use crate::schema::{RETAIN_BILLING, RETAIN_PERSONAL, RETENTION_APPLIED_AT, RetentionSql};
use crate::team_keys::{AdminAction, KeyChange, KeysTx, NewTeamKey, TeamKey, apply};
use juhe_proto::Subject;

use crate::store::{Selection, Store};
use crate::{LOCK_WAIT, LedgerError, LedgerSecret};

/// How many connections (and threads holding them) one ledger keeps at most.
const CONNECTIONS: usize = 8;
/// How long connecting may take before the ledger counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long any call waits for its connection's answer, whatever holds it up: a server that
/// accepts and never answers, a frozen server, a lock past the server's own `lock_timeout`.
/// Past it the call fails closed; its connection's thread is left to the server.
const CALL_WAIT: Duration = LOCK_WAIT.saturating_add(Duration::from_secs(5));
/// The server's own limits on each of the ledger's sessions: a lock waited for no longer than
/// [`LOCK_WAIT`], a statement no longer than twice that, a transaction left open no longer
/// than a minute (a process paused mid-transaction holds nobody up for longer).
const SESSION_OPTIONS: &str =
    "-c lock_timeout=10000 -c statement_timeout=20000 -c idle_in_transaction_session_timeout=60000";
/// The pace's session also commits without waiting for the disk: a start booked is not money
/// (a crash loses at most a few bookings, a little pace), and each booking's row lock is then
/// held for the statement alone, not for an fsync, so a fleet books its starts as fast as the
/// server runs them.
const PACE_SESSION_OPTIONS: &str = "-c lock_timeout=10000 -c statement_timeout=20000 \
     -c idle_in_transaction_session_timeout=60000 -c synchronous_commit=off";
/// The advisory lock that serialises migrations: "JUHE" "LDGR".
const MIGRATION_LOCK: i64 = 0x4a55_4845_4c44_4752;

/// A pending entry, as a check's begin inserts it.
const INSERT_ENTRY_SQL: &str = "INSERT INTO juhe_ledger_entries \
     (account, subject, product, mode, target, masked, started_at, deadline_at, state, owner, \
     team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id";
/// [`INSERT_ENTRY_SQL`] with one more on each counter of `$17` (holders) and `$18` (periods),
/// with no cap, in the same statement: a check nothing can refuse.
const COUNT_AND_INSERT_SQL: &str = "WITH counted AS (INSERT INTO juhe_ledger_spend (account, period, spent) \
     SELECT holder, period, 1 FROM unnest($17::TEXT[], $18::TEXT[]) AS c (holder, period) \
     ON CONFLICT (account, period) DO UPDATE SET spent = juhe_ledger_spend.spent + 1) \
     INSERT INTO juhe_ledger_entries \
     (account, subject, product, mode, target, masked, started_at, deadline_at, state, owner, \
     team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id";

/// Calls `run` with the parameters of [`INSERT_ENTRY_SQL`] for `row`, and the counters of
/// [`COUNT_AND_INSERT_SQL`] after them when given.
fn with_entry_params<R>(
    row: &NewRow<'_>,
    counters: Option<(&Vec<&str>, &Vec<&str>)>,
    run: impl FnOnce(&[&(dyn postgres::types::ToSql + Sync)]) -> R,
) -> R {
    let subject: &[u8] = row.subject;
    let pid = i64::from(row.actor.pid);
    let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![
        &row.account,
        &subject,
        &row.product,
        &row.mode,
        &row.target,
        &row.masked,
        &row.started_at,
        &row.deadline_at,
        &row.owner,
        &row.team,
        &row.purpose,
        &row.consent_ref,
        &row.actor.user,
        &row.actor.host,
        &pid,
        &row.secret_version,
    ];
    if let Some((holders, periods)) = counters {
        params.push(holders);
        params.push(periods);
    }
    run(&params)
}

/// A pending entry's outcome, as the finish of a check writes it.
const FINISH_SQL: &str = "UPDATE juhe_ledger_entries SET state = $2, finished_at = $3, error_code = $4, \
     verdict = $5, order_id = $6, attempts = $7, reason = $8, result = $9 \
     WHERE id = $1 AND state = 'pending' RETURNING account, started_at, team";
/// [`FINISH_SQL`] as a transaction of its own that commits without waiting for the disk,
/// for an outcome that gives no budget back.
const FINISH_ALONE_SQL: &str = "UPDATE juhe_ledger_entries SET state = $2, finished_at = $3, error_code = $4, \
     verdict = $5, order_id = $6, attempts = $7, reason = $8, result = $9 \
     WHERE id = $1 AND state = 'pending' AND set_config('synchronous_commit', 'off', true) = 'off'";

/// A unit of work for a connection's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The PostgreSQL backend.
///
/// The `postgres` crate drives each connection with a runtime of its own, which must never
/// run inside another: called, or even dropped, from a thread of the caller's tokio runtime
/// it panics. So every connection lives on a thread of this store, and calls are handed to
/// those threads and waited for. Async and blocking callers alike then reach PostgreSQL the
/// same way, and the threads end, closing their connections, when the store is dropped.
pub(crate) struct PostgresStore {
    jobs: Mutex<Sender<Job>>,
    /// The pace's own connection (see [`PACE_SESSION_OPTIONS`]).
    pace_jobs: Mutex<Sender<Job>>,
    /// The pace rows as this handle last read or wrote them.
    pace_memory: Arc<PaceMemory>,
    location: Arc<str>,
    /// Ends the owner's session (and so its lock) when the store is dropped.
    _owner_session: Sender<()>,
}

/// One thread's connection, made on first use and again after it breaks.
struct Connection {
    config: Arc<Config>,
    client: Option<Client>,
    statements: Statements,
    location: Arc<str>,
    owner: i64,
}

impl Connection {
    fn client(&mut self) -> Result<(&mut Client, &mut Statements), LedgerError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            let client = self.config.connect(NoTls).map_err(|e| unreachable(&self.location, e))?;
            self.client = Some(client);
            self.statements = Statements::default();
        }
        let client = self.client.as_mut().unwrap_or_else(|| unreachable!("connected just above"));
        Ok((client, &mut self.statements))
    }
}

/// A connection's prepared statements, by their SQL: each check's statements are parsed and
/// planned once per connection instead of once per call (a round trip and the server's
/// planning each time).
#[derive(Default)]
struct Statements(HashMap<String, Statement>);

impl Statements {
    fn get(&mut self, tx: &mut postgres::Transaction<'_>, sql: &str) -> Result<Statement, postgres::Error> {
        self.get_generic(tx, sql)
    }

    fn get_generic(
        &mut self,
        client: &mut impl postgres::GenericClient,
        sql: &str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        self.0.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl PostgresStore {
    /// The answers reused in `span`, grouped as the report asks.
    fn reuse_tally(&self, span: Span, by: Grouping) -> Result<Vec<ReuseTally>, LedgerError> {
        let key = match by {
            Grouping::Total => "''",
            Grouping::Day => "day::text",
            Grouping::Product => "product",
            Grouping::Mode => "mode",
            Grouping::Team => "team",
        };
        let (from, to) = span.days();
        let sql = format!(
            "SELECT {key}, account, target = $3, product, sum(count)::BIGINT FROM juhe_ledger_reuse \
             WHERE day >= $1 AND day < $2 GROUP BY 1, 2, 3, 4"
        );
        self.run(move |client, location| {
            let error = |e| database(location, e);
            let mut tally = Vec::new();
            for row in client.query(&sql, &[&from, &to, &SANDBOX_TARGET]).map_err(error)? {
                let count: i64 = row.try_get(4).map_err(error)?;
                tally.push(ReuseTally {
                    key: row.try_get(0).map_err(error)?,
                    account: row.try_get(1).map_err(error)?,
                    sandbox: row.try_get(2).map_err(error)?,
                    product: row.try_get(3).map_err(error)?,
                    count: count.unsigned_abs(),
                });
            }
            Ok(tally)
        })
    }

    /// Connects to `url` and migrates the schema.
    pub(crate) fn connect(url: &str) -> Result<Self, LedgerError> {
        let location: Arc<str> = mask_password(url).into();
        let mut config: Config = url.parse().map_err(|e: postgres::Error| unreachable(&location, e))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("juhe-ledger");
        config.options(SESSION_OPTIONS);
        config.keepalives(true).keepalives_idle(Duration::from_secs(5));
        let owner = owner::new_token();
        let owner_session = hold_owner(config.clone(), owner, location.clone())?;
        let mut pace_config = config.clone();
        pace_config.options(PACE_SESSION_OPTIONS).application_name("juhe-ledger-pace");
        let jobs = connections(&config, CONNECTIONS, "juhe-ledger-pg", owner, &location)?;
        let pace_jobs = connections(&pace_config, 1, "juhe-ledger-pace", owner, &location)?;
        let store = Self {
            jobs: Mutex::new(jobs),
            pace_jobs: Mutex::new(pace_jobs),
            pace_memory: Arc::default(),
            location,
            _owner_session: owner_session,
        };
        store.run(migrate)?;
        Ok(store)
    }

    /// Runs `job` on the pace's connection and waits for its result.
    fn run_pace<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client, &mut Statements, &str) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        self.run_on(&self.pace_jobs, move |client, statements, location, _| job(client, statements, location))
    }

    /// Runs `job` on a connection's thread and waits for its result.
    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client, &str) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        self.run_prepared(move |client, _, location| job(client, location))
    }

    /// [`run`](Self::run), with the connection's prepared statements.
    fn run_prepared<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client, &mut Statements, &str) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        self.run_owned(move |client, statements, location, _| job(client, statements, location))
    }

    /// [`run_prepared`](Self::run_prepared), with this handle's owner token.
    fn run_owned<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client, &mut Statements, &str, i64) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        self.run_on(&self.jobs, job)
    }

    /// Runs `job` on a thread of `jobs` and waits for its result, at most [`CALL_WAIT`].
    fn run_on<T: Send + 'static>(
        &self,
        jobs: &Mutex<Sender<Job>>,
        job: impl FnOnce(&mut Client, &mut Statements, &str, i64) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let work: Job = Box::new(move |connection: &mut Connection| {
            let (location, owner) = (connection.location.clone(), connection.owner);
            let result = connection
                .client()
                .and_then(|(client, statements)| job(client, statements, &location, owner));
            let _ = reply.send(result);
        });
        let sent = jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(work);
        let gone = || LedgerError::Unreachable {
            location: self.location.to_string(),
            source: "the ledger's connection threads have stopped".into(),
        };
        sent.map_err(|_| gone())?;
        match answer.recv_timeout(CALL_WAIT) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(LedgerError::Unreachable {
                location: self.location.to_string(),
                source: format!(
                    "the database did not answer within {CALL_WAIT:?} (stalled, frozen, or a lock held by another session)"
                )
                .into(),
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }
}

/// Starts `count` connection threads on `config`, named `name-N`; the sender of their jobs.
fn connections(
    config: &Config,
    count: usize,
    name: &str,
    owner: i64,
    location: &Arc<str>,
) -> Result<Sender<Job>, LedgerError> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let config = Arc::new(config.clone());
    for n in 0..count {
        let connection = Connection {
            config: config.clone(),
            client: None,
            statements: Statements::default(),
            location: location.clone(),
            owner,
        };
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("{name}-{n}"))
            .spawn(move || serve(&queue, connection))
            .map_err(|e| LedgerError::Unreachable { location: location.to_string(), source: e.into() })?;
    }
    Ok(jobs)
}

/// A connection thread: takes jobs until the store is dropped.
fn serve(queue: &Mutex<Receiver<Job>>, mut connection: Connection) {
    loop {
        let job = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(&mut connection),
            Err(_) => return,
        }
    }
}

/// How often the owner's session checks its connection, and takes its lock again after a
/// reconnection.
const OWNER_CHECK: Duration = Duration::from_secs(1);

/// Holds `owner`'s advisory lock on a session of its own, on a thread of its own, until the
/// returned sender is dropped. Returns once the lock is held: no entry of this owner is ever
/// pending without it. The session's keepalives make the server drop it (and so the lock)
/// within about 4 s of the machine going silent; a process that dies closes its socket at once.
fn hold_owner(mut config: Config, owner: i64, location: Arc<str>) -> Result<Sender<()>, LedgerError> {
    config.keepalives(true).keepalives_idle(Duration::from_secs(2)).application_name("juhe-ledger-owner");
    let named = location.to_string();
    let lock = move |config: &Config| -> Result<Client, LedgerError> {
        let mut client = config.connect(NoTls).map_err(|e| unreachable(&location, e))?;
        client
            .batch_execute(
                "SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 2",
            )
            .map_err(|e| database(&location, e))?;
        client.execute("SELECT pg_advisory_lock($1)", &[&owner]).map_err(|e| database(&location, e))?;
        Ok(client)
    };
    let (stop, stopped) = mpsc::channel::<()>();
    let (locked, first) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("juhe-ledger-owner".into())
        .spawn(move || {
            let mut client = match lock(&config) {
                Ok(client) => {
                    let _ = locked.send(Ok(()));
                    client
                }
                Err(error) => {
                    let _ = locked.send(Err(error));
                    return;
                }
            };
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(OWNER_CHECK) {
                if client.is_valid(OWNER_CHECK).is_err()
                    && let Ok(again) = lock(&config)
                {
                    client = again;
                }
            }
        })
        .map_err(|e| LedgerError::Unreachable { location: named.clone(), source: e.into() })?;
    // Connecting waits for the server like any call: one that accepts and never answers is
    // unreachable after CALL_WAIT, not forever.
    match first.recv_timeout(CALL_WAIT) {
        Ok(Ok(())) => Ok(stop),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(LedgerError::Unreachable {
            location: named,
            source: format!("the database did not answer within {CALL_WAIT:?}").into(),
        }),
    }
}

/// Whether the session holding `owner`'s advisory lock is alive. A bigint advisory key shows
/// in `pg_locks` as its high half (`classid`) and low half (`objid`), `objsubid` 1.
fn owner_alive(
    client: &mut impl postgres::GenericClient,
    statements: &mut Statements,
    owner: i64,
) -> Result<bool, postgres::Error> {
    let sql = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 \
               AND granted AND ((classid::bigint << 32) | objid::bigint) = $1)";
    let statement = statements.get_generic(client, sql)?;
    client.query_one(&statement, &[&owner])?.try_get(0)
}

fn migrate(client: &mut Client, location: &str) -> Result<(), LedgerError> {
    let error = |e| database(location, e);
    let mut tx = client.transaction().map_err(error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(error)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS juhe_ledger_meta (version BIGINT NOT NULL)")
        .map_err(error)?;
    let found: Option<i64> =
        tx.query_one("SELECT max(version) FROM juhe_ledger_meta", &[]).map_err(error)?.get(0);
    let found = found.unwrap_or(0);
    if found > VERSION {
        return Err(LedgerError::NewerSchema { location: location.to_owned(), found, supported: VERSION });
    }
    for migration in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(usize::MAX)) {
        tx.batch_execute(migration.postgres).map_err(error)?;
    }
    if found < VERSION {
        tx.execute("DELETE FROM juhe_ledger_meta", &[]).map_err(error)?;
        tx.execute("INSERT INTO juhe_ledger_meta (version) VALUES ($1)", &[&VERSION]).map_err(error)?;
    }
    tx.commit().map_err(error)
}

fn unreachable(location: &str, error: postgres::Error) -> LedgerError {
    LedgerError::Unreachable { location: location.to_owned(), source: error.into() }
}

/// PostgreSQL's error, typed: a lost connection is an unreachable ledger; a lock or a
/// statement past the session's limits is a locked one.
fn database(location: &str, error: postgres::Error) -> LedgerError {
    if error.is_closed() || error.as_db_error().is_none() {
        return unreachable(location, error);
    }
    let code = error.code();
    if code == Some(&SqlState::LOCK_NOT_AVAILABLE) || code == Some(&SqlState::QUERY_CANCELED) {
        return LedgerError::Locked { location: location.to_owned(), waited: LOCK_WAIT };
    }
    LedgerError::Database { location: location.to_owned(), source: error.into() }
}

/// The begin transaction's statements. Its `BEGIN` goes with its first statement: with the
/// subject's lock, both in one round trip (a simple query: the lock's key is a number written
/// here, nothing of a caller's). Rolled back when dropped uncommitted.
struct Begin<'t> {
    client: &'t mut Client,
    statements: &'t mut Statements,
    location: &'t str,
    owner: i64,
    /// `BEGIN` sent (or being sent): a `ROLLBACK` is owed unless committed.
    open: bool,
}

impl<'t> Begin<'t> {
    fn new(client: &'t mut Client, statements: &'t mut Statements, location: &'t str, owner: i64) -> Self {
        Self { client, statements, location, owner, open: false }
    }

    /// Sends `BEGIN`, with `then` after it in the same round trip, unless it went already.
    fn open_with(&mut self, then: &str) -> Result<bool, LedgerError> {
        if self.open {
            return Ok(false);
        }
        self.open = true;
        self.client.batch_execute(&format!("BEGIN; {then}")).map_err(|e| database(self.location, e))?;
        Ok(true)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, LedgerError> {
        self.open_with("")?;
        let statement =
            self.statements.get_generic(self.client, sql).map_err(|e| database(self.location, e))?;
        self.client.query(&statement, params).map_err(|e| database(self.location, e))
    }

    /// The id an insert returned.
    fn id_of(&self, inserted: &[Row]) -> Result<i64, LedgerError> {
        let id = inserted.first().ok_or_else(|| LedgerError::Database {
            location: self.location.to_owned(),
            source: "the insert returned no id".into(),
        })?;
        id.try_get(0).map_err(|e| database(self.location, e))
    }

    /// Commits what was opened; a begin whose one statement was its own transaction has
    /// nothing left to commit.
    fn commit(mut self) -> Result<(), LedgerError> {
        if !self.open {
            return Ok(());
        }
        self.open = false;
        self.client.batch_execute("COMMIT").map_err(|e| database(self.location, e))
    }
}

impl Drop for Begin<'_> {
    fn drop(&mut self) {
        if self.open && !self.client.is_closed() {
            // A failed rollback leaves a broken connection, which the next call replaces.
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

impl BeginTx for Begin<'_> {
    fn lock_subject(&mut self, subject: &[u8; 32]) -> Result<(), LedgerError> {
        let mut first = [0; 8];
        first.copy_from_slice(&subject[..8]);
        let key = i64::from_be_bytes(first);
        if self.open_with(&format!("SELECT pg_advisory_xact_lock({key})"))? {
            return Ok(());
        }
        self.query("SELECT pg_advisory_xact_lock($1)", &[&key]).map(drop)
    }

    fn earlier(&mut self, row: &NewRow<'_>, since: i64) -> Result<Vec<Earlier>, LedgerError> {
        let sql = format!(
            "SELECT {EARLIER_COLUMNS} FROM juhe_ledger_entries \
             WHERE (subject = $1 OR subject = $10) AND product = $2 AND target = $3 AND started_at >= $4 \
             AND account = $5 AND state <> 'not_billed' AND (NOT $6 OR team IS NOT DISTINCT FROM $7) \
             AND ($8 OR purpose IS NOT DISTINCT FROM $9) \
             ORDER BY started_at DESC, id DESC LIMIT {EARLIER_LIMIT}"
        );
        let subject: &[u8] = row.subject;
        let previous: &[u8] = row.previous_subject.unwrap_or(row.subject);
        let rows = self.query(
            &sql,
            &[
                &subject,
                &row.product,
                &row.target,
                &since,
                &row.account,
                &row.apart,
                &row.team,
                &row.across_purposes,
                &row.purpose,
                &previous,
            ],
        )?;
        rows.iter().map(|r| earlier_of(r).map_err(|e| database(self.location, e))).collect()
    }

    fn spend(&mut self, holder: &str, period: &str, cap: Option<u64>) -> Result<bool, LedgerError> {
        let cap = cap.map_or(i64::MAX, |c| i64::try_from(c).unwrap_or(i64::MAX));
        if cap == 0 {
            return Ok(false);
        }
        let changed = self.query(
            "INSERT INTO juhe_ledger_spend (account, period, spent) VALUES ($1, $2, 1) \
             ON CONFLICT (account, period) DO UPDATE SET spent = juhe_ledger_spend.spent + 1 \
             WHERE juhe_ledger_spend.spent < $3 RETURNING spent",
            &[&holder, &period, &cap],
        )?;
        Ok(changed.len() == 1)
    }

    fn insert(&mut self, row: &NewRow<'_>) -> Result<i64, LedgerError> {
        let inserted = with_entry_params(row, None, |params| self.query(INSERT_ENTRY_SQL, params))?;
        self.id_of(&inserted)
    }

    fn count_and_insert(
        &mut self,
        counters: &[(String, String)],
        row: &NewRow<'_>,
    ) -> Result<i64, LedgerError> {
        if self.open {
            for (holder, period) in counters {
                self.spend(holder, period, None)?;
            }
            return self.insert(row);
        }
        // Nothing opened yet: the counters and the entry in one statement that is its own
        // transaction, committed (durably, the session's default) before the request leaves.
        let (holders, periods): (Vec<&str>, Vec<&str>) =
            counters.iter().map(|(h, p)| (h.as_str(), p.as_str())).unzip();
        let statement = self
            .statements
            .get_generic(self.client, COUNT_AND_INSERT_SQL)
            .map_err(|e| database(self.location, e))?;
        let inserted = with_entry_params(row, Some((&holders, &periods)), |params| {
            self.client.query(&statement, params).map_err(|e| database(self.location, e))
        })?;
        self.id_of(&inserted)
    }

    fn owner(&self) -> i64 {
        self.owner
    }

    fn alive(&mut self, owner: i64) -> Result<bool, LedgerError> {
        self.open_with("")?;
        owner_alive(self.client, self.statements, owner).map_err(|e| database(self.location, e))
    }
}

impl Store for PostgresStore {
    fn begin(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
        now: SystemTime,
    ) -> Result<Admission, LedgerError> {
        let (secret, intent, policy) = (secret.clone(), intent.clone(), *policy);
        self.run_owned(move |client, statements, location, owner| {
            let mut begin = Begin::new(client, statements, location, owner);
            let admission = admit(&mut begin, &secret, &intent, &policy, now)?;
            if matches!(admission, Admission::Send(_)) {
                begin.commit()?;
            }
            Ok(admission)
        })
    }

    fn reusable(
        &self,
        secret: &LedgerSecret,
        intent: &Intent,
        policy: &Policy,
        now: SystemTime,
    ) -> Result<Option<Recorded>, LedgerError> {
        let (secret, intent, policy) = (secret.clone(), intent.clone(), *policy);
        self.run_owned(move |client, statements, location, owner| {
            // Rolled back when dropped: it only reads.
            reusable(&mut Begin::new(client, statements, location, owner), &secret, &intent, &policy, now)
        })
    }

    fn finish(&self, entry: EntryId, settlement: &Settlement, now: SystemTime) -> Result<(), LedgerError> {
        let settlement = settlement.clone();
        self.run_prepared(move |client, statements, location| {
            let error = |e| database(location, e);
            let result = settlement.result.as_ref().map(|r| serde_json::Value::Object(r.clone()).to_string());
            let attempts = i64::from(settlement.attempts);
            let (state, finished_at, verdict) =
                (settlement.state.as_str(), unix_ms(now), settlement.verdict.map(verdict_name));
            let params: [&(dyn postgres::types::ToSql + Sync); 9] = [
                &entry.0,
                &state,
                &finished_at,
                &settlement.error_code,
                &verdict,
                &settlement.order_id,
                &attempts,
                &settlement.reason,
                &result,
            ];
            // The outcome is committed without waiting for the disk: lost only if PostgreSQL
            // itself (or its machine) crashes within a moment, which leaves the entry pending,
            // counted as maybe billed and never reused, the side the ledger errs on anyway. The
            // pending entry before sending is always waited for.
            if settlement.state.may_cost() {
                // Nothing to give back: one statement, its own transaction, one round trip
                // (`set_config(…, true)` holds for that transaction, its commit included).
                let update = statements.get_generic(client, FINISH_ALONE_SQL).map_err(error)?;
                return client.execute(&update, &params).map(drop).map_err(error);
            }
            let mut tx = client.transaction().map_err(error)?;
            tx.batch_execute("SET LOCAL synchronous_commit TO OFF").map_err(error)?;
            let update = statements.get(&mut tx, FINISH_SQL).map_err(error)?;
            if let Some(row) = tx.query_opt(&update, &params).map_err(error)? {
                let account: String = row.try_get(0).map_err(error)?;
                let started_at: i64 = row.try_get(1).map_err(error)?;
                let team: Option<String> = row.try_get(2).map_err(error)?;
                give_back(&mut tx, &account, team.as_deref(), started_at).map_err(error)?;
            }
            tx.commit().map_err(error)
        })
    }

    fn settle(
        &self,
        entry: EntryId,
        how: &Reconciliation,
        by: &Settler,
        now: SystemTime,
    ) -> Result<Settled, LedgerError> {
        let (how, settled_by, now_ms) = (how.clone(), by.stored(), unix_ms(now));
        self.run_owned(move |client, statements, location, own| {
            let error = |e| database(location, e);
            let mut tx = client.transaction().map_err(error)?;
            let found = tx
                .query_opt(
                    "SELECT state, account, started_at, deadline_at, owner, team FROM juhe_ledger_entries \
                     WHERE id = $1 FOR UPDATE",
                    &[&entry.0],
                )
                .map_err(error)?;
            let Some(row) = found else {
                return Err(LedgerError::NoEntry { location: location.to_owned(), entry: entry.0 });
            };
            let from = State::parse(row.try_get(0).map_err(error)?).unwrap_or(State::MaybeBilled);
            let account: String = row.try_get(1).map_err(error)?;
            let started_at: i64 = row.try_get(2).map_err(error)?;
            let (deadline_at, owner): (i64, Option<i64>) =
                (row.try_get(3).map_err(error)?, row.try_get(4).map_err(error)?);
            let alive = sender_alive(owner, deadline_at, now_ms, own, &mut |o| {
                owner_alive(&mut tx, statements, o).map_err(error)
            })?;
            may_settle(from, alive).map_err(|refusal| refusal.error(location, entry))?;
            let order_id = match &how {
                Reconciliation::Billed { order_id } => order_id.clone(),
                Reconciliation::NotBilled => None,
            };
            tx.execute(
                "UPDATE juhe_ledger_entries SET state = $2, order_id = coalesce($3, order_id), \
                 finished_at = coalesce(finished_at, $4), settled_at = $4, settled_by = $5, settled_from = $6 \
                 WHERE id = $1",
                &[&entry.0, &how.state().as_str(), &order_id, &now_ms, &settled_by, &from.as_str()],
            )
            .map_err(error)?;
            if !how.state().may_cost() {
                let team: Option<String> = row.try_get(5).map_err(error)?;
                give_back(&mut tx, &account, team.as_deref(), started_at).map_err(error)?;
            }
            tx.commit().map_err(error)?;
            Ok(Settled { at: from_unix_ms(now_ms), by: settled_by, from })
        })
    }

    fn visit(&self, selection: Selection, visit: &mut dyn FnMut(Entry) -> bool) -> Result<(), LedgerError> {
        let (from, to) = match selection {
            Selection::Unanswered => (i64::MIN, i64::MAX),
            Selection::In(span) => span.millis(),
        };
        let unanswered = matches!(selection, Selection::Unanswered);
        // Entries stream back a page at a time: an export of millions never sits in memory.
        const PAGE: i64 = 10_000;
        let mut after = i64::MIN;
        loop {
            let page = self.run_owned(move |client, statements, location, own| {
                let error = |e| database(location, e);
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM juhe_ledger_entries \
                     WHERE started_at >= $1 AND started_at < $2 AND id > $3 \
                     AND (NOT $4 OR state IN ('pending', 'maybe_billed')) ORDER BY id LIMIT {PAGE}"
                );
                let rows = client.query(&sql, &[&from, &to, &after, &unanswered]).map_err(error)?;
                let (now, mut known) = (unix_ms(SystemTime::now()), HashMap::new());
                let mut entries = Vec::with_capacity(rows.len());
                for row in &rows {
                    let (mut entry, owner, deadline_at) = entry_of(row).map_err(error)?;
                    if entry.state == State::Pending {
                        entry.in_flight = sender_alive(owner, deadline_at, now, own, &mut |o| {
                            if let Some(&alive) = known.get(&o) {
                                return Ok(alive);
                            }
                            let alive = owner_alive(client, statements, o).map_err(error)?;
                            known.insert(o, alive);
                            Ok(alive)
                        })?;
                    }
                    entries.push(entry);
                }
                Ok(entries)
            })?;
            let full = page.len() as i64 == PAGE;
            for entry in page {
                after = entry.id.0;
                if !visit(entry) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn report(&self, span: Span, by: Grouping) -> Result<Report, LedgerError> {
        let key = match by {
            Grouping::Total => "''",
            Grouping::Day => "((started_at + 28800000) / 86400000)::text",
            Grouping::Product => "product",
            Grouping::Mode => "mode",
            Grouping::Team => "coalesce(team, '')",
        };
        let (from, to) = span.millis();
        let sql = format!(
            "SELECT {key}, account, target = $3, state, {TALLY_OWNER}, max(deadline_at), count(*), count(settled_at), \
             product FROM juhe_ledger_entries WHERE started_at >= $1 AND started_at < $2 GROUP BY 1, 2, 3, 4, 5, 9"
        );
        let tally = self.run_owned(move |client, statements, location, own| {
            let error = |e| database(location, e);
            let now = unix_ms(SystemTime::now());
            let mut tally = Vec::new();
            for row in client.query(&sql, &[&from, &to, &SANDBOX_TARGET]).map_err(error)? {
                let key: String = row.try_get(0).map_err(error)?;
                let account: String = row.try_get(1).map_err(error)?;
                let sandbox: bool = row.try_get(2).map_err(error)?;
                let state: String = row.try_get(3).map_err(error)?;
                let owner: Option<i64> = row.try_get(4).map_err(error)?;
                let deadline_at: i64 = row.try_get(5).map_err(error)?;
                let count: i64 = row.try_get(6).map_err(error)?;
                let settled: i64 = row.try_get(7).map_err(error)?;
                let product: String = row.try_get(8).map_err(error)?;
                let Some(state) = State::parse(&state) else { continue };
                let in_flight = state == State::Pending
                    && sender_alive(owner, deadline_at, now, own, &mut |o| {
                        owner_alive(client, statements, o).map_err(error)
                    })?;
                let (count, settled) = (count.unsigned_abs(), settled.unsigned_abs());
                tally.push(Tally { key, product, account, sandbox, state, in_flight, count, settled });
            }
            Ok(tally)
        })?;
        let reused = self.reuse_tally(span, by)?;
        Ok(Report::from_tally(by, tally, reused))
    }

    fn retention(&self) -> Result<Retention, LedgerError> {
        self.run(read_retention)
    }

    fn set_retention(&self, retention: &Retention, by: &str, now: SystemTime) -> Result<(), LedgerError> {
        let (retention, by, at) = (*retention, by.to_owned(), unix_ms(now));
        self.run(move |client, location| {
            let error = |e| database(location, e);
            let mut tx = client.transaction().map_err(error)?;
            for (name, period) in [(RETAIN_PERSONAL, retention.personal), (RETAIN_BILLING, retention.billing)] {
                let ms = period.as_millis().to_string();
                tx.execute(&RETENTION_SQL.write, &[&name, &ms]).map_err(error)?;
            }
            tx.execute(
                "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES ($1, $2, 'retention', '', $3)",
                &[&at, &by, &retention_detail(&retention)],
            )
            .map_err(error)?;
            tx.commit().map_err(error)
        })
    }

    fn expire(&self, pass: Pass, now: SystemTime) -> Result<Option<Expiry>, LedgerError> {
        self.run(move |client, location| {
            let error = |e| database(location, e);
            if pass == Pass::IfDue && !due(client, now, location)? {
                return Ok(None);
            }
            let mut tx = client.transaction().map_err(error)?;
            if pass != Pass::DryRun {
                // One pass at a time across the fleet; under `IfDue` a pass under way
                // elsewhere means this one has nothing to do.
                let wait = if pass == Pass::IfDue { "NOWAIT" } else { "" };
                tx.execute(
                    "INSERT INTO juhe_ledger_settings (name, value) VALUES ($1, '0') ON CONFLICT (name) DO NOTHING",
                    &[&RETENTION_APPLIED_AT],
                )
                .map_err(error)?;
                let locked = tx.query(
                    &format!("SELECT value FROM juhe_ledger_settings WHERE name = $1 FOR UPDATE {wait}"),
                    &[&RETENTION_APPLIED_AT],
                );
                match locked {
                    Ok(rows) if pass == Pass::IfDue => {
                        let applied: Option<String> = rows.first().map(|r| r.get(0));
                        if !pass_due(applied.as_deref(), now) {
                            return Ok(None);
                        }
                    }
                    Ok(_) => {}
                    Err(_) if pass == Pass::IfDue => return Ok(None),
                    Err(e) => return Err(error(e)),
                }
            }
            let retention = read_retention(&mut tx, location)?;
            let (personal, billing) = retention.cuts(now);
            let forgotten = &FORGOTTEN_SUBJECT[..];
            let (cleared, deleted) = if pass == Pass::DryRun {
                let count = |row: Row| row.get::<_, i64>(0).unsigned_abs();
                (
                    count(tx.query_one(&RETENTION_SQL.count_clear, &[&personal, &billing, &forgotten]).map_err(error)?),
                    count(tx.query_one(&RETENTION_SQL.count_delete, &[&billing]).map_err(error)?),
                )
            } else {
                let cleared = tx.execute(&RETENTION_SQL.clear, &[&personal, &billing, &forgotten]).map_err(error)?;
                let deleted = tx.execute(&RETENTION_SQL.delete, &[&billing]).map_err(error)?;
                tx.execute(&RETENTION_SQL.delete_reuse, &[&china_day(billing)]).map_err(error)?;
                tx.execute(&RETENTION_SQL.write, &[&RETENTION_APPLIED_AT, &unix_ms(now).to_string()])
                    .map_err(error)?;
                if cleared + deleted > 0 {
                    tx.execute(
                        "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES ($1, $2, 'expire', '', $3)",
                        &[&unix_ms(now), &Actor::current().user, &expired_detail(cleared, deleted)],
                    )
                    .map_err(error)?;
                }
                (cleared, deleted)
            };
            tx.commit().map_err(error)?;
            Ok(Some(Expiry {
                cleared,
                deleted,
                personal_before: from_unix_ms(personal),
                billing_before: from_unix_ms(billing),
            }))
        })
    }

    fn secret_versions(&self) -> Result<Vec<crate::SecretVersion>, LedgerError> {
        self.run(move |client, location| {
            let error = |e| database(location, e);
            let forgotten = &FORGOTTEN_SUBJECT[..];
            let rows =
                client.query(&crate::schema::secret_versions_sql('$'), &[&forgotten]).map_err(error)?;
            rows.iter()
                .map(|r| {
                    let entries: i64 = r.try_get(1).map_err(error)?;
                    Ok(crate::SecretVersion {
                        version: r.try_get(0).map_err(error)?,
                        entries: entries.unsigned_abs(),
                        first: from_unix_ms(r.try_get(2).map_err(error)?),
                        last: from_unix_ms(r.try_get(3).map_err(error)?),
                    })
                })
                .collect()
        })
    }

    fn add_reuse(&self, counts: &[(ReuseKey, u64)]) -> Result<(), LedgerError> {
        let counts = counts.to_vec();
        self.run(move |client, location| {
            let error = |e| database(location, e);
            let mut tx = client.transaction().map_err(error)?;
            let add = tx.prepare(&crate::schema::add_reuse_sql('$')).map_err(error)?;
            for (k, n) in &counts {
                let n = i64::try_from(*n).unwrap_or(i64::MAX);
                tx.execute(&add, &[&k.account, &k.day, &k.product, &k.mode, &k.team, &k.target, &n])
                    .map_err(error)?;
            }
            tx.commit().map_err(error)
        })
    }

    fn prune(&self, before: SystemTime) -> Result<u64, LedgerError> {
        let before = unix_ms(before);
        self.run(move |client, location| {
            client
                .execute("DELETE FROM juhe_ledger_entries WHERE started_at < $1", &[&before])
                .map_err(|e| database(location, e))
        })
    }

    fn count_before(&self, before: SystemTime) -> Result<u64, LedgerError> {
        let before = unix_ms(before);
        self.run(move |client, location| {
            let row = client
                .query_one("SELECT COUNT(*) FROM juhe_ledger_entries WHERE started_at < $1", &[&before])
                .map_err(|e| database(location, e))?;
            Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    fn forget(&self, account: &str, subjects: &[Subject]) -> Result<u64, LedgerError> {
        let account = account.to_owned();
        let subjects: Vec<Vec<u8>> = subjects.iter().map(|s| s.as_bytes().to_vec()).collect();
        self.run(move |client, location| {
            let mut tx = client.transaction().map_err(|e| database(location, e))?;
            let mut forgotten = 0;
            for subject in &subjects {
                forgotten += tx
                    .execute(
                        "UPDATE juhe_ledger_entries SET masked = '', result = NULL, subject = $3 \
                         WHERE account = $1 AND subject = $2",
                        &[&account, subject, &&FORGOTTEN_SUBJECT[..]],
                    )
                    .map_err(|e| database(location, e))?;
            }
            tx.commit().map_err(|e| database(location, e))?;
            Ok(forgotten)
        })
    }

    fn take_start(
        &self,
        account: &str,
        target: &str,
        request: &StartRequest,
        now: SystemTime,
    ) -> Result<Start, LedgerError> {
        let (account, target, request, location) =
            (account.to_owned(), target.to_owned(), *request, self.location.clone());
        self.pace(move |rows| pace::take_start(rows, &account, &target, &request, now, &location))
    }

    fn rate_limited(
        &self,
        account: &str,
        target: &str,
        cap: Option<f64>,
        now: SystemTime,
    ) -> Result<(), LedgerError> {
        let (account, target, location) = (account.to_owned(), target.to_owned(), self.location.clone());
        self.pace(move |rows| pace::refused(rows, &account, &target, cap, now, &location))
    }

    fn pace_rate(
        &self,
        account: &str,
        target: &str,
        cap: Option<f64>,
        now: SystemTime,
    ) -> Result<Option<f64>, LedgerError> {
        let (account, target) = (account.to_owned(), target.to_owned());
        self.pace(move |rows| pace::rate(rows, &account, &target, cap, now))
    }

    fn team_keys(&self) -> Result<Vec<TeamKey>, LedgerError> {
        self.run(move |client, location| {
            let rows = client
                .query(
                    "SELECT id, team, key_hash, sealed, rules, created_at, revoked_at \
                     FROM juhe_ledger_team_keys ORDER BY id",
                    &[],
                )
                .map_err(|e| database(location, e))?;
            rows.iter()
                .map(|r| {
                    let hash: Vec<u8> = r.try_get(2)?;
                    Ok(TeamKey {
                        id: r.try_get(0)?,
                        team: r.try_get(1)?,
                        key_hash: hash.try_into().unwrap_or([0; 32]),
                        sealed: r.try_get(3)?,
                        rules: r.try_get(4)?,
                        created_at: from_unix_ms(r.try_get(5)?),
                        revoked_at: r.try_get::<_, Option<i64>>(6)?.map(from_unix_ms),
                    })
                })
                .collect::<Result<_, postgres::Error>>()
                .map_err(|e| database(location, e))
        })
    }

    fn change_team_keys(&self, change: &KeyChange, by: &str, now: SystemTime) -> Result<(), LedgerError> {
        let (change, by, at_ms) = (change.clone(), by.to_owned(), unix_ms(now));
        self.run(move |client, location| {
            let mut tx = client.transaction().map_err(|e| database(location, e))?;
            // One key change at a time, whoever makes it: the live-key rule holds across replicas.
            tx.execute("LOCK TABLE juhe_ledger_team_keys IN EXCLUSIVE MODE", &[])
                .map_err(|e| database(location, e))?;
            apply(&mut KeysOn { tx: &mut tx, location }, &change, &by, at_ms, location)?;
            tx.commit().map_err(|e| database(location, e))
        })
    }

    fn admin_actions(&self) -> Result<Vec<AdminAction>, LedgerError> {
        self.run(move |client, location| {
            let rows = client
                .query(
                    "SELECT id, at, by_user, action, team, detail FROM juhe_ledger_admin_log ORDER BY id",
                    &[],
                )
                .map_err(|e| database(location, e))?;
            rows.iter()
                .map(|r| {
                    Ok(AdminAction {
                        id: r.try_get(0)?,
                        at: from_unix_ms(r.try_get(1)?),
                        by: r.try_get(2)?,
                        action: r.try_get(3)?,
                        team: r.try_get(4)?,
                        detail: r.try_get(5)?,
                    })
                })
                .collect::<Result<_, postgres::Error>>()
                .map_err(|e| database(location, e))
        })
    }

    fn log_action(&self, action: &AdminAction) -> Result<(), LedgerError> {
        let at = unix_ms(action.at);
        let (by, what, team, detail) =
            (action.by.clone(), action.action.clone(), action.team.clone(), action.detail.clone());
        self.run(move |client, location| {
            client
                .execute(
                    "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES ($1, $2, $3, $4, $5)",
                    &[&at, &by, &what, &team, &detail],
                )
                .map(drop)
                .map_err(|e| database(location, e))
        })
    }

    fn team_keys_generation(&self) -> Result<i64, LedgerError> {
        self.run(move |client, location| {
            let row = client
                .query_one("SELECT coalesce(max(id), 0)::BIGINT FROM juhe_ledger_admin_log", &[])
                .map_err(|e| database(location, e))?;
            row.try_get(0).map_err(|e| database(location, e))
        })
    }
}

impl PostgresStore {
    /// Runs a step of the pace on its connection.
    fn pace<T: Send + 'static>(
        &self,
        step: impl FnOnce(&mut Pace<'_>) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let memory = Arc::clone(&self.pace_memory);
        self.run_pace(move |client, statements, location| {
            step(&mut Pace { client, statements, location, memory: &memory })
        })
    }
}

/// The pace's statements, with this backend's parameter marks.
static PACE_SQL: std::sync::LazyLock<PaceSql> = std::sync::LazyLock::new(|| PaceSql::new('$'));

/// The pace's row on PostgreSQL: each statement on its own, committed without waiting for the
/// disk (its session's setting); a store is one conditional write.
struct Pace<'c> {
    client: &'c mut Client,
    statements: &'c mut Statements,
    location: &'c str,
    memory: &'c PaceMemory,
}

impl Pace<'_> {
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, LedgerError> {
        let statement =
            self.statements.get_generic(self.client, sql).map_err(|e| database(self.location, e))?;
        self.client.query(&statement, params).map_err(|e| database(self.location, e))
    }

    /// How many rows `sql` changed.
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, LedgerError> {
        let statement =
            self.statements.get_generic(self.client, sql).map_err(|e| database(self.location, e))?;
        self.client.execute(&statement, params).map_err(|e| database(self.location, e))
    }
}

impl PaceRows for Pace<'_> {
    fn memory(&self) -> Option<&PaceMemory> {
        Some(self.memory)
    }

    fn sent(&mut self, account: &str, target: &str, from_ms: i64, to_ms: i64) -> Result<u64, LedgerError> {
        let rows = self.query(
            "SELECT count(*) FROM juhe_ledger_entries WHERE started_at > $3 AND started_at <= $4 \
             AND account = $1 AND target = $2 AND state = 'billed' AND settled_at IS NULL",
            &[&account, &target, &from_ms, &to_ms],
        )?;
        let count = rows
            .first()
            .map(|r| r.try_get::<_, i64>(0))
            .transpose()
            .map_err(|e| database(self.location, e))?;
        Ok(count.unwrap_or(0).unsigned_abs())
    }

    fn load(&mut self, account: &str, target: &str) -> Result<Option<(KeyPace, i64)>, LedgerError> {
        let sql = &PACE_SQL.select;
        let rows = self.query(sql, &[&account, &target])?;
        let Some(r) = rows.first() else { return Ok(None) };
        let read = || -> Result<(KeyPace, i64), postgres::Error> {
            Ok((
                KeyPace {
                    next_at: r.try_get(1)?,
                    rate: r.try_get(2)?,
                    limit: r.try_get(3)?,
                    refused_at: r.try_get(4)?,
                    last_cut: r.try_get(5)?,
                    remeasure_at: r.try_get(6)?,
                    touched_at: r.try_get(7)?,
                    cap: r.try_get(8)?,
                    cap_seen_at: r.try_get(9)?,
                    created_at: r.try_get(10)?,
                    live_at: r.try_get(11)?,
                },
                r.try_get(0)?,
            ))
        };
        read().map(Some).map_err(|e| database(self.location, e))
    }

    fn store(
        &mut self,
        account: &str,
        target: &str,
        pace: &KeyPace,
        version: Option<i64>,
    ) -> Result<bool, LedgerError> {
        let sql = if version.is_some() { &PACE_SQL.update } else { &PACE_SQL.insert };
        let version = version.unwrap_or(0);
        let stored = self.execute(
            sql,
            &[
                &account,
                &target,
                &version,
                &pace.next_at,
                &pace.rate,
                &pace.limit,
                &pace.refused_at,
                &pace.last_cut,
                &pace.remeasure_at,
                &pace.touched_at,
                &pace.cap,
                &pace.cap_seen_at,
                &pace.created_at,
                &pace.live_at,
            ],
        )?;
        Ok(stored == 1)
    }

    fn passed(
        &mut self,
        account: &str,
        target: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Passed, LedgerError> {
        let rows = self.query(
            "SELECT count(*), min(finished_at) FROM juhe_ledger_entries \
             WHERE started_at >= $3 AND account = $1 AND target = $2 AND state = 'billed' \
             AND settled_at IS NULL AND finished_at > $4 AND finished_at <= $5",
            &[&account, &target, &started_since(from_ms), &from_ms, &to_ms],
        )?;
        let read = |r: &Row| -> Result<Passed, postgres::Error> {
            Ok(Passed { count: r.try_get::<_, i64>(0)?.unsigned_abs(), oldest_ms: r.try_get(1)? })
        };
        rows.first()
            .map(read)
            .transpose()
            .map_err(|e| database(self.location, e))
            .map(Option::unwrap_or_default)
    }
}

fn earlier_of(row: &Row) -> Result<Earlier, postgres::Error> {
    Ok(Earlier {
        id: row.try_get(0)?,
        state: State::parse(row.try_get(1)?).unwrap_or(State::MaybeBilled),
        started_at: row.try_get(2)?,
        deadline_at: row.try_get(3)?,
        verdict: row.try_get(4)?,
        order_id: row.try_get(5)?,
        reason: row.try_get(6)?,
        result: row.try_get(7)?,
        owner: row.try_get(8)?,
        alive: false,
    })
}

/// The key-change transaction's statements.
struct KeysOn<'a, 't> {
    tx: &'a mut postgres::Transaction<'t>,
    location: &'a str,
}

impl KeysTx for KeysOn<'_, '_> {
    fn live_keys(&mut self, team: &str) -> Result<u64, LedgerError> {
        let row = self
            .tx
            .query_one(
                "SELECT count(*) FROM juhe_ledger_team_keys WHERE team = $1 AND revoked_at IS NULL",
                &[&team],
            )
            .map_err(|e| database(self.location, e))?;
        Ok(row.try_get::<_, i64>(0).map_err(|e| database(self.location, e))?.unsigned_abs())
    }

    fn revoke(&mut self, team: &str, at_ms: i64) -> Result<u64, LedgerError> {
        self.tx
            .execute(
                "UPDATE juhe_ledger_team_keys SET revoked_at = $2 WHERE team = $1 AND revoked_at IS NULL",
                &[&team, &at_ms],
            )
            .map_err(|e| database(self.location, e))
    }

    fn insert(&mut self, key: &NewTeamKey, at_ms: i64) -> Result<(), LedgerError> {
        let hash: &[u8] = &key.key_hash;
        self.tx
            .execute(
                "INSERT INTO juhe_ledger_team_keys (team, key_hash, sealed, rules, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&key.team, &hash, &key.sealed, &key.rules, &at_ms],
            )
            .map(drop)
            .map_err(|e| database(self.location, e))
    }

    fn log(&mut self, at_ms: i64, by: &str, action: &str, team: &str) -> Result<(), LedgerError> {
        self.tx
            .execute(
                "INSERT INTO juhe_ledger_admin_log (at, by_user, action, team, detail) VALUES ($1, $2, $3, $4, '')",
                &[&at_ms, &by, &action, &team],
            )
            .map(drop)
            .map_err(|e| database(self.location, e))
    }
}

/// Gives an entry's share of its day's and month's budget back.
fn give_back(
    tx: &mut postgres::Transaction<'_>,
    account: &str,
    team: Option<&str>,
    started_at: i64,
) -> Result<(), postgres::Error> {
    for (holder, period) in holders(account, team).iter().flat_map(|h| periods(started_at).map(|p| (h, p))) {
        tx.execute(
            "UPDATE juhe_ledger_spend SET spent = spent - 1 WHERE account = $1 AND period = $2 AND spent > 0",
            &[&holder, &period],
        )?;
    }
    Ok(())
}

/// A row read as an entry, with its owner and deadline (to tell whether it is in flight).
fn entry_of(row: &Row) -> Result<(Entry, Option<i64>, i64), postgres::Error> {
    let settled = match (row.try_get::<_, Option<i64>>(15)?, row.try_get::<_, Option<String>>(16)?) {
        (Some(at), Some(by)) => Some(Settled {
            at: from_unix_ms(at),
            by,
            from: State::parse(row.try_get::<_, Option<&str>>(17)?.unwrap_or_default())
                .unwrap_or(State::MaybeBilled),
        }),
        _ => None,
    };
    let entry = Entry {
        id: EntryId(row.try_get(0)?),
        account: row.try_get(1)?,
        product: row.try_get(2)?,
        mode: row.try_get(3)?,
        target: row.try_get(4)?,
        masked: row.try_get(5)?,
        started_at: from_unix_ms(row.try_get(6)?),
        finished_at: row.try_get::<_, Option<i64>>(7)?.map(from_unix_ms),
        state: State::parse(row.try_get(8)?).unwrap_or(State::MaybeBilled),
        error_code: row.try_get(9)?,
        verdict: row.try_get(10)?,
        order_id: row.try_get(11)?,
        attempts: row.try_get::<_, Option<i64>>(12)?.and_then(|a| u32::try_from(a).ok()),
        in_flight: false,
        settled,
        team: row.try_get(18)?,
        purpose: row.try_get(19)?,
        consent_ref: row.try_get(20)?,
        actor: match (
            row.try_get::<_, Option<String>>(21)?,
            row.try_get::<_, Option<String>>(22)?,
            row.try_get::<_, Option<i64>>(23)?,
        ) {
            (Some(user), Some(host), Some(pid)) => {
                Some(Actor { user, host, pid: u32::try_from(pid).unwrap_or(0) })
            }
            _ => None,
        },
    };
    Ok((entry, row.try_get(13)?, row.try_get(14)?))
}

/// The retention's statements, with this backend's parameter marks.
static RETENTION_SQL: std::sync::LazyLock<RetentionSql> = std::sync::LazyLock::new(|| RetentionSql::new('$'));

/// The retention periods stored, or the defaults.
fn read_retention(
    client: &mut impl postgres::GenericClient,
    location: &str,
) -> Result<Retention, LedgerError> {
    let mut read = |name: &str| -> Result<Option<Duration>, LedgerError> {
        let row = client.query_opt(&RETENTION_SQL.read, &[&name]).map_err(|e| database(location, e))?;
        Ok(row.and_then(|r| r.get::<_, String>(0).parse::<u64>().ok()).map(Duration::from_millis))
    };
    let default = Retention::default();
    Ok(Retention {
        personal: read(RETAIN_PERSONAL)?.unwrap_or(default.personal),
        billing: read(RETAIN_BILLING)?.unwrap_or(default.billing),
    })
}

/// Whether no retention pass ran in the last day (a read, no lock).
fn due(client: &mut Client, now: SystemTime, location: &str) -> Result<bool, LedgerError> {
    let row =
        client.query_opt(&RETENTION_SQL.read, &[&RETENTION_APPLIED_AT]).map_err(|e| database(location, e))?;
    let applied: Option<String> = row.map(|r| r.get(0));
    Ok(pass_due(applied.as_deref(), now))
}
