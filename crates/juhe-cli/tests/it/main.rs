//! The `juhe` command's tests, in one binary: each runs the built binary as a user would,
//! against an embedded or a separate sandbox.

mod batch_command;
mod careless_and_hostile;
mod check_commands;
#[path = "../../../juhe-transport/tests/it/hostile.rs"]
#[allow(dead_code, reason = "shared with the transport tests, which use all of it")]
mod hostile;
mod sandbox_commands;
