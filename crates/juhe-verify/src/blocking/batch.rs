//! The blocking batch: worker threads instead of tasks, the same guarantees.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use juhe_proto::{Check, Mode, ValidationError};

use crate::batch::{BatchItem, BatchOptions, Slot, ThreadSlots};
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

enum Source<T, O> {
    /// From the worker threads.
    Threads(Receiver<BatchItem<T, O>>),
    /// No thread could be started: one check at a time, on the thread that reads.
    Inline(Box<dyn FnMut() -> Option<BatchItem<T, O>> + Send>),
}

impl<T, O> Batch<T, O> {
    /// The pace the batch keeps, as [`crate::Batch::rate`] says.
    pub fn rate(&self) -> Option<f64> {
        self.pacer.rate()
    }
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
        f.debug_struct("Batch").field("rate", &self.rate()).finish_non_exhaustive()
    }
}

impl blocking::Client {
    /// Checks every input on worker threads and yields the results as they finish, with the
    /// same guarantees as [`Client::batch`](crate::Client::batch): bounded memory, a rate
    /// cap, one result per input, invalid input never sent, and a slot held until its item is
    /// dropped. Threads are started as checks need them: never more than the concurrency, the
    /// checks started, or [`MAX_THREADS`]. With no thread to be had at all, the checks are
    /// made one at a time on the thread that reads the results.
    pub fn batch<C, T, I>(&self, inputs: I, options: BatchOptions) -> Batch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        let (results, receiver) = sync_channel(options.concurrency);
        let pacer = Arc::new(Pacer::new(options.rate));
        let pool = Arc::new(Pool {
            client: self.clone(),
            check: std::marker::PhantomData,
            mode: options.mode.unwrap_or(self.mode()),
            inputs: Mutex::new(inputs.into_iter().enumerate()),
            slots: ThreadSlots::new(options.concurrency),
            pacer: Arc::clone(&pacer),
            limit: options.concurrency.min(MAX_THREADS),
            threads: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
        });
        let source = if pool.add_worker(&results) {
            Source::Threads(receiver)
        } else {
            Source::Inline(Box::new(move || pool.next_inline()))
        };
        Batch { source, pacer }
    }
}

/// The workers of one batch, and what they share. Each worker takes a slot, pulls the next
/// input itself and checks it; when every worker is busy, one more is started.
struct Pool<I, C> {
    client: blocking::Client,
    check: std::marker::PhantomData<fn() -> C>,
    mode: Mode,
    inputs: Mutex<I>,
    slots: Arc<ThreadSlots>,
    pacer: Arc<Pacer>,
    limit: usize,
    threads: AtomicUsize,
    /// Workers between pulling a check and sending its result.
    busy: AtomicUsize,
}

impl<I, T, C> Pool<I, C>
where
    I: Iterator<Item = (usize, (T, Result<C, ValidationError>))> + Send + 'static,
    T: Send + 'static,
    C: Check,
{
    /// Starts a worker if the limit allows; `false` if none could be started.
    fn add_worker(self: &Arc<Self>, results: &SyncSender<BatchItem<T, C::Outcome>>) -> bool {
        if self.threads.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.threads.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        let (pool, sender) = (Arc::clone(self), results.clone());
        let started =
            std::thread::Builder::new().name("juhe-batch-worker".into()).spawn(move || pool.work(&sender));
        if started.is_err() {
            self.threads.fetch_sub(1, Ordering::SeqCst);
        }
        started.is_ok()
    }

    /// The next result, checked on the caller's thread (no worker could be started).
    fn next_inline(&self) -> Option<BatchItem<T, C::Outcome>> {
        let next =
            self.inputs.lock().map(|mut inputs| inputs.next()).unwrap_or_else(|p| p.into_inner().next());
        let (index, (tag, check)) = next?;
        let result = check.map_err(Error::Invalid).and_then(|check| self.client.verify_in(self.mode, &check));
        Some(BatchItem { index, tag, result, _slot: None })
    }

    fn work(self: &Arc<Self>, results: &SyncSender<BatchItem<T, C::Outcome>>) {
        loop {
            let slot = self.slots.acquire();
            let next =
                self.inputs.lock().map(|mut inputs| inputs.next()).unwrap_or_else(|p| p.into_inner().next());
            let Some((index, (tag, check))) = next else { return };
            let item = match check {
                // Invalid input is never sent: its slot goes back at once.
                Err(invalid) => BatchItem { index, tag, result: Err(Error::Invalid(invalid)), _slot: None },
                Ok(check) => {
                    if self.busy.fetch_add(1, Ordering::SeqCst) + 1 >= self.threads.load(Ordering::SeqCst) {
                        // Every worker is busy: one more, if the limit allows.
                        self.add_worker(results);
                    }
                    let wait = self.pacer.wait();
                    if !wait.is_zero() {
                        std::thread::sleep(wait);
                    }
                    let result = self.client.verify_paced(self.mode, &check, Some(&self.pacer));
                    self.busy.fetch_sub(1, Ordering::SeqCst);
                    BatchItem { index, tag, result, _slot: Some(Slot::Thread(slot)) }
                }
            };
            if results.send(item).is_err() {
                return;
            }
        }
    }
}
