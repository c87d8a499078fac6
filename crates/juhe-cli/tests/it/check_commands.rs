//! The check commands as a user runs them: every exit status of the contract, text and JSON
//! output, both transports, the embedded sandbox by default.

use std::process::Output;

use crate::juhe;

use juhe_sandbox::{builtin_population, magic};

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn a_match_exits_0_and_says_it_used_the_sandbox() {
    let p = &builtin_population()[0];
    for transport in ["reqwest", "ureq"] {
        let out = juhe(&[
            "--transport",
            transport,
            "telecom3",
            "--name",
            &p.name,
            "--idcard",
            &p.idcard,
            "--mobile",
            &p.mobile,
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.starts_with("match (telecom3/query)"), "{stdout}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("embedded sandbox"));
    }
}

#[test]
fn every_mode_prints_the_contract_json() {
    let p = &builtin_population()[0];
    for (mode, api) in [
        ("plain", "telecom3/query"),
        ("signed", "telecom3/verify"),
        ("aes", "telecom3/queryEncry"),
        ("rsa", "telecom3/queryRV2"),
    ] {
        let out = juhe(&[
            "--mode", mode, "--format", "json", "telecom3", "--name", &p.name, "--idcard", &p.idcard,
            "--mobile", &p.mobile,
        ]);
        assert_eq!(out.status.code(), Some(0));
        let value = json(&out);
        assert_eq!(value["api"], api);
        assert_eq!(value["error_code"], 0);
        assert_eq!(value["billed"], true);
        assert_eq!(value["result"]["res"], 1, "res is a number");
        assert_eq!(value["result"]["rescode"], "11");
        for field in ["resmsg", "type", "province", "city", "orderid"] {
            assert!(value["result"][field].is_string(), "{field}: {value}");
        }
    }
}

#[test]
fn a_mismatch_exits_1() {
    let (p, q) = (&builtin_population()[0], &builtin_population()[1]);
    let out = juhe(&["idcard", "--name", &q.name, "--idcard", &p.idcard]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("mismatch"));
}

#[test]
fn bad_input_exits_2_and_names_the_field() {
    let out = juhe(&["telecom2", "--idcard", "110105194912310021", "--mobile", "13912345678"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid idcard"), "{stderr}");
    assert!(!stderr.contains("110105194912310021"), "{stderr}");
    assert!(!stderr.contains("embedded sandbox"), "nothing should have started: {stderr}");
    let usage = juhe(&["idcard", "--name", "张三"]);
    assert_eq!(usage.status.code(), Some(2));
    let mode = juhe(&[
        "--mode",
        "aes",
        "face",
        "--name",
        "张三",
        "--idcard",
        "11010519491231002X",
        "--mobile",
        "13912345678",
        "--image",
        "/nonexistent",
    ]);
    assert_eq!(mode.status.code(), Some(2));
    let output = juhe(&["--format", "yaml", "idcard", "--name", "张三", "--idcard", "11010519491231002X"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_service_error_exits_3_with_code_and_reason() {
    let m = magic::NO_RECORD;
    let out = juhe(&["telecom3", "--name", m.name, "--idcard", m.idcard, "--mobile", m.mobile]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("233903 库中无此记录 (no record)"));
    let out =
        juhe(&["--format", "json", "telecom3", "--name", m.name, "--idcard", m.idcard, "--mobile", m.mobile]);
    let value = json(&out);
    assert_eq!((value["error_code"].as_i64(), value["billed"].as_bool()), (Some(233903), Some(false)));
    assert!(value["result"].is_null());
}

#[test]
fn a_transport_failure_exits_4() {
    let out = crate::juhe_command()
        .args([
            "--key",
            "k",
            "--base-url",
            "http://127.0.0.1:1",
            "idcard",
            "--name",
            "张三",
            "--idcard",
            "11010519491231002X",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not billed"));
    let m = magic::MALFORMED_BODY;
    let out =
        juhe(&["--format", "json", "telecom3", "--name", m.name, "--idcard", m.idcard, "--mobile", m.mobile]);
    assert_eq!(out.status.code(), Some(4));
    assert!(json(&out)["billed"].is_null(), "may have been billed: null");
}

#[test]
fn face_reads_the_image_file() {
    let p = &builtin_population()[0];
    let image = std::env::temp_dir().join(format!("juhe-face-{}.png", std::process::id()));
    std::fs::write(&image, &p.face_image).unwrap();
    let out = juhe(&[
        "--format",
        "json",
        "face",
        "--name",
        &p.name,
        "--idcard",
        &p.idcard,
        "--mobile",
        &p.mobile,
        "--image",
        image.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let value = json(&out);
    assert_eq!(value["result"]["res"], 100);
    assert!(value["result"]["score"].as_f64().unwrap() > 900.0);
    std::fs::write(&image, b"GIF89a not a photo").unwrap();
    let out = juhe(&[
        "face",
        "--name",
        &p.name,
        "--idcard",
        &p.idcard,
        "--mobile",
        &p.mobile,
        "--image",
        image.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid image"));
    let _ = std::fs::remove_file(&image);
}

#[test]
fn codes_are_explained() {
    let all = juhe(&["codes"]);
    assert_eq!(all.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&all.stdout).lines().count(), 36);
    let one = juhe(&["codes", "10012"]);
    assert!(String::from_utf8_lossy(&one.stdout).contains("request limit exceeded"));
    assert_eq!(juhe(&["codes", "42"]).status.code(), Some(2));
}

/// Connection options and --format work after the command as well as before it; typed after
/// wins.
#[test]
fn options_come_before_or_after_the_command() {
    let p = &juhe_sandbox::builtin_population()[0];
    let after = juhe(&[
        "telecom3",
        "--name",
        &p.name,
        "--idcard",
        &p.idcard,
        "--mobile",
        &p.mobile,
        "--sandbox",
        "--format",
        "json",
        "--mode",
        "aes",
    ]);
    assert_eq!(after.status.code(), Some(0), "{}", String::from_utf8_lossy(&after.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(answer["api"], "telecom3/queryEncry");
    let both = juhe(&[
        "--mode", "rsa", "--format", "text", "telecom3", "--name", &p.name, "--idcard", &p.idcard,
        "--mobile", &p.mobile, "--mode", "signed", "--format", "json",
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&both.stdout).unwrap();
    assert_eq!(answer["api"], "telecom3/verify", "the mode typed after the command wins");
}

/// `JUHE_MODE` and `JUHE_TIMEOUT` set what `--mode` and `--timeout` do; typed options win,
/// before the command or after it.
#[test]
fn the_environment_sets_mode_and_timeout() {
    let p = &juhe_sandbox::builtin_population()[0];
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = crate::juhe_command();
        command.args(args).env_remove("JUHE_KEY").env_remove("JUHE_BASE_URL");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    let check =
        ["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile, "--format", "json"];
    let api = |out: &std::process::Output| {
        serde_json::from_slice::<serde_json::Value>(&out.stdout).map(|v| v["api"].clone()).unwrap_or_default()
    };
    assert_eq!(api(&run(&[("JUHE_MODE", "aes")], &check)), "telecom3/queryEncry");
    let typed_before: Vec<&str> = ["--mode", "signed"].into_iter().chain(check).collect();
    assert_eq!(api(&run(&[("JUHE_MODE", "aes")], &typed_before)), "telecom3/verify");
    let bad = run(&[("JUHE_TIMEOUT", "ten")], &check);
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
}

/// `-v`… and `RUST_LOG` show the library's spans and events on stderr, on both transports and
/// in every mode, and even at trace level no key, openid, name, ID number or mobile.
#[test]
fn verbose_runs_show_the_checks_and_no_personal_data() {
    let sandbox = juhe_sandbox::Sandbox::start().unwrap();
    let p = &sandbox.identities()[3];
    let rsa = std::env::temp_dir().join(format!("juhe-verbose-rsa-{}.pem", std::process::id()));
    std::fs::write(&rsa, sandbox.rsa_public_key_pem()).unwrap();
    let secrets = [sandbox.key(), sandbox.openid(), &p.name, &p.idcard, &p.mobile];
    for (transport, mode) in [("reqwest", "plain"), ("ureq", "signed"), ("reqwest", "aes"), ("ureq", "rsa")] {
        for (flag, rust_log) in [("-vvv", None), ("-v", Some("trace"))] {
            let mut command = crate::juhe_command();
            command
                .args([
                    flag,
                    "--key",
                    sandbox.key(),
                    "--openid",
                    sandbox.openid(),
                    "--base-url",
                    sandbox.base_url(),
                ])
                .arg("--rsa-public-key")
                .arg(&rsa)
                .args(["--transport", transport, "--mode", mode, "--no-ledger", "telecom3"])
                .args(["--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile]);
            match rust_log {
                Some(filter) => command.env("RUST_LOG", filter),
                None => command.env_remove("RUST_LOG"),
            };
            let out = command.output().unwrap();
            let log = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{transport} {mode} {flag}: {log}");
            assert!(log.contains("juhe.check") && log.contains("juhe.attempt"), "{transport} {mode}: {log}");
            for secret in secrets {
                assert!(!log.contains(secret), "{transport} {mode} {flag} shows {secret}: {log}");
            }
        }
    }
    let quiet = crate::juhe_command()
        .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "--no-ledger", "telecom3"])
        .args(["--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("juhe.check"), "no -v, no trace");
    let _ = std::fs::remove_file(&rsa);
}

/// A one-off RSA check costs what a plain one does only if AWS-LC seeds its generator from
/// the OS rather than by running its CPU-jitter collector first (20–50 ms of CPU:
/// `.cargo/config.toml`, benches/one_off.sh). Built with the collector, the binary carries
/// its functions; without, it cannot call them.
#[test]
fn the_binary_seeds_randomness_from_the_os_not_a_cpu_jitter_collector() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_juhe")).unwrap();
    // The search can find AWS-LC's functions: its generator and RSA encryption are there.
    for present in [&b"RAND_bytes"[..], b"EVP_PKEY_encrypt"] {
        assert!(juhe_test_support::bytes::contains(&binary, present), "{}", String::from_utf8_lossy(present));
    }
    assert!(!juhe_test_support::bytes::contains(&binary, b"jent_read_entropy"));
}

/// The binary allocates through mimalloc (its global allocator, `src/main.rs`): a loopback
/// batch spent 15% of its CPU in glibc's malloc and free. Unreferenced, mimalloc's functions
/// would not be linked in.
#[test]
fn the_binary_allocates_through_mimalloc() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_juhe")).unwrap();
    for present in [&b"mi_malloc_aligned"[..], b"mi_free"] {
        assert!(juhe_test_support::bytes::contains(&binary, present), "{}", String::from_utf8_lossy(present));
    }
}
