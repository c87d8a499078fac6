//! What every part of a batch shares and no part may decide alone: the slots, the stop, the
//! budget and the counts, under one lock. Admitting a check (is the batch stopped? is there
//! budget left?) is one step under that lock, so `stop()` and the budget are exact: once
//! `stop()` returns, or the budget is reached, no check is admitted.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::batch::stats::{BatchStats, Counts};
use crate::{Billing, Error};

/// The shared state of one batch; see the module's comment.
#[derive(Debug)]
pub(crate) struct Board {
    state: Mutex<State>,
    /// Signalled whenever a slot frees up, a check finishes, a copy becomes ready, or the
    /// batch stops, if anyone waits ([`State::waiting`]). Only the feeder waits on it.
    changed: Condvar,
    /// The same changes, for a feeder that is a task ([`Board::changed`]).
    awaited: tokio::sync::Notify,
}

#[derive(Debug)]
struct State {
    /// Slots not held by any input.
    free: usize,
    stopped: bool,
    /// Copies handed back to the feeder to be classified again (their original went unbilled).
    ready: usize,
    /// Copies waiting for an original in flight.
    parked: usize,
    /// Checks admitted whose answer has not come.
    in_flight: u64,
    /// Checks billed, maybe billed, or in flight: what the budget is measured against.
    spent: u64,
    max_billed: Option<u64>,
    counts: Counts,
    /// Threads waiting on `changed`: a change nobody waits for signals no one, which saves
    /// the two futex calls per row a signal costs even with no waiter (docs/benchmarks.md).
    /// Counted under the lock the waiter holds until it sleeps, so no signal is lost.
    waiting: usize,
}

/// What the feeder may do next.
#[derive(Debug)]
pub(crate) enum Work {
    /// Pull an input into this slot.
    Pull(Slot),
    /// Take a ready copy (it holds its slot already).
    Ready,
    /// Nothing more: the batch is stopped.
    Stopped,
}

/// Whether a check may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Yes: it is counted in flight and against the budget.
    Admitted,
    /// The batch is stopped: it must be dropped unsent.
    Stopped,
    /// The budget is spent by checks billed or maybe billed.
    OverBudget(u64),
}

/// A unit of concurrency, held by one input from the moment it is pulled until its item is
/// dropped; given back on drop.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Board>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.free += 1;
        self.0.signal(state);
    }
}

impl Board {
    pub(crate) fn new(slots: usize, max_billed: Option<u64>) -> Arc<Self> {
        let state = State {
            free: slots,
            stopped: false,
            ready: 0,
            parked: 0,
            in_flight: 0,
            spent: 0,
            max_billed,
            counts: Counts::default(),
            waiting: 0,
        };
        Arc::new(Self {
            state: Mutex::new(state),
            changed: Condvar::new(),
            awaited: tokio::sync::Notify::new(),
        })
    }

    /// Waits for a free slot or a ready copy; ready copies go first.
    pub(crate) fn work(self: &Arc<Self>) -> Work {
        self.until(|state| self.decide_work(state))
    }

    /// [`work`](Self::work) if it need not wait; `None` if it would.
    pub(crate) fn try_work(self: &Arc<Self>) -> Option<Work> {
        self.decide_work(&mut self.lock())
    }

    fn decide_work(self: &Arc<Self>, state: &mut State) -> Option<Work> {
        if state.stopped {
            return Some(Work::Stopped);
        }
        if state.ready > 0 {
            state.ready -= 1;
            return Some(Work::Ready);
        }
        if state.free > 0 {
            state.free -= 1;
            return Some(Work::Pull(Slot(Arc::clone(self))));
        }
        None
    }

    /// Once the input is exhausted: waits for a ready copy (`true`), or for no copy left
    /// waiting on an original, or the stop (`false`).
    pub(crate) fn ready_copy(&self) -> bool {
        self.until(Self::decide_ready_copy)
    }

    /// [`ready_copy`](Self::ready_copy) if it need not wait; `None` if it would.
    pub(crate) fn try_ready_copy(&self) -> Option<bool> {
        Self::decide_ready_copy(&mut self.lock())
    }

    fn decide_ready_copy(state: &mut State) -> Option<bool> {
        if state.stopped {
            return Some(false);
        }
        if state.ready > 0 {
            state.ready -= 1;
            return Some(true);
        }
        (state.parked == 0).then_some(false)
    }

    /// Decides, in one step, whether a check may be sent. While checks in flight could take
    /// the batch to its budget, it waits for them: they may end unbilled.
    pub(crate) fn admit(&self) -> Admission {
        self.until(Self::decide_admission)
    }

    /// [`admit`](Self::admit) if it need not wait; `None` if it would.
    pub(crate) fn try_admit(&self) -> Option<Admission> {
        Self::decide_admission(&mut self.lock())
    }

    fn decide_admission(state: &mut State) -> Option<Admission> {
        if state.stopped {
            return Some(Admission::Stopped);
        }
        match state.max_billed {
            Some(max) if state.spent >= max && state.in_flight == 0 => Some(Admission::OverBudget(max)),
            Some(max) if state.spent >= max => None,
            _ => {
                state.spent += 1;
                state.in_flight += 1;
                Some(Admission::Admitted)
            }
        }
    }

    /// A change to the board, for a feeder that awaits instead of blocking: each change
    /// leaves one wake-up, so one made between its look and its await is not lost.
    pub(crate) async fn changed(&self) {
        self.awaited.notified().await;
    }

    /// Checks admitted and not finished.
    pub(crate) fn in_flight(&self) -> u64 {
        self.lock().in_flight
    }

    /// An admitted check ended; a check that was not billed gives its budget back.
    pub(crate) fn finished(&self, billing: Billing) {
        let mut state = self.lock();
        state.in_flight -= 1;
        if billing == Billing::NotBilled {
            state.spent -= 1;
        }
        self.signal(state);
    }

    /// Sleeps `pause` (the pacer's spacing), waking early if the batch stops.
    pub(crate) fn pause(&self, pause: Duration) {
        let deadline = Instant::now() + pause;
        let mut state = self.lock();
        while !state.stopped {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state.waiting += 1;
            state = self.changed.wait_timeout(state, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
            state.waiting -= 1;
        }
    }

    /// No check is admitted from now on.
    pub(crate) fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        self.signal(state);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.lock().stopped
    }

    /// `count` copies now wait for an original in flight.
    pub(crate) fn park(&self, count: usize) {
        self.lock().parked += count;
    }

    /// Copies that waited: `reused` of them got their original's answer, `ready` go back to
    /// the feeder, the rest were dropped.
    pub(crate) fn unpark(&self, waited: usize, ready: usize) {
        let mut state = self.lock();
        state.parked -= waited;
        state.ready += ready;
        self.signal(state);
    }

    /// Counts an item about to be handed to the caller.
    pub(crate) fn count<O: juhe_proto::Outcome>(&self, result: &Result<O, Error>, reused: bool) {
        self.lock().counts.add(result, reused);
    }

    /// The counts so far.
    pub(crate) fn stats(&self, rate: Option<f64>) -> BatchStats {
        self.lock().counts.stats(rate)
    }

    /// Blocks until `decide` decides, looking again at each change.
    fn until<R>(&self, mut decide: impl FnMut(&mut State) -> Option<R>) -> R {
        let mut state = self.lock();
        loop {
            if let Some(decided) = decide(&mut state) {
                return decided;
            }
            state = self.wait(state);
        }
    }

    fn wait<'a>(&self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        state.waiting += 1;
        let mut state = self.changed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        state.waiting -= 1;
        state
    }

    /// Wakes the waiters of a change just made under `state`, if there are any, and leaves
    /// a wake-up for a feeder that awaits (a cheap atomic store when none does).
    fn signal(&self, state: MutexGuard<'_, State>) {
        let anyone = state.waiting > 0;
        drop(state);
        if anyone {
            self.changed.notify_all();
        }
        self.awaited.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads admit and finish checks against a budget of `max` as fast as they can, each
    /// finishing half its checks unbilled. If admitting were two steps (read the spent, then
    /// count one more), two threads could both see room for the last check.
    #[test]
    fn the_budget_is_one_step_under_contention() {
        const MAX: u64 = 50;
        for round in 0..200 {
            let board = Board::new(64, Some(MAX));
            let billed = std::sync::atomic::AtomicU64::new(0);
            let over = std::sync::atomic::AtomicU64::new(0);
            std::thread::scope(|s| {
                for t in 0..8 {
                    let (board, billed, over) = (&board, &billed, &over);
                    s.spawn(move || {
                        for i in 0..40 {
                            match board.admit() {
                                Admission::Admitted => {
                                    let outcome =
                                        if (i + t) % 2 == 0 { Billing::Billed } else { Billing::NotBilled };
                                    if outcome == Billing::Billed {
                                        billed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    }
                                    board.finished(outcome);
                                }
                                Admission::OverBudget(_) => {
                                    over.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                }
                                Admission::Stopped => unreachable!(),
                            }
                        }
                    });
                }
            });
            let billed = billed.into_inner();
            assert!(billed <= MAX, "round {round}: {billed} billed against a budget of {MAX}");
            assert!(billed == MAX || over.into_inner() == 0, "round {round}: refused while under budget");
        }
    }

    #[test]
    fn nothing_is_admitted_after_stop_and_a_pause_ends_at_stop() {
        let board = Board::new(1, None);
        assert_eq!(board.admit(), Admission::Admitted);
        board.stop();
        assert_eq!(board.admit(), Admission::Stopped);
        let started = Instant::now();
        board.pause(Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(board.work(), Work::Stopped));
    }

    #[test]
    fn slots_come_back_when_dropped() {
        let board = Board::new(1, None);
        let Work::Pull(slot) = board.work() else { panic!("a slot was free") };
        let waiter = {
            let board = Arc::clone(&board);
            std::thread::spawn(move || matches!(board.work(), Work::Pull(_)))
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(slot);
        assert!(waiter.join().unwrap());
    }
}
