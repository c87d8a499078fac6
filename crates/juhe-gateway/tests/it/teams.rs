//! Two teams on one gateway: budgets per team, one payment for a person both check (reuse on),
//! products per key, revocation at once, and nothing personal stored.

use juhe_gateway::keys::{self, TeamRules};
use juhe_verify::Mode;
use serde_json::Value;

use crate::rig::{Rig, curl_post};

fn rules(products: &[&str], per_day: Option<u64>, reuse: bool) -> TeamRules {
    let mut rules = TeamRules::open();
    rules.products = products.iter().map(|p| (*p).to_owned()).collect();
    rules.max_billed_per_day = per_day;
    rules.reuse_within_secs = reuse.then_some(86_400);
    rules.purpose = Some("onboarding".into());
    rules
}

fn telecom3(rig: &Rig, key: &str, n: usize) -> (Value, Vec<(String, String)>) {
    let p = rig.person(n);
    let url = format!("{}/telecom3/query", rig.base_url);
    curl_post(
        &url,
        &[
            ("key", key),
            ("realname", &p.name),
            ("idcard", &p.idcard),
            ("mobile", &p.mobile),
            ("orderid", "1"),
        ],
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn budgets_hold_per_team_and_a_person_both_check_is_billed_once() {
    let teams = [("alpha", rules(&[], Some(2), true)), ("beta", rules(&["telecom3"], None, true))];
    let (rig, issued) = Rig::start("teams", Mode::Aes, &teams);
    let (alpha, beta) = (&issued[0].key, &issued[1].key);

    let (first, headers) = telecom3(&rig, alpha, 10);
    assert_eq!(header(&headers, "x-juhe-gateway-billed"), Some("yes"));
    let order = first["result"]["orderid"].as_str().unwrap().to_owned();
    // The same person for the other team: answered from the ledger, not billed again.
    let (reused, headers) = telecom3(&rig, beta, 10);
    assert_eq!(header(&headers, "x-juhe-gateway-billed"), Some("no"));
    assert!(header(&headers, "x-juhe-gateway-reused").is_some(), "{headers:?}");
    assert_eq!(reused["result"]["orderid"], order.as_str(), "the original order number");
    assert_eq!(reused["result"]["res"], first["result"]["res"]);
    assert_eq!(rig.billed(), 1);

    telecom3(&rig, alpha, 11);
    let (over, headers) = telecom3(&rig, alpha, 12);
    assert_eq!(over["error_code"], 10012, "{over}");
    let reason = over["reason"].as_str().unwrap();
    assert!(reason.contains("team alpha's budget of 2 billed checks per day"), "{reason}");
    assert_eq!(header(&headers, "x-juhe-gateway-billed"), Some("no"));
    assert_eq!(rig.billed(), 2, "over budget, nothing sent");
    // Beta's budget is its own.
    assert_eq!(telecom3(&rig, beta, 12).0["error_code"], 0);
    assert_eq!(rig.billed(), 3);

    // Beta may not check ID cards.
    let p = rig.person(13);
    let url = format!("{}/idcard/query", rig.base_url);
    let (refused, _) =
        curl_post(&url, &[("key", beta.as_str()), ("realname", &p.name), ("idcard", &p.idcard)]);
    assert_eq!(refused["error_code"], 10002);

    // Revoked: the very next request is refused with Juhe's wrong-key code.
    keys::revoke(&rig.ledger, "beta", "tester").unwrap();
    assert_eq!(telecom3(&rig, beta, 14).0["error_code"], 10001);
    assert_eq!(telecom3(&rig, "0123456789abcdef0123456789abcdef", 14).0["error_code"], 10001);
    assert_eq!(rig.billed(), 3);

    // Nothing personal in the ledger file or the metrics; the team and purpose are stored.
    let metrics = crate::rig::run("curl", &["-sS", &format!("{}/metrics", rig.base_url)]);
    assert!(
        metrics.contains(r#"team="alpha",product="telecom3",mode="aes",outcome="over_budget"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"team="beta",product="telecom3",mode="aes",outcome="reused"} 1"#),
        "{metrics}"
    );
    // The database and its write-ahead log, where recent entries are.
    let mut bytes = std::fs::read(&rig.ledger_path).unwrap();
    bytes.extend(std::fs::read(rig.ledger_path.with_extension("sqlite-wal")).unwrap_or_default());
    for n in 10..15 {
        let p = rig.person(n);
        let needles: [&[u8]; 3] = [p.name.as_bytes(), p.idcard.as_bytes(), p.mobile.as_bytes()];
        assert!(juhe_test_support::bytes::found(&bytes, &needles).is_empty(), "person {n} in the ledger");
        assert!(juhe_test_support::bytes::found(metrics.as_bytes(), &needles).is_empty());
    }
    assert!(!juhe_test_support::bytes::contains(&bytes, alpha.as_bytes()), "a virtual key in the ledger");
    assert!(!juhe_test_support::bytes::contains(&bytes, issued[0].openid.as_bytes()), "an openid in clear");
    let mut stored = Vec::new();
    rig.ledger
        .entries(juhe_verify::ledger::Span::all(), &mut |e| {
            stored.push((e.team.unwrap_or_default(), e.purpose.unwrap_or_default()));
            true
        })
        .unwrap();
    let onboarding = |team: &str| (team.to_owned(), "onboarding".to_owned());
    assert_eq!(stored, [onboarding("alpha"), onboarding("alpha"), onboarding("beta")]);
}
