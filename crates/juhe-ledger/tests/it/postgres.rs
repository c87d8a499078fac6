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
fn reuse_is_counted() {
    let (url, _first) = fresh();
    behaviour::reuse_is_counted(&|| Ledger::connect_postgres(&url).unwrap());
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

/// A server that accepts connections and never answers (a stalled machine, a wrong port
/// behind a proxy): the ledger is unreachable in bounded time, never a hang.
#[test]
fn a_server_that_never_answers_fails_closed_in_bounded_time() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let accepted: Vec<_> = silent.incoming().take(2).filter_map(Result::ok).collect();
        std::thread::sleep(std::time::Duration::from_secs(40));
        drop(accepted);
    });
    let started = std::time::Instant::now();
    let error = Ledger::connect_postgres(&format!("postgres://juhe:pw@127.0.0.1:{port}/ledger")).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, LedgerError::Unreachable { .. }), "{error:?}");
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    drop(held);
}

/// A lock held by another session (a row of the spend table taken `FOR UPDATE` by a process
/// that then pauses): the check fails closed as `Locked` after the lock wait, as on SQLite.
#[test]
fn a_lock_held_by_another_session_fails_closed_after_the_lock_wait() {
    use juhe_ledger::Policy;
    let (url, ledger) = fresh();
    let policy = Policy::record_only().max_billed_per_day(100);
    let secret = behaviour::secret();
    let first = match ledger.begin(&secret, &behaviour::intent(60, "juhe"), &policy).unwrap() {
        juhe_ledger::Admission::Send(entry) => entry,
        other => panic!("{other:?}"),
    };
    ledger.finish(first, &behaviour::billed("JH60")).unwrap();
    let mut paused = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = paused.transaction().unwrap();
    tx.execute("SELECT * FROM juhe_ledger_spend FOR UPDATE", &[]).unwrap();
    let started = std::time::Instant::now();
    let error = ledger.begin(&secret, &behaviour::intent(61, "juhe"), &policy).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, LedgerError::Locked { .. }), "{error:?}");
    assert!(took >= juhe_ledger::LOCK_WAIT && took < juhe_ledger::LOCK_WAIT * 2, "took {took:?}");
    tx.rollback().unwrap();
}

#[test]
fn one_pace_across_handles() {
    let (url, _ledger) = fresh();
    behaviour::one_pace_across_handles(&|| Ledger::connect_postgres(&url).unwrap());
}

#[test]
fn live_checks_before_batches() {
    let (url, _ledger) = fresh();
    behaviour::live_checks_before_batches(&|| Ledger::connect_postgres(&url).unwrap());
}

#[test]
fn a_refusal_counts_every_handles_answers() {
    let (url, _ledger) = fresh();
    behaviour::a_refusal_counts_every_handles_answers(&|| Ledger::connect_postgres(&url).unwrap());
}

#[test]
fn forgetting_a_person() {
    behaviour::forgetting(&fresh().1);
}

#[test]
fn team_budgets_hold_per_team_under_the_accounts() {
    behaviour::team_budgets(&fresh().1);
}

#[test]
fn uncapped_checks_count_toward_later_caps() {
    behaviour::uncapped_checks_count_toward_later_caps(&fresh().1);
}

#[test]
fn teams_share_answers_unless_kept_apart() {
    behaviour::teams_share_answers_unless_apart(&fresh().1);
}

#[test]
fn team_keys_change_one_at_a_time_and_are_logged() {
    behaviour::team_keys(&fresh().1);
}

#[test]
fn purposes_keep_answers_apart() {
    behaviour::purposes_keep_answers_apart(&fresh().1);
}

#[test]
fn erasures_leave_a_receipt_in_an_append_only_log() {
    let (url, ledger) = fresh();
    behaviour::erasures_leave_a_receipt(&ledger);
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in ["UPDATE juhe_ledger_admin_log SET detail = 'x'", "DELETE FROM juhe_ledger_admin_log"] {
        let refused = raw.execute(sql, &[]).unwrap_err();
        assert!(format!("{refused:?}").contains("append-only"), "{sql}: {refused:?}");
    }
}

#[test]
fn secret_rotation() {
    behaviour::secret_rotation(&fresh().1);
}

#[test]
fn retention_on_two_clocks() {
    let (url, _first) = fresh();
    behaviour::retention(&|| Ledger::connect_postgres(&url).unwrap());
}

/// Every row of every ledger table, as PostgreSQL prints it (byte strings as `\x` hex).
fn table_contents(url: &str) -> String {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_name LIKE 'juhe\\_ledger\\_%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() >= 8, "{tables:?}");
    let mut text = String::new();
    for table in tables {
        for row in client.query(&format!("SELECT t::text FROM {table} t"), &[]).unwrap() {
            text.push_str(&row.get::<_, String>(0));
            text.push('\n');
        }
    }
    text
}

/// What the tables could hold of person `n`: the name, ID number and mobile (never stored),
/// the masked form and the subject hash (stored until forgotten or expired).
fn traces(n: u32) -> Vec<String> {
    let check = behaviour::check(n);
    let intent = behaviour::intent(n, "juhe");
    let hex: String = intent.subject.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    vec![
        check.name.as_str().to_owned(),
        check.idcard.as_str().to_owned(),
        check.mobile.as_str().to_owned(),
        intent.masked,
        hex,
    ]
}

/// After `forget` and after retention expiry, PostgreSQL's tables hold nothing of the people
/// (what `VACUUM` has yet to reclaim no query returns); the billing facts stay.
#[test]
fn forgotten_and_expired_people_are_gone_from_the_tables() {
    let (url, ledger) = fresh();
    let day = std::time::Duration::from_secs(86_400);
    ledger.set_retention(juhe_ledger::Retention::new(day * 30, day * 365).unwrap()).unwrap();
    for n in 60..66 {
        let juhe_ledger::Admission::Send(entry) = ledger
            .begin(&behaviour::secret(), &behaviour::intent(n, "juhe"), &juhe_ledger::Policy::record_only())
            .unwrap()
        else {
            panic!("not sent")
        };
        ledger.finish(entry, &behaviour::billed(&format!("JH{n}"))).unwrap();
    }
    let stored =
        |n: u32, contents: &str| traces(n).into_iter().filter(|t| contents.contains(t.as_str())).count();
    let contents = table_contents(&url);
    let found: Vec<String> = traces(61).into_iter().filter(|t| contents.contains(t.as_str())).collect();
    assert_eq!(
        stored(61, &contents),
        2,
        "the masked form and the hash, never the fields in clear: {found:?}"
    );
    let today = juhe_proto::CivilDate::new(2026, 12, 1).unwrap();
    assert_eq!(ledger.forget(&behaviour::secret(), &behaviour::person(61), today).unwrap().entries, 1);
    let contents = table_contents(&url);
    assert_eq!(stored(61, &contents), 0, "forgotten");
    assert_eq!(stored(62, &contents), 2, "the others stay");
    assert_eq!(ledger.expire(std::time::SystemTime::now() + day * 31).unwrap().cleared, 5);
    let contents = table_contents(&url);
    for n in 60..66 {
        assert_eq!(stored(n, &contents), 0, "person {n} expired");
    }
    assert!(contents.contains("JH63"), "the billing facts stay");
    let report = ledger.report(juhe_ledger::Span::all(), juhe_ledger::Grouping::Total).unwrap();
    assert_eq!(report.total.billed, 6, "billing totals unchanged");
}
