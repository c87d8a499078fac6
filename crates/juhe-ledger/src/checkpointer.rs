//! SQLite's checkpoints off the commit path. In WAL mode with `synchronous = NORMAL` a commit
//! only appends to the log; the fsyncs happen when the log is copied back into the database
//! (a checkpoint), which SQLite does by default inside whichever commit crosses 1,000 pages:
//! that commit, and the check waiting for it, then pays for the disk. Here a thread of the
//! ledger handle, on a connection of its own, checkpoints every [`PERIOD`] instead, passively
//! (it never waits for nor blocks a writer), and the handle's own connection never does.
//! Durability is unchanged: what was committed is in the log either way.
//!
//! SQLite writes the log from its start again only when a write begins with every frame of
//! it copied back, which a passive checkpoint never sees while a batch writes without pause
//! (each copy ends with the writer's next frames already behind it): the log then grew by
//! every page of every check, 711 MB over 20,000 checks, kept until the handle closed. So
//! once the log is past [`RESTART_PAST`] pages, the thread asks the writer to restart it
//! after its next commit
//! ([`Checkpointer::restart_wanted`]): the writer copies back the frames written since (the
//! passive checkpoint did the rest) and the log starts over, at most once a period.
//!
//! Emptying the log after an expiry or a forget (so no old frame keeps a cleared row) takes
//! the same turn as the thread's checkpoints ([`Checkpointer::turn`]): two checkpoints at
//! once make the second busy at once, whatever the wait. When another process's reader or
//! checkpoint holds it off, the thread empties the log at its next periods instead
//! ([`Checkpointer::empty_log_later`]).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the log is copied back.
const PERIOD: Duration = Duration::from_millis(100);
/// How long the log may grow, in pages (16 MiB of 4 KiB pages), before the writer is asked to
/// start it over. SQLite's own checkpoints come every 1,000.
const RESTART_PAST: i64 = 4096;
/// How many periods pass without a request after a restart that readers held off (a long
/// report in another process on an old snapshot): the writer's attempt pays for syncs.
const HOLD_AFTER_IN_VAIN: u32 = 10;

/// The thread, stopped and joined when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    /// The requests to restart the log.
    restart: Arc<Requests>,
    /// One checkpoint at a time in this process: the thread's, or the handle's emptying.
    turn: Arc<Mutex<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the ledger at `path`; `None` when its connection or thread cannot
    /// be had (the handle's connection then keeps SQLite's own checkpoints).
    pub(crate) fn start(path: &Path) -> Option<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).ok()?;
        // A checkpoint that finds the database busy gives up until the next period.
        connection.busy_timeout(Duration::ZERO).ok()?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (restart, turn) = (Arc::new(Requests::default()), Arc::new(Mutex::new(())));
        let (stopping, asking, taking) = (Arc::clone(&stop), Arc::clone(&restart), Arc::clone(&turn));
        let thread = std::thread::Builder::new()
            .name("juhe-ledger-checkpoint".into())
            .spawn(move || run(&connection, &stopping, &asking, &taking))
            .ok()?;
        Some(Self { stop, restart, turn, thread: Some(thread) })
    }

    /// This process's turn to checkpoint, held while the handle empties the log: the thread's
    /// next checkpoint waits for it.
    pub(crate) fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The handle could not empty the log (another process's reader or checkpoint): the
    /// thread tries at each period until it has.
    pub(crate) fn empty_log_later(&self) {
        self.restart.empty.store(true, Ordering::Relaxed);
    }

    /// Whether the writer should restart the log now (asked once per request): after a
    /// commit, with `PRAGMA wal_checkpoint(RESTART)` and no wait for the lock.
    pub(crate) fn restart_wanted(&self) -> bool {
        self.restart.take()
    }

    /// The writer's restart was held off by a reader: the next request waits a while.
    pub(crate) fn restart_held_off(&self) {
        self.restart.held_off();
    }
}

/// The checkpointer's requests to restart the log, and the writer's word when one was in vain.
#[derive(Debug, Default)]
struct Requests {
    /// A checkpoint found the log long.
    wanted: AtomicBool,
    /// Periods left before the next request.
    held: AtomicU32,
    /// The log is to be emptied (`TRUNCATE`) by the thread: it holds cleared rows.
    empty: AtomicBool,
}

impl Requests {
    /// After a checkpoint that found `log` pages in the log.
    fn checkpointed(&self, log: i64) {
        let held = self.held.load(Ordering::Relaxed);
        if held > 0 {
            self.held.store(held - 1, Ordering::Relaxed);
        } else if log > RESTART_PAST {
            self.wanted.store(true, Ordering::Relaxed);
        }
    }

    fn take(&self) -> bool {
        self.wanted.swap(false, Ordering::Relaxed)
    }

    fn held_off(&self) {
        self.held.store(HOLD_AFTER_IN_VAIN, Ordering::Relaxed);
    }
}

fn run(connection: &Connection, stop: &(Mutex<bool>, Condvar), restart: &Requests, turn: &Mutex<()>) {
    let (stopped, wake) = stop;
    let mut guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
    while !*guard {
        guard = wake.wait_timeout(guard, PERIOD).unwrap_or_else(PoisonError::into_inner).0;
        if !*guard {
            let _turn = turn.lock().unwrap_or_else(PoisonError::into_inner);
            if restart.empty.load(Ordering::Relaxed) {
                // Busy: tried again next period; the cleared rows' old frames wait until then.
                let busy =
                    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0));
                if busy.is_ok_and(|busy| busy == 0) {
                    restart.empty.store(false, Ordering::Relaxed);
                }
                continue;
            }
            // Busy or failed: the log waits for the next period, nothing is lost.
            if let Ok(log) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1)) {
                restart.checkpointed(log);
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long log is asked to restart once per checkpoint; after a restart held off, the
    /// requests wait [`HOLD_AFTER_IN_VAIN`] periods.
    #[test]
    fn a_restart_held_off_holds_the_next_requests() {
        let requests = Requests::default();
        requests.checkpointed(RESTART_PAST);
        assert!(!requests.take(), "a log of the limit's length is not long");
        requests.checkpointed(RESTART_PAST + 1);
        assert!(requests.take());
        assert!(!requests.take(), "asked once");
        requests.held_off();
        for _ in 0..HOLD_AFTER_IN_VAIN {
            requests.checkpointed(RESTART_PAST + 1);
            assert!(!requests.take());
        }
        requests.checkpointed(RESTART_PAST + 1);
        assert!(requests.take());
    }

    /// Asked to empty the log, the thread does as soon as no reader holds it off, and keeps
    /// trying until then.
    #[test]
    fn a_log_left_to_empty_is_emptied_once_no_reader_holds_it() {
        let dir = std::env::temp_dir().join(format!("juhe-checkpointer-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty-later.sqlite");
        let wal = dir.join("empty-later.sqlite-wal");
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;").unwrap();
        writer.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('cleared row')").unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM t;").unwrap();
        let log_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
        assert!(log_len() > 0);

        let checkpointer = Checkpointer::start(&path).unwrap();
        checkpointer.empty_log_later();
        std::thread::sleep(PERIOD * 5);
        assert!(log_len() > 0, "a reader on the log holds it off");
        reader.execute_batch("COMMIT").unwrap();
        let emptied = (0..50).any(|_| {
            std::thread::sleep(PERIOD);
            log_len() == 0
        });
        assert!(emptied, "emptied at a later period, {} bytes left", log_len());
        // The thread holds the turn from its checkpoint to its bookkeeping: taking it waits for both.
        drop(checkpointer.turn());
        assert!(!checkpointer.restart.empty.load(Ordering::Relaxed), "done: not asked again");
        drop((checkpointer, writer));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
