//! The ledger from the command line: real `juhe` processes on real SQLite files and a real
//! PostgreSQL server, against a sandbox whose own ledger says what was billed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use juhe_sandbox::Sandbox;
use juhe_test_support::{bytes, postgres_server};
use serde_json::Value;

use crate::batch_command::{Dice, batch, billed_in, read_output, settle, stderr, temp_dir, write_input};

/// `juhe` with `args` against `sandbox` (a separate server: checks "against Juhe", so the
/// default ledger applies), its data directory in `data`.
fn juhe_at<S: AsRef<std::ffi::OsStr>>(
    sandbox: &Sandbox,
    data: &Path,
    args: impl IntoIterator<Item = S>,
) -> Output {
    crate::juhe_command()
        .env("XDG_DATA_HOME", data)
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url()])
        .args(args)
        .output()
        .unwrap()
}

fn telecom3(sandbox: &Sandbox, n: usize) -> Vec<String> {
    let p = &sandbox.identities()[n];
    ["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile, "--format", "json"]
        .map(str::to_owned)
        .to_vec()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

fn report(ledger: &str) -> Value {
    let out = crate::juhe_command()
        .args(["ledger", "report", "--format", "json", "--ledger", ledger])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    json(&out)
}

/// `first`, then `rest`.
fn with(first: &[&str], rest: Vec<String>) -> Vec<String> {
    first.iter().map(|s| (*s).to_owned()).chain(rest).collect()
}

/// Checks against Juhe (here a sandbox on a port) record to the default ledger, a private
/// file in the data directory; `ledger report` counts them.
#[test]
fn checks_against_juhe_record_to_the_default_ledger() {
    let sandbox = Sandbox::start().unwrap();
    let data = temp_dir("default-ledger");
    for n in 0..2 {
        let out = juhe_at(&sandbox, &data, telecom3(&sandbox, n));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let file = data.join("juhe").join("ledger.sqlite");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let out = crate::juhe_command()
        .env("XDG_DATA_HOME", &data)
        .args(["ledger", "report", "--format", "json"])
        .output()
        .unwrap();
    let counts = json(&out);
    assert_eq!((counts["billed"].as_u64(), counts["maybe_billed"].as_u64()), (Some(2), Some(0)), "{counts}");
    let none = juhe_at(&sandbox, &temp_dir("no-ledger"), with(&["--no-ledger"], telecom3(&sandbox, 3)));
    assert_eq!(none.status.code(), Some(0));
    assert!(!temp_dir("no-ledger").join("juhe").exists());
}

/// The embedded sandbox records nowhere unless given a ledger; reuse needs one.
#[test]
fn the_embedded_sandbox_records_only_where_told() {
    let data = temp_dir("embedded");
    let person = &juhe_sandbox::builtin_population()[0];
    let args = [
        "--sandbox",
        "telecom3",
        "--name",
        &person.name,
        "--idcard",
        &person.idcard,
        "--mobile",
        &person.mobile,
    ];
    let out = crate::juhe_command().env("XDG_DATA_HOME", &data).args(args).output().unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", stderr(&out));
    assert!(!data.join("juhe").exists(), "the embedded sandbox wrote a ledger");
    let reuse = crate::juhe_command()
        .env("XDG_DATA_HOME", &data)
        .args(args)
        .args(["--reuse-within", "1d"])
        .output()
        .unwrap();
    assert_eq!(reuse.status.code(), Some(2), "{}", stderr(&reuse));
    assert!(stderr(&reuse).contains("--ledger"), "{}", stderr(&reuse));
    let ledger = data.join("given.sqlite");
    let out = crate::juhe_command().args(args).arg("--ledger").arg(&ledger).output().unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", stderr(&out));
    let entries = crate::juhe_command()
        .args(["ledger", "pending", "--format", "json", "--ledger"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(json(&entries), Value::Array(vec![]), "settled, so nothing pending");
    let export = crate::juhe_command().args(["ledger", "export", "--ledger"]).arg(&ledger).output().unwrap();
    let text = String::from_utf8_lossy(&export.stdout);
    assert!(text.starts_with("order_id,time,product,mode,subject,billed,error_code"), "{text}");
    let masked = juhe_proto::masking::mask_name(&person.name);
    assert!(text.contains("embedded-sandbox") && text.contains(&masked), "{text}");
    assert!(
        !text.contains(&person.name) && !text.contains(&person.idcard) && !text.contains(&person.mobile),
        "{text}"
    );
    // Its check is never counted billed: the sandbox's answers cost nothing.
    let mut rows = csv::Reader::from_reader(export.stdout.as_slice());
    assert!(rows.records().map(Result::unwrap).all(|r| &r[5] == "false"), "{text}");
    let counts = report(&ledger.display().to_string());
    assert_eq!(counts["billed"].as_u64(), Some(0), "{counts}");
    assert_eq!(counts["sandbox"]["billed"].as_u64(), Some(1), "{counts}");
}

/// Two API keys on one ledger, with the one `JUHE_LEDGER_SECRET` of a fleet: key B with reuse
/// on sends its own check of a person key A already checked (A's answer is neither reused nor
/// shown; the sandbox refuses B's key, 10001), and the report gives each account's own count
/// beside the total.
#[test]
fn two_accounts_on_one_ledger_stay_apart() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("accounts");
    let ledger = dir.join("shared.sqlite").display().to_string();
    let run = |key: &str| {
        crate::juhe_command()
            .env("JUHE_LEDGER_SECRET", "one fleet-wide ledger secret 0123456789")
            .args([
                "--key",
                key,
                "--base-url",
                sandbox.base_url(),
                "--ledger",
                &ledger,
                "--reuse-within",
                "1d",
            ])
            .args(telecom3(&sandbox, 7))
            .output()
            .unwrap()
    };
    let first = run(sandbox.key());
    assert!(first.status.code().is_some_and(|c| c <= 1), "{}", stderr(&first));
    let second = run("fedcba9876543210fedcba9876543210");
    assert_eq!(second.status.code(), Some(3), "B's check was sent, and refused: {}", stderr(&second));
    let second = json(&second);
    assert!(second.get("reused").is_none_or(Value::is_null), "B reused A's answer: {second}");
    assert_eq!(sandbox.ledger().requests, 2);
    let counts = report(&ledger);
    let accounts = counts["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{counts}");
    let billed: Vec<u64> = accounts.iter().map(|a| a["billed"].as_u64().unwrap()).collect();
    assert_eq!(billed.iter().sum::<u64>(), 1, "{counts}");
    // A secret that hides nothing (sixteen spaces, one letter repeated) is refused: nothing sent.
    for weak in [" ".repeat(16), "a".repeat(32)] {
        let out = crate::juhe_command()
            .env("JUHE_LEDGER_SECRET", &weak)
            .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "--ledger", &ledger])
            .args(telecom3(&sandbox, 8))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{weak:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("8 different characters")
                || String::from_utf8_lossy(&out.stdout).contains("8 different characters")
        );
    }
    assert_eq!(sandbox.ledger().requests, 2, "nothing sent under a weak secret");
}

/// A second run within the window reuses the first one's answer: nothing sent, not billed,
/// the original order number named.
#[test]
fn reuse_within_pays_once_across_runs() {
    let sandbox = Sandbox::start().unwrap();
    let data = temp_dir("reuse-runs");
    let check = with(&["--reuse-within", "30d"], telecom3(&sandbox, 5));
    let first = json(&juhe_at(&sandbox, &data, &check));
    let second_out = juhe_at(&sandbox, &data, &check);
    assert_eq!(second_out.status.code(), Some(0));
    let second = json(&second_out);
    assert_eq!(
        (first["billed"].as_bool(), second["billed"].as_bool()),
        (Some(true), Some(false)),
        "{second}"
    );
    assert_eq!(second["reused"]["order_id"], first["result"]["orderid"], "{second}");
    assert_eq!(second["result"]["res"], first["result"]["res"]);
    assert_eq!(sandbox.ledger().billed, 1);
}

/// A garbage file and an unreachable server: exit 2, nothing sent, the file unchanged, the
/// password not shown.
#[test]
fn an_unusable_ledger_sends_nothing() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("unusable");
    let garbage = dir.join("ledger.sqlite");
    std::fs::write(&garbage, b"not a database at all, just words\n".repeat(200)).unwrap();
    let before = std::fs::read(&garbage).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("postgres://juhe:hunter2@127.0.0.1:{port}/ledger");
    // Passwords holding `/`, `?` or `#`, where a mask that stops at the path would show them.
    let slashed = format!("postgres://juhe:hunter2/Zq9x@127.0.0.1:{port}/ledger");
    let queried = format!("postgres://juhe:hunter2?Zq9x@127.0.0.1:{port}/ledger");
    let hashed = format!("postgres://juhe:hunter2#Zq9x@127.0.0.1:{port}/ledger");
    // libpq's key=value form: a PostgreSQL ledger, never a file named after it.
    let conninfo = format!("host=127.0.0.1 port={port} user=juhe password=hunter2 dbname=ledger");
    let cwd = temp_dir("unusable-cwd");
    for ledger in [garbage.display().to_string(), unreachable, slashed, queried, hashed, conninfo] {
        let args = with(&["--ledger", ledger.as_str()], telecom3(&sandbox, 1));
        let out = crate::juhe_command()
            .current_dir(&cwd)
            .env("XDG_DATA_HOME", &dir)
            .args(["--key", sandbox.key(), "--base-url", sandbox.base_url()])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let said = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
        assert!(!said.contains("hunter2") && !said.contains("Zq9x"), "{said}");
        assert!(said.contains("ledger"), "{said}");
        assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "a stray file for {}", said);
        let batch_dir = temp_dir("unusable-batch");
        write_input(&batch_dir.join("in.csv"), 20);
        let batch =
            batch(&sandbox, &batch_dir.join("in.csv"), &batch_dir.join("out.csv"), &["--ledger", &ledger])
                .output()
                .unwrap();
        assert_eq!(batch.status.code(), Some(2), "{}", stderr(&batch));
    }
    // SQLite's in-memory and URI names are no ledger: refused, no file left.
    for ledger in [":memory:", "file:ledger.db?mode=memory"] {
        let args = with(&["--ledger", ledger], telecom3(&sandbox, 1));
        let out = crate::juhe_command()
            .current_dir(&cwd)
            .args(["--key", sandbox.key(), "--base-url", sandbox.base_url()])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{ledger}: {}", stderr(&out));
        assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "a stray file for {ledger}");
    }
    assert_eq!(sandbox.ledger().requests, 0, "nothing reached the sandbox");
    assert_eq!(std::fs::read(&garbage).unwrap(), before, "the garbage file was changed");
}

/// Where a test's shared ledger lives.
fn ledgers(name: &str) -> [String; 2] {
    [temp_dir(name).join("shared.sqlite").display().to_string(), postgres_server::shared().new_database()]
}

/// Two `juhe batch` processes at once on the same 40 new people with reuse on, on one SQLite
/// file and on one PostgreSQL: each person billed once between them.
#[test]
fn two_processes_on_one_ledger_pay_once_per_person() {
    for ledger in ledgers("two-processes") {
        let sandbox = Sandbox::start().unwrap();
        let dir = temp_dir("two-processes-run");
        let input = dir.join("in.csv");
        write_people(&sandbox, &input, 0..40);
        let children: Vec<_> = (0..2)
            .map(|i| {
                batch(
                    &sandbox,
                    &input,
                    &dir.join(format!("out-{i}.csv")),
                    &["--ledger", &ledger, "--reuse-within", "1d"],
                )
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
        assert_eq!(sandbox.ledger().billed, 40, "{ledger}");
        assert_eq!(report(&ledger)["billed"].as_u64(), Some(40));
    }
}

/// Two processes with a daily cap of 10 on 30 different people each: 10 billed between them.
#[test]
fn a_daily_cap_holds_across_processes() {
    for ledger in ledgers("cap") {
        let sandbox = Sandbox::start().unwrap();
        let dir = temp_dir("cap-run");
        let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
        write_people(&sandbox, &a, 0..30);
        write_people(&sandbox, &b, 30..60);
        let children: Vec<_> = [&a, &b]
            .iter()
            .enumerate()
            .map(|(i, input)| {
                batch(
                    &sandbox,
                    input,
                    &dir.join(format!("out-{i}.csv")),
                    &["--ledger", &ledger, "--max-billed-per-day", "10"],
                )
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for child in children {
            child.wait_with_output().unwrap();
        }
        assert_eq!(sandbox.ledger().billed, 10, "{ledger}");
    }
}

/// SIGKILL at many random points of a batch on a ledger, SQLite and PostgreSQL: every check
/// the sandbox billed is in the ledger, billed or pending, and each kill leaves at most the
/// checks in flight pending.
#[cfg(unix)]
#[test]
fn a_kill_at_any_instant_leaves_every_billed_check_in_the_ledger() {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut dice = Dice(seed);
    for ledger in ledgers("kills") {
        kill_at_random_points(&ledger, &mut dice, seed);
    }
}

fn kill_at_random_points(ledger: &str, dice: &mut Dice, seed: u64) {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("ledger-kills-run");
    let input = dir.join("in.csv");
    write_input(&input, 2000);
    let mut pending_before = 0;
    for kill in 0..12 {
        let concurrency: u64 = if kill % 2 == 0 { 1 } else { 8 };
        let output = dir.join(format!("out-{kill}.csv"));
        let mut child = batch(
            &sandbox,
            &input,
            &output,
            &["--concurrency", &concurrency.to_string(), "--ledger", ledger],
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(dice.below(400)));
        Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap();
        settle(&sandbox);
        let counts = report(ledger);
        let (billed, pending) = (counts["billed"].as_u64().unwrap(), counts["pending"].as_u64().unwrap());
        let by_sandbox = sandbox.ledger().billed;
        assert!(
            billed <= by_sandbox && by_sandbox <= billed + pending,
            "{ledger}, kill {kill} (seed {seed}): the sandbox billed {by_sandbox}, the ledger says {billed} billed + {pending} pending"
        );
        assert!(
            pending - pending_before <= concurrency,
            "{ledger}, kill {kill} (seed {seed}): {} left pending",
            pending - pending_before
        );
        pending_before = pending;
    }
    let pending = crate::juhe_command()
        .args(["ledger", "pending", "--format", "json", "--ledger", ledger])
        .output()
        .unwrap();
    assert_eq!(json(&pending).as_array().map(Vec::len), Some(pending_before as usize), "{ledger}");
}

/// The rows a kill left billed but not written are recovered from the ledger by `--resume`
/// (with no `--reuse-within`), order numbers included: nothing is paid twice.
#[cfg(unix)]
#[test]
fn resume_recovers_billed_rows_from_the_ledger() {
    let sandbox = Sandbox::builder()
        .fault(juhe_sandbox::Fault::always(juhe_sandbox::FaultKind::Latency(Duration::from_millis(3))))
        .start()
        .unwrap();
    let dir = temp_dir("ledger-resume");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let valid = write_input(&input, 1000) as u64;
    let ledger = dir.join("ledger.sqlite").display().to_string();
    // A short deadline: the resumed run waits for the killed run's checks in flight until
    // theirs passes (it cannot know that their process is gone).
    let args = ["--concurrency", "8", "--timeout", "1", "--ledger", ledger.as_str()];
    let mut child = batch(&sandbox, &input, &output, &args).stderr(Stdio::null()).spawn().unwrap();
    while std::fs::read(&output).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < 300 {
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    settle(&sandbox);
    let resumed = batch(&sandbox, &input, &output, &[&args[..], &["--resume"]].concat()).output().unwrap();
    let (headers, records) = read_output(&output);
    assert_eq!(records.len(), 1000, "{}", stderr(&resumed));
    let billed = sandbox.ledger().billed;
    assert!(billed <= valid, "{} rows were paid twice", billed - valid);
    let _ = headers;
}

/// No name, ID number (UTF-8 or GBK) or mobile of a batch, nor the key, in the ledger's
/// files; and `prune` empties it.
#[test]
fn the_ledger_holds_no_personal_data_and_prunes() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("ledger-private");
    let input = dir.join("in.csv");
    write_people(&sandbox, &input, 0..60);
    let ledger = dir.join("ledger.sqlite");
    let out = batch(&sandbox, &input, &dir.join("out.csv"), &["--ledger", &ledger.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<Vec<u8>> = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::read(format!("{}{s}", ledger.display())).ok())
        .collect();
    let mut needles: Vec<Vec<u8>> = vec![sandbox.key().as_bytes().to_vec()];
    for p in &sandbox.identities()[..60] {
        for text in [&p.name, &p.idcard, &p.mobile] {
            needles.push(text.as_bytes().to_vec());
            needles.push(encoding_rs::GBK.encode(text).0.into_owned());
        }
    }
    let needles: Vec<&[u8]> = needles.iter().map(Vec::as_slice).collect();
    for file in &files {
        let found = bytes::found(file, &needles);
        assert!(found.is_empty(), "found {found:?}");
    }
    let ledger = ledger.display().to_string();
    assert_eq!(report(&ledger)["billed"].as_u64(), Some(60));
    let dry = crate::juhe_command()
        .args(["ledger", "prune", "--older-than", "0s", "--dry-run", "--ledger", &ledger])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stderr(&dry).contains("would delete 60 entries"), "{}", stderr(&dry));
    assert_eq!(report(&ledger)["billed"].as_u64(), Some(60), "a dry run deletes nothing");
    let pruned = crate::juhe_command()
        .args(["ledger", "prune", "--older-than", "0s", "--ledger", &ledger])
        .output()
        .unwrap();
    assert!(pruned.status.success(), "{}", stderr(&pruned));
    assert_eq!(report(&ledger)["billed"].as_u64(), Some(0));
}

/// A batch answered from the ledger is counted as reused in the report, on each transport:
/// the process writes the counts it keeps in memory before it ends.
#[test]
fn a_batch_answered_from_the_ledger_counts_as_reused() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("reused-count");
    let input = dir.join("in.csv");
    write_people(&sandbox, &input, 0..40);
    let ledger = dir.join("ledger.sqlite").display().to_string();
    for (n, transport) in ["reqwest", "reqwest", "ureq"].iter().enumerate() {
        let output = dir.join(format!("out{n}.csv"));
        let extra = ["--ledger", &ledger, "--reuse-within", "1d", "--transport", transport];
        let out = batch(&sandbox, &input, &output, &extra).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let report = report(&ledger);
    assert_eq!((report["billed"].as_u64(), report["reused"].as_u64()), (Some(40), Some(80)), "{report}");
    assert_eq!(sandbox.ledger().billed, 40);
}

/// `juhe ledger retention` shows and sets the ledger's periods (refusing ones that do not
/// hold together, logged in the audit), and `juhe ledger prune` with no `--older-than` applies
/// them; on each database. What a pass clears is tested on a scripted clock in juhe-ledger.
#[test]
fn retention_is_set_per_ledger_and_applied_by_prune() {
    let dir = temp_dir("retention");
    for ledger in [dir.join("ledger.sqlite").display().to_string(), postgres_server::shared().new_database()]
    {
        let run =
            |args: &[&str]| crate::juhe_command().args(args).args(["--ledger", &ledger]).output().unwrap();
        let shown = run(&["ledger", "retention", "--format", "json"]);
        let shown = json(&shown);
        assert_eq!(
            (shown["personal_days"].as_u64(), shown["billing_days"].as_u64()),
            (Some(180), Some(1096))
        );
        let set = run(&["ledger", "retention", "--personal", "30d", "--billing", "2y"]);
        assert!(set.status.success(), "{}", stderr(&set));
        assert!(
            String::from_utf8_lossy(&set.stdout)
                .contains("personal fields kept 30 days, billing facts 730 days")
        );
        let refused = run(&["ledger", "retention", "--billing", "7d"]);
        assert_eq!(refused.status.code(), Some(2));
        assert!(stderr(&refused).contains("at least as long as the personal fields"), "{}", stderr(&refused));
        assert_eq!(
            json(&run(&["ledger", "retention", "--format", "json"]))["personal_days"].as_u64(),
            Some(30)
        );
        let audit = String::from_utf8(run(&["ledger", "audit", "--format", "json"]).stdout).unwrap();
        assert!(audit.contains("personal fields 30 days, billing facts 730 days"), "{audit}");
        let dry = run(&["ledger", "prune", "--dry-run"]);
        assert!(dry.status.success(), "{}", stderr(&dry));
        assert!(stderr(&dry).contains("would clear the personal fields of 0 entries"), "{}", stderr(&dry));
        assert!(run(&["ledger", "prune"]).status.success());
    }
}

/// `juhe ledger forget` on request: the person's entries lose their masked form (the export
/// shows it empty; a SQLite file no longer holds it, nor its log), their check is no longer
/// reused (asked again, it is billed again), everyone else's entries stay, and the billing
/// totals do not move. The receipt names no one.
#[test]
fn a_person_is_forgotten_on_request_on_each_database() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("forget");
    let sqlite = dir.join("ledger.sqlite");
    for ledger in [sqlite.display().to_string(), postgres_server::shared().new_database()] {
        let billed_before = sandbox.ledger().billed;
        let check = |n: usize| with(&["--ledger", &ledger, "--reuse-within", "30d"], telecom3(&sandbox, n));
        for n in [1, 2] {
            let out = juhe_at(&sandbox, &dir, check(n));
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let p = &sandbox.identities()[2];
        let masked = juhe_verify::proto::masking::mask_idcard(&p.idcard);
        let export = || {
            let out = crate::juhe_command().args(["ledger", "export", "--ledger", &ledger]).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        assert!(export().contains(&masked), "there before: {}", export());
        let forget = crate::juhe_command()
            .args(["ledger", "forget", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile])
            .args(["--ledger", &ledger])
            .env("JUHE_KEY", sandbox.key())
            .output()
            .unwrap();
        assert!(forget.status.success(), "{}", stderr(&forget));
        let receipt = String::from_utf8_lossy(&forget.stdout).into_owned();
        assert!(receipt.contains("1 entry") && receipt.contains("telecom3"), "{receipt}");
        for text in [&p.name, &p.idcard, &p.mobile, &masked] {
            assert!(!receipt.contains(text.as_str()), "the receipt names no one: {receipt}");
        }
        assert!(!export().contains(&masked), "gone from the export: {}", export());
        assert!(
            export().contains(&juhe_verify::proto::masking::mask_idcard(&sandbox.identities()[1].idcard))
        );
        assert_eq!(report(&ledger)["billed"].as_u64(), Some(2), "billing facts kept");
        if ledger.ends_with(".sqlite") {
            for suffix in ["", "-wal", "-shm"] {
                let Ok(file) = std::fs::read(format!("{ledger}{suffix}")) else { continue };
                assert!(!bytes::contains(&file, masked.as_bytes()), "in {ledger}{suffix}");
            }
        }
        // Asked again, person 2 is checked (and billed) again; person 1 is still reused.
        assert!(juhe_at(&sandbox, &dir, check(2)).status.success());
        assert!(juhe_at(&sandbox, &dir, check(1)).status.success());
        assert_eq!(sandbox.ledger().billed, billed_before + 3);
    }
}

/// `juhe ledger forget --people FILE.csv` (GBK, as Excel saves it): every person of the list
/// in one pass and one receipt naming no one; a row that names no one is reported by its
/// number only, and the exit status is 2; on each database.
#[test]
fn a_list_of_people_is_forgotten_in_one_pass() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("forget-people");
    for ledger in [dir.join("ledger.sqlite").display().to_string(), postgres_server::shared().new_database()]
    {
        for n in 10..16 {
            let out = juhe_at(&sandbox, &dir, with(&["--ledger", &ledger], telecom3(&sandbox, n)));
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let people = dir.join("people.csv");
        let mut text = String::from("姓名,身份证号,手机号\n");
        for p in &sandbox.identities()[10..13] {
            text.push_str(&format!("{},{},{}\n", p.name, p.idcard, p.mobile));
        }
        text.push_str("王五,110105194912310021,13800000000\n"); // a mistyped ID number: no one
        std::fs::write(&people, encoding_rs::GBK.encode(&text).0).unwrap();
        let forget = crate::juhe_command()
            .args(["ledger", "forget", "--people", &people.display().to_string(), "--ledger", &ledger])
            .env("JUHE_KEY", sandbox.key())
            .output()
            .unwrap();
        let (receipt, said) = (String::from_utf8_lossy(&forget.stdout).into_owned(), stderr(&forget));
        assert_eq!(forget.status.code(), Some(2), "{receipt}{said}");
        assert!(receipt.contains("3 entries of 3 people"), "{receipt}");
        assert!(said.contains("1 row named no one") && said.contains("rows 4"), "{said}");
        for p in &sandbox.identities()[10..13] {
            for text in [&p.name, &p.idcard, &p.mobile] {
                assert!(!receipt.contains(text.as_str()) && !said.contains(text.as_str()));
            }
        }
        assert!(!said.contains("110105194912310021"), "a bad row is named by its number only");
        let export = crate::juhe_command().args(["ledger", "export", "--ledger", &ledger]).output().unwrap();
        let export = String::from_utf8(export.stdout).unwrap();
        for (n, p) in sandbox.identities()[10..16].iter().enumerate() {
            let masked = juhe_verify::proto::masking::mask_idcard(&p.idcard);
            assert_eq!(export.contains(&masked), n >= 3, "person {n}: {export}");
        }
        let audit = crate::juhe_command().args(["ledger", "audit", "--ledger", &ledger]).output().unwrap();
        assert!(String::from_utf8_lossy(&audit.stdout).contains("3 entries of 3 people"));
    }
}

/// A ledger secret rotated with the old one kept (`JUHE_LEDGER_SECRET_PREVIOUS`): a person
/// checked before the rotation is reused after it; `juhe ledger secrets` names each version's
/// role; once the old secret is dropped the person is checked, and billed, again.
#[test]
fn a_rotated_secret_finds_old_entries_until_it_is_dropped() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("rotation");
    let ledger = dir.join("ledger.sqlite").display().to_string();
    let (old, new) = ("the ledger secret of 2026, old one", "the ledger secret of 2027, new one");
    let run = |vars: &[(&str, &str)], args: Vec<String>| {
        let mut command = crate::juhe_command();
        command.env("XDG_DATA_HOME", &dir).args(["--key", sandbox.key(), "--base-url", sandbox.base_url()]);
        command.envs(vars.iter().copied()).args(args).output().unwrap()
    };
    let check = || with(&["--ledger", &ledger, "--reuse-within", "30d"], telecom3(&sandbox, 20));
    let secrets = |vars: &[(&str, &str)]| {
        let out = crate::juhe_command()
            .args(["ledger", "secrets", "--format", "json", "--ledger", &ledger])
            .env("JUHE_KEY", sandbox.key())
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        json(&out)
    };
    assert!(run(&[("JUHE_LEDGER_SECRET", old)], check()).status.success());
    let rotated = [("JUHE_LEDGER_SECRET", new), ("JUHE_LEDGER_SECRET_PREVIOUS", old)];
    let after = json(&run(&rotated, check()));
    assert!(after["reused"].is_object(), "reused across the rotation: {after}");
    assert_eq!(sandbox.ledger().billed, 1);
    let versions = secrets(&rotated);
    assert_eq!(
        (versions[0]["entries"].as_u64(), versions[0]["role"].as_str()),
        (Some(1), Some("previous")),
        "{versions}"
    );
    let dropped = [("JUHE_LEDGER_SECRET", new)];
    let again = json(&run(&dropped, check()));
    assert!(again["reused"].is_null(), "unlinkable once the old secret is dropped: {again}");
    assert_eq!(sandbox.ledger().billed, 2);
    let versions = secrets(&dropped);
    let roles: Vec<&str> = versions.as_array().unwrap().iter().filter_map(|v| v["role"].as_str()).collect();
    assert_eq!(roles, ["not configured: unlinkable", "current"], "{versions}");
    let text = crate::juhe_command().args(["ledger", "secrets", "--ledger", &ledger]).output().unwrap();
    for secret in [old, new] {
        assert!(!String::from_utf8_lossy(&text.stdout).contains(secret), "versions, never secrets");
    }
}

/// A telecom3 input of the sandbox's people `range`.
fn write_people(sandbox: &Sandbox, path: &PathBuf, range: std::ops::Range<usize>) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(["name", "idcard", "mobile"]).unwrap();
    for p in &sandbox.identities()[range] {
        writer.write_record([&p.name, &p.idcard, &p.mobile]).unwrap();
    }
    writer.flush().unwrap();
}

/// The issue's condition, for real: `juhe batch` at concurrency 16 killed with SIGKILL at 12
/// random points, on each transport and each ledger, then `--resume`. After every kill, every
/// check the sandbox billed is in the output as billed or maybe (the rows in flight at the
/// kill, each with the ledger entry that settles it), none as not billed; the resumed run ends
/// with status 5 when it wrote such rows, and waits for no dead process's deadline (at most
/// 5 s beyond its own work). Settling them not billed then lets `--resend-maybe-billed` check
/// them again.
#[cfg(unix)]
fn killed_and_resumed(kind: &str, ledger: &str, transport: &str) {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut dice = Dice(seed);
    let dir = temp_dir(&format!("kill-resume-{kind}-{transport}-run"));
    let input = dir.join("in.csv");
    let rows = 240;
    write_input(&input, rows);
    let max_latency = Duration::from_millis(60);
    let mut settled_once = false;
    for kill in 0..12 {
        let sandbox = Sandbox::builder().latency(Duration::from_millis(20)..=max_latency).start().unwrap();
        let output = dir.join(format!("out-{transport}-{kill}.csv"));
        let args = ["--concurrency", "16", "--transport", transport, "--ledger", ledger];
        let mut child = batch(&sandbox, &input, &output, &args).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(dice.below(900)));
        Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap();
        settle(&sandbox);
        let written_before = std::fs::metadata(&output).map_or(0, |_| read_output(&output).1.len());
        let started = std::time::Instant::now();
        let resumed =
            batch(&sandbox, &input, &output, &[&args[..], &["--resume"]].concat()).output().unwrap();
        let took = started.elapsed();
        let context = format!("{ledger} {transport}, kill {kill} (seed {seed}): {}", stderr(&resumed));
        assert!(output.exists(), "{context}");
        let (headers, records) = read_output(&output);
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (billed, entry, row) = (column("juhe_billed"), column("juhe_ledger_entry"), column("juhe_row"));
        let mut seen: Vec<&str> = records.iter().map(|r| &r[row]).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!((seen.len(), records.len()), (rows, rows), "every row once: {context}");
        let count = |word: &str| records.iter().filter(|r| &r[billed] == word).count() as u64;
        let (yes, maybe) = (count("true"), count("maybe"));
        let by_sandbox = sandbox.ledger().billed;
        assert!(
            by_sandbox <= yes + maybe && yes <= by_sandbox,
            "the sandbox billed {by_sandbox}; the output says {yes} billed + {maybe} maybe: {context}"
        );
        assert!(maybe <= 16, "{maybe} maybe billed: {context}");
        let maybes: Vec<&str> = records.iter().filter(|r| &r[billed] == "maybe").map(|r| &r[entry]).collect();
        assert!(maybes.iter().all(|e| e.parse::<i64>().is_ok()), "each maybe row names its entry: {context}");
        assert_eq!(resumed.status.code(), Some(if maybe > 0 { 5 } else { 0 }), "{context}");
        if maybe > 0 {
            assert!(stderr(&resumed).contains("juhe ledger settle"), "{context}");
        }
        // No dead process's deadline waited for: the resumed run's own work (its rows at 16 at
        // a time, each at most one latency) plus process start-up, plus the issue's 5 s.
        let remaining = (rows - written_before.min(rows)) as u32;
        let work = max_latency * (remaining / 16 + 2) + Duration::from_secs(1);
        assert!(took < Duration::from_secs(5) + work, "the resumed run took {took:?}: {context}");

        if maybe > 0 && !settled_once {
            settled_once = true;
            let settled = crate::juhe_command()
                .args(["ledger", "settle", "--not-billed", "--format", "json", "--ledger", ledger])
                .args(&maybes)
                .output()
                .unwrap();
            assert!(settled.status.success(), "{}", stderr(&settled));
            assert_eq!(json(&settled).as_array().map(Vec::len), Some(maybes.len()));
            let before = sandbox.ledger().requests;
            let again = batch(
                &sandbox,
                &input,
                &output,
                &[&args[..], &["--resume", "--resend-maybe-billed"]].concat(),
            )
            .output()
            .unwrap();
            assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
            assert_eq!(sandbox.ledger().requests - before, maybe, "each settled row checked again, once");
        }
    }
}

#[cfg(unix)]
#[test]
fn killed_and_resumed_on_sqlite_with_reqwest() {
    let ledger = temp_dir("kill-resume-sqlite-reqwest").join("l.sqlite");
    killed_and_resumed("sqlite", &ledger.display().to_string(), "reqwest");
}

#[cfg(unix)]
#[test]
fn killed_and_resumed_on_sqlite_with_ureq() {
    let ledger = temp_dir("kill-resume-sqlite-ureq").join("l.sqlite");
    killed_and_resumed("sqlite", &ledger.display().to_string(), "ureq");
}

#[cfg(unix)]
#[test]
fn killed_and_resumed_on_postgres_with_reqwest() {
    killed_and_resumed("postgres", &postgres_server::shared().new_database(), "reqwest");
}

#[cfg(unix)]
#[test]
fn killed_and_resumed_on_postgres_with_ureq() {
    killed_and_resumed("postgres", &postgres_server::shared().new_database(), "ureq");
}

/// A batch that waits says what for, on stderr, at least every 5 s: here a second process on
/// the same people (reuse on) waits for the first's checks in flight (the sandbox answers them
/// after 7 s), then reuses their answers; the people are billed once.
#[test]
fn a_waiting_batch_says_what_it_waits_for() {
    let sandbox =
        Sandbox::builder().latency(Duration::from_secs(7)..=Duration::from_secs(7)).start().unwrap();
    let dir = temp_dir("waiting");
    let input = dir.join("in.csv");
    write_people(&sandbox, &input, 0..3);
    let ledger = dir.join("ledger.sqlite").display().to_string();
    let args = ["--ledger", ledger.as_str(), "--reuse-within", "1d"];
    let first =
        batch(&sandbox, &input, &dir.join("first.csv"), &args).stderr(Stdio::piped()).spawn().unwrap();
    let started = std::time::Instant::now();
    while sandbox.ledger().requests < 3 {
        assert!(started.elapsed() < Duration::from_secs(5), "the first batch's checks never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = batch(&sandbox, &input, &dir.join("second.csv"), &args).output().unwrap();
    assert!(second.status.success(), "{}", stderr(&second));
    let said = stderr(&second);
    assert!(
        said.contains("nothing written for 5 s; waiting: 3 checks in flight")
            && said.contains("3 of them wait for the same question in flight in another process"),
        "{said}"
    );
    assert!(first.wait_with_output().unwrap().status.success());
    assert_eq!(sandbox.ledger().billed, 3, "billed once each");
    assert_eq!(billed_in(&dir.join("second.csv")), 0, "the second reused the first's answers");
}

/// A ledger that fills up mid-batch (a real `RLIMIT_FSIZE` on the `juhe` process, SIGXFSZ
/// ignored as a shell's `trap` leaves it, so writes fail with EFBIG): the batch stops at the
/// first check the ledger could not record, sends nothing unrecorded, writes every billed row,
/// and exits 4 naming the ledger; `--resume` without the limit finishes the file.
#[cfg(unix)]
#[test]
fn a_ledger_that_fills_up_stops_the_batch_with_a_failure() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("ledger-full");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let rows = 400;
    write_input(&input, rows);
    let ledger = dir.join("ledger.sqlite").display().to_string();
    let mut limited = Command::new("bash");
    limited
        .args(["-c", r#"trap '' XFSZ; ulimit -f 96; exec "$0" "$@""#])
        .arg(env!("CARGO_BIN_EXE_juhe"))
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "batch", "telecom3", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--ledger", ledger.as_str(), "--concurrency", "4"]);
    let full = limited.output().unwrap();
    let said = stderr(&full);
    assert_eq!(full.status.code(), Some(4), "{said}");
    assert!(said.contains("the ledger could not record a check"), "{said}");
    settle(&sandbox);
    let (_, written) = read_output(&output);
    assert!(written.len() < rows, "the batch stopped early: {said}");
    assert_eq!(billed_in(&output), sandbox.ledger().billed, "every billed check is written: {said}");
    let resumed = batch(&sandbox, &input, &output, &["--ledger", &ledger, "--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let (headers, records) = read_output(&output);
    let row = headers.iter().position(|h| h == "juhe_row").unwrap();
    let mut seen: Vec<&str> = records.iter().map(|r| &r[row]).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), rows, "every row checked in the end");
}

/// PostgreSQL frozen mid-batch (SIGSTOP on every one of its processes, a server of this test's
/// own): the batch fails closed in bounded time (each ledger call gives up after the lock wait
/// plus 5 s), sends nothing it could not record, and writes every billed check to its output.
#[cfg(unix)]
#[test]
fn a_frozen_postgres_stops_the_batch_in_bounded_time() {
    let server = postgres_server::PostgresServer::start().unwrap();
    let ledger = server.new_database();
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("pg-frozen");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    write_input(&input, 2000);
    let mut child =
        batch(&sandbox, &input, &output, &["--ledger", &ledger, "--concurrency", "8", "--rate", "200"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    let started = std::time::Instant::now();
    while !output.exists() || read_output(&output).1.len() < 50 {
        assert!(started.elapsed() < Duration::from_secs(30), "no rows written");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.signal("-STOP");
    let frozen = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if frozen.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            server.signal("-CONT");
            panic!("the batch still ran 60 s after PostgreSQL froze");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = frozen.elapsed();
    server.signal("-CONT");
    let out = child.wait_with_output().unwrap();
    let said = stderr(&out);
    assert_eq!(status.code(), Some(4), "{said}");
    assert!(took < Duration::from_secs(45), "ended {took:?} after the freeze: {said}");
    assert!(said.contains("the ledger could not record a check"), "{said}");
    settle(&sandbox);
    assert_eq!(billed_in(&output), sandbox.ledger().billed, "every billed check is written: {said}");
}
