//! `juhe batch` on input files as careless users and broken exports make them: mixed
//! encodings, lost characters, a quote never closed, a record of many megabytes. No row is
//! sent whose text is not the user's, no record vanishes without a report, memory stays
//! bounded.

use std::path::Path;

use juhe_sandbox::{Sandbox, builtin_population};

use crate::batch_command::{batch, read_output, stderr, temp_dir};

/// `name,idcard,mobile,note` lines of the first `n` sandbox people, with `note` = `n{i}`.
fn people_lines(n: usize) -> Vec<String> {
    builtin_population()
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, p)| format!("{},{},{},n{i}\n", p.name, p.idcard, p.mobile))
        .collect()
}

const HEADER: &str = "name,idcard,mobile,note\n";

/// A UTF-8 file with one line pasted from a GBK file is refused before anything is sent; with
/// `--encoding utf-8` the GBK line is reported and skipped and the others are checked.
#[test]
fn a_utf8_file_with_a_gbk_line_is_refused_until_the_encoding_is_given() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("mixed-encodings");
    let input = dir.join("in.csv");
    let lines = people_lines(20);
    let mut bytes = HEADER.as_bytes().to_vec();
    for (i, line) in lines.iter().enumerate() {
        if i == 6 {
            bytes.extend_from_slice(&encoding_rs::GB18030.encode(line).0);
        } else {
            bytes.extend_from_slice(line.as_bytes());
        }
    }
    std::fs::write(&input, bytes).unwrap();

    let refused = batch(&sandbox, &input, &dir.join("out.csv"), &[]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let text = stderr(&refused);
    assert!(text.contains("line 8 is not UTF-8") && text.contains("--encoding"), "{text}");
    assert_eq!(sandbox.ledger().requests, 0, "nothing was sent");

    let given = batch(&sandbox, &input, &dir.join("out.csv"), &["--encoding", "utf-8"]).output().unwrap();
    assert_eq!(given.status.code(), Some(4), "a row was skipped: {}", stderr(&given));
    assert!(stderr(&given).contains("input line 8: not UTF-8 text"), "{}", stderr(&given));
    assert_eq!(sandbox.ledger().requests, 19, "every UTF-8 row, and not the GBK one");
    let name = &builtin_population()[0].name;
    assert!(read_output(&dir.join("out.csv")).1.iter().any(|r| &r[0] == name), "names are intact");
}

/// A lone surrogate in a UTF-16 file would become U+FFFD in the name: that record is reported
/// and skipped, never sent.
#[test]
fn a_utf16_lone_surrogate_makes_its_record_malformed() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("lone-surrogate");
    let input = dir.join("in.csv");
    let lines = people_lines(5);
    let mut units: Vec<u16> = HEADER.encode_utf16().collect();
    for (i, line) in lines.iter().enumerate() {
        let mut line: Vec<u16> = line.encode_utf16().collect();
        if i == 2 {
            line.insert(1, 0xD800); // inside the name
        }
        units.extend(line);
    }
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    std::fs::write(&input, bytes).unwrap();

    let run = batch(&sandbox, &input, &dir.join("out.csv"), &[]).output().unwrap();
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    assert!(stderr(&run).contains("input line 4: not UTF-16LE text"), "{}", stderr(&run));
    assert_eq!(sandbox.ledger().requests, 4);
    assert_eq!(read_output(&dir.join("out.csv")).1.len(), 4);
}

/// A quote opened in the last column of row 2 and never closed: the rest of the file is one
/// cell. That record is malformed, with its line range, and the run does not exit 0.
#[test]
fn a_quote_open_at_the_end_of_the_file_is_reported_not_checked() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("open-quote");
    let input = dir.join("in.csv");
    let mut lines = people_lines(10);
    lines[1] = lines[1].replace(",n1", ",\"n1");
    std::fs::write(&input, format!("{HEADER}{}", lines.concat())).unwrap();

    let run = batch(&sandbox, &input, &dir.join("out.csv"), &[]).output().unwrap();
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    let text = stderr(&run);
    assert!(text.contains("input lines 3-11: the record opens a quote that is not closed"), "{text}");
    assert!(text.contains("1 malformed"), "{text}");
    assert_eq!(sandbox.ledger().requests, 1, "row 1 only: row 2 is not the row the user wrote");
}

/// Runs `juhe batch` under `/usr/bin/time`: its exit status, stderr, and peak memory in KiB.
fn measured(sandbox: &Sandbox, input: &Path, output: &Path) -> (Option<i32>, String, u64) {
    let plain = batch(sandbox, input, output, &[]);
    let mut command = std::process::Command::new("/usr/bin/time");
    command.arg("-f").arg("juhe-peak-rss-kib=%M").arg(plain.get_program()).args(plain.get_args());
    for (key, value) in plain.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let run = command.output().unwrap();
    let text = stderr(&run);
    let peak = text
        .lines()
        .find_map(|l| l.strip_prefix("juhe-peak-rss-kib="))
        .unwrap_or_else(|| panic!("no peak from /usr/bin/time: {text}"))
        .trim()
        .parse()
        .unwrap();
    (run.status.code(), text, peak)
}

/// A record of 3 MiB between good ones is reported as too long, and the rows after it are
/// checked; a 64 MiB file that is one open quote after row 1 is read in bounded memory.
#[test]
fn records_over_a_mebibyte_are_reported_and_memory_stays_bounded() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("long-records");
    let input = dir.join("in.csv");
    let lines = people_lines(5);
    let note = format!("\"{}\n{}\"", "x".repeat(3 << 20), "y".repeat(10));
    let long = lines[1].replace("n1", &note);
    std::fs::write(&input, format!("{HEADER}{}{long}{}", lines[0], lines[2..].concat())).unwrap();
    let (status, text, _) = measured(&sandbox, &input, &dir.join("out.csv"));
    assert_eq!(status, Some(4), "{text}");
    assert!(text.contains("input lines 3-4: the record is longer than 1 MiB"), "{text}");
    assert_eq!(sandbox.ledger().requests, 4, "the rows before and after it");
    assert_eq!(read_output(&dir.join("out.csv")).1.len(), 4);

    let mut huge = format!("{HEADER}{}", lines[0]).into_bytes();
    huge.extend_from_slice(lines[1].replace(",n1", ",\"n1").as_bytes());
    let filler = lines[2].repeat(1 + (64 << 20) / lines[2].len());
    huge.extend_from_slice(filler.as_bytes());
    std::fs::write(&input, &huge).unwrap();
    let (status, text, peak_kib) = measured(&sandbox, &input, &dir.join("out-huge.csv"));
    assert_eq!(status, Some(4), "{text}");
    assert!(text.contains("the record is longer than 1 MiB"), "{text}");
    // The whole file in memory would be 64 MiB, three copies of it ~190 (as before the cap).
    assert!(peak_kib < 48 * 1024, "peak {peak_kib} KiB reading a 64 MiB open quote");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An output is resumed only for the product, mode and target it was written for: an idcard
/// output has a telecom2 output's columns, and an embedded-sandbox run's verdicts are test
/// data. Each refusal is status 2 with nothing sent.
#[test]
fn resume_is_bound_to_product_mode_and_target() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("bound");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    std::fs::write(&input, format!("{HEADER}{}", people_lines(12).concat())).unwrap();
    let first =
        crate::batch_command::batch_product(&sandbox, "idcard", &input, &output, &[]).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(sandbox.ledger().requests, 12);

    let other_product =
        crate::batch_command::batch_product(&sandbox, "telecom2", &input, &output, &["--resume"])
            .output()
            .unwrap();
    assert_eq!(other_product.status.code(), Some(2), "{}", stderr(&other_product));
    assert!(stderr(&other_product).contains("`batch idcard`"), "{}", stderr(&other_product));
    let other_mode = crate::batch_command::batch_product(
        &sandbox,
        "idcard",
        &input,
        &output,
        &["--resume", "--mode", "aes"],
    )
    .env("JUHE_OPENID", sandbox.openid())
    .output()
    .unwrap();
    assert_eq!(other_mode.status.code(), Some(2), "{}", stderr(&other_mode));
    let same = crate::batch_command::batch_product(&sandbox, "idcard", &input, &output, &["--resume"])
        .output()
        .unwrap();
    assert!(same.status.success(), "{}", stderr(&same));
    assert_eq!(sandbox.ledger().requests, 12, "nothing sent by any resume");

    // A run on the embedded sandbox, resumed against a real target.
    let embedded = dir.join("embedded.csv");
    let test_run = crate::juhe_command()
        .args(["--sandbox", "batch", "idcard", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&embedded)
        .output()
        .unwrap();
    assert!(test_run.status.success(), "{}", stderr(&test_run));
    let as_real = crate::batch_command::batch_product(&sandbox, "idcard", &input, &embedded, &["--resume"])
        .output()
        .unwrap();
    assert_eq!(as_real.status.code(), Some(2), "{}", stderr(&as_real));
    assert!(stderr(&as_real).contains("embedded-sandbox"), "{}", stderr(&as_real));
    assert_eq!(sandbox.ledger().requests, 12);

    // An output whose binding is gone is not resumed either.
    std::fs::remove_file(dir.join("out.csv.juhe-run")).unwrap();
    let unbound = crate::batch_command::batch_product(&sandbox, "idcard", &input, &output, &["--resume"])
        .output()
        .unwrap();
    assert_eq!(unbound.status.code(), Some(2), "{}", stderr(&unbound));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--resume` checks again the rows that failed without being billed for a reason that
/// passes (here: nothing was listening, so nothing was sent), and the latest record of a row
/// counts; a row left maybe billed is checked again only with `--resend-maybe-billed`.
#[test]
fn resume_checks_again_what_failed_unbilled_and_maybe_billed_only_when_asked() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = temp_dir("recheck");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let slow = juhe_sandbox::magic::SLOW;
    let mut text = format!("{HEADER}{}", people_lines(10).concat());
    text += &format!("{},{},{},slow\n", slow.name, slow.idcard, slow.mobile);
    std::fs::write(&input, text).unwrap();
    let run = |extra: &[&str]| {
        let mut command = crate::juhe_command();
        command
            .args(["--key", juhe_sandbox::SANDBOX_KEY, "--base-url", &format!("http://127.0.0.1:{port}")])
            .args(["--timeout", "1", "batch", "telecom3", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .args(extra);
        command.output().unwrap()
    };
    // Nothing listens: every row is written "not sent".
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(0), "every row processed: {}", stderr(&refused));
    let (headers, records) = read_output(&output);
    let code = headers.iter().position(|h| h == "juhe_error_code").unwrap();
    assert!(records.iter().all(|r| &r[code] == "not sent"), "{records:?}");

    let sandbox = Sandbox::builder().addr(format!("127.0.0.1:{port}")).start().unwrap();
    let resumed = run(&["--resume"]);
    assert!(stderr(&resumed).contains("11 of them are checked again"), "{}", stderr(&resumed));
    assert_eq!(sandbox.ledger().requests, 11, "every row sent again");
    assert_eq!(sandbox.ledger().billed, 11, "the slow one is billed too, its answer too late");
    let (_, records) = read_output(&output);
    assert_eq!(records.len(), 22, "the new records follow the old");

    // The slow row is now maybe billed: left alone, then checked again when asked.
    let again = run(&["--resume"]);
    assert!(stderr(&again).contains("1 maybe billed are not"), "{}", stderr(&again));
    assert_eq!(sandbox.ledger().requests, 11, "nothing sent");
    // Asked to pay twice, the one opt-in also retries its timeouts: 3 attempts, each too slow.
    let asked = run(&["--resume", "--resend-maybe-billed"]);
    assert_eq!(sandbox.ledger().requests, 14, "the maybe billed row, 3 attempts: {}", stderr(&asked));
    let _ = std::fs::remove_dir_all(&dir);
}

/// On each transport: a server answering HTTP 503 (a real one: the sandbox's gateway fault) makes every row fail
/// unbilled with `juhe_resend=safe`, after the library's own retries; `--resume` against the
/// server once it answers checks each of them again, once: the library's rule, as the row
/// recorded it.
#[test]
fn rows_a_503_refused_are_checked_again_on_resume() {
    for transport in ["reqwest", "ureq"] {
        resumed_after_503(transport);
    }
}

fn resumed_after_503(transport: &str) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = temp_dir(&format!("resume-503-{transport}"));
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    std::fs::write(&input, format!("{HEADER}{}", people_lines(6).concat())).unwrap();
    let run = |extra: &[&str]| {
        let mut command = crate::juhe_command();
        command
            .args(["--key", juhe_sandbox::SANDBOX_KEY, "--base-url", &format!("http://127.0.0.1:{port}")])
            .args(["--transport", transport, "batch", "telecom3", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .args(extra);
        command.output().unwrap()
    };
    let unavailable = Sandbox::builder()
        .addr(format!("127.0.0.1:{port}"))
        .fault(juhe_sandbox::Fault::always(juhe_sandbox::FaultKind::HttpStatus(503)))
        .start()
        .unwrap();
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(0), "{transport}: every row processed: {}", stderr(&refused));
    assert_eq!(
        unavailable.ledger().requests,
        18,
        "{transport}: 3 attempts a row: a 503 is retried (nothing billed)"
    );
    drop(unavailable);
    let (headers, records) = read_output(&output);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (billed, resend) = (column("juhe_billed"), column("juhe_resend"));
    assert!(records.iter().all(|r| (&r[billed], &r[resend]) == ("false", "safe")), "{records:?}");

    let sandbox = Sandbox::builder().addr(format!("127.0.0.1:{port}")).start().unwrap();
    let resumed = run(&["--resume"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(stderr(&resumed).contains("6 of them are checked again"), "{}", stderr(&resumed));
    assert_eq!((sandbox.ledger().requests, sandbox.ledger().billed), (6, 6), "{transport}");
    let again = run(&["--resume"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(sandbox.ledger().requests, 6, "billed rows are never checked again");
    let _ = std::fs::remove_dir_all(&dir);
}
