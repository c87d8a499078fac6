//! The protocol core's integration tests, in one binary: request snapshots, response
//! snapshots, validation properties and parsers that never panic.

mod parsers_never_panic;
mod requests;
mod responses;
mod validation;

use juhe_proto::{CivilDate, FaceCheck, IdCardCheck, Telecom2Check, Telecom3Check};

/// The date the tests validate ID card numbers against: fixed, so a test never changes
/// meaning with the calendar.
pub(crate) const TODAY: CivilDate = CivilDate { year: 2026, month: 11, day: 23 };

/// The smallest thing that passes as a JPEG: start of image, a frame header of 32 x 32
/// pixels, end of image.
pub(crate) const JPEG: &[u8] =
    &[0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 32, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9];

/// One valid check of each product, for reading answers to.
pub(crate) mod samples {
    use super::*;

    const NAME: &str = "张三";
    const IDCARD: &str = "11010519491231002X";
    const MOBILE: &str = "13912345678";

    pub(crate) fn idcard() -> IdCardCheck {
        IdCardCheck::new_on(NAME, IDCARD, TODAY).unwrap()
    }

    pub(crate) fn telecom2() -> Telecom2Check {
        Telecom2Check::new_on(IDCARD, MOBILE, TODAY).unwrap()
    }

    pub(crate) fn telecom3() -> Telecom3Check {
        Telecom3Check::new_on(NAME, IDCARD, MOBILE, TODAY).unwrap()
    }

    pub(crate) fn face() -> FaceCheck {
        FaceCheck::new_on(NAME, IDCARD, MOBILE, JPEG.to_vec(), TODAY).unwrap()
    }
}
