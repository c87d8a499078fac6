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

/// A batch file with `purpose` and `consent_ref` columns: each row's check is made (and
/// reused) for its own purpose, an empty cell takes `--purpose`; the audit names each row's;
/// without a ledger the column is refused before anything is sent.
#[test]
fn each_row_of_a_batch_file_can_name_its_purpose() {
    let dir = temp_dir("row-purposes");
    let ledger = dir.join("ledger.sqlite");
    let sandbox = Sandbox::start().unwrap();
    let people = builtin_population();
    let (a, b) = (&people[60], &people[61]);
    let input = dir.join("in.csv");
    let mut csv = String::from("name,idcard,mobile,purpose,consent_ref\n");
    for (p, purpose, consent) in
        [(a, "onboarding", "CR-1"), (a, "loan", "CR-2"), (a, "", ""), (b, "onboarding", "CR-3")]
    {
        csv.push_str(&format!("{},{},{},{purpose},{consent}\n", p.name, p.idcard, p.mobile));
    }
    std::fs::write(&input, csv).unwrap();
    let run = |output: &str| {
        let out = juhe(&sandbox, &ledger)
            .args(["batch", "telecom3", "--purpose", "kyc", "--reuse-within", "1d", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(dir.join(output))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run("out.csv");
    assert_eq!(sandbox.ledger().billed, 4, "person a for three purposes, b for one");
    run("again.csv");
    assert_eq!(sandbox.ledger().billed, 4, "each reused within its own purpose");
    let audit = ledger_command(&ledger).args(["ledger", "audit", "--format", "json"]).output().unwrap();
    let text = String::from_utf8(audit.stdout).unwrap();
    let mut purposes: Vec<(String, String)> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["kind"] == "check")
        .map(|l| {
            (
                l["purpose"].as_str().unwrap_or("").to_owned(),
                l["consent_ref"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    purposes.sort();
    let expected = [("kyc", ""), ("loan", "CR-2"), ("onboarding", "CR-1"), ("onboarding", "CR-3")];
    assert_eq!(purposes, expected.map(|(p, c)| (p.to_owned(), c.to_owned())));

    let refused = crate::juhe_command()
        .args(["--sandbox", "batch", "telecom3", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(dir.join("nowhere.csv"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("purpose column is recorded"), "{refused:?}");
}
