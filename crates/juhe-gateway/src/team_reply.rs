//! What a team is answered: Juhe's own JSON for what the forwarded check came to, with the
//! gateway's headers. A reused answer carries the original order number and says it was not
//! billed; an answer the gateway gives itself (a budget, a check that may have been billed)
//! uses a code from Juhe's table that clients already handle, and a reason that says why.

use http::{HeaderMap, HeaderValue};
use juhe_proto::server::Reply;
use juhe_proto::{AnyOutcome, Endpoint, ErrorCode, Outcome, Param, ResultField};
use juhe_verify::{Error, Skipped};
use serde_json::{Map, Value};

use crate::metrics;

/// `x-juhe-gateway-billed`: `yes`, `no` or `maybe`, for this request.
pub const BILLED_HEADER: &str = "x-juhe-gateway-billed";
/// `x-juhe-gateway-reused`: present on an answer from the ledger; the ledger's entry number
/// of the check that paid for it.
pub const REUSED_HEADER: &str = "x-juhe-gateway-reused";

/// The answer, its headers and what it counts as.
pub(crate) struct TeamReply {
    pub(crate) reply: Reply,
    pub(crate) headers: HeaderMap,
    pub(crate) outcome: metrics::Outcome,
}

impl TeamReply {
    /// A refusal before anything was sent: not billed.
    pub(crate) fn refused(reply: Reply) -> Self {
        Self::new(reply, metrics::Outcome::Refused, "no")
    }

    fn new(reply: Reply, outcome: metrics::Outcome, billed: &'static str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(BILLED_HEADER, HeaderValue::from_static(billed));
        Self { reply, headers, outcome }
    }
}

/// A billed or reused answer: the product's documented result fields, as Juhe sent them. The
/// order number goes out only when the request asked with `orderid=1`, as Juhe does, except
/// on a reused answer, whose order number tells the team which earlier check paid.
pub(crate) fn answered(endpoint: Endpoint, asked_order: bool, outcome: &AnyOutcome) -> TeamReply {
    let info = endpoint.info();
    let mut result = Map::new();
    for &field in info.product.result_fields() {
        let value = outcome.value(field);
        if !value.is_null() {
            result.insert(field.wire_name().to_owned(), value);
        }
    }
    let reused = outcome.reused();
    if info.params.contains(&Param::Orderid) && !asked_order && reused.is_none() {
        result.remove(ResultField::OrderId.wire_name());
    }
    let reply = Reply { reason: outcome.reason().to_owned(), ..Reply::success(Value::Object(result)) };
    match reused {
        Some(earlier) => {
            let mut answer = TeamReply::new(reply, metrics::Outcome::Reused, "no");
            answer.headers.insert(REUSED_HEADER, HeaderValue::from(earlier.entry));
            answer
        }
        None => TeamReply::new(reply, metrics::Outcome::Billed, "yes"),
    }
}

/// An error: Juhe's own code when Juhe answered one; otherwise the code a client of Juhe
/// already treats the right way, with a reason that says what happened and what to do.
pub(crate) fn failed(error: &Error) -> TeamReply {
    use metrics::Outcome as O;
    match error {
        Error::Service(service) => {
            let mut reply = Reply { reason: service.reason.clone(), ..Reply::error(service.code.code()) };
            if let Some(order) = &service.order_id {
                reply = Reply {
                    reason: service.reason.clone(),
                    ..Reply::error_with_order(service.code.code(), order.clone())
                };
            }
            let billed = if error.may_be_billed() { "maybe" } else { "no" };
            TeamReply::new(reply, O::Rejected, billed)
        }
        Error::Skipped(Skipped::TeamBudget { .. } | Skipped::LedgerBudget { .. }) => {
            let code = ErrorCode::REQUEST_LIMIT_EXCEEDED.code();
            let reason = format!("请求超过次数限制 ({error})");
            TeamReply::new(Reply { reason, ..Reply::error(code) }, O::OverBudget, "no")
        }
        // The key's pace is taken, or the same person is being checked for another request:
        // a client should slow down and ask again, as after Juhe's own 10012.
        Error::Skipped(Skipped::KeyBusy { .. } | Skipped::StillInFlight) => {
            let code = ErrorCode::REQUEST_LIMIT_EXCEEDED.code();
            let reason = format!("请求超过次数限制 ({error})");
            TeamReply::new(Reply { reason, ..Reply::error(code) }, O::NotSent, "no")
        }
        _ if error.may_be_billed() => {
            let reason = format!(
                "系统内部异常 ({error}); the gateway's ledger holds this check as maybe billed: do not resend it, ask the operator"
            );
            TeamReply::new(
                Reply { reason, ..Reply::error(ErrorCode::INTERNAL_ERROR.code()) },
                O::MaybeBilled,
                "maybe",
            )
        }
        _ => {
            let reason = format!("系统内部异常 ({error})");
            TeamReply::new(
                Reply { reason, ..Reply::error(ErrorCode::INTERNAL_ERROR.code()) },
                O::NotSent,
                "no",
            )
        }
    }
}
