//! The ledger around each check (feature `ledger`): a pending entry before the request
//! leaves, the outcome after it. Both clients, and so every batch, go through here; the
//! decisions themselves are the ledger's ([`juhe_ledger::Ledger::begin`]).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use juhe_ledger::{
    Admission, EntryId, Intent, Ledger, LedgerSecret, Policy, Recorded, Settlement, Start, StartRequest,
    State,
};
use juhe_proto::{
    Check, Mode, Outcome, OutcomeReader, Product, Provenance, ResultFields, Reuse, Subject, masking,
};

use crate::activity::Activity;
use crate::{Error, Skipped};

/// How often a check waiting for the same question in flight elsewhere looks again.
const POLL: Duration = Duration::from_millis(50);

/// A client's ledger and what it may do.
#[derive(Clone, Debug)]
pub(crate) struct Journal {
    pub(crate) ledger: Ledger,
    pub(crate) secret: LedgerSecret,
    pub(crate) policy: Policy,
    /// Where the client sends: reuse never crosses targets.
    pub(crate) target: String,
    /// The longest a check of this client takes, retries included.
    pub(crate) deadline: Duration,
    /// How long a single check waits at most for its start in the key's pace.
    pub(crate) live_start_within: Duration,
    /// What its checks wait for.
    pub(crate) activity: Arc<Activity>,
    /// The team its checks are made for (a gateway's client), if any.
    pub(crate) team: Option<String>,
    /// Why its checks are made.
    pub(crate) purpose: Option<juhe_ledger::Purpose>,
    /// Where the async client's ledger calls run when the ledger answers one at a time;
    /// shared by the clients made from this one (teams, purposes).
    pub(crate) thread: Option<Arc<LedgerThread>>,
}

/// One look at the ledger before a check.
pub(crate) enum Gate<O> {
    /// Send it; its pending entry is committed.
    Send(EntryId),
    /// Do not send: an earlier billed answer, reused.
    Reused(O),
    /// The same question is in flight elsewhere: look again after this pause.
    Pause(Duration),
}

impl Journal {
    /// What the pending entry of `check` records.
    pub(crate) fn intent<C: Check>(&self, check: &C, mode: Mode) -> Intent {
        Intent {
            subject: Subject::of(check, self.secret.subject_key()),
            product: check.product(),
            mode,
            target: self.target.clone(),
            masked: masking::mask_check(check),
            deadline: self.deadline,
            team: self.team.clone(),
            purpose: self.purpose.clone(),
            // While a previous secret is kept, entries hashed under it are found too.
            previous_subject: self.secret.previous().map(|p| Subject::of(check, p.subject_key())),
        }
    }

    /// Asks the ledger once (this blocks). `waiting_since` is when the check first asked:
    /// it waits for a check elsewhere no longer than its own deadline.
    pub(crate) fn gate<O: Outcome>(
        &self,
        intent: &Intent,
        read: OutcomeReader<O>,
        waiting_since: Instant,
    ) -> Result<Gate<O>, Error> {
        let admission = {
            let _call = self.activity.ledger_call();
            self.ledger.begin(&self.secret, intent, &self.policy).map_err(Error::Ledger)?
        };
        match admission {
            Admission::Send(entry) => Ok(Gate::Send(entry)),
            Admission::Reuse(recorded) => {
                tracing::info!(
                    entry = recorded.entry.get(),
                    order_id = recorded.order_id.as_deref(),
                    "reused from the ledger"
                );
                Ok(Gate::Reused(reused(read, recorded)))
            }
            Admission::Wait { until } => {
                if waiting_since.elapsed() >= self.deadline {
                    return Err(Error::Skipped(Skipped::StillInFlight));
                }
                let left = until.duration_since(SystemTime::now()).unwrap_or_default();
                Ok(Gate::Pause(left.clamp(Duration::from_millis(1), POLL)))
            }
            Admission::MaybeBilled(recorded) => Err(Error::Skipped(Skipped::MaybeBilledEarlier {
                entry: recorded.entry.get(),
                at: recorded.started_at,
            })),
            Admission::OverBudget { period, cap } => {
                Err(Error::Skipped(Skipped::LedgerBudget { period, cap }))
            }
            Admission::TeamOverBudget { period, cap } => {
                let team = self.team.clone().unwrap_or_default();
                Err(Error::Skipped(Skipped::TeamBudget { team, period, cap }))
            }
        }
    }

    /// Whether [`reusable`](Self::reusable) may find anything: the policy reuses answers.
    pub(crate) fn reuses(&self) -> bool {
        self.policy.reuses()
    }

    /// The answer the ledger would reuse for `intent`, read without recording anything (this
    /// blocks); `None` without reuse or when there is none.
    pub(crate) fn reusable<O: Outcome>(
        &self,
        intent: &Intent,
        read: OutcomeReader<O>,
    ) -> Result<Option<O>, Error> {
        if !self.policy.reuses() {
            return Ok(None);
        }
        let found = {
            let _call = self.activity.ledger_call();
            self.ledger.reusable(&self.secret, intent, &self.policy).map_err(Error::Ledger)?
        };
        Ok(found.map(|recorded| reused(read, recorded)))
    }

    /// Records how the check of `entry` ended (this blocks). A ledger that fails now leaves
    /// the entry pending, counted as maybe billed: the check's own result still stands.
    pub(crate) fn finish(&self, entry: EntryId, settlement: &Settlement) {
        let _call = self.activity.ledger_call();
        if let Err(error) = self.ledger.finish(entry, settlement) {
            tracing::error!(
                entry = entry.get(), ledger = self.ledger.location(), error = %error,
                "the outcome could not be recorded: the entry stays pending (maybe billed)"
            );
        }
    }
}

/// A check's start in the key's pace, as it waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyStart {
    /// Booked: start after this pause.
    After(Duration),
    /// A batch's check: nothing booked; ask again after this pause.
    AskAgainAfter(Duration),
    /// A single check: no start within its bound; nothing booked.
    Full,
    /// The key is not paced: start now.
    Unpaced,
}

impl Journal {
    /// Asks the key's pace for a start (this blocks).
    pub(crate) fn take_start(&self, request: &StartRequest) -> Result<KeyStart, Error> {
        let start = {
            let _call = self.activity.ledger_call();
            self.ledger.take_start(&self.secret, &self.target, request).map_err(Error::Ledger)?
        };
        let after = |at: SystemTime| at.duration_since(SystemTime::now()).unwrap_or_default();
        Ok(match start {
            Start::At(at) => KeyStart::After(after(at)),
            Start::AskAgainAt(at) => KeyStart::AskAgainAfter(after(at)),
            Start::Full { .. } => KeyStart::Full,
            Start::Unpaced => KeyStart::Unpaced,
        })
    }

    /// A single check's request for a start: it waits at most the client's bound.
    pub(crate) fn live_start(&self) -> StartRequest {
        StartRequest::live(self.live_start_within)
    }

    /// Tells the key's pace Juhe refused a check for the rate (this blocks). A ledger that
    /// fails here costs pace, not money: logged, and the check goes on.
    pub(crate) fn rate_limited(&self, cap: Option<f64>) {
        let _call = self.activity.ledger_call();
        if let Err(error) = self.ledger.rate_limited(&self.secret, &self.target, cap) {
            tracing::warn!(ledger = self.ledger.location(), error = %error, "the key's pace could not record a refusal");
        }
    }

    /// The rate the key's pace holds starts to under `cap` (this blocks); `None` when it does
    /// not, or the ledger cannot say.
    pub(crate) fn pace_rate(&self, cap: Option<f64>) -> Option<f64> {
        self.ledger.pace_rate(&self.secret, &self.target, cap).ok().flatten()
    }
}

/// Runs a blocking ledger call off the runtime: on the journal's [`LedgerThread`] when it has
/// one, else on tokio's blocking threads. A panic there is resumed here; a runtime shutting
/// down is a ledger that could not answer. The call runs to its end even if this future is
/// dropped: a check's outcome is recorded whoever still waits for it.
pub(crate) async fn off_runtime<T: Send + 'static>(
    journal: &Journal,
    call: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    if let Some(thread) = &journal.thread {
        return thread.run(call).await;
    }
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(runtime_gone(join)),
    }
}

/// A ledger call for a [`LedgerThread`].
type LedgerCall = Box<dyn FnOnce() + Send>;

/// The thread on which an async client makes its calls to a ledger that answers one at a time
/// (SQLite), one after another. Made on tokio's blocking threads, the same calls take turns at
/// the one connection: six thread switches and fourteen futex calls a check, and a third fewer
/// checks a second (docs/benchmarks.md). Ends once no client holds it.
pub(crate) struct LedgerThread {
    calls: std::sync::mpsc::Sender<LedgerCall>,
}

impl LedgerThread {
    /// Starts the thread; `None` if none can be started (calls then take tokio's threads).
    pub(crate) fn start() -> Option<Arc<Self>> {
        let (calls, queue) = std::sync::mpsc::channel::<LedgerCall>();
        let serve = move || {
            while let Ok(call) = queue.recv() {
                call();
            }
        };
        std::thread::Builder::new().name("juhe-ledger".into()).spawn(serve).ok()?;
        Some(Arc::new(Self { calls }))
    }

    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: LedgerCall = Box::new(move || {
            let _ = answer.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)));
        });
        if let Err(std::sync::mpsc::SendError(job)) = self.calls.send(job) {
            // The thread is gone (it cannot be while this handle lives): tokio's threads.
            drop(tokio::task::spawn_blocking(job));
        }
        match answered.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::Ledger(juhe_ledger::LedgerError::Database {
                location: "(the ledger's thread)".into(),
                source: "the call ended without an answer".into(),
            })),
        }
    }
}

impl std::fmt::Debug for LedgerThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerThread")
    }
}

/// A task of the client's that its runtime dropped (it is shutting down).
pub(crate) fn runtime_gone(join: tokio::task::JoinError) -> Error {
    Error::Ledger(juhe_ledger::LedgerError::Database {
        location: "(the async runtime)".into(),
        source: join.to_string().into(),
    })
}

/// A pending entry this process must finish, whatever happens: if it is dropped unfinished (a
/// panic in a transport, a runtime shutting down under the check), it records the entry as
/// maybe billed once its request may have left, and not billed before. Nobody then waits for
/// it, and nothing can be paid twice by its question being asked again.
pub(crate) struct PendingEntry {
    journal: Arc<Journal>,
    entry: EntryId,
    may_have_left: bool,
    finished: bool,
}

impl PendingEntry {
    pub(crate) fn new(journal: Arc<Journal>, entry: EntryId) -> Self {
        Self { journal, entry, may_have_left: false, finished: false }
    }

    /// From now on its request may leave.
    pub(crate) fn sending(&mut self) {
        self.may_have_left = true;
    }

    /// What to record and where, once the check's result is known; the guard is spent.
    pub(crate) fn finished(mut self, settlement: Settlement) -> (Arc<Journal>, EntryId, Settlement) {
        self.finished = true;
        (Arc::clone(&self.journal), self.entry, settlement)
    }
}

impl Drop for PendingEntry {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let state = if self.may_have_left { State::MaybeBilled } else { State::NotBilled };
        tracing::warn!(entry = self.entry.get(), state = state.as_str(), "a check ended without its result");
        self.journal.finish(self.entry, &Settlement::new(state, u32::from(self.may_have_left)));
    }
}

/// What the ledger records of a check's result.
pub(crate) fn settlement<O: Outcome>(
    product: Product,
    result: &Result<O, Error>,
    attempts: u32,
) -> Settlement {
    match result {
        Ok(outcome) => {
            let fields = product
                .result_fields()
                .iter()
                .map(|f| (f.wire_name().to_owned(), outcome.value(*f)))
                .filter(|(_, v)| !v.is_null())
                .collect();
            Settlement::billed(
                attempts,
                outcome.verdict(),
                outcome.order_id().map(str::to_owned),
                outcome.reason().to_owned(),
                fields,
            )
        }
        Err(error) => {
            let state = State::from(error.billing());
            let order_id = match error {
                Error::Service(service) => service.order_id.clone(),
                _ => None,
            };
            Settlement::new(state, attempts).with_code(error.code().map(|c| c.code()), order_id)
        }
    }
}

/// An earlier billed answer as this check's outcome, marked reused.
fn reused<O: Outcome>(read: OutcomeReader<O>, recorded: Recorded) -> O {
    let reuse = Reuse::new(recorded.order_id, recorded.started_at, recorded.entry.get());
    read(&ResultFields::new(recorded.result), recorded.reason).with_provenance(Provenance::Reused(reuse))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    /// The calls run on the ledger's thread; one whose caller stopped waiting once it was
    /// queued still runs to its end (a check's outcome is recorded whoever waits for it); a
    /// panic reaches the caller, and the thread goes on serving.
    #[test]
    fn a_ledger_thread_runs_each_call_to_its_end_and_hands_back_panics() {
        let thread = LedgerThread::start().unwrap();
        let runtime = runtime();
        let name = runtime.block_on(thread.run(|| Ok(std::thread::current().name().map(str::to_owned))));
        assert_eq!(name.unwrap().as_deref(), Some("juhe-ledger"));

        let (done, finished) = std::sync::mpsc::channel();
        runtime.block_on(async {
            let slow = thread.run(move || {
                std::thread::sleep(Duration::from_millis(100));
                done.send(()).unwrap();
                Ok(())
            });
            tokio::select! {
                _ = slow => panic!("answered before the caller gave up"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        });
        finished.recv_timeout(Duration::from_secs(5)).expect("the call ran to its end");

        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(thread.run(|| -> Result<(), Error> { panic!("a ledger call panicked") }))
        }));
        assert!(panicked.is_err());
        assert_eq!(runtime.block_on(thread.run(|| Ok(7))).unwrap(), 7, "the thread still serves");
    }
}
