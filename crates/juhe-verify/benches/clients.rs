//! Client overhead: one telecom3 check per mode through each client against the sandbox,
//! beside a hand-written raw reqwest / ureq call sending the same bytes.
//!
//! `cargo bench -p juhe-verify --bench clients`. Numbers: docs/benchmarks.md.
//!
//! The client and the sandbox share this machine's two cores, and run-to-run drift is larger
//! than the difference measured, so raw and SDK calls are interleaved: each round times a
//! batch of raw calls and a batch of SDK calls back to back (alternating which goes first),
//! and the reported ratio is the median of the per-round ratios.
//!
//! To give the client and the sandbox a core each, run the sandbox apart and pass its
//! credentials file:
//! `taskset -c 1 juhe sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out c.json &`
//! then `JUHE_BENCH_SANDBOX=c.json taskset -c 0 cargo bench -p juhe-verify --bench clients`.

use std::time::{Duration, Instant};

use juhe_proto::{BaseUrls, Credentials, Protocol, RsaPublicKey};
use juhe_sandbox::Sandbox;
use juhe_verify::{ClientBuilder, Mode, Telecom3Check};

const MODES: [Mode; 4] = [Mode::Plain, Mode::Signed, Mode::Aes, Mode::Rsa];

/// Where the sandbox is: started here, or another process's.
struct Target {
    base_url: String,
    key: String,
    openid: String,
    rsa_public_key_pem: String,
    _sandbox: Option<Sandbox>,
}

impl Target {
    fn find() -> Self {
        match std::env::var("JUHE_BENCH_SANDBOX") {
            Ok(path) => {
                let text = std::fs::read_to_string(path).expect("the credentials file");
                let c: serde_json::Value = serde_json::from_str(&text).expect("credentials JSON");
                let field = |name: &str| c[name].as_str().expect(name).to_owned();
                Self {
                    base_url: field("base_url"),
                    key: field("key"),
                    openid: field("openid"),
                    rsa_public_key_pem: field("rsa_public_key"),
                    _sandbox: None,
                }
            }
            Err(_) => {
                let sandbox = Sandbox::start().expect("sandbox");
                Self {
                    base_url: sandbox.base_url().to_owned(),
                    key: sandbox.key().to_owned(),
                    openid: sandbox.openid().to_owned(),
                    rsa_public_key_pem: sandbox.rsa_public_key_pem().to_owned(),
                    _sandbox: Some(sandbox),
                }
            }
        }
    }
}

fn main() {
    let sandbox = Target::find();
    let person = juhe_sandbox::builtin_population().swap_remove(0);
    let check = Telecom3Check::new(&person.name, &person.idcard, &person.mobile).expect("valid");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    // The raw clients get the provider the SDK uses in this build (`juhe-transport`'s rule).
    #[cfg(feature = "aws-lc")]
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // ring's provider, as `juhe-transport` picks it (deprecated in rustls 0.23.48 for lacking
    // post-quantum key exchange; AWS-LC's has it).
    #[cfg(not(feature = "aws-lc"))]
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let raw_reqwest = reqwest::Client::new();
    let raw_ureq = ureq::Agent::new_with_defaults();

    println!("| mode | client | raw µs/check | SDK µs/check | SDK throughput / raw |");
    println!("|---|---|---|---|---|");
    for mode in MODES {
        let settings = settings(&sandbox, mode);
        let (url, body) = encoded(&sandbox, &check, mode);
        let (rounds, batch) = if mode == Mode::Rsa { (7, 15) } else { (21, 300) };

        let client = settings.clone().build().expect("client");
        let sdk = || {
            runtime.block_on(client.telecom3(&check)).expect("match");
        };
        let raw = || {
            runtime.block_on(async {
                let response = raw_reqwest
                    .post(&url)
                    .header("content-type", juhe_proto::CONTENT_TYPE)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("sent");
                response.bytes().await.expect("body");
            })
        };
        report(mode, "async (reqwest)", interleaved(rounds, batch, raw, sdk));

        let blocking = settings.build_blocking().expect("client");
        let sdk = || {
            blocking.telecom3(&check).expect("match");
        };
        let raw = || {
            let response = raw_ureq
                .post(&url)
                .header("content-type", juhe_proto::CONTENT_TYPE)
                .send(&body[..])
                .expect("sent");
            response.into_body().read_to_vec().expect("body");
        };
        report(mode, "blocking (ureq)", interleaved(rounds, batch, raw, sdk));
    }
}

/// Per-round (raw, sdk) mean durations of one call.
fn interleaved(rounds: usize, batch: usize, raw: impl Fn(), sdk: impl Fn()) -> Vec<(Duration, Duration)> {
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        start.elapsed() / batch as u32
    };
    time(&raw);
    time(&sdk); // warm-up: connections, caches
    (0..rounds)
        .map(|round| {
            if round % 2 == 0 {
                let r = time(&raw);
                (r, time(&sdk))
            } else {
                let s = time(&sdk);
                (time(&raw), s)
            }
        })
        .collect()
}

fn report(mode: Mode, client: &str, samples: Vec<(Duration, Duration)>) {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let raw = median(samples.iter().map(|(r, _)| r.as_secs_f64() * 1e6).collect());
    let sdk = median(samples.iter().map(|(_, s)| s.as_secs_f64() * 1e6).collect());
    let ratio = median(samples.iter().map(|(r, s)| r.as_secs_f64() / s.as_secs_f64()).collect());
    println!("| {mode} | {client} | {raw:.1} | {sdk:.1} | {ratio:.3} |");
}

fn settings(sandbox: &Target, mode: Mode) -> ClientBuilder {
    ClientBuilder::new()
        .key(&sandbox.key)
        .openid(&sandbox.openid)
        .rsa_public_key(&sandbox.rsa_public_key_pem)
        .base_url(&sandbox.base_url)
        .mode(mode)
}

/// The request the SDK sends in `mode`, encoded once, for the raw clients.
fn encoded(sandbox: &Target, check: &Telecom3Check, mode: Mode) -> (String, Vec<u8>) {
    let credentials = Credentials::new(&sandbox.key)
        .and_then(|c| c.with_openid(&sandbox.openid))
        .expect("credentials")
        .with_rsa_public_key(RsaPublicKey::parse(&sandbox.rsa_public_key_pem).expect("key"));
    let protocol =
        Protocol::new(credentials).with_base_urls(BaseUrls::single(&sandbox.base_url).expect("url"));
    let request = protocol.encode(check, mode).expect("encode").request;
    (request.uri().to_string(), request.into_body())
}
