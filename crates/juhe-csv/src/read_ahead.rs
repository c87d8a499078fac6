//! Reading ahead on a thread of its own: a batch's rows are read, decoded and validated while
//! the batch's one thread sends checks and writes answers (on loopback that thread is the
//! batch's bound, and reading was an eighth of its work). Items cross in chunks, so the two
//! threads meet once a chunk, not once a row, and the reading thread is woken at most once a
//! chunk.
//!
//! Memory stays bounded whatever the rows: a chunk closes at [`CHUNK_ITEMS`] items or
//! [`CHUNK_BYTES`] of them, and at most [`CHUNKS_AHEAD`] wait, so a file of 1 MiB records
//! holds a few MiB ahead, not hundreds.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// The most items a chunk holds.
pub const CHUNK_ITEMS: usize = 128;
/// A chunk closes once its items reach this many bytes (as the caller weighs them).
pub const CHUNK_BYTES: usize = 256 << 10;
/// Chunks read and waiting, beyond the one being taken from.
pub const CHUNKS_AHEAD: usize = 2;

/// An iterator whose items a thread of its own produces ahead of need, in their order.
///
/// Dropping it stops the thread at its next chunk. A panic on the thread is raised again
/// where the items are taken, as if they had been read there.
pub struct ReadAhead<T> {
    chunk: std::vec::IntoIter<T>,
    source: Source<T>,
}

enum Source<T> {
    /// Chunks from the reading thread.
    Thread { chunks: Receiver<Vec<T>>, thread: Option<JoinHandle<()>> },
    /// No thread could be started: items are read as they are asked for.
    Here(Box<dyn Iterator<Item = T> + Send>),
}

impl<T: Send + 'static> ReadAhead<T> {
    /// Reads `items` ahead on a thread of its own, `bytes_of` weighing each; where no thread
    /// can be started, they are read as asked, as `items` alone would be.
    pub fn new<I, W>(items: I, bytes_of: W) -> Self
    where
        I: Iterator<Item = T> + Send + 'static,
        W: Fn(&T) -> usize + Send + 'static,
    {
        let (sender, chunks) = sync_channel(CHUNKS_AHEAD);
        // Held here too, so the items come back if the thread cannot start.
        let items = Arc::new(Mutex::new(Some(items)));
        let on_thread = Arc::clone(&items);
        let started = std::thread::Builder::new().name("juhe-read-ahead".into()).spawn(move || {
            if let Some(items) = take(&on_thread) {
                produce(items, &bytes_of, &sender);
            }
        });
        let source = match started {
            Ok(thread) => Source::Thread { chunks, thread: Some(thread) },
            Err(_) => match take(&items) {
                Some(items) => Source::Here(Box::new(items)),
                // Taken by a thread that did start after all: its chunks come.
                None => Source::Thread { chunks, thread: None },
            },
        };
        Self { chunk: Vec::new().into_iter(), source }
    }
}

fn take<V>(cell: &Mutex<Option<V>>) -> Option<V> {
    cell.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// Sends chunks until the items end or the receiving side is gone.
fn produce<T>(
    mut items: impl Iterator<Item = T>,
    bytes_of: &impl Fn(&T) -> usize,
    sender: &SyncSender<Vec<T>>,
) {
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_ITEMS);
        let mut bytes = 0;
        while chunk.len() < CHUNK_ITEMS && bytes < CHUNK_BYTES {
            let Some(item) = items.next() else { break };
            bytes += bytes_of(&item);
            chunk.push(item);
        }
        if chunk.is_empty() || sender.send(chunk).is_err() {
            return;
        }
    }
}

impl<T> Iterator for ReadAhead<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.chunk.next() {
                return Some(item);
            }
            match &mut self.source {
                Source::Here(items) => return items.next(),
                Source::Thread { chunks, thread } => match chunks.recv() {
                    Ok(chunk) => self.chunk = chunk.into_iter(),
                    Err(_) => {
                        // The thread ended: at the items' end, or in a panic, raised here.
                        if let Some(Err(panic)) = thread.take().map(JoinHandle::join) {
                            std::panic::resume_unwind(panic);
                        }
                        return None;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_comes_in_order_across_chunks() {
        let n = CHUNK_ITEMS * (CHUNKS_AHEAD + 3) + 7;
        let items: Vec<usize> = ReadAhead::new(0..n, |_| 1).collect();
        assert_eq!(items, (0..n).collect::<Vec<_>>());
        assert_eq!(ReadAhead::new(std::iter::empty::<u8>(), |_| 1).count(), 0);
    }

    #[test]
    fn heavy_items_close_their_chunk_early() {
        // Each item weighs half a chunk's bytes: the thread can be at most this many ahead.
        let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&read);
        let items = (0..1000).inspect(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let mut ahead = ReadAhead::new(items, |_| CHUNK_BYTES / 2);
        assert_eq!(ahead.next(), Some(0));
        std::thread::sleep(std::time::Duration::from_millis(200));
        // One chunk taken, `CHUNKS_AHEAD` waiting, one being built: two items each.
        let most = 2 * (1 + CHUNKS_AHEAD + 1);
        let read = read.load(std::sync::atomic::Ordering::SeqCst);
        assert!(read <= most, "{read} items read ahead of one taken, at most {most} expected");
        assert!(read >= 2, "the thread read nothing ahead");
    }

    #[test]
    fn dropping_it_stops_the_thread() {
        struct Dropped(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let guard = Dropped(Arc::clone(&dropped));
        // Endless items, holding the guard: they are dropped only when the thread returns.
        let items = std::iter::repeat(0u8).inspect(move |_| {
            let _ = &guard;
        });
        let mut ahead = ReadAhead::new(items, |_| 1);
        assert_eq!(ahead.next(), Some(0));
        drop(ahead);
        for _ in 0..500 {
            if dropped.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the reading thread went on after its consumer was dropped");
    }

    #[test]
    fn a_panic_while_reading_is_raised_where_items_are_taken() {
        let items = (0..10).map(|i| if i == 5 { panic!("row 5 broke") } else { i });
        let taken = std::panic::catch_unwind(|| ReadAhead::new(items, |_| 1).collect::<Vec<_>>());
        let panic = taken.expect_err("the reader's panic was swallowed: the items looked complete");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"row 5 broke"));
    }
}
