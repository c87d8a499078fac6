//! `juhe batch`'s readers of files: the input CSV (any encoding, any damage) and the resume
//! scanner of an earlier output. Records or reported line ranges, never a panic, never an
//! allocation sized by a number in the file.
//!
//! The readers are `juhe-csv`'s, the library `juhe batch` uses.
#![no_main]

use juhe_csv::{ColumnHasher, InputFile, Record, TextEncoding, scan_output};
use juhe_proto::Param;
use libfuzzer_sys::fuzz_target;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir =
        if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
    dir.join(format!("juhe-fuzz-{}-{name}.csv", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let input = scratch("in");
    std::fs::write(&input, data).expect("scratch file");
    if let Ok(file) = InputFile::open(&input, &[Param::Realname, Param::Idcard, Param::Mobile], None) {
        let mut last = 0;
        if let Ok(records) = file.records() {
            for record in records.take(10_000) {
                let row = match record {
                    Record::Row { row, columns } => {
                        assert_eq!(columns.len(), file.headers.len());
                        row
                    }
                    Record::Malformed { row, lines, .. } => {
                        assert!(lines.0 <= lines.1);
                        row
                    }
                };
                assert_eq!(row, last + 1, "rows are numbered one by one");
                last = row;
            }
        }
    }
    // The same bytes as an earlier run's output: scanned, maybe cut, never trusted.
    let output = scratch("out");
    std::fs::write(&output, data).expect("scratch file");
    let header: Vec<String> = ["name", "juhe_row", "juhe_reason"].iter().map(|s| (*s).to_owned()).collect();
    for encoding in [TextEncoding::Utf8 { bom: false }, TextEncoding::Gbk] {
        if let Ok(scanned) = scan_output(&output, &header, 1, encoding, &ColumnHasher::default(), data.len() % 2 == 0) {
            assert!(scanned.done.len() <= data.len());
        }
    }
});
