//! `juhe batch` against a sandbox, as users with real spreadsheets run it: every row out
//! exactly once, invalid rows never sent, each row paid for once however the run ends.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use juhe_sandbox::{Fault, FaultKind, Sandbox, builtin_population};

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("juhe-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `rows` telecom3 rows of distinct people (the population, then the same people with the
/// mobile of the next: a mismatch, not a repeat): every 10th has a mistyped ID (invalid),
/// every 5th of the rest someone else's name (mismatch). Returns how many are valid.
pub(crate) fn write_input(path: &Path, rows: usize) -> usize {
    let people = builtin_population();
    assert!(rows <= 2 * people.len(), "rows would repeat");
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(["customer", "name", "idcard", "mobile"]).unwrap();
    let mut valid = 0;
    for i in 0..rows {
        let p = &people[i % people.len()];
        let mobile =
            if i < people.len() { p.mobile.clone() } else { people[(i + 1) % people.len()].mobile.clone() };
        let (name, idcard) = if i % 10 == 3 {
            (
                p.name.clone(),
                format!("{}{}", &p.idcard[..17], if p.idcard.ends_with('0') { '1' } else { '0' }),
            )
        } else if i % 5 == 1 {
            (people[(i + 7) % people.len()].name.clone(), p.idcard.clone())
        } else {
            (p.name.clone(), p.idcard.clone())
        };
        valid += usize::from(i % 10 != 3);
        writer.write_record([format!("C{i}"), name, idcard, mobile]).unwrap();
    }
    writer.flush().unwrap();
    valid
}

pub(crate) fn batch(sandbox: &Sandbox, input: &Path, output: &Path, extra: &[&str]) -> Command {
    batch_product(sandbox, "telecom3", input, output, extra)
}

/// `juhe batch PRODUCT` against `sandbox`.
pub(crate) fn batch_product(
    sandbox: &Sandbox,
    product: &str,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> Command {
    let mut command = crate::juhe_command();
    command
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "batch", product])
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .env_remove("JUHE_OPENID")
        .env_remove("JUHE_RSA_PUBLIC_KEY");
    command
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The output's header and complete rows (a half-written last line is left out).
pub(crate) fn read_output(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let bytes = std::fs::read(path).unwrap();
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(&bytes[..0], |end| &bytes[..=end]);
    let mut reader = csv::Reader::from_reader(complete);
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    (headers, records)
}

pub(crate) fn column(headers: &[String], name: &str) -> usize {
    headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
}

pub(crate) fn billed_in(path: &Path) -> u64 {
    let (headers, records) = read_output(path);
    let billed = column(&headers, "juhe_billed");
    records.iter().filter(|r| &r[billed] == "true").count() as u64
}

#[test]
fn every_row_comes_out_once_and_invalid_rows_are_not_sent() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("once");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let valid = write_input(&input, 2000) as u64;
    let run = batch(&sandbox, &input, &output, &["--concurrency", "16"]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let (headers, records) = read_output(&output);
    assert_eq!(&headers[..4], ["customer", "name", "idcard", "mobile"]);
    let rows: HashSet<&str> = records.iter().map(|r| r.get(column(&headers, "juhe_row")).unwrap()).collect();
    assert_eq!((records.len(), rows.len()), (2000, 2000), "each row exactly once");
    let invalid =
        records.iter().filter(|r| r[column(&headers, "juhe_reason")].starts_with("invalid idcard")).count();
    assert_eq!(invalid as u64, 2000 - valid);
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (valid, valid), "invalid rows must not be sent");
    assert_eq!(billed_in(&output), valid);
    let summary = stderr(&run);
    assert!(
        summary.contains("2000 rows written") && summary.contains(&format!("{valid} billed")),
        "{summary}"
    );
    assert!(summary.contains("billed but not recorded: 0"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tiny pseudo-random sequence (xorshift), seeded from the clock and printed on failure.
pub(crate) struct Dice(pub(crate) u64);

impl Dice {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Waits until the sandbox has answered everything it received: its count of requests stops
/// moving.
pub(crate) fn settle(sandbox: &Sandbox) {
    let mut last = sandbox.ledger().requests;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = sandbox.ledger().requests;
        if now == last {
            return;
        }
        last = now;
    }
}

/// Killed at many random points, with no latency added anywhere: billed but not recorded
/// never exceeds the checks in flight, at every one of them.
#[cfg(unix)]
#[test]
fn a_kill_at_any_instant_leaves_at_most_the_rows_in_flight_unrecorded() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("kills");
    let input = dir.join("in.csv");
    write_input(&input, 2400);
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut dice = Dice(seed);
    for kill in 0..40 {
        // One check in flight makes the bound tightest: a finished check whose row is not yet
        // written must keep the next one from starting.
        let concurrency: u64 = if kill % 4 == 3 { 8 } else { 1 };
        let output = dir.join(format!("out-{kill}.csv"));
        let billed_before = sandbox.ledger().billed;
        let mut child = batch(&sandbox, &input, &output, &["--concurrency", &concurrency.to_string()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(dice.below(300)));
        Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap();
        // The dead client's last request may still be in the sandbox: count it in this round.
        settle(&sandbox);
        let billed = sandbox.ledger().billed - billed_before;
        let recorded = if output.exists() && std::fs::metadata(&output).unwrap().len() > 0 {
            billed_in(&output)
        } else {
            0
        };
        assert!(
            billed >= recorded && billed - recorded <= concurrency,
            "kill {kill} (seed {seed}): {billed} billed, {recorded} recorded: more than the {concurrency} in flight lost"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_killed_run_resumes_without_paying_twice() {
    // The output file alone (no ledger; `ledger_commands` resumes from one): at most the
    // checks in flight are paid twice.
    // 3 ms a check keeps the run long enough to kill it half-way.
    let sandbox = Sandbox::builder()
        .fault(Fault::always(FaultKind::Latency(Duration::from_millis(3))))
        .start()
        .unwrap();
    let dir = temp_dir("resume");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let valid = write_input(&input, 2000) as u64;
    let concurrency = 8;
    let mut child = batch(&sandbox, &input, &output, &["--concurrency", "8", "--no-ledger"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read(&output).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < 700 {
        assert!(started.elapsed() < Duration::from_secs(60), "the batch made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let billed_before = sandbox.ledger().billed;
    assert!(billed_before < valid, "killed too late: {billed_before} of {valid} done");

    let resumed = batch(&sandbox, &input, &output, &["--concurrency", "8", "--resume", "--no-ledger"])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let (headers, records) = read_output(&output);
    let rows: HashSet<&str> = records.iter().map(|r| r.get(column(&headers, "juhe_row")).unwrap()).collect();
    assert_eq!(
        (records.len(), rows.len()),
        (2000, 2000),
        "after --resume each row is in the file exactly once"
    );
    let extra = sandbox.ledger().billed - valid;
    assert!(
        extra <= concurrency,
        "{extra} rows were paid twice (at most the {concurrency} in flight may be)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_users_own_columns_never_collide_with_the_tools() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("columns");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let people = builtin_population();
    let mut text = String::from("row,name,idcard,mobile,billed,error_code\n");
    for (i, p) in people.iter().take(20).enumerate() {
        // The user's `row` holds a big customer number: it must never be read as ours.
        text += &format!("{},{},{},{},yes,none\n", 20231122000123u64 + i as u64, p.name, p.idcard, p.mobile);
    }
    std::fs::write(&input, &text).unwrap();
    let first = batch(&sandbox, &input, &output, &[]).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let (headers, records) = read_output(&output);
    assert_eq!(headers.iter().filter(|h| *h == "row").count(), 1);
    assert_eq!(records.len(), 20);
    let resumed = batch(&sandbox, &input, &output, &["--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(
        sandbox.ledger().requests,
        20,
        "resume read our columns, not the user's: nothing checked again"
    );

    std::fs::write(&input, "name,idcard,mobile,juhe_row\n").unwrap();
    let refused = batch(&sandbox, &input, &dir.join("other.csv"), &[]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("`juhe_row`"), "{}", stderr(&refused));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_refuses_an_output_that_belongs_to_another_input() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("proof");
    let (a, b, output) = (dir.join("a.csv"), dir.join("b.csv"), dir.join("out.csv"));
    let people = builtin_population();
    let rows = |offset: usize| {
        let mut text = String::from("name,idcard,mobile\n");
        for p in people.iter().skip(offset).take(10) {
            text += &format!("{},{},{}\n", p.name, p.idcard, p.mobile);
        }
        text
    };
    std::fs::write(&a, rows(0)).unwrap();
    std::fs::write(&b, rows(100)).unwrap();
    assert!(batch(&sandbox, &a, &output, &[]).output().unwrap().status.success());
    let requests = sandbox.ledger().requests;
    let other = batch(&sandbox, &b, &output, &["--resume"]).output().unwrap();
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    assert!(stderr(&other).contains("written for another input"), "{}", stderr(&other));
    assert_eq!(sandbox.ledger().requests, requests, "nothing sent");

    // An output naming a row far beyond the input is refused, not allocated for.
    let (headers, mut records) = read_output(&output);
    let row = column(&headers, "juhe_row");
    let mut writer = csv::Writer::from_path(&output).unwrap();
    writer.write_record(&headers).unwrap();
    for record in &mut records {
        let mut fields: Vec<String> = record.iter().map(str::to_owned).collect();
        if fields[row] == "1" {
            fields[row] = "20231122000123".to_owned();
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    let beyond = batch(&sandbox, &a, &output, &["--resume"]).output().unwrap();
    assert_eq!(beyond.status.code(), Some(2), "{}", stderr(&beyond));
    assert!(stderr(&beyond).contains("20231122000123"), "{}", stderr(&beyond));
    assert_eq!(sandbox.ledger().requests, requests);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_exact_column_name_wins_over_an_alias() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("aliases");
    let p = &builtin_population()[0];
    std::fs::write(
        dir.join("in.csv"),
        format!("id,name,idcard,mobile\nC1,{},{},{}\n", p.name, p.idcard, p.mobile),
    )
    .unwrap();
    let run = batch(&sandbox, &dir.join("in.csv"), &dir.join("out.csv"), &[]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let (headers, records) = read_output(&dir.join("out.csv"));
    assert_eq!(&records[0][column(&headers, "juhe_res")], "1", "`id` is not the ID card");

    std::fs::write(dir.join("two.csv"), "姓名,身份证号,身份证号码,手机号\n").unwrap();
    let two = batch(&sandbox, &dir.join("two.csv"), &dir.join("out2.csv"), &[]).output().unwrap();
    assert_eq!(two.status.code(), Some(2));
    assert!(stderr(&two).contains("`身份证号`") && stderr(&two).contains("`身份证号码`"), "{}", stderr(&two));
    std::fs::write(dir.join("phone.csv"), "姓名,身份证号码,电话\n").unwrap();
    let phone = batch(&sandbox, &dir.join("phone.csv"), &dir.join("out3.csv"), &[]).output().unwrap();
    assert_eq!(phone.status.code(), Some(2), "a landline column is not a mobile");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_records_are_reported_with_their_lines_and_the_run_fails() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("malformed");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let p = &builtin_population()[0];
    let q = &builtin_population()[1];
    let mut bytes =
        format!("name,idcard,mobile\n{},{},{}\nonly,two\n", p.name, p.idcard, p.mobile).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe bad utf-8,11010519491231002X,13912345678\n");
    // An unterminated quote on line 5 swallows lines 5-7.
    bytes.extend_from_slice(format!("{},\"{},{}\n", q.name, q.idcard, q.mobile).as_bytes());
    bytes.extend_from_slice(
        format!("{},{},{}\n{},{},{}\n", p.name, p.idcard, p.mobile, q.name, q.idcard, q.mobile).as_bytes(),
    );
    std::fs::write(&input, bytes).unwrap();
    // Mostly UTF-8 with a line that is not: the encoding must be said (batch_files.rs).
    let run = batch(&sandbox, &input, &output, &["--encoding", "utf-8"]).output().unwrap();
    assert_eq!(run.status.code(), Some(4), "rows were skipped: {}", stderr(&run));
    let text = stderr(&run);
    assert!(text.contains("input line 3: 2 fields"), "{text}");
    assert!(text.contains("input line 4: not UTF-8 text"), "{text}");
    assert!(text.contains("input lines 5-7") && text.contains("not closed"), "{text}");
    let (_, records) = read_output(&output);
    assert_eq!(records.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gbk_and_utf16_spreadsheets_are_read_and_gbk_is_written_back() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("encodings");
    let people = builtin_population();
    let minority = people.iter().find(|p| p.name.contains('·')).unwrap();
    let mut text = String::from("客户,姓名,身份证号码,手机号码\r\n");
    for (i, p) in [&people[0], minority].into_iter().enumerate() {
        text += &format!("甲{i},{},{},{}\r\n", p.name, p.idcard, p.mobile);
    }
    std::fs::write(dir.join("gbk.csv"), encoding_rs::GB18030.encode(&text).0).unwrap();
    let run = batch(&sandbox, &dir.join("gbk.csv"), &dir.join("gbk-out.csv"), &[]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains("as GBK"), "{}", stderr(&run));
    let written = std::fs::read(dir.join("gbk-out.csv")).unwrap();
    assert!(std::str::from_utf8(&written).is_err(), "the output is GBK, as the input");
    let decoded = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(&written).unwrap();
    assert!(
        decoded.starts_with("客户,姓名,身份证号码,手机号码,juhe_row") && decoded.contains(&minority.name),
        "{decoded}"
    );
    assert_eq!(decoded.lines().filter(|l| l.contains(",0,成功,1,true,")).count(), 2, "{decoded}");
    let resumed =
        batch(&sandbox, &dir.join("gbk.csv"), &dir.join("gbk-out.csv"), &["--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(sandbox.ledger().requests, 2, "a GBK output resumes");

    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(dir.join("utf16.csv"), utf16).unwrap();
    let run = batch(&sandbox, &dir.join("utf16.csv"), &dir.join("utf16-out.csv"), &["--no-dedupe"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let written = std::fs::read_to_string(dir.join("utf16-out.csv")).unwrap();
    assert!(written.starts_with('\u{feff}'), "UTF-16 input gives UTF-8 with a BOM");
    assert_eq!(read_output(&dir.join("utf16-out.csv")).1.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_full_disk_stops_new_checks_and_lists_every_billed_row_it_could_not_record() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("full");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    write_input(&input, 1500);
    // A 24 KB limit on file size stands in for a full disk: writes past it fail (EFBIG).
    let run = crate::isolated_shell()
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 48; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_juhe"))
        .args([
            "--key",
            sandbox.key(),
            "--base-url",
            sandbox.base_url(),
            "--no-ledger",
            "batch",
            "telecom3",
            "--concurrency",
            "8",
        ])
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    let text = stderr(&run);
    assert_eq!(run.status.code(), Some(4), "{text}");
    let listed: Vec<&str> = text.lines().filter(|l| l.contains("billed but not recorded: row")).collect();
    assert!(!listed.is_empty() && listed.iter().all(|l| l.contains("order JHSB")), "{text}");
    let side = std::fs::read_to_string(dir.join("out.csv.unrecorded.csv")).unwrap();
    assert_eq!(side.lines().count(), listed.len() + 1, "{side}");
    // Every billed check is either in the output or listed: nothing lost unnamed.
    assert_eq!(sandbox.ledger().billed, billed_in(&output) + listed.len() as u64, "{text}");
    assert!(sandbox.ledger().requests < 1350, "new checks went on after the failure");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn repeated_people_are_checked_once() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("dedupe");
    let people = builtin_population();
    let mut text = String::from("name,idcard,mobile\n");
    for i in 0..60 {
        let p = &people[i % 20];
        // The same person, written differently: lower-case x, +86, spaces.
        let mobile = if i >= 40 { format!("+86 {}", p.mobile) } else { p.mobile.clone() };
        text += &format!("{},{},{}\n", p.name, p.idcard.to_lowercase(), mobile);
    }
    std::fs::write(dir.join("in.csv"), &text).unwrap();
    let run = batch(&sandbox, &dir.join("in.csv"), &dir.join("out.csv"), &[]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(sandbox.ledger().requests, 20, "each person checked once");
    let (headers, records) = read_output(&dir.join("out.csv"));
    assert_eq!(records.len(), 60);
    let reused: Vec<_> =
        records.iter().filter(|r| !r[column(&headers, "juhe_reused_from")].is_empty()).collect();
    assert_eq!(reused.len(), 40);
    assert!(
        reused.iter().all(
            |r| &r[column(&headers, "juhe_billed")] == "false" && &r[column(&headers, "juhe_res")] == "1"
        )
    );
    assert!(stderr(&run).contains("40 reused"), "{}", stderr(&run));

    let all = batch(&sandbox, &dir.join("in.csv"), &dir.join("all.csv"), &["--no-dedupe"]).output().unwrap();
    assert!(all.status.success());
    assert_eq!(sandbox.ledger().requests, 80);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_budget_is_never_exceeded_and_resume_continues() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("budget");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    write_input(&input, 200);
    let run =
        batch(&sandbox, &input, &output, &["--max-billed", "25", "--concurrency", "8"]).output().unwrap();
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    assert!(stderr(&run).contains("budget of 25"), "{}", stderr(&run));
    assert!(sandbox.ledger().billed <= 25, "{} billed", sandbox.ledger().billed);
    assert_eq!(billed_in(&output), sandbox.ledger().billed, "every billed check recorded");
    let resumed = batch(&sandbox, &input, &output, &["--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(read_output(&output).1.len(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_summary_is_one_json_line_on_request_and_reports_a_slowed_rate() {
    let sandbox =
        Sandbox::builder().fault(Fault::always(FaultKind::ErrorCode(10012)).at_rate(0.3)).start().unwrap();
    let dir = temp_dir("summary");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    write_input(&input, 40);
    let run = batch(&sandbox, &input, &output, &["--format", "json", "--rate", "200"]).output().unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["rows"], 40);
    assert_eq!(summary["invalid"], 4);
    assert_eq!(summary["billed_not_recorded"], 0);
    assert_eq!(summary["billed"].as_u64(), Some(sandbox.ledger().billed));
    assert!(summary["rate"].as_f64().is_some_and(|r| r < 200.0), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn face_rows_read_their_image_files_relative_to_the_csv() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("face");
    std::fs::create_dir_all(dir.join("photos")).unwrap();
    let people = builtin_population();
    let mut csv_text = String::from("name,idcard,mobile,image\n");
    for (i, p) in people.iter().take(5).enumerate() {
        std::fs::write(dir.join(format!("photos/{i}.png")), &p.face_image).unwrap();
        csv_text += &format!("{},{},{},photos/{i}.png\n", p.name, p.idcard, p.mobile);
    }
    csv_text += &format!("{},{},{},photos/missing.png\n", people[9].name, people[9].idcard, people[9].mobile);
    std::fs::write(dir.join("in.csv"), csv_text).unwrap();
    let run = crate::juhe_command()
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "batch", "face", "--input"])
        .arg(dir.join("in.csv"))
        .arg("--output")
        .arg(dir.join("out.csv"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let (headers, records) = read_output(&dir.join("out.csv"));
    let res = column(&headers, "juhe_res");
    assert_eq!(records.iter().filter(|r| &r[res] == "100").count(), 5);
    let missing = records.iter().find(|r| r[3].contains("missing")).unwrap();
    assert!(missing[column(&headers, "juhe_reason")].contains("could not be read"));
    assert_eq!(sandbox.ledger().requests, 5);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A resumed face batch asks the same question as the library does, a photo by its bytes:
/// the same photo under another name is copied from the earlier run's answer (not paid
/// again), and a photo changed in place since the run began is checked again (its earlier
/// answer was about other bytes). Before, the CLI keyed a photo by its path: it paid twice for
/// the first, and copied an answer about the old photo to the second.
#[test]
fn a_resumed_face_batch_keys_photos_by_their_bytes() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("face-resume");
    let people = builtin_population();
    let (p, q) = (&people[0], &people[1]);
    std::fs::write(dir.join("a.png"), &p.face_image).unwrap();
    std::fs::write(dir.join("other.png"), &q.face_image).unwrap();
    let row = |image: &str| format!("{},{},{},{image}\n", p.name, p.idcard, p.mobile);
    let header = "name,idcard,mobile,image\n";
    std::fs::write(dir.join("in.csv"), format!("{header}{}{}", row("a.png"), row("other.png"))).unwrap();
    let run = |extra: &[&str]| {
        crate::juhe_command()
            .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "--no-ledger", "batch", "face"])
            .arg("--input")
            .arg(dir.join("in.csv"))
            .arg("--output")
            .arg(dir.join("out.csv"))
            .args(extra)
            .output()
            .unwrap()
    };
    let first = run(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(sandbox.ledger().billed, 2);
    // Between the runs: the same photo under a new name, and `other.png` now holds a third
    // person's photo (its row was checked, and billed a face mismatch, with q's). Written
    // after the first run ended, so after its binding was: a later modification time.
    std::fs::write(dir.join("copy of a.png"), &p.face_image).unwrap();
    std::fs::write(dir.join("other.png"), &people[2].face_image).unwrap();
    let more =
        format!("{header}{}{}{}{}", row("a.png"), row("other.png"), row("copy of a.png"), row("other.png"));
    std::fs::write(dir.join("in.csv"), more).unwrap();
    let resumed = run(&["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let (headers, records) = read_output(&dir.join("out.csv"));
    let (row_col, res, reused) =
        (column(&headers, "juhe_row"), column(&headers, "juhe_res"), column(&headers, "juhe_reused_from"));
    let by_row = |n: &str| records.iter().find(|r| &r[row_col] == n).unwrap();
    assert_eq!((&by_row("3")[reused], &by_row("3")[res]), ("1", "100"), "the copy reuses row 1");
    assert_eq!(&by_row("4")[reused], "", "a changed photo is no copy of its earlier row");
    assert_eq!(by_row("4")[res], by_row("2")[res], "checked again: a face mismatch again, another photo");
    assert_eq!(sandbox.ledger().billed, 3, "only row 4 paid in the resumed run");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spreadsheet_export_goes_through() {
    // What Excel's "CSV UTF-8" gives: a BOM, CRLF, quoted fields, Chinese headers and names.
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("spreadsheet");
    let people = builtin_population();
    let minority = people.iter().find(|p| p.name.contains('·')).unwrap();
    let mut text = String::from("\u{feff}客户编号,姓名,身份证号码,手机号码,备注\r\n");
    for (i, p) in [&people[0], &people[1], minority].into_iter().enumerate() {
        text += &format!(
            "C{i},\"{}\",{},{},\"备注, 含\"\"引号\"\"\"\r\n",
            p.name,
            p.idcard.to_lowercase(),
            p.mobile
        );
    }
    std::fs::write(dir.join("in.csv"), text).unwrap();
    let run = batch(&sandbox, &dir.join("in.csv"), &dir.join("out.csv"), &[]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(std::fs::read_to_string(dir.join("out.csv")).unwrap().starts_with('\u{feff}'), "the BOM is kept");
    let (headers, records) = read_output(&dir.join("out.csv"));
    assert_eq!(&headers[..3], ["客户编号", "姓名", "身份证号码"], "the BOM is not part of the first header");
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| &r[column(&headers, "juhe_res")] == "1"), "{records:?}");
    assert!(records.iter().all(|r| &r[4] == "备注, 含\"引号\""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn ctrl_c_finishes_the_rows_in_flight_and_resume_completes() {
    let sandbox = Sandbox::builder()
        .fault(Fault::always(FaultKind::Latency(Duration::from_millis(5))))
        .start()
        .unwrap();
    let dir = temp_dir("ctrl-c");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    write_input(&input, 1500);
    let child =
        batch(&sandbox, &input, &output, &["--concurrency", "8"]).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while std::fs::read(&output).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < 300 {
        assert!(started.elapsed() < Duration::from_secs(60), "the batch made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let stopped = child.wait_with_output().unwrap();
    assert_eq!(stopped.status.code(), Some(4), "interrupted runs exit 4");
    assert!(stderr(&stopped).contains("--resume"));
    // Every check that was billed made it into the file: nothing in flight was lost.
    assert_eq!(billed_in(&output), sandbox.ledger().billed);
    assert!(read_output(&output).1.len() < 1500, "stopped too late to tell");

    let resumed = batch(&sandbox, &input, &output, &["--resume"]).output().unwrap();
    assert!(resumed.status.success());
    assert_eq!(read_output(&output).1.len(), 1500);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy waiting for its original's answer holds its own slot and nothing else: while a slow
/// check is in flight, the rest of the file goes on, on both transports.
#[test]
fn a_copy_waiting_for_a_slow_original_keeps_nothing_else_waiting() {
    use juhe_sandbox::magic::SLOW;
    let people = builtin_population();
    let mut text = String::from("name,idcard,mobile\n");
    text += &format!(
        "{},{},{}\n{},{},{}\n",
        SLOW.name, SLOW.idcard, SLOW.mobile, SLOW.name, SLOW.idcard, SLOW.mobile
    );
    for p in &people[..40] {
        text += &format!("{},{},{}\n", p.name, p.idcard, p.mobile);
    }
    for transport in ["reqwest", "ureq"] {
        let sandbox = Sandbox::start().unwrap();
        let dir = temp_dir(&format!("slow-copy-{transport}"));
        std::fs::write(dir.join("in.csv"), &text).unwrap();
        let run = batch(&sandbox, &dir.join("in.csv"), &dir.join("out.csv"), &["--transport", transport])
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", stderr(&run));
        let (headers, records) = read_output(&dir.join("out.csv"));
        let rows: Vec<&str> = records.iter().map(|r| &r[column(&headers, "juhe_row")]).collect();
        assert_eq!(rows.len(), 42);
        assert_eq!(&rows[40..], ["1", "2"], "{transport}: the slow row and its copy come last: {rows:?}");
        assert_eq!(&records[41][column(&headers, "juhe_reused_from")], "1");
        assert_eq!(sandbox.ledger().requests, 41, "{transport}: the copy is not sent");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Against a closed port nothing reaches Juhe, and the summary says so.
#[test]
fn a_batch_against_a_closed_port_reports_nothing_sent() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = temp_dir("closed");
    let input = dir.join("in.csv");
    write_input(&input, 10);
    for transport in ["reqwest", "ureq"] {
        let output = dir.join(format!("out-{transport}.csv"));
        let run = crate::juhe_command()
            .args([
                "--key",
                "k",
                "--base-url",
                &url,
                "--transport",
                transport,
                "--format",
                "json",
                "batch",
                "telecom3",
            ])
            .arg("--input")
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .output()
            .unwrap();
        let summary: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&run.stdout).lines().last().unwrap()).unwrap();
        assert_eq!(summary["sent"], 0, "{transport}: {summary}");
        assert_eq!((summary["billed"].as_u64(), summary["maybe_billed"].as_u64()), (Some(0), Some(0)));
        assert_eq!(summary["errors"]["not sent"], 9, "{transport}: {summary}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `batch --format json` prints exactly one JSON object on stdout whatever stops it: clap's
/// usage errors, an input it cannot open, an output that exists without `--resume`.
#[test]
fn a_json_batch_that_cannot_start_prints_one_json_object() {
    let dir = temp_dir("json-failures");
    let input = dir.join("in.csv");
    write_input(&input, 3);
    let existing = dir.join("exists.csv");
    std::fs::write(&existing, "name\n").unwrap();
    let sandbox = Sandbox::start().unwrap();
    let runs = [
        crate::juhe(&["batch", "telecom3", "--input", "in.csv", "--format", "json"]),
        batch(&sandbox, &dir.join("missing.csv"), &dir.join("out.csv"), &["--format", "json"])
            .output()
            .unwrap(),
        batch(&sandbox, &input, &existing, &["--format=json"]).output().unwrap(),
    ];
    for out in runs {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        let object: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(object["status"], 2, "{object}");
        assert!(object["error"].as_str().is_some_and(|e| !e.is_empty()), "{object}");
    }
    assert_eq!(sandbox.ledger().requests, 0);
}

/// One row is "1 row", not "1 rows".
#[test]
fn one_row_is_said_in_the_singular() {
    let dir = temp_dir("singular");
    let input = dir.join("in.csv");
    write_input(&input, 1);
    let sandbox = Sandbox::start().unwrap();
    let out = batch(&sandbox, &input, &dir.join("out.csv"), &[]).output().unwrap();
    assert!(stderr(&out).contains("juhe batch: 1 row written:"), "{}", stderr(&out));
}
