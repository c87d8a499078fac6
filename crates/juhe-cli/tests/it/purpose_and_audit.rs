//! Purpose and consent recorded with each check, reuse kept within a purpose, and the audit:
//! who ran every check, for what, with no personal data; erasures in it too.

use std::path::Path;
use std::process::Command;

use juhe_sandbox::{Sandbox, builtin_population};

use crate::batch_command::temp_dir;

fn juhe(sandbox: &Sandbox, ledger: &Path) -> Command {
    let mut command = crate::juhe_command();
    command
        .env("USER", "auditor")
        .env_remove("JUHE_OPENID")
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "--ledger"])
        .arg(ledger);
    command
}

/// `juhe --ledger LEDGER`, for a `juhe ledger` command.
fn ledger_command(ledger: &Path) -> Command {
    let mut command = crate::juhe_command();
    command.env("USER", "auditor").env_remove("JUHE_KEY").arg("--ledger").arg(ledger);
    command
}

#[test]
fn reuse_stays_within_a_purpose_and_the_audit_names_who_and_why() {
    let dir = temp_dir("purpose");
    let ledger = dir.join("ledger.sqlite");
    let sandbox = Sandbox::start().unwrap();
    let people = builtin_population();
    let p = &people[40];
    let check = |purpose: &str| {
        let out = juhe(&sandbox, &ledger)
            .args(["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile])
            .args(["--reuse-within", "1d", "--purpose", purpose, "--consent-ref", "CR-7"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    check("onboarding");
    check("onboarding");
    assert_eq!(sandbox.ledger().billed, 1, "the same purpose: reused");
    check("loan");
    assert_eq!(sandbox.ledger().billed, 2, "another purpose: asked again");

    let input = dir.join("in.csv");
    let mut csv = String::from("name,idcard,mobile\n");
    for q in &people[50..55] {
        csv.push_str(&format!("{},{},{}\n", q.name, q.idcard, q.mobile));
    }
    std::fs::write(&input, csv).unwrap();
    let out = juhe(&sandbox, &ledger)
        .args(["batch", "telecom3", "--purpose", "kyc-refresh", "--consent-ref", "CR-9", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(dir.join("out.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let forgot = ledger_command(&ledger)
        .args(["ledger", "forget", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile])
        .args(["--key", sandbox.key()])
        .output()
        .unwrap();
    assert!(forgot.status.success(), "{}", String::from_utf8_lossy(&forgot.stderr));

    let audit = ledger_command(&ledger).args(["ledger", "audit", "--format", "json"]).output().unwrap();
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stderr));
    let text = String::from_utf8(audit.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let checks: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "check").collect();
    assert_eq!(checks.len(), 2 + 5, "one line per check that may cost money");
    let batch: Vec<_> = checks.iter().filter(|l| l["purpose"] == "kyc-refresh").collect();
    assert_eq!(batch.len(), 5);
    for line in &batch {
        assert_eq!(
            (&line["consent_ref"], &line["user"], &line["outcome"]),
            (&"CR-9".into(), &"auditor".into(), &"billed".into())
        );
        assert!(
            line["host"].as_str().is_some_and(|h| !h.is_empty()) && line["pid"].as_str().is_some(),
            "{line}"
        );
    }
    let erased =
        lines.iter().find(|l| l["kind"] == "admin" && l["outcome"] == "forget").expect("the erasure");
    assert_eq!(erased["user"], "auditor");
    for q in std::iter::once(p).chain(&people[50..55]) {
        for needle in [&q.name, &q.idcard, &q.mobile, &q.idcard[q.idcard.len() - 4..].to_owned()] {
            assert!(!text.contains(needle.as_str()), "{needle} in the audit");
        }
    }
}
