//! Snapshots of every response shape each product can get, decoded: the reference of what the
//! SDK makes of Juhe's answers. Every endpoint of a product shares its response format, so
//! each shape is decoded once per product and checked to decode the same on every endpoint.

use std::fmt::Write as _;

use crate::samples;

use juhe_proto::{Check, DecodeError, Outcome, decode, is_billed};

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder().status(status).body(body.as_bytes().to_vec()).unwrap()
}

/// Shapes every product can get: errors, broken bodies, lenient envelopes.
const COMMON: &[(&str, u16, &str)] = &[
    ("system code 10001, result null", 200, r#"{"reason":"错误的请求KEY","result":null,"error_code":10001}"#),
    (
        "system code 10012 with resultcode, result missing",
        200,
        r#"{"resultcode":"112","reason":"请求超过次数限制","error_code":10012}"#,
    ),
    ("system code 10020 as a string", 200, r#"{"reason":"接口维护","result":null,"error_code":"10020"}"#),
    ("unknown code, empty reason", 200, r#"{"reason":"","result":null,"error_code":299999}"#),
    ("error_code 0 without result", 200, r#"{"reason":"成功","error_code":0}"#),
    ("error_code 0 with result null", 200, r#"{"reason":"成功","result":null,"error_code":0}"#),
    ("no error_code", 200, r#"{"reason":"成功","result":{"res":1}}"#),
    ("not JSON (an HTML error page)", 200, "<html><body>502 Bad Gateway</body></html>"),
    ("truncated JSON", 200, r#"{"reason":"成功","result":{"res":1,"ord"#),
    ("a JSON array", 200, "[1,2,3]"),
    ("empty body", 200, ""),
    ("HTTP 502", 502, "Bad Gateway"),
    ("HTTP 503 with a JSON body", 503, r#"{"error_code":0,"result":{"res":1}}"#),
    ("HTTP 429", 429, ""),
];

/// Snapshots without the (long) expression header: the labels say what each case is.
fn snapshot(name: &str, text: String) {
    insta::with_settings!({ omit_expression => true }, { insta::assert_snapshot!(name, text) });
}

fn decode_all<C: Check>(check: &C, shapes: &[(&str, u16, &str)]) -> String {
    let mut out = String::new();
    for (label, status, body) in shapes.iter().chain(COMMON) {
        let decoded = decode(check, &response(*status, body));
        let _ = writeln!(out, "## {label}\n{status} {body}\n=> {decoded:#?}");
        match &decoded {
            Ok(outcome) => {
                let _ = writeln!(
                    out,
                    "billed: yes, verdict: {:?}, order: {:?}\n",
                    outcome.verdict(),
                    outcome.order_id()
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "display: {e}\nbilled: {}, retry: {:?}\n",
                    if e.may_be_billed() { "maybe" } else { "no" },
                    e.retry_class()
                );
            }
        }
    }
    out
}

#[test]
fn idcard_responses() {
    snapshot(
        "idcard_responses",
        decode_all(
            &samples::idcard(),
            &[
                (
                    "match",
                    200,
                    r#"{"reason":"成功","result":{"realname":"****","idcard":"*****","orderid":"J103202010151450419556","res":1},"error_code":0}"#,
                ),
                (
                    "mismatch",
                    200,
                    r#"{"reason":"成功","result":{"orderid":"J103201911121607589548","res":2},"error_code":0}"#,
                ),
                (
                    "match, res as a string, no order id",
                    200,
                    r#"{"reason":"成功","result":{"res":"1"},"error_code":0}"#,
                ),
                (
                    "unknown res 3",
                    200,
                    r#"{"reason":"成功","result":{"res":3,"orderid":"J1"},"error_code":0}"#,
                ),
                ("210301 no record", 200, r#"{"reason":"查询无此记录","result":null,"error_code":210301}"#),
                (
                    "210304 bad parameter",
                    200,
                    r#"{"reason":"参数错误：身份证不合法","result":null,"error_code":210304}"#,
                ),
                (
                    "210305 provider network error",
                    200,
                    r#"{"reason":"服务商网络异常，请重试","result":null,"error_code":210305}"#,
                ),
                ("210306 data source error", 200, r#"{"reason":"数据源异常","error_code":210306}"#),
            ],
        ),
    );
}

#[test]
fn telecom2_responses() {
    snapshot(
        "telecom2_responses",
        decode_all(
            &samples::telecom2(),
            &[
                (
                    "match",
                    200,
                    r#"{"reason":"成功","result":{"res":1,"orderid":"JH329201808081618556756"},"error_code":0}"#,
                ),
                (
                    "mismatch, res as a string",
                    200,
                    r#"{"reason":"成功","result":{"res":"2","orderid":"JH329201808081618556757"},"error_code":0}"#,
                ),
                (
                    "232901 bad mobile",
                    200,
                    r#"{"reason":"手机号码格式不正确","result":null,"error_code":232901}"#,
                ),
                ("232902 bad ID", 200, r#"{"reason":"身份证号码不合法","result":null,"error_code":232902}"#),
                (
                    "232903 unsupported mobile",
                    200,
                    r#"{"reason":"暂不支持该手机号查询","result":null,"error_code":232903}"#,
                ),
                ("232904 no record", 200, r#"{"reason":"查无记录","result":null,"error_code":232904}"#),
                ("232905 network error", 200, r#"{"reason":"网络错误","result":null,"error_code":232905}"#),
                ("232906 query failed", 200, r#"{"reason":"查询失败","result":null,"error_code":232906}"#),
            ],
        ),
    );
}

#[test]
fn telecom3_responses() {
    snapshot(
        "telecom3_responses",
        decode_all(
            &samples::telecom3(),
            &[
                (
                    "match",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"orderid":"J339201812031141197115QV","res":1,"resmsg":"三要素身份验证一致","type":"移动","province":"广东省","city":"惠州市","rescode":"11"}}"#,
                ),
                (
                    "mismatch 21 name",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"orderid":"J2","res":2,"resmsg":"三要素身份验证不一致","type":"联通","province":"北京","city":"北京","rescode":"21"}}"#,
                ),
                (
                    "mismatch 22 ID",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"res":"2","rescode":22,"type":"电信"}}"#,
                ),
                (
                    "mismatch 23 both",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"res":2,"rescode":"23","type":"广电"}}"#,
                ),
                (
                    "mismatch 24 unknown field (encrypted endpoints document it)",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"res":2,"resmg":"不匹配","rescode":"24"}}"#,
                ),
                (
                    "res and rescode disagree",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"res":1,"rescode":"21"}}"#,
                ),
                (
                    "undocumented res 9 beside rescode 11: never a match",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"res":9,"rescode":"11"}}"#,
                ),
                (
                    "rescode 11 with res missing: never a match",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"rescode":"11"}}"#,
                ),
                (
                    "res 1 beside an undocumented rescode 31: never a match",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"res":1,"rescode":"31"}}"#,
                ),
                (
                    "unknown rescode 31, res missing",
                    200,
                    r#"{"error_code":0,"reason":"查询成功","result":{"rescode":"31","type":"虚拟运营商"}}"#,
                ),
                ("a redirect: never followed, may be billed", 302, ""),
                (
                    "233901 provider network error",
                    200,
                    r#"{"error_code":233901,"reason":"服务商网络异常，请重试","result":null}"#,
                ),
                (
                    "233902 query failed",
                    200,
                    r#"{"error_code":233902,"reason":"查询失败:号码已注销","result":null}"#,
                ),
                ("233903 no record", 200, r#"{"error_code":233903,"reason":"库中无此记录","result":null}"#),
                (
                    "233907 bad parameter",
                    200,
                    r#"{"error_code":233907,"reason":"参数错误：手机号码格式错误","result":null}"#,
                ),
            ],
        ),
    );
}

#[test]
fn face_responses() {
    snapshot(
        "face_responses",
        decode_all(
            &samples::face(),
            &[
                (
                    "100 all pass",
                    200,
                    r#"{"reason":"成功","result":{"orderid":"JH801240913170041JZU80","res":100,"resmsg":"身份、人像核验通过，手机号核验通过","score":982.7,"type":"联通"},"error_code":0}"#,
                ),
                (
                    "101 mobile mismatch",
                    200,
                    r#"{"reason":"成功","result":{"orderid":"JH801240913174904FOzde","res":101,"resmsg":"身份、人像核验通过，手机号核验不通过","score":982.7,"type":"联通"},"error_code":0}"#,
                ),
                (
                    "102 face mismatch, score as a string",
                    200,
                    r#"{"reason":"成功","result":{"res":"102","score":"312.5","type":"移动"},"error_code":0}"#,
                ),
                (
                    "116 identity check failed, score 0",
                    200,
                    r#"{"reason":"成功","result":{"res":116,"score":0},"error_code":0}"#,
                ),
                (
                    "unknown res 117",
                    200,
                    r#"{"reason":"成功","result":{"res":117,"score":1.5},"error_code":0}"#,
                ),
                (
                    "280101 empty parameter",
                    200,
                    r#"{"reason":"任一参数不能为空","result":null,"error_code":280101}"#,
                ),
                ("280102 bad ID", 200, r#"{"reason":"身份证号格式错","error_code":280102}"#),
                ("280103 bad mobile", 200, r#"{"reason":"手机号格式错误","error_code":280103}"#),
                ("280104 bad name", 200, r#"{"reason":"姓名格式错误","error_code":280104}"#),
                (
                    "280105 with an order id",
                    200,
                    r#"{"reason":"身份核验失败、手机号核验失败","result":{"orderid":"JH801240913170041JZU80"},"error_code":280105}"#,
                ),
            ],
        ),
    );
}

#[test]
fn only_error_code_zero_is_billed() {
    let ok = response(200, r#"{"error_code":0,"reason":"成功","result":{"res":1}}"#);
    assert!(decode(&samples::idcard(), &ok).is_ok());
    let refused = response(200, r#"{"error_code":210301,"reason":"查询无此记录","result":null}"#);
    let err = decode(&samples::idcard(), &refused).unwrap_err();
    assert!(!err.may_be_billed());
    assert!(matches!(err, DecodeError::Service(ref e) if !is_billed(e.code.code())));
}
