//! The check commands tried as a careless user and against a hostile server: wrong numbers,
//! wrong files, a base URL without a key, answers that try to drive the terminal. Every case
//! ends with the documented exit status and nothing sent that should not be.

use std::process::{Command, Output, Stdio};

use crate::juhe;
use std::time::{Duration, Instant};

use juhe_sandbox::magic;

use juhe_test_support::hostile::{Hostile, Script};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../juhe-crypto/tests/data");

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one JSON object on stdout, failing the test if there is anything else.
fn one_json_object(output: &Output) -> serde_json::Value {
    let text = stdout(output);
    let mut values = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    let first =
        values.next().unwrap_or_else(|| panic!("no JSON on stdout; stderr: {}", stderr(output))).unwrap();
    assert!(values.next().is_none(), "more than one JSON value: {text}");
    assert!(first.is_object(), "{first}");
    first
}

const PERSON: [&str; 6] = ["--name", "张三", "--idcard", "11010519491231002X", "--mobile", "13912345678"];

fn telecom3_against(server: &Hostile, extra: &[&str]) -> Output {
    let base_url = server.base_url();
    let mut args = vec!["--key", "k", "--base-url", &base_url];
    args.extend(extra);
    args.push("telecom3");
    args.extend(PERSON);
    juhe(&args)
}

#[test]
fn server_strings_never_drive_the_terminal() {
    let forged = r#"{"error_code":0,"reason":"\u001b[2J","result":{"res":1,"rescode":"11","orderid":"J1\nmatch (telecom3/query)\u001b]0;owned\u0007"}}"#;
    let billed = Hostile::start(Script::Json(forged.into()));
    let out = telecom3_against(&billed, &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    assert_eq!(text.lines().filter(|l| l.starts_with("match")).count(), 1, "a forged match line: {text}");
    assert!(text.contains(r"order: J1\nmatch"), "{text}");

    let refusal = r#"{"error_code":233902,"reason":"\u001b[2J\rmatch (telecom3/query)","result":null}"#;
    let refused = Hostile::start(Script::Json(refusal.into()));
    let out = telecom3_against(&refused, &[]);
    assert_eq!(out.status.code(), Some(3));
    let text = stderr(&out);
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
}

#[test]
fn an_answer_that_does_not_support_a_match_exits_4() {
    let server = Hostile::start(Script::Json(
        r#"{"error_code":0,"reason":"ok","result":{"res":9,"rescode":"11"}}"#.into(),
    ));
    let out = telecom3_against(&server, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("billed, but the result is not one Juhe documents"), "{}", stdout(&out));
}

#[test]
fn json_is_one_object_on_every_exit_path() {
    let unreadable_image = juhe(
        &["--format", "json", "face", "--image", "/tmp"].iter().copied().chain(PERSON).collect::<Vec<_>>(),
    );
    assert_eq!(unreadable_image.status.code(), Some(2));
    let value = one_json_object(&unreadable_image);
    assert_eq!(
        (value["api"].as_str(), value["billed"].as_bool()),
        (Some("verifyface_mobile/query"), Some(false))
    );
    assert!(value["reason"].as_str().unwrap().contains("not a regular file"), "{value}");

    let no_key = juhe(
        &["--format", "json", "--base-url", "http://127.0.0.1:1", "telecom3"]
            .iter()
            .copied()
            .chain(PERSON)
            .collect::<Vec<_>>(),
    );
    assert_eq!(no_key.status.code(), Some(2));
    assert!(one_json_object(&no_key)["reason"].as_str().unwrap().contains("needs a key"));

    let no_mode = juhe(&[
        "--format",
        "json",
        "--mode",
        "signed",
        "telecom2",
        "--idcard",
        "11010519491231002X",
        "--mobile",
        "13912345678",
    ]);
    assert_eq!(no_mode.status.code(), Some(2));
    let value = one_json_object(&no_mode);
    assert!(
        value["api"].is_null() && value["reason"].as_str().unwrap().contains("has no signed mode"),
        "{value}"
    );

    let m = magic::IDENTITY_AND_MOBILE_FAILED;
    let image = std::env::temp_dir().join(format!("juhe-json-face-{}.png", std::process::id()));
    std::fs::write(&image, &juhe_sandbox::builtin_population()[0].face_image).unwrap();
    let image_arg = image.to_str().unwrap();
    let face = juhe(&[
        "--format", "json", "face", "--name", m.name, "--idcard", m.idcard, "--mobile", m.mobile, "--image",
        image_arg,
    ]);
    assert_eq!(face.status.code(), Some(3));
    let value = one_json_object(&face);
    assert_eq!(value["error_code"], 280105);
    assert!(value["result"]["orderid"].as_str().is_some_and(|o| o.starts_with("JHSB")), "{value}");
    let _ = std::fs::remove_file(&image);
}

#[test]
fn a_base_url_without_a_key_is_a_usage_error_and_nothing_is_contacted() {
    let server = Hostile::start(Script::Json(r#"{"error_code":0,"reason":"ok","result":{"res":1}}"#.into()));
    let from_flag = juhe(
        &["--base-url", &server.base_url(), "telecom3"].iter().copied().chain(PERSON).collect::<Vec<_>>(),
    );
    assert_eq!(from_flag.status.code(), Some(2));
    assert!(stderr(&from_flag).contains("needs a key"), "{}", stderr(&from_flag));
    let from_env = crate::juhe_command()
        .arg("telecom3")
        .args(PERSON)
        .env_remove("JUHE_KEY")
        .env("JUHE_BASE_URL", server.base_url())
        .output()
        .unwrap();
    assert_eq!(from_env.status.code(), Some(2));
    assert!(!stderr(&from_env).contains("checking against the embedded sandbox"), "{}", stderr(&from_env));
    assert_eq!(server.accepted(), 0);
}

/// Each command's help lists the options it takes and no others.
#[test]
fn each_command_shows_only_its_options() {
    let help = |args: &[&str]| String::from_utf8_lossy(&juhe(args).stdout).into_owned();
    let connection = ["--mode", "--base-url", "--transport", "--timeout", "--sandbox", "--key"];
    for command in
        [&["sandbox", "serve", "--help"][..], &["sandbox", "identities", "--help"], &["codes", "--help"]]
    {
        let text = help(command);
        assert!(text.contains("Usage:"), "{command:?}: {text}");
        for option in connection {
            assert!(!text.contains(option), "{command:?} lists {option}: {text}");
        }
    }
    for command in [&["telecom3", "--help"][..], &["batch", "--help"], &["face", "--help"]] {
        let text = help(command);
        for option in connection {
            assert!(text.contains(option), "{command:?} does not list {option}: {text}");
        }
    }
    assert!(!help(&["sandbox", "serve", "--help"]).contains("--format"));
}

#[test]
fn options_a_command_ignores_are_refused() {
    for args in [
        &["--key", "x", "sandbox", "serve"][..],
        &["--timeout", "5", "codes"],
        &["--format", "json", "sandbox", "serve"],
    ] {
        let out = juhe(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("has no effect"), "{args:?}: {}", stderr(&out));
    }
    // After the command, an option it does not take is not one of its options at all.
    let out = juhe(&["sandbox", "identities", "--mode", "rsa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unexpected argument '--mode'"), "{}", stderr(&out));
    // A key in the environment is for the other commands: no reason to refuse.
    let listed = crate::juhe_command().args(["codes", "10012"]).env("JUHE_KEY", "x").output().unwrap();
    assert_eq!(listed.status.code(), Some(0));
}

#[test]
fn numbers_are_checked_before_anything_starts() {
    let input = "/nonexistent/in.csv";
    for (option, value) in [
        ("--rate", "1e-300"),
        ("--rate", "0"),
        ("--rate", "-1"),
        ("--rate", "NaN"),
        ("--rate", "inf"),
        ("--concurrency", "18446744073709551615"),
        ("--concurrency", "0"),
        ("--concurrency", "100000"),
    ] {
        let out = juhe(&["batch", "telecom3", "--input", input, "--output", "/tmp/never.csv", option, value]);
        assert_eq!(out.status.code(), Some(2), "{option} {value}");
        assert!(!stderr(&out).contains("panicked"), "{option} {value}: {}", stderr(&out));
    }
    for value in ["0", "-1", "NaN", "1e300", "0.0001", "1e-9", "0.099"] {
        let out = juhe(&["--timeout", value, "telecom3"].iter().copied().chain(PERSON).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(2), "--timeout {value}");
        assert!(!stderr(&out).contains("panicked"));
    }
}

/// A timeout too short for any answer is refused before anything is sent, from the option or
/// the environment: the request would leave, be billed, and its answer be thrown away.
#[test]
fn a_timeout_too_short_to_succeed_sends_nothing() {
    let sandbox = juhe_sandbox::Sandbox::start().unwrap();
    let person: Vec<String> = {
        let p = &sandbox.identities()[0];
        ["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile]
            .map(str::to_owned)
            .to_vec()
    };
    for (flag, env) in [(Some("0.0001"), None), (Some("1e-9"), None), (None, Some("0.0001"))] {
        let mut command = crate::juhe_command();
        command.args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "--no-ledger"]);
        if let Some(value) = flag {
            command.args(["--timeout", value]);
        }
        if let Some(value) = env {
            command.env("JUHE_TIMEOUT", value);
        }
        let out = command.args(&person).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag:?} {env:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("at least 0.1"), "{}", stderr(&out));
    }
    assert_eq!(sandbox.ledger().requests, 0, "nothing was sent");
}

#[test]
fn help_never_shows_an_environment_value() {
    let out = crate::juhe_command()
        .arg("--help")
        .env("JUHE_KEY", "secret-key-value")
        .env("JUHE_OPENID", "secret-openid-value")
        .env("JUHE_BASE_URL", "https://user:secret-token@proxy.example/juhe")
        .env("JUHE_RSA_PUBLIC_KEY", "/secret/path.pem")
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(help.contains("--base-url"));
    for secret in ["secret-key-value", "secret-openid-value", "secret-token", "/secret/path.pem"] {
        assert!(!help.contains(secret), "{secret} shown in --help");
    }
}

/// A value that came from the environment is named by its variable when it is refused, and a
/// mode is taken in any case: `JUHE_MODE=AES` works, `JUHE_MODE=` and `JUHE_MODE=xyz` say
/// which variable to fix (clap alone blamed `--mode`, never typed).
#[test]
fn values_from_the_environment_are_named_when_refused() {
    let check = |variable: &str, value: &str| {
        crate::juhe_command()
            .args(["--sandbox", "--format", "json", "telecom3"])
            .args(PERSON)
            .env(variable, value)
            .output()
            .unwrap()
    };
    for mode in ["AES", "Rsa", "SIGNED"] {
        // Taken, and sent (the sandbox answers: this person is not in its population).
        let out = check("JUHE_MODE", mode);
        assert_eq!(out.status.code(), Some(3), "{mode}: {}", stderr(&out));
        assert!(stdout(&out).contains("233903"), "{mode}: {}", stdout(&out));
    }
    for (variable, value, says) in [
        ("JUHE_MODE", "", "JUHE_MODE is set but empty"),
        ("JUHE_MODE", "xyz", "comes from the environment variable JUHE_MODE"),
        ("JUHE_TIMEOUT", "soon", "comes from the environment variable JUHE_TIMEOUT"),
    ] {
        let out = check(variable, value);
        assert_eq!(out.status.code(), Some(2), "{variable}={value}");
        assert!(stderr(&out).contains(says), "{variable}={value}: {}", stderr(&out));
    }
    // Typed on the command line, the flag is to blame, not the variable.
    let typed = crate::juhe_command()
        .args(["--sandbox", "telecom3", "--mode", "xyz"])
        .args(PERSON)
        .env("JUHE_MODE", "plain")
        .output()
        .unwrap();
    assert_eq!(typed.status.code(), Some(2));
    assert!(!stderr(&typed).contains("JUHE_MODE"), "{}", stderr(&typed));
    // Help shows no value of any variable, and -v and --format under their own heading.
    let help = crate::juhe_command().args(["telecom3", "--help"]).env("JUHE_MODE", "").output().unwrap();
    let help = stdout(&help);
    assert!(help.contains("[env: JUHE_MODE]") && !help.contains("JUHE_MODE="), "{help}");
    let (ledger, output) = (help.find("Ledger:").unwrap(), help.find("Output:").unwrap());
    let verbose = help.find("--verbose").unwrap();
    assert!(verbose > output && output > ledger, "-v under Output, after Ledger: {help}");
}

#[test]
fn face_images_are_checked_before_they_are_read() {
    let face =
        |image: &str| juhe(&["face", "--image", image].iter().copied().chain(PERSON).collect::<Vec<_>>());
    let started = Instant::now();
    let zero = face("/dev/zero");
    assert_eq!(zero.status.code(), Some(2));
    assert!(started.elapsed() < Duration::from_secs(5), "read /dev/zero for {:?}", started.elapsed());
    assert!(stderr(&zero).contains("not a regular file"), "{}", stderr(&zero));
    assert_eq!(face("/tmp").status.code(), Some(2));
    let signature_only = std::env::temp_dir().join(format!("juhe-signature-{}.png", std::process::id()));
    std::fs::write(&signature_only, b"\x89PNG\r\n\x1a\n").unwrap();
    let out = face(signature_only.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid image") && !stderr(&out).contains("embedded sandbox"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_file(&signature_only);
}

#[test]
fn the_timeout_option_is_one_deadline() {
    let server = Hostile::start(Script::DripBody { every: Duration::from_millis(50) });
    let started = Instant::now();
    let out = telecom3_against(&server, &["--timeout", "1", "--transport", "ureq"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("may have been billed"), "{}", stderr(&out));
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "{took:?}");
    assert_eq!(server.accepted(), 1, "a check that may be billed is not retried");
}

#[test]
fn rsa_key_mistakes_are_named() {
    let rsa = |key: &str| {
        juhe(
            &[
                "--key",
                "k",
                "--base-url",
                "http://127.0.0.1:1",
                "--mode",
                "rsa",
                "--openid",
                "o",
                "--rsa-public-key",
                key,
                "telecom3",
            ]
            .iter()
            .copied()
            .chain(PERSON)
            .collect::<Vec<_>>(),
        )
    };
    let missing = rsa("/no/such/key.pem");
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("not found: /no/such/key.pem"), "{}", stderr(&missing));
    let directory = rsa(DATA);
    assert!(stderr(&directory).contains("is a directory"), "{}", stderr(&directory));
    let ec = rsa(&format!("{DATA}/wrong_keys/ec_public.pem"));
    assert!(stderr(&ec).contains("EC (elliptic-curve) key"), "{}", stderr(&ec));
    let certificate = rsa(&format!("{DATA}/wrong_keys/certificate.pem"));
    assert!(stderr(&certificate).contains("certificate"), "{}", stderr(&certificate));
    let private = rsa(&format!("{DATA}/rsa_private.pem"));
    assert!(stderr(&private).contains("private key"), "{}", stderr(&private));
    let short = rsa(&format!("{DATA}/wrong_keys/rsa1024_public.pem"));
    assert!(stderr(&short).contains("1024-bit"), "{}", stderr(&short));
}

#[test]
fn server_strings_are_escaped_in_batch_cells() {
    let forged = r#"{"error_code":0,"reason":"\u001b[2J","result":{"res":1,"rescode":"11","orderid":"J1\n\u001b]0;owned\u0007"}}"#;
    let server = Hostile::start(Script::Json(forged.into()));
    let dir = std::env::temp_dir().join(format!("juhe-batch-escape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.csv"), dir.join("out.csv"));
    let _ = std::fs::remove_file(&output);
    std::fs::write(&input, "name,idcard,mobile\n张三,11010519491231002X,13912345678\n").unwrap();
    let base_url = server.base_url();
    let out = juhe(&[
        "--key",
        "k",
        "--base-url",
        &base_url,
        "batch",
        "telecom3",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&output).unwrap();
    assert!(!written.contains('\u{1b}') && !written.contains('\u{7}'), "{written:?}");
    assert_eq!(written.lines().count(), 2, "a line break from the server split a row: {written:?}");
    assert!(written.contains(r"J1\n\e]0;owned\u{7}"), "{written}");

    // Cells a spreadsheet would run as formulas: neutralised with a leading `'`.
    let formulas = r#"{"error_code":0,"reason":"=HYPERLINK(\"http://x\",\"ok\")","result":{"res":1,"rescode":"11","resmsg":"@SUM(1)","province":"-1+1","city":"+1","orderid":"=cmd|' /C calc'!A0"}}"#;
    let server = Hostile::start(Script::Json(formulas.into()));
    let _ = std::fs::remove_file(&output);
    let base_url = server.base_url();
    let args =
        ["--key", "k", "--base-url", &base_url, "batch", "telecom3", "--input", input.to_str().unwrap()];
    let out = juhe(&[&args[..], &["--output", output.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut reader = csv::Reader::from_path(&output).unwrap();
    let headers = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    for column in ["juhe_reason", "juhe_resmsg", "juhe_province", "juhe_city", "juhe_orderid"] {
        let cell = &record[headers.iter().position(|h| h == column).unwrap()];
        assert!(cell.starts_with('\''), "{column} = {cell:?} would run as a formula");
    }
    assert_eq!(&record[0], "张三", "the input's own columns stay as they are");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A FIFO or a device where a file is expected is refused at once (status 2, nothing sent):
/// opening a FIFO would wait forever, reading `/dev/zero` would fill memory.
#[cfg(unix)]
#[test]
fn fifos_and_devices_named_as_files_are_refused_at_once() {
    let dir = std::env::temp_dir().join(format!("juhe-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.to_str().unwrap();
    let person = ["--name", "张三", "--idcard", "11010519491231002X", "--mobile", "13912345678"];
    let cases: Vec<Vec<&str>> = vec![
        [&["face", "--image", fifo][..], &person].concat(),
        [&["--ca-cert", fifo, "telecom3"][..], &person].concat(),
        [&["--ca-cert", "/dev/zero", "telecom3"][..], &person].concat(),
        vec!["sandbox", "identities", "--identities", fifo],
        vec!["sandbox", "identities", "--identities", "/dev/zero"],
    ];
    for args in cases {
        let mut child = crate::juhe_command()
            .args(&args)
            .env_remove("JUHE_KEY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > std::time::Duration::from_secs(20) {
                let _ = child.kill();
                panic!("{args:?} hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut text = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut text).unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("not a regular file"), "{args:?}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Standard output closed before `juhe` writes (`juhe … | head -c0`): `codes`, `ledger report`
/// and a billed check end quietly with status 141, as a Unix tool ended by SIGPIPE, no panic;
/// the billed check is in the ledger all the same.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_quietly_after_the_ledger_has_the_outcome() {
    let sandbox = juhe_sandbox::Sandbox::start().unwrap();
    let dir = std::env::temp_dir().join(format!("juhe-closed-stdout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = dir.join("ledger.sqlite").display().to_string();
    let p = &sandbox.identities()[0];
    let check: Vec<&str> = vec![
        "--key",
        sandbox.key(),
        "--base-url",
        sandbox.base_url(),
        "--ledger",
        &ledger,
        "telecom3",
        "--name",
        &p.name,
        "--idcard",
        &p.idcard,
        "--mobile",
        &p.mobile,
    ];
    let report = vec!["ledger", "report", "--ledger", &ledger];
    for args in [vec!["codes"], check, report] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = crate::juhe_command().args(&args).stdout(writer).stderr(Stdio::piped()).output().unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(sandbox.ledger().billed, 1);
    let counts = crate::juhe_command()
        .args(["ledger", "report", "--format", "json", "--ledger", &ledger])
        .output()
        .unwrap();
    let counts: serde_json::Value = serde_json::from_slice(&counts.stdout).unwrap();
    assert_eq!(counts["billed"].as_u64(), Some(1), "{counts}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `juhe completions bash` loads in bash and completes commands and options; every shell gets
/// a script; `juhe man` renders with `man -l` and names every command.
#[test]
fn completions_load_in_bash_and_the_manual_page_renders() {
    let script = std::env::temp_dir().join(format!("juhe-completions-{}.bash", std::process::id()));
    let out = juhe(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::write(&script, &out.stdout).unwrap();
    // As bash calls it: the words, the cursor's word, and the function's arguments (the
    // command, the word being completed, the one before).
    let complete = |words: &str, at: usize| {
        let split: Vec<&str> = words.split(' ').collect();
        let line = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={at}; _juhe juhe {} {}; echo \"${{COMPREPLY[@]}}\"",
            script.display(),
            split[at],
            split[at - 1]
        );
        let out = Command::new("bash").arg("-c").arg(line).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("juhe ba", 1).trim(), "batch");
    assert!(complete("juhe batch telecom3 --con", 3).contains("--concurrency"));
    assert!(complete("juhe ledger se", 2).contains("settle"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = juhe(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("juhe"), "{shell}");
    }
    let page = std::env::temp_dir().join(format!("juhe-{}.1", std::process::id()));
    std::fs::write(&page, juhe(&["man"]).stdout).unwrap();
    let rendered = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    let text = String::from_utf8_lossy(&rendered.stdout);
    for word in ["NAME", "SYNOPSIS", "juhe", "batch", "telecom3", "ledger", "sandbox", "completions"] {
        assert!(text.contains(word), "the manual page lacks {word}: {text}");
    }
    let _ = std::fs::remove_file(&script);
    let _ = std::fs::remove_file(&page);
}
