//! The PostgreSQL backend on a real server, started by the harness.

use juhe_ledger::{Ledger, LedgerError};
use juhe_test_support::postgres_server;

use crate::behaviour;

fn fresh() -> (String, Ledger) {
    let url = postgres_server::shared().new_database();
    let ledger = Ledger::connect_postgres(&url).unwrap();
    (url, ledger)
}

#[test]
fn journal() {
    behaviour::journal(&fresh().1);
}

#[test]
fn reuse_of_billed_answers() {
    behaviour::reuse_of_billed_answers(&fresh().1);
}

#[test]
fn single_flight_and_unanswered() {
    behaviour::single_flight_and_unanswered(&fresh().1);
}

#[test]
fn one_sender_among_many_connections() {
    let (url, _) = fresh();
    behaviour::one_sender_among_many(&|| Ledger::connect_postgres(&url).unwrap());
}

#[test]
fn orphaned_entries_are_maybe_billed_at_once_and_settle_by_hand() {
    let (url, _) = fresh();
    behaviour::orphans_and_settlement(&|| Ledger::connect_postgres(&url).unwrap());
}

#[test]
fn accounts_on_one_ledger_never_see_each_others_entries() {
    behaviour::accounts_kept_apart(&fresh().1);
}

#[test]
fn budget_across_connections() {
    let (url, _) = fresh();
    behaviour::budget_across_connections(&|| Ledger::connect_postgres(&url).unwrap());
}

#[test]
fn connections_migrating_a_new_database_together_all_succeed() {
    let urls: Vec<_> = (0..5).map(|_| postgres_server::shared().new_database()).collect();
    behaviour::opened_together(urls.len(), &|round| Ledger::connect_postgres(&urls[round]));
}

#[test]
fn an_unreachable_server_fails_closed_and_hides_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let error =
        Ledger::connect_postgres(&format!("postgres://juhe:hunter2@127.0.0.1:{port}/ledger")).unwrap_err();
    assert!(matches!(error, LedgerError::Unreachable { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("juhe:***@127.0.0.1"), "{text}");
    assert!(!text.contains("hunter2") && !format!("{error:?}").contains("hunter2"), "{text}");
}

#[test]
fn a_newer_schema_is_refused() {
    let (url, ledger) = fresh();
    drop(ledger);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client.execute("UPDATE juhe_ledger_meta SET version = 99", &[]).unwrap();
    let error = Ledger::connect_postgres(&url).unwrap_err();
    assert!(matches!(error, LedgerError::NewerSchema { found: 99, .. }), "{error:?}");
}
