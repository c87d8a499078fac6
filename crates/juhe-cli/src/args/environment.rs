//! Usage errors whose value came from the environment: clap blames the flag (`invalid value
//! 'AES' for '--mode <MODE>'`) when the flag was never typed; the user must learn which
//! variable to fix.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// `error`, with a note naming the environment variable its value came from: the option it
/// is about has a variable, set to the value refused (or empty). Other errors are returned as
/// they are.
pub(crate) fn named(mut error: clap::Error, command: &clap::Command) -> clap::Error {
    if !matches!(error.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        return error;
    }
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let Some(long) = shown.split_whitespace().next().and_then(|flag| flag.strip_prefix("--")) else {
        return error;
    };
    let Some(variable) = env_of(command, long) else { return error };
    let Some(set) = std::env::var_os(&variable) else { return error };
    let refused = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    // clap reports an empty value without the value itself.
    if set.to_string_lossy() != refused.as_str() {
        return error;
    }
    let note = if set.is_empty() {
        format!("the environment variable {variable} is set but empty: unset it, or give a value")
    } else {
        format!("the value comes from the environment variable {variable}: fix or unset it, or give --{long}")
    };
    error.insert(ContextKind::Suggested, ContextValue::StyledStrs(vec![note.into()]));
    error
}

/// The environment variable of the option `--long`, in `command` or any of its subcommands.
fn env_of(command: &clap::Command, long: &str) -> Option<String> {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .and_then(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .or_else(|| command.get_subcommands().find_map(|sub| env_of(sub, long)))
}
