//! A batch that must stop — its output cannot be written, or the user presses Ctrl-C — sends
//! nothing new, on both transports, at any moment. The conditions are the real ones: a file
//! size limit (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored, so writes fail with `EFBIG` as on a
//! full disk) and a real SIGINT, at many random points; every bound is read from the
//! sandbox's ledger, and no latency is added anywhere.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use juhe_sandbox::Sandbox;

use crate::batch_command::{Dice, batch, billed_in, read_output, settle, stderr, temp_dir, write_input};

const TRANSPORTS: [&str; 2] = ["reqwest", "ureq"];
const CONCURRENCY: u64 = 8;

fn seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
}

/// Billed rows in `output`, or 0 when nothing past the header made it.
fn recorded(output: &Path) -> u64 {
    if std::fs::metadata(output).is_ok_and(|m| m.len() > 0) && read_output_ok(output) {
        billed_in(output)
    } else {
        0
    }
}

/// Whether `output` holds at least a complete header.
fn read_output_ok(output: &Path) -> bool {
    std::fs::read(output).is_ok_and(|bytes| bytes.contains(&b'\n'))
}

/// `juhe batch` under a file size limit of `blocks` (512-byte blocks): the first write past
/// it fails.
fn limited(sandbox: &Sandbox, input: &Path, output: &Path, transport: &str, blocks: u64) -> Command {
    let mut command = crate::isolated_shell();
    command
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_juhe"))
        // The limit is on the output; the ledger (tested on a full disk on its own) stays out.
        .args([
            "--key",
            sandbox.key(),
            "--base-url",
            sandbox.base_url(),
            "--transport",
            transport,
            "--no-ledger",
        ])
        .args(["batch", "telecom3", "--concurrency", &CONCURRENCY.to_string()])
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output);
    command
}

/// A write fails at a random size: the checks in flight then are all that is billed past the
/// last row written, and each of them is listed by row and order number.
#[cfg(unix)]
#[test]
fn a_failed_write_at_any_point_stops_new_checks() {
    let dir = temp_dir("write-fails");
    let input = dir.join("in.csv");
    write_input(&input, 1500);
    let seed = seed();
    let mut dice = Dice(seed);
    for transport in TRANSPORTS {
        for round in 0..12 {
            let sandbox = Sandbox::start().unwrap();
            let output = dir.join(format!("out-{transport}-{round}.csv"));
            // The header takes ~1 block: the limit falls anywhere in the first ~60 rows.
            let blocks = 2 + dice.below(14);
            let run = limited(&sandbox, &input, &output, transport, blocks).output().unwrap();
            let text = stderr(&run);
            assert_eq!(run.status.code(), Some(4), "{transport} round {round} (seed {seed}): {text}");
            settle(&sandbox);
            let (billed, written) = (sandbox.ledger().billed, recorded(&output));
            let listed = text.lines().filter(|l| l.contains("billed but not recorded: row")).count() as u64;
            assert!(
                billed - written <= CONCURRENCY,
                "{transport} round {round} (seed {seed}, {blocks} blocks): {billed} billed, {written} recorded"
            );
            assert_eq!(
                billed,
                written + listed,
                "{transport} round {round} (seed {seed}): a billed row is lost: {text}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGINT, SIGTERM (`docker stop`, systemd) or SIGHUP at a random point: once the batch says it
/// is stopping, at most the checks already in flight reach the sandbox, every billed check is
/// written, and the run exits with the interrupted status.
#[cfg(unix)]
#[test]
fn ctrl_c_at_any_point_sends_nothing_new_and_loses_nothing() {
    let dir = temp_dir("sigint");
    let input = dir.join("in.csv");
    write_input(&input, 2000);
    let seed = seed();
    let mut dice = Dice(seed);
    for transport in TRANSPORTS {
        let mut stopped = 0;
        for round in 0..10 {
            let sandbox = Sandbox::start().unwrap();
            let output = dir.join(format!("out-{transport}-{round}.csv"));
            let mut child =
                batch(&sandbox, &input, &output, &["--transport", transport, "--concurrency", "8"])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
            // The handler is in place before the first row is written.
            let started = Instant::now();
            while !output.exists() || read_output(&output).1.is_empty() {
                assert!(started.elapsed() < Duration::from_secs(30), "no row written");
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(dice.below(40)));
            let signal = ["-INT", "-TERM", "-HUP"][round % 3];
            Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
            let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
            let mut text = String::new();
            let stopping = loop {
                match lines.next() {
                    Some(Ok(line)) if line.contains("juhe: stopping") => break true,
                    Some(Ok(line)) => text += &(line + "\n"),
                    _ => break false,
                }
            };
            // Counted once the batch is stopped: what reaches the sandbox from now on was in
            // flight already.
            let at_stop = sandbox.ledger().requests;
            let rest: Vec<String> = lines.map_while(Result::ok).collect();
            let status = child.wait().unwrap();
            text += &rest.join("\n");
            if !stopping {
                // The batch finished before the signal came.
                assert!(status.success(), "{transport} round {round}: {text}");
                continue;
            }
            assert_eq!(status.code(), Some(4), "{transport} round {round} ({signal}): {text}");
            stopped += 1;
            settle(&sandbox);
            let after = sandbox.ledger().requests - at_stop;
            assert!(
                after <= CONCURRENCY,
                "{transport} round {round} (seed {seed}): {after} requests after the batch stopped"
            );
            assert_eq!(
                billed_in(&output),
                sandbox.ledger().billed,
                "{transport} round {round}: a billed row is lost"
            );
        }
        assert!(stopped >= 5, "{transport}: only {stopped} of 10 runs were still going when the signal came");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rows` rows of [`write_input`] less its invalid ones: every row is sent and billed, so the
/// row whose write fails is itself a billed row not recorded, whatever else is in flight.
fn write_valid_input(path: &Path, rows: usize) {
    write_input(path, rows);
    let text = std::fs::read_to_string(path).unwrap();
    let invalid = |line: &str| {
        line.strip_prefix('C')
            .and_then(|rest| rest.split(',').next()?.parse::<usize>().ok())
            .is_some_and(|i| i % 10 == 3)
    };
    let kept: Vec<&str> = text.lines().filter(|line| !invalid(line)).collect();
    std::fs::write(path, kept.join("\n") + "\n").unwrap();
}

/// Files holding people's data are created 0600, and the list of billed rows not recorded is
/// appended to, run after run: an entry of an earlier failed run is never lost. Every row is
/// valid: the row whose write fails is billed, so each run lists at least one (with invalid
/// rows, one written first could fail the write with nothing billed in flight).
#[cfg(unix)]
#[test]
fn batch_files_are_private_and_the_unrecorded_list_keeps_every_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("private");
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    write_valid_input(&input, 600);
    let side = dir.join("out.csv.unrecorded.csv");
    let mut listed = 0;
    // One sandbox for both runs: a resume against another target is refused.
    let sandbox = Sandbox::start().unwrap();
    for (round, extra) in [(0, None), (1, Some("--resume"))] {
        let mut command = limited(&sandbox, &input, &output, "reqwest", 6);
        command.args(extra);
        let run = command.output().unwrap();
        assert_eq!(run.status.code(), Some(4), "round {round}: {}", stderr(&run));
        let now = stderr(&run).lines().filter(|l| l.contains("billed but not recorded: row")).count();
        assert!(now > 0, "round {round}: the write failed with no billed row in flight");
        listed += now;
        let text = std::fs::read_to_string(&side).unwrap();
        assert_eq!(
            text.lines().count(),
            1 + listed,
            "round {round}: every entry of every run is kept: {text}"
        );
        assert_eq!(text.matches("juhe_row,juhe_orderid").count(), 1);
    }
    let binding = dir.join("out.csv.juhe-run");
    for path in [&output, &side, &binding] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--output` naming a FIFO or a device is refused (status 2, nothing sent), and the FIFO or
/// device is left as it is, never replaced by a file of people's data.
#[cfg(unix)]
#[test]
fn an_output_that_is_not_a_regular_file_is_refused_and_left_alone() {
    use std::os::unix::fs::FileTypeExt;
    let sandbox = Sandbox::start().unwrap();
    let dir = temp_dir("not-a-file");
    let input = dir.join("in.csv");
    write_input(&input, 5);
    let fifo = dir.join("fifo.csv");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for output in [fifo.as_path(), Path::new("/dev/null")] {
        let run = batch(&sandbox, &input, output, &[]).output().unwrap();
        assert_eq!(run.status.code(), Some(2), "{}: {}", output.display(), stderr(&run));
        assert!(stderr(&run).contains("not a regular file"), "{}", stderr(&run));
        let kind = std::fs::metadata(output).unwrap().file_type();
        assert!(kind.is_fifo() || kind.is_char_device(), "{} was replaced", output.display());
    }
    assert_eq!(sandbox.ledger().requests, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
