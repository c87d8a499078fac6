//! HTTP transports for the juhe-rs SDK.
//!
//! **One job:** carry a request built by [`juhe_proto`] to Juhe and bring the response back.
//! The protocol itself (what goes in the request, what the response means) lives entirely in
//! `juhe-proto`; a transport never looks inside.
//!
//! This crate is being built: its sync `Transport` and async `AsyncTransport` traits, with
//! `ureq` and `reqwest` backends behind features, arrive with the clients. Until then it
//! re-exports the HTTP types a transport will take and give.

pub use juhe_proto::{HttpRequest, HttpResponse};
