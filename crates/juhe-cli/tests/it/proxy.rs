//! Corporate networks reach Juhe through a proxy: both transports go through the one
//! `HTTPS_PROXY` names (an HTTP CONNECT tunnel), and straight to the hosts `NO_PROXY` lists.
//! A server on this machine (the embedded sandbox, a test one on loopback) is never reached
//! through a proxy: it would see every check in clear.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use juhe_sandbox::Sandbox;

/// A CONNECT proxy on loopback that counts the connections it takes and the tunnels it
/// opens. Whatever host a client names, it tunnels to that port on 127.0.0.1: the test's
/// made-up host name stands for a server elsewhere, and only the proxy resolves it.
struct ConnectProxy {
    port: u16,
    connections: Arc<AtomicUsize>,
    tunnels: Arc<AtomicUsize>,
}

impl ConnectProxy {
    fn start() -> Self {
        Self::listen(Refuse::Never)
    }

    /// A proxy that answers every CONNECT with 502 Bad Gateway, as one that cannot reach the
    /// server does.
    fn refusing() -> Self {
        Self::listen(Refuse::AfterReading)
    }

    /// A proxy that answers 502 the moment it accepts and closes, before reading anything.
    fn refusing_at_once() -> Self {
        Self::listen(Refuse::AtOnce)
    }

    fn listen(refuse: Refuse) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (connections, tunnels) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (taken, counted) = (Arc::clone(&connections), Arc::clone(&tunnels));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                taken.fetch_add(1, Ordering::SeqCst);
                let counted = Arc::clone(&counted);
                std::thread::spawn(move || tunnel(client, &counted, refuse));
            }
        });
        Self { port, connections, tunnels }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

/// Whether a proxy refuses its tunnels, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refuse {
    Never,
    AfterReading,
    AtOnce,
}

/// Reads `CONNECT host:port`, connects, answers 200, then copies bytes both ways.
fn tunnel(mut client: TcpStream, tunnels: &AtomicUsize, refuse: Refuse) {
    if refuse == Refuse::AtOnce {
        let _ =
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
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
    if refuse == Refuse::AfterReading {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let Some(port) = target.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok()) else { return };
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", port)) else { return };
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

/// The proxy's environment, with every other proxy variable removed.
fn with_proxies<'c>(
    command: &'c mut std::process::Command,
    set: &[(&str, &str)],
) -> &'c mut std::process::Command {
    for name in [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    command.envs(set.iter().copied())
}

#[test]
fn both_transports_use_https_proxy_and_honour_no_proxy_but_never_for_loopback() {
    let sandbox = Sandbox::builder().tls().tls_names(["sandbox.test", "127.0.0.1"]).start().unwrap();
    let port = sandbox.addr().port();
    let proxy = ConnectProxy::start();
    let ca = std::env::temp_dir().join(format!("juhe-proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sandbox.ca_certificate_pem().unwrap()).unwrap();
    let p = &sandbox.identities()[0];
    let check = |transport: &str, base_url: &str, no_proxy: Option<&str>| {
        let mut command = crate::juhe_command();
        command
            .args(["--key", sandbox.key(), "--base-url", base_url, "--transport", transport])
            .arg("--ca-cert")
            .arg(&ca)
            .args(["telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile]);
        let proxy_url = proxy.url();
        let mut set = vec![("HTTPS_PROXY", proxy_url.as_str())];
        set.extend(no_proxy.map(|hosts| ("NO_PROXY", hosts)));
        let out = with_proxies(&mut command, &set).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (elsewhere, loopback) = (format!("https://sandbox.test:{port}"), format!("https://127.0.0.1:{port}"));
    for transport in ["reqwest", "ureq"] {
        let before = proxy.tunnels();
        let (code, stderr) = check(transport, &elsewhere, None);
        assert_eq!(code, Some(0), "{transport}: {stderr}");
        assert_eq!(proxy.tunnels(), before + 1, "{transport} went around HTTPS_PROXY");
        // Listed in NO_PROXY, the made-up name is looked up directly, and is not found.
        let (code, stderr) = check(transport, &elsewhere, Some("sandbox.test"));
        assert_ne!(code, Some(0), "{transport}: {stderr}");
        assert_eq!(proxy.tunnels(), before + 1, "{transport} ignored NO_PROXY");
        let (code, stderr) = check(transport, &loopback, None);
        assert_eq!(code, Some(0), "{transport}: {stderr}");
        assert_eq!(proxy.tunnels(), before + 1, "{transport} sent a loopback server's checks to the proxy");
    }
    assert_eq!(sandbox.ledger().billed, 4);
    let _ = std::fs::remove_file(&ca);
}

/// The embedded sandbox, behind every proxy variable a corporate machine sets: the proxy is
/// never contacted (it would see the key, the name, the ID number and the mobile), and the
/// check is answered.
#[test]
fn the_embedded_sandbox_never_goes_through_a_proxy() {
    let proxy = ConnectProxy::start();
    let url = proxy.url();
    let p = &juhe_sandbox::builtin_population()[0];
    for transport in ["reqwest", "ureq"] {
        let mut command = crate::juhe_command();
        command
            .args(["--sandbox", "--transport", transport, "telecom3"])
            .args(["--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile]);
        let proxies =
            [("HTTP_PROXY", url.as_str()), ("HTTPS_PROXY", url.as_str()), ("ALL_PROXY", url.as_str())];
        let out = with_proxies(&mut command, &proxies).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(proxy.connections(), 0, "{transport} contacted the proxy");
    }
}

/// `juhe telecom3` of the first sandbox person at `base_url` over `transport`, with only
/// these proxy variables set, as JSON.
fn check_through(
    sandbox: &Sandbox,
    base_url: &str,
    transport: &str,
    proxies: &[(&str, &str)],
) -> std::process::Output {
    let p = &sandbox.identities()[0];
    let mut command = crate::juhe_command();
    command
        .args(["--key", sandbox.key(), "--base-url", base_url, "--transport", transport, "--format", "json"])
        .args(["--no-ledger", "telecom3", "--name", &p.name, "--idcard", &p.idcard, "--mobile", &p.mobile]);
    with_proxies(&mut command, proxies).output().unwrap()
}

/// `HTTPS_PROXY` is for `https://` only: a plain-HTTP check never goes to it (ureq sent it
/// there unencrypted).
#[test]
fn https_proxy_never_carries_a_plain_http_check() {
    let sandbox = Sandbox::start().unwrap();
    let proxy = ConnectProxy::start();
    let base = format!("http://sandbox.test:{}", sandbox.addr().port());
    for transport in ["reqwest", "ureq"] {
        let out = check_through(&sandbox, &base, transport, &[("HTTPS_PROXY", &proxy.url())]);
        // Direct, the made-up name is not found: nothing sent, and nothing to the proxy.
        assert_ne!(out.status.code(), Some(0), "{transport}");
        assert_eq!(proxy.connections(), 0, "{transport} sent a plain-HTTP check to HTTPS_PROXY");
    }
    assert_eq!(sandbox.ledger().requests, 0);
}

/// A proxy the client cannot use (SOCKS, FTP) is not gone around: the check is refused, not
/// sent, and the message names the variable.
#[test]
fn an_unusable_proxy_refuses_the_check_naming_the_variable() {
    let sandbox = Sandbox::start().unwrap();
    let port = sandbox.addr().port();
    let cases = [
        (format!("https://sandbox.test:{port}"), "ALL_PROXY", "socks5://user:hunter2@127.0.0.1:1080"),
        (format!("http://sandbox.test:{port}"), "HTTP_PROXY", "ftp://127.0.0.1:21"),
    ];
    for transport in ["reqwest", "ureq"] {
        for (base, variable, value) in &cases {
            let out = check_through(&sandbox, base, transport, &[(variable, value)]);
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(4), "{transport} {variable}: {json}");
            let reason = json["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(&format!("{variable} names a")), "{transport}: {json}");
            assert!(!reason.contains("hunter2"), "the proxy's password: {json}");
            assert_eq!(json["billed"], serde_json::json!(false), "not sent: {json}");
        }
    }
    assert_eq!(sandbox.ledger().requests, 0);
}

/// A proxy that refuses the tunnel (502) passed nothing on: not sent, on both transports (ureq
/// called it "may have been billed").
#[test]
fn a_refused_tunnel_is_not_sent() {
    let sandbox = Sandbox::builder().tls().tls_names(["sandbox.test"]).start().unwrap();
    let base = format!("https://sandbox.test:{}", sandbox.addr().port());
    // Refused after reading the CONNECT, and at once, before reading it (ureq then met a closed
    // pipe writing the CONNECT, and called it "may have been billed"). Many times: the
    // second's error depends on how far ureq got before the close.
    for (proxy, rounds) in [(ConnectProxy::refusing(), 1), (ConnectProxy::refusing_at_once(), 6)] {
        for _ in 0..rounds {
            for transport in ["reqwest", "ureq"] {
                let out = check_through(&sandbox, &base, transport, &[("HTTPS_PROXY", &proxy.url())]);
                let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(json["billed"], serde_json::json!(false), "{transport}: {json}");
                assert_eq!(out.status.code(), Some(4), "{transport}: {json}");
            }
        }
        assert!(proxy.connections() >= 2);
    }
    assert_eq!(sandbox.ledger().requests, 0);
}

/// A server on this machine, however its address is spelled, is never reached through
/// `HTTP_PROXY` on either transport (ureq sent all four of these to the proxy, key and ID
/// number in clear; reqwest the first two): the host is read as the resolver will read it.
#[test]
fn loopback_in_any_spelling_never_goes_to_the_proxy() {
    let sandbox = Sandbox::start().unwrap();
    let proxy = ConnectProxy::start();
    let port = sandbox.addr().port();
    let spellings = [
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost.:{port}"),
        format!("http://127.1:{port}"),
        format!("http://127.0.0.1.:{port}"),
    ];
    for transport in ["reqwest", "ureq"] {
        for base in &spellings {
            let out = check_through(&sandbox, base, transport, &[("HTTP_PROXY", &proxy.url())]);
            assert_eq!(proxy.connections(), 0, "{transport} sent {base}'s check to the proxy");
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            // `localhost.` may not resolve here: then nothing is sent, and still not proxied.
            if !base.contains("localhost.") {
                assert_eq!(out.status.code(), Some(0), "{transport} {base}: {json}");
            }
        }
    }
}

/// A network namespace of this test's own, joined to this machine by a veth pair, with an IPv4
/// and an IPv6 (ULA) address on its side: hosts that are neither loopback nor anywhere on a
/// real network, so a direct connection to them is refused by the namespace's own kernel and
/// only a proxy's count can tell which way a check went. Removed when dropped.
#[cfg(target_os = "linux")]
struct TestHost {
    namespace: String,
    link: String,
}

#[cfg(target_os = "linux")]
impl TestHost {
    const V4: &'static str = "10.213.7.2";
    const V6: &'static str = "fd00:6a75:6865::2";

    fn start() -> Self {
        let id = std::process::id();
        let host = Self { namespace: format!("juhe-np-{id}"), link: format!("jnp{}", id % 100_000) };
        let peer = format!("{}p", host.link);
        let ip = |args: &[&str]| {
            let out = std::process::Command::new("ip").args(args).output().expect("ip (iproute2) runs");
            assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ns = host.namespace.as_str();
        ip(&["netns", "add", ns]);
        ip(&["link", "add", &host.link, "type", "veth", "peer", "name", &peer]);
        ip(&["link", "set", &peer, "netns", ns]);
        ip(&["addr", "add", "10.213.7.1/24", "dev", &host.link]);
        ip(&["-6", "addr", "add", "fd00:6a75:6865::1/64", "dev", &host.link, "nodad"]);
        ip(&["link", "set", &host.link, "up"]);
        ip(&["-n", ns, "addr", "add", &format!("{}/24", Self::V4), "dev", &peer]);
        ip(&["-n", ns, "-6", "addr", "add", &format!("{}/64", Self::V6), "dev", &peer, "nodad"]);
        ip(&["-n", ns, "link", "set", &peer, "up"]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        host
    }
}

#[cfg(target_os = "linux")]
impl Drop for TestHost {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["link", "del", &self.link]).status();
        let _ = std::process::Command::new("ip").args(["netns", "del", &self.namespace]).status();
    }
}

/// `NO_PROXY` with an IPv6 address (bare, where `:2` once read as a port, and in brackets) and
/// with CIDR blocks, as curl and reqwest read them, against real hosts of a test network: each
/// check goes direct (refused by the host: not sent), the proxy never sees it; without the
/// entry, the same check goes to the proxy.
#[cfg(target_os = "linux")]
#[test]
fn no_proxy_takes_ipv6_and_cidr_on_both_transports() {
    // Making a network namespace takes root, which CI has (it runs this test, never skips it);
    // a developer's unprivileged `cargo test` says so and leaves it to CI.
    let root =
        std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root && std::env::var_os("CI").is_none() {
        eprintln!(
            "no_proxy_takes_ipv6_and_cidr_on_both_transports: needs root for a network namespace; CI runs it"
        );
        return;
    }
    let sandbox = Sandbox::start().unwrap();
    let _host = TestHost::start();
    let proxy = ConnectProxy::start();
    let (v4, v6) = (format!("http://{}:9", TestHost::V4), format!("http://[{}]:9", TestHost::V6));
    let cases = [
        (&v4, "10.213.0.0/16"),
        (&v4, "10.0.0.0/8, example.com"),
        (&v6, TestHost::V6),
        (&v6, "[fd00:6a75:6865::2]"),
        (&v6, "[fd00:6a75:6865::2]:9"),
        (&v6, "fd00:6a75::/32"),
    ];
    for transport in ["reqwest", "ureq"] {
        for (base, no_proxy) in &cases {
            let before = proxy.connections();
            let set = [("HTTP_PROXY", proxy.url()), ("NO_PROXY", (*no_proxy).to_owned())];
            let set: Vec<(&str, &str)> = set.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let out = check_through(&sandbox, base, transport, &set);
            assert_eq!(
                proxy.connections(),
                before,
                "{transport} {base} NO_PROXY={no_proxy}: went to the proxy"
            );
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(json["billed"], serde_json::json!(false), "{transport} {base}: {json}");
        }
        // The control: not listed, the same check goes to the proxy.
        let before = proxy.connections();
        let url = proxy.url();
        check_through(&sandbox, &v4, transport, &[("HTTP_PROXY", &url), ("NO_PROXY", "10.214.0.0/16")]);
        assert!(proxy.connections() > before, "{transport}: the proxy never saw the unlisted host");
    }
    assert_eq!(sandbox.ledger().requests, 0);
}
