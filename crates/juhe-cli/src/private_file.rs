//! Files that hold secrets (credentials, keys): created 0600, never through a link or over
//! something that is not a regular file.

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
