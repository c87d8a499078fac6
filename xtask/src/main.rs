//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask codegen` writes `crates/juhe-proto/src/generated/` from the tables in
//!   `docs/api/`.
//! - `cargo xtask codegen --check` writes nothing, and fails with a diff when the generated code
//!   is stale. `cargo test` runs the same check (see `tests` in `codegen.rs`).

mod codegen;
mod line_diff;
mod markdown;
mod rust_source;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(&workspace_root(), codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(&workspace_root(), codegen::Mode::Check),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(message) => {
            eprintln!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask codegen [--check]";

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
