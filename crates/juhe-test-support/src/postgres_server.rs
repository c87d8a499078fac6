//! A real PostgreSQL server for tests: `initdb` and `pg_ctl` in a temporary directory, on a
//! free loopback port, as the `postgres` user when the tests run as root (initdb refuses
//! root). The server stops when the test process ends, however it ends: a shell that started
//! it waits on a pipe from this process, and stops it when the pipe closes.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// A running server; databases are made per test with [`PostgresServer::new_database`].
pub struct PostgresServer {
    port: u16,
    bin: PathBuf,
    data: PathBuf,
    // Held open for as long as the process lives: its end stops the server.
    _guard: Mutex<(Child, ChildStdin)>,
}

/// The server shared by a test binary, started on first use. Panics, with what to install,
/// when PostgreSQL is missing: CI installs it, so no test is ever skipped.
pub fn shared() -> &'static PostgresServer {
    static SERVER: OnceLock<PostgresServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        PostgresServer::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL for the tests: {e}"))
    })
}

impl PostgresServer {
    /// Starts a server in a new temporary directory.
    pub fn start() -> Result<Self, String> {
        let bin = bin_dir().ok_or("no initdb found: install PostgreSQL (apt-get install postgresql)")?;
        let mut last = String::new();
        // A port found free may be taken before the server binds it: try a few.
        for _ in 0..3 {
            match Self::start_on(&bin, free_port()?) {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn start_on(bin: &Path, port: u16) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("juhe-pg-{}-{port}", std::process::id()));
        let as_root = is_root();
        let run = if as_root { "runuser -u postgres --" } else { "" };
        let bin = bin.display();
        let script = format!(
            r#"set -e
            rm -rf '{dir}'; mkdir -p '{dir}'
            {chown}
            {run} '{bin}/initdb' -D '{dir}/data' -U postgres --auth=trust --no-sync -E UTF8 >'{dir}/initdb.log' 2>&1
            {run} '{bin}/pg_ctl' -D '{dir}/data' -l '{dir}/server.log' -w \
                -o "-p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
            echo ready
            read _ || true
            {run} '{bin}/pg_ctl' -D '{dir}/data' -m immediate stop >/dev/null 2>&1 || true
            rm -rf '{dir}'"#,
            dir = dir.display(),
            chown = if as_root { format!("chown postgres '{}'", dir.display()) } else { String::new() },
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() != "ready" {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            let init = std::fs::read_to_string(dir.join("initdb.log")).unwrap_or_default();
            let _ = child.wait();
            return Err(format!("PostgreSQL did not start on port {port}:\n{init}\n{log}"));
        }
        Ok(Self {
            port,
            bin: PathBuf::from(bin.to_string()),
            data: dir.join("data"),
            _guard: Mutex::new((child, stdin)),
        })
    }

    /// A new, empty database; its URL.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("ledger_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let status = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", &name])
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        self.url(&name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's processes: the postmaster (from `postmaster.pid`) and its children, to
    /// freeze (SIGSTOP) and thaw (SIGCONT) a server as a stalled machine would be.
    pub fn processes(&self) -> Vec<u32> {
        let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap_or_default();
        let Some(main) = pid_file.lines().next().and_then(|l| l.trim().parse::<u32>().ok()) else {
            return Vec::new();
        };
        let children = Command::new("pgrep").args(["-P", &main.to_string()]).output();
        let children = children.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        std::iter::once(main).chain(children.lines().filter_map(|l| l.trim().parse().ok())).collect()
    }

    /// Sends `signal` (`-STOP`, `-CONT`) to every process of the server.
    pub fn signal(&self, signal: &str) {
        for pid in self.processes() {
            let _ = Command::new("kill").args([signal, &pid.to_string()]).status();
        }
    }
}

/// Where `initdb` and `pg_ctl` are: Debian keeps them out of `PATH`.
fn bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.reverse();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.into_iter().find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false)
}
