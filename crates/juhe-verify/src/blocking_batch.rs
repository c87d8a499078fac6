//! The blocking batch: worker threads instead of tasks, the same guarantees.

use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use juhe_proto::{Check, ValidationError};

use crate::batch::{BatchItem, BatchOptions};
use crate::pacer::Pacer;
use crate::{Error, blocking};

/// The results of a running blocking batch, in the order the checks finish.
#[derive(Debug)]
pub struct BlockingBatch<T, O> {
    results: Receiver<BatchItem<T, O>>,
}

impl<T, O> Iterator for BlockingBatch<T, O> {
    type Item = BatchItem<T, O>;

    fn next(&mut self) -> Option<Self::Item> {
        self.results.recv().ok()
    }
}

impl blocking::Client {
    /// Checks every input on `options.concurrency` worker threads and yields the results as
    /// they finish, with the same guarantees as [`Client::batch`](crate::Client::batch):
    /// bounded memory, a rate cap, one result per input, invalid input never sent.
    pub fn batch<C, T, I>(&self, inputs: I, options: BatchOptions) -> BlockingBatch<T, C::Outcome>
    where
        C: Check,
        T: Send + 'static,
        I: IntoIterator<Item = (T, Result<C, ValidationError>)>,
        I::IntoIter: Send + 'static,
    {
        let (sender, results) = sync_channel(options.concurrency);
        let inputs = Arc::new(Mutex::new(inputs.into_iter().enumerate()));
        let pacer = options.rate.and_then(Pacer::new).map(Arc::new);
        for _ in 0..options.concurrency {
            let (inputs, sender, pacer, client) =
                (Arc::clone(&inputs), sender.clone(), pacer.clone(), self.clone());
            let mode = options.mode;
            std::thread::spawn(move || {
                loop {
                    let next = inputs.lock().map(|mut i| i.next()).unwrap_or(None);
                    let Some((index, (tag, check))) = next else { return };
                    let result = match check {
                        Err(invalid) => Err(Error::Invalid(invalid)),
                        Ok(check) => {
                            if let Some(pacer) = &pacer {
                                std::thread::sleep(pacer.wait());
                            }
                            match mode {
                                Some(mode) => client.verify_in(mode, &check),
                                None => client.verify(&check),
                            }
                        }
                    };
                    if sender.send(BatchItem { index, tag, result }).is_err() {
                        return;
                    }
                }
            });
        }
        BlockingBatch { results }
    }
}
