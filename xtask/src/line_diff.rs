//! A small line diff, so `codegen --check` shows what is stale.

/// Lines of `old` and `new` that differ, as `-`/`+` lines, with a line of context around each
/// change. Longest-common-subsequence based; generated files are small.
pub(crate) fn render(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i], i + 1));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j], j + 1));
            j += 1;
        } else {
            ops.push(('-', a[i], i + 1));
            i += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(1);
        let hi = (k + 1).min(ops.len() - 1);
        (lo..=hi).any(|x| ops[x].0 != ' ')
    };
    let mut out = String::new();
    for (k, (op, line, n)) in ops.iter().enumerate() {
        if near_change(k) {
            out.push_str(&format!("{op}{n:>5} | {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_only_changes_and_their_context() {
        let diff = super::render("a\nb\nc\nd\ne\n", "a\nb\nX\nd\ne\n");
        assert!(diff.contains("-    3 | c"), "{diff}");
        assert!(diff.contains("+    3 | X"), "{diff}");
        assert!(!diff.contains("| a"), "{diff}");
    }

    #[test]
    fn equal_texts_have_an_empty_diff() {
        assert_eq!(super::render("a\nb\n", "a\nb\n"), "");
    }
}
