//! Juhe's answer envelope: `{"reason": …, "result": …, "error_code": …}`.

use juhe_proto::server::Refusal;
use juhe_proto::{ErrorCode, Product, ResultField};
use serde_json::{Map, Value, json};

/// An answer before it is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) error_code: i64,
    pub(crate) reason: String,
    pub(crate) result: Value,
}

impl Reply {
    /// A billed answer.
    pub(crate) fn success(result: Value) -> Self {
        Self { error_code: 0, reason: "成功".into(), result }
    }

    /// An error with the documented message of its code.
    pub(crate) fn error(code: i64) -> Self {
        let reason = ErrorCode::new(code).info().map_or("未知错误", |i| i.zh).to_owned();
        Self { error_code: code, reason, result: Value::Null }
    }

    /// An error with an order id in `result` (face 280105 comes that way).
    pub(crate) fn error_with_order(code: i64, order_id: String) -> Self {
        let result = fields_of([(ResultField::OrderId, json!(order_id))]);
        Self { result: Value::Object(result), ..Self::error(code) }
    }

    /// The answer to a request refused before it is processed: the product's code for the
    /// parameter at fault, with Juhe's reason naming it.
    pub(crate) fn refused(product: Product, refusal: &Refusal) -> Self {
        Self { error_code: refusal.error_code(product).code(), reason: refusal.reason(), result: Value::Null }
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let body = json!({ "reason": self.reason, "result": self.result, "error_code": self.error_code });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// A `result` object keyed by the fields' wire names.
pub(crate) fn fields_of<const N: usize>(fields: [(ResultField, Value); N]) -> Map<String, Value> {
    fields.into_iter().map(|(field, value)| (field.wire_name().to_owned(), value)).collect()
}
