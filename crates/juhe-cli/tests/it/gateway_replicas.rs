//! Two `juhe gateway serve` replicas on one PostgreSQL ledger, each with its own clients (a
//! `juhe batch` per team, a service of its own), in front of a sandbox that behaves like Juhe
//! over a network (50–150 ms, 100 requests a second per key, 10012 beyond). Together they
//! keep to the key's cap and pay once per person; a replica killed with SIGKILL mid-traffic
//! leaves every check Juhe billed in the ledger, billed or pending, and its pending entries
//! are maybe billed at once (their owner is dead) and settle by hand.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use juhe_sandbox::{Sandbox, builtin_population};
use juhe_test_support::postgres_server;

use crate::batch_command::{column, read_output, temp_dir};

/// A master key file, 0600.
fn master_key(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("master.key");
    std::fs::write(&path, "cV9uUk9mS2V5Rm9yVGVzdHNPbmx5LTMyYnl0ZXNsb25nISE=\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn juhe(ledger: &str) -> Command {
    let mut command = crate::juhe_command();
    command
        .env_remove("JUHE_KEY")
        .env_remove("JUHE_BASE_URL")
        .env_remove("JUHE_OPENID")
        .args(["--ledger", ledger]);
    command
}

/// A team's key, issued on `ledger`: (key, openid).
fn team(dir: &Path, ledger: &str, name: &str) -> (String, String) {
    let out = dir.join(format!("{name}.json"));
    let status = juhe(ledger)
        .args(["gateway", "keys", "add", name, "--reuse-within", "1d", "--master-key-file"])
        .arg(master_key(dir))
        .arg("--credentials-out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (json["key"].as_str().unwrap().to_owned(), json["openid"].as_str().unwrap().to_owned())
}

/// A replica forwarding to `sandbox`, and its base URL.
fn replica(dir: &Path, ledger: &str, sandbox: &Sandbox, n: usize) -> (Child, String) {
    let address = dir.join(format!("replica-{n}.json"));
    let child = juhe(ledger)
        .args([
            "gateway",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--key",
            sandbox.key(),
            "--openid",
            sandbox.openid(),
        ])
        .args(["--base-url", sandbox.base_url(), "--master-key-file"])
        .arg(master_key(dir))
        .arg("--address-out")
        .arg(&address)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&address).map_or(true, |t| !t.ends_with('\n')) {
        assert!(started.elapsed() < Duration::from_secs(30), "replica {n} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&address).unwrap()).unwrap();
    (child, written["base_url"].as_str().unwrap().to_owned())
}

/// `rows` distinct telecom3 rows starting at person `from`, in a file.
fn input(dir: &Path, name: &str, from: usize, rows: usize) -> PathBuf {
    let people = builtin_population();
    let path = dir.join(format!("{name}.csv"));
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(["name", "idcard", "mobile"]).unwrap();
    for p in &people[from..from + rows] {
        writer.write_record([&p.name, &p.idcard, &p.mobile]).unwrap();
    }
    writer.flush().unwrap();
    path
}

/// A team's service: a batch with the team's credentials, in AES mode, against one replica.
fn client(url: &str, (key, openid): &(String, String), input: &Path, output: &Path) -> Child {
    crate::juhe_command()
        .args(["--key", key, "--openid", openid, "--base-url", url, "--mode", "aes", "--no-ledger"])
        .args(["batch", "telecom3", "--concurrency", "16", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn sandbox() -> Sandbox {
    Sandbox::builder()
        .latency(Duration::from_millis(50)..=Duration::from_millis(150))
        .qps(100)
        .start()
        .unwrap()
}

#[test]
fn two_replicas_on_postgres_keep_to_the_keys_cap_and_pay_once_per_person() {
    let dir = temp_dir("gateway-replicas");
    let ledger = postgres_server::shared().new_database();
    let teams = [team(&dir, &ledger, "alpha"), team(&dir, &ledger, "beta")];
    let sandbox = sandbox();
    let replicas = [replica(&dir, &ledger, &sandbox, 0), replica(&dir, &ledger, &sandbox, 1)];
    // 600 people each; the last 100 of alpha's are beta's first 100: asked by both teams.
    let rows = 600;
    let inputs = [input(&dir, "alpha", 0, rows), input(&dir, "beta", rows - 100, rows)];
    let started = Instant::now();
    let clients: Vec<(Child, PathBuf)> = (0..2)
        .map(|n| {
            let output = dir.join(format!("out-{n}.csv"));
            (client(&replicas[n].1, &teams[n], &inputs[n], &output), output)
        })
        .collect();
    let mut answered = 0;
    for (mut child, output) in clients {
        assert!(child.wait().unwrap().success(), "{output:?}");
        let (headers, records) = read_output(&output);
        let code = column(&headers, "juhe_error_code");
        assert!(
            records.iter().all(|r| r[code].is_empty() || &r[code] == "0"),
            "every row answered: {output:?}"
        );
        answered += records.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    for (mut child, _) in replicas {
        let _ = child.kill();
        let _ = child.wait();
    }
    let juhe = sandbox.ledger();
    assert_eq!(answered, 2 * rows);
    assert_eq!(juhe.billed, (2 * rows - 100) as u64, "a person both teams asked is billed once");
    let rate = juhe.billed as f64 / seconds;
    let refused = juhe.codes.get("10012").copied().unwrap_or(0) as f64 / juhe.requests as f64;
    eprintln!("two replicas: {rate:.1} billed/s, {:.2}% refused", refused * 100.0);
    // The benchmark's bounds are 95/s and 1%; beside the other tests on two cores, looser
    // (docs/testing.md), still far from what replicas pacing apart come to.
    assert!(rate >= 85.0, "{rate:.1} billed/s");
    assert!(refused <= 0.03, "{:.2}% refused", refused * 100.0);
}

#[test]
fn a_replica_killed_mid_traffic_leaves_every_billed_check_in_the_ledger() {
    let dir = temp_dir("gateway-kill");
    let ledger = postgres_server::shared().new_database();
    let teams = [team(&dir, &ledger, "alpha"), team(&dir, &ledger, "beta")];
    let sandbox = sandbox();
    let mut replicas = [replica(&dir, &ledger, &sandbox, 0), replica(&dir, &ledger, &sandbox, 1)];
    let inputs = [input(&dir, "alpha", 0, 300), input(&dir, "beta", 300, 300)];
    let mut clients: Vec<Child> = (0..2)
        .map(|n| client(&replicas[n].1, &teams[n], &inputs[n], &dir.join(format!("out-{n}.csv"))))
        .collect();
    // SIGKILL while checks are in flight: wait until Juhe has billed some of them.
    let started = Instant::now();
    while sandbox.ledger().billed < 100 {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20));
    }
    replicas[0].0.kill().unwrap();
    replicas[0].0.wait().unwrap();
    for client in &mut clients {
        let _ = client.wait();
    }
    let _ = replicas[1].0.kill();
    let _ = replicas[1].0.wait();

    let report = juhe(&ledger).args(["ledger", "report", "--format", "json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let total = &report;
    let (billed, maybe) = (total["billed"].as_u64().unwrap(), total["maybe_billed"].as_u64().unwrap());
    let juhe_billed = sandbox.ledger().billed;
    eprintln!("killed replica: Juhe billed {juhe_billed}; ledger billed {billed}, maybe billed {maybe}");
    assert!(billed <= juhe_billed, "the ledger never says billed what Juhe did not bill");
    assert!(billed + maybe >= juhe_billed, "every billed check recorded: {billed} + {maybe} < {juhe_billed}");
    assert_eq!(total["in_flight"], 0, "a dead replica's entries are not in flight");

    let pending = juhe(&ledger).args(["ledger", "pending", "--format", "json"]).output().unwrap();
    let pending: serde_json::Value = serde_json::from_slice(&pending.stdout).unwrap();
    let entries = pending.as_array().cloned().unwrap_or_default();
    assert!(entries.iter().all(|e| e["in_flight"] == false), "{pending}");
    if let Some(entry) = entries.first() {
        let id = entry["entry"].to_string();
        let settled = juhe(&ledger).args(["ledger", "settle", &id, "--billed"]).output().unwrap();
        assert!(settled.status.success(), "{}", String::from_utf8_lossy(&settled.stderr));
    }
}
