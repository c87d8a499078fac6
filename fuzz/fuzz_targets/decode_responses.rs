//! Juhe's answer, whatever bytes come back, for every product: a typed outcome or a typed
//! error, never a panic; `Ok` only for `error_code` 0.
#![no_main]

use juhe_proto::{CivilDate, FaceCheck, IdCardCheck, Outcome, Telecom2Check, Telecom3Check, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks a status and whether the answer claims to be compressed.
    let (selector, body) = data.split_first().map_or((0, data), |(s, b)| (*s, b));
    let status = [200, 200, 200, 302, 404, 429, 500, 503][usize::from(selector & 7)];
    let mut response = http::Response::builder().status(status);
    if selector & 8 != 0 {
        response = response.header("content-encoding", "gzip");
    }
    let response = response.body(body.to_vec()).expect("a response");
    let billed = |verdict_ok: bool| assert!(!verdict_ok || status == 200);
    let today = CivilDate { year: 2026, month: 12, day: 1 };
    let (name, idcard, mobile) = ("张三", "11010519491231002X", "13912345678");
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 32, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9];
    let idcard_check = IdCardCheck::new_on(name, idcard, today).expect("a check");
    billed(decode(&idcard_check, &response).map(|o| o.order_id().map(str::len)).is_ok());
    billed(decode(&Telecom2Check::new_on(idcard, mobile, today).expect("a check"), &response).is_ok());
    billed(decode(&Telecom3Check::new_on(name, idcard, mobile, today).expect("a check"), &response).is_ok());
    billed(decode(&FaceCheck::new_on(name, idcard, mobile, jpeg, today).expect("a check"), &response).is_ok());
});
