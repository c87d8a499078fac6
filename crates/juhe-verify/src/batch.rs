//! Many checks at once: bounded concurrency, a rate cap, one result per input, in the order
//! they finish. A failed row never stops the batch.
//!
//! A check holds a concurrency slot from the moment it starts until its [`BatchItem`] is
//! dropped, not merely until it finishes: a caller that records each result before dropping
//! its item knows that at most `concurrency` checks are billed but not yet recorded, at every
//! instant, whatever is killed when.

use std::sync::{Arc, Condvar, Mutex};

use juhe_proto::{Check, Mode, ValidationError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::pacer::Pacer;
use crate::{Client, Error};

/// The largest concurrency a batch takes. Juhe's per-key rate limits make more pointless, and
/// each unit costs a slot, a channel place and, in a blocking batch, possibly a thread.
pub const MAX_CONCURRENCY: usize = 4096;

/// How a batch runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOptions {
    pub(crate) concurrency: usize,
    pub(crate) rate: Option<f64>,
    pub(crate) mode: Option<Mode>,
}

impl Default for BatchOptions {
    /// 8 checks in flight, no rate cap, the client's mode.
    fn default() -> Self {
        Self { concurrency: 8, rate: None, mode: None }
    }
}

impl BatchOptions {
    /// At most `n` checks in flight or unrecorded, between 1 and [`MAX_CONCURRENCY`].
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// At most `rate` checks started per second, evenly spaced. A rate that is not a positive
    /// number means no cap; one below [`MIN_RATE`](crate::MIN_RATE) is taken as `MIN_RATE`.
    ///
    /// Capped or not, a batch slows down by itself when Juhe says the key or the IP is over
    /// its limit (10012, 10011, HTTP 429): it halves its rate (not below one check a second),
    /// then raises it a little with each check that goes through, never above the cap
    /// ([`Batch::rate`] tells the pace).
    pub fn rate_per_second(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    /// The mode of every check (the client's default otherwise).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }
}

/// One finished input: its position in the input, the tag it came with, and its result.
///
/// It holds its check's concurrency slot: drop it once the result is recorded.
#[derive(Debug)]
pub struct BatchItem<T, O> {
    /// 0-based position in the input.
    pub index: usize,
    /// What the caller attached to the input (a row, an id).
    pub tag: T,
    /// The outcome, or why there is none. Invalid input is `Err(Error::Invalid)` and was
    /// never sent.
    pub result: Result<O, Error>,
    /// The slot of a check that was started, given back when the item is dropped; `None`
    /// for invalid input.
    pub(crate) _slot: Option<Slot>,
}

/// A concurrency slot, given back when dropped.
#[derive(Debug)]
#[allow(dead_code, reason = "held only to be dropped")]
pub(crate) enum Slot {
    /// Of the async batch.
    Task(OwnedSemaphorePermit),
    /// Of the blocking batch.
    Thread(ThreadSlot),
}

/// A counting semaphore for threads: tokio's has no blocking acquire.
#[derive(Debug)]
pub(crate) struct ThreadSlots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// A slot of [`ThreadSlots`].
#[derive(Debug)]
pub(crate) struct ThreadSlot(Arc<ThreadSlots>);

impl ThreadSlots {
    pub(crate) fn new(slots: usize) -> Arc<Self> {
        Arc::new(Self { free: Mutex::new(slots), freed: Condvar::new() })
    }

    /// Waits for a free slot.
    pub(crate) fn acquire(self: &Arc<Self>) -> ThreadSlot {
        let mut free = self.free.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *free -= 1;
        ThreadSlot(Arc::clone(self))
    }
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// The results of a running batch, in the order the checks finish.
#[derive(Debug)]
pub struct Batch<T, O> {
    results: mpsc::Receiver<BatchItem<T, O>>,
    pacer: Arc<Pacer>,
}

impl<T, O> Batch<T, O> {
    /// The next finished input; `None` once every input has its result.
    pub async fn next(&mut self) -> Option<BatchItem<T, O>> {
        self.results.recv().await
    }

    /// The pace the batch keeps, in checks per second: the cap given, or, once Juhe has said
    /// the key or the IP is over its limit (10011, 10012, HTTP 429), the rate it slowed down
    /// to; `None` while uncapped.
    pub fn rate(&self) -> Option<f64> {
        self.pacer.rate()
    }
}

impl Client {
    /// Checks every input, `options.concurrency` at a time, and returns the results as they
    /// finish. Inputs are pulled only as slots free up, and a slot frees up only when its
    /// item is dropped, so memory and unrecorded results stay bounded whatever the input's
    /// length; stop early by making the iterator end. Each input carries a tag returned with
    /// its result. Must be called inside a tokio runtime; the iterator is pulled on a
    /// thread of its own, so it may block (read files).
    ///
    /// ```no_run
    /// # async fn run(client: juhe_verify::Client) {
    /// use juhe_verify::{BatchOptions, IdCardCheck};
    ///
    /// let rows = vec![("张三", "11010519491231002X"), ("李四", "not a number")];
    /// let inputs = rows.into_iter().map(|(name, id)| (name, IdCardCheck::new(name, id)));
    /// let mut batch = client.batch(inputs, BatchOptions::default().concurrency(16));
    /// while let Some(item) = batch.next().await {
    ///     println!("row {}: {:?}", item.index, item.result.map(|o| o.verdict));
    ///     // Dropping `item` here frees its slot for the next check.
    /// }
    /// # }
    /// ```
    pub fn batch<C, T, I>(&self, inputs: I, options: BatchOptions) -> Batch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        let (sender, results) = mpsc::channel(options.concurrency);
        let slots = Arc::new(Semaphore::new(options.concurrency));
        let pacer = Arc::new(Pacer::new(options.rate));
        let client = self.clone();
        let mut pulled = pull_on_a_thread(inputs, options.concurrency);
        let batch = Batch { results, pacer: Arc::clone(&pacer) };
        tokio::spawn(async move {
            while let Some((index, (tag, check))) = pulled.recv().await {
                let check = match check {
                    Ok(check) => check,
                    Err(invalid) => {
                        let item =
                            BatchItem { index, tag, result: Err(Error::Invalid(invalid)), _slot: None };
                        if sender.send(item).await.is_err() {
                            return;
                        }
                        continue;
                    }
                };
                // The semaphore is never closed, so this only waits.
                let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { return };
                // A zero sleep would still wait for the timer's next tick (a millisecond).
                let wait = pacer.wait();
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let (client, sender, pacer) = (client.clone(), sender.clone(), Arc::clone(&pacer));
                let mode = options.mode.unwrap_or(client.mode());
                tokio::spawn(async move {
                    let result = client.verify_paced(mode, &check, Some(&pacer)).await;
                    let item = BatchItem { index, tag, result, _slot: Some(Slot::Task(permit)) };
                    let _ = sender.send(item).await;
                });
            }
        });
        batch
    }
}

/// Pulls `inputs` on a blocking thread of the runtime, `ahead` at most ahead of the checks:
/// pulling may block (a face row reads its image file), which must not stall the workers.
fn pull_on_a_thread<I>(inputs: I, ahead: usize) -> mpsc::Receiver<(usize, I::Item)>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
{
    let (sender, receiver) = mpsc::channel(ahead);
    let inputs = inputs.into_iter();
    tokio::task::spawn_blocking(move || {
        for input in inputs.enumerate() {
            // The batch has been dropped: stop reading.
            if sender.blocking_send(input).is_err() {
                return;
            }
        }
    });
    receiver
}
