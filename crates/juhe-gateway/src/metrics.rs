//! `/metrics`, in Prometheus's text format: checks by team, product, mode and outcome, and
//! their latency. Labels are names the gateway chose (a team, a product, a mode, an outcome),
//! never anything a request carried.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// Juhe answered with error_code 0: billed.
    Billed,
    /// Answered from the ledger: not billed now.
    Reused,
    /// Refused by the gateway before anything was sent: a key, a product, a field.
    Refused,
    /// Refused over a team's or the account's budget.
    OverBudget,
    /// Juhe answered with an error code: not billed.
    Rejected,
    /// Sent, no answer: may have been billed (the ledger holds it).
    MaybeBilled,
    /// Not sent for another reason (the ledger unreachable, a check in flight elsewhere).
    NotSent,
}

impl Outcome {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Billed => "billed",
            Self::Reused => "reused",
            Self::Refused => "refused",
            Self::OverBudget => "over_budget",
            Self::Rejected => "rejected",
            Self::MaybeBilled => "maybe_billed",
            Self::NotSent => "not_sent",
        }
    }
}

/// The upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Labels of a count: team, product, mode, outcome.
type Labels = (String, &'static str, &'static str, Outcome);

/// A latency histogram.
#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Every count, behind one lock (a few hundred nanoseconds per request).
#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    checks: BTreeMap<Labels, u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

impl Metrics {
    /// Counts one request.
    pub(crate) fn record(
        &self,
        team: &str,
        product: &'static str,
        mode: &'static str,
        outcome: Outcome,
        took: Duration,
    ) {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *inner.checks.entry((team.to_owned(), product, mode, outcome)).or_default() += 1;
        let histogram = inner.latency.entry(product).or_default();
        let seconds = took.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Requests per team and outcome, every product and mode together.
    pub(crate) fn by_team(&self) -> BTreeMap<String, BTreeMap<Outcome, u64>> {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut teams: BTreeMap<String, BTreeMap<Outcome, u64>> = BTreeMap::new();
        for ((team, _, _, outcome), n) in &inner.checks {
            *teams.entry(team.clone()).or_default().entry(*outcome).or_default() += n;
        }
        teams
    }

    /// The text `/metrics` serves.
    pub(crate) fn render(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        out.push_str(
            "# HELP juhe_gateway_checks_total Requests by team, product, upstream mode and outcome.\n",
        );
        out.push_str("# TYPE juhe_gateway_checks_total counter\n");
        for ((team, product, mode, outcome), n) in &inner.checks {
            let _ = writeln!(
                out,
                "juhe_gateway_checks_total{{team=\"{team}\",product=\"{product}\",mode=\"{mode}\",outcome=\"{}\"}} {n}",
                outcome.name()
            );
        }
        out.push_str("# HELP juhe_gateway_latency_seconds Time from a request's body to its answer.\n");
        out.push_str("# TYPE juhe_gateway_latency_seconds histogram\n");
        for (product, histogram) in &inner.latency {
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    out,
                    "juhe_gateway_latency_seconds_bucket{{product=\"{product}\",le=\"{bound}\"}} {n}"
                );
            }
            let count = histogram.count;
            let _ = writeln!(
                out,
                "juhe_gateway_latency_seconds_bucket{{product=\"{product}\",le=\"+Inf\"}} {count}"
            );
            let _ =
                writeln!(out, "juhe_gateway_latency_seconds_sum{{product=\"{product}\"}} {}", histogram.sum);
            let _ = writeln!(out, "juhe_gateway_latency_seconds_count{{product=\"{product}\"}} {count}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.record("payments", "telecom3", "aes", Outcome::Billed, Duration::from_millis(3));
        metrics.record("payments", "telecom3", "aes", Outcome::Billed, Duration::from_millis(30));
        metrics.record("risk", "idcard", "rsa", Outcome::Reused, Duration::from_micros(500));
        let text = metrics.render();
        assert!(text.contains(
            "juhe_gateway_checks_total{team=\"payments\",product=\"telecom3\",mode=\"aes\",outcome=\"billed\"} 2"
        ));
        assert!(text.contains("juhe_gateway_latency_seconds_bucket{product=\"telecom3\",le=\"0.005\"} 1"));
        assert!(text.contains("juhe_gateway_latency_seconds_bucket{product=\"telecom3\",le=\"0.05\"} 2"));
        assert!(text.contains("juhe_gateway_latency_seconds_count{product=\"idcard\"} 1"));
        assert_eq!(metrics.by_team()["payments"][&Outcome::Billed], 2);
    }
}
