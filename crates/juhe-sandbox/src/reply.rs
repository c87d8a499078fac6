//! Juhe's answer envelope: `{"reason": …, "result": …, "error_code": …}`.

use juhe_proto::{ErrorCode, Field, Product};
use serde_json::{Value, json};

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
        let result = crate::verdicts::fields_of([(juhe_proto::ResultField::OrderId, json!(order_id))]);
        Self { result: Value::Object(result), ..Self::error(code) }
    }

    /// The product's code for a bad field, with a reason naming the field.
    pub(crate) fn parameter_error(product: Product, field: Field, what: &str) -> Self {
        let label = match field {
            Field::Name => "姓名",
            Field::IdCard => "身份证号码",
            Field::Mobile => "手机号码",
            Field::Image => "人脸图片",
            _ => "",
        };
        let empty = what == "不能为空";
        let code = match (product, field) {
            (Product::IdCard, _) => 210304,
            (Product::Telecom2, Field::Mobile) => 232901,
            (Product::Telecom2, _) => 232902,
            (Product::Telecom3, _) => 233907,
            (Product::Face, _) if empty => 280101,
            (Product::Face, Field::IdCard) => 280102,
            (Product::Face, Field::Mobile) => 280103,
            (Product::Face, Field::Name) => 280104,
            (Product::Face, _) => 280101,
        };
        Self { error_code: code, reason: format!("参数错误：{label}{what}"), result: Value::Null }
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let body = json!({ "reason": self.reason, "result": self.result, "error_code": self.error_code });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}
