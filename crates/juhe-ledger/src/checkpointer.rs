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

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the log is copied back.
const PERIOD: Duration = Duration::from_millis(100);
/// How long the log may grow, in pages (16 MiB of 4 KiB pages), before the writer is asked to
/// start it over. SQLite's own checkpoints come every 1,000.
const RESTART_PAST: i64 = 4096;

/// The thread, stopped and joined when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    /// Set when the log is past [`RESTART_PAST`] pages after a checkpoint.
    restart: Arc<AtomicBool>,
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
        let restart = Arc::new(AtomicBool::new(false));
        let (stopping, asking) = (Arc::clone(&stop), Arc::clone(&restart));
        let thread = std::thread::Builder::new()
            .name("juhe-ledger-checkpoint".into())
            .spawn(move || run(&connection, &stopping, &asking))
            .ok()?;
        Some(Self { stop, restart, thread: Some(thread) })
    }

    /// Whether the writer should restart the log now (asked once per request): after a
    /// commit, with `PRAGMA wal_checkpoint(RESTART)` and no wait for the lock.
    pub(crate) fn restart_wanted(&self) -> bool {
        self.restart.swap(false, Ordering::Relaxed)
    }
}

fn run(connection: &Connection, stop: &(Mutex<bool>, Condvar), restart: &AtomicBool) {
    let (stopped, wake) = stop;
    let mut guard = stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    while !*guard {
        guard = wake.wait_timeout(guard, PERIOD).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        if !*guard {
            // Busy or failed: the log waits for the next period, nothing is lost.
            let log = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get::<_, i64>(1));
            if log.is_ok_and(|pages| pages > RESTART_PAST) {
                restart.store(true, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
