//! `juhe ledger audit`: the processing record (PIPL art. 54–56) with no personal data — each
//! check's facts and who ran it, then the admin log (team keys, erasures). Text that came
//! from outside (a purpose, a consent reference, a user name) is made spreadsheet-safe.

use std::io::Write;

use juhe_verify::ledger::{AdminAction, Entry, Ledger, Span, china_timestamp};
use serde_json::{Value, json};

use crate::args::lowargs::AuditFormat;
use crate::failure::Failure;
use crate::untrusted_text::spreadsheet_safe;

/// The columns, in order.
const HEADER: [&str; 17] = [
    "kind",
    "at",
    "entry",
    "product",
    "mode",
    "target",
    "team",
    "purpose",
    "consent_ref",
    "outcome",
    "error_code",
    "order_id",
    "user",
    "host",
    "pid",
    "settled_by",
    "detail",
];

fn check_row(e: &Entry) -> [String; 17] {
    let text = |v: &Option<String>| spreadsheet_safe(v.as_deref().unwrap_or_default());
    let actor = e.actor.as_ref();
    [
        "check".into(),
        china_timestamp(e.started_at),
        e.id.get().to_string(),
        e.product.clone(),
        e.mode.clone(),
        spreadsheet_safe(&e.target),
        text(&e.team),
        text(&e.purpose),
        text(&e.consent_ref),
        e.state.as_str().into(),
        e.error_code.map(|c| c.to_string()).unwrap_or_default(),
        text(&e.order_id),
        actor.map(|a| spreadsheet_safe(&a.user)).unwrap_or_default(),
        actor.map(|a| spreadsheet_safe(&a.host)).unwrap_or_default(),
        actor.map(|a| a.pid.to_string()).unwrap_or_default(),
        e.settled.as_ref().map(|s| spreadsheet_safe(&s.by)).unwrap_or_default(),
        String::new(),
    ]
}

fn admin_row(a: &AdminAction) -> [String; 17] {
    let mut row: [String; 17] = Default::default();
    row[0] = "admin".into();
    row[1] = china_timestamp(a.at);
    row[6] = spreadsheet_safe(&a.team);
    row[9] = a.action.clone();
    row[12] = spreadsheet_safe(&a.by);
    row[16] = spreadsheet_safe(&a.detail);
    row
}

/// Prints the record of `span` (the admin log whole) on stdout.
pub(crate) fn run(ledger: &Ledger, span: Span, format: AuditFormat) -> Result<(), Failure> {
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let cannot_write = |e: std::io::Error| Failure::failed(format!("could not write the audit: {e}"));
    let mut sink = Sink::new(out, format);
    sink.write(HEADER.map(str::to_owned)).map_err(cannot_write)?;
    super::write_entries(ledger, span, |entry| sink.write(check_row(&entry)))?.map_err(cannot_write)?;
    let actions = ledger.admin_actions().map_err(|e| Failure::usage(crate::failure::error_chain(&e)))?;
    for action in &actions {
        sink.write(admin_row(action)).map_err(cannot_write)?;
    }
    sink.finish().map_err(cannot_write)
}

/// CSV with a header, or a JSON object per line keyed by the header.
enum Sink<W: Write> {
    Csv(csv::Writer<W>),
    Json { out: W, header: Option<[String; 17]> },
}

impl<W: Write> Sink<W> {
    fn new(out: W, format: AuditFormat) -> Self {
        match format {
            AuditFormat::Csv => Sink::Csv(csv::Writer::from_writer(out)),
            AuditFormat::Json => Sink::Json { out, header: None },
        }
    }

    fn write(&mut self, row: [String; 17]) -> std::io::Result<()> {
        match self {
            Sink::Csv(csv) => csv.write_record(&row).map_err(std::io::Error::other),
            Sink::Json { header: header @ None, .. } => {
                *header = Some(row);
                Ok(())
            }
            Sink::Json { out, header: Some(names) } => {
                let object: serde_json::Map<String, Value> = names
                    .iter()
                    .zip(row)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(n, v)| (n.clone(), json!(v)))
                    .collect();
                writeln!(out, "{}", Value::Object(object))
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Csv(mut csv) => csv.flush(),
            Sink::Json { mut out, .. } => out.flush(),
        }
    }
}
