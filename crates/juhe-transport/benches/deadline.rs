//! What a deadline costs the blocking backend: `UreqTransport` (one deadline per attempt)
//! beside ureq agents with no timeouts, with per-phase timeouts only, and with ureq's global
//! timeout, each sending the same plain telecom3 request to an in-process sandbox.
//!
//! `cargo bench -p juhe-transport --bench deadline`. Numbers: docs/benchmarks.md.
//!
//! The client and the sandbox share two cores and drift between runs, so the variants are
//! interleaved round by round and each is reported as the median of its per-round means.

use std::time::{Duration, Instant};

use juhe_proto::{BaseUrls, Credentials, Mode, Protocol, Telecom3Check};
use juhe_sandbox::Sandbox;
use juhe_transport::{Transport, TransportConfig, UreqTransport};

const ROUNDS: usize = 21;
const CALLS: usize = 400;

fn main() {
    let sandbox = Sandbox::start().expect("sandbox");
    let person = juhe_sandbox::builtin_population().swap_remove(0);
    let check = Telecom3Check::new(&person.name, &person.idcard, &person.mobile).expect("valid");
    let protocol = Protocol::new(Credentials::new(sandbox.key()).expect("key"))
        .with_base_urls(BaseUrls::single(sandbox.base_url()).expect("url"));
    let request = protocol.encode(&check, Mode::Plain).expect("encode").request;

    let total = Duration::from_secs(30);
    let phases = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_recv_response(Some(total))
        .timeout_recv_body(Some(total))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let global = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(total))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let defaults = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let ours = UreqTransport::with_config(&TransportConfig::default()).expect("transport");

    let raw = |agent: &ureq::Agent| {
        let response = agent.run(request.clone()).expect("sent");
        response.into_body().read_to_vec().expect("body");
    };
    let variants: [(&str, &dyn Fn()); 4] = [
        ("ureq, no timeouts", &|| raw(&defaults)),
        ("ureq, per-phase timeouts only", &|| raw(&phases)),
        ("ureq, global timeout", &|| raw(&global)),
        ("UreqTransport (one deadline)", &|| {
            ours.send(request.clone()).expect("sent");
        }),
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..=ROUNDS {
        for i in 0..variants.len() {
            // Rotate the order so no variant always runs first.
            let v = (i + round) % variants.len();
            let start = Instant::now();
            for _ in 0..CALLS {
                (variants[v].1)();
            }
            if round > 0 {
                samples[v].push(start.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
            }
        }
    }
    println!("| client | µs/request (median of {ROUNDS} rounds of {CALLS}) |");
    println!("|---|---|");
    for (v, (name, _)) in variants.iter().enumerate() {
        samples[v].sort_by(f64::total_cmp);
        println!("| {name} | {:.1} |", samples[v][ROUNDS / 2]);
    }
}
