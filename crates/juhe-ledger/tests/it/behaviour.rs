//! What every backend does alike. Each function takes a way to open the same ledger again
//! (as another process would) and checks one behaviour.

use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use juhe_ledger::{
    Admission, EntryId, Grouping, Intent, Ledger, LedgerError, LedgerSecret, Period, Policy, Reconciliation,
    Settlement, Settler, Span, Start, StartRequest, State,
};
use juhe_proto::{CivilDate, Mode, Subject, Telecom3Check, Verdict, masking};
use serde_json::json;

pub(crate) const API_KEY: &str = "0123456789abcdef0123456789abcdef";

pub(crate) fn secret() -> LedgerSecret {
    LedgerSecret::from_api_key(API_KEY)
}

pub(crate) fn check(n: u32) -> Telecom3Check {
    let today = CivilDate::new(2026, 12, 1).unwrap();
    let idcard = juhe_test_id(n);
    Telecom3Check::new_on("张三", &idcard, &format!("139{:08}", n), today).unwrap()
}

/// A valid ID number per `n`: 110105 + a birth date + a sequence, with its check digit.
pub(crate) fn juhe_test_id(n: u32) -> String {
    let body = format!("1101051949{:02}{:02}{:03}", n % 12 + 1, n % 28 + 1, n % 1000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(weights).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let digit = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{digit}")
}

pub(crate) fn intent(n: u32, target: &str) -> Intent {
    let check = check(n);
    Intent {
        subject: Subject::of(&check, secret().subject_key()),
        product: Telecom3Check::PRODUCT,
        mode: Mode::Aes,
        target: target.into(),
        masked: masking::mask_check(&check),
        deadline: Duration::from_secs(30),
        team: None,
        purpose: None,
        previous_subject: None,
    }
}

pub(crate) fn billed(order: &str) -> Settlement {
    let result = json!({"res": 1, "rescode": "11", "type": "移动", "orderid": order});
    Settlement::billed(
        1,
        Verdict::Match,
        Some(order.into()),
        "成功".into(),
        result.as_object().unwrap().clone(),
    )
}

fn sent(admission: Admission) -> juhe_ledger::EntryId {
    match admission {
        Admission::Send(entry) => entry,
        other => panic!("expected to send, got {other:?}"),
    }
}

fn reuse() -> Policy {
    Policy::record_only().reuse_within(Duration::from_secs(3600))
}

/// Pending before, settled after; reports count pending as maybe billed.
pub(crate) fn journal(ledger: &Ledger) {
    let secret = secret();
    let first = sent(ledger.begin(&secret, &intent(1, "juhe"), &Policy::record_only()).unwrap());
    let second = sent(ledger.begin(&secret, &intent(2, "juhe"), &Policy::record_only()).unwrap());
    let third = sent(ledger.begin(&secret, &intent(3, "juhe"), &Policy::record_only()).unwrap());
    let unanswered = ledger.unanswered().unwrap();
    assert_eq!(unanswered.iter().map(|e| e.id).collect::<Vec<_>>(), [first, second, third]);
    assert_eq!(unanswered[0].masked, format!("张* {} 139****0001", masking::mask_idcard(&juhe_test_id(1))));
    ledger.finish(first, &billed("JH1")).unwrap();
    ledger.finish(second, &Settlement::new(State::NotBilled, 1).with_code(Some(220803), None)).unwrap();
    // Settling twice changes nothing: the first outcome stands.
    ledger.finish(first, &Settlement::new(State::NotBilled, 1)).unwrap();
    let report = ledger.report(Span::all(), Grouping::Product).unwrap();
    assert_eq!(
        (report.total.billed, report.total.not_billed, report.total.maybe_billed, report.total.pending),
        (1, 1, 1, 1)
    );
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.groups[0].0, "telecom3");
    assert_eq!(ledger.unanswered().unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [third]);
    let mut exported = Vec::new();
    ledger
        .entries(Span::all(), &mut |e| {
            exported.push(e);
            true
        })
        .unwrap();
    assert_eq!(exported.len(), 3);
    assert_eq!(exported[0].order_id.as_deref(), Some("JH1"));
    assert_eq!(exported[0].verdict.as_deref(), Some("match"));
    assert_eq!(exported[1].error_code, Some(220803));
    let by_day = ledger.report(Span::all(), Grouping::Day).unwrap();
    let today = juhe_ledger::china_timestamp(std::time::SystemTime::now())[..10].to_owned();
    assert_eq!(by_day.groups[0].0, today);
    assert_eq!(ledger.prune(std::time::SystemTime::now() + Duration::from_secs(1)).unwrap(), 3);
    assert_eq!(ledger.report(Span::all(), Grouping::Total).unwrap().total.billed, 0);
}

/// A billed, documented answer is reused within the window and for the same target only.
pub(crate) fn reuse_of_billed_answers(ledger: &Ledger) {
    let secret = secret();
    let entry = sent(ledger.begin(&secret, &intent(10, "juhe"), &reuse()).unwrap());
    ledger.finish(entry, &billed("JH10")).unwrap();
    match ledger.begin(&secret, &intent(10, "juhe"), &reuse()).unwrap() {
        Admission::Reuse(recorded) => {
            assert_eq!(recorded.entry, entry);
            assert_eq!(recorded.order_id.as_deref(), Some("JH10"));
            assert_eq!(recorded.result["rescode"], "11");
        }
        other => panic!("expected reuse, got {other:?}"),
    }
    sent(ledger.begin(&secret, &intent(10, "sandbox"), &reuse()).unwrap()); // another target
    let again = sent(ledger.begin(&secret, &intent(10, "juhe"), &Policy::record_only()).unwrap()); // reuse off
    ledger.finish(again, &Settlement::new(State::NotBilled, 1)).unwrap();

    // An error answer is never reused: the next check is sent.
    let entry = sent(ledger.begin(&secret, &intent(11, "juhe"), &reuse()).unwrap());
    ledger.finish(entry, &Settlement::new(State::NotBilled, 1).with_code(Some(10012), None)).unwrap();
    sent(ledger.begin(&secret, &intent(11, "juhe"), &reuse()).unwrap());
}

/// With reuse on, a check of a question in flight waits; one that was sent and never answered
/// stops the next.
pub(crate) fn single_flight_and_unanswered(ledger: &Ledger) {
    let secret = secret();
    let entry = sent(ledger.begin(&secret, &intent(20, "juhe"), &reuse()).unwrap());
    assert!(matches!(ledger.begin(&secret, &intent(20, "juhe"), &reuse()).unwrap(), Admission::Wait { .. }));
    ledger.finish(entry, &Settlement::new(State::MaybeBilled, 1)).unwrap();
    match ledger.begin(&secret, &intent(20, "juhe"), &reuse()).unwrap() {
        Admission::MaybeBilled(recorded) => assert_eq!(recorded.entry, entry),
        other => panic!("expected maybe billed, got {other:?}"),
    }
    // An entry whose deadline passed with no outcome (its process died) is not waited for.
    let mut abandoned = intent(21, "juhe");
    abandoned.deadline = Duration::ZERO;
    let entry = sent(ledger.begin(&secret, &abandoned, &reuse()).unwrap());
    match ledger.begin(&secret, &intent(21, "juhe"), &reuse()).unwrap() {
        Admission::MaybeBilled(recorded) => {
            assert_eq!((recorded.entry, recorded.state), (entry, State::Pending))
        }
        other => panic!("expected maybe billed, got {other:?}"),
    }
    // Asked to, it sends again anyway (the user pays again on purpose).
    sent(ledger.begin(&secret, &intent(21, "juhe"), &reuse().resend_maybe_billed()).unwrap());
}

/// Many threads on as many connections (as processes would be), one question: exactly one
/// sends; the rest wait, then reuse. Each handle lives on, as a process sending would.
pub(crate) fn one_sender_among_many(open: &(dyn Fn() -> Ledger + Sync)) {
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let (_handles, admissions): (Vec<Ledger>, Vec<Admission>) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = barrier.clone();
                let ledger = open();
                scope.spawn(move || {
                    barrier.wait();
                    let admission = ledger.begin(&secret(), &intent(30, "juhe"), &reuse()).unwrap();
                    (ledger, admission)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).unzip()
    });
    let senders: Vec<_> =
        admissions.iter().filter_map(|a| if let Admission::Send(e) = a { Some(*e) } else { None }).collect();
    assert_eq!(senders.len(), 1, "{admissions:?}");
    assert!(admissions.iter().all(|a| matches!(a, Admission::Send(_) | Admission::Wait { .. })));
    open().finish(senders[0], &billed("JH30")).unwrap();
    assert!(matches!(open().begin(&secret(), &intent(30, "juhe"), &reuse()).unwrap(), Admission::Reuse(_)));
}

/// A daily cap of `cap` holds across connections racing for it; a check that ends not billed
/// gives its share back.
pub(crate) fn budget_across_connections(open: &(dyn Fn() -> Ledger + Sync)) {
    let cap = 5;
    let policy = Policy::record_only().max_billed_per_day(cap).max_billed_per_month(1000);
    let threads = 12;
    let barrier = Arc::new(Barrier::new(threads));
    let admissions: Vec<Admission> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let barrier = barrier.clone();
                let ledger = open();
                scope.spawn(move || {
                    barrier.wait();
                    ledger.begin(&secret(), &intent(100 + i as u32, "juhe"), &policy).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sent: Vec<_> =
        admissions.iter().filter_map(|a| if let Admission::Send(e) = a { Some(*e) } else { None }).collect();
    assert_eq!(sent.len() as u64, cap, "{admissions:?}");
    assert!(admissions.iter().any(|a| matches!(a, Admission::OverBudget { period: Period::Day, cap: 5 })));
    let ledger = open();
    ledger.finish(sent[0], &Settlement::new(State::NotBilled, 1)).unwrap();
    let again = ledger.begin(&secret(), &intent(200, "juhe"), &policy).unwrap();
    assert!(matches!(again, Admission::Send(_)), "{again:?}");
    assert!(matches!(
        ledger.begin(&secret(), &intent(201, "juhe"), &policy).unwrap(),
        Admission::OverBudget { .. }
    ));
    let month = Policy::record_only().max_billed_per_month(cap);
    assert!(matches!(
        ledger.begin(&secret(), &intent(202, "juhe"), &month).unwrap(),
        Admission::OverBudget { period: Period::Month, .. }
    ));
    let zero = Policy::record_only().max_billed_per_day(0);
    assert!(matches!(
        ledger.begin(&secret(), &intent(203, "other"), &zero).unwrap(),
        Admission::OverBudget { .. }
    ));
}

/// Eight connections released together onto a new ledger (`open(round)`), `rounds` times:
/// each opens it, whichever creates and migrates it.
pub(crate) fn opened_together(rounds: usize, open: &(dyn Fn(usize) -> Result<Ledger, LedgerError> + Sync)) {
    const OPENERS: usize = 8;
    for round in 0..rounds {
        let start = Barrier::new(OPENERS);
        std::thread::scope(|s| {
            let openers: Vec<_> = (0..OPENERS)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        open(round).map(drop)
                    })
                })
                .collect();
            for opener in openers {
                if let Err(error) = opener.join().unwrap() {
                    panic!("round {round}: {error}");
                }
            }
        });
    }
}

/// Asks until `decided` says the answer is final, for at most `within`; returns it.
fn admission_within(ledger: &Ledger, intent: &Intent, policy: &Policy, within: Duration) -> Admission {
    let start = std::time::Instant::now();
    loop {
        let admission = ledger.begin(&secret(), intent, policy).unwrap();
        if !matches!(admission, Admission::Wait { .. }) || start.elapsed() > within {
            return admission;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn settler() -> Settler {
    Settler { user: "finance".into(), host: "books".into() }
}

/// A pending entry is waited for while its sender lives, and is maybe billed within 5 s of its
/// sender's end (here: the handle dropped, its lock released as a dying process's is), long
/// before its deadline. Settling it is refused while its sender lives, recorded once after, and
/// settled not billed frees the question and its share of the budget.
pub(crate) fn orphans_and_settlement(open: &(dyn Fn() -> Ledger + Sync)) {
    let (sender, asker) = (open(), open());
    let policy = reuse().max_billed_per_day(2);
    let orphan = sent(sender.begin(&secret(), &intent(40, "juhe"), &policy).unwrap());
    assert!(matches!(asker.begin(&secret(), &intent(40, "juhe"), &policy).unwrap(), Admission::Wait { .. }));
    let refused = asker.settle(orphan, &Reconciliation::NotBilled, &settler()).unwrap_err();
    assert!(matches!(refused, LedgerError::InFlight { .. }), "{refused:?}");
    assert!(refused.to_string().contains("still in flight"), "{refused}");
    let counts = asker.report(Span::all(), Grouping::Total).unwrap().total;
    assert_eq!((counts.pending, counts.in_flight), (1, 1));
    assert!(asker.unanswered().unwrap().iter().all(|e| e.in_flight));

    drop(sender);
    let started = std::time::Instant::now();
    match admission_within(&asker, &intent(40, "juhe"), &policy, Duration::from_secs(5)) {
        Admission::MaybeBilled(recorded) => {
            assert_eq!((recorded.entry, recorded.state), (orphan, State::Pending))
        }
        other => panic!("expected maybe billed within 5 s of the sender's end, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "the 30 s deadline was not waited for");
    let counts = asker.report(Span::all(), Grouping::Total).unwrap().total;
    assert_eq!((counts.pending, counts.in_flight, counts.maybe_billed), (1, 0, 1));
    assert!(!asker.unanswered().unwrap()[0].in_flight);

    // The budget of 2 a day: the orphan holds one unit, a second check the other.
    let other = sent(asker.begin(&secret(), &intent(41, "juhe"), &policy).unwrap());
    assert!(matches!(
        asker.begin(&secret(), &intent(42, "juhe"), &policy).unwrap(),
        Admission::OverBudget { .. }
    ));
    let settled = asker.settle(orphan, &Reconciliation::NotBilled, &settler()).unwrap();
    assert_eq!((settled.by.as_str(), settled.from), ("finance@books", State::Pending));
    let entry = asker.unanswered().unwrap();
    assert_eq!(entry.iter().map(|e| e.id).collect::<Vec<_>>(), vec![other], "settled: no longer unanswered");
    // Its question is free again, and so is its unit of the budget.
    sent(asker.begin(&secret(), &intent(40, "juhe"), &policy).unwrap());

    let again = asker.settle(orphan, &Reconciliation::NotBilled, &settler()).unwrap_err();
    assert!(matches!(again, LedgerError::Answered { .. }), "{again:?}");
    let missing = asker.settle(EntryId::new(999_999), &Reconciliation::NotBilled, &settler()).unwrap_err();
    assert!(matches!(missing, LedgerError::NoEntry { .. }), "{missing:?}");

    // A timed-out check settled billed: counted billed, never reused (its answer is unknown).
    let timed_out = sent(asker.begin(&secret(), &intent(43, "juhe"), &reuse()).unwrap());
    asker.finish(timed_out, &Settlement::new(State::MaybeBilled, 1)).unwrap();
    let how = Reconciliation::Billed { order_id: Some("JH4300".into()) };
    assert_eq!(asker.settle(timed_out, &how, &settler()).unwrap().from, State::MaybeBilled);
    assert!(matches!(asker.begin(&secret(), &intent(43, "juhe"), &reuse()).unwrap(), Admission::Send(_)));
    let mut found = None;
    asker
        .entries(Span::all(), &mut |e| {
            if e.id == timed_out {
                found = Some(e);
            }
            true
        })
        .unwrap();
    let found = found.unwrap();
    assert_eq!((found.state, found.order_id.as_deref()), (State::Billed, Some("JH4300")));
    let record = found.settled.unwrap();
    assert_eq!((record.by.as_str(), record.from), ("finance@books", State::MaybeBilled));
    let counts = asker.report(Span::all(), Grouping::Total).unwrap().total;
    assert_eq!((counts.billed, counts.not_billed, counts.settled), (1, 1, 2));
}

/// Two API keys on one ledger with one shared secret (the fleet setup): the same person gives
/// the same subject, but an account never reuses, waits for or is stopped by the other's
/// entries, so it learns nothing of whom the other checked.
pub(crate) fn accounts_kept_apart(ledger: &Ledger) {
    let shared = "one fleet-wide ledger secret, 32+";
    let a = LedgerSecret::from_secret(shared, "key of account A").unwrap();
    let b = LedgerSecret::from_secret(shared, "key of account B").unwrap();
    let intent_of = |secret: &LedgerSecret| Intent {
        subject: Subject::of(&check(50), secret.subject_key()),
        ..intent(50, "juhe")
    };
    assert_eq!(intent_of(&a).subject, intent_of(&b).subject, "one person, one subject");
    let in_flight = sent(ledger.begin(&a, &intent_of(&a), &reuse()).unwrap());
    let b_first = sent(ledger.begin(&b, &intent_of(&b), &reuse()).unwrap());
    ledger.finish(in_flight, &billed("JH-A")).unwrap();
    assert!(matches!(ledger.begin(&a, &intent_of(&a), &reuse()).unwrap(), Admission::Reuse(_)));
    ledger.finish(b_first, &Settlement::new(State::MaybeBilled, 1)).unwrap();
    match ledger.begin(&b, &intent_of(&b), &reuse()).unwrap() {
        Admission::MaybeBilled(recorded) => {
            assert_eq!(recorded.entry, b_first, "B's own entry, not A's answer")
        }
        other => panic!("expected B's own maybe billed entry, got {other:?}"),
    }
}

/// The key's pace, shared by handles on one ledger (as processes would share it): starts
/// booked together from eight handles never come closer than the key's interval, whoever won
/// each race; each handle sees the others' bookings.
pub(crate) fn one_pace_across_handles(open: &(dyn Fn() -> Ledger + Sync)) {
    let (threads, each, cap) = (8, 25, 1000.0);
    let barrier = Arc::new(Barrier::new(threads));
    let ask = StartRequest::live(Duration::from_secs(10)).capped(Some(cap));
    let mut starts: Vec<SystemTime> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (barrier, ledger) = (barrier.clone(), open());
                scope.spawn(move || {
                    barrier.wait();
                    (0..each)
                        .map(|_| match ledger.take_start(&secret(), "juhe", &ask).unwrap() {
                            Start::At(at) => at,
                            other => panic!("a live check within 10 s gets a start: {other:?}"),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    starts.sort();
    assert_eq!(starts.len(), threads * each);
    let closest = starts.windows(2).map(|w| w[1].duration_since(w[0]).unwrap()).min().unwrap();
    assert!(closest >= Duration::from_millis(1), "two starts {closest:?} apart at a cap of 1,000 a second");
    // Another account's pace is its own.
    let other = LedgerSecret::from_api_key("another key of another account");
    let fresh = open();
    let now = SystemTime::now();
    match fresh.take_start(&other, "juhe", &ask).unwrap() {
        Start::At(at) => assert!(at <= now + Duration::from_millis(5), "{at:?} is not at once"),
        start => panic!("{start:?}"),
    }
}

/// Live checks before batches: with the key's schedule booked a second ahead, a batch's
/// check is told to ask again (nothing booked), a live check gets the next start, and one
/// that may not wait that long gets none.
pub(crate) fn live_checks_before_batches(open: &(dyn Fn() -> Ledger + Sync)) {
    let (ledger, other) = (open(), open());
    let live = StartRequest::live(Duration::from_secs(5)).capped(Some(10.0));
    for _ in 0..10 {
        assert!(matches!(ledger.take_start(&secret(), "juhe", &live).unwrap(), Start::At(_)));
    }
    let batch = StartRequest::batch().capped(Some(10.0));
    let asked = SystemTime::now();
    let Start::AskAgainAt(again) = other.take_start(&secret(), "juhe", &batch).unwrap() else {
        panic!("a batch's check books no start a second away");
    };
    assert!(again > asked + Duration::from_millis(800), "{:?}", again.duration_since(asked));
    let Start::At(live_start) = other.take_start(&secret(), "juhe", &live).unwrap() else {
        panic!("a live check gets the next start");
    };
    assert!(live_start >= again, "after the ten already booked");
    let hurried = StartRequest::live(Duration::from_millis(100));
    let Start::Full { next } = other.take_start(&secret(), "juhe", &hurried).unwrap() else {
        panic!("no start within 100 ms");
    };
    assert!(next > live_start, "nothing was booked for it: {next:?}");
    assert_eq!(ledger.pace_rate(&secret(), "juhe", None).unwrap(), Some(10.0), "the cap holds for all");
}

/// A refusal sets the key's rate from every handle's answers of the last second.
pub(crate) fn a_refusal_counts_every_handles_answers(open: &(dyn Fn() -> Ledger + Sync)) {
    let handles = [open(), open()];
    for (n, ledger) in (0..40u32).zip(handles.iter().cycle()) {
        let entry = sent(ledger.begin(&secret(), &intent(500 + n, "juhe"), &Policy::record_only()).unwrap());
        ledger.finish(entry, &billed(&format!("JH{n}"))).unwrap();
    }
    let third = open();
    assert_eq!(third.pace_rate(&secret(), "juhe", None).unwrap(), Some(100.0), "the slow start");
    third.rate_limited(&secret(), "juhe", None).unwrap();
    let rate = third.pace_rate(&secret(), "juhe", None).unwrap().unwrap();
    assert!((rate - 40.0 * 0.98).abs() < 1e-9, "{rate}: 40 answers went through in the last second");
    assert_eq!(handles[0].pace_rate(&secret(), "juhe", None).unwrap(), Some(rate), "one rate for all");
    // The key's window is full: the next start waits for it to free.
    let Start::At(at) =
        handles[1].take_start(&secret(), "juhe", &StartRequest::live(Duration::from_secs(5))).unwrap()
    else {
        panic!("a live check gets a start");
    };
    assert!(at > SystemTime::now() + Duration::from_millis(500), "held until the window frees");
}

/// The fields of person `n` of [`check`], as `juhe ledger forget` is given them.
pub(crate) fn person(n: u32) -> juhe_proto::PersonalFields {
    use juhe_proto::Param;
    let check = check(n);
    juhe_proto::PersonalFields::new()
        .with(Param::Realname, check.name.as_str())
        .with(Param::Idcard, check.idcard.as_str())
        .with(Param::Mobile, check.mobile.as_str())
}

/// Forgetting a person: their entries lose the masked form and the subject (no longer
/// reusable, nor found again), everyone else's stay, and the billing facts do not change.
pub(crate) fn forgetting(ledger: &Ledger) {
    let secret = secret();
    for n in 1..=3 {
        let entry = sent(ledger.begin(&secret, &intent(n, "juhe"), &reuse()).unwrap());
        ledger.finish(entry, &billed(&format!("JH{n}"))).unwrap();
    }
    let before = ledger.report(Span::all(), Grouping::Total).unwrap();
    let today = CivilDate::new(2026, 12, 1).unwrap();
    let receipt = ledger.forget(&secret, &person(2), today).unwrap();
    assert_eq!(receipt.entries, 1, "{receipt:?}");
    assert!(receipt.products.contains(&juhe_proto::Product::Telecom3));
    let after = ledger.report(Span::all(), Grouping::Total).unwrap();
    assert_eq!(format!("{before:?}"), format!("{after:?}"), "billing facts unchanged");
    let mut masked = Vec::new();
    ledger
        .entries(Span::all(), &mut |e| {
            masked.push((e.order_id.clone(), e.masked.clone(), e.state));
            true
        })
        .unwrap();
    let forgotten = masked.iter().find(|(order, ..)| order.as_deref() == Some("JH2")).unwrap();
    assert_eq!((forgotten.1.as_str(), forgotten.2), ("", State::Billed));
    assert!(masked.iter().filter(|(_, m, _)| m.contains("139****000")).count() == 2, "{masked:?}");
    // Person 2 is no longer reusable (asked again, it is sent); person 1 still is.
    assert!(matches!(ledger.begin(&secret, &intent(2, "juhe"), &reuse()).unwrap(), Admission::Send(_)));
    assert!(matches!(ledger.begin(&secret, &intent(1, "juhe"), &reuse()).unwrap(), Admission::Reuse(_)));
    // Forgetting again finds nothing; another account's key finds nothing either.
    assert_eq!(ledger.forget(&secret, &person(2), today).unwrap().entries, 1, "the new pending entry");
    let other = LedgerSecret::from_api_key("ffffffffffffffffffffffffffffffff");
    assert_eq!(ledger.forget(&other, &person(1), today).unwrap().entries, 0);
}

fn for_team(n: u32, team: &str) -> Intent {
    let purpose = juhe_ledger::Purpose { label: "onboarding".into(), consent_ref: Some("CR-1".into()) };
    Intent { team: Some(team.into()), purpose: Some(purpose), ..intent(n, "juhe") }
}

/// A team's budget counts its own checks, the account's cap still holds, a check that is not
/// billed gives its share back, and the team and purpose are stored with each entry.
pub(crate) fn team_budgets(ledger: &Ledger) {
    let secret = secret();
    let policy = Policy::record_only().team_max_billed_per_day(2).max_billed_per_day(3);
    let a1 = sent(ledger.begin(&secret, &for_team(1, "a"), &policy).unwrap());
    let _a2 = sent(ledger.begin(&secret, &for_team(2, "a"), &policy).unwrap());
    assert!(matches!(
        ledger.begin(&secret, &for_team(3, "a"), &policy).unwrap(),
        Admission::TeamOverBudget { period: Period::Day, cap: 2 }
    ));
    let _b1 = sent(ledger.begin(&secret, &for_team(4, "b"), &policy).unwrap());
    assert!(
        matches!(
            ledger.begin(&secret, &for_team(5, "b"), &policy).unwrap(),
            Admission::OverBudget { cap: 3, .. }
        ),
        "the account's cap holds over every team"
    );
    ledger.finish(a1, &Settlement::new(State::NotBilled, 1).with_code(Some(10014), None)).unwrap();
    let b2 = ledger.begin(&secret, &for_team(6, "b"), &policy).unwrap();
    assert!(matches!(b2, Admission::Send(_)), "a not-billed check gave the account its share back: {b2:?}");
    assert!(matches!(
        ledger.begin(&secret, &for_team(7, "a"), &policy).unwrap(),
        Admission::OverBudget { .. }
    ));
    let mut entries = Vec::new();
    ledger
        .entries(Span::all(), &mut |e| {
            entries.push(e);
            true
        })
        .unwrap();
    assert_eq!(entries.iter().filter(|e| e.team.as_deref() == Some("a")).count(), 2);
    assert!(entries.iter().all(|e| e.purpose.as_deref() == Some("onboarding")));
    let report = ledger.report(Span::all(), Grouping::Team).unwrap();
    let names: Vec<&str> = report.groups.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

/// Checks nothing could refuse (no reuse window, no cap: one statement on PostgreSQL) are
/// counted as every other: a cap set afterwards counts them, the team's and the account's.
pub(crate) fn uncapped_checks_count_toward_later_caps(ledger: &Ledger) {
    let secret = secret();
    let uncapped = Policy::record_only();
    for n in 0..2 {
        sent(ledger.begin(&secret, &for_team(20 + n, "a"), &uncapped).unwrap());
    }
    sent(ledger.begin(&secret, &intent(22, "juhe"), &uncapped).unwrap());
    let team_cap = Policy::record_only().team_max_billed_per_day(2);
    assert!(matches!(
        ledger.begin(&secret, &for_team(23, "a"), &team_cap).unwrap(),
        Admission::TeamOverBudget { period: Period::Day, cap: 2 }
    ));
    let account_cap = Policy::record_only().max_billed_per_day(4).max_billed_per_month(4);
    sent(ledger.begin(&secret, &for_team(24, "b"), &account_cap).unwrap());
    assert!(
        matches!(
            ledger.begin(&secret, &intent(25, "juhe"), &account_cap).unwrap(),
            Admission::OverBudget { cap: 4, .. }
        ),
        "three uncapped checks and one capped: the account's four"
    );
}

/// One team's billed answer is reused for another, unless the teams are kept apart.
pub(crate) fn teams_share_answers_unless_apart(ledger: &Ledger) {
    let secret = secret();
    let first = sent(ledger.begin(&secret, &for_team(8, "a"), &reuse()).unwrap());
    ledger.finish(first, &billed("JH-TEAM-A")).unwrap();
    match ledger.begin(&secret, &for_team(8, "b"), &reuse()).unwrap() {
        Admission::Reuse(recorded) => assert_eq!(recorded.order_id.as_deref(), Some("JH-TEAM-A")),
        other => panic!("expected team a's answer, got {other:?}"),
    }
    let apart = reuse().teams_apart();
    assert!(matches!(ledger.begin(&secret, &for_team(8, "b"), &apart).unwrap(), Admission::Send(_)));
    assert!(matches!(ledger.begin(&secret, &for_team(8, "a"), &apart).unwrap(), Admission::Reuse(_)));
}

/// Keys: one live key per team, rotation and revocation in one transaction each, every
/// change logged with who made it, and the generation moves with every change.
pub(crate) fn team_keys(ledger: &Ledger) {
    use juhe_ledger::{KeyChange, NewTeamKey};
    let key = |team: &str, byte: u8| NewTeamKey {
        team: team.into(),
        key_hash: [byte; 32],
        sealed: vec![byte; 80],
        rules: r#"{"products":["telecom3"]}"#.into(),
    };
    assert_eq!(ledger.team_keys_generation().unwrap(), 0);
    ledger.change_team_keys(&KeyChange::Add(key("payments", 1)), "alice").unwrap();
    let again = ledger.change_team_keys(&KeyChange::Add(key("payments", 2)), "alice").unwrap_err();
    assert!(again.to_string().contains("already has a key: rotate it"), "{again}");
    let g1 = ledger.team_keys_generation().unwrap();
    ledger.change_team_keys(&KeyChange::Rotate(key("payments", 3)), "bob").unwrap();
    assert!(ledger.team_keys_generation().unwrap() > g1);
    ledger.change_team_keys(&KeyChange::Revoke { team: "payments".into() }, "carol").unwrap();
    let none = ledger.change_team_keys(&KeyChange::Revoke { team: "payments".into() }, "carol").unwrap_err();
    assert!(none.to_string().contains("no live key"), "{none}");
    let keys = ledger.team_keys().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.revoked_at.is_some()));
    assert_eq!(keys[1].key_hash, [3; 32]);
    assert!(!format!("{:?}", keys[0]).contains("[1, 1"), "Debug shows no hash nor sealed secret");
    let log: Vec<(String, String)> =
        ledger.admin_actions().unwrap().into_iter().map(|a| (a.action, a.by)).collect();
    let expected = [("add", "alice"), ("rotate", "bob"), ("revoke", "carol")];
    assert_eq!(log, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
}

/// Reuse answers a check only from checks of the same purpose, unless the policy reuses across
/// purposes; each entry records its purpose, consent and who sent it.
pub(crate) fn purposes_keep_answers_apart(ledger: &Ledger) {
    let secret = secret();
    let with = |label: &str| Intent {
        purpose: Some(juhe_ledger::Purpose {
            label: label.into(),
            consent_ref: Some(format!("{label}-consent")),
        }),
        ..intent(90, "juhe")
    };
    let first = sent(ledger.begin(&secret, &with("onboarding"), &reuse()).unwrap());
    ledger.finish(first, &billed("JH-P")).unwrap();
    assert!(matches!(ledger.begin(&secret, &with("onboarding"), &reuse()).unwrap(), Admission::Reuse(_)));
    let other = ledger.begin(&secret, &with("loan"), &reuse()).unwrap();
    assert!(matches!(other, Admission::Send(_)), "another purpose is asked again: {other:?}");
    let across = reuse().reuse_across_purposes();
    let third = intent(91, "juhe");
    let paid = sent(ledger.begin(&secret, &third, &reuse()).unwrap());
    ledger.finish(paid, &billed("JH-Q")).unwrap();
    assert!(matches!(ledger.begin(&secret, &with("audit"), &across).unwrap(), Admission::Reuse(_)));
    let mut entries = Vec::new();
    ledger
        .entries(Span::all(), &mut |e| {
            entries.push(e);
            true
        })
        .unwrap();
    let first = entries.iter().find(|e| e.id == first).unwrap();
    assert_eq!(
        (first.purpose.as_deref(), first.consent_ref.as_deref()),
        (Some("onboarding"), Some("onboarding-consent"))
    );
    let actor = first.actor.as_ref().unwrap();
    assert_eq!(actor.pid, std::process::id());
    assert!(!actor.user.is_empty() && !actor.host.is_empty());
}

/// An erasure's receipt is in the admin log, with its counts and no personal data.
pub(crate) fn erasures_leave_a_receipt(ledger: &Ledger) {
    let secret = secret();
    let entry = sent(ledger.begin(&secret, &intent(95, "juhe"), &Policy::record_only()).unwrap());
    ledger.finish(entry, &billed("JH-F")).unwrap();
    let check = check(95);
    let mut fields = juhe_proto::PersonalFields::new();
    fields.insert(juhe_proto::Param::Realname, "张三");
    fields.insert(juhe_proto::Param::Idcard, juhe_test_id(95));
    fields.insert(juhe_proto::Param::Mobile, check.mobile.as_str());
    let today = CivilDate::new(2026, 12, 1).unwrap();
    let forgotten = ledger.forget(&secret, &fields, today).unwrap();
    assert_eq!(forgotten.entries, 1);
    let log = ledger.admin_actions().unwrap();
    let receipt = log.iter().find(|a| a.action == "forget").unwrap();
    assert!(receipt.detail.starts_with("1 entries of "), "{receipt:?}");
    assert!(!receipt.detail.contains(&juhe_test_id(95)));
    assert_eq!(receipt.at, forgotten.at);
}

/// Answers reused are counted (what reuse saved): by `begin` and by `reusable`, on any
/// handle, written within about a second, or when the handle closes; the sandbox's apart; by day.
pub(crate) fn reuse_is_counted(open: &dyn Fn() -> Ledger) {
    let secret = secret();
    let ledger = open();
    for target in ["juhe", juhe_ledger::SANDBOX_TARGET] {
        let entry = sent(ledger.begin(&secret, &intent(30, target), &reuse()).unwrap());
        ledger.finish(entry, &billed("JH30")).unwrap();
    }
    for _ in 0..3 {
        assert!(matches!(ledger.begin(&secret, &intent(30, "juhe"), &reuse()).unwrap(), Admission::Reuse(_)));
    }
    {
        // Another process: its counts reach the database when it closes.
        let other = open();
        for _ in 0..2 {
            assert!(other.reusable(&secret, &intent(30, "juhe"), &reuse()).unwrap().is_some());
        }
        assert!(other.reusable(&secret, &intent(31, "juhe"), &reuse()).unwrap().is_none());
        assert!(matches!(
            other.begin(&secret, &intent(30, juhe_ledger::SANDBOX_TARGET), &reuse()).unwrap(),
            Admission::Reuse(_)
        ));
    }
    // A handle that stays open (a gateway, a service) writes its counts within about a
    // second, with no reuse after them to carry them.
    let reader = open();
    let waited = std::time::Instant::now();
    while reader.report(Span::all(), Grouping::Total).unwrap().total.reused < 5 {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the open handle's counts never reached the database"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(ledger);
    let report = open().report(Span::all(), Grouping::Product).unwrap();
    assert_eq!((report.total.billed, report.total.reused), (1, 5), "{report:?}");
    assert_eq!(report.groups, vec![("telecom3".to_owned(), report.total)]);
    assert_eq!((report.sandbox.billed, report.sandbox.reused), (1, 1));
    let today = CivilDate::today_in_china();
    let yesterday = CivilDate::from_unix_days(today.to_unix_days() - 1);
    let by_day = open().report(Span::new(Some(today), Some(today)), Grouping::Day).unwrap();
    assert_eq!(by_day.groups.len(), 1);
    assert_eq!(by_day.groups[0].1.reused, 5);
    let before = open().report(Span::new(None, Some(yesterday)), Grouping::Day).unwrap();
    assert_eq!(before.total.reused, 0);
}

/// Retention on two clocks, on a scripted clock: personal fields go after the personal
/// period (billing totals unchanged, no longer reusable), entries after the billing period;
/// a dry run changes nothing; passes are logged; every handle reads the ledger's periods.
pub(crate) fn retention(open: &dyn Fn() -> Ledger) {
    let day = Duration::from_secs(86_400);
    let ledger = open();
    assert_eq!(ledger.retention().unwrap(), juhe_ledger::Retention::default());
    ledger.set_retention(juhe_ledger::Retention::new(day * 30, day * 90).unwrap()).unwrap();
    assert_eq!(open().retention().unwrap().personal, day * 30, "the ledger's own, for every handle");
    let secret = secret();
    for n in 40..50 {
        let entry = sent(ledger.begin(&secret, &intent(n, "juhe"), &reuse()).unwrap());
        ledger.finish(entry, &billed(&format!("JH{n}"))).unwrap();
    }
    let now = SystemTime::now();
    let before = ledger.report(Span::all(), Grouping::Total).unwrap();
    assert_eq!(ledger.expiring(now + day * 29).unwrap().cleared, 0);
    let dry = ledger.expiring(now + day * 31).unwrap();
    assert_eq!((dry.cleared, dry.deleted), (10, 0));
    assert!(
        matches!(ledger.begin(&secret, &intent(41, "juhe"), &reuse()).unwrap(), Admission::Reuse(_)),
        "dry"
    );

    let pass = ledger.expire(now + day * 31).unwrap();
    assert_eq!((pass.cleared, pass.deleted), (10, 0));
    let after = ledger.report(Span::all(), Grouping::Total).unwrap();
    assert_eq!((after.total.billed, after.total.not_billed), (before.total.billed, before.total.not_billed));
    let mut entries = Vec::new();
    ledger
        .entries(Span::all(), &mut |e| {
            entries.push(e);
            true
        })
        .unwrap();
    assert!(entries.iter().all(|e| e.masked.is_empty() && e.order_id.is_some()), "{entries:?}");
    assert!(
        matches!(ledger.begin(&secret, &intent(41, "juhe"), &reuse()).unwrap(), Admission::Send(_)),
        "an expired answer is not reused: the person is checked again"
    );
    assert_eq!(ledger.expire(now + day * 31).unwrap().cleared, 1, "only the check sent since");
    let log = ledger.admin_actions().unwrap();
    assert!(log.iter().any(|a| a.action == "retention" && a.detail.contains("30 days")), "{log:?}");
    assert!(log.iter().any(|a| a.action == "expire" && a.detail.contains("of 10 entries")), "{log:?}");

    let gone = ledger.expire(now + day * 91).unwrap();
    assert_eq!(gone.deleted, 11, "the ten and the new check");
    assert_eq!(ledger.report(Span::all(), Grouping::Total).unwrap().total, juhe_ledger::Counts::default());
}

/// A secret rotated with its predecessor kept: entries hashed under the old one are reused,
/// waited for and forgotten; each entry records its version; once the old one is dropped
/// they are never linked to the person again (erasure by key destruction).
pub(crate) fn secret_rotation(ledger: &Ledger) {
    let old = LedgerSecret::from_secret("the ledger secret of 2026, old one", API_KEY).unwrap();
    let new = LedgerSecret::from_secret("the ledger secret of 2027, new one", API_KEY).unwrap();
    let rotated = new.clone().with_previous(old.clone()).unwrap();
    let under = |secret: &LedgerSecret, n: u32| Intent {
        subject: Subject::of(&check(n), secret.subject_key()),
        previous_subject: secret.previous().map(|p| Subject::of(&check(n), p.subject_key())),
        ..intent(n, "juhe")
    };
    let first = sent(ledger.begin(&old, &under(&old, 70), &reuse()).unwrap());
    ledger.finish(first, &billed("JH70")).unwrap();
    match ledger.begin(&rotated, &under(&rotated, 70), &reuse()).unwrap() {
        Admission::Reuse(recorded) => assert_eq!(recorded.order_id.as_deref(), Some("JH70")),
        other => panic!("checked before the rotation, reused after it: {other:?}"),
    }
    // A process still on the old secret has a check in flight: the rotated one waits for it.
    let in_flight = sent(ledger.begin(&old, &under(&old, 71), &reuse()).unwrap());
    assert!(matches!(
        ledger.begin(&rotated, &under(&rotated, 71), &reuse()).unwrap(),
        Admission::Wait { .. }
    ));
    ledger.finish(in_flight, &billed("JH71")).unwrap();
    let fresh = sent(ledger.begin(&rotated, &under(&rotated, 72), &reuse()).unwrap());
    ledger.finish(fresh, &billed("JH72")).unwrap();
    let versions = ledger.secret_versions().unwrap();
    let count = |v: &str| versions.iter().find(|s| s.version == v).map(|s| s.entries);
    assert_eq!((count(old.version()), count(new.version())), (Some(2), Some(1)), "{versions:?}");

    // Forgetting under the rotated secret finds the old version's entries too.
    let today = CivilDate::new(2026, 12, 1).unwrap();
    assert_eq!(ledger.forget(&rotated, &person(71), today).unwrap().entries, 1);
    // The old secret dropped: its entries are linked to no one; the person is checked again.
    assert!(matches!(ledger.begin(&new, &under(&new, 70), &reuse()).unwrap(), Admission::Send(_)));
    assert_eq!(ledger.forget(&new, &person(70), today).unwrap().entries, 1, "only the new pending entry");
}
