//! The ledger against real databases: SQLite files in a temporary directory and a PostgreSQL
//! server this test binary starts itself. Every behaviour runs on both backends.

mod behaviour;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
