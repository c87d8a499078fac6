//! `--resume`: which rows an interrupted run already wrote, and making its output file whole
//! again (a kill can leave half a line at the end).

use std::fs::OpenOptions;
use std::path::Path;

use crate::failure::Failure;

/// A set of row numbers, one bit each: a million rows take 125 KB.
#[derive(Debug, Default, Clone)]
pub(crate) struct DoneRows(Vec<u64>);

impl DoneRows {
    pub(crate) fn insert(&mut self, row: u64) {
        let (word, bit) = ((row / 64) as usize, row % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    pub(crate) fn contains(&self, row: u64) -> bool {
        self.0.get((row / 64) as usize).is_some_and(|w| w & (1 << (row % 64)) != 0)
    }

    pub(crate) fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// Reads an existing output file: checks its header is `expected`, collects the `row` of each
/// complete record, and cuts off anything after the last complete record.
pub(crate) fn scan_output(path: &Path, expected: &[String]) -> Result<DoneRows, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::failed(format!("could not read {}: {e}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(&bytes[..]);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Failure::usage(format!("{}: not a batch output file: {e}", path.display())))?
        .iter()
        .map(str::to_owned)
        .collect();
    if headers != expected {
        return Err(Failure::usage(format!(
            "{} was written for other input columns or another product; use a new --output file",
            path.display()
        )));
    }
    let row_column = expected.iter().position(|h| h == "row").unwrap_or(0);
    let mut done = DoneRows::default();
    let mut complete_up_to = reader.position().byte();
    let mut record = csv::StringRecord::new();
    while let Ok(true) = reader.read_record(&mut record) {
        let mut end = reader.position().byte();
        // After a CRLF record the reader stops between `\r` and `\n`: the record ends after both.
        if end > 0 && bytes.get(end as usize - 1) == Some(&b'\r') && bytes.get(end as usize) == Some(&b'\n') {
            end += 1;
        }
        // A record is complete when it has every field and its line ending was written.
        let terminated = end > 0 && matches!(bytes.get(end as usize - 1), Some(b'\n' | b'\r'));
        let Some(row) = record.get(row_column).and_then(|r| r.parse().ok()) else { break };
        if record.len() != expected.len() || !terminated {
            break;
        }
        done.insert(row);
        complete_up_to = end;
    }
    if complete_up_to < bytes.len() as u64 {
        eprintln!(
            "juhe: dropping an unfinished last line from {} (its row will be checked again)",
            path.display()
        );
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
        file.set_len(complete_up_to).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_rows_is_a_bit_set() {
        let mut done = DoneRows::default();
        for row in [1, 64, 65, 1_000_000] {
            done.insert(row);
        }
        assert!(done.contains(64) && done.contains(1_000_000) && !done.contains(2));
        assert_eq!(done.len(), 4);
    }

    #[test]
    fn a_half_written_last_line_is_cut_off() {
        let path = std::env::temp_dir().join(format!("juhe-resume-{}.csv", std::process::id()));
        let header: Vec<String> = ["name", "row", "reason"].iter().map(|s| s.to_string()).collect();
        std::fs::write(&path, "name,row,reason\n张三,1,ok\r\n\"李\n四\",2,ok\n王五,3,o").unwrap();
        let done = scan_output(&path, &header).unwrap();
        assert!(done.contains(1) && done.contains(2) && !done.contains(3));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "name,row,reason\n张三,1,ok\r\n\"李\n四\",2,ok\n"
        );
        let other: Vec<String> = ["x"].iter().map(|s| s.to_string()).collect();
        assert!(scan_output(&path, &other).is_err());
        let _ = std::fs::remove_file(&path);
    }
}
