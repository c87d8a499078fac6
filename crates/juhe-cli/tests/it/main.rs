//! The `juhe` command's tests, in one binary: each runs the built binary as a user would,
//! against an embedded or a separate sandbox.

mod batch_command;
mod check_commands;
mod sandbox_commands;
