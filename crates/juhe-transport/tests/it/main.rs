//! The transports' integration tests, in one binary. `conformance` holds the cases every
//! backend must pass, run once per backend, so the backends cannot drift apart.

mod conformance;
