//! The record structure of a CSV byte stream, followed as the parser reads it. The csv crate
//! accepts a quote still open at the end of the file (it ends the field there, so the rest of
//! the file becomes one cell), and it holds a record in memory however long it is. This reader
//! sits between the file and the parser and follows the same grammar byte by byte, so it can
//! tell which record ended inside an open quote, and cut a record longer than
//! [`MAX_RECORD`]: the rest of that record is dropped before the parser sees it and the record
//! is closed where it was cut, so memory stays bounded whatever the file holds.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// The longest record (all its fields and separators) read in full: 1 MiB.
pub const MAX_RECORD: usize = 1 << 20;

/// What is wrong with a record, found below the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// A quote opened in the record is still open at the end of the file.
    OpenQuote,
    /// Longer than [`MAX_RECORD`]; its rest, `skipped_lines` more lines, was dropped.
    TooLong { skipped_lines: u64 },
}

/// Flaws by record: 0 is the header, 1 the first data record (the parser's order, blank lines
/// not counted).
#[derive(Clone, Debug, Default)]
pub(crate) struct Flaws(Arc<Mutex<BTreeMap<u64, Flaw>>>);

impl Flaws {
    /// The flaw of record `ordinal`, taken out (each is reported once).
    pub(crate) fn take(&self, ordinal: u64) -> Option<Flaw> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&ordinal)
    }

    fn put(&self, ordinal: u64, flaw: Flaw) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(ordinal, flaw);
    }
}

/// Where the grammar is: csv_core's states for `"` quoting with doubled quotes, `,` and any of
/// CR, LF or CRLF ending a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closed the field, or starts a doubled quote.
    QuoteInQuoted,
}

impl State {
    /// The state after `byte`, and whether `byte` ends the record.
    fn after(self, byte: u8) -> (State, bool) {
        use State::*;
        match (self, byte) {
            (FieldStart, b'"') => (Quoted, false),
            (FieldStart | Unquoted | QuoteInQuoted, b',') => (FieldStart, false),
            (FieldStart | Unquoted | QuoteInQuoted, b'\r' | b'\n') => (FieldStart, true),
            (FieldStart | Unquoted, _) => (Unquoted, false),
            (Quoted, b'"') => (QuoteInQuoted, false),
            (Quoted, _) => (Quoted, false),
            (QuoteInQuoted, b'"') => (Quoted, false),
            (QuoteInQuoted, _) => (Unquoted, false),
        }
    }
}

/// A reader that passes a CSV stream through, noting the flaws of its records.
pub(crate) struct RecordBounds<R> {
    inner: R,
    state: State,
    /// The ordinal of the record being read, and its bytes so far.
    record: u64,
    record_len: usize,
    /// While dropping the rest of a record too long: the state it was cut in, the lines dropped.
    skipping: Option<(State, u64)>,
    /// Bytes to hand over before reading on: a cut record's closing.
    closing: &'static [u8],
    /// Bytes read but not yet looked at (what followed a cut record in the same read).
    carry: Vec<u8>,
    flaws: Flaws,
}

impl<R: Read> RecordBounds<R> {
    /// Follows `inner`, noting flaws in `flaws`.
    pub(crate) fn new(inner: R, flaws: Flaws) -> Self {
        RecordBounds {
            inner,
            state: State::FieldStart,
            record: 0,
            record_len: 0,
            skipping: None,
            closing: b"",
            carry: Vec::new(),
            flaws,
        }
    }

    /// Looks at the bytes just read into `buf`, in place: keeps those the parser should see at
    /// its front and returns how many. When a cut record ends inside `buf`, what follows is
    /// kept in `carry` for the next read, after the record's closing.
    fn scan(&mut self, buf: &mut [u8]) -> usize {
        let mut kept = 0;
        for i in 0..buf.len() {
            let byte = buf[i];
            let (next, ends) = self.state.after(byte);
            match &mut self.skipping {
                None => {
                    buf[kept] = byte;
                    kept += 1;
                    self.state = next;
                    if ends {
                        self.end_record();
                    } else {
                        self.record_len += 1;
                        if self.record_len > MAX_RECORD {
                            self.skipping = Some((next, 0));
                        }
                    }
                }
                Some((cut_in, lines)) => {
                    self.state = next;
                    if !ends {
                        *lines += u64::from(byte == b'\n');
                        continue;
                    }
                    self.flaws.put(self.record, Flaw::TooLong { skipped_lines: *lines });
                    // Close what the parser holds open: a quoted field needs its quote.
                    self.closing = if *cut_in == State::Quoted { b"\"\n" } else { b"\n" };
                    self.skipping = None;
                    self.end_record();
                    let mut rest = buf[i + 1..].to_vec();
                    rest.append(&mut self.carry);
                    self.carry = rest;
                    return kept;
                }
            }
        }
        kept
    }

    fn end_record(&mut self) {
        // An empty line is no record, for the parser either.
        if self.record_len > 0 {
            self.record += 1;
        }
        self.record_len = 0;
    }

    /// At the end of the input: a record still inside a quote, or still being dropped.
    fn finish(&mut self) {
        if let Some((_, lines)) = self.skipping.take() {
            self.flaws.put(self.record, Flaw::TooLong { skipped_lines: lines });
        } else if self.state == State::Quoted && self.record_len > 0 {
            self.flaws.put(self.record, Flaw::OpenQuote);
        }
    }
}

impl<R: Read> Read for RecordBounds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.closing.is_empty() {
                let n = self.closing.len().min(buf.len());
                buf[..n].copy_from_slice(&self.closing[..n]);
                self.closing = &self.closing[n..];
                return Ok(n);
            }
            let n = if self.carry.is_empty() {
                self.inner.read(buf)?
            } else {
                let n = self.carry.len().min(buf.len());
                buf[..n].copy_from_slice(&self.carry[..n]);
                self.carry.drain(..n);
                n
            };
            if n == 0 {
                self.finish();
                return Ok(0);
            }
            let kept = self.scan(&mut buf[..n]);
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the parser is given, and the flaws noted, reading `input` in reads of `chunk` bytes.
    fn through(input: &[u8], chunk: usize) -> (Vec<u8>, Vec<(u64, Flaw)>) {
        let flaws = Flaws::default();
        let mut reader = RecordBounds::new(input, flaws.clone());
        let (mut out, mut buf) = (Vec::new(), vec![0; chunk]);
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let noted = flaws.0.lock().unwrap().iter().map(|(k, v)| (*k, *v)).collect();
        (out, noted)
    }

    #[test]
    fn well_formed_files_pass_unchanged_and_unflawed() {
        let input = b"a,b\r\n\"x\"\"y\",\"multi\nline\"\n\nz,\"\"\n";
        for chunk in [1, 3, 64] {
            assert_eq!(through(input, chunk), (input.to_vec(), vec![]));
        }
    }

    #[test]
    fn a_quote_open_at_the_end_is_noted_on_its_record() {
        let input = b"name,note\nA,ok\nB,\"open\nC,x\nD,y\n";
        let (out, flaws) = through(input, 7);
        assert_eq!(out, input.to_vec());
        assert_eq!(flaws, vec![(2, Flaw::OpenQuote)]);
        // A closed quote at the very end, and a stray quote inside an unquoted field, are fine.
        assert_eq!(through(b"a\n\"b\"", 4).1, vec![]);
        assert_eq!(through(b"a\n5'11\"\n", 4).1, vec![]);
    }

    #[test]
    fn a_record_too_long_is_cut_and_closed_and_the_next_one_read() {
        let mut input = b"h\n\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_RECORD));
        input.extend_from_slice(b"\nmore\nstill\",tail\nnext\n");
        for chunk in [4096, 1 << 16] {
            let (out, flaws) = through(&input, chunk);
            assert_eq!(flaws, vec![(1, Flaw::TooLong { skipped_lines: 2 })]);
            assert_eq!(out.len(), 2 + MAX_RECORD + 1 + 2 + 5, "{chunk}");
            assert!(out.ends_with(b"x\"\nnext\n"), "{chunk}");
        }
    }

    #[test]
    fn a_record_too_long_to_the_end_of_the_file_is_noted() {
        let mut input = b"h\n\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * MAX_RECORD));
        let (out, flaws) = through(&input, 1 << 16);
        assert_eq!(flaws, vec![(1, Flaw::TooLong { skipped_lines: 0 })]);
        assert!(out.len() <= 2 + MAX_RECORD + 1);
    }
}
