//! What the juhe-rs test suites share, kept out of the published crates: a dev-dependency by
//! path only, so `cargo publish` leaves it behind and every packaged crate's own files are
//! all it needs.

pub mod bytes;
pub mod hostile;
pub mod postgres_server;
