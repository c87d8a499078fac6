//! The one driver both clients run. A check's attempts are sent one after another, each
//! answer read by [`Attempts::next`] (the decision: done, or again after a backoff), the pace
//! told of refusals and answers, the backoffs slept, each retry given its start. It is written
//! once, as an async function over [`Io`]: the async client runs it on tokio
//! ([`OnTokio`]); the blocking client runs it on the calling thread ([`OnThisThread`], with
//! [`block_on`]), where every send and sleep blocks and so every future is ready when polled.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake};
use std::time::{Duration, Instant};

use juhe_proto::{Check, HttpRequest};
use juhe_transport::{AsyncTransport, HttpResponse, Transport, TransportError};
use rand_core::{OsRng, RngCore};
use tracing::Instrument;

use crate::Error;
use crate::attempts::{Attempts, Step};
use crate::batch::Pace;
#[cfg(feature = "ledger")]
use crate::journal::{Gate, Journal, PendingEntry, off_runtime, settlement};
#[cfg(feature = "ledger")]
use crate::starts::Began;
use crate::starts::Starts;

/// What the driver asks of a client: to send, to sleep, and to tell the pace; the time and
/// the backoffs' jitter come from it too, so a test scripts them.
pub(crate) trait Io {
    /// The time now.
    fn now(&self) -> Instant {
        Instant::now()
    }
    /// A number in [0, 1] that spreads a backoff (from the operating system's generator).
    fn jitter(&self) -> f64 {
        f64::from(OsRng.next_u32()) / f64::from(u32::MAX)
    }
    /// Sends one attempt's request, inside its span.
    async fn send(&self, request: HttpRequest, span: tracing::Span) -> Result<HttpResponse, TransportError>;
    /// Waits `delay`.
    async fn sleep(&self, delay: Duration);
    /// Tells `starts` that Juhe refused an attempt for the rate.
    async fn refused(&self, starts: Starts<'_>);
    /// Waits for a retry's start in `starts`.
    async fn retry_start(&self, starts: Starts<'_>);
    /// Tells `starts` how the check ended, after `round_trip`.
    async fn answered<O>(&self, starts: Starts<'_>, result: &Result<O, Error>, round_trip: Duration);
    /// Waits for a batch's check's start in its pace; `false`: the batch stopped first.
    async fn pace_start(&self, pace: &Pace) -> Result<bool, Error>;
    /// Runs a ledger call, which blocks (off the runtime, for the async client).
    #[cfg(feature = "ledger")]
    async fn ledger<T: Send + 'static>(
        &self,
        journal: &Journal,
        call: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error>;
    /// Waits for a single check's start in the key's pace, within its bound.
    #[cfg(feature = "ledger")]
    async fn key_start(
        &self,
        journal: &Arc<Journal>,
        stopped: &(dyn Fn() -> bool + Sync),
    ) -> Result<Began, Error>;
}

/// Sends `attempts` until the retry policy says done, each attempt at its start.
pub(crate) async fn exchange<C: Check>(
    attempts: &mut Attempts<C>,
    io: &impl Io,
    starts: Starts<'_>,
) -> Result<C::Outcome, Error> {
    loop {
        let sent = io.send(attempts.request(io.now()), attempts.attempt_span()).await;
        // The jitter is drawn only for a retry: a getrandom call per check otherwise.
        match attempts.next(sent, io.now(), || io.jitter()) {
            Step::Done(result) => {
                io.answered(starts, &result, attempts.round_trip()).await;
                return result;
            }
            Step::RetryAfter { delay, rate_limited } => {
                if rate_limited {
                    io.refused(starts).await;
                }
                io.sleep(delay).await;
                io.retry_start(starts).await;
            }
        }
    }
}

/// A check without a ledger: a batch's check first takes its start in its pace.
pub(crate) async fn unrecorded<C: Check>(
    io: &impl Io,
    attempts: &mut Attempts<C>,
    pace: Option<&Pace>,
) -> Result<C::Outcome, Error> {
    let starts = match pace {
        Some(pace) if !io.pace_start(pace).await? => {
            return Err(Error::Skipped(crate::Skipped::BatchStopped));
        }
        Some(pace) => Starts::Batch(pace),
        None => Starts::Free,
    };
    exchange(attempts, io, starts).await
}

/// A check with a ledger: the ledger's decision (send, reuse its answer, or wait for the same
/// question elsewhere), the entry pending while the check runs, the exchange, the outcome
/// recorded whatever happens. `caller_gone` says that nobody waits for the check any more:
/// until its request may have left it then stops, recording it not sent; after, it runs to
/// its end.
#[cfg(feature = "ledger")]
pub(crate) async fn recorded<C: Check>(
    io: &impl Io,
    journal: &Arc<Journal>,
    intent: juhe_ledger::Intent,
    attempts: &mut Attempts<C>,
    pace: Option<&Pace>,
    caller_gone: &(dyn Fn() -> bool + Sync),
) -> Result<C::Outcome, Error> {
    let (read, intent, since) = (attempts.reader(), Arc::new(intent), std::time::Instant::now());
    if let Some(pace) = pace {
        // A batch's check takes its place in the pace before anything is recorded, so a
        // batch stopped meanwhile leaves no entry; an answer the ledger holds takes no place.
        // Without a reuse window there is nothing to look for: no trip off the runtime.
        if journal.reuses() {
            let (ledger, asked) = (Arc::clone(journal), Arc::clone(&intent));
            if let Some(outcome) = io.ledger(journal, move || ledger.reusable(&asked, read)).await? {
                return Ok(outcome);
            }
        }
        if !io.pace_start(pace).await? {
            return Err(Error::Skipped(crate::Skipped::BatchStopped));
        }
    }
    let mut on_other_check = None;
    let entry = loop {
        if caller_gone() {
            return Err(Error::Skipped(crate::Skipped::CallerGone));
        }
        let (ledger, asked) = (Arc::clone(journal), Arc::clone(&intent));
        match io.ledger(journal, move || ledger.gate(&asked, read, since)).await? {
            Gate::Send(entry) => break entry,
            Gate::Reused(outcome) => return Ok(outcome),
            Gate::Pause(pause) => {
                on_other_check.get_or_insert_with(|| journal.activity.on_other_check());
                io.sleep(pause).await;
            }
        }
    };
    drop(on_other_check);
    let mut pending = PendingEntry::new(Arc::clone(journal), entry);
    // A single check takes its start in the key's pace now, ahead of batches, within its bound.
    let live_start = match pace {
        Some(_) => Ok(Began::Booked),
        None => io.key_start(journal, caller_gone).await,
    };
    if matches!(live_start, Err(_) | Ok(Began::Stopped)) || caller_gone() {
        // Dropping it records it not sent, not billed: a ledger call.
        let _ = io
            .ledger(journal, move || {
                drop(pending);
                Ok(())
            })
            .await;
        live_start?;
        return Err(Error::Skipped(crate::Skipped::CallerGone));
    }
    pending.sending();
    let starts = pace.map_or(Starts::Live(journal), Starts::Batch);
    let result = exchange(attempts, io, starts).await;
    let (recorder, entry, settlement) =
        pending.finished(settlement(attempts.product(), &result, attempts.made()));
    let _ = io
        .ledger(journal, move || {
            recorder.finish(entry, &settlement);
            Ok(())
        })
        .await;
    result
}

/// The async client's side: its transport, tokio's timer, the pace's async calls.
pub(crate) struct OnTokio<'a>(pub(crate) &'a dyn AsyncTransport);

impl Io for OnTokio<'_> {
    async fn send(&self, request: HttpRequest, span: tracing::Span) -> Result<HttpResponse, TransportError> {
        self.0.send(request).instrument(span).await
    }

    async fn sleep(&self, delay: Duration) {
        tokio::time::sleep(delay).await;
    }

    async fn refused(&self, starts: Starts<'_>) {
        starts.refused().await;
    }

    async fn retry_start(&self, starts: Starts<'_>) {
        starts.retry().await;
    }

    async fn answered<O>(&self, starts: Starts<'_>, result: &Result<O, Error>, round_trip: Duration) {
        starts.answered(result, round_trip).await;
    }

    async fn pace_start(&self, pace: &Pace) -> Result<bool, Error> {
        pace.start().await
    }

    #[cfg(feature = "ledger")]
    async fn ledger<T: Send + 'static>(
        &self,
        journal: &Journal,
        call: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        off_runtime(journal, call).await
    }

    #[cfg(feature = "ledger")]
    async fn key_start(
        &self,
        journal: &Arc<Journal>,
        stopped: &(dyn Fn() -> bool + Sync),
    ) -> Result<Began, Error> {
        crate::starts::key_start(journal, journal.live_start(), stopped, &|_| {}).await
    }
}

/// The blocking client's side: its transport and `std::thread::sleep`, on the calling thread.
pub(crate) struct OnThisThread<'a>(pub(crate) &'a dyn Transport);

impl Io for OnThisThread<'_> {
    async fn send(&self, request: HttpRequest, span: tracing::Span) -> Result<HttpResponse, TransportError> {
        let _in_attempt = span.entered();
        self.0.send(request)
    }

    async fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }

    async fn refused(&self, starts: Starts<'_>) {
        starts.refused_blocking();
    }

    async fn retry_start(&self, starts: Starts<'_>) {
        starts.retry_blocking();
    }

    async fn answered<O>(&self, starts: Starts<'_>, result: &Result<O, Error>, round_trip: Duration) {
        starts.answered_blocking(result, round_trip);
    }

    async fn pace_start(&self, pace: &Pace) -> Result<bool, Error> {
        pace.start_blocking()
    }

    #[cfg(feature = "ledger")]
    async fn ledger<T: Send + 'static>(
        &self,
        _journal: &Journal,
        call: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        call()
    }

    #[cfg(feature = "ledger")]
    async fn key_start(
        &self,
        journal: &Arc<Journal>,
        stopped: &(dyn Fn() -> bool + Sync),
    ) -> Result<Began, Error> {
        crate::starts::key_start_blocking(journal, journal.live_start(), &std::thread::sleep, stopped)
    }
}

/// Runs `future` to its end on this thread, parking it while the future waits. The driver's
/// futures over [`OnThisThread`] never wait: they are ready at the first poll.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut context = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Wakes a parked thread.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use juhe_proto::{Credentials, Mode, Protocol, Telecom3Check};
    use juhe_transport::{Delivery, TransportErrorKind};

    use super::*;
    use crate::RetryPolicy;
    use crate::attempts::Core;

    /// What the scripted client saw, in order.
    #[derive(Debug, Clone, PartialEq)]
    enum Seen {
        PaceStart,
        Sent,
        Slept(Duration),
        Refused,
        RetryStart,
        Answered { billed: bool },
    }

    /// A client whose transport answers from a script and whose clock is a list of sleeps.
    struct Scripted {
        answers: Mutex<Vec<Result<HttpResponse, TransportError>>>,
        seen: Mutex<Vec<Seen>>,
    }

    impl Scripted {
        fn new(mut answers: Vec<Result<HttpResponse, TransportError>>) -> Self {
            answers.reverse();
            Self { answers: Mutex::new(answers), seen: Mutex::new(Vec::new()) }
        }

        fn saw(&self, seen: Seen) {
            self.seen.lock().unwrap().push(seen);
        }

        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    /// The jitter a scripted client draws: backoffs are exact.
    const JITTER: f64 = 0.5;

    impl Io for Scripted {
        fn jitter(&self) -> f64 {
            JITTER
        }
        async fn send(&self, _: HttpRequest, _: tracing::Span) -> Result<HttpResponse, TransportError> {
            self.saw(Seen::Sent);
            self.answers.lock().unwrap().pop().expect("an answer scripted for every attempt")
        }
        async fn sleep(&self, delay: Duration) {
            self.saw(Seen::Slept(delay));
        }
        async fn refused(&self, _: Starts<'_>) {
            self.saw(Seen::Refused);
        }
        async fn retry_start(&self, _: Starts<'_>) {
            self.saw(Seen::RetryStart);
        }
        async fn answered<O>(&self, _: Starts<'_>, result: &Result<O, Error>, _: Duration) {
            self.saw(Seen::Answered { billed: result.is_ok() });
        }
        async fn pace_start(&self, _: &Pace) -> Result<bool, Error> {
            self.saw(Seen::PaceStart);
            Ok(true)
        }
        #[cfg(feature = "ledger")]
        async fn ledger<T: Send + 'static>(
            &self,
            _: &Journal,
            call: impl FnOnce() -> Result<T, Error> + Send + 'static,
        ) -> Result<T, Error> {
            call()
        }
        #[cfg(feature = "ledger")]
        async fn key_start(&self, _: &Arc<Journal>, _: &(dyn Fn() -> bool + Sync)) -> Result<Began, Error> {
            Ok(Began::Unpaced)
        }
    }

    const BACKOFF: Duration = Duration::from_millis(10);

    fn run(retry: RetryPolicy, answers: Vec<Result<HttpResponse, TransportError>>) -> (bool, Vec<Seen>) {
        let core = Arc::new(Core {
            protocol: Protocol::new(Credentials::new("k").unwrap()),
            mode: Mode::Plain,
            retry: retry.backoff(BACKOFF, BACKOFF),
            #[cfg(feature = "ledger")]
            journal: None,
        });
        let check = Telecom3Check::new("张三", "11010519491231002X", "13912345678").unwrap();
        let mut attempts = core.start(&check, Mode::Plain).unwrap();
        let io = Scripted::new(answers);
        let result = block_on(exchange(&mut attempts, &io, Starts::Free));
        (result.is_ok(), io.seen())
    }

    fn body(text: &str) -> Result<HttpResponse, TransportError> {
        Ok(http::Response::new(text.as_bytes().to_vec()))
    }

    fn billed() -> Result<HttpResponse, TransportError> {
        body(r#"{"error_code":0,"reason":"ok","result":{"res":"1","rescode":"11"}}"#)
    }

    fn failed(kind: TransportErrorKind, delivery: Delivery) -> Result<HttpResponse, TransportError> {
        Err(TransportError::new(kind, delivery, "scripted"))
    }

    /// Not sent: retried after the backoff, at a new start; the answer then ends the check and
    /// the pace hears of it once.
    #[test]
    fn what_was_not_sent_is_retried_at_a_new_start() {
        let (ok, seen) = run(
            RetryPolicy::default(),
            vec![failed(TransportErrorKind::Connect, Delivery::NotSent), billed()],
        );
        assert!(ok);
        let policy = RetryPolicy::default().backoff(BACKOFF, BACKOFF);
        let error = Error::from(TransportError::new(TransportErrorKind::Connect, Delivery::NotSent, "x"));
        let expected = policy.delay_before_retry(1, &error, JITTER).unwrap();
        assert_eq!(seen[1], Seen::Slept(expected), "the policy's backoff at the scripted jitter");
        assert_eq!(seen[2..], [Seen::RetryStart, Seen::Sent, Seen::Answered { billed: true }]);
        assert_eq!(seen[0], Seen::Sent);
    }

    /// A rate limit (10012) is told to the pace before the backoff, so the batch slows down
    /// before the retry takes its start.
    #[test]
    fn a_rate_limit_slows_the_pace_before_the_retry() {
        let limited = || body(r#"{"error_code":10012,"reason":"limit","result":null}"#);
        let (ok, seen) = run(RetryPolicy::default(), vec![limited(), billed()]);
        assert!(ok);
        assert_eq!(seen[..2], [Seen::Sent, Seen::Refused]);
        assert!(matches!(seen[2], Seen::Slept(_)));
        assert_eq!(seen[3..], [Seen::RetryStart, Seen::Sent, Seen::Answered { billed: true }]);
    }

    /// A timeout after the request left may have been billed: never sent again unless the
    /// user opted in; with the opt-in, it is.
    #[test]
    fn what_may_have_been_billed_is_sent_once_unless_opted_in() {
        let timeout = || failed(TransportErrorKind::Timeout, Delivery::MaybeSent);
        let (ok, seen) = run(RetryPolicy::default(), vec![timeout()]);
        assert!(!ok);
        assert_eq!(seen, [Seen::Sent, Seen::Answered { billed: false }]);
        let (ok, seen) = run(RetryPolicy::default().resend_maybe_billed(), vec![timeout(), billed()]);
        assert!(ok);
        assert_eq!(seen.iter().filter(|s| **s == Seen::Sent).count(), 2);
    }

    /// Juhe's refusal of the request itself (a bad parameter) ends the check at once; so does
    /// running out of attempts, after exactly the policy's number.
    #[test]
    fn refusals_end_the_check_and_attempts_are_bounded() {
        let refused = body(r#"{"error_code":233907,"reason":"bad","result":null}"#);
        let (ok, seen) = run(RetryPolicy::default(), vec![refused]);
        assert!(!ok);
        assert_eq!(seen, [Seen::Sent, Seen::Answered { billed: false }]);
        let not_sent = || failed(TransportErrorKind::Connect, Delivery::NotSent);
        let (ok, seen) = run(RetryPolicy::default().max_attempts(2), vec![not_sent(), not_sent()]);
        assert!(!ok);
        assert_eq!(seen.iter().filter(|s| **s == Seen::Sent).count(), 2);
        assert_eq!(seen.last(), Some(&Seen::Answered { billed: false }));
    }

    #[test]
    fn block_on_runs_a_future_that_waits() {
        let (sender, receiver) = std::sync::mpsc::channel::<()>();
        let waiting = std::thread::spawn(move || {
            block_on(async move {
                // Ready at once or after the other thread sends: either way it ends.
                let _ = receiver.recv();
                7
            })
        });
        sender.send(()).unwrap();
        assert_eq!(waiting.join().unwrap(), 7);
    }

    /// On a real SQLite ledger (`cargo test --workspace` builds it; `-p juhe-verify` needs
    /// `--features sqlite`).
    #[cfg(feature = "sqlite")]
    mod with_a_ledger {
        use super::*;
        use juhe_ledger::{Ledger, LedgerSecret, Location, Policy, Span, State};
        use juhe_proto::Outcome;

        /// A journal over a fresh SQLite ledger in a temporary folder.
        fn journal(policy: Policy) -> (Arc<Journal>, tempdir::Folder) {
            let folder = tempdir::Folder::new();
            let ledger = Ledger::open(&Location::Sqlite(folder.path.join("ledger.sqlite"))).unwrap();
            let journal = Journal {
                ledger,
                secret: LedgerSecret::from_api_key("k"),
                policy,
                target: "scripted".into(),
                deadline: Duration::from_secs(5),
                live_start_within: Duration::from_secs(2),
                activity: Arc::default(),
                team: None,
                purpose: None,
                thread: None,
            };
            (Arc::new(journal), folder)
        }

        /// A temporary folder, removed when dropped.
        mod tempdir {
            pub(super) struct Folder {
                pub(super) path: std::path::PathBuf,
            }

            impl Folder {
                pub(super) fn new() -> Self {
                    use std::sync::atomic::{AtomicU32, Ordering};
                    static NEXT: AtomicU32 = AtomicU32::new(0);
                    let n = NEXT.fetch_add(1, Ordering::Relaxed);
                    let path = std::env::temp_dir().join(format!("juhe-driver-{}-{n}", std::process::id()));
                    std::fs::create_dir_all(&path).unwrap();
                    Self { path }
                }
            }

            impl Drop for Folder {
                fn drop(&mut self) {
                    let _ = std::fs::remove_dir_all(&self.path);
                }
            }
        }

        fn recorded_run(
            journal: &Arc<Journal>,
            answers: Vec<Result<HttpResponse, TransportError>>,
            caller_gone: &(dyn Fn() -> bool + Sync),
        ) -> (Result<juhe_proto::Telecom3Outcome, Error>, Vec<Seen>) {
            recorded_in_pace(journal, answers, caller_gone, None)
        }

        /// [`recorded_run`] as a batch's check, in `pace`.
        fn recorded_in_pace(
            journal: &Arc<Journal>,
            answers: Vec<Result<HttpResponse, TransportError>>,
            caller_gone: &(dyn Fn() -> bool + Sync),
            pace: Option<&Pace>,
        ) -> (Result<juhe_proto::Telecom3Outcome, Error>, Vec<Seen>) {
            let core = Arc::new(Core {
                protocol: Protocol::new(Credentials::new("k").unwrap()),
                mode: Mode::Plain,
                retry: RetryPolicy::default().backoff(BACKOFF, BACKOFF),
                journal: Some(Arc::clone(journal)),
            });
            let check = Telecom3Check::new("张三", "11010519491231002X", "13912345678").unwrap();
            let mut attempts = core.start(&check, Mode::Plain).unwrap();
            let io = Scripted::new(answers);
            let intent = journal.intent(&check, Mode::Plain);
            let result = block_on(recorded(&io, journal, intent, &mut attempts, pace, caller_gone));
            (result, io.seen())
        }

        fn states(journal: &Journal) -> Vec<State> {
            let mut states = Vec::new();
            journal
                .ledger
                .entries(Span::all(), &mut |entry| {
                    states.push(entry.state);
                    true
                })
                .unwrap();
            states
        }

        /// A billed answer is recorded billed; with reuse on, the same question is then
        /// answered from the ledger without a send.
        #[test]
        fn a_billed_answer_is_recorded_and_reused_without_a_send() {
            let (journal, _folder) = journal(Policy::record_only().reuse_within(Duration::from_secs(3600)));
            let (result, seen) = recorded_run(&journal, vec![billed()], &|| false);
            assert!(result.is_ok());
            assert_eq!(seen, [Seen::Sent, Seen::Answered { billed: true }]);
            assert_eq!(states(&journal), [State::Billed]);
            let (again, seen) = recorded_run(&journal, Vec::new(), &|| false);
            assert!(again.unwrap().reused().is_some());
            assert!(seen.is_empty(), "nothing sent: {seen:?}");
            assert_eq!(states(&journal), [State::Billed], "no new entry");
        }

        /// A batch's check whose answer the ledger holds takes no start in the pace: a rerun
        /// answered from the ledger is not held to the key's rate (issue 29's 100 rows/s
        /// crawl); a new question takes its start, then is sent.
        #[test]
        fn an_answer_from_the_ledger_takes_no_start_in_the_pace() {
            let (journal, _folder) = journal(Policy::record_only().reuse_within(Duration::from_secs(3600)));
            let key = crate::starts::KeyPace { journal: Some(Arc::clone(&journal)) };
            let pace = Pace::new(&crate::BatchOptions::default(), crate::batch::Board::new(8, None), key);
            let (first, seen) = recorded_in_pace(&journal, vec![billed()], &|| false, Some(&pace));
            assert!(first.is_ok());
            assert_eq!(seen, [Seen::PaceStart, Seen::Sent, Seen::Answered { billed: true }]);
            let (again, seen) = recorded_in_pace(&journal, Vec::new(), &|| false, Some(&pace));
            assert!(again.unwrap().reused().is_some());
            assert!(seen.is_empty(), "no start taken, nothing sent: {seen:?}");
        }

        /// A timeout after the request left is recorded maybe billed, not billed nor lost.
        #[test]
        fn a_lost_answer_is_recorded_maybe_billed() {
            let (journal, _folder) = journal(Policy::record_only());
            let (result, _) = recorded_run(
                &journal,
                vec![failed(TransportErrorKind::Timeout, Delivery::MaybeSent)],
                &|| false,
            );
            assert!(matches!(result, Err(Error::NoAnswer(_))));
            assert_eq!(states(&journal), [State::MaybeBilled]);
        }

        /// A caller gone before the ledger's decision leaves no entry; one gone after it, but
        /// before the send, leaves its entry not billed, and nothing is sent either way.
        #[test]
        fn a_caller_gone_before_the_send_sends_nothing() {
            let (journal, _folder) = journal(Policy::record_only());
            let (result, seen) = recorded_run(&journal, Vec::new(), &|| true);
            assert!(matches!(result, Err(Error::Skipped(crate::Skipped::CallerGone))));
            assert!(seen.is_empty());
            assert!(states(&journal).is_empty());
            let asked = std::sync::atomic::AtomicU32::new(0);
            let gone_after_the_gate = || asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1;
            let (result, seen) = recorded_run(&journal, Vec::new(), &gone_after_the_gate);
            assert!(matches!(result, Err(Error::Skipped(crate::Skipped::CallerGone))));
            assert!(seen.is_empty());
            assert_eq!(states(&journal), [State::NotBilled]);
        }
    }
}
