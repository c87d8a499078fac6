//! A sandbox (Juhe), a ledger, and a gateway serving on a free loopback port.

use std::path::PathBuf;
use std::sync::Arc;

use juhe_crypto::SealingKey;
use juhe_gateway::Gateway;
use juhe_gateway::keys::{self, IssuedKey, TeamRules};
use juhe_sandbox::{Identity, Sandbox};
use juhe_verify::ledger::Ledger;
use juhe_verify::{Client, Mode};

/// The admin key of every test gateway.
pub(crate) const ADMIN_KEY: &str = "the operator's admin key";

/// The master key of every test gateway.
pub(crate) const MASTER: [u8; 32] = [42; 32];

pub(crate) struct Rig {
    pub(crate) sandbox: Sandbox,
    pub(crate) ledger: Ledger,
    pub(crate) ledger_path: PathBuf,
    pub(crate) base_url: String,
    pub(crate) dir: PathBuf,
    _stop: tokio::sync::watch::Sender<bool>,
    _runtime: tokio::runtime::Runtime,
}

impl Rig {
    /// A gateway with a key per `(team, rules)`, forwarding in `mode`.
    pub(crate) fn start(name: &str, mode: Mode, teams: &[(&str, TeamRules)]) -> (Rig, Vec<IssuedKey>) {
        let dir = std::env::temp_dir().join(format!("juhe-gateway-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ledger_path = dir.join("gateway.sqlite");
        let ledger = Ledger::open_sqlite(&ledger_path).unwrap();
        let master = || SealingKey::from_master(&MASTER).unwrap();
        let issued: Vec<IssuedKey> = teams
            .iter()
            .map(|(team, rules)| keys::issue(&ledger, &master(), team, rules, false, "tester").unwrap())
            .collect();
        let sandbox = Sandbox::start().unwrap();
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let upstream =
            Client::builder().account(&sandbox.account()).ledger(ledger.clone()).mode(mode).build().unwrap();
        let gateway = Gateway::new(upstream, ledger.clone(), master(), mode).unwrap();
        let gateway = gateway.admin_key(ADMIN_KEY);
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(juhe_server::serve(listener, Arc::new(gateway), Default::default(), None, stopped));
        let rig = Rig { sandbox, ledger, ledger_path, base_url, dir, _stop: stop, _runtime: runtime };
        (rig, issued)
    }

    /// The `n`-th person the sandbox knows.
    pub(crate) fn person(&self, n: usize) -> &Identity {
        &self.sandbox.identities()[n]
    }

    /// What Juhe billed so far.
    pub(crate) fn billed(&self) -> u64 {
        self.sandbox.ledger().billed
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `program` and returns its standard output, failing the test with its error output.
pub(crate) fn run(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program).args(args).output().unwrap();
    assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A form POST with curl: the body as JSON, and the `x-juhe-gateway-*` headers.
pub(crate) fn curl_post(url: &str, fields: &[(&str, &str)]) -> (serde_json::Value, Vec<(String, String)>) {
    let mut args = vec!["-sS".to_owned(), "-D".into(), "-".into(), url.to_owned()];
    for (name, value) in fields {
        args.push("--data-urlencode".into());
        args.push(format!("{name}={value}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run("curl", &args);
    let (head, body) = output.split_once("\r\n\r\n").unwrap();
    let headers = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-juhe"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (serde_json::from_str(body).unwrap(), headers)
}

/// The lowercase hex MD5 of `text`, by OpenSSL (not by us).
pub(crate) fn openssl_md5(text: &str) -> String {
    let file = std::env::temp_dir().join(format!("juhe-gateway-md5-{}-{}", std::process::id(), text.len()));
    std::fs::write(&file, text).unwrap();
    let out = run("openssl", &["dgst", "-md5", "-r", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    out.split_whitespace().next().unwrap().to_owned()
}
