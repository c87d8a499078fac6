//! Where the ledger of checks against Juhe lives when no `--ledger` is given.

use std::path::PathBuf;

use juhe_verify::ledger::Location;

use crate::failure::Failure;

/// The ledger of checks against Juhe when none is given: `ledger.sqlite` in the user's data
/// directory (`$XDG_DATA_HOME/juhe`, `~/.local/share/juhe`; `~/Library/Application Support/juhe`
/// on macOS; `%APPDATA%\juhe` on Windows).
pub(crate) fn location() -> Result<Location, Failure> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let data = if cfg!(windows) {
        var("APPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library").join("Application Support"))
    } else {
        // The XDG rule: a relative XDG_DATA_HOME is ignored.
        var("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
    };
    match data {
        Some(dir) => Ok(Location::Sqlite(dir.join("juhe").join("ledger.sqlite"))),
        None => Err(Failure::usage(
            "no data directory for the default ledger (HOME is not set): give --ledger URL, or --no-ledger",
        )),
    }
}
