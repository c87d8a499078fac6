//! The sandbox's integration tests, in one binary, over real loopback HTTP: every endpoint
//! and case, admin routes and faults, and arbitrary requests.

mod admin_and_faults;
mod attacks;
mod endpoints;
mod raw_http;
mod request_fuzz;
