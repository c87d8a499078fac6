//! The operator's page: behind the admin key (never a team key), it shows each team's spend
//! from the ledger and what this replica reused and refused, and nothing personal.

use juhe_gateway::keys::TeamRules;
use juhe_verify::Mode;

use crate::rig::{ADMIN_KEY, Rig, curl_post, run};

#[test]
fn the_dashboard_shows_spend_reuse_and_refusals_to_the_admin_only() {
    let mut reuse = TeamRules::open();
    reuse.reuse_within_secs = Some(3600);
    let (rig, issued) = Rig::start("dashboard", Mode::Aes, &[("payments", reuse.clone()), ("risk", reuse)]);
    let url = format!("{}/telecom3/query", rig.base_url);
    for (team, n) in [(0, 20), (0, 21), (1, 21), (1, 22)] {
        let p = rig.person(n);
        let fields = [
            ("key", issued[team].key.as_str()),
            ("realname", &p.name),
            ("idcard", &p.idcard),
            ("mobile", &p.mobile),
        ];
        assert_eq!(curl_post(&url, &fields).0["error_code"], 0);
    }
    curl_post(&url, &[("key", issued[1].key.as_str()), ("realname", "张三")]);

    let page = format!("{}/__gateway/dashboard", rig.base_url);
    let status =
        |args: &[&str]| run("curl", &[&["-sS", "-o", "/dev/null", "-w", "%{http_code}"], args].concat());
    assert_eq!(status(&[&page]), "401");
    assert_eq!(status(&["-H", &format!("x-juhe-gateway-admin-key: {}", issued[0].key), &page]), "401");
    let html = run("curl", &["-sS", "-H", &format!("x-juhe-gateway-admin-key: {ADMIN_KEY}"), &page]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    let today = juhe_proto::CivilDate::today_in_china();
    assert!(
        html.contains(&format!("data-series=\"payments\" data-category=\"{today}\" data-value=\"2\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("data-series=\"risk\" data-category=\"{today}\" data-value=\"1\"")),
        "{html}"
    );
    // payments: 2 billed; risk: 1 billed, 1 reused from payments, 1 refused.
    assert!(
        html.contains("<tr><td>risk</td><td>1</td><td>1</td><td>1</td><td>0</td><td>0</td></tr>"),
        "{html}"
    );
    for n in 20..23 {
        let p = rig.person(n);
        for needle in [&p.name, &p.idcard, &p.mobile] {
            assert!(!html.contains(needle.as_str()), "personal data on the page");
        }
    }
}
