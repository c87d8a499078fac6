//! Juhe's answer, whatever bytes come back, for every product: a typed outcome or a typed
//! error, never a panic; `Ok` only for `error_code` 0.
#![no_main]

use juhe_proto::{FaceCheck, IdCardCheck, Outcome, Telecom2Check, Telecom3Check, decode};
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
    billed(decode::<IdCardCheck>(&response).map(|o| o.order_id().map(str::len)).is_ok());
    billed(decode::<Telecom2Check>(&response).is_ok());
    billed(decode::<Telecom3Check>(&response).is_ok());
    billed(decode::<FaceCheck>(&response).is_ok());
});
