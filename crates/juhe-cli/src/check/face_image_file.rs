//! Reading a face photo from a file without trusting the path: its size is checked before
//! reading (`--image /dev/zero` must not read gigabytes), and what is not a regular file
//! (a directory, a FIFO, a device) is refused at once.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use juhe_verify::proto::FaceImage;

/// Why a photo file cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ImageFileError {
    #[error("{path}: {source}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("{path} is not a regular file (a directory, a pipe or a device)")]
    NotAFile { path: String },
    #[error("{path} has {bytes} bytes; a face photo has at most {max} (Juhe advises 16-20 KB)")]
    TooLarge { path: String, bytes: u64, max: usize },
}

/// The file's bytes, at most [`FaceImage::MAX_BYTES`] of them.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, ImageFileError> {
    let shown = path.display().to_string();
    let unreadable = |source| ImageFileError::Unreadable { path: shown.clone(), source };
    let file = File::open(path).map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(ImageFileError::NotAFile { path: shown });
    }
    let max = FaceImage::MAX_BYTES;
    let too_large = |bytes| ImageFileError::TooLarge { path: shown.clone(), bytes, max };
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
        assert!(matches!(read(Path::new("/nonexistent/face.jpg")), Err(ImageFileError::Unreadable { .. })));
        assert!(matches!(read(Path::new("/tmp")), Err(ImageFileError::NotAFile { .. })));
        assert!(matches!(read(Path::new("/dev/zero")), Err(ImageFileError::NotAFile { .. })));
        let path = std::env::temp_dir().join(format!("juhe-big-{}.jpg", std::process::id()));
        std::fs::write(&path, vec![0u8; FaceImage::MAX_BYTES + 1]).unwrap();
        assert!(matches!(read(&path), Err(ImageFileError::TooLarge { .. })));
        std::fs::write(&path, b"\xFF\xD8\xFF").unwrap();
        assert_eq!(read(&path).unwrap().len(), 3);
        let _ = std::fs::remove_file(&path);
    }
}
