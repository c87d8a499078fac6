//! Who sent a pending entry, and whether that process is still alive.
//!
//! Every ledger handle is an **owner**: a random token recorded with each pending entry it
//! commits, and held alive by something the operating system or the database releases the
//! moment the process dies, SIGKILL included. Another process can then tell a check still in
//! flight (wait for it) from one whose sender died (maybe billed, at once), instead of waiting
//! for the dead check's deadline.
//!
//! - SQLite (one machine): an exclusive lock on a file of its own beside the ledger,
//!   `LEDGER.owners/TOKEN`. The kernel releases it when the process ends; a lock that can be
//!   taken belongs to a dead process.
//! - PostgreSQL (many machines): a session-level advisory lock held by a connection of its own
//!   (`postgres.rs`); it goes with that connection, which the server closes when the process
//!   dies or, for a machine cut off, when keepalives fail (a few seconds).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::SystemTime;

/// A new owner token: 62 random bits, positive in an `i64` (and so in either database).
pub(crate) fn new_token() -> i64 {
    let seed = (std::process::id(), SystemTime::now(), std::thread::current().id());
    let random = RandomState::new().hash_one(format!("{seed:?}"));
    i64::try_from(random >> 2).unwrap_or(1).max(1)
}

/// An owner token as its lock file's name: 16 hex digits.
#[cfg(feature = "sqlite")]
pub(crate) fn file_name(token: i64) -> String {
    format!("{token:016x}")
}

/// The lock files of a SQLite ledger's owners.
#[cfg(feature = "sqlite")]
pub(crate) mod files {
    use std::fs::{File, OpenOptions, TryLockError};
    use std::path::{Path, PathBuf};

    use super::file_name;

    /// This process's hold on its token: the locked file, removed again when dropped.
    #[derive(Debug)]
    pub(crate) struct Held {
        path: PathBuf,
        file: File,
    }

    impl Drop for Held {
        fn drop(&mut self) {
            // Removed before the lock goes, so no checker finds it unlocked and misreads the
            // order of things; an error leaves a stale file, which the next checker removes.
            let _ = std::fs::remove_file(&self.path);
            let _ = self.file.unlock();
        }
    }

    /// Where the owners' files of the ledger at `ledger` live.
    pub(crate) fn directory(ledger: &Path) -> PathBuf {
        let mut name = ledger.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".owners");
        ledger.with_file_name(name)
    }

    /// Takes `token`: creates its file (0600, in a 0700 directory) under a temporary name,
    /// locks it, and only then gives it its name, so no checker ever sees it unlocked.
    pub(crate) fn hold(dir: &Path, token: i64) -> std::io::Result<Held> {
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            dirs.mode(0o700);
            options.mode(0o600);
        }
        dirs.create(dir)?;
        let path = dir.join(file_name(token));
        let temporary = dir.join(format!(".{}.new", file_name(token)));
        let file = options.open(&temporary)?;
        file.lock()?;
        std::fs::rename(&temporary, &path)?;
        Ok(Held { path, file })
    }

    /// Whether the process holding `token` is alive. A file that is missing, or whose lock can
    /// be taken, belongs to a process that ended; it is removed.
    pub(crate) fn alive(dir: &Path, token: i64) -> std::io::Result<bool> {
        let path = dir.join(file_name(token));
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        match file.try_lock() {
            Err(TryLockError::WouldBlock) => Ok(true),
            Ok(()) => {
                let _ = std::fs::remove_file(&path);
                Ok(false)
            }
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_held_token_is_alive_and_a_released_one_is_not() {
            let dir = std::env::temp_dir().join(format!("juhe-owner-test-{}", std::process::id()));
            let held = hold(&dir, 42).unwrap();
            assert!(alive(&dir, 42).unwrap(), "held by this very process, through another handle");
            assert!(!alive(&dir, 43).unwrap(), "never held");
            drop(held);
            assert!(!alive(&dir, 42).unwrap());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_positive_and_differ() {
        let (a, b) = (super::new_token(), super::new_token());
        assert!(a > 0 && b > 0);
        assert_ne!(a, b);
    }
}
