//! Property tests standing in for fuzzing: whatever comes from outside, the parsers answer
//! with a value or a typed error, never a panic.

use crate::{TODAY, samples};
use juhe_proto::{
    AnswerError, DecodeError, FaceImage, IdCardNumber, MobileNumber, Outcome, PersonName, Verdict, decode,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn response(status: u16, body: Vec<u8>) -> http::Response<Vec<u8>> {
    http::Response::builder().status(status).body(body).unwrap()
}

fn decode_every_product(status: u16, body: &[u8]) -> [Result<Verdict, DecodeError>; 4] {
    let r = response(status, body.to_vec());
    [
        decode(&samples::idcard(), &r).map(|o| o.verdict()),
        decode(&samples::telecom2(), &r).map(|o| o.verdict()),
        decode(&samples::telecom3(), &r).map(|o| o.verdict()),
        decode(&samples::face(), &r).map(|o| o.verdict()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".*".prop_map(Value::String),
        "[0-9]{1,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".*", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects that look like Juhe's envelope, with arbitrary values where the fields are.
fn envelope() -> impl Strategy<Value = Value> {
    let field_names = prop::sample::select(vec![
        "res", "rescode", "score", "orderid", "type", "resmsg", "province", "city", "other",
    ]);
    (json_value(), json_value(), prop::collection::btree_map(field_names, json_value(), 0..8), any::<bool>())
        .prop_map(|(code, reason, result, result_is_object)| {
            let mut map = Map::new();
            map.insert("error_code".into(), code);
            map.insert("reason".into(), reason);
            let result: Map<String, Value> = result.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            map.insert("result".into(), if result_is_object { Value::Object(result) } else { Value::Null });
            Value::Object(map)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(status in 100u16..600, body: Vec<u8>) {
        let _ = decode_every_product(status, &body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let _ = decode_every_product(200, value.to_string().as_bytes());
    }

    #[test]
    fn envelopes_decode_billed_only_for_code_zero(value in envelope()) {
        let code = &value["error_code"];
        let zero = code.as_i64() == Some(0) || code.as_str().and_then(|s| s.trim().parse::<i64>().ok()) == Some(0);
        for decoded in decode_every_product(200, value.to_string().as_bytes()) {
            match decoded {
                Ok(_) => prop_assert!(zero),
                Err(DecodeError::Service(e)) => prop_assert!(!zero && e.code.code() != 0),
                Err(DecodeError::Answer(AnswerError::Malformed { may_be_billed, .. })) => prop_assert!(may_be_billed),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn validators_never_panic(text in ".*", bytes: Vec<u8>) {
        let _ = IdCardNumber::parse_on(&text, TODAY);
        let _ = MobileNumber::parse(&text);
        let _ = PersonName::parse(&text);
        let _ = FaceImage::from_base64(&text);
        let _ = FaceImage::from_bytes(bytes);
    }
}
