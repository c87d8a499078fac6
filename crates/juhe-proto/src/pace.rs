//! Juhe's rate limit, and how a client meets it: the facts and the tuning every pacer of
//! juhe-rs shares (a process's own pacer in `juhe-verify`, and the key's pace that a fleet of
//! processes keeps in `juhe-ledger`).
//!
//! Juhe limits each API key to a number of requests in any one-second window, and answers
//! 10011, 10012 or HTTP 429 past it. A pacer starts slowly, speeds up while nothing is
//! refused, and at a refusal sets its rate to what went through in the last second (the limit,
//! measured), a little under it, probing upwards slowly from there.

use std::time::Duration;

/// The span of a key's rate window (and of the counts that measure it).
pub const WINDOW: Duration = Duration::from_secs(1);
/// The smallest rate a pacer holds: one check an hour.
pub const MIN_RATE: f64 = 1.0 / 3600.0;
/// The slowest a rate limit makes a pacer: one check a second (or the cap, if lower). Juhe's
/// limits are per second and per day; below this, slowing down no longer helps.
pub const FLOOR: f64 = 1.0;
/// Where an uncapped pacer starts, checks per second.
pub const SLOW_START: f64 = 100.0;
/// In the slow start, the rate may always be this many checks per round trip: what a limit met
/// at that rate costs in refusals (the checks in flight when the first comes back). So a
/// server that answers in a millisecond is not paced at all, and one 100 ms away starts at
/// [`SLOW_START`].
pub const IN_FLIGHT_AT_A_LIMIT: f64 = 8.0;
/// How much each check multiplies the rate by in the slow start.
pub const SLOW_START_GROWTH: f64 = 1.02;
/// Past this rate, never limited, a pacer does not pace at all (sleeps this short would only
/// slow it down).
pub const UNPACED: f64 = 5_000.0;
/// How far under the measured limit a refusal sets the rate.
pub const UNDER_LIMIT: f64 = 0.98;
/// How much of the measured limit each check that goes through adds, probing upwards: about
/// half a percent of the limit per second at the limit.
pub const PROBE: f64 = 0.00005;
/// How many times faster the probe climbs while under the rate that drew the last refusal.
pub const CATCH_UP: f64 = 4.0;
/// The most one refusal lowers a known limit by.
pub const LIMIT_DROP: f64 = 0.9;
/// A refusal lowers the rate at most once per this long: the answers of checks started at the
/// old rate are still coming in.
pub const CUT_EVERY: Duration = Duration::from_secs(1);
