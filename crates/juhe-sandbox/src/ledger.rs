//! The billing ledger and request log: what the sandbox was asked, and what it would have
//! charged.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use juhe_proto::Endpoint;
use serde::Serialize;

/// How many requests the log keeps (the oldest go first).
const LOG_CAPACITY: usize = 10_000;

/// Counts per endpoint and the recent requests.
#[derive(Debug)]
pub(crate) struct Ledger {
    per_endpoint: Vec<(AtomicU64, AtomicU64)>,
    /// Requests to paths that are no endpoint.
    unknown_paths: AtomicU64,
    /// Answers by endpoint (its index; `None`: no endpoint) and `error_code`.
    codes: Mutex<BTreeMap<(Option<usize>, i64), u64>>,
    log: Mutex<VecDeque<RequestRecord>>,
}

/// One request, as the log keeps it: personal data masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// The endpoint (`telecom3/queryRV2`), or the path asked for.
    pub api: String,
    /// `GET` or `POST`.
    pub method: String,
    /// The answer's `error_code`; `None` when a fault left no JSON answer.
    pub error_code: Option<i64>,
    /// Whether it was billed.
    pub billed: bool,
    /// The masked name, ID card and mobile, when they could be read.
    pub who: String,
    /// The fault that struck it, if any.
    pub fault: Option<String>,
}

/// Counts of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiCounts {
    /// Requests received.
    pub requests: u64,
    /// Answers with `error_code` 0.
    pub billed: u64,
    /// Answers by `error_code` (`"0"`, `"10012"`, …); a gateway fault's answer has none.
    pub codes: BTreeMap<String, u64>,
}

/// What the sandbox was asked and what it would have charged: `GET /__sandbox/ledger`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerSnapshot {
    /// Every request to an API path (not the admin routes), known or not.
    pub requests: u64,
    /// Answers with `error_code` 0: what Juhe would charge.
    pub billed: u64,
    /// Counts per endpoint that has had a request, by `api`.
    pub apis: BTreeMap<String, ApiCounts>,
    /// Answers by `error_code`, every API together: `{"0": 95, "10012": 2}`.
    pub codes: BTreeMap<String, u64>,
}

impl Ledger {
    pub(crate) fn new() -> Self {
        Self {
            per_endpoint: Endpoint::ALL.iter().map(|_| (AtomicU64::new(0), AtomicU64::new(0))).collect(),
            unknown_paths: AtomicU64::new(0),
            codes: Mutex::new(BTreeMap::new()),
            log: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn record(&self, endpoint: Option<Endpoint>, record: RequestRecord) {
        let index = endpoint.and_then(|e| Endpoint::ALL.iter().position(|x| *x == e));
        if let (Some(code), Ok(mut codes)) = (record.error_code, self.codes.lock()) {
            *codes.entry((index, code)).or_default() += 1;
        }
        match index {
            Some(i) => {
                self.per_endpoint[i].0.fetch_add(1, Ordering::Relaxed);
                if record.billed {
                    self.per_endpoint[i].1.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                self.unknown_paths.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Ok(mut log) = self.log.lock() {
            if log.len() == LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(record);
        }
    }

    pub(crate) fn snapshot(&self) -> LedgerSnapshot {
        let mut snapshot = LedgerSnapshot {
            requests: self.unknown_paths.load(Ordering::Relaxed),
            ..LedgerSnapshot::default()
        };
        let codes = self.codes.lock().map(|c| c.clone()).unwrap_or_default();
        for ((_, code), n) in &codes {
            *snapshot.codes.entry(code.to_string()).or_default() += n;
        }
        for (i, (endpoint, (requests, billed))) in Endpoint::ALL.iter().zip(&self.per_endpoint).enumerate() {
            let counts = ApiCounts {
                requests: requests.load(Ordering::Relaxed),
                billed: billed.load(Ordering::Relaxed),
                codes: codes
                    .iter()
                    .filter(|((e, _), _)| *e == Some(i))
                    .map(|((_, c), n)| (c.to_string(), *n))
                    .collect(),
            };
            snapshot.requests += counts.requests;
            snapshot.billed += counts.billed;
            if counts.requests > 0 {
                snapshot.apis.insert(endpoint.info().api.to_owned(), counts);
            }
        }
        snapshot
    }

    pub(crate) fn recent(&self) -> Vec<RequestRecord> {
        self.log.lock().map(|log| log.iter().cloned().collect()).unwrap_or_default()
    }
}
