//! The gateway over real sockets, in front of a sandbox standing in for Juhe, on a real SQLite
//! ledger: clients that are not ours (curl, Python's `cryptography`), two teams, budgets,
//! reuse, revocation and what is stored.

mod dashboard;
mod every_endpoint;
mod independent;
mod rig;
mod teams;
