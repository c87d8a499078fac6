//! The admin routes, identity files and rate-based fault injection.

use std::time::Duration;

use crate::raw_http::{post_form, send};
use juhe_proto::Endpoint;
use juhe_sandbox::{Fault, FaultKind, POPULATION_SIZE, SANDBOX_KEY, Sandbox, SandboxError};

fn get(sandbox: &Sandbox, path: &str) -> serde_json::Value {
    send(sandbox.addr(), "GET", path, None, b"", Duration::from_secs(5)).unwrap().json()
}

#[test]
fn identities_route_lists_the_population_in_the_contract_shape() {
    let sandbox = Sandbox::start().unwrap();
    let list = get(&sandbox, "/__sandbox/identities");
    let people = list.as_array().unwrap();
    assert_eq!(people.len(), POPULATION_SIZE);
    let first = people[0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["carrier", "city", "face_image", "idcard", "mobile", "name", "province"]);
    let image = juhe_crypto::base64_decode(first["face_image"].as_str().unwrap()).unwrap();
    assert_eq!(image, sandbox.identities()[0].face_image);
}

#[test]
fn ledger_route_counts_requests_and_billed_per_api() {
    let sandbox = Sandbox::start().unwrap();
    let p = &sandbox.identities()[0];
    let body = juhe_proto::encode_form([
        ("key", SANDBOX_KEY),
        ("realname", p.name.as_str()),
        ("idcard", p.idcard.as_str()),
    ]);
    post_form(sandbox.addr(), "/idcard/query", body.as_bytes()).unwrap();
    post_form(sandbox.addr(), "/idcard/query", b"key=wrong").unwrap();
    post_form(sandbox.addr(), "/telecom3/query", b"key=wrong").unwrap();
    let ledger = get(&sandbox, "/__sandbox/ledger");
    assert_eq!(ledger["requests"], 3);
    assert_eq!(ledger["billed"], 1);
    assert_eq!(ledger["apis"]["idcard/query"]["requests"], 2);
    assert_eq!(ledger["apis"]["idcard/query"]["billed"], 1);
    assert_eq!(ledger["apis"]["telecom3/query"]["billed"], 0);
    assert_eq!(ledger["codes"], serde_json::json!({"0": 1, "10001": 2}));
    assert_eq!(ledger["apis"]["idcard/query"]["codes"], serde_json::json!({"0": 1, "10001": 1}));
    // Admin requests are not counted, and the log masks who was checked.
    assert_eq!(get(&sandbox, "/__sandbox/ledger")["requests"], 3);
    let log = get(&sandbox, "/__sandbox/requests");
    let who = log[0]["who"].as_str().unwrap();
    assert!(!who.contains(&p.idcard) && who.contains(&p.idcard[..3]), "{who}");
}

#[test]
fn identities_load_from_csv_and_json_files() {
    let dir = std::env::temp_dir().join(format!("juhe-sandbox-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("people.csv");
    std::fs::write(&csv, "\u{feff}name,idcard,mobile,province,city\r\n\"欧阳·娜娜\",11010519491231002X,13700000001,北京市,北京市\r\n").unwrap();
    let json = dir.join("people.json");
    std::fs::write(&json, r#"[{"name":"张三","idcard":"440305199001010018","mobile":"+86 186 0000 0002"}]"#)
        .unwrap();
    let sandbox = Sandbox::builder()
        .without_builtin_population()
        .identities_file(&csv)
        .identities_file(&json)
        .start()
        .unwrap();
    let people = sandbox.identities();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0].name, "欧阳·娜娜");
    assert_eq!(people[0].carrier, "移动");
    assert_eq!(people[1].mobile, "18600000002");
    assert_eq!(people[1].carrier, "联通");

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "name,idcard,mobile\n张三,110105194912310021,13700000001\n").unwrap();
    let err = Sandbox::builder().identities_file(&bad).start().unwrap_err();
    assert!(matches!(err, SandboxError::InvalidIdentity { .. }), "{err}");
    assert!(err.to_string().contains("line 2") && !err.to_string().contains("110105194912310021"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faults_strike_by_endpoint_and_rate() {
    let sandbox = Sandbox::builder()
        .fault(Fault::always(FaultKind::HttpStatus(503)).on(Endpoint::Telecom2Query))
        .fault(Fault::always(FaultKind::ErrorCode(10012)).on(Endpoint::IdCardQuery).at_rate(0.5))
        .start()
        .unwrap();
    let p = &sandbox.identities()[0];
    let telecom2 = juhe_proto::encode_form([
        ("key", SANDBOX_KEY),
        ("idcard", p.idcard.as_str()),
        ("mobile", p.mobile.as_str()),
    ]);
    assert_eq!(post_form(sandbox.addr(), "/telecom2Cucc/query", telecom2.as_bytes()).unwrap().status, 503);
    let idcard = juhe_proto::encode_form([
        ("key", SANDBOX_KEY),
        ("realname", p.name.as_str()),
        ("idcard", p.idcard.as_str()),
    ]);
    let codes: Vec<i64> = (0..200)
        .map(|_| post_form(sandbox.addr(), "/idcard/query", idcard.as_bytes()).unwrap().error_code())
        .collect();
    let limited = codes.iter().filter(|c| **c == 10012).count();
    assert!((70..130).contains(&limited), "{limited} of 200 rate limited");
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 200 - limited);
    assert_eq!(sandbox.ledger().billed, (200 - limited) as u64);

    sandbox.set_faults(vec![Fault::always(FaultKind::Latency(Duration::from_millis(300)))]);
    let slow = send(
        sandbox.addr(),
        "POST",
        "/idcard/query",
        Some("application/x-www-form-urlencoded"),
        idcard.as_bytes(),
        Duration::from_millis(100),
    );
    assert!(slow.is_err(), "the answer should come after the client gave up");
    sandbox.set_faults(vec![]);
    assert_eq!(
        post_form(sandbox.addr(), "/telecom2Cucc/query", telecom2.as_bytes()).unwrap().error_code(),
        0
    );
}

#[test]
fn a_sandbox_starts_from_a_tokio_test_too() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::start().unwrap();
        assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
        drop(sandbox); // dropping inside async code must not panic
    });
}

/// Without a server, the sandbox gives the answers a running one would.
#[test]
fn an_offline_sandbox_answers_like_a_running_one() {
    let offline = Sandbox::builder().build_offline().unwrap();
    let p = &juhe_sandbox::builtin_population()[0];
    let body = juhe_proto::encode_form([
        ("key", SANDBOX_KEY),
        ("realname", p.name.as_str()),
        ("idcard", p.idcard.as_str()),
        ("orderid", "1"),
    ]);
    let request = http::Request::post("/idcard/query")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into_bytes())
        .unwrap();
    let answer = offline.answer(&request).unwrap();
    assert_eq!(answer.status(), 200);
    let json: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(json["error_code"], 0);
    assert_eq!(offline.ledger().billed, 1);
}

/// An idcard check of the first sandbox person, as form bytes.
fn idcard_form(sandbox: &Sandbox) -> String {
    let p = &sandbox.identities()[0];
    juhe_proto::encode_form([
        ("key", SANDBOX_KEY),
        ("realname", p.name.as_str()),
        ("idcard", p.idcard.as_str()),
    ])
}

/// `qps(5)`: twelve requests at once, five processed and billed, seven answered 10012 and
/// not billed; `ip_qps(3)` answers 10011 the same way per address. The ledger counts codes.
#[test]
fn requests_over_a_cap_are_answered_10012_or_10011_and_not_billed() {
    for (sandbox, cap, code) in [
        (Sandbox::builder().qps(5).start().unwrap(), 5, 10012),
        (Sandbox::builder().ip_qps(3).start().unwrap(), 3, 10011),
    ] {
        let body = idcard_form(&sandbox);
        let codes: Vec<i64> = (0..12)
            .map(|_| post_form(sandbox.addr(), "/idcard/query", body.as_bytes()).unwrap().error_code())
            .collect();
        assert_eq!(codes.iter().filter(|&&c| c == 0).count(), cap, "{codes:?}");
        assert_eq!(codes.iter().filter(|&&c| c == code).count(), 12 - cap, "{codes:?}");
        let ledger = get(&sandbox, "/__sandbox/ledger");
        assert_eq!(ledger["billed"], cap);
        assert_eq!(ledger["codes"][code.to_string()], 12 - cap, "{ledger}");
        assert_eq!(sandbox.ledger().codes.get(&code.to_string()), Some(&(12 - cap as u64)));
        // A second later the window has moved on.
        std::thread::sleep(Duration::from_millis(1010));
        assert_eq!(post_form(sandbox.addr(), "/idcard/query", body.as_bytes()).unwrap().error_code(), 0);
    }
}

/// `latency(..)`: every answer waits its drawn time, after the check was processed.
#[test]
fn answers_wait_the_latency() {
    let delay = Duration::from_millis(150);
    let sandbox = Sandbox::builder().latency(delay..=delay).seed(1).start().unwrap();
    let started = std::time::Instant::now();
    let answer = post_form(sandbox.addr(), "/idcard/query", idcard_form(&sandbox).as_bytes()).unwrap();
    assert_eq!(answer.error_code(), 0);
    assert!(started.elapsed() >= delay, "answered after {:?}", started.elapsed());
    assert_eq!(sandbox.ledger().billed, 1);
}
