//! The `juhe` command's tests, in one binary: each runs the built binary as a user would,
//! against an embedded or a separate sandbox.

mod batch_command;
mod batch_files;
mod batch_stops;
mod careless_and_hostile;
mod check_commands;
mod fleet;
mod gateway_commands;
mod gateway_replicas;
mod help_texts;
mod ledger_commands;
mod machine;
mod profiles_and_prices;
mod proxy;
mod purpose_and_audit;
mod result_fields;
mod sandbox_commands;

use std::process::{Command, Output};

/// Runs `juhe` with `args` and none of the `JUHE_*` variables of the environment the tests
/// run in.
pub(crate) fn juhe(args: &[&str]) -> Output {
    juhe_command()
        .args(args)
        .env_remove("JUHE_KEY")
        .env_remove("JUHE_OPENID")
        .env_remove("JUHE_RSA_PUBLIC_KEY")
        .env_remove("JUHE_BASE_URL")
        .output()
        .unwrap()
}

/// The `juhe` binary, isolated from the ledger of whoever runs the tests.
pub(crate) fn juhe_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_juhe"));
    isolated(&mut command);
    command
}

/// `command` (juhe, or a shell that runs it) with its default ledger in a directory of this
/// test process instead of the user's data directory, no config file of the user's, and no
/// ledger or profile settings inherited. The test shares the machine from then on
/// ([`machine`]).
pub(crate) fn isolated(command: &mut Command) -> &mut Command {
    machine::share();
    command
        .env("XDG_DATA_HOME", data_home())
        .env("XDG_CONFIG_HOME", data_home().join("config"))
        .env_remove("JUHE_LEDGER")
        .env_remove("JUHE_LEDGER_SECRET")
        .env_remove("JUHE_PROFILE")
        .env_remove("JUHE_CONFIG")
}

/// The data directory every `juhe` of this test process shares.
pub(crate) fn data_home() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("juhe-cli-tests-{}", std::process::id()))
}

/// A shell, isolated as [`isolated`] says, for running `juhe` under limits.
pub(crate) fn isolated_shell() -> Command {
    let mut command = Command::new("sh");
    isolated(&mut command);
    command
}
