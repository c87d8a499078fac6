//! End-to-end tests, in one binary: both clients against the sandbox over real loopback
//! HTTP. Every endpoint in every mode, retries against faults, batches, leaks of personal
//! data, and the examples of `docs/sandbox.md`.

mod batch_engine;
mod batch_library;
mod fixtures;
#[path = "../../crates/juhe-transport/tests/it/hostile.rs"]
#[allow(dead_code, reason = "shared with the transport tests, which use all of it")]
mod hostile;
mod hostile_servers;
mod https;
mod leaks;
mod matrix;
mod retries;
mod runtimes;
mod sandbox_guide;
