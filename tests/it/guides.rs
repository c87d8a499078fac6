//! What the guide tests share: each guide shows its example exactly as a test runs it.

/// Asserts that `guide` (named `path`) holds the text between `// --- example: NAME ---` and
/// `// --- end ---` in `source`.
pub(crate) fn assert_shown(guide: &str, source: &str, name: &str, path: &str) {
    let start = format!("// --- example: {name} ---\n");
    let body = source
        .split(&start)
        .nth(1)
        .and_then(|rest| rest.split("// --- end ---").next())
        .unwrap_or_else(|| panic!("no example {name} in the test"));
    assert!(guide.contains(body.trim()), "{path} does not show the {name} example as tested");
}
