//! `juhe gateway` as an operator runs it: keys issued, listed, revoked and logged; a gateway
//! process in front of the embedded sandbox, reached with curl over HTTP and HTTPS; the
//! refusals that keep personal data off a network in clear and secrets out of shared files.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::batch_command::temp_dir;

fn juhe(dir: &Path) -> Command {
    let mut command = crate::juhe_command();
    command
        .env_remove("JUHE_KEY")
        .env_remove("JUHE_BASE_URL")
        .env_remove("JUHE_GATEWAY_MASTER_KEY")
        .env("USER", "ops-alice")
        .arg("--ledger")
        .arg(dir.join("gateway.sqlite"));
    command
}

/// A master key file, 0600.
fn master_key(dir: &Path) -> PathBuf {
    let path = dir.join("master.key");
    std::fs::write(&path, "cV9uUk9mS2V5Rm9yVGVzdHNPbmx5LTMyYnl0ZXNsb25nISE=\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn add_team(dir: &Path, team: &str, extra: &[&str]) -> serde_json::Value {
    let out = dir.join(format!("{team}.json"));
    let status = juhe(dir)
        .args(["gateway", "keys", "add", team, "--master-key-file"])
        .arg(master_key(dir))
        .arg("--credentials-out")
        .arg(&out)
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

/// `juhe gateway serve` until it says where it listens; its log (stderr) goes to `log.txt`.
fn serve(dir: &Path, extra: &[&str]) -> (Child, String) {
    let address = dir.join("address.json");
    let _ = std::fs::remove_file(&address);
    let log = std::fs::File::create(dir.join("log.txt")).unwrap();
    let child = juhe(dir)
        .args(["gateway", "serve", "--addr", "127.0.0.1:0", "--master-key-file"])
        .arg(master_key(dir))
        .arg("--address-out")
        .arg(&address)
        .args(extra)
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&address).map_or(true, |t| !t.ends_with('\n')) {
        assert!(started.elapsed() < Duration::from_secs(30), "the gateway did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&address).unwrap()).unwrap();
    (child, written["base_url"].as_str().unwrap().to_owned())
}

fn curl(args: &[&str]) -> serde_json::Value {
    let out = Command::new("curl").args(["-sS"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn telecom3(url: &str, key: &str, extra: &[&str]) -> serde_json::Value {
    let person = &juhe_sandbox::builtin_population()[5];
    let mut args = vec![format!("{url}/telecom3/query")];
    for (name, value) in
        [("key", key), ("realname", &person.name), ("idcard", &person.idcard), ("mobile", &person.mobile)]
    {
        args.extend(["--data-urlencode".to_owned(), format!("{name}={value}")]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    curl(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn keys_are_issued_served_rotated_revoked_at_once_and_logged() {
    let dir = temp_dir("gateway-keys");
    let first = add_team(&dir, "payments", &["--products", "telecom3", "--purpose", "onboarding"]);
    assert!(first["rsa_public_key"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    // The most verbose log the command has: still nothing personal in it.
    let (mut child, url) = serve(&dir, &["-vvv"]);
    assert_eq!(curl(&[&format!("{url}/healthz")])["status"], "ok");
    let answer = telecom3(&url, first["key"].as_str().unwrap(), &[]);
    assert_eq!(answer["error_code"], 0, "{answer}");
    // GET, as Juhe takes it: the fields in the query string.
    assert_eq!(telecom3(&url, first["key"].as_str().unwrap(), &["-G"])["error_code"], 0);

    let rotated = dir.join("rotated.json");
    let status = juhe(&dir)
        .args(["gateway", "keys", "rotate", "payments", "--master-key-file"])
        .arg(master_key(&dir))
        .arg("--credentials-out")
        .arg(&rotated)
        .status()
        .unwrap();
    assert!(status.success());
    let team: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&rotated).unwrap()).unwrap();
    let key = team["key"].as_str().unwrap();
    assert_eq!(
        telecom3(&url, first["key"].as_str().unwrap(), &[])["error_code"],
        10001,
        "the old key, at once"
    );
    assert_eq!(telecom3(&url, key, &[])["error_code"], 0);

    let revoked = juhe(&dir).args(["gateway", "keys", "revoke", "payments"]).output().unwrap();
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    assert_eq!(telecom3(&url, key, &[])["error_code"], 10001, "refused from the next request on");
    let _ = child.kill();
    let _ = child.wait();

    let list = juhe(&dir).args(["gateway", "keys", "list", "--format", "json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!((&list[0]["status"], &list[1]["status"]), (&"revoked".into(), &"revoked".into()));
    assert_eq!(list[1]["rules"]["purpose"], "onboarding", "a rotation keeps the rules");
    let log = juhe(&dir).args(["gateway", "keys", "list", "--log", "--format", "json"]).output().unwrap();
    let log: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let actions: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["by"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("add", "ops-alice"), ("rotate", "ops-alice"), ("revoke", "ops-alice")]);
    let log = std::fs::read_to_string(dir.join("log.txt")).unwrap();
    assert!(log.contains("checked"), "the log at -vvv: {log}");
    let person = &juhe_sandbox::builtin_population()[5];
    for needle in [&person.name, &person.idcard, &person.mobile, &key.to_owned()] {
        assert!(!log.contains(needle.as_str()), "{needle} in the gateway's log");
    }
    let ledger = std::fs::read(dir.join("gateway.sqlite")).unwrap();
    assert!(!juhe_test_support::bytes::contains(&ledger, key.as_bytes()), "the key itself is never stored");
}

#[test]
fn https_with_the_operators_certificate() {
    let dir = temp_dir("gateway-tls");
    let team = add_team(&dir, "risk", &[]);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (mut child, url) =
        serve(&dir, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(url.starts_with("https://"), "{url}");
    let answer = telecom3(&url, team["key"].as_str().unwrap(), &["--cacert", cert.to_str().unwrap()]);
    assert_eq!(answer["error_code"], 0, "{answer}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn refusals_before_anything_serves() {
    let dir = temp_dir("gateway-refusals");
    let run = |args: &[&str]| {
        let out = juhe(&dir).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let master = master_key(&dir);
    let master = master.to_str().unwrap();
    let exposed = run(&["gateway", "serve", "--addr", "0.0.0.0:0", "--expose", "--master-key-file", master]);
    assert!(exposed.contains("--tls-cert"), "{exposed}");
    let open = run(&["gateway", "serve", "--addr", "0.0.0.0:0", "--master-key-file", master]);
    assert!(open.contains("--expose"), "{open}");
    let none = run(&["gateway", "keys", "add", "t"]);
    assert!(none.contains("JUHE_GATEWAY_MASTER_KEY"), "{none}");
    std::fs::set_permissions(master, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = run(&["gateway", "keys", "add", "t", "--master-key-file", master]);
    assert!(shared.contains("chmod 600"), "{shared}");
    std::fs::set_permissions(master, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bad_team = run(&["gateway", "keys", "add", "a/b", "--master-key-file", master]);
    assert!(bad_team.contains("team name"), "{bad_team}");
}
