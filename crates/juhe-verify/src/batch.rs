//! Many checks at once: bounded concurrency, a rate cap, one result per input, in the order
//! they finish. A failed row never stops the batch.

use std::sync::Arc;

use juhe_proto::{Check, Mode, ValidationError};
use tokio::sync::{Semaphore, mpsc};

use crate::pacer::Pacer;
use crate::{Client, Error};

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
    /// At most `n` checks in flight (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// At most `rate` checks started per second, evenly spaced. Juhe limits requests per key
    /// (10012) and per IP (10011).
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
#[derive(Debug)]
pub struct BatchItem<T, O> {
    /// 0-based position in the input.
    pub index: usize,
    /// What the caller attached to the input (a row, an id).
    pub tag: T,
    /// The outcome, or why there is none. Invalid input is `Err(Error::Invalid)` and was
    /// never sent.
    pub result: Result<O, Error>,
}

/// The results of a running batch, in the order the checks finish.
#[derive(Debug)]
pub struct Batch<T, O> {
    results: mpsc::Receiver<BatchItem<T, O>>,
}

impl<T, O> Batch<T, O> {
    /// The next finished input; `None` once every input has its result.
    pub async fn next(&mut self) -> Option<BatchItem<T, O>> {
        self.results.recv().await
    }
}

impl Client {
    /// Checks every input, `options.concurrency` at a time, and returns the results as they
    /// finish. Inputs are pulled only as capacity frees up and unread results hold back new
    /// work, so memory stays bounded whatever the input's length; stop early by making the
    /// iterator end. Each input carries a tag returned with its result. Must be called inside
    /// a tokio runtime; the iterator is pulled on it, so keep `next()` cheap.
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
        let pacer = options.rate.and_then(Pacer::new).map(Arc::new);
        let mode = options.mode;
        let client = self.clone();
        let inputs = inputs.into_iter();
        tokio::spawn(async move {
            for (index, (tag, check)) in inputs.enumerate() {
                let check = match check {
                    Ok(check) => check,
                    Err(invalid) => {
                        let item = BatchItem { index, tag, result: Err(Error::Invalid(invalid)) };
                        if sender.send(item).await.is_err() {
                            return;
                        }
                        continue;
                    }
                };
                // The semaphore is never closed, so this only waits.
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
                if let Some(pacer) = &pacer {
                    tokio::time::sleep(pacer.wait()).await;
                }
                let (client, sender) = (client.clone(), sender.clone());
                tokio::spawn(async move {
                    let result = match mode {
                        Some(mode) => client.verify_in(mode, &check).await,
                        None => client.verify(&check).await,
                    };
                    let _ = sender.send(BatchItem { index, tag, result }).await;
                    drop(slot);
                });
            }
        });
        Batch { results }
    }
}
