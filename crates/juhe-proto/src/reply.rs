//! Juhe's answer envelope, written: `{"reason": …, "result": …, "error_code": …}`.

use serde_json::{Map, Value, json};

use crate::server::Refusal;
use crate::{ErrorCode, Product, ResultField};

/// An answer as a server of Juhe's API writes it. `Debug` shows the code and reason only: a
/// result may hold personal data (idcard's echoes the name and number).
#[derive(Clone, PartialEq)]
pub struct Reply {
    /// `error_code`: 0 for a billed answer.
    pub error_code: i64,
    /// `reason`.
    pub reason: String,
    /// `result`: an object for a billed answer, `null` otherwise.
    pub result: Value,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("error_code", &self.error_code)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl Reply {
    /// A billed answer (`成功`).
    pub fn success(result: Value) -> Self {
        Self { error_code: 0, reason: "成功".into(), result }
    }

    /// An error with the documented message of its code.
    pub fn error(code: i64) -> Self {
        let reason = ErrorCode::new(code).info().map_or("未知错误", |i| i.zh).to_owned();
        Self { error_code: code, reason, result: Value::Null }
    }

    /// An error with an order id in `result` (face 280105 comes that way).
    pub fn error_with_order(code: i64, order_id: String) -> Self {
        let result = fields_of([(ResultField::OrderId, json!(order_id))]);
        Self { result: Value::Object(result), ..Self::error(code) }
    }

    /// The answer to a request refused before it is processed: the product's code for the
    /// parameter at fault, with Juhe's reason naming it.
    pub fn refused(product: Product, refusal: &Refusal) -> Self {
        Self { error_code: refusal.error_code(product).code(), reason: refusal.reason(), result: Value::Null }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        let body = json!({ "reason": self.reason, "result": self.result, "error_code": self.error_code });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// A `result` object keyed by the fields' wire names.
pub fn fields_of<const N: usize>(fields: [(ResultField, Value); N]) -> Map<String, Value> {
    fields.into_iter().map(|(field, value)| (field.wire_name().to_owned(), value)).collect()
}
