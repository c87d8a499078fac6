//! Reading a file named on the command line or in a CSV cell without trusting the name: what
//! is not a regular file (a directory, a FIFO, a device) is refused from its metadata, before
//! it is opened (opening a FIFO waits for a writer: `--image FIFO` would hang), and no more
//! than a limit suited to the file's kind is read (`--ca-cert /dev/zero` must not fill memory).

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Why a file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LocalFileError {
    /// It could not be opened or read.
    #[error("{path}: {source}")]
    Unreadable {
        /// The path, as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is a directory, a pipe or a device.
    #[error("{path} is not a regular file (a directory, a pipe or a device)")]
    NotAFile {
        /// The path, as given.
        path: String,
    },
    /// It is larger than files of its kind may be.
    #[error("{path} has {bytes} bytes; {limit}")]
    TooLarge {
        /// The path, as given.
        path: String,
        /// Its size.
        bytes: u64,
        /// The limit.
        max: usize,
        /// What the limit is about.
        limit: &'static str,
    },
}

/// What the files of each kind may weigh, and what the message says about it.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// The most bytes read.
    pub max: usize,
    /// What an error says about the limit.
    pub says: &'static str,
}

/// A face photo: Juhe's limit.
pub const FACE_PHOTO: Limit = Limit {
    max: juhe_proto::FaceImage::MAX_BYTES,
    says: "a face photo has at most 5 MiB (Juhe advises 16-20 KB)",
};

/// A PEM certificate: a few KB; a chain of them well under 1 MiB.
pub const CERTIFICATE: Limit = Limit { max: 1 << 20, says: "a CA certificate file is read up to 1 MiB" };

/// The file's bytes, at most `limit.max` of them.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, LocalFileError> {
    let shown = path.display().to_string();
    let unreadable = |source| LocalFileError::Unreadable { path: shown.clone(), source };
    // Before opening: opening a FIFO blocks until someone writes to it.
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(LocalFileError::NotAFile { path: shown });
    }
    let file = File::open(path).map_err(unreadable)?;
    // Again on what was opened: the name may have been swapped meanwhile.
    let metadata = file.metadata().map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(LocalFileError::NotAFile { path: shown });
    }
    let max = limit.max;
    let too_large = |bytes| LocalFileError::TooLarge { path: shown.clone(), bytes, max, limit: limit.says };
    if metadata.len() > max as u64 {
        return Err(too_large(metadata.len()));
    }
    // The file may grow between the check and the read: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(max as u64 + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    if bytes.len() > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_small_regular_file() {
        let read = |path: &Path| read(path, FACE_PHOTO);
        assert!(matches!(read(Path::new("/nonexistent/face.jpg")), Err(LocalFileError::Unreadable { .. })));
        assert!(matches!(read(Path::new("/tmp")), Err(LocalFileError::NotAFile { .. })));
        assert!(matches!(read(Path::new("/dev/zero")), Err(LocalFileError::NotAFile { .. })));
        let path = std::env::temp_dir().join(format!("juhe-big-{}.jpg", std::process::id()));
        std::fs::write(&path, vec![0u8; FACE_PHOTO.max + 1]).unwrap();
        assert!(matches!(read(&path), Err(LocalFileError::TooLarge { .. })));
        std::fs::write(&path, b"\xFF\xD8\xFF").unwrap();
        assert_eq!(read(&path).unwrap().len(), 3);
        let _ = std::fs::remove_file(&path);
    }
}
