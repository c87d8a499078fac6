//! The ledger's tables, one schema for both backends. Migrations are numbered and run forward
//! only: a ledger whose version is newer than [`VERSION`] is refused, never rewritten.

/// The schema version this crate writes.
pub(crate) const VERSION: i64 = 5;

/// `PRAGMA application_id` of a SQLite ledger: "JUHE". A SQLite file with another id belongs
/// to another program and is refused.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_APPLICATION_ID: i64 = 0x4a55_4845;

/// One migration: from version `n - 1` to `n`, where `n` is its place in the list, counting
/// from 1. SQLite and PostgreSQL differ only in the types of the key and the subject.
pub(crate) struct Migration {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) sqlite: &'static str,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) postgres: &'static str,
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: [Migration; 5] = [
    Migration {
    sqlite: "
        CREATE TABLE juhe_ledger_entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account TEXT NOT NULL,
            subject BLOB NOT NULL,
            product TEXT NOT NULL,
            mode TEXT NOT NULL,
            target TEXT NOT NULL,
            masked TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            deadline_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            finished_at INTEGER,
            error_code INTEGER,
            verdict TEXT,
            order_id TEXT,
            attempts INTEGER,
            reason TEXT,
            result TEXT
        );
        CREATE INDEX juhe_ledger_entries_subject ON juhe_ledger_entries (subject, product, target, started_at);
        CREATE INDEX juhe_ledger_entries_started ON juhe_ledger_entries (started_at);
        CREATE INDEX juhe_ledger_entries_unanswered ON juhe_ledger_entries (state)
            WHERE state IN ('pending', 'maybe_billed');
        CREATE TABLE juhe_ledger_spend (
            account TEXT NOT NULL,
            period TEXT NOT NULL,
            spent INTEGER NOT NULL,
            PRIMARY KEY (account, period)
        ) WITHOUT ROWID;
    ",
    postgres: "
        CREATE TABLE juhe_ledger_entries (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account TEXT NOT NULL,
            subject BYTEA NOT NULL,
            product TEXT NOT NULL,
            mode TEXT NOT NULL,
            target TEXT NOT NULL,
            masked TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            deadline_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            finished_at BIGINT,
            error_code BIGINT,
            verdict TEXT,
            order_id TEXT,
            attempts BIGINT,
            reason TEXT,
            result TEXT
        );
        CREATE INDEX juhe_ledger_entries_subject ON juhe_ledger_entries (subject, product, target, started_at);
        CREATE INDEX juhe_ledger_entries_started ON juhe_ledger_entries (started_at);
        CREATE INDEX juhe_ledger_entries_unanswered ON juhe_ledger_entries (state)
            WHERE state IN ('pending', 'maybe_billed');
        CREATE TABLE juhe_ledger_spend (
            account TEXT NOT NULL,
            period TEXT NOT NULL,
            spent BIGINT NOT NULL,
            PRIMARY KEY (account, period)
        );
    ",
    },
    // 2: who sent a pending entry (an owner token whose holder's liveness others can test),
    // and the reconciliation that settled an unanswered entry by hand.
    Migration {
        sqlite: "
            ALTER TABLE juhe_ledger_entries ADD COLUMN owner INTEGER;
            ALTER TABLE juhe_ledger_entries ADD COLUMN settled_at INTEGER;
            ALTER TABLE juhe_ledger_entries ADD COLUMN settled_by TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN settled_from TEXT;
        ",
        postgres: "
            ALTER TABLE juhe_ledger_entries ADD COLUMN owner BIGINT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN settled_at BIGINT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN settled_by TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN settled_from TEXT;
        ",
    },
    // 3: the key's pace, one row per account and target, shared by every process on the
    // ledger (see `pace.rs`); `version` makes each store conditional on what was loaded.
    Migration {
        sqlite: "
            CREATE TABLE juhe_ledger_pace (
                account TEXT NOT NULL,
                target TEXT NOT NULL,
                version INTEGER NOT NULL,
                next_at INTEGER NOT NULL,
                rate REAL NOT NULL,
                limit_rate REAL,
                refused_at REAL NOT NULL,
                last_cut INTEGER,
                remeasure_at INTEGER,
                touched_at INTEGER NOT NULL,
                cap REAL,
                cap_seen_at INTEGER,
                created_at INTEGER NOT NULL,
                live_at INTEGER,
                PRIMARY KEY (account, target)
            ) WITHOUT ROWID;
        ",
        postgres: "
            CREATE TABLE juhe_ledger_pace (
                account TEXT NOT NULL,
                target TEXT NOT NULL,
                version BIGINT NOT NULL,
                next_at BIGINT NOT NULL,
                rate DOUBLE PRECISION NOT NULL,
                limit_rate DOUBLE PRECISION,
                refused_at DOUBLE PRECISION NOT NULL,
                last_cut BIGINT,
                remeasure_at BIGINT,
                touched_at BIGINT NOT NULL,
                cap DOUBLE PRECISION,
                cap_seen_at BIGINT,
                created_at BIGINT NOT NULL,
                live_at BIGINT,
                PRIMARY KEY (account, target)
            );
        ",
    },
    // 4: who sent each entry (OS user, host, process), for what purpose and under which
    // consent reference, and for which team of a gateway (whose own budget counts in
    // `juhe_ledger_spend` under `account/team`); the gateway's team keys (the key's hash and
    // the team's secrets sealed under the gateway's master key, never in clear); and the
    // admin log (key changes, erasures), append-only: the database refuses to change a line.
    Migration {
        sqlite: "
            ALTER TABLE juhe_ledger_entries ADD COLUMN team TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN purpose TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN consent_ref TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN by_user TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN by_host TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN by_pid INTEGER;
            CREATE TABLE juhe_ledger_team_keys (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                team TEXT NOT NULL,
                key_hash BLOB NOT NULL UNIQUE,
                sealed BLOB NOT NULL,
                rules TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            );
            CREATE TABLE juhe_ledger_admin_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                by_user TEXT NOT NULL,
                action TEXT NOT NULL,
                team TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            );
            CREATE TRIGGER juhe_ledger_admin_log_no_update BEFORE UPDATE ON juhe_ledger_admin_log
                BEGIN SELECT RAISE(ABORT, 'the admin log is append-only'); END;
            CREATE TRIGGER juhe_ledger_admin_log_no_delete BEFORE DELETE ON juhe_ledger_admin_log
                BEGIN SELECT RAISE(ABORT, 'the admin log is append-only'); END;
        ",
        postgres: "
            ALTER TABLE juhe_ledger_entries ADD COLUMN team TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN purpose TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN consent_ref TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN by_user TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN by_host TEXT;
            ALTER TABLE juhe_ledger_entries ADD COLUMN by_pid BIGINT;
            CREATE TABLE juhe_ledger_team_keys (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                team TEXT NOT NULL,
                key_hash BYTEA NOT NULL UNIQUE,
                sealed BYTEA NOT NULL,
                rules TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT
            );
            CREATE TABLE juhe_ledger_admin_log (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at BIGINT NOT NULL,
                by_user TEXT NOT NULL,
                action TEXT NOT NULL,
                team TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            );
            CREATE FUNCTION juhe_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the admin log is append-only'; END $$;
            CREATE TRIGGER juhe_ledger_admin_log_append_only BEFORE UPDATE OR DELETE ON juhe_ledger_admin_log
                FOR EACH ROW EXECUTE FUNCTION juhe_ledger_append_only();
        ",
    },
    // 5: how many checks the ledger answered from an earlier billed one, per day (China),
    // product, mode, team and target: what reuse saved, for reports. Counted in memory and
    // added here by a thread of their own (`reuse_counts`), never on a reused answer's path.
    // And the ledger's settings: its retention periods and when they were last applied; and
    // the version of the secret each entry's subject is hashed under.
    Migration {
        sqlite: "
            CREATE TABLE juhe_ledger_reuse (
                account TEXT NOT NULL,
                day INTEGER NOT NULL,
                product TEXT NOT NULL,
                mode TEXT NOT NULL,
                team TEXT NOT NULL,
                target TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (account, day, product, mode, team, target)
            ) WITHOUT ROWID;
            CREATE TABLE juhe_ledger_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            ALTER TABLE juhe_ledger_entries ADD COLUMN secret_version TEXT;
        ",
        postgres: "
            CREATE TABLE juhe_ledger_reuse (
                account TEXT NOT NULL,
                day BIGINT NOT NULL,
                product TEXT NOT NULL,
                mode TEXT NOT NULL,
                team TEXT NOT NULL,
                target TEXT NOT NULL,
                count BIGINT NOT NULL,
                PRIMARY KEY (account, day, product, mode, team, target)
            );
            CREATE TABLE juhe_ledger_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            ALTER TABLE juhe_ledger_entries ADD COLUMN secret_version TEXT;
        ",
    },
];

/// Adds reuse counts: parameters account, day, product, mode, team, target, count, marked
/// `?` (SQLite) or `$` (PostgreSQL).
pub(crate) fn add_reuse_sql(mark: char) -> String {
    format!(
        "INSERT INTO juhe_ledger_reuse (account, day, product, mode, team, target, count) \
         VALUES ({mark}1, {mark}2, {mark}3, {mark}4, {mark}5, {mark}6, {mark}7) \
         ON CONFLICT (account, day, product, mode, team, target) \
         DO UPDATE SET count = juhe_ledger_reuse.count + excluded.count"
    )
}

/// The columns of a pace row after its version, in the order of [`KeyPace`](crate::pace)'s
/// fields.
const PACE_FIELDS: [&str; 11] = [
    "next_at",
    "rate",
    "limit_rate",
    "refused_at",
    "last_cut",
    "remeasure_at",
    "touched_at",
    "cap",
    "cap_seen_at",
    "created_at",
    "live_at",
];

/// The statements of the pace's row, for a backend whose parameters are marked `mark` (`?`
/// for SQLite, `$` for PostgreSQL). Parameters: 1 the account, 2 the target, 3 the version
/// loaded, then the fields in [`PACE_FIELDS`]'s order. `select` reads the version, then the
/// fields; `update` stores over the version loaded; `insert` stores a first row unless one is
/// there. Both stores change one row or none.
pub(crate) struct PaceSql {
    pub(crate) select: String,
    pub(crate) update: String,
    pub(crate) insert: String,
}

impl PaceSql {
    pub(crate) fn new(mark: char) -> Self {
        let columns = PACE_FIELDS.join(", ");
        let at = |n: usize| format!("{mark}{}", n + 4);
        let set: Vec<String> =
            PACE_FIELDS.iter().enumerate().map(|(n, f)| format!("{f} = {}", at(n))).collect();
        let values: Vec<String> = (0..PACE_FIELDS.len()).map(at).collect();
        // CAST: PostgreSQL would take `$3 + 1` for an int4.
        let next_version = format!("CAST({mark}3 AS BIGINT) + 1");
        Self {
            select: format!(
                "SELECT version, {columns} FROM juhe_ledger_pace WHERE account = {mark}1 AND target = {mark}2"
            ),
            update: format!(
                "UPDATE juhe_ledger_pace SET version = {next_version}, {} \
                 WHERE account = {mark}1 AND target = {mark}2 AND version = {mark}3",
                set.join(", ")
            ),
            insert: format!(
                "INSERT INTO juhe_ledger_pace (account, target, version, {columns}) \
                 VALUES ({mark}1, {mark}2, {next_version}, {}) ON CONFLICT DO NOTHING",
                values.join(", ")
            ),
        }
    }
}

/// The columns every backend reads an [`Entry`](crate::Entry) from, in this order.
pub(crate) const ENTRY_COLUMNS: &str = "id, account, product, mode, target, masked, started_at, finished_at, \
     state, error_code, verdict, order_id, attempts, owner, deadline_at, settled_at, settled_by, settled_from, \
     team, purpose, consent_ref, by_user, by_host, by_pid";

/// The columns of an earlier entry, for the decision.
pub(crate) const EARLIER_COLUMNS: &str =
    "id, state, started_at, deadline_at, verdict, order_id, reason, result, owner";

/// How many earlier entries the decision reads at most: the newest that may cost money.
pub(crate) const EARLIER_LIMIT: i64 = 16;

/// The subject a forgotten entry keeps: no check hashes to it, so it links nothing.
pub(crate) const FORGOTTEN_SUBJECT: [u8; 32] = [0; 32];

/// The secret versions of the entries that still hold a subject (parameter: the forgotten
/// subject), oldest first.
pub(crate) fn secret_versions_sql(mark: char) -> String {
    format!(
        "SELECT coalesce(secret_version, ''), count(*), min(started_at), max(started_at) \
         FROM juhe_ledger_entries WHERE subject <> {mark}1 GROUP BY 1 ORDER BY 3"
    )
}

/// The settings of the ledger's retention (`juhe_ledger_settings`), in milliseconds.
pub(crate) const RETAIN_PERSONAL: &str = "retain_personal_ms";
pub(crate) const RETAIN_BILLING: &str = "retain_billing_ms";
pub(crate) const RETENTION_APPLIED_AT: &str = "retention_applied_at_ms";

/// The statements of a retention pass, with a backend's parameter marks. `clear` and
/// `count_clear` take the personal cut-off, the billing cut-off and the forgotten subject;
/// `delete` and `count_delete` the billing cut-off.
pub(crate) struct RetentionSql {
    pub(crate) clear: String,
    pub(crate) count_clear: String,
    pub(crate) delete: String,
    /// Reuse counts of days before the billing cut-off (parameter: the Unix day in China).
    pub(crate) delete_reuse: String,
    pub(crate) count_delete: String,
    pub(crate) read: String,
    pub(crate) write: String,
}

impl RetentionSql {
    pub(crate) fn new(mark: char) -> Self {
        let personal = format!("started_at < {mark}1 AND started_at >= {mark}2 AND subject <> {mark}3");
        Self {
            clear: format!(
                "UPDATE juhe_ledger_entries SET masked = '', result = NULL, subject = {mark}3 WHERE {personal}"
            ),
            count_clear: format!("SELECT count(*) FROM juhe_ledger_entries WHERE {personal}"),
            delete: format!("DELETE FROM juhe_ledger_entries WHERE started_at < {mark}1"),
            delete_reuse: format!("DELETE FROM juhe_ledger_reuse WHERE day < {mark}1"),
            count_delete: format!("SELECT count(*) FROM juhe_ledger_entries WHERE started_at < {mark}1"),
            read: format!("SELECT value FROM juhe_ledger_settings WHERE name = {mark}1"),
            write: format!(
                "INSERT INTO juhe_ledger_settings (name, value) VALUES ({mark}1, {mark}2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paces_statements_are_written_once_for_both_marks() {
        let sqlite = PaceSql::new('?');
        assert_eq!(
            sqlite.update,
            "UPDATE juhe_ledger_pace SET version = CAST(?3 AS BIGINT) + 1, next_at = ?4, rate = ?5, \
             limit_rate = ?6, refused_at = ?7, last_cut = ?8, remeasure_at = ?9, touched_at = ?10, cap = ?11, \
             cap_seen_at = ?12, created_at = ?13, live_at = ?14 WHERE account = ?1 AND target = ?2 AND version = ?3"
        );
        let postgres = PaceSql::new('$');
        assert_eq!(postgres.insert.replace('$', "?"), sqlite.insert);
        assert!(
            postgres.select.starts_with("SELECT version, next_at, rate,")
                && postgres.select.ends_with("target = $2")
        );
    }
}
