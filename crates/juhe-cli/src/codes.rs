//! `juhe codes [CODE]`: what Juhe's error codes mean.

use std::process::ExitCode;

use juhe_proto::{ErrorCode, RetryClass};
use serde_json::json;

use crate::args::hiargs::Format;
use crate::failure::Failure;

pub(crate) fn run(code: Option<i64>, format: Format) -> Result<ExitCode, Failure> {
    let json = format == Format::Json;
    let codes: Vec<ErrorCode> = match code {
        None => ErrorCode::ALL.to_vec(),
        Some(0) => return Err(Failure::usage("0 is success: the check was processed and billed once")),
        Some(code) => match ErrorCode::new(code) {
            known if known.info().is_some() => vec![known],
            _ => return Err(Failure::usage(format!("{code} is not a code Juhe documents"))),
        },
    };
    for code in codes {
        let Some(info) = code.info() else { continue };
        let retry = match info.retry {
            RetryClass::Permanent => "no: fix the input or the account",
            RetryClass::Transient => "yes: not processed, safe to retry",
            RetryClass::RateLimited => "after backing off: rate limited",
        };
        if json {
            println!(
                "{}",
                json!({ "error_code": info.code, "zh": info.zh, "en": info.en, "retry": retry, "billed": false })
            );
        } else {
            println!("{}\t{}\t{}\tretry: {retry}; not billed", info.code, info.zh, info.en);
        }
    }
    Ok(ExitCode::SUCCESS)
}
