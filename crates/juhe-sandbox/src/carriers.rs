//! Which carrier a mainland mobile number belongs to, by its first three digits.

/// Carriers by number segment (号段), as Juhe names them in `type`.
const SEGMENTS: [(&str, &[u16]); 4] = [
    (
        "移动",
        &[
            134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 172, 178, 182, 183, 184, 187,
            188, 195, 197, 198,
        ],
    ),
    ("联通", &[130, 131, 132, 145, 155, 156, 166, 167, 171, 175, 176, 185, 186, 196]),
    ("电信", &[133, 149, 153, 173, 174, 177, 180, 181, 189, 190, 191, 193, 199]),
    ("广电", &[192]),
];

/// The carrier of `mobile` (11 digits), if its segment is known.
pub(crate) fn carrier_of(mobile: &str) -> Option<&'static str> {
    let segment: u16 = mobile.get(..3)?.parse().ok()?;
    SEGMENTS.iter().find(|(_, s)| s.contains(&segment)).map(|(name, _)| *name)
}

/// The segments of a carrier, for generating numbers.
pub(crate) fn segments() -> &'static [(&'static str, &'static [u16]); 4] {
    &SEGMENTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_segments() {
        assert_eq!(carrier_of("13912345678"), Some("移动"));
        assert_eq!(carrier_of("18612345678"), Some("联通"));
        assert_eq!(carrier_of("19912345678"), Some("电信"));
        assert_eq!(carrier_of("19212345678"), Some("广电"));
        assert_eq!(carrier_of("10012345678"), None);
        assert_eq!(carrier_of("1"), None);
    }
}
