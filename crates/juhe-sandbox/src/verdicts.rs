//! What the sandbox's "data sources" say about a check: the registry decides match or not.

use juhe_proto::{FaceResult, Product, Telecom3Rescode};
use serde_json::{Value, json};

use crate::carriers::carrier_of;
use crate::identity::{Registry, seed_of};
use crate::reply::Reply;
use crate::request_fields::CheckFields;

/// Judges `fields` against the registry. `order_id` is the order this check would be billed
/// under; `unspecified` forces telecom3's rescode 24.
pub(crate) fn judge(
    product: Product,
    fields: &CheckFields,
    registry: &Registry,
    order_id: String,
    unspecified: bool,
) -> Reply {
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    let name = text(fields.name.as_ref().map(|n| n.as_str()));
    let idcard = text(fields.idcard.as_ref().map(|n| n.as_str()));
    let mobile = text(fields.mobile.as_ref().map(|n| n.as_str()));
    match product {
        Product::IdCard => match registry.by_idcard(&idcard) {
            None => Reply::error(210301),
            Some(person) => {
                let res = if person.name == name { 1 } else { 2 };
                Reply::success(
                    json!({ "realname": "****", "idcard": "*****", "orderid": order_id, "res": res }),
                )
            }
        },
        Product::Telecom2 => match registry.by_mobile(&mobile) {
            None => Reply::error(232904),
            Some(person) => Reply::success(
                json!({ "res": if person.idcard == idcard { 1 } else { 2 }, "orderid": order_id }),
            ),
        },
        Product::Telecom3 => match registry.by_mobile(&mobile) {
            None => Reply::error(233903),
            Some(person) => {
                let rescode = match (person.name == name, person.idcard == idcard) {
                    _ if unspecified => Telecom3Rescode::MISMATCH,
                    (true, true) => Telecom3Rescode::MATCH,
                    (false, true) => Telecom3Rescode::NAME_MISMATCH,
                    (true, false) => Telecom3Rescode::ID_CARD_MISMATCH,
                    (false, false) => Telecom3Rescode::NAME_AND_ID_CARD_MISMATCH,
                };
                let matched = rescode == Telecom3Rescode::MATCH;
                Reply::success(json!({
                    "orderid": order_id,
                    "res": if matched { 1 } else { 2 },
                    "resmsg": if matched { "三要素身份验证一致" } else { "三要素身份验证不一致" },
                    "type": person.carrier,
                    "province": person.province,
                    "city": person.city,
                    "rescode": rescode.code().to_string(),
                }))
            }
        },
        Product::Face => face(fields, registry, &name, &mobile, order_id),
    }
}

fn face(fields: &CheckFields, registry: &Registry, name: &str, mobile: &str, order_id: String) -> Reply {
    let Some(person) = fields.idcard.as_ref().and_then(|id| registry.by_idcard(id.as_str())) else {
        return Reply::error_with_order(280105, order_id);
    };
    let identity_ok = person.name == name;
    let mobile_ok = person.mobile == mobile;
    let image = fields.image.as_ref().map(|i| i.as_bytes()).unwrap_or_default();
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
    Reply::success(json!({
        "orderid": order_id,
        "res": res.code(),
        "resmsg": res.info().map_or("", |i| i.zh),
        "score": (score * 10.0).round() / 10.0,
        "type": carrier_of(mobile).map_or(Value::Null, |c| Value::String(c.to_owned())),
    }))
}
