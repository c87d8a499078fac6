//! End-to-end tests, in one binary: both clients against the sandbox over real loopback
//! HTTP. Every endpoint in every mode, retries against faults, batches, leaks of personal
//! data, and the examples of `docs/sandbox.md` and `docs/guides/`.

mod batch_at_limits;
mod batch_engine;
mod batch_library;
mod cancelled;
mod fixtures;
mod guide_axum;
mod guide_postgres;
mod guide_worker;
mod guides;
mod hostile_servers;
mod https;
mod leaks;
mod ledger;
mod matrix;
mod rand_today;
mod retries;
mod runtimes;
mod sandbox_guide;
