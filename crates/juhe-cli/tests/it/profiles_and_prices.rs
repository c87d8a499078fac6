//! Profiles from the config file (precedence: flag, then environment, then profile, then
//! default; secrets only from private files or the environment) and the priced report (money
//! per group, what reuse saved; `--format html` with the same numbers as `--format json`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use juhe_sandbox::Sandbox;
use serde_json::Value;

use crate::batch_command::{stderr, temp_dir};

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `juhe` with its config file at `config`, no `JUHE_*` variables but those given.
fn juhe_with<S: AsRef<std::ffi::OsStr>>(config: &Path, vars: &[(&str, &str)], args: &[S]) -> Output {
    let mut command: Command = crate::juhe_command();
    for variable in
        ["JUHE_KEY", "JUHE_OPENID", "JUHE_RSA_PUBLIC_KEY", "JUHE_BASE_URL", "JUHE_MODE", "JUHE_PROFILE"]
    {
        command.env_remove(variable);
    }
    command.env("JUHE_CONFIG", config).envs(vars.iter().copied()).args(args).output().unwrap()
}

/// What `juhe` said: stderr, and stdout (a check with `--format json` reports its failure
/// there, as one object).
fn said(output: &Output) -> String {
    format!("{}{}", stderr(output), String::from_utf8_lossy(&output.stdout))
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// A config with a `staging` profile pointing at `sandbox`: the key in a 0600 file, the openid
/// from a variable, AES, a ledger and prices.
fn staging(sandbox: &Sandbox, dir: &Path) -> (PathBuf, PathBuf) {
    let key_file = dir.join("staging.key");
    write(&key_file, &format!("{}\n", sandbox.key()), 0o600);
    let ledger = dir.join("staging.sqlite");
    let config = dir.join("config.toml");
    let text = format!(
        "default = \"sandbox\"\n\n[profiles.sandbox]\nsandbox = true\n\n\
         [profiles.staging]\nbase_url = \"{}\"\nkey_file = \"{}\"\nopenid_env = \"STAGING_OPENID\"\n\
         mode = \"AES\"\nledger = \"{}\"\nreuse_within = \"1d\"\nmax_billed_per_day = 3\n\n\
         [profiles.staging.prices]\ntelecom3 = 0.3\nidcard = \"0.1\"\n",
        sandbox.base_url(),
        key_file.display(),
        ledger.display()
    );
    write(&config, &text, 0o644);
    (config, ledger)
}

fn telecom3(sandbox: &Sandbox, n: usize) -> Vec<String> {
    let p = &sandbox.identities()[n];
    ["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile, "--format", "json"]
        .map(str::to_owned)
        .to_vec()
}

/// `before`, then `check`, then `after`, as one command line.
fn line(before: &[&str], check: Vec<String>, after: &[&str]) -> Vec<String> {
    let owned = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    [owned(before), check, owned(after)].concat()
}

#[test]
fn a_profile_fills_what_flags_and_the_environment_leave_unset() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("profile-precedence");
    let (config, ledger) = staging(&sandbox, &dir);
    let openid = [("STAGING_OPENID", sandbox.openid())];
    let check = telecom3(&sandbox, 1);

    // The profile's mode (aes, written in any case), key, openid and base URL.
    let profile = line(&["--profile", "staging"], check, &[]);
    assert_eq!(json(&juhe_with(&config, &openid, &profile))["api"], "telecom3/queryEncry");
    assert_eq!(sandbox.ledger().billed, 1, "sent to the profile's base URL with its key");
    // JUHE_PROFILE names it as well; the environment's mode wins over the profile's …
    let env = [openid[0], ("JUHE_PROFILE", "staging"), ("JUHE_MODE", "signed")];
    assert_eq!(json(&juhe_with(&config, &env, &telecom3(&sandbox, 2)))["api"], "telecom3/verify");
    // … and a flag over both.
    let typed = line(&[], telecom3(&sandbox, 3), &["--mode", "plain"]);
    assert_eq!(json(&juhe_with(&config, &env, &typed))["api"], "telecom3/query");
    // The profile's ledger recorded them, and its reuse window answers a repeat from it.
    let again = json(&juhe_with(&config, &openid, &profile));
    assert!(again["reused"].is_object(), "{again}");
    assert_eq!(sandbox.ledger().billed, 3);
    let report =
        json(&juhe_with(&config, &[], &["--profile", "staging", "ledger", "report", "--format", "json"]));
    assert_eq!((report["billed"].as_u64(), report["reused"].as_u64()), (Some(3), Some(1)), "{report}");
    assert!(ledger.exists());
    // Its daily cap (3) holds; a flag raises it for one run.
    let over = juhe_with(&config, &openid, &line(&["--profile", "staging"], telecom3(&sandbox, 4), &[]));
    assert_eq!(over.status.code(), Some(2), "{}", said(&over));
    assert!(said(&over).contains("budget of 3"), "{}", said(&over));
    let raised = line(&["--profile", "staging", "--max-billed-per-day", "4"], telecom3(&sandbox, 4), &[]);
    json(&juhe_with(&config, &openid, &raised));
    assert_eq!(sandbox.ledger().billed, 4);

    // With no profile named, the file's default (the embedded sandbox) applies, and says
    // sandbox as --sandbox does: a key and a base URL in the environment do not send it.
    let env = [("JUHE_KEY", sandbox.key()), ("JUHE_BASE_URL", sandbox.base_url())];
    let default = juhe_with(&config, &env, &telecom3(&sandbox, 1));
    assert!(said(&default).contains("embedded sandbox"), "{}", said(&default));
    assert_eq!(sandbox.ledger().billed, 4, "nothing went to the staging sandbox");
}

#[test]
fn secrets_come_from_private_files_or_the_environment() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("profile-secrets");
    let (config, _) = staging(&sandbox, &dir);
    let check = line(&["--profile", "staging"], telecom3(&sandbox, 1), &[]);
    let openid = [("STAGING_OPENID", sandbox.openid())];

    // A key file others may read is refused, with the reason and the fix, and nothing sent.
    std::fs::set_permissions(dir.join("staging.key"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let shared = juhe_with(&config, &openid, &check);
    let message = said(&shared);
    assert_eq!(shared.status.code(), Some(2), "{message}");
    assert!(message.contains("profile staging: key_file") && message.contains("chmod 600"), "{message}");
    assert!(!message.contains(sandbox.key()), "the key is never shown");
    // The openid's variable unset: named.
    std::fs::set_permissions(dir.join("staging.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let unset = juhe_with(&config, &[], &check);
    assert!(said(&unset).contains("STAGING_OPENID is not set"), "{}", said(&unset));

    // A key in clear in the config: only when the config itself is private.
    let inline = dir.join("inline.toml");
    let text = format!(
        "[profiles.p]\nbase_url = \"{}\"\nkey = \"{}\"\nopenid = \"{}\"\n",
        sandbox.base_url(),
        sandbox.key(),
        sandbox.openid()
    );
    write(&inline, &text, 0o644);
    let p = line(&["--profile", "p"], telecom3(&sandbox, 2), &[]);
    let refused = juhe_with(&inline, &[], &p);
    let message = said(&refused);
    assert_eq!(refused.status.code(), Some(2), "{message}");
    assert!(message.contains("key in the config") && message.contains("key_file or key_env"), "{message}");
    assert!(!message.contains(sandbox.key()) && !message.contains(sandbox.openid()), "{message}");
    assert_eq!(sandbox.ledger().requests, 0);
    std::fs::set_permissions(&inline, std::fs::Permissions::from_mode(0o600)).unwrap();
    json(&juhe_with(&inline, &[], &p));
    assert_eq!(sandbox.ledger().billed, 1);
}

#[test]
fn config_mistakes_are_named() {
    let dir = temp_dir("profile-mistakes");
    let config = dir.join("config.toml");
    write(&config, "[profiles.staging]\nmod = \"aes\"\n", 0o600);
    let typo = juhe_with(&config, &[], &["--profile", "staging", "codes", "10001"]);
    assert!(typo.status.success(), "a command that sends nothing does not read profiles");
    let typo =
        juhe_with(&config, &[], &["--profile", "staging", "idcard", "--name", "张三", "--idcard", "x"]);
    assert!(stderr(&typo).contains("mod"), "{}", stderr(&typo));
    write(&config, "[profiles.staging]\nmode = \"aes-cbc\"\n[profiles.prod]\n", 0o600);
    let unknown = juhe_with(&config, &[], &["--profile", "production", "ledger", "report"]);
    assert!(
        stderr(&unknown).contains("no profile `production` (profiles: prod, staging)"),
        "{}",
        stderr(&unknown)
    );
    let bad = juhe_with(&config, &[], &["--profile", "staging", "idcard", "--name", "张三", "--idcard", "x"]);
    assert!(stderr(&bad).contains("profile staging: mode: plain, signed, aes or rsa"), "{}", stderr(&bad));
    let missing = juhe_with(&dir.join("none.toml"), &[], &["--profile", "staging", "ledger", "report"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("--profile staging: config"), "{}", stderr(&missing));
}

/// Checks against a sandbox on one ledger: 3 telecom3 billed, 2 of them asked again and
/// reused, 1 idcard billed.
fn priced_ledger(sandbox: &Sandbox, dir: &Path) -> String {
    let ledger = dir.join("ledger.sqlite").display().to_string();
    let base = [
        "--key",
        sandbox.key(),
        "--base-url",
        sandbox.base_url(),
        "--ledger",
        &ledger,
        "--reuse-within",
        "1d",
    ];
    for n in [1, 2, 3, 1, 2] {
        json(&juhe_with(Path::new("/nonexistent"), &[], &line(&base, telecom3(sandbox, n), &[])));
    }
    let p = &sandbox.identities()[4];
    json(&juhe_with(
        Path::new("/nonexistent"),
        &[],
        &[&base[..], &["idcard", "--name", &p.name, "--idcard", &p.idcard, "--format", "json"]].concat(),
    ));
    ledger
}

#[test]
fn the_report_prices_checks_and_what_reuse_saved() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("priced-report");
    let ledger = priced_ledger(&sandbox, &dir);
    let report = |extra: &[&str]| {
        let base = ["ledger", "report", "--ledger", &ledger, "--format", "json", "--by", "product"];
        json(&juhe_with(Path::new("/nonexistent"), &[], &[&base[..], extra].concat()))
    };
    let priced = report(&["--price", "telecom3=0.25", "--price", "idcard=0.1"]);
    assert_eq!((priced["billed"].as_u64(), priced["reused"].as_u64()), (Some(4), Some(2)), "{priced}");
    assert_eq!(priced["money"], serde_json::json!({"spent": 0.85, "at_risk": 0.0, "saved": 0.5}), "{priced}");
    let telecom3 = priced["groups"].as_array().unwrap().iter().find(|g| g["key"] == "telecom3").unwrap();
    assert_eq!(telecom3["money"]["spent"], 0.75);
    assert_eq!(priced["accounts"][0]["money"], priced["money"]);
    // A price left out: its product is named, and out of the money.
    let partial = report(&["--price", "telecom3=0.25"]);
    assert_eq!(
        (partial["money"]["spent"].as_f64(), &partial["unpriced"]),
        (Some(0.75), &serde_json::json!(["idcard"]))
    );
    // Without prices: counts only.
    assert!(report(&[])["money"].is_null());
    let refused = juhe_with(
        Path::new("/nonexistent"),
        &[],
        &["ledger", "report", "--ledger", &ledger, "--price", "telecom3=-1"],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("not a price"), "{}", stderr(&refused));

    // A profile's prices fill the ones not typed.
    let config = dir.join("config.toml");
    write(
        &config,
        &format!(
            "[profiles.ops]\nledger = \"{ledger}\"\n[profiles.ops.prices]\ntelecom3 = 9\nidcard = 0.1\n"
        ),
        0o600,
    );
    let typed_wins = json(&juhe_with(
        &config,
        &[],
        &["--profile", "ops", "ledger", "report", "--format", "json", "--price", "telecom3=0.25"],
    ));
    assert_eq!(typed_wins["money"]["spent"], 0.85, "{typed_wins}");
    let text = juhe_with(&config, &[], &["--profile", "ops", "ledger", "report"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("prices per check: idcard 0.10, telecom3 9.00"), "{text}");
}

/// `--format html`: the numbers the charts draw are the JSON report's.
#[test]
fn the_html_report_shows_the_json_reports_numbers() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("html-report");
    let ledger = priced_ledger(&sandbox, &dir);
    let run = |format: &str| {
        let args = [
            "ledger",
            "report",
            "--ledger",
            &ledger,
            "--by",
            "day",
            "--price",
            "telecom3=0.25",
            "--price",
            "idcard=0.1",
            "--format",
            format,
        ];
        let out = juhe_with(Path::new("/nonexistent"), &[], &args);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let report: Value = serde_json::from_str(&run("json")).unwrap();
    let page = run("html");
    let embedded = page.split("<script type=\"application/json\" id=\"report\">").nth(1).unwrap();
    let embedded: Value = serde_json::from_str(embedded.split("</script>").next().unwrap()).unwrap();
    assert_eq!(embedded, report, "the page's data is the JSON report");
    let bar = |chart: &str, series: &str, category: &str| -> String {
        let svg = page.split(&format!("<svg id=\"{chart}\"")).nth(1).unwrap().split("</svg>").next().unwrap();
        let at = format!("data-series=\"{series}\" data-category=\"{category}\" data-value=\"");
        svg.split(&at)
            .nth(1)
            .unwrap_or_else(|| panic!("no bar {series}/{category} in {chart}"))
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    let day = report["groups"][0]["key"].as_str().unwrap();
    assert_eq!(bar("spend-per-day", "spent", day), report["groups"][0]["money"]["spent"].to_string());
    assert_eq!(bar("spend-per-day", "spent", day), "0.85");
    assert_eq!(bar("reused-vs-paid", "paid", day), report["groups"][0]["billed"].to_string());
    assert_eq!(bar("reused-vs-paid", "reused", day), "2");
    for (category, field) in [
        ("billed", "billed"),
        ("maybe billed", "maybe_billed"),
        ("not billed", "not_billed"),
        ("reused", "reused"),
    ] {
        assert_eq!(bar("checks-by-outcome", "checks", category), report[field].to_string(), "{category}");
    }
    assert!(page.contains(
        "<td>total</td><td>4</td><td>0</td><td>0</td><td>2</td><td>0.85</td><td>0.00</td><td>0.50</td>"
    ));
    for p in &sandbox.identities()[..5] {
        assert!(
            !page.contains(&p.idcard) && !page.contains(&p.name) && !page.contains(&p.mobile),
            "no personal data"
        );
    }
}
