//! One telecom3 check per mode through each client against the sandbox, beside a
//! hand-written raw reqwest / ureq call that sends the same bytes, in the same run.
//!
//! `cargo bench -p juhe-verify --bench clients`. Numbers: docs/benchmarks.md.

use std::sync::LazyLock;

use juhe_proto::{BaseUrls, Credentials, Endpoint, Protocol, RsaPublicKey};
use juhe_sandbox::Sandbox;
use juhe_verify::{ClientBuilder, Mode, Telecom3Check, blocking};

const MODES: [Mode; 4] = [Mode::Plain, Mode::Signed, Mode::Aes, Mode::Rsa];

struct Setup {
    sandbox: Sandbox,
    runtime: tokio::runtime::Runtime,
    check: Telecom3Check,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let sandbox = Sandbox::start().expect("sandbox");
    let person = sandbox.identities()[0].clone();
    let check = Telecom3Check::new(&person.name, &person.idcard, &person.mobile).expect("valid");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    Setup { sandbox, runtime, check }
});

fn settings(mode: Mode) -> ClientBuilder {
    let sandbox = &SETUP.sandbox;
    ClientBuilder::new()
        .key(sandbox.key())
        .openid(sandbox.openid())
        .rsa_public_key(sandbox.rsa_public_key_pem())
        .base_url(sandbox.base_url())
        .mode(mode)
}

/// The request the SDK would send in `mode`, encoded once, for the raw clients.
fn encoded(mode: Mode) -> (String, Vec<u8>) {
    let sandbox = &SETUP.sandbox;
    let credentials = Credentials::new(sandbox.key())
        .and_then(|c| c.with_openid(sandbox.openid()))
        .expect("credentials")
        .with_rsa_public_key(RsaPublicKey::parse(sandbox.rsa_public_key_pem()).expect("key"));
    let protocol =
        Protocol::new(credentials).with_base_urls(BaseUrls::single(sandbox.base_url()).expect("url"));
    let request = protocol.encode(&SETUP.check, mode, &mut rand_core::OsRng).expect("encode").request;
    assert_eq!(Endpoint::find(juhe_proto::Product::Telecom3, mode).map(|e| e.info().mode), Some(mode));
    (request.uri().to_string(), request.into_body())
}

#[divan::bench(args = MODES, sample_count = 300)]
fn sdk_async_reqwest(bencher: divan::Bencher, mode: Mode) {
    let client = settings(mode).build().expect("client");
    bencher.bench_local(|| SETUP.runtime.block_on(client.telecom3(&SETUP.check)).expect("match"));
}

#[divan::bench(args = MODES, sample_count = 300)]
fn raw_reqwest(bencher: divan::Bencher, mode: Mode) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let (url, body) = encoded(mode);
    bencher.bench_local(|| {
        SETUP.runtime.block_on(async {
            let response = client
                .post(&url)
                .header("content-type", juhe_proto::CONTENT_TYPE)
                .body(body.clone())
                .send()
                .await
                .expect("sent");
            response.bytes().await.expect("body")
        })
    });
}

#[divan::bench(args = MODES, sample_count = 300)]
fn sdk_blocking_ureq(bencher: divan::Bencher, mode: Mode) {
    let client: blocking::Client = settings(mode).build_blocking().expect("client");
    bencher.bench_local(|| client.telecom3(&SETUP.check).expect("match"));
}

#[divan::bench(args = MODES, sample_count = 300)]
fn raw_ureq(bencher: divan::Bencher, mode: Mode) {
    let agent = ureq::Agent::new_with_defaults();
    let (url, body) = encoded(mode);
    bencher.bench_local(|| {
        let response =
            agent.post(&url).header("content-type", juhe_proto::CONTENT_TYPE).send(&body[..]).expect("sent");
        response.into_body().read_to_vec().expect("body")
    });
}

fn main() {
    divan::main();
}
