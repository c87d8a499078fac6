//! `juhe idcard | telecom2 | telecom3 | face`: one check, against Juhe or the embedded
//! sandbox.

pub(crate) mod output;

use std::process::ExitCode;

use juhe_proto::Check;
use juhe_proto::{AnyCheck, CivilDate, PersonalFields};
use juhe_verify::{Endpoint, Error, Product, ValidationError, Verdict};

use crate::args::hiargs::{CheckInput, Connection, Format};
use crate::args::product_commands::FieldArg;
use crate::check::output::{Printable, json_error, json_outcome, text};
use crate::connection::{runtime, settings};
use crate::failure::{Failure, Status, error_chain};
use crate::untrusted_text::escaped;
use juhe_csv::local_file;

/// Runs one check and prints its outcome.
pub(crate) fn run(input: CheckInput, connection: &Connection, format: Format) -> Result<ExitCode, Failure> {
    let endpoint =
        Endpoint::find(input.product, connection.mode).map_err(|e| Failure::usage(e.to_string()))?;
    let check = check_of(&input)?;
    one(input.product, endpoint.info().api, check, connection, format)
}

/// The check the options ask for, or why it is invalid; a file that cannot be read is a usage
/// error naming its option.
fn check_of(input: &CheckInput) -> Result<Result<AnyCheck, ValidationError>, Failure> {
    let mut fields = PersonalFields::new();
    for (param, value) in &input.fields {
        match value {
            FieldArg::Text(text) => fields.insert(*param, text.as_str()),
            FieldArg::File(path) => {
                let bytes = local_file::read(path, local_file::FACE_PHOTO).map_err(|e| {
                    Failure::usage(format!("--{}: {e}", param.field_name().unwrap_or(param.wire_name())))
                })?;
                fields.insert_bytes(*param, &bytes);
            }
        }
    }
    Ok(AnyCheck::parse(input.product, &fields, CivilDate::today_in_china()))
}

/// Sends a validated check, or reports why it is not valid; nothing starts for bad input.
fn one<C: Check>(
    product: Product,
    api: &str,
    check: Result<C, ValidationError>,
    connection: &Connection,
    format: Format,
) -> Result<ExitCode, Failure>
where
    C::Outcome: Printable,
{
    let result = match check {
        Ok(check) => send(connection, &check)?,
        Err(invalid) => Err(Error::Invalid(invalid)),
    };
    Ok(report(product, api, format, result))
}

/// Sends the check with the client the options ask for. The outer error is the CLI's own
/// (a runtime or sandbox that would not start); the inner one is the check's.
fn send<C: Check>(connection: &Connection, check: &C) -> Result<Result<C::Outcome, Error>, Failure> {
    let (builder, _sandbox) = settings(connection)?;
    if connection.blocking {
        return Ok(builder.build_blocking().and_then(|client| client.verify(check)));
    }
    let runtime = runtime(1)?;
    Ok(match builder.build() {
        Ok(client) => runtime.block_on(client.verify(check)),
        Err(error) => Err(error),
    })
}

/// Prints the outcome or the error and picks the exit status.
fn report<O: Printable>(product: Product, api: &str, format: Format, result: Result<O, Error>) -> ExitCode {
    let status = match &result {
        Ok(outcome) => match outcome.verdict() {
            Verdict::Match => Status::Match,
            Verdict::Mismatch => Status::Mismatch,
            _ => Status::Failure,
        },
        Err(error) => Status::of(error),
    };
    match (format, &result) {
        (Format::Json, Ok(outcome)) => println!("{}", json_outcome(product, api, outcome)),
        (Format::Json, Err(error)) => println!("{}", json_error(api, error)),
        (Format::Text, Ok(outcome)) => println!("{}", text(api, outcome)),
        (Format::Text, Err(error)) => eprintln!("juhe: {}", escaped(&error_chain(error))),
    }
    if let Err(error) = &result
        && error.may_be_billed()
    {
        eprintln!("juhe: this check may have been billed; Juhe's order records will tell");
    }
    status.exit_code()
}
