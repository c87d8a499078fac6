//! SQLite's checkpoints off the commit path. In WAL mode with `synchronous = NORMAL` a commit
//! only appends to the log; the fsyncs happen when the log is copied back into the database
//! (a checkpoint), which SQLite does by default inside whichever commit crosses 1,000 pages:
//! that commit, and the check waiting for it, then pays for the disk. Here a thread of the
//! ledger handle, on a connection of its own, checkpoints every [`PERIOD`] instead, passively
//! (it never waits for nor blocks a writer), and the handle's own connection never does.
//! Durability is unchanged: what was committed is in the log either way.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the log is copied back.
const PERIOD: Duration = Duration::from_millis(100);

/// The thread, stopped and joined when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
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
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("juhe-ledger-checkpoint".into())
            .spawn(move || run(&connection, &stopping))
            .ok()?;
        Some(Self { stop, thread: Some(thread) })
    }
}

fn run(connection: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    let mut guard = stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    while !*guard {
        guard = wake.wait_timeout(guard, PERIOD).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        if !*guard {
            // Busy or failed: the log waits for the next period, nothing is lost.
            let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
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
