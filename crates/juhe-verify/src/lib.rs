//! Verify Chinese identities through Juhe (聚合数据).
//!
//! **One job:** the facade users call — an async `Client` and a `blocking::Client` built from
//! one builder, one method per product, with retries that never pay twice.
//!
//! This crate is being built. Until the clients land it re-exports the protocol core, whose
//! request types, validation and outcomes the clients will take and return unchanged.

pub use juhe_proto as proto;
