//! Searching files for what must not be in them. Here rather than in the tests, so that it is
//! built optimised (the workspace optimises this crate): a scan of a database file for a few
//! hundred needles takes milliseconds, not seconds.

/// Whether `needle` occurs in `haystack`.
// Never inlined into a caller: the tests are built unoptimised, and the scan would be too.
#[inline(never)]
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// The needles that occur in `haystack`, shown lossily, for an assertion message.
#[inline(never)]
pub fn found(haystack: &[u8], needles: &[&[u8]]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| contains(haystack, n))
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}
