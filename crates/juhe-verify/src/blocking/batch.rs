//! The blocking batch: worker threads instead of tasks, the same guarantees.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use juhe_proto::{Check, ValidationError};

use crate::batch::{BatchItem, BatchOptions, Slot, ThreadSlot, ThreadSlots};
use crate::pacer::Pacer;
use crate::{Error, blocking};

/// The most worker threads one blocking batch starts, whatever its concurrency (up to
/// [`MAX_CONCURRENCY`](crate::MAX_CONCURRENCY)): past this, threads cost more memory than they
/// win in throughput against one service.
pub const MAX_THREADS: usize = 256;

/// The results of a running blocking batch, in the order the checks finish.
pub struct Batch<T, O> {
    source: Source<T, O>,
    pacer: Arc<Pacer>,
}

impl<T, O> Batch<T, O> {
    /// The pace the batch keeps, as [`crate::Batch::rate`] says.
    pub fn rate(&self) -> Option<f64> {
        self.pacer.rate()
    }
}

enum Source<T, O> {
    /// From the dispatcher thread and its workers.
    Threads(Receiver<BatchItem<T, O>>),
    /// No thread could be started: one check at a time, on the caller's thread.
    Inline(Box<dyn FnMut() -> Option<BatchItem<T, O>> + Send>),
}

impl<T, O> Iterator for Batch<T, O> {
    type Item = BatchItem<T, O>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Threads(results) => results.recv().ok(),
            Source::Inline(next) => next(),
        }
    }
}

impl<T, O> std::fmt::Debug for Batch<T, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = match self.source {
            Source::Threads(_) => "threads",
            Source::Inline(_) => "the caller's thread",
        };
        f.debug_struct("Batch").field("running_on", &on).finish()
    }
}

/// A check handed to a worker, with its slot.
struct Job<T, C> {
    index: usize,
    tag: T,
    check: C,
    slot: ThreadSlot,
}

impl blocking::Client {
    /// Checks every input on worker threads and yields the results as they finish, with the
    /// same guarantees as [`Client::batch`](crate::Client::batch): bounded memory, a rate
    /// cap, one result per input, invalid input never sent, and a slot held until its item is
    /// dropped. Threads are started as checks need them: never more than the concurrency, the
    /// checks started, or [`MAX_THREADS`].
    pub fn batch<C, T, I>(&self, inputs: I, options: BatchOptions) -> Batch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        let (results, receiver) = sync_channel(options.concurrency);
        let client = self.clone();
        // Shared so that the inputs can be taken back if the thread cannot be started.
        let inputs = Arc::new(Mutex::new(Some(inputs.into_iter())));
        let handed = Arc::clone(&inputs);
        let mode = options.mode.unwrap_or(client.mode());
        let handed_options = options.clone();
        let pacer = Arc::new(Pacer::new(options.rate));
        let pool = Pool::new(client.clone(), results.clone(), Arc::clone(&pacer));
        let started = std::thread::Builder::new().name("juhe-batch".into()).spawn(move || {
            let taken = handed.lock().ok().and_then(|mut inputs| inputs.take());
            if let Some(inputs) = taken {
                dispatch(inputs, handed_options, results, pool);
            }
        });
        let source = match started {
            Ok(_) => Source::Threads(receiver),
            Err(_) => {
                let mut inputs =
                    inputs.lock().ok().and_then(|mut inputs| inputs.take()).into_iter().flatten().enumerate();
                Source::Inline(Box::new(move || {
                    let (index, (tag, check)) = inputs.next()?;
                    let result =
                        check.map_err(Error::Invalid).and_then(|check| client.verify_in(mode, &check));
                    Some(BatchItem { index, tag, result, _slot: None })
                }))
            }
        };
        Batch { source, pacer }
    }
}

/// Pulls the inputs in order: invalid ones go straight to the results, valid ones wait for a
/// slot and the pacer, then go to a worker.
fn dispatch<C, T, I>(
    inputs: I,
    options: BatchOptions,
    results: SyncSender<BatchItem<T, C::Outcome>>,
    mut pool: Pool<T, C>,
) where
    C: Check,
    T: Send + 'static,
    I: Iterator<Item = (T, Result<C, ValidationError>)>,
{
    let slots = ThreadSlots::new(options.concurrency);
    let limit = options.concurrency.min(MAX_THREADS);
    let mode = options.mode.unwrap_or(pool.client.mode());
    for (index, (tag, check)) in inputs.enumerate() {
        let check = match check {
            Ok(check) => check,
            Err(invalid) => {
                let item = BatchItem { index, tag, result: Err(Error::Invalid(invalid)), _slot: None };
                if results.send(item).is_err() {
                    return;
                }
                continue;
            }
        };
        let slot = slots.acquire();
        std::thread::sleep(pool.pacer.wait());
        if !pool.run(Job { index, tag, check, slot }, limit, mode) {
            return;
        }
    }
}

/// Worker threads, started one at a time when a job finds none idle.
struct Pool<T, C: Check> {
    client: blocking::Client,
    results: SyncSender<BatchItem<T, C::Outcome>>,
    jobs: Sender<Job<T, C>>,
    /// The other end of `jobs`, shared by the workers.
    queue: Arc<Mutex<Receiver<Job<T, C>>>>,
    idle: Arc<AtomicUsize>,
    threads: usize,
    pacer: Arc<Pacer>,
}

impl<T: Send + 'static, C: Check> Pool<T, C> {
    fn new(
        client: blocking::Client,
        results: SyncSender<BatchItem<T, C::Outcome>>,
        pacer: Arc<Pacer>,
    ) -> Self {
        let (jobs, queue) = channel();
        Self {
            client,
            results,
            jobs,
            queue: Arc::new(Mutex::new(queue)),
            idle: Arc::default(),
            threads: 0,
            pacer,
        }
    }

    /// Hands `job` to a worker, starting one if none is idle and fewer than `limit` run.
    /// `false` once nobody reads the results any more.
    fn run(&mut self, job: Job<T, C>, limit: usize, mode: juhe_proto::Mode) -> bool {
        if self.idle.load(Ordering::SeqCst) == 0 && self.threads < limit {
            let (receiver, idle) = (Arc::clone(&self.queue), Arc::clone(&self.idle));
            let (client, results, pacer) =
                (self.client.clone(), self.results.clone(), Arc::clone(&self.pacer));
            let worker = move || work(&client, mode, &receiver, &idle, &results, &pacer);
            if std::thread::Builder::new().name("juhe-batch-worker".into()).spawn(worker).is_ok() {
                self.threads += 1;
            }
        }
        // With no worker at all (none could be started), the check is made here.
        if self.threads == 0 {
            let result = self.client.verify_paced(mode, &job.check, Some(&self.pacer));
            let item =
                BatchItem { index: job.index, tag: job.tag, result, _slot: Some(Slot::Thread(job.slot)) };
            return self.results.send(item).is_ok();
        }
        self.jobs.send(job).is_ok()
    }
}

fn work<T, C: Check>(
    client: &blocking::Client,
    mode: juhe_proto::Mode,
    jobs: &Mutex<Receiver<Job<T, C>>>,
    idle: &AtomicUsize,
    results: &SyncSender<BatchItem<T, C::Outcome>>,
    pacer: &Pacer,
) {
    loop {
        idle.fetch_add(1, Ordering::SeqCst);
        let job = jobs.lock().map(|jobs| jobs.recv()).unwrap_or_else(|poisoned| poisoned.into_inner().recv());
        idle.fetch_sub(1, Ordering::SeqCst);
        let Ok(job) = job else { return };
        let result = client.verify_paced(mode, &job.check, Some(pacer));
        let item = BatchItem { index: job.index, tag: job.tag, result, _slot: Some(Slot::Thread(job.slot)) };
        if results.send(item).is_err() {
            return;
        }
    }
}
