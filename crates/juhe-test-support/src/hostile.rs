//! A hostile HTTP server for tests: it answers every connection with one scripted
//! misbehaviour (a redirect, an endless or huge body, a drip, silence, garbage) and counts
//! what it accepted and wrote, so a test can tell what the client did. Shared with the
//! end-to-end and CLI tests through the `juhe-test-support` crate.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server does with each connection.
#[derive(Debug, Clone)]
pub enum Script {
    /// Reads the request, then writes these bytes and closes.
    Raw(Vec<u8>),
    /// Reads the request, then answers 200 with this body, `Content-Length` framed.
    Json(String),
    /// Reads the request, then answers `status` with `Location: location`.
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Where it points.
        location: String,
    },
    /// Reads the request, then sends `total` bytes of a chunked body, 64 KiB a chunk.
    Chunked {
        /// Bytes in all.
        total: u64,
    },
    /// Reads the request, then sends `total` bytes of a body that ends when the connection
    /// closes (no length, no chunks).
    CloseDelimited {
        /// Bytes in all.
        total: u64,
    },
    /// Accepts and never reads: a client with a large body blocks writing.
    NeverReads,
    /// Reads the request, then writes the head one byte every `every`.
    DripHead {
        /// The pause between bytes.
        every: Duration,
    },
    /// Reads the request, then writes a head promising 100,000 bytes and the body one byte
    /// every `every`.
    DripBody {
        /// The pause between bytes.
        every: Duration,
    },
    /// Reads the request, then sends a small chunk every `every`, forever.
    EndlessChunks {
        /// The pause between chunks.
        every: Duration,
    },
}

/// A running hostile server; stops when dropped.
pub struct Hostile {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Hostile {
    /// Listens on a free loopback port and plays `script` to every connection.
    pub fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (accepted, written) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let counters = (Arc::clone(&stop), Arc::clone(&accepted), Arc::clone(&written));
        let thread = std::thread::spawn(move || {
            let (stop, accepted, written) = counters;
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                let (script, stop, written) = (script.clone(), Arc::clone(&stop), Arc::clone(&written));
                std::thread::spawn(move || Connection { stream, written, stop }.play(&script));
            }
        });
        Self { addr, stop, accepted, written, thread: Some(thread) }
    }

    /// `http://` and its address.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Body bytes the clients took before closing.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Connection {
    stream: TcpStream,
    written: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Connection {
    fn play(&mut self, script: &Script) {
        if let Script::NeverReads = script {
            while !self.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            return;
        }
        self.read_request();
        let _ = match script {
            Script::Raw(bytes) => self.stream.write_all(bytes),
            Script::Json(body) => self.head_and_body(200, "", body.as_bytes()),
            Script::Redirect { status, location } => {
                self.head_and_body(*status, &format!("Location: {location}\r\n"), b"")
            }
            Script::Chunked { total } => self.chunked(*total, None),
            Script::EndlessChunks { every } => self.chunked(u64::MAX, Some(*every)),
            Script::CloseDelimited { total } => self.close_delimited(*total),
            Script::DripHead { every } => {
                self.drip(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", *every, false)
            }
            Script::DripBody { every } => {
                let head =
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
                self.stream.write_all(head).and_then(|()| self.drip(&[b' '; 100_000], *every, true))
            }
            Script::NeverReads => Ok(()),
        };
    }

    /// Reads the head and, by its `Content-Length`, the body.
    fn read_request(&mut self) {
        let _ = self.stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        let head_end = loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match self.stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        };
        let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while received.len() < head_end + length {
            match self.stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    }

    fn head_and_body(&mut self, status: u16, headers: &str, body: &[u8]) -> std::io::Result<()> {
        let head = format!(
            "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        self.stream.write_all(head.as_bytes())?;
        self.stream.write_all(body)
    }

    fn chunked(&mut self, total: u64, every: Option<Duration>) -> std::io::Result<()> {
        self.stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        )?;
        let chunk = vec![b' '; if every.is_some() { 16 } else { 64 * 1024 }];
        let mut sent = 0u64;
        while sent < total && !self.stop.load(Ordering::SeqCst) {
            self.stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
            self.stream.write_all(&chunk)?;
            self.stream.write_all(b"\r\n")?;
            sent += chunk.len() as u64;
            self.written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            if let Some(every) = every {
                std::thread::sleep(every);
            }
        }
        self.stream.write_all(b"0\r\n\r\n")
    }

    fn close_delimited(&mut self, total: u64) -> std::io::Result<()> {
        self.stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")?;
        let block = vec![b' '; 64 * 1024];
        let mut sent = 0u64;
        while sent < total {
            self.stream.write_all(&block)?;
            sent += block.len() as u64;
            self.written.fetch_add(block.len() as u64, Ordering::SeqCst);
        }
        Ok(())
    }

    fn drip(&mut self, bytes: &[u8], every: Duration, count: bool) -> std::io::Result<()> {
        for byte in bytes {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.stream.write_all(std::slice::from_ref(byte)) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => other?,
            }
            if count {
                self.written.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(every);
        }
        Ok(())
    }
}
