//! The `juhe` command's tests, in one binary: each runs the built binary as a user would,
//! against an embedded or a separate sandbox.

mod batch_command;
mod batch_stops;
mod careless_and_hostile;
mod check_commands;
mod proxy;
mod result_fields;
mod sandbox_commands;

use std::process::{Command, Output};

/// Runs `juhe` with `args` and none of the `JUHE_*` variables of the environment the tests
/// run in.
pub(crate) fn juhe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_juhe"))
        .args(args)
        .env_remove("JUHE_KEY")
        .env_remove("JUHE_OPENID")
        .env_remove("JUHE_RSA_PUBLIC_KEY")
        .env_remove("JUHE_BASE_URL")
        .output()
        .unwrap()
}
