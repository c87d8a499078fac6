//! The protocol core's integration tests, in one binary: request snapshots, response
//! snapshots, validation properties and parsers that never panic.

mod parsers_never_panic;
mod requests;
mod responses;
mod validation;

use juhe_proto::CivilDate;

/// The date the tests validate ID card numbers against: fixed, so a test never changes
/// meaning with the calendar.
pub(crate) const TODAY: CivilDate = CivilDate { year: 2026, month: 11, day: 23 };
