//! Reading answers: an HTTP response becomes a typed outcome or a typed error.

use serde_json::Value;

use crate::outcome::ResultFields;
use crate::{AnswerError, Check, DecodeError, ErrorCode, HttpResponse, OutcomeReader, ServiceError};

/// Reads Juhe's answer to `check`.
///
/// Lenient where Juhe is loose ([docs/protocol.md, "Answers"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#answers)): `error_code` and result numbers may be strings,
/// unknown fields are ignored, unknown codes are kept. Never panics, whatever the bytes.
///
/// - `error_code` 0 → `Ok(outcome)`: billed once.
/// - any other code → [`DecodeError::Service`]: not billed.
/// - a redirect → [`AnswerError::Redirect`]: Juhe never sends one; it may have been billed.
/// - another status than 2xx → [`AnswerError::HttpStatus`].
/// - anything unreadable → [`AnswerError::Malformed`], which says whether it may be billed.
pub fn decode<C: Check>(check: &C, response: &HttpResponse) -> Result<C::Outcome, DecodeError> {
    decode_as(check.outcome_reader(), response)
}

/// [`decode`] with the check's [`OutcomeReader`]: for a client that keeps the reader, not the
/// check, while the request is out.
pub fn decode_as<O>(read: OutcomeReader<O>, response: &HttpResponse) -> Result<O, DecodeError> {
    let status = response.status();
    if status.is_redirection() {
        return Err(AnswerError::Redirect { status: status.as_u16() }.into());
    }
    if !status.is_success() {
        return Err(AnswerError::HttpStatus { status: status.as_u16() }.into());
    }
    // No request asks for compression, so a compressed answer is not Juhe's.
    let encoding = response.headers().get(http::header::CONTENT_ENCODING).map(|v| v.as_bytes());
    if encoding.is_some_and(|e| !e.eq_ignore_ascii_case(b"identity")) {
        return Err(malformed("a compressed answer (Content-Encoding), which no request asks for", true));
    }
    let envelope = Envelope::parse(response.body())?;
    if envelope.error_code != 0 {
        let order_id = envelope.result.as_ref().and_then(|r| r.text(crate::ResultField::OrderId));
        return Err(DecodeError::Service(ServiceError {
            code: ErrorCode::new(envelope.error_code),
            reason: envelope.reason,
            order_id,
        }));
    }
    let result =
        envelope.result.ok_or_else(|| malformed("error_code 0 came without a result object", true))?;
    Ok(read(&result, envelope.reason))
}

fn malformed(detail: &str, may_be_billed: bool) -> DecodeError {
    AnswerError::Malformed { detail: detail.to_owned(), may_be_billed }.into()
}

/// `{"reason": …, "result": …, "error_code": …}`.
struct Envelope {
    error_code: i64,
    reason: String,
    result: Option<ResultFields>,
}

impl Envelope {
    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        // Unreadable answers may be billed ones that broke on the way: say so.
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            malformed(&format!("not JSON: {} at line {} column {}", category(&e), e.line(), e.column()), true)
        })?;
        let Value::Object(mut map) = value else {
            return Err(malformed("not a JSON object", true));
        };
        let error_code = match map.get("error_code") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| malformed("no integer error_code", true))?;
        let reason = match map.remove("reason") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let result = match map.remove("result") {
            Some(Value::Object(fields)) => Some(ResultFields::new(fields)),
            _ => None,
        };
        Ok(Self { error_code, reason, result })
    }
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "read error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CivilDate, Telecom3Check};

    fn check() -> Telecom3Check {
        Telecom3Check::new_on(
            "张三",
            "11010519491231002X",
            "13912345678",
            CivilDate::new(2026, 12, 1).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_compressed_answer_is_refused_as_not_juhes() {
        let billed = br#"{"error_code":0,"reason":"ok","result":{"res":1}}"#.to_vec();
        let gzip = http::Response::builder().header("content-encoding", "gzip").body(billed.clone()).unwrap();
        let error = decode(&check(), &gzip).unwrap_err();
        assert!(
            matches!(error, DecodeError::Answer(AnswerError::Malformed { may_be_billed: true, .. })),
            "{error}"
        );
        assert!(error.to_string().contains("compressed"), "{error}");
        let identity = http::Response::builder().header("content-encoding", "identity").body(billed).unwrap();
        assert!(decode(&check(), &identity).is_ok());
    }
}
