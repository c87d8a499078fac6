//! Writing Rust source text: literals, and formatting with rustfmt so generated files pass
//! `cargo fmt --check` untouched.

use std::io::Write;
use std::process::{Command, Stdio};

/// A Rust string literal for `text`.
pub(crate) fn string(text: &str) -> String {
    format!("{text:?}")
}

/// Checks that `name` can be a Rust variant name (UpperCamelCase ASCII).
pub(crate) fn variant_name(name: &str, line: usize) -> Result<&str, String> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric());
    if ok { Ok(name) } else { Err(format!("line {line}: `{name}` is not an UpperCamelCase name")) }
}

/// Formats `source` with the toolchain's rustfmt.
pub(crate) fn format(source: &str) -> Result<String, String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run rustfmt (rustup component add rustfmt): {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt has no stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt rejected the generated code:\n{}\n{source}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}
