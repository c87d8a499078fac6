//! What a user types into `--name`, `--idcard`, `--mobile` and `--image`: a validated value
//! or an error naming the field, never a panic.
#![no_main]

use juhe_proto::{CivilDate, FaceImage, IdCardNumber, MobileNumber, PersonName};
use libfuzzer_sys::fuzz_target;

const TODAY: CivilDate = CivilDate { year: 2026, month: 11, day: 23 };

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = IdCardNumber::parse_on(&text, TODAY) {
        assert_eq!(id.as_str().len(), 18);
        assert!(id.birth_date() <= TODAY);
    }
    if let Ok(mobile) = MobileNumber::parse(&text) {
        assert_eq!(mobile.as_str().len(), 11);
    }
    if let Ok(name) = PersonName::parse(&text) {
        // At least two characters, and the mask hides all but the first.
        assert!(name.as_str().chars().count() >= 2);
        assert_ne!(name.masked(), name.as_str());
    }
    if let Ok(image) = FaceImage::from_bytes(data.to_vec()) {
        assert!(image.as_bytes().len() <= FaceImage::MAX_BYTES);
    }
    let _ = FaceImage::from_base64(&text);
});
