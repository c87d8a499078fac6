//! Clients that are not ours reach Juhe through the gateway and get the answers Juhe (the
//! sandbox) gives directly: curl in plain and signed mode, Python's `cryptography` in the AES
//! and RSA modes.

use juhe_gateway::keys::{IssuedKey, TeamRules};
use juhe_sandbox::{SANDBOX_KEY, SANDBOX_OPENID, SANDBOX_RSA_PUBLIC_KEY_PEM};
use juhe_verify::Mode;
use serde_json::Value;

use crate::rig::{Rig, curl_post, openssl_md5, run};

/// The fields of an answer that matter: the code, the reason, and the result without the
/// order number (each check gets its own).
fn what_matters(answer: &Value) -> Value {
    let mut answer = answer.clone();
    if let Some(result) = answer.get_mut("result").and_then(Value::as_object_mut) {
        result.remove("orderid");
    }
    answer
}

/// Juhe's own answer to a plain telecom3 check of person `n`.
fn direct_telecom3(rig: &Rig, n: usize) -> Value {
    let p = rig.person(n);
    let url = format!("{}/telecom3/query", rig.sandbox.base_url());
    let fields = [("key", SANDBOX_KEY), ("realname", &p.name), ("idcard", &p.idcard), ("mobile", &p.mobile)];
    curl_post(&url, &fields).0
}

fn python(rig: &Rig, team: &IssuedKey, mode: &str, n: usize) -> Value {
    let pem = rig.dir.join(format!("{}.pem", team.team));
    std::fs::write(&pem, &team.rsa_public_key_pem).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/independent_client.py");
    let p = rig.person(n);
    let args = [
        script,
        &rig.base_url,
        mode,
        &team.key,
        &team.openid,
        pem.to_str().unwrap(),
        &p.name,
        &p.idcard,
        &p.mobile,
    ];
    serde_json::from_str(&run("python3", &args)).unwrap()
}

#[test]
fn curl_in_plain_and_signed_mode_gets_juhes_own_answers() {
    let (rig, issued) = Rig::start("curl", Mode::Aes, &[("payments", TeamRules::open())]);
    let team = &issued[0];
    let (n, m) = (0, 1);
    let p = rig.person(n);
    let plain_url = format!("{}/telecom3/query", rig.base_url);
    let fields =
        [("key", team.key.as_str()), ("realname", &p.name), ("idcard", &p.idcard), ("mobile", &p.mobile)];
    let (answer, headers) = curl_post(&plain_url, &fields);
    assert_eq!(answer["error_code"], 0, "{answer}");
    assert_eq!(what_matters(&answer), what_matters(&direct_telecom3(&rig, n)));
    assert!(headers.contains(&("x-juhe-gateway-billed".into(), "yes".into())), "{headers:?}");

    let q = rig.person(m);
    let sign = openssl_md5(&format!("{}{}{}{}{}", team.openid, team.key, q.name, q.idcard, q.mobile));
    let signed_url = format!("{}/telecom3/verify", rig.base_url);
    let fields = [
        ("key", team.key.as_str()),
        ("realname", &q.name),
        ("idcard", &q.idcard),
        ("mobile", &q.mobile),
        ("sign", &sign),
    ];
    let (answer, _) = curl_post(&signed_url, &fields);
    assert_eq!(what_matters(&answer), what_matters(&direct_telecom3(&rig, m)), "{answer}");

    // A sign made with the real account's openid is not the team's: refused, nothing sent.
    let billed = rig.billed();
    let wrong = openssl_md5(&format!("{SANDBOX_OPENID}{}{}{}{}", team.key, q.name, q.idcard, q.mobile));
    let fields = [
        ("key", team.key.as_str()),
        ("realname", &q.name),
        ("idcard", &q.idcard),
        ("mobile", &q.mobile),
        ("sign", &wrong),
    ];
    let (answer, headers) = curl_post(&signed_url, &fields);
    assert_ne!(answer["error_code"], 0);
    assert_eq!(answer["reason"], "参数错误：签名错误");
    assert!(headers.contains(&("x-juhe-gateway-billed".into(), "no".into())));
    assert_eq!(rig.billed(), billed, "a bad sign costs nothing");
}

#[test]
fn python_cryptography_in_the_aes_and_rsa_modes_gets_juhes_own_answers() {
    let (rig, issued) = Rig::start("python", Mode::Rsa, &[("risk", TeamRules::open())]);
    let team = &issued[0];
    for (mode, n) in [("telecom3-aes", 2), ("telecom3-rsa", 3)] {
        let got = python(&rig, team, mode, n);
        let answer = &got["answer"];
        assert_eq!(answer["error_code"], 0, "{mode}: {got}");
        assert_eq!(what_matters(answer), what_matters(&direct_telecom3(&rig, n)), "{mode}");
        assert!(answer["result"]["orderid"].as_str().is_some_and(|o| o.starts_with("JH")), "{mode}: {got}");
    }
    let got = python(&rig, team, "idcard-rsa", 4);
    assert_eq!(got["answer"]["error_code"], 0, "{got}");
    assert_eq!(got["answer"]["result"]["res"], 1, "{got}");
    // The team's RSA key is its own, not the account's.
    assert_ne!(team.rsa_public_key_pem.trim(), SANDBOX_RSA_PUBLIC_KEY_PEM.trim());
}
