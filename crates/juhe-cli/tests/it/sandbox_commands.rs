//! `juhe sandbox serve` and `juhe sandbox identities`, run as a user runs them.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn juhe() -> Command {
    crate::juhe_command()
}

#[test]
fn identities_print_as_csv_and_json() {
    let csv = juhe().args(["sandbox", "identities"]).output().unwrap();
    assert!(csv.status.success());
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("name,idcard,mobile,carrier,province,city,face_image\n"));
    assert_eq!(text.lines().count(), 1 + juhe_sandbox::POPULATION_SIZE);

    let json = juhe().args(["sandbox", "identities", "--format", "json"]).output().unwrap();
    let people: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(people.as_array().unwrap().len(), juhe_sandbox::POPULATION_SIZE);

    let bad = juhe().args(["sandbox", "identities", "--format", "text"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("[possible values: csv, json]"));
    let before = juhe().args(["--format", "text", "sandbox", "identities"]).output().unwrap();
    assert_eq!(before.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&before.stderr).contains("csv or json"));
}

#[test]
fn usage_errors_exit_2() {
    let out = juhe().args(["sandbox", "serve", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn serve_writes_credentials_logs_masked_lines_and_stops_on_ctrl_c() {
    let dir = std::env::temp_dir().join(format!("juhe-cli-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials = dir.join("credentials.json");
    let child = juhe()
        .args(["sandbox", "serve", "--addr", "127.0.0.1:0", "--credentials-out"])
        .arg(&credentials)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !credentials.exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&credentials).unwrap()).unwrap();
    for field in ["base_url", "key", "openid", "rsa_public_key"] {
        assert!(written[field].is_string(), "{field} missing from {written}");
    }
    assert!(written["rsa_public_key"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));

    // One check by hand: a person from the population, over plain HTTP.
    let base = written["base_url"].as_str().unwrap();
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let people = juhe_sandbox::builtin_population();
    let p = &people[0];
    let body = juhe_proto::encode_form([
        ("key", written["key"].as_str().unwrap()),
        ("realname", &p.name),
        ("idcard", &p.idcard),
    ]);
    let request = format!(
        "POST /idcard/query HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("\"error_code\":0"), "{answer}");

    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(log.contains("POST /idcard/query error_code=0 billed"), "{log}");
    assert!(!log.contains(&p.idcard) && !log.contains(&p.name), "the log shows personal data: {log}");
    assert!(log.contains("stopped"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reachable_address_needs_expose() {
    let refused = juhe().args(["sandbox", "serve", "--addr", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--expose"));
}

/// `--expose` draws a random admin key, writes it only to `--credentials-out` (0600), never to
/// the log; the published API key opens no admin route.
#[cfg(unix)]
#[test]
fn an_exposed_sandbox_has_a_secret_admin_key_in_a_private_file() {
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("juhe-expose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials = dir.join("credentials.json");
    std::fs::write(&credentials, "old, world-readable").unwrap();
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (mut child, mut log, seen) =
        serve_until_listening(&["--addr", "0.0.0.0:0", "--expose"], &credentials);
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&credentials).unwrap()).unwrap();
    let mode = std::fs::metadata(&credentials).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the credentials file holds the admin key");
    let admin = written["admin_key"].as_str().unwrap().to_owned();
    let port = written["base_url"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();
    let ask = |key: &str| {
        let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        let request =
            format!("GET /__sandbox/identities?key={key} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(ask(written["key"].as_str().unwrap()).starts_with("HTTP/1.1 401"), "the published key");
    assert!(ask(&admin).starts_with("HTTP/1.1 200"));
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let mut rest = String::new();
    log.read_to_string(&mut rest).unwrap();
    child.wait().unwrap();
    assert!(!seen.contains(&admin) && !rest.contains(&admin), "the admin key is in the log: {seen}{rest}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CPU time a process has used, from /proc.
#[cfg(target_os = "linux")]
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Out of file descriptors, the accept loop waits instead of spinning, and serves again as
/// soon as connections close.
#[cfg(target_os = "linux")]
#[test]
fn out_of_file_descriptors_the_server_waits_instead_of_spinning() {
    let dir = std::env::temp_dir().join(format!("juhe-cli-emfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials = dir.join("credentials.json");
    let mut server = crate::isolated_shell()
        .arg("-c")
        .arg("ulimit -n 48; exec \"$0\" sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out \"$1\"")
        .arg(env!("CARGO_BIN_EXE_juhe"))
        .arg(&credentials)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read(&credentials).map_or(true, |c| c.is_empty()) {
        assert!(started.elapsed() < Duration::from_secs(20), "the sandbox did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(&credentials).unwrap()).unwrap();
    let addr: std::net::SocketAddr =
        c["base_url"].as_str().unwrap().trim_start_matches("http://").parse().unwrap();
    // More idle connections than the server has descriptors for.
    let idle: Vec<std::net::TcpStream> =
        (0..80).filter_map(|_| std::net::TcpStream::connect(addr).ok()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_time(server.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_time(server.id()) - before;
    assert!(used < Duration::from_millis(300), "the accept loop used {used:?} of CPU in a second");
    drop(idle);
    let served = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    use std::io::{Read, Write};
    stream.write_all(b"GET /__sandbox/ledger HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    assert!(served.elapsed() < Duration::from_secs(2), "answered after {:?}", served.elapsed());
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sandbox serve --qps 2 --latency 20ms..40ms --seed 7`: beyond two requests a second the
/// key is answered 10012, unbilled; every answer waits its drawn time; the ledger counts codes.
#[test]
fn serve_caps_the_key_and_delays_answers() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("juhe-serve-caps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials = dir.join("credentials.json");
    let args = ["--addr", "127.0.0.1:0", "--quiet", "--qps", "2", "--latency", "20ms..40ms", "--seed", "7"];
    let (mut child, _log, _) = serve_until_listening(&args, &credentials);
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&credentials).unwrap()).unwrap();
    let addr = written["base_url"].as_str().unwrap().trim_start_matches("http://").to_owned();
    let key = written["key"].as_str().unwrap().to_owned();
    let p = &juhe_sandbox::builtin_population()[0];
    let ask = |method: &str, path: &str, body: &str| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let json = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&json).unwrap_or_default()
    };
    let form = juhe_proto::encode_form([("key", key.as_str()), ("realname", &p.name), ("idcard", &p.idcard)]);
    let started = std::time::Instant::now();
    let codes: Vec<i64> =
        (0..4).map(|_| ask("POST", "/idcard/query", &form)["error_code"].as_i64().unwrap()).collect();
    assert!(started.elapsed() >= std::time::Duration::from_millis(80), "{:?}", started.elapsed());
    assert_eq!(codes, [0, 0, 10012, 10012]);
    let ledger = ask("GET", "/__sandbox/ledger", "");
    assert_eq!(ledger["billed"], 2, "{ledger}");
    assert_eq!(ledger["codes"], serde_json::json!({"0": 2, "10012": 2}), "{ledger}");
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `juhe sandbox serve ARGS --credentials-out CREDENTIALS`, once it says it is listening: the
/// process, its stderr, and what it printed so far.
fn serve_until_listening(
    args: &[&str],
    credentials: &std::path::Path,
) -> (std::process::Child, std::io::BufReader<std::process::ChildStderr>, String) {
    use std::io::BufRead;
    let mut child = crate::juhe_command()
        .args(["sandbox", "serve"])
        .args(args)
        .arg("--credentials-out")
        .arg(credentials)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("listening on") {
        assert!(log.read_line(&mut seen).unwrap() > 0, "{seen}");
    }
    (child, log, seen)
}
