//! What an output was written for: its product, mode and target, kept in a small file beside
//! it (`<output>.juhe-run`). `--resume` continues an output only for the same three. The
//! headers alone cannot tell: an `idcard` output and a `telecom2` one have the same columns,
//! and an embedded-sandbox run's test verdicts must never stand as Juhe's.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use juhe_proto::{Mode, Product};

use crate::CsvError;
use crate::output::private;

/// The file's first line: what it is, for whoever opens it.
const PREAMBLE: &str =
    "# juhe batch: what the rows of the output beside this file were checked for; --resume compares it";

/// The largest binding file read: a few short lines.
const MAX_LEN: u64 = 4096;

/// An output's product, mode and target (`embedded-sandbox`, `juhe`, or a base URL's origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The product its rows were checked for.
    pub product: Product,
    /// The transmission mode.
    pub mode: Mode,
    /// Where the checks went (`juhe`, `embedded-sandbox`, a base URL's origin).
    pub target: String,
}

impl Binding {
    /// Where the binding of `output` is kept.
    pub fn path_of(output: &Path) -> PathBuf {
        let mut name = output.as_os_str().to_owned();
        name.push(".juhe-run");
        PathBuf::from(name)
    }

    fn text(&self) -> String {
        format!("{PREAMBLE}\nproduct={}\nmode={}\ntarget={}\n", self.product.name(), self.mode, self.target)
    }

    /// Records the binding of a new `output` (0600: the target may name an internal host).
    pub fn write(&self, output: &Path) -> Result<(), CsvError> {
        let path = Self::path_of(output);
        let failed = |e: std::io::Error| CsvError::io(format!("could not write {}: {e}", path.display()));
        let mut file = private(OpenOptions::new().write(true).create(true).truncate(true))
            .open(&path)
            .map_err(failed)?;
        file.write_all(self.text().as_bytes()).and_then(|()| file.sync_data()).map_err(failed)
    }

    /// Refuses (status 2, before anything is sent) to resume `output` for another product,
    /// mode or target than it was written for, or when there is no record of what that was.
    pub fn check(&self, output: &Path) -> Result<(), CsvError> {
        let path = Self::path_of(output);
        let written = read_small(&path).map_err(|e| {
            CsvError::input(format!(
                "{}: no record of what it was written for ({}: {e}); it may predate this check or have been \
                 moved without it. Nothing was sent: use a new --output",
                output.display(),
                path.display()
            ))
        })?;
        if written == self.text() {
            return Ok(());
        }
        let was = |key: &str| {
            written.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=')).unwrap_or("?").to_owned()
        };
        Err(CsvError::input(format!(
            "{} was written by `batch {}` in {} mode against {}, not `batch {}` in {} mode against {}: \
             its rows do not answer this run's question. Nothing was sent: use a new --output",
            output.display(),
            was("product"),
            was("mode"),
            was("target"),
            self.product.name(),
            self.mode,
            self.target
        )))
    }
}

/// A short regular file's text: never a FIFO or a device, never more than [`MAX_LEN`] bytes.
fn read_small(path: &Path) -> std::io::Result<String> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_LEN).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_product_mode_and_target_resume() {
        let output = std::env::temp_dir().join(format!("juhe-binding-{}.csv", std::process::id()));
        let binding =
            Binding { product: Product::IdCard, mode: Mode::Plain, target: "embedded-sandbox".into() };
        assert!(binding.check(&output).is_err(), "no binding written");
        binding.write(&output).unwrap();
        binding.check(&output).unwrap();
        let other = Binding { product: Product::Telecom2, ..binding.clone() };
        let message = other.check(&output).unwrap_err().message().to_owned();
        assert!(message.contains("`batch idcard`") && message.contains("`batch telecom2`"), "{message}");
        let real = Binding { target: "juhe".into(), ..binding.clone() };
        assert!(real.check(&output).is_err());
        let _ = std::fs::remove_file(Binding::path_of(&output));
    }
}
