//! Masked forms of personal data, for `Debug`, logs and errors: `张*`, `110***********8515`,
//! `139****5678`.

/// A name as logs may show it: the first character, then one `*` per other character.
pub fn mask_name(name: &str) -> String {
    mask_middle(name, 1, 0)
}

/// An ID card number as logs may show it: the first 3 and last 4 characters.
pub fn mask_idcard(idcard: &str) -> String {
    mask_middle(idcard, 3, 4)
}

/// A mobile number as logs may show it: the first 3 and last 4 digits.
pub fn mask_mobile(mobile: &str) -> String {
    mask_middle(mobile, 3, 4)
}

/// Keeps the first `head` and last `tail` characters, stars the rest.
fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let count = text.chars().count();
    if count <= head + tail {
        return "*".repeat(count);
    }
    text.chars().enumerate().map(|(i, c)| if i < head || i >= count - tail { c } else { '*' }).collect()
}

/// The personal fields of `check`, masked and space-separated in the order of
/// [`Param::ALL`](crate::Param): `张* 110***********002X 139****5678`. A face photo shows as
/// its size only. What a ledger keeps for people reading its reports.
pub fn mask_check<C: crate::Check>(check: &C) -> String {
    use crate::Param;
    let masked = |param: Param, value: &str| match param {
        Param::Realname => mask_name(value),
        Param::Idcard => mask_idcard(value),
        Param::Mobile => mask_mobile(value),
        Param::Image => format!("<image {} bytes>", value.len()),
        _ => mask_secret().to_owned(),
    };
    Param::ALL
        .into_iter()
        .filter(|p| p.kind() == crate::ParamKind::Personal)
        .filter_map(|p| check.field(p).map(|value| masked(p, &value)))
        .collect::<Vec<_>>()
        .join(" ")
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
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_idcard("11010519491231002X"), "110***********002X");
        assert_eq!(mask_mobile("13912345678"), "139****5678");
        assert_eq!(mask_middle("110101199003077777", 3, 4), "110***********7777");
        assert_eq!(mask_middle("13912345678", 3, 4), "139****5678");
        assert_eq!(mask_middle("张三", 1, 0), "张*");
        assert_eq!(mask_middle("ab", 3, 4), "**");
    }

    #[test]
    fn a_check_masked_whole() {
        let today = crate::CivilDate::new(2026, 12, 1).unwrap();
        let check = crate::Telecom3Check::new_on("张三", "11010519491231002X", "13912345678", today).unwrap();
        assert_eq!(mask_check(&check), "张* 110***********002X 139****5678");
    }
}
