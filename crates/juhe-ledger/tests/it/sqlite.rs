//! The SQLite backend on real files.

use std::path::{Path, PathBuf};

use std::time::Duration;

use juhe_ledger::{Admission, Ledger, LedgerError, LedgerSecret, Policy};
use juhe_test_support::bytes;

use crate::behaviour::{self, API_KEY, billed, check, intent, secret};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("juhe-ledger-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fresh(name: &str) -> (PathBuf, Ledger) {
    let path = temp_dir(name).join("ledger.sqlite");
    let ledger = Ledger::open_sqlite(&path).unwrap();
    (path, ledger)
}

#[test]
fn journal() {
    behaviour::journal(&fresh("journal").1);
}

#[test]
fn reuse_of_billed_answers() {
    behaviour::reuse_of_billed_answers(&fresh("reuse").1);
}

#[test]
fn reuse_is_counted() {
    let (path, _first) = fresh("reuse-counted");
    behaviour::reuse_is_counted(&|| Ledger::open_sqlite(&path).unwrap());
}

#[test]
fn single_flight_and_unanswered() {
    behaviour::single_flight_and_unanswered(&fresh("flight").1);
}

#[test]
fn one_sender_among_many_connections() {
    let (path, _) = fresh("many");
    behaviour::one_sender_among_many(&|| Ledger::open_sqlite(&path).unwrap());
}

/// Turning a new file to WAL while another connection does the same is refused by SQLite at
/// once, without its busy handler: opening waits for the lock itself.
#[test]
fn connections_opening_a_new_file_together_all_succeed() {
    let dir = temp_dir("together");
    behaviour::opened_together(20, &|round| Ledger::open_sqlite(&dir.join(format!("{round}.sqlite"))));
}

#[test]
fn orphaned_entries_are_maybe_billed_at_once_and_settle_by_hand() {
    let (path, _) = fresh("orphans");
    behaviour::orphans_and_settlement(&|| Ledger::open_sqlite(&path).unwrap());
}

#[test]
fn accounts_on_one_ledger_never_see_each_others_entries() {
    behaviour::accounts_kept_apart(&fresh("accounts").1);
}

#[test]
fn budget_across_connections() {
    let (path, _) = fresh("budget");
    behaviour::budget_across_connections(&|| Ledger::open_sqlite(&path).unwrap());
}

/// The file, its WAL and its shared memory hold no name, ID number (UTF-8 or GBK), mobile,
/// nor the API key: only keyed hashes and masked forms.
#[test]
fn no_personal_data_in_the_files() {
    let (path, ledger) = fresh("private");
    let people: Vec<_> = (0..50).map(check).collect();
    for n in 0..50 {
        let juhe_ledger::Admission::Send(entry) =
            ledger.begin(&secret(), &intent(n, "juhe"), &Policy::record_only()).unwrap()
        else {
            panic!("not sent")
        };
        ledger.finish(entry, &billed(&format!("JH{n}"))).unwrap();
    }
    let files: Vec<Vec<u8>> = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::read(format!("{}{suffix}", path.display())).ok())
        .collect();
    assert!(files.len() >= 2, "the database and its WAL");
    let mut needles: Vec<Vec<u8>> = vec![API_KEY.as_bytes().to_vec(), "张三".as_bytes().to_vec()];
    needles.push(encoding_rs::GBK.encode("张三").0.into_owned());
    for person in &people {
        needles.push(person.idcard.as_str().as_bytes().to_vec());
        needles.push(encoding_rs::GBK.encode(person.idcard.as_str()).0.into_owned());
        needles.push(person.mobile.as_str().as_bytes().to_vec());
    }
    let needles: Vec<&[u8]> = needles.iter().map(Vec::as_slice).collect();
    for file in &files {
        let found = bytes::found(file, &needles);
        assert!(found.is_empty(), "found {found:?}");
    }
    assert!(files.iter().any(|f| bytes::contains(f, "张*".as_bytes())), "the masked forms are there");
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("modes").join("new").join("dirs");
    let path = dir.join("ledger.sqlite");
    let ledger = Ledger::open_sqlite(&path).unwrap();
    ledger.begin(&secret(), &intent(1, "juhe"), &Policy::record_only()).unwrap();
    for file in [path.clone(), PathBuf::from(format!("{}-wal", path.display()))] {
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            file.display()
        );
    }
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
}

fn refused_unchanged(path: &Path) -> LedgerError {
    let before = std::fs::read(path).unwrap();
    let error = Ledger::open_sqlite(path).unwrap_err();
    assert_eq!(std::fs::read(path).unwrap(), before, "the file was changed");
    assert!(!Path::new(&format!("{}-wal", path.display())).exists(), "a WAL was made beside it");
    error
}

#[test]
fn garbage_is_refused_and_left_unchanged() {
    let path = temp_dir("garbage").join("ledger.sqlite");
    std::fs::write(&path, b"this is not a database, it is a grocery list: eggs, milk\n".repeat(100)).unwrap();
    let error = refused_unchanged(&path);
    assert!(matches!(error, LedgerError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("left unchanged"), "{error}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
}

#[test]
fn another_programs_database_is_refused() {
    let path = temp_dir("foreign").join("app.sqlite");
    let other = foreign_database(&path);
    let error = refused_unchanged(&other);
    assert!(error.to_string().contains("another program"), "{error}");
}

/// A SQLite database with tables but another program's application id: a ledger file whose
/// header (offset 68) names someone else.
fn foreign_database(path: &Path) -> PathBuf {
    let ledger_path = path.with_extension("ledger");
    drop(Ledger::open_sqlite(&ledger_path).unwrap());
    let mut bytes = std::fs::read(&ledger_path).unwrap();
    // The header's application id lives at offset 68 (big-endian u32).
    bytes[68..72].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let path = temp_dir("newer").join("ledger.sqlite");
    drop(Ledger::open_sqlite(&path).unwrap());
    let _ = std::fs::remove_file(format!("{}-wal", path.display()));
    let _ = std::fs::remove_file(format!("{}-shm", path.display()));
    let mut bytes = std::fs::read(&path).unwrap();
    // The header's user version (the schema version) lives at offset 60.
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let error = refused_unchanged(&path);
    assert!(matches!(error, LedgerError::NewerSchema { found: 99, .. }), "{error:?}");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_hanging() {
    let path = temp_dir("fifo").join("ledger.sqlite");
    assert!(std::process::Command::new("mkfifo").arg(&path).status().unwrap().success());
    let error = Ledger::open_sqlite(&path).unwrap_err();
    assert!(error.to_string().contains("not a regular file"), "{error}");
}

#[test]
fn a_secret_other_than_the_key_gives_other_subjects() {
    let (_, ledger) = fresh("secret");
    let other = LedgerSecret::from_secret("a different ledger secret", API_KEY).unwrap();
    let policy = Policy::record_only().reuse_within(std::time::Duration::from_secs(60));
    let juhe_ledger::Admission::Send(entry) = ledger.begin(&secret(), &intent(1, "juhe"), &policy).unwrap()
    else {
        panic!()
    };
    ledger.finish(entry, &billed("JH")).unwrap();
    let mut under_other = intent(1, "juhe");
    under_other.subject = juhe_proto::Subject::of(&check(1), other.subject_key());
    assert!(matches!(ledger.begin(&other, &under_other, &policy).unwrap(), juhe_ledger::Admission::Send(_)));
}

/// Reading the ledger (opening it, a report, the unanswered entries) never waits for another
/// process's write transaction: WAL lets readers through, and opening a ledger that needs no
/// migration takes no write lock.
#[test]
fn reports_do_not_wait_for_a_writer() {
    let (path, ledger) = fresh("readers");
    drop(ledger);
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE; DELETE FROM juhe_ledger_spend;").unwrap();
    let started = std::time::Instant::now();
    let reader = Ledger::open_sqlite(&path).unwrap();
    reader.report(juhe_ledger::Span::all(), juhe_ledger::Grouping::Day).unwrap();
    assert!(reader.unanswered().unwrap().is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "waited {:?}", started.elapsed());
    writer.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn one_pace_across_handles() {
    let (path, _ledger) = fresh("pace");
    behaviour::one_pace_across_handles(&|| Ledger::open_sqlite(&path).unwrap());
}

#[test]
fn live_checks_before_batches() {
    let (path, _ledger) = fresh("live");
    behaviour::live_checks_before_batches(&|| Ledger::open_sqlite(&path).unwrap());
}

#[test]
fn a_refusal_counts_every_handles_answers() {
    let (path, _ledger) = fresh("refusal");
    behaviour::a_refusal_counts_every_handles_answers(&|| Ledger::open_sqlite(&path).unwrap());
}

#[test]
fn forgetting_a_person() {
    behaviour::forgetting(&fresh("forget").1);
}

/// After `forget`, nothing of the person is left in the files (the database, its log, its
/// shared memory): not their masked form, nor their subject hash, which were there before.
#[test]
fn a_forgotten_person_is_gone_from_the_files() {
    let (path, ledger) = fresh("forget-files");
    for n in 0..20 {
        let juhe_ledger::Admission::Send(entry) =
            ledger.begin(&secret(), &intent(n, "juhe"), &Policy::record_only()).unwrap()
        else {
            panic!("not sent")
        };
        ledger.finish(entry, &billed(&format!("JH{n}"))).unwrap();
    }
    let subject = intent(7, "juhe").subject;
    let masked = intent(7, "juhe").masked;
    let files = || -> Vec<Vec<u8>> {
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::read(format!("{}{suffix}", path.display())).ok())
            .collect()
    };
    let needles: Vec<&[u8]> = vec![masked.as_bytes(), subject.as_bytes()];
    assert!(files().iter().any(|f| !bytes::found(f, &needles).is_empty()), "there before");
    let receipt =
        ledger.forget(&secret(), &behaviour::person(7), juhe_proto::CivilDate::new(2026, 12, 1).unwrap());
    assert_eq!(receipt.unwrap().entries, 1);
    for (file, name) in files().iter().zip(["database", "log", "shared memory"]) {
        let found = bytes::found(file, &needles);
        assert!(found.is_empty(), "found in the {name} ({} bytes): {found:?}", file.len());
    }
    let other = intent(8, "juhe").masked;
    assert!(files().iter().any(|f| bytes::contains(f, other.as_bytes())), "others stay");
}

#[test]
fn secret_rotation() {
    behaviour::secret_rotation(&fresh("rotation").1);
}

#[test]
fn retention_on_two_clocks() {
    let (path, _first) = fresh("retention");
    behaviour::retention(&|| Ledger::open_sqlite(&path).unwrap());
}

/// Past the personal period nothing of the people is left in the files (the database, its
/// log, its shared memory): no masked form nor subject hash, though each row was written
/// twice (pending, then answered); the billing facts stay.
#[test]
fn expired_personal_fields_are_gone_from_the_files() {
    let (path, ledger) = fresh("retention-files");
    let day = Duration::from_secs(86_400);
    ledger.set_retention(juhe_ledger::Retention::new(day * 30, day * 365).unwrap()).unwrap();
    for n in 0..20 {
        let juhe_ledger::Admission::Send(entry) =
            ledger.begin(&secret(), &intent(n, "juhe"), &Policy::record_only()).unwrap()
        else {
            panic!("not sent")
        };
        ledger.finish(entry, &billed(&format!("JH{n}"))).unwrap();
    }
    let files = || -> Vec<Vec<u8>> {
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::read(format!("{}{suffix}", path.display())).ok())
            .collect()
    };
    let people: Vec<_> = (0..20).map(|n| intent(n, "juhe")).collect();
    let needles: Vec<&[u8]> =
        people.iter().flat_map(|i| [i.masked.as_bytes(), i.subject.as_bytes()]).collect();
    assert_eq!(bytes::found(&files().concat(), &needles).len(), needles.len(), "all there before");
    let pass = ledger.expire(std::time::SystemTime::now() + day * 31).unwrap();
    assert_eq!(pass.cleared, 20);
    // And the fields themselves, never stored: names, ID numbers and mobiles, UTF-8 and GBK.
    let fields: Vec<Vec<u8>> = (0..20)
        .map(check)
        .flat_map(|c| {
            [c.name.as_str().to_owned(), c.idcard.as_str().to_owned(), c.mobile.as_str().to_owned()]
        })
        .flat_map(|text| [text.as_bytes().to_vec(), encoding_rs::GBK.encode(&text).0.into_owned()])
        .collect();
    let needles: Vec<&[u8]> = needles.into_iter().chain(fields.iter().map(Vec::as_slice)).collect();
    for (file, name) in files().iter().zip(["database", "log", "shared memory"]) {
        let found = bytes::found(file, &needles);
        assert!(found.is_empty(), "found in the {name} ({} bytes): {found:?}", file.len());
    }
    assert!(files().iter().any(|f| bytes::contains(f, b"JH17")), "the billing facts stay");
}

#[test]
fn team_budgets_hold_per_team_under_the_accounts() {
    behaviour::team_budgets(&fresh("team-budgets").1);
}

#[test]
fn uncapped_checks_count_toward_later_caps() {
    behaviour::uncapped_checks_count_toward_later_caps(&fresh("uncapped-count").1);
}

#[test]
fn teams_share_answers_unless_kept_apart() {
    behaviour::teams_share_answers_unless_apart(&fresh("teams-apart").1);
}

#[test]
fn team_keys_change_one_at_a_time_and_are_logged() {
    behaviour::team_keys(&fresh("team-keys").1);
}

/// Commits only append to the write-ahead log; the handle's own thread copies it back into the
/// database file soon after (no commit pays for that disk work), without closing anything.
#[test]
fn the_log_is_copied_back_off_the_commit_path() {
    let (path, ledger) = fresh("checkpoint");
    let secret = secret();
    let intent = intent(77, "juhe");
    let masked = intent.masked.clone().into_bytes();
    assert!(matches!(ledger.begin(&secret, &intent, &Policy::record_only()).unwrap(), Admission::Send(_)));
    let started = std::time::Instant::now();
    while !bytes::contains(&std::fs::read(&path).unwrap(), &masked) {
        assert!(started.elapsed() < Duration::from_secs(5), "the entry never reached the database file");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(path.with_extension("sqlite-wal").exists(), "the log stays: the handle is open");
}

/// Writers that never pause (a batch against a fast server) still have the log start over.
/// SQLite restarts the log only when a write begins with all of it copied back, which the
/// periodic copy never sees while frames keep coming behind it: the log then grew by every
/// page of every check (711 MB over 20,000 checks of a batch). The log
/// file's header counts its restarts (its checkpoint sequence number, bytes 12..16 in SQLite's
/// file format); three must come long before the checks written could fill it.
#[test]
fn the_log_starts_over_while_checks_never_pause() {
    let (path, ledger) = fresh("log-restarts");
    let wal = path.with_extension("sqlite-wal");
    let restarts = || log_restarts(&wal);
    let (secret, done) = (secret(), std::sync::atomic::AtomicBool::new(false));
    let checks = std::sync::atomic::AtomicU32::new(0);
    let mut largest = 0;
    std::thread::scope(|s| {
        // Four writers keep the connection busy: one always waits for it.
        for _ in 0..4 {
            s.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let admission = ledger.begin(&secret, &intent(n % 1000, "juhe"), &Policy::record_only());
                    let Ok(Admission::Send(entry)) = admission else { panic!("not sent: {admission:?}") };
                    ledger.finish(entry, &billed("JH1")).unwrap();
                }
            });
        }
        let _stop = StopOnDrop(&done);
        while restarts() < 3 {
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            // About 36 KB of log a check: 40,000 fill 1.4 GB.
            let written = checks.load(std::sync::atomic::Ordering::Relaxed);
            assert!(written < 40_000, "the log never started over: {largest} bytes after {written} checks");
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    // A restart comes once the log is past 16 MiB, within a period (100 ms) of checks.
    assert!(largest < 256 << 20, "the log reached {largest} bytes");
}

/// A reader of another process on an old snapshot (a long report) holds the log's restart
/// off, and no check waits for it: the writer's attempt gives up at once, and the log starts
/// over once the reader is gone.
#[test]
fn a_reader_on_an_old_snapshot_holds_the_restart_off_not_the_checks() {
    let (path, ledger) = fresh("log-reader");
    let wal = path.with_extension("sqlite-wal");
    let restarts = || log_restarts(&wal);
    let secret = secret();
    let mut slowest = Duration::ZERO;
    let mut check = |n: u32| {
        let started = std::time::Instant::now();
        let admission = ledger.begin(&secret, &intent(n % 1000, "juhe"), &Policy::record_only());
        let Ok(Admission::Send(entry)) = admission else { panic!("not sent: {admission:?}") };
        ledger.finish(entry, &billed("JH1")).unwrap();
        slowest = slowest.max(started.elapsed());
    };
    check(0);
    let reader = rusqlite::Connection::open(&path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader.query_row("SELECT count(*) FROM juhe_ledger_entries", [], |r| r.get(0)).unwrap();
    let before = restarts();
    // About 36 KB of log a check: the log passes 16 MiB many times over, and the
    // checkpointer asks for restarts the reader holds off.
    for n in 1..1500 {
        check(n);
    }
    assert_eq!(restarts(), before, "the log cannot start over under a reader");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    let mut n = 1500;
    while restarts() == before {
        check(n);
        n += 1;
        assert!(n < 40_000, "the log never started over once the reader was gone");
    }
    // A check takes a millisecond or so; one that waited for the reader would take the
    // ledger's lock wait.
    assert!(slowest < Duration::from_secs(1), "a check waited {slowest:?}");
}

/// How many times the log at `wal` has started over: its header's checkpoint sequence number
/// (bytes 12..16, big-endian, in SQLite's file format); 0 before there is a log.
fn log_restarts(wal: &Path) -> u32 {
    let header = std::fs::read(wal).ok().and_then(|b| b.get(12..16).map(<[u8]>::to_vec));
    header.map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap()))
}

/// Sets the flag when dropped: the writers stop even when an assertion fails.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn purposes_keep_answers_apart() {
    behaviour::purposes_keep_answers_apart(&fresh("purposes").1);
}

#[test]
fn erasures_leave_a_receipt_in_an_append_only_log() {
    let (path, ledger) = fresh("receipts");
    behaviour::erasures_leave_a_receipt(&ledger);
    let raw = rusqlite::Connection::open(&path).unwrap();
    for sql in ["UPDATE juhe_ledger_admin_log SET detail = 'x'", "DELETE FROM juhe_ledger_admin_log"] {
        let refused = raw.execute(sql, []).unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{sql}: {refused}");
    }
}
