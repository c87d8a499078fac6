//! Text that came from a server, made safe to print: a `reason` with `ESC [2J` or an order
//! number with a newline must not clear a terminal, move its cursor or forge a line of
//! output. Control characters (C0, DEL, C1) and the Unicode line and paragraph separators
//! are written as escapes; everything else, CJK included, is kept.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character escaped: `\n`, `\r`, `\t`, `\e`, or `\u{…}`.
pub(crate) fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` made safe for a spreadsheet cell as well: escaped, and, when it starts with a
/// character that makes Excel or WPS read a formula (`=`, `+`, `-`, `@`, tab, CR), prefixed
/// with `'` as OWASP advises. For the cells a server fills, never for the input's own
/// columns (they are written back byte for byte: the resume proof compares them).
pub(crate) fn spreadsheet_safe(text: &str) -> String {
    spreadsheet_safe_owned(text.to_owned())
}

/// [`spreadsheet_safe`] of text already owned, not copied when nothing changes: a batch
/// makes several such cells a row.
pub(crate) fn spreadsheet_safe_owned(text: String) -> String {
    let changed = match escaped(&text) {
        Cow::Owned(escaped) => Some(escaped),
        Cow::Borrowed(_) => None,
    };
    let escaped = changed.unwrap_or(text);
    if escaped.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{escaped}") } else { escaped }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-1+1", "@SUM(A1)", "=cmd|' /C calc'!A0"] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        assert_eq!(spreadsheet_safe("库中无此记录"), "库中无此记录");
        assert_eq!(spreadsheet_safe("1"), "1");
        assert_eq!(spreadsheet_safe("'=x"), "'=x", "once neutralised, left alone");
        assert_eq!(spreadsheet_safe("=a\nb"), "'=a\\nb", "escaped and neutralised");
        assert_eq!(spreadsheet_safe_owned("-\u{1b}[2J".to_owned()), "'-\\e[2J");
    }

    #[test]
    fn controls_are_escaped_and_chinese_is_kept() {
        assert_eq!(escaped("库中无此记录"), "库中无此记录");
        assert_eq!(escaped("\u{1b}[2Jgone"), "\\e[2Jgone");
        assert_eq!(escaped("J1\nmatch (telecom3/query)"), "J1\\nmatch (telecom3/query)");
        assert_eq!(escaped("a\rb\u{7f}c\u{85}d\u{9b}e"), "a\\rb\\u{7f}c\\u{85}d\\u{9b}e");
        assert_eq!(escaped("x\u{202e}y"), "x\\u{202e}y", "a right-to-left override reorders a line");
        assert!(matches!(escaped("plain"), Cow::Borrowed(_)));
    }
}
