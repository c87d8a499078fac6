//! Files that hold secrets (credentials, keys): created 0600, never through a link or over
//! something that is not a regular file; read only when nobody else may read them.

use std::io::Write;

/// Writes `bytes` to `path`, which only its owner may read (it holds a secret). An existing
/// file is replaced (its own mode might be wider), never a FIFO or device written through.
pub(crate) fn write(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
        }
        Err(_) => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Refuses a file holding a secret that others may read (any group or other permission
/// bit), as ssh refuses such a private key: `what` names it in the message.
pub(crate) fn refuse_shared(path: &std::path::Path, what: &str) -> Result<(), crate::failure::Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| crate::failure::Failure::usage(format!("{what} {}: {e}", path.display())))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(crate::failure::Failure::usage(format!(
                "{what} {}: others may read it (mode {mode:04o}), and it holds a secret: `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}
