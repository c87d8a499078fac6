//! The one batch engine: what both the async and the blocking batch run. A *feeder* (a
//! thread of the batch's, or a task that awaits [`Engine::changed`] instead of blocking)
//! calls [`Engine::next_job`] (or [`Engine::try_next_job`]) to pull, classify and admit the
//! next input; whoever sends the check (a task, a worker thread) hands its result to
//! [`Engine::finish`]. Every money decision is made here, the same way for both clients; the
//! clients differ only in how they send and wait.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use juhe_proto::{Check, Subject, SubjectKey, ValidationError};

use crate::batch::board::{Admission, Board, Slot, Work};
use crate::batch::{BatchItem, BatchOptions, Repeats};
use crate::{Error, Skipped};

/// An input as the caller gives it: a tag to carry, and the validated check or why not.
pub(crate) type Input<T, C> = (T, Result<C, ValidationError>);

/// Each input's own purpose, read from its tag (`batch_with_purposes`); `None` takes the
/// client's.
#[cfg(feature = "ledger")]
pub(crate) type PurposeOf<T> = Box<dyn Fn(&T) -> Option<juhe_ledger::Purpose> + Send + Sync>;

/// A check to send now: it was admitted, so it counts in flight and against the budget.
pub(crate) struct Ticket<T, C> {
    pub(crate) check: C,
    pub(crate) sent: Sent<T>,
}

/// What is left of a ticket once its check is sent: enough to make its item.
pub(crate) struct Sent<T> {
    index: usize,
    tag: T,
    slot: Slot,
    subject: Option<u128>,
}

/// What the feeder does next.
pub(crate) enum Job<T, C: Check> {
    /// Send this check, then give its result to [`Engine::finish`].
    Send(Ticket<T, C>),
    /// Hand this item to the caller: nothing to send (invalid, reused, skipped).
    Yield(BatchItem<T, C::Outcome>),
    /// The batch is over for the feeder: inputs exhausted, or stopped.
    End,
}

/// An input pulled and validated, not yet admitted.
struct Pulled<T, C> {
    index: usize,
    tag: T,
    check: C,
    slot: Slot,
    subject: Option<u128>,
}

/// The state of one subject among duplicates.
enum Group<T, C: Check> {
    /// Its first input is in flight; these copies wait for its answer.
    InFlight { first: usize, copies: Vec<Pulled<T, C>> },
    /// Billed: copies reuse this answer.
    Answered { first: usize, outcome: Arc<C::Outcome> },
    /// Sent and maybe billed: copies are not sent (they might pay twice).
    MaybeBilled { first: usize },
}

/// Subjects seen in this batch. Only those in flight, billed or maybe billed are kept: a copy
/// of an input that ended unbilled is checked in its own right, so its subject is forgotten.
/// With a survey (`repeats`), only the subjects it found repeated are kept at all.
struct Dedupe<T, C: Check> {
    key: SubjectKey,
    repeats: Option<Repeats>,
    groups: HashMap<u128, Group<T, C>>,
    /// Copies handed back to the feeder, to be classified again.
    ready: VecDeque<Pulled<T, C>>,
}

/// The engine of one batch; shared by its feeder and its senders.
pub(crate) struct Engine<I, T, C: Check> {
    board: Arc<Board>,
    /// `None` once exhausted.
    inputs: Mutex<Option<std::iter::Enumerate<I>>>,
    dedupe: Option<Mutex<Dedupe<T, C>>>,
    /// An input pulled whose admission would have waited (the budget), for a feeder that
    /// does not block: admitted first at its next step.
    held: Mutex<Option<Pulled<T, C>>>,
    #[cfg(feature = "ledger")]
    purpose_of: Option<PurposeOf<T>>,
}

/// Whether a feeder's step blocks until the board changes (a feeder thread) or returns
/// `None` instead (a feeder task, which then awaits [`Engine::changed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Block,
    Return,
}

/// How a pulled input goes on.
enum Classified<T, C: Check> {
    New(Pulled<T, C>),
    Item(BatchItem<T, C::Outcome>),
    Parked,
}

impl<I, T, C> Engine<I, T, C>
where
    I: Iterator<Item = Input<T, C>>,
    C: Check,
{
    pub(crate) fn new(inputs: I, options: &BatchOptions, board: Arc<Board>) -> Self {
        let dedupe = options.dedupe.then(|| {
            let key = options.repeats.as_ref().map_or_else(SubjectKey::generate, |r| r.key().clone());
            Mutex::new(Dedupe {
                key,
                repeats: options.repeats.clone(),
                groups: HashMap::new(),
                ready: VecDeque::new(),
            })
        });
        Self {
            board,
            inputs: Mutex::new(Some(inputs.enumerate())),
            dedupe,
            held: Mutex::new(None),
            #[cfg(feature = "ledger")]
            purpose_of: None,
        }
    }

    /// This engine, each input's check made for the purpose its tag names: recorded with
    /// it, and kept apart from other purposes' by dedupe (as the ledger keeps them apart).
    #[cfg(feature = "ledger")]
    pub(crate) fn with_purposes(mut self, purpose_of: PurposeOf<T>) -> Self {
        self.purpose_of = Some(purpose_of);
        self
    }

    /// The purpose of the input a ticket sends, when inputs have their own.
    #[cfg(feature = "ledger")]
    pub(crate) fn purpose(&self, ticket: &Ticket<T, C>) -> Option<juhe_ledger::Purpose> {
        self.purpose_of.as_ref().and_then(|of| of(&ticket.sent.tag))
    }

    /// The client that sends a ticket's check: `client`, or a client of the input's own
    /// purpose made by `with_purpose` (refused without a ledger: the check is then not sent).
    #[cfg(feature = "ledger")]
    pub(crate) fn client_for<K>(
        &self,
        ticket: &Ticket<T, C>,
        client: K,
        with_purpose: impl FnOnce(&K, juhe_ledger::Purpose) -> Result<K, Error>,
    ) -> Result<K, Error> {
        match self.purpose(ticket) {
            Some(purpose) => with_purpose(&client, purpose),
            None => Ok(client),
        }
    }

    /// A number that sets an input's purpose apart in dedupe: 0 without one.
    fn purpose_key(&self, _tag: &T) -> u128 {
        #[cfg(feature = "ledger")]
        if let Some(purpose) = self.purpose_of.as_ref().and_then(|of| of(_tag)) {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            purpose.label.hash(&mut hasher);
            return u128::from(hasher.finish()) << 64 | 1;
        }
        0
    }

    /// Stops the batch: no check is admitted from now on.
    pub(crate) fn stop(&self) {
        self.board.stop();
    }

    /// The feeder's step: the next check to send, item to hand out, or the end. Blocks while
    /// every slot is held, and while checks in flight may spend the budget.
    pub(crate) fn next_job(&self) -> Job<T, C> {
        loop {
            // With `Wait::Block` a step never returns `None`.
            if let Some(job) = self.step(Wait::Block) {
                return job;
            }
        }
    }

    /// [`next_job`](Self::next_job) for a feeder that must not block: `None` where that
    /// would wait; the feeder then awaits [`changed`](Self::changed) and asks again.
    pub(crate) fn try_next_job(&self) -> Option<Job<T, C>> {
        self.step(Wait::Return)
    }

    /// A change that may let [`try_next_job`](Self::try_next_job) go on.
    pub(crate) async fn changed(&self) {
        self.board.changed().await;
    }

    fn step(&self, wait: Wait) -> Option<Job<T, C>> {
        loop {
            let held = lock(&self.held).take();
            let pulled = match held {
                Some(pulled) => pulled,
                None => match self.next_pulled(wait)? {
                    Some(Classified::New(pulled)) => pulled,
                    Some(Classified::Item(item)) => return Some(Job::Yield(self.counted(item))),
                    Some(Classified::Parked) => continue,
                    None => return Some(Job::End),
                },
            };
            // Not paced here: a check takes its start in its own task, once the ledger (if any)
            // has no answer to reuse, so answers from the ledger take no place of the key's
            // pace (`Pace`).
            let admission = match wait {
                Wait::Block => self.board.admit(),
                Wait::Return => match self.board.try_admit() {
                    Some(admission) => admission,
                    None => {
                        *lock(&self.held) = Some(pulled);
                        return None;
                    }
                },
            };
            return Some(match admission {
                Admission::Admitted => {
                    let Pulled { index, tag, check, slot, subject } = pulled;
                    Job::Send(Ticket { check, sent: Sent { index, tag, slot, subject } })
                }
                Admission::Stopped => {
                    self.abandon(pulled);
                    Job::End
                }
                Admission::OverBudget(max_billed) => {
                    let skipped = Error::Skipped(Skipped::Budget { max_billed });
                    Job::Yield(self.counted(self.unsent(pulled, skipped)))
                }
            });
        }
    }

    /// A sent check's result: its item first, then any copies that reuse its answer.
    pub(crate) fn finish(
        &self,
        sent: Sent<T>,
        result: Result<C::Outcome, Error>,
    ) -> Vec<BatchItem<T, C::Outcome>> {
        let billing = crate::billing_of(&result);
        self.board.finished(billing);
        let copies = match (&self.dedupe, sent.subject) {
            (Some(dedupe), Some(subject)) => self.resolve(&mut lock(dedupe), subject, sent.index, &result),
            _ => Vec::new(),
        };
        // Admitted, then the batch stopped while it waited for its start: never sent, and, as
        // an input pulled but not sent, not handed out (its copies went back to the feeder).
        if let Err(Error::Skipped(Skipped::BatchStopped)) = &result {
            return Vec::new();
        }
        let original =
            BatchItem { index: sent.index, tag: sent.tag, result, reused_from: None, _slot: sent.slot };
        std::iter::once(original).chain(copies).map(|item| self.counted(item)).collect()
    }

    /// Settles the copies of `subject` once its first input's `result` is known.
    fn resolve(
        &self,
        dedupe: &mut Dedupe<T, C>,
        subject: u128,
        first: usize,
        result: &Result<C::Outcome, Error>,
    ) -> Vec<BatchItem<T, C::Outcome>> {
        let copies = match dedupe.groups.remove(&subject) {
            Some(Group::InFlight { copies, .. }) => copies,
            _ => Vec::new(),
        };
        let waited = copies.len();
        match result {
            Ok(outcome) => {
                let outcome = Arc::new(outcome.clone());
                dedupe.groups.insert(subject, Group::Answered { first, outcome: Arc::clone(&outcome) });
                self.board.unpark(waited, 0);
                copies.into_iter().map(|copy| reused(copy, first, &outcome)).collect()
            }
            Err(error) if error.may_be_billed() => {
                dedupe.groups.insert(subject, Group::MaybeBilled { first });
                self.board.unpark(waited, 0);
                let skipped = || Error::Skipped(Skipped::SameAsMaybeBilled { index: first });
                // Copies own no group: nothing to release (and the lock is held).
                copies.into_iter().map(|copy| refused(copy, skipped())).collect()
            }
            // Unbilled: the copies go back to the feeder, and the first becomes the original.
            Err(_) => {
                self.requeue(dedupe, copies);
                Vec::new()
            }
        }
    }

    /// The next input that needs the feeder: a ready copy, or a newly pulled input; `Some(None)`
    /// once there is none, `None` where it would wait and `wait` says not to.
    fn next_pulled(&self, wait: Wait) -> Option<Option<Classified<T, C>>> {
        let exhausted = lock(&self.inputs).is_none();
        if exhausted {
            return Some(self.ready_copy(wait)?.then(|| self.take_ready()).flatten());
        }
        let work = match wait {
            Wait::Block => self.board.work(),
            Wait::Return => self.board.try_work()?,
        };
        Some(match work {
            Work::Stopped => None,
            Work::Ready => self.take_ready(),
            Work::Pull(slot) => {
                let next = lock(&self.inputs).as_mut().and_then(Iterator::next);
                match next {
                    // Input exhausted: the slot goes back, and only copies are left to wait for.
                    None => {
                        *lock(&self.inputs) = None;
                        drop(slot);
                        self.ready_copy(wait)?.then(|| self.take_ready()).flatten()
                    }
                    Some((index, (tag, Err(invalid)))) => Some(Classified::Item(BatchItem {
                        index,
                        tag,
                        result: Err(Error::Invalid(invalid)),
                        reused_from: None,
                        _slot: slot,
                    })),
                    Some((index, (tag, Ok(check)))) => {
                        Some(self.classify(Pulled { index, tag, check, slot, subject: None }))
                    }
                }
            }
        })
    }

    /// Whether a copy is ready once the input is exhausted; `None` where it would wait.
    fn ready_copy(&self, wait: Wait) -> Option<bool> {
        match wait {
            Wait::Block => Some(self.board.ready_copy()),
            Wait::Return => self.board.try_ready_copy(),
        }
    }

    fn take_ready(&self) -> Option<Classified<T, C>> {
        let dedupe = self.dedupe.as_ref()?;
        let copy = lock(dedupe).ready.pop_front()?;
        Some(self.classify(copy))
    }

    /// Whether an input is new, a copy with an answer to reuse, or a copy that must wait.
    fn classify(&self, mut pulled: Pulled<T, C>) -> Classified<T, C> {
        let Some(dedupe) = &self.dedupe else { return Classified::New(pulled) };
        let mut dedupe = lock(dedupe);
        if dedupe.repeats.as_ref().is_some_and(Repeats::is_empty) {
            // The survey saw every question once: no input is a copy, nothing to hash.
            return Classified::New(pulled);
        }
        let subject = Subject::of(&pulled.check, &dedupe.key).short();
        if dedupe.repeats.as_ref().is_some_and(|r| !r.contains(subject)) {
            // The survey saw this question once: nothing to remember.
            return Classified::New(pulled);
        }
        // The same question for another purpose is another question, as in the ledger.
        let subject = subject ^ self.purpose_key(&pulled.tag);
        pulled.subject = Some(subject);
        match dedupe.groups.get_mut(&subject) {
            None => {
                dedupe.groups.insert(subject, Group::InFlight { first: pulled.index, copies: Vec::new() });
                Classified::New(pulled)
            }
            Some(Group::InFlight { copies, .. }) => {
                copies.push(pulled);
                self.board.park(1);
                Classified::Parked
            }
            Some(Group::Answered { first, outcome }) => Classified::Item(reused(pulled, *first, outcome)),
            Some(Group::MaybeBilled { first }) => {
                let skipped = Error::Skipped(Skipped::SameAsMaybeBilled { index: *first });
                Classified::Item(refused(pulled, skipped))
            }
        }
    }

    /// An input that will not be sent after all: its subject is released, and copies that
    /// waited on it go back to the feeder (or are dropped, once the batch is stopped).
    fn abandon(&self, pulled: Pulled<T, C>) {
        self.release(&pulled);
    }

    /// An input refused unsent, as an item.
    fn unsent(&self, pulled: Pulled<T, C>, error: Error) -> BatchItem<T, C::Outcome> {
        self.release(&pulled);
        refused(pulled, error)
    }

    fn release(&self, pulled: &Pulled<T, C>) {
        let (Some(dedupe), Some(subject)) = (&self.dedupe, pulled.subject) else { return };
        let mut dedupe = lock(dedupe);
        let owns = matches!(dedupe.groups.get(&subject), Some(Group::InFlight { first, .. }) if *first == pulled.index);
        if !owns {
            return;
        }
        let Some(Group::InFlight { copies, .. }) = dedupe.groups.remove(&subject) else { return };
        self.requeue(&mut dedupe, copies);
    }

    /// Copies whose original went unbilled go back to the feeder to be classified again (the
    /// first becomes the original); once the batch is stopped they are dropped.
    fn requeue(&self, dedupe: &mut Dedupe<T, C>, copies: Vec<Pulled<T, C>>) {
        let waited = copies.len();
        if self.board.is_stopped() {
            self.board.unpark(waited, 0);
        } else {
            dedupe.ready.extend(copies);
            self.board.unpark(waited, waited);
        }
    }

    fn counted(&self, item: BatchItem<T, C::Outcome>) -> BatchItem<T, C::Outcome> {
        self.board.count(&item.result, item.reused_from.is_some());
        item
    }
}

fn reused<T, C: Check>(copy: Pulled<T, C>, first: usize, outcome: &C::Outcome) -> BatchItem<T, C::Outcome> {
    BatchItem {
        index: copy.index,
        tag: copy.tag,
        result: Ok(outcome.clone()),
        reused_from: Some(first),
        _slot: copy.slot,
    }
}

/// An input not sent, as an item.
fn refused<T, C: Check>(pulled: Pulled<T, C>, error: Error) -> BatchItem<T, C::Outcome> {
    BatchItem {
        index: pulled.index,
        tag: pulled.tag,
        result: Err(error),
        reused_from: None,
        _slot: pulled.slot,
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The engine driven by hand, step by step: the feeder's jobs and the senders' results in an
/// order the test chooses, no sender, no clock, no sleep. What the behaviour suites check
/// against a sandbox, decided here exactly.
#[cfg(test)]
mod tests {
    use juhe_proto::{Billing, ResultFields, Telecom3Check, Telecom3Outcome};
    use juhe_transport::{Delivery, TransportError, TransportErrorKind};

    use super::*;

    type Item = BatchItem<&'static str, Telecom3Outcome>;

    fn check(mobile: &str) -> Telecom3Check {
        Telecom3Check::new("张三", "11010519491231002X", mobile).unwrap()
    }

    fn engine(
        inputs: Vec<(&'static str, &str)>,
        slots: usize,
        max_billed: Option<u64>,
    ) -> Engine<impl Iterator<Item = Input<&'static str, Telecom3Check>>, &'static str, Telecom3Check> {
        let inputs: Vec<Input<&'static str, Telecom3Check>> =
            inputs.into_iter().map(|(tag, mobile)| (tag, Ok(check(mobile)))).collect();
        let options = BatchOptions::default().dedupe(true);
        Engine::new(inputs.into_iter(), &options, Board::new(slots, max_billed))
    }

    fn billed() -> Result<Telecom3Outcome, Error> {
        let mut result = serde_json::Map::new();
        result.insert("res".into(), "1".into());
        Ok(Telecom3Outcome::from_result(&ResultFields::new(result), "成功".into()))
    }

    fn lost() -> Result<Telecom3Outcome, Error> {
        Err(TransportError::new(TransportErrorKind::Timeout, Delivery::MaybeSent, "lost").into())
    }

    fn not_sent() -> Result<Telecom3Outcome, Error> {
        Err(TransportError::new(TransportErrorKind::Connect, Delivery::NotSent, "refused").into())
    }

    fn send(job: Job<&'static str, Telecom3Check>) -> Sent<&'static str> {
        match job {
            Job::Send(ticket) => ticket.sent,
            Job::Yield(item) => panic!("expected a send, got the item of {}", item.tag),
            Job::End => panic!("expected a send, got the end"),
        }
    }

    fn yielded(job: Job<&'static str, Telecom3Check>) -> Item {
        match job {
            Job::Yield(item) => item,
            Job::Send(ticket) => panic!("expected an item, got a send of {}", ticket.sent.tag),
            Job::End => panic!("expected an item, got the end"),
        }
    }

    /// A repeat waits for its first's answer and reuses it, unbilled; one pulled after the
    /// answer reuses it at once; the end comes once every input is handed out.
    #[test]
    fn a_repeat_reuses_the_first_answer_without_a_send() {
        let engine = engine(
            vec![
                ("a", "13912345678"),
                ("a2", "+86 139 1234 5678"),
                ("b", "13912345679"),
                ("a3", "13912345678"),
            ],
            8,
            None,
        );
        let a = send(engine.next_job());
        let b = send(engine.next_job()); // `a2` parked on the way
        assert_eq!(b.tag, "b");
        let items = engine.finish(a, billed());
        let tags: Vec<_> = items.iter().map(|i| (i.tag, i.reused_from)).collect();
        assert_eq!(tags, [("a", None), ("a2", Some(0))]);
        assert_eq!(items[1].billing(), Billing::NotBilled);
        let a3 = yielded(engine.next_job());
        assert_eq!((a3.tag, a3.reused_from), ("a3", Some(0)));
        assert_eq!(engine.finish(b, billed()).len(), 1);
        assert!(matches!(engine.next_job(), Job::End));
        let stats = engine.board.stats(None);
        assert_eq!((stats.billed, stats.reused), (2, 2), "{stats:?}");
    }

    /// A first that may have been billed without an answer: its repeats are not sent (they
    /// might pay twice) and say which input they wait on.
    #[test]
    fn repeats_of_a_maybe_billed_check_are_not_sent() {
        let engine = engine(vec![("a", "13912345678"), ("a2", "13912345678")], 8, None);
        let a = send(engine.next_job());
        let items = engine.finish(a, lost());
        assert_eq!(items.len(), 1);
        assert!(items[0].result.as_ref().is_err_and(Error::may_be_billed));
        let a2 = yielded(engine.next_job());
        assert!(matches!(a2.result, Err(Error::Skipped(Skipped::SameAsMaybeBilled { index: 0 }))));
        assert!(matches!(engine.next_job(), Job::End));
    }

    /// A first that went unbilled (not sent): its repeat is checked in its own right.
    #[test]
    fn a_repeat_of_an_unbilled_check_is_sent_itself() {
        let engine = engine(vec![("a", "13912345678"), ("a2", "13912345678")], 8, None);
        let a = send(engine.next_job());
        // The feeder parks `a2` on `a` and waits (the input has nothing else); whether `a`
        // ends before or after that, `a2` is then sent in its own right.
        let first = std::thread::scope(|scope| {
            let feeder = scope.spawn(|| engine.next_job());
            let items = engine.finish(a, not_sent());
            assert_eq!(items.len(), 1, "only the first's own item");
            feeder.join().unwrap()
        });
        let a2 = send(first);
        assert_eq!(a2.tag, "a2");
        assert_eq!(engine.finish(a2, billed())[0].reused_from, None);
    }

    /// The budget: with one billed check allowed and one in flight, the next waits for it;
    /// billed, the next is skipped unsent, naming the budget.
    #[test]
    fn the_budget_skips_what_could_pass_it() {
        let engine = engine(vec![("a", "13912345678"), ("b", "13912345679")], 8, Some(1));
        let a = send(engine.next_job());
        // The feeder waits while `a` could still end unbilled; whether `a` ends before or
        // after it asks, billed it leaves no budget for `b`.
        let b = std::thread::scope(|scope| {
            let feeder = scope.spawn(|| engine.next_job());
            engine.finish(a, billed());
            feeder.join().unwrap()
        });
        let b = yielded(b);
        assert!(matches!(b.result, Err(Error::Skipped(Skipped::Budget { max_billed: 1 }))), "{:?}", b.result);
    }

    /// Stopped: nothing more is sent or pulled.
    #[test]
    fn a_stopped_batch_sends_nothing_more() {
        let engine = engine(vec![("a", "13912345678"), ("b", "13912345679")], 8, None);
        engine.stop();
        assert!(matches!(engine.next_job(), Job::End));
    }

    /// The step of a feeder that must not block returns `None` exactly where the blocking
    /// one would wait: every slot held, a copy parked on its original, the budget in doubt;
    /// and each of those is decided the same way once the board changes.
    #[test]
    fn a_step_that_must_not_block_waits_where_the_blocking_one_would() {
        let engine = engine(vec![("a", "13912345678"), ("b", "13912345679"), ("c", "13912345670")], 2, None);
        let a = send(engine.try_next_job().unwrap());
        let b = send(engine.try_next_job().unwrap());
        assert!(engine.try_next_job().is_none(), "both slots held");
        let [a_item]: [Item; 1] = engine.finish(a, billed()).try_into().ok().unwrap();
        assert!(engine.try_next_job().is_none(), "a's item still holds its slot");
        drop(a_item);
        assert_eq!(send(engine.try_next_job().unwrap()).tag, "c");
        drop(engine.finish(b, billed()));
        assert!(matches!(engine.try_next_job(), Some(Job::End)));
    }

    #[test]
    fn a_step_that_must_not_block_waits_for_an_original_then_reuses_it() {
        let engine = engine(vec![("a", "13912345678"), ("a2", "13912345678")], 8, None);
        let a = send(engine.try_next_job().unwrap());
        assert!(engine.try_next_job().is_none(), "a2 parked on a, nothing else to pull");
        let items = engine.finish(a, billed());
        assert_eq!(
            items.iter().map(|i| (i.tag, i.reused_from)).collect::<Vec<_>>(),
            [("a", None), ("a2", Some(0))]
        );
        assert!(matches!(engine.try_next_job(), Some(Job::End)));
    }

    /// The budget in doubt: the input pulled is held, not lost nor pulled again; once the
    /// check in flight ends unbilled, the held input is the one admitted.
    #[test]
    fn a_step_that_must_not_block_holds_an_input_while_the_budget_is_in_doubt() {
        let engine =
            engine(vec![("a", "13912345678"), ("b", "13912345679"), ("c", "13912345670")], 8, Some(1));
        let a = send(engine.try_next_job().unwrap());
        assert!(engine.try_next_job().is_none(), "a could still be billed");
        assert!(engine.try_next_job().is_none(), "asked again: still in doubt");
        drop(engine.finish(a, not_sent()));
        assert_eq!(send(engine.try_next_job().unwrap()).tag, "b", "the held input, not the next");
        assert!(engine.try_next_job().is_none());
        engine.stop();
        assert!(matches!(engine.try_next_job(), Some(Job::End)), "stopped: the held input is dropped unsent");
    }

    /// The feeder task's wake-up: a change made before it awaits is not lost.
    #[test]
    fn a_change_before_the_await_still_wakes_the_feeder() {
        let engine = engine(vec![("a", "13912345678"), ("b", "13912345679")], 1, None);
        let a = send(engine.try_next_job().unwrap());
        assert!(engine.try_next_job().is_none());
        drop(engine.finish(a, billed()));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), engine.changed()).await.expect("woken");
        });
        assert_eq!(send(engine.try_next_job().unwrap()).tag, "b");
    }
}
