//! Masked forms of personal data, for `Debug`, logs and errors: `张*`, `110***********8515`,
//! `139****5678`.

/// Keeps the first `head` and last `tail` characters, stars the rest.
pub(crate) fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let count = text.chars().count();
    if count <= head + tail {
        return "*".repeat(count);
    }
    text.chars().enumerate().map(|(i, c)| if i < head || i >= count - tail { c } else { '*' }).collect()
}

/// A secret shows nothing of itself, not even its length.
pub(crate) fn mask_secret() -> &'static str {
    "***"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask_middle("110101199003077777", 3, 4), "110***********7777");
        assert_eq!(mask_middle("13912345678", 3, 4), "139****5678");
        assert_eq!(mask_middle("张三", 1, 0), "张*");
        assert_eq!(mask_middle("ab", 3, 4), "**");
    }
}
