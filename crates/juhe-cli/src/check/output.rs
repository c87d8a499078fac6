//! How a check's outcome is shown: a few lines of text, or the contract's JSON object with
//! Juhe's wire names.

use juhe_verify::{
    AnyOutcome, FaceOutcome, MatchOutcome, Outcome, Product, ResultField, Telecom3Outcome, Verdict,
};
use serde_json::{Value, json};

use crate::failure::error_chain;
use crate::untrusted_text::escaped;

/// An outcome the CLI can print.
pub(crate) trait Printable: Outcome {
    /// The detail lines of the text output.
    fn details(&self) -> Vec<String>;
}

impl Printable for MatchOutcome {
    fn details(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Printable for Telecom3Outcome {
    fn details(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(rescode) = self.rescode {
            lines.push(format!("rescode {}: {}", rescode.code(), describe(rescode.info())));
        }
        let place = [self.province.as_deref(), self.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(carrier) = &self.carrier {
            lines.push(escaped(format!("carrier: {} {place}", carrier.name()).trim_end()).into_owned());
        }
        lines
    }
}

impl Printable for AnyOutcome {
    fn details(&self) -> Vec<String> {
        match self {
            AnyOutcome::IdCard(o) | AnyOutcome::Telecom2(o) => o.details(),
            AnyOutcome::Telecom3(o) => o.details(),
            AnyOutcome::Face(o) => o.details(),
        }
    }
}

impl Printable for FaceOutcome {
    fn details(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(result) = self.result {
            lines.push(format!("res {}: {}", result.code(), describe(result.info())));
        }
        if let Some(score) = self.score {
            lines.push(format!("face score: {score}"));
        }
        lines
    }
}

/// `匹配 (name, ID card and mobile match)`, from a result table row.
fn describe(info: Option<&juhe_proto::ResultInfo>) -> String {
    info.map_or_else(|| "not in Juhe's documents".to_owned(), |i| format!("{} ({})", i.zh, i.en))
}

/// The text output of a billed check.
pub(crate) fn text<O: Printable>(api: &str, outcome: &O) -> String {
    let verdict = match outcome.verdict() {
        Verdict::Match => "match",
        Verdict::Mismatch => "mismatch",
        _ => "billed, but the result is not one Juhe documents",
    };
    let mut lines = vec![format!("{verdict} ({api})")];
    lines.extend(outcome.details());
    lines.push(format!("order: {}", escaped(outcome.order_id().unwrap_or("(none given)"))));
    if let Some(reuse) = outcome.reused() {
        lines.push(format!(
            "reused from the ledger (entry {}, checked {}): not billed now",
            reuse.entry,
            juhe_verify::ledger::china_timestamp(reuse.checked_at)
        ));
    }
    lines.join("\n")
}

/// A billed answer's `result`, with Juhe's keys: the product's result fields (`docs/api/`),
/// in their table's order.
pub(crate) fn wire<O: Outcome>(product: Product, outcome: &O) -> Value {
    let fields = product.result_fields().iter().map(|&f| (f.wire_name().to_owned(), outcome.value(f)));
    Value::Object(fields.collect())
}

/// The JSON output of a billed check, or of one reused from the ledger: then `billed` is
/// `false` and `reused` names the earlier check.
pub(crate) fn json_outcome<O: Printable>(product: Product, api: &str, outcome: &O) -> Value {
    let reused = outcome.reused().map_or(Value::Null, |r| {
        json!({
            "entry": r.entry,
            "order_id": r.order_id,
            "checked_at": juhe_verify::ledger::china_timestamp(r.checked_at),
        })
    });
    json!({
        "api": api,
        "error_code": 0,
        "reason": outcome.reason(),
        "billed": reused.is_null(),
        "result": wire(product, outcome),
        "reused": reused,
    })
}

/// The JSON output of a failed check. `billed` is `null` when it may have been billed;
/// `result` holds Juhe's order number when the answer gave one.
pub(crate) fn json_error(api: &str, error: &juhe_verify::Error) -> Value {
    let (code, reason, result) = match error {
        juhe_verify::Error::Service(e) => {
            let result = e.order_id.as_ref().map_or(Value::Null, |order| {
                Value::Object(
                    [(ResultField::OrderId.wire_name().to_owned(), json!(order))].into_iter().collect(),
                )
            });
            (json!(e.code.code()), e.reason.clone(), result)
        }
        other => (Value::Null, error_chain(other), Value::Null),
    };
    let billed = error.billing().as_bool();
    json!({ "api": api, "error_code": code, "reason": reason, "billed": billed, "result": result })
}

/// The JSON output of a check stopped before anything was sent (a usage error, an image
/// that cannot be read): `api` is `null` when the product has no endpoint in the mode.
pub(crate) fn json_failure(api: Option<&str>, message: &str) -> Value {
    json!({ "api": api, "error_code": Value::Null, "reason": message, "billed": false, "result": Value::Null })
}
