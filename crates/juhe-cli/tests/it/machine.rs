//! The machine as the suite's tests share it. Most tests run beside one another; a test that
//! measures a pace in real time (the fleet's) has the machine alone: it waits for the tests
//! running to end, and tests starting meanwhile wait for it. Beside the suite's other tests on
//! two cores, a batch's and its live checks' starts, spaced by the pace, reached the sandbox
//! bunched (the processes waited for a core), and a live check was refused (in two of three
//! runs of the whole suite on 2026-12-07; run alone, in none of twelve).
//!
//! A test shares the machine from its first `juhe` command ([`crate::isolated`]) to its end
//! (its thread's), so no test needs to say so.

use std::cell::{Cell, RefCell};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

#[derive(Default)]
struct Machine {
    /// Tests sharing it now.
    sharing: usize,
    /// Whether a test has it alone.
    alone: bool,
}

static MACHINE: Mutex<Machine> = Mutex::new(Machine { sharing: 0, alone: false });
static CHANGED: Condvar = Condvar::new();

thread_local! {
    /// This thread's share, released when the thread (its test) ends.
    static SHARE: RefCell<Option<Share>> = const { RefCell::new(None) };
    /// Whether this thread has the machine alone: its own commands wait for nothing.
    static ALONE: Cell<bool> = const { Cell::new(false) };
}

fn machine() -> MutexGuard<'static, Machine> {
    MACHINE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn wait(guard: MutexGuard<'static, Machine>) -> MutexGuard<'static, Machine> {
    CHANGED.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

struct Share;

impl Drop for Share {
    fn drop(&mut self) {
        machine().sharing -= 1;
        CHANGED.notify_all();
    }
}

/// This thread's test shares the machine until it ends: it waits while another has it alone.
pub(crate) fn share() {
    if ALONE.get() || SHARE.with_borrow(Option::is_some) {
        return;
    }
    let mut state = machine();
    while state.alone {
        state = wait(state);
    }
    state.sharing += 1;
    drop(state);
    SHARE.set(Some(Share));
}

/// The machine alone while the guard lives: once the tests sharing it have ended.
pub(crate) fn alone() -> Alone {
    // Its own share (from an earlier command on this thread) would wait for itself.
    drop(SHARE.take());
    let mut state = machine();
    while state.alone || state.sharing > 0 {
        state = wait(state);
    }
    state.alone = true;
    ALONE.set(true);
    Alone
}

/// The machine held alone: dropped, the tests waiting go on.
pub(crate) struct Alone;

impl Drop for Alone {
    fn drop(&mut self) {
        ALONE.set(false);
        machine().alone = false;
        CHANGED.notify_all();
    }
}
