//! Corporate networks reach Juhe through a proxy: both transports go through the one
//! `HTTPS_PROXY` names (an HTTP CONNECT tunnel), and straight to the hosts `NO_PROXY` lists.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use juhe_sandbox::Sandbox;

/// A CONNECT proxy on loopback that counts the tunnels it opens.
struct ConnectProxy {
    port: u16,
    tunnels: Arc<AtomicUsize>,
}

impl ConnectProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&tunnels);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counted = Arc::clone(&counted);
                std::thread::spawn(move || tunnel(client, &counted));
            }
        });
        Self { port, tunnels }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

/// Reads `CONNECT host:port`, connects, answers 200, then copies bytes both ways.
fn tunnel(mut client: TcpStream, tunnels: &AtomicUsize) {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let Some(target) = head.strip_prefix("CONNECT ").and_then(|rest| rest.split_whitespace().next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let Ok(upstream) = TcpStream::connect(target) else { return };
    tunnels.fetch_add(1, Ordering::SeqCst);
    let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
    let (mut client_read, mut upstream_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = std::io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
}

#[test]
fn both_transports_use_https_proxy_and_honour_no_proxy() {
    let sandbox = Sandbox::builder().tls().start().unwrap();
    let proxy = ConnectProxy::start();
    let ca = std::env::temp_dir().join(format!("juhe-proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sandbox.ca_certificate_pem().unwrap()).unwrap();
    let p = &sandbox.identities()[0];
    let check = |transport: &str, no_proxy: Option<&str>| {
        let mut command = crate::juhe_command();
        command
            .args(["--key", sandbox.key(), "--base-url", sandbox.base_url(), "--transport", transport])
            .arg("--ca-cert")
            .arg(&ca)
            .args(["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile])
            .env("HTTPS_PROXY", proxy.url())
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("no_proxy");
        match no_proxy {
            Some(hosts) => command.env("NO_PROXY", hosts),
            None => command.env_remove("NO_PROXY"),
        };
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", String::from_utf8_lossy(&out.stderr));
    };
    for transport in ["reqwest", "ureq"] {
        let before = proxy.tunnels();
        check(transport, None);
        assert_eq!(proxy.tunnels(), before + 1, "{transport} went around HTTPS_PROXY");
        check(transport, Some("127.0.0.1"));
        assert_eq!(proxy.tunnels(), before + 1, "{transport} ignored NO_PROXY");
    }
    assert_eq!(sandbox.ledger().billed, 4);
    let _ = std::fs::remove_file(&ca);
}
