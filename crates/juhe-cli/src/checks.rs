//! `juhe idcard | telecom2 | telecom3 | face`: one check, against Juhe or the embedded
//! sandbox.

use std::process::ExitCode;

use juhe_proto::{Check, Endpoint, Mode};
use juhe_sandbox::Sandbox;
use juhe_verify::{ClientBuilder, Error, Verdict};

use crate::args::{GlobalArgs, ModeArg, TransportArg};
use crate::check_output::{Printable, json_error, json_outcome, text};
use crate::failure::{Failure, Status};

/// Text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Runs one check and prints its outcome. `check` is the validated input, or why it is not.
pub(crate) fn run<C: Check>(global: &GlobalArgs, check: Result<C, Error>) -> Result<ExitCode, Failure>
where
    C::Outcome: Printable,
{
    let format = match global.output.as_deref() {
        None | Some("text") => Format::Text,
        Some("json") => Format::Json,
        Some(other) => return Err(Failure::usage(format!("--output {other}: a check prints text or json"))),
    };
    let mode = mode_of(global.mode);
    let endpoint = Endpoint::find(C::PRODUCT, mode).map_err(|e| Failure::usage(e.to_string()))?;
    let api = endpoint.info().api;
    let result = match check {
        Ok(check) => send(global, mode, &check)?,
        Err(invalid) => Err(invalid),
    };
    Ok(report(api, format, result))
}

pub(crate) fn mode_of(mode: ModeArg) -> Mode {
    match mode {
        ModeArg::Plain => Mode::Plain,
        ModeArg::Signed => Mode::Signed,
        ModeArg::Aes => Mode::Aes,
        ModeArg::Rsa => Mode::Rsa,
    }
}

/// Sends the check with the client the options ask for. The outer error is the CLI's own
/// (a runtime or sandbox that would not start); the inner one is the check's.
fn send<C: Check>(global: &GlobalArgs, mode: Mode, check: &C) -> Result<Result<C::Outcome, Error>, Failure> {
    let (builder, _sandbox) = settings(global)?;
    Ok(match global.transport {
        TransportArg::Ureq => builder.build_blocking().and_then(|client| client.verify_in(mode, check)),
        TransportArg::Reqwest => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))?;
            match builder.build() {
                Ok(client) => runtime.block_on(client.verify_in(mode, check)),
                Err(error) => Err(error),
            }
        }
    })
}

/// Client settings from the options, or for an embedded sandbox when no key is configured.
/// The sandbox, if any, lives as long as the returned value.
pub(crate) fn settings(global: &GlobalArgs) -> Result<(ClientBuilder, Option<Sandbox>), Failure> {
    if global.sandbox || global.key.is_none() {
        let sandbox = Sandbox::start()
            .map_err(|e| Failure::failed(format!("could not start the embedded sandbox: {e}")))?;
        let why =
            if global.sandbox { "--sandbox" } else { "no key configured (set JUHE_KEY or --key for Juhe)" };
        eprintln!("juhe: {why}: checking against the embedded sandbox; test data only, nothing is billed");
        let builder = ClientBuilder::new().account(&sandbox.account());
        return Ok((builder, Some(sandbox)));
    }
    let mut builder = ClientBuilder::new();
    if let Some(key) = &global.key {
        builder = builder.key(key);
    }
    if let Some(openid) = &global.openid {
        builder = builder.openid(openid);
    }
    if let Some(rsa) = &global.rsa_public_key {
        builder = builder.rsa_public_key(rsa);
    }
    if let Some(url) = &global.base_url {
        builder = builder.base_url(url);
    }
    Ok((builder, None))
}

/// Prints the outcome or the error and picks the exit status.
fn report<O: Printable>(api: &str, format: Format, result: Result<O, Error>) -> ExitCode {
    let status = match &result {
        Ok(outcome) => match outcome.verdict() {
            Verdict::Match => Status::Match,
            Verdict::Mismatch => Status::Mismatch,
            _ => Status::Failure,
        },
        Err(error) => Status::of(error),
    };
    match (format, &result) {
        (Format::Json, Ok(outcome)) => println!("{}", json_outcome(api, outcome)),
        (Format::Json, Err(error)) => println!("{}", json_error(api, error)),
        (Format::Text, Ok(outcome)) => println!("{}", text(api, outcome)),
        (Format::Text, Err(error)) => eprintln!("juhe: {error}"),
    }
    if let Err(error) = &result
        && error.may_be_billed()
    {
        eprintln!("juhe: this check may have been billed; Juhe's order records will tell");
    }
    status.exit_code()
}
