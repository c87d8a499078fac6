//! The sandbox reading a request as Juhe would: the form, base64, AES and RSA ciphertexts,
//! the sign. Whatever the request, an answer (or a closed connection), never a panic, and
//! nothing billed that is not a check of a known person.
#![no_main]

use std::sync::OnceLock;

use juhe_proto::Endpoint;
use juhe_sandbox::{OfflineSandbox, SANDBOX_KEY, Sandbox};
use libfuzzer_sys::fuzz_target;

fn sandbox() -> &'static OfflineSandbox {
    static SANDBOX: OnceLock<OfflineSandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| Sandbox::builder().build_offline().expect("a sandbox"))
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the endpoint and the method; the rest follows the right key, so
    // the fuzzer reaches decryption and validation instead of the key check.
    let (selector, rest) = data.split_first().map_or((0, data), |(s, r)| (*s, r));
    let endpoint = Endpoint::ALL[usize::from(selector) % Endpoint::ALL.len()];
    let method = if selector & 0x80 == 0 { "POST" } else { "GET" };
    let mut body = format!("key={SANDBOX_KEY}&").into_bytes();
    body.extend_from_slice(rest);
    let request = match method {
        "POST" => http::Request::post(format!("/{endpoint}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
        _ => {
            let query: String =
                body.iter().map(|b| if b.is_ascii_graphic() { char::from(*b) } else { '_' }).collect();
            http::Request::get(format!("/{endpoint}?{query}")).body(Vec::new())
        }
    };
    let Ok(request) = request else { return };
    let before = sandbox().ledger().billed;
    if let Some(answer) = sandbox().answer(&request) {
        assert!(answer.status().as_u16() >= 200);
    }
    // Billing happens only for a check the sandbox judged; never on a refusal.
    assert!(sandbox().ledger().billed - before <= 1);
});
