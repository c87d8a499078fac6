//! The blocking batch: the same engine as the async one (`crate::batch`), its checks sent on
//! worker threads. The feeder runs on a thread of its own and hands each admitted check to an
//! idle worker, starting one when none is idle (never more than the concurrency, the checks
//! admitted, or [`MAX_THREADS`]).

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::Scope;

use juhe_proto::{Check, Mode, ValidationError};

use crate::batch::{
    BatchHandle, BatchItem, BatchOptions, BatchStats, Board, Engine, Input, Job, Pace, Ticket,
};
use crate::blocking;

/// The most worker threads one blocking batch starts, whatever its concurrency (up to
/// [`MAX_CONCURRENCY`](crate::MAX_CONCURRENCY)): past this, threads cost more memory than they
/// win in throughput against one service.
pub const MAX_THREADS: usize = 256;

/// The results of a running blocking batch, in the order the checks finish. `'scope` is the
/// scope its threads run in: `'static` for [`Client::batch`](blocking::Client::batch), a
/// [`std::thread::scope`]'s for [`Client::batch_in`](blocking::Client::batch_in). Dropping it
/// stops the batch.
pub struct Batch<'scope, T, O> {
    source: Source<'scope, T, O>,
    handle: BatchHandle,
}

enum Source<'scope, T, O> {
    /// From the feeder and the workers.
    Threads(Receiver<BatchItem<T, O>>),
    /// No thread could be started: one check at a time, on the thread that reads.
    Inline(Box<dyn FnMut() -> Option<BatchItem<T, O>> + Send + 'scope>),
}

impl<T, O> Batch<'_, T, O> {
    /// No check is sent from now on, as [`crate::Batch::stop`] says.
    pub fn stop(&self) {
        self.handle.stop();
    }

    /// A handle to stop the batch or read its counts from another thread.
    pub fn handle(&self) -> BatchHandle {
        self.handle.clone()
    }

    /// The counts so far.
    pub fn stats(&self) -> BatchStats {
        self.handle.stats()
    }

    /// The pace the batch keeps, as [`crate::Batch::rate`] says.
    pub fn rate(&self) -> Option<f64> {
        self.handle.rate()
    }
}

impl<T, O> Iterator for Batch<'_, T, O> {
    type Item = BatchItem<T, O>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Threads(results) => results.recv().ok(),
            Source::Inline(next) => next(),
        }
    }
}

impl<T, O> Drop for Batch<'_, T, O> {
    fn drop(&mut self) {
        self.handle.stop();
    }
}

impl<T, O> std::fmt::Debug for Batch<'_, T, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

impl blocking::Client {
    /// Checks every input on worker threads and yields the results as they finish, with the
    /// guarantees of the [batch engine](crate::batch), the same as
    /// [`Client::batch`](crate::Client::batch)'s. Threads are started as checks need them:
    /// never more than the concurrency, the checks started, or [`MAX_THREADS`]. With no
    /// thread to be had at all, the checks are made one at a time on the thread that reads
    /// the results.
    ///
    /// ```no_run
    /// # fn run(client: juhe_verify::blocking::Client) {
    /// use juhe_verify::{BatchOptions, IdCardCheck};
    ///
    /// let rows = vec![("张三", "11010519491231002X")];
    /// let inputs = rows.into_iter().map(|(name, id)| (name, IdCardCheck::new(name, id)));
    /// for item in client.batch(inputs, BatchOptions::default().concurrency(8)) {
    ///     println!("{}: {:?} {:?}", item.tag, item.result.as_ref().map(|o| o.verdict), item.reused_from());
    /// }
    /// # }
    /// ```
    pub fn batch<C, T, I>(&self, inputs: I, options: BatchOptions) -> Batch<'static, T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        start(self, inputs.into_iter(), &options, Detached, None)
    }

    /// [`Client::batch_with_purposes`](crate::Client::batch_with_purposes), for the blocking
    /// client: each input's check made for the purpose its tag names.
    #[cfg(feature = "ledger")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ledger")))]
    pub fn batch_with_purposes<C, T, I>(
        &self,
        inputs: I,
        options: BatchOptions,
        purpose_of: impl Fn(&T) -> Option<juhe_ledger::Purpose> + Send + Sync + 'static,
    ) -> Batch<'static, T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        start(self, inputs.into_iter(), &options, Detached, Some(Box::new(purpose_of)))
    }

    /// The same as [`batch`](Self::batch), on threads of `scope`: the inputs and tags may
    /// borrow from outside it. The scope ends once the batch's threads do: read the batch
    /// to its end, or drop it (which stops it), inside the scope.
    ///
    /// ```no_run
    /// # fn run(client: juhe_verify::blocking::Client) {
    /// use juhe_verify::{BatchOptions, IdCardCheck};
    ///
    /// let people: Vec<(String, String)> = vec![("张三".into(), "11010519491231002X".into())];
    /// std::thread::scope(|scope| {
    ///     let inputs = people.iter().map(|(name, id)| (name.as_str(), IdCardCheck::new(name, id)));
    ///     for item in client.batch_in(scope, inputs, BatchOptions::default()) {
    ///         println!("{}: {:?}", item.tag.chars().next().unwrap_or('?'), item.billing());
    ///     }
    /// });
    /// # }
    /// ```
    pub fn batch_in<'scope, 'env, C, T, I>(
        &self,
        scope: &'scope Scope<'scope, 'env>,
        inputs: I,
        options: BatchOptions,
    ) -> Batch<'scope, T, C::Outcome>
    where
        C: Check,
        T: Send + 'scope,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'scope,
    {
        start(self, inputs.into_iter(), &options, Scoped(scope), None)
    }
}

/// Where a batch's threads run.
trait Spawner<'scope>: Copy + Send + 'scope {
    fn spawn(self, name: &str, work: impl FnOnce() + Send + 'scope) -> std::io::Result<()>;
}

/// Threads of their own, for `'static` inputs.
#[derive(Clone, Copy)]
struct Detached;

impl Spawner<'static> for Detached {
    fn spawn(self, name: &str, work: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        std::thread::Builder::new().name(name.into()).spawn(work).map(drop)
    }
}

/// Threads of a [`std::thread::scope`].
#[derive(Clone, Copy)]
struct Scoped<'scope, 'env>(&'scope Scope<'scope, 'env>);

impl<'scope> Spawner<'scope> for Scoped<'scope, '_> {
    fn spawn(self, name: &str, work: impl FnOnce() + Send + 'scope) -> std::io::Result<()> {
        std::thread::Builder::new().name(name.into()).spawn_scoped(self.0, work).map(drop)
    }
}

/// Each input's purpose, read from its tag; `()` without the ledger feature.
#[cfg(feature = "ledger")]
type Purposes<T> = Option<crate::batch::PurposeOf<T>>;
#[cfg(not(feature = "ledger"))]
type Purposes<T> = Option<std::marker::PhantomData<T>>;

fn start<'scope, I, T, C, S>(
    client: &blocking::Client,
    inputs: I,
    options: &BatchOptions,
    spawner: S,
    purposes: Purposes<T>,
) -> Batch<'scope, T, C::Outcome>
where
    I: Iterator<Item = Input<T, C>> + Send + 'scope,
    T: Send + 'scope,
    C: Check,
    S: Spawner<'scope>,
{
    let slots = options.slots();
    let board = Board::new(slots, options.max_billed);
    let pace = Pace::new(options, Arc::clone(&board), client.key_pace());
    let handle = BatchHandle::new(Arc::clone(&board), pace.clone(), client.activity());
    let engine = Engine::new(inputs, options, board);
    #[cfg(feature = "ledger")]
    let engine = match purposes {
        Some(purpose_of) => engine.with_purposes(purpose_of),
        None => engine,
    };
    #[cfg(not(feature = "ledger"))]
    let _ = purposes;
    let engine = Arc::new(engine);
    let mode = options.mode.unwrap_or(client.mode());
    let (results, receiver) = sync_channel(slots);
    let crew = Arc::new(Crew {
        engine,
        client: client.clone(),
        mode,
        pace,
        queue: Mutex::new(Queue { tickets: VecDeque::new(), idle: 0, threads: 0, closed: false }),
        queued: Condvar::new(),
        limit: slots.min(MAX_THREADS),
    });
    let feeder = Arc::clone(&crew);
    let source = match spawner.spawn("juhe-batch-feed", move || feeder.feed(&results, spawner)) {
        Ok(()) => Source::Threads(receiver),
        Err(_) => {
            let mut pending = VecDeque::new();
            Source::Inline(Box::new(move || crew.next_inline(&mut pending)))
        }
    };
    Batch { source, handle }
}

/// The feeder and workers of one blocking batch, and what they share.
struct Crew<I, T, C: Check> {
    engine: Arc<Engine<I, T, C>>,
    client: blocking::Client,
    mode: Mode,
    pace: Pace,
    queue: Mutex<Queue<T, C>>,
    queued: Condvar,
    limit: usize,
}

/// Admitted checks waiting for a worker; each holds its slot, so there are at most
/// `concurrency` of them.
struct Queue<T, C> {
    tickets: VecDeque<Ticket<T, C>>,
    idle: usize,
    threads: usize,
    /// The feeder is done: workers leave once the queue is empty.
    closed: bool,
}

type Results<T, C> = SyncSender<BatchItem<T, <C as Check>::Outcome>>;

impl<'scope, I, T, C> Crew<I, T, C>
where
    I: Iterator<Item = Input<T, C>> + Send + 'scope,
    T: Send + 'scope,
    C: Check,
{
    /// The feeder's loop: every step of the engine, checks handed to workers.
    fn feed<S: Spawner<'scope>>(self: Arc<Self>, results: &Results<T, C>, spawner: S) {
        loop {
            match self.engine.next_job() {
                Job::End => break,
                Job::Yield(item) => {
                    // The batch was dropped.
                    if results.send(item).is_err() {
                        self.engine.stop();
                        break;
                    }
                }
                Job::Send(ticket) => {
                    if let Some(ticket) = self.hand_over(ticket, results, spawner) {
                        // No worker at all: the feeder checks it itself.
                        self.check(ticket, results);
                    }
                }
            }
        }
        self.lock().closed = true;
        self.queued.notify_all();
    }

    /// Queues `ticket` for a worker, starting one if none is idle; gives it back when there
    /// is no worker to take it.
    fn hand_over<S: Spawner<'scope>>(
        self: &Arc<Self>,
        ticket: Ticket<T, C>,
        results: &Results<T, C>,
        spawner: S,
    ) -> Option<Ticket<T, C>> {
        let mut queue = self.lock();
        if queue.idle <= queue.tickets.len() && queue.threads < self.limit {
            let (crew, results) = (Arc::clone(self), results.clone());
            if spawner.spawn("juhe-batch-worker", move || crew.work(&results)).is_ok() {
                queue.threads += 1;
                queue.idle += 1;
            }
        }
        if queue.threads == 0 {
            return Some(ticket);
        }
        queue.tickets.push_back(ticket);
        drop(queue);
        self.queued.notify_one();
        None
    }

    fn work(&self, results: &Results<T, C>) {
        loop {
            let ticket = {
                let mut queue = self.lock();
                loop {
                    if let Some(ticket) = queue.tickets.pop_front() {
                        queue.idle -= 1;
                        break ticket;
                    }
                    if queue.closed {
                        return;
                    }
                    queue = self.queued.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            if !self.check(ticket, results) {
                // The batch was dropped: this worker leaves, and says so.
                self.lock().threads -= 1;
                return;
            }
            self.lock().idle += 1;
        }
    }

    /// Sends one check and hands out its items; `false` once the batch is dropped.
    fn check(&self, ticket: Ticket<T, C>, results: &Results<T, C>) -> bool {
        #[cfg(feature = "ledger")]
        let client = self.engine.client_for(&ticket, self.client.clone(), blocking::Client::with_purpose);
        #[cfg(not(feature = "ledger"))]
        let client: Result<blocking::Client, crate::Error> = Ok(self.client.clone());
        let Ticket { check, sent } = ticket;
        let result = client.and_then(|client| client.verify_paced(self.mode, &check, Some(&self.pace)));
        for item in self.engine.finish(sent, result) {
            if results.send(item).is_err() {
                self.engine.stop();
                return false;
            }
        }
        true
    }

    /// The next item, checked on the caller's thread (no thread could be started).
    fn next_inline(
        &self,
        pending: &mut VecDeque<BatchItem<T, C::Outcome>>,
    ) -> Option<BatchItem<T, C::Outcome>> {
        if let Some(item) = pending.pop_front() {
            return Some(item);
        }
        match self.engine.next_job() {
            Job::End => None,
            Job::Yield(item) => Some(item),
            Job::Send(Ticket { check, sent }) => {
                let result = self.client.verify_paced(self.mode, &check, Some(&self.pace));
                pending.extend(self.engine.finish(sent, result));
                pending.pop_front()
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue<T, C>> {
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
