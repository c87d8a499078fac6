//! The PostgreSQL backend: one ledger for a fleet of machines on one Juhe key.
//!
//! Every decision runs in one transaction. Checks of one subject are serialised by a
//! transaction-scoped advisory lock on the subject (single flight); budgets by a conditional
//! increment of the period's counter row, which PostgreSQL re-checks after any wait for the
//! row's lock. Commits are PostgreSQL's own: durable once they return.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use postgres::{Client, Config, NoTls, Row};

use crate::admission::{Admission, BeginTx, Earlier, NewRow, Policy, admit};
use crate::calendar::{from_unix_ms, periods, unix_ms};
use crate::location::mask_password;
use crate::record::{Entry, EntryId, Intent, Settlement, State, verdict_name};
use crate::report::{Grouping, Report, Span};
use crate::schema::{EARLIER_COLUMNS, EARLIER_LIMIT, ENTRY_COLUMNS, MIGRATIONS, VERSION};
use crate::store::{Selection, Store};
use crate::{LedgerError, LedgerSecret};

/// How many connections one process keeps open at most.
const CONNECTIONS: usize = 8;
/// How long connecting may take before the ledger counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The advisory lock that serialises migrations: "JUHE" "LDGR".
const MIGRATION_LOCK: i64 = 0x4a55_4845_4c44_4752;

/// The PostgreSQL backend: a small pool of connections.
pub(crate) struct PostgresStore {
    config: Config,
    pool: Mutex<Pool>,
    freed: Condvar,
    location: String,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Client>,
    open: usize,
}

/// A connection taken from the pool; given back on drop unless it broke.
struct Lease<'s> {
    store: &'s PostgresStore,
    client: Option<Client>,
}

impl PostgresStore {
    /// Connects to `url` and migrates the schema.
    pub(crate) fn connect(url: &str) -> Result<Self, LedgerError> {
        let location = mask_password(url);
        let mut config: Config = url.parse().map_err(|e: postgres::Error| LedgerError::Unreachable {
            location: location.clone(),
            source: e.into(),
        })?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("juhe-ledger");
        let store = Self { config, pool: Mutex::new(Pool::default()), freed: Condvar::new(), location };
        store.migrate()?;
        Ok(store)
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lease(&self) -> Result<Lease<'_>, LedgerError> {
        let mut pool = self.pool();
        loop {
            if let Some(client) = pool.idle.pop() {
                return Ok(Lease { store: self, client: Some(client) });
            }
            if pool.open < CONNECTIONS {
                pool.open += 1;
                drop(pool);
                return match self.config.connect(NoTls) {
                    Ok(client) => Ok(Lease { store: self, client: Some(client) }),
                    Err(e) => {
                        self.pool().open -= 1;
                        self.freed.notify_one();
                        Err(LedgerError::Unreachable { location: self.location.clone(), source: e.into() })
                    }
                };
            }
            pool = self.freed.wait(pool).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn migrate(&self) -> Result<(), LedgerError> {
        let mut lease = self.lease()?;
        let mut tx = lease.client().transaction().map_err(|e| self.error(e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(|e| self.error(e))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS juhe_ledger_meta (version BIGINT NOT NULL)")
            .map_err(|e| self.error(e))?;
        let found: Option<i64> =
            tx.query_one("SELECT max(version) FROM juhe_ledger_meta", &[]).map_err(|e| self.error(e))?.get(0);
        let found = found.unwrap_or(0);
        if found > VERSION {
            return Err(LedgerError::NewerSchema {
                location: self.location.clone(),
                found,
                supported: VERSION,
            });
        }
        for migration in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(usize::MAX)) {
            tx.batch_execute(migration.postgres).map_err(|e| self.error(e))?;
        }
        if found < VERSION {
            tx.execute("DELETE FROM juhe_ledger_meta", &[]).map_err(|e| self.error(e))?;
            tx.execute("INSERT INTO juhe_ledger_meta (version) VALUES ($1)", &[&VERSION])
                .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    fn error(&self, error: postgres::Error) -> LedgerError {
        let location = self.location.clone();
        if error.is_closed() || error.as_db_error().is_none() {
            return LedgerError::Unreachable { location, source: error.into() };
        }
        LedgerError::Database { location, source: error.into() }
    }
}

impl Lease<'_> {
    fn client(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!("a lease holds its client until dropped"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut pool = self.store.pool();
        match self.client.take() {
            Some(client) if !client.is_closed() => pool.idle.push(client),
            _ => pool.open -= 1,
        }
        self.store.freed.notify_one();
    }
}

/// The begin transaction's statements.
struct Begin<'t, 'c> {
    tx: &'t mut postgres::Transaction<'c>,
    store: &'t PostgresStore,
}

impl BeginTx for Begin<'_, '_> {
    fn lock_subject(&mut self, subject: &[u8; 32]) -> Result<(), LedgerError> {
        let mut first = [0; 8];
        first.copy_from_slice(&subject[..8]);
        let key = i64::from_be_bytes(first);
        self.tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key]).map_err(|e| self.store.error(e))?;
        Ok(())
    }

    fn earlier(&mut self, row: &NewRow<'_>, since: i64) -> Result<Vec<Earlier>, LedgerError> {
        let sql = format!(
            "SELECT {EARLIER_COLUMNS} FROM juhe_ledger_entries \
             WHERE subject = $1 AND product = $2 AND target = $3 AND started_at >= $4 AND state <> 'not_billed' \
             ORDER BY started_at DESC, id DESC LIMIT {EARLIER_LIMIT}"
        );
        let subject: &[u8] = row.subject;
        let rows = self
            .tx
            .query(&sql, &[&subject, &row.product, &row.target, &since])
            .map_err(|e| self.store.error(e))?;
        rows.iter().map(|r| earlier_of(r).map_err(|e| self.store.error(e))).collect()
    }

    fn spend(&mut self, account: &str, period: &str, cap: Option<u64>) -> Result<bool, LedgerError> {
        let cap = cap.map_or(i64::MAX, |c| i64::try_from(c).unwrap_or(i64::MAX));
        if cap == 0 {
            return Ok(false);
        }
        let changed = self
            .tx
            .execute(
                "INSERT INTO juhe_ledger_spend (account, period, spent) VALUES ($1, $2, 1) \
                 ON CONFLICT (account, period) DO UPDATE SET spent = juhe_ledger_spend.spent + 1 \
                 WHERE juhe_ledger_spend.spent < $3",
                &[&account, &period, &cap],
            )
            .map_err(|e| self.store.error(e))?;
        Ok(changed == 1)
    }

    fn insert(&mut self, row: &NewRow<'_>) -> Result<i64, LedgerError> {
        let subject: &[u8] = row.subject;
        let inserted = self
            .tx
            .query_one(
                "INSERT INTO juhe_ledger_entries \
                 (account, subject, product, mode, target, masked, started_at, deadline_at, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') RETURNING id",
                &[
                    &row.account,
                    &subject,
                    &row.product,
                    &row.mode,
                    &row.target,
                    &row.masked,
                    &row.started_at,
                    &row.deadline_at,
                ],
            )
            .map_err(|e| self.store.error(e))?;
        inserted.try_get(0).map_err(|e| self.store.error(e))
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
        let mut lease = self.lease()?;
        let mut tx = lease.client().transaction().map_err(|e| self.error(e))?;
        let admission = admit(&mut Begin { tx: &mut tx, store: self }, secret, intent, policy, now)?;
        if matches!(admission, Admission::Send(_)) {
            tx.commit().map_err(|e| self.error(e))?;
        }
        Ok(admission)
    }

    fn settle(&self, entry: EntryId, settlement: &Settlement, now: SystemTime) -> Result<(), LedgerError> {
        let mut lease = self.lease()?;
        let mut tx = lease.client().transaction().map_err(|e| self.error(e))?;
        let result = settlement.result.as_ref().map(|r| serde_json::Value::Object(r.clone()).to_string());
        let attempts = i64::from(settlement.attempts);
        let settled = tx
            .query_opt(
                "UPDATE juhe_ledger_entries SET state = $2, finished_at = $3, error_code = $4, verdict = $5, \
                 order_id = $6, attempts = $7, reason = $8, result = $9 \
                 WHERE id = $1 AND state = 'pending' RETURNING account, started_at",
                &[
                    &entry.0,
                    &settlement.state.as_str(),
                    &unix_ms(now),
                    &settlement.error_code,
                    &settlement.verdict.map(verdict_name),
                    &settlement.order_id,
                    &attempts,
                    &settlement.reason,
                    &result,
                ],
            )
            .map_err(|e| self.error(e))?;
        if let (Some(row), false) = (settled, settlement.state.may_cost()) {
            let account: String = row.try_get(0).map_err(|e| self.error(e))?;
            let started_at: i64 = row.try_get(1).map_err(|e| self.error(e))?;
            for period in periods(started_at) {
                tx.execute(
                    "UPDATE juhe_ledger_spend SET spent = spent - 1 WHERE account = $1 AND period = $2 AND spent > 0",
                    &[&account, &period],
                )
                .map_err(|e| self.error(e))?;
            }
        }
        tx.commit().map_err(|e| self.error(e))
    }

    fn visit(&self, selection: Selection, visit: &mut dyn FnMut(Entry) -> bool) -> Result<(), LedgerError> {
        let (from, to) = match selection {
            Selection::Unanswered => (i64::MIN, i64::MAX),
            Selection::In(span) => span.millis(),
        };
        let unanswered = matches!(selection, Selection::Unanswered);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM juhe_ledger_entries \
             WHERE started_at >= $1 AND started_at < $2 AND (NOT $3 OR state IN ('pending', 'maybe_billed')) \
             ORDER BY id"
        );
        let mut lease = self.lease()?;
        let params: [&(dyn postgres::types::ToSql + Sync); 3] = [&from, &to, &unanswered];
        let mut rows = lease.client().query_raw(sql.as_str(), params).map_err(|e| self.error(e))?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            if !visit(entry_of(&row).map_err(|e| self.error(e))?) {
                break;
            }
        }
        Ok(())
    }

    fn report(&self, span: Span, by: Grouping) -> Result<Report, LedgerError> {
        let key = match by {
            Grouping::Total => "''",
            Grouping::Day => "((started_at + 28800000) / 86400000)::text",
            Grouping::Product => "product",
            Grouping::Mode => "mode",
        };
        let (from, to) = span.millis();
        let sql = format!(
            "SELECT {key}, state, count(*) FROM juhe_ledger_entries \
             WHERE started_at >= $1 AND started_at < $2 GROUP BY 1, 2"
        );
        let rows = self.lease()?.client().query(&sql, &[&from, &to]).map_err(|e| self.error(e))?;
        let mut tally = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get(0).map_err(|e| self.error(e))?;
            let state: String = row.try_get(1).map_err(|e| self.error(e))?;
            let n: i64 = row.try_get(2).map_err(|e| self.error(e))?;
            if let Some(state) = State::parse(&state) {
                tally.push((key, state, n.unsigned_abs()));
            }
        }
        Ok(Report::from_tally(by, tally))
    }

    fn prune(&self, before: SystemTime) -> Result<u64, LedgerError> {
        self.lease()?
            .client()
            .execute("DELETE FROM juhe_ledger_entries WHERE started_at < $1", &[&unix_ms(before)])
            .map_err(|e| self.error(e))
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
    })
}

fn entry_of(row: &Row) -> Result<Entry, postgres::Error> {
    Ok(Entry {
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
    })
}
