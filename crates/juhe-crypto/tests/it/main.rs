//! The crypto crate's integration tests, in one binary: OpenSSL's known answers, OpenSSL
//! interoperability, every key format, and property-tested round trips.

mod key_formats;
mod known_answers;
mod openssl_interop;
mod round_trips;
