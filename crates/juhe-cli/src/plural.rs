//! A count and its noun, in the noun's number: "1 row", "3 rows".

/// `n` and `one` or `many`, as `n` asks.
pub(crate) fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1u64, "row", "rows"), "1 row");
        assert_eq!(counted(0u64, "row", "rows"), "0 rows");
        assert_eq!(counted(2u32, "entry", "entries"), "2 entries");
    }
}
