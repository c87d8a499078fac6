//! What the sandbox's "data sources" say about a check: the registry decides match or not.

use juhe_proto::{AnyCheck, ErrorCode, FaceCheck, FaceResult, ResultField, Telecom3Check, Telecom3Rescode};
use serde_json::{Value, json};

use crate::carriers::carrier_of;
use crate::identity::{Registry, seed_of};
use juhe_proto::server::{Reply, fields_of};

/// Judges `check` against the registry. `order_id` is the order this check would be billed
/// under; `unspecified` forces telecom3's rescode 24.
pub(crate) fn judge(check: &AnyCheck, registry: &Registry, order_id: String, unspecified: bool) -> Reply {
    match check {
        AnyCheck::IdCard(c) => match registry.by_idcard(c.idcard.as_str()) {
            None => Reply::error(ErrorCode::IDCARD_NO_RECORD.code()),
            Some(person) => {
                let res = if person.name == c.name.as_str() { 1 } else { 2 };
                // Juhe echoes the name and number masked; the SDK reads neither.
                let mut result =
                    fields_of([(ResultField::OrderId, json!(order_id)), (ResultField::Res, json!(res))]);
                result.insert("realname".into(), json!("****"));
                result.insert("idcard".into(), json!("*****"));
                Reply::success(Value::Object(result))
            }
        },
        AnyCheck::Telecom2(c) => match registry.by_mobile(c.mobile.as_str()) {
            None => Reply::error(ErrorCode::TELECOM2_NO_RECORD.code()),
            Some(person) => Reply::success(Value::Object(fields_of([
                (ResultField::Res, json!(if person.idcard == c.idcard.as_str() { 1 } else { 2 })),
                (ResultField::OrderId, json!(order_id)),
            ]))),
        },
        AnyCheck::Telecom3(c) => telecom3(c, registry, order_id, unspecified),
        AnyCheck::Face(c) => face(c, registry, order_id),
    }
}

fn telecom3(check: &Telecom3Check, registry: &Registry, order_id: String, unspecified: bool) -> Reply {
    let Some(person) = registry.by_mobile(check.mobile.as_str()) else {
        return Reply::error(ErrorCode::TELECOM3_NO_RECORD.code());
    };
    let rescode = match (person.name == check.name.as_str(), person.idcard == check.idcard.as_str()) {
        _ if unspecified => Telecom3Rescode::MISMATCH,
        (true, true) => Telecom3Rescode::MATCH,
        (false, true) => Telecom3Rescode::NAME_MISMATCH,
        (true, false) => Telecom3Rescode::ID_CARD_MISMATCH,
        (false, false) => Telecom3Rescode::NAME_AND_ID_CARD_MISMATCH,
    };
    let matched = rescode == Telecom3Rescode::MATCH;
    Reply::success(Value::Object(fields_of([
        (ResultField::OrderId, json!(order_id)),
        (ResultField::Res, json!(if matched { 1 } else { 2 })),
        (ResultField::Resmsg, json!(if matched { "三要素身份验证一致" } else { "三要素身份验证不一致" })),
        (ResultField::Type, json!(person.carrier)),
        (ResultField::Province, json!(person.province)),
        (ResultField::City, json!(person.city)),
        (ResultField::Rescode, json!(rescode.code().to_string())),
    ])))
}

fn face(check: &FaceCheck, registry: &Registry, order_id: String) -> Reply {
    let Some(person) = registry.by_idcard(check.idcard.as_str()) else {
        return Reply::error_with_order(ErrorCode::FACE_IDENTITY_AND_MOBILE_FAILED.code(), order_id);
    };
    let (name, mobile) = (check.name.as_str(), check.mobile.as_str());
    let identity_ok = person.name == name;
    let mobile_ok = person.mobile == mobile;
    let image = check.image.as_bytes();
    let face_ok = image == person.face_image.as_slice();
    let res = match (identity_ok, mobile_ok, face_ok) {
        (true, true, true) => FaceResult::ALL_PASS,
        (true, false, true) => FaceResult::MOBILE_MISMATCH,
        (true, true, false) => FaceResult::FACE_MISMATCH,
        (true, false, false) => FaceResult::MOBILE_AND_FACE_MISMATCH,
        (false, true, _) => FaceResult::IDENTITY_MISMATCH,
        (false, false, _) => FaceResult::IDENTITY_AND_MOBILE_MISMATCH,
    };
    // Scores out of 1000, as Juhe's example (982.7): stable for the same picture.
    let jitter = (seed_of(&format!("{}{}", image.len(), person.idcard)) % 1000) as f64 / 10.0;
    let score = match (identity_ok, face_ok) {
        (false, _) => 0.0,
        (true, true) => 900.0 + jitter,
        (true, false) => 150.0 + jitter * 2.0,
    };
    Reply::success(Value::Object(fields_of([
        (ResultField::OrderId, json!(order_id)),
        (ResultField::Res, json!(res.code())),
        (ResultField::Resmsg, json!(res.info().map_or("", |i| i.zh))),
        (ResultField::Score, json!((score * 10.0).round() / 10.0)),
        (ResultField::Type, carrier_of(mobile).map_or(Value::Null, |c| Value::String(c.to_owned()))),
    ])))
}
