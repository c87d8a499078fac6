//! `juhe batch` against a sandbox: every row out exactly once, invalid rows never sent,
//! billing as expected; a run killed with SIGKILL and resumed completes without paying twice.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use juhe_sandbox::{Fault, FaultKind, Sandbox, builtin_population};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("juhe-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `rows` telecom3 rows: every 10th has a mistyped ID (invalid), every 5th of the rest
/// someone else's name (mismatch). Returns how many are valid.
fn write_input(path: &Path, rows: usize) -> usize {
    let people = builtin_population();
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(["customer", "name", "idcard", "mobile"]).unwrap();
    let mut valid = 0;
    for i in 0..rows {
        let p = &people[i % people.len()];
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
        writer.write_record([format!("C{i}"), name, idcard, p.mobile.clone()]).unwrap();
    }
    writer.flush().unwrap();
    valid
}

fn batch(sandbox: &Sandbox, input: &Path, output: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_juhe"));
    command
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "batch", "telecom3"])
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .env_remove("JUHE_OPENID")
        .env_remove("JUHE_RSA_PUBLIC_KEY");
    command
}

/// The output's rows, as (row number → record), checking no row appears twice.
fn read_output(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    (headers, records)
}

fn column(headers: &[String], name: &str) -> usize {
    headers.iter().position(|h| h == name).unwrap()
}

#[test]
fn every_row_comes_out_once_and_invalid_rows_are_not_sent() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("full");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let valid = write_input(&input, 3000);
    let run: Output = batch(&sandbox, &input, &output, &["--concurrency", "16"]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (headers, records) = read_output(&output);
    assert_eq!(&headers[..5], ["customer", "name", "idcard", "mobile", "row"]);
    let rows: HashSet<&str> = records.iter().map(|r| r.get(column(&headers, "row")).unwrap()).collect();
    assert_eq!((records.len(), rows.len()), (3000, 3000), "each row exactly once");
    let (code, billed, res) =
        (column(&headers, "error_code"), column(&headers, "billed"), column(&headers, "res"));
    let invalid: Vec<_> = records.iter().filter(|r| r[billed] == *"false").collect();
    assert_eq!(invalid.len(), 3000 - valid);
    assert!(
        invalid
            .iter()
            .all(|r| r[code].is_empty() && r[column(&headers, "reason")].starts_with("invalid idcard"))
    );
    let mismatches = records.iter().filter(|r| &r[res] == "2").count();
    assert_eq!(mismatches, 600, "every 5th row has the wrong name");
    assert!(
        records
            .iter()
            .filter(|r| &r[billed] == "true")
            .all(|r| &r[code] == "0" && !r[column(&headers, "orderid")].is_empty())
    );
    let ledger = sandbox.ledger();
    assert_eq!(
        (ledger.requests, ledger.billed),
        (valid as u64, valid as u64),
        "invalid rows must not be sent"
    );
    let summary = String::from_utf8_lossy(&run.stderr);
    assert!(summary.contains("3000 rows") && summary.contains(&format!("{valid} billed")), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_killed_run_resumes_without_paying_twice() {
    // 3 ms a check keeps the run long enough to kill it half-way.
    let sandbox = Sandbox::builder()
        .fault(Fault::always(FaultKind::Latency(Duration::from_millis(3))))
        .start()
        .unwrap();
    let dir = temp_dir("resume");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let valid = write_input(&input, 2000) as u64;
    let concurrency = 8;
    let mut child =
        batch(&sandbox, &input, &output, &["--concurrency", "8"]).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while std::fs::read(&output).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < 700 {
        assert!(started.elapsed() < Duration::from_secs(60), "the batch made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let billed_before = sandbox.ledger().billed;
    assert!(billed_before < valid, "killed too late: {billed_before} of {valid} done");

    let resumed = batch(&sandbox, &input, &output, &["--concurrency", "8", "--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let (headers, records) = read_output(&output);
    let rows: HashSet<&str> = records.iter().map(|r| r.get(column(&headers, "row")).unwrap()).collect();
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
fn malformed_lines_are_reported_with_their_line_and_skipped() {
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("malformed");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let p = &builtin_population()[0];
    let mut bytes =
        format!("name,idcard,mobile\n{},{},{}\nonly,two\n", p.name, p.idcard, p.mobile).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe bad utf-8,11010519491231002X,13912345678\n");
    bytes.extend_from_slice(format!("{},{},{}\n", p.name, p.idcard, p.mobile).as_bytes());
    std::fs::write(&input, bytes).unwrap();
    let run = batch(&sandbox, &input, &output, &[]).output().unwrap();
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("input line 3: 2 fields"), "{stderr}");
    assert!(stderr.contains("input line 4: not valid UTF-8"), "{stderr}");
    let (_, records) = read_output(&output);
    assert_eq!(records.len(), 2);
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
    let run = Command::new(env!("CARGO_BIN_EXE_juhe"))
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "batch", "face", "--input"])
        .arg(dir.join("in.csv"))
        .arg("--output")
        .arg(dir.join("out.csv"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (headers, records) = read_output(&dir.join("out.csv"));
    let res = column(&headers, "res");
    assert_eq!(records.iter().filter(|r| &r[res] == "100").count(), 5);
    let missing = records.iter().find(|r| r[3].contains("missing")).unwrap();
    assert!(missing[column(&headers, "reason")].contains("could not be read"));
    assert_eq!(sandbox.ledger().requests, 5);
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
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (headers, records) = read_output(&dir.join("out.csv"));
    assert_eq!(&headers[..3], ["客户编号", "姓名", "身份证号码"], "the BOM is not part of the first header");
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| &r[column(&headers, "res")] == "1"), "{records:?}");
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
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("--resume"));
    // Every check that was billed made it into the file: nothing in flight was lost.
    let (headers, records) = read_output(&output);
    let billed_in_file = records.iter().filter(|r| &r[column(&headers, "billed")] == "true").count() as u64;
    assert_eq!(billed_in_file, sandbox.ledger().billed);
    assert!(records.len() < 1500, "stopped too late to tell");

    let resumed = batch(&sandbox, &input, &output, &["--resume"]).output().unwrap();
    assert!(resumed.status.success());
    let (_, records) = read_output(&output);
    assert_eq!(records.len(), 1500);
    let _ = std::fs::remove_dir_all(&dir);
}
