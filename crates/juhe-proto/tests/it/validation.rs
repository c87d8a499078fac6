//! Property tests of local validation: what is valid passes, every typo is caught, and no
//! error or `Debug` output repeats the personal data.

use juhe_proto::{CivilDate, Field, IdCardNumber, MobileNumber, PersonName, Problem, Telecom3Check};
use proptest::prelude::*;

const TODAY: CivilDate = CivilDate { year: 2026, month: 11, day: 23 };
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
    61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Valid ID card numbers: any province, any real date from 1900 to today, any sequence.
fn valid_id() -> impl Strategy<Value = String> {
    (prop::sample::select(PROVINCES.to_vec()), 0u32..10_000, 0i64..56_000, 0u32..1000).prop_filter_map(
        "date in range",
        |(province, area, days, seq)| {
            let date = CivilDate::from_unix_days(days - 25_567); // from 1900-01-01
            (date <= TODAY).then(|| {
                let first17 =
                    format!("{province:02}{area:04}{:04}{:02}{:02}{seq:03}", date.year, date.month, date.day);
                format!("{first17}{}", IdCardNumber::check_character(&first17).unwrap())
            })
        },
    )
}

proptest! {
    #[test]
    fn valid_ids_pass_and_keep_their_value(id in valid_id()) {
        let parsed = IdCardNumber::parse_on(&id, TODAY).unwrap();
        prop_assert_eq!(parsed.as_str(), id.as_str());
        let lower = IdCardNumber::parse_on(&id.to_lowercase(), TODAY).unwrap();
        prop_assert_eq!(parsed.as_str(), lower.as_str());
    }

    /// MOD 11-2 catches every single-character substitution.
    #[test]
    fn every_single_typo_is_caught(id in valid_id(), position in 0usize..18, replacement in prop::sample::select(b"0123456789X".to_vec())) {
        let mut bytes = id.clone().into_bytes();
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let typo = String::from_utf8(bytes).unwrap();
        prop_assert!(IdCardNumber::parse_on(&typo, TODAY).is_err());
    }

    /// Swapping two different adjacent digits is caught too.
    #[test]
    fn adjacent_swaps_are_caught(id in valid_id(), position in 0usize..16) {
        let mut bytes = id.clone().into_bytes();
        prop_assume!(bytes[position] != bytes[position + 1]);
        bytes.swap(position, position + 1);
        prop_assert!(IdCardNumber::parse_on(&String::from_utf8(bytes).unwrap(), TODAY).is_err());
    }

    #[test]
    fn debug_and_errors_never_repeat_the_input(id in valid_id(), mobile in "1[3-9][0-9]{9}", name in "[\\u{4e00}-\\u{9fa5}]{2,4}") {
        let check = Telecom3Check::new_on(&name, &id, &mobile, TODAY).unwrap();
        let debug = format!("{check:?}");
        prop_assert!(!debug.contains(&id) && !debug.contains(&mobile) && !debug.contains(&name), "{}", debug);
        // An error about a slightly wrong value does not show the value either.
        let err = Telecom3Check::new_on(&name, &format!("{id}0"), &mobile, TODAY).unwrap_err();
        prop_assert_eq!(err.field, Field::IdCard);
        prop_assert!(!err.to_string().contains(&id[..17]));
        let err = MobileNumber::parse(&format!("{mobile}0")).unwrap_err();
        prop_assert!(!err.to_string().contains(&mobile));
    }

    #[test]
    fn mobiles_with_any_separators_normalise(mobile in "1[3-9][0-9]{9}", sep in prop::sample::select(vec!["", " ", "-"]), prefix in prop::sample::select(vec!["", "+86", "86", "0086", "+86 "])) {
        let written = format!("{prefix}{}{sep}{}{sep}{}", &mobile[..3], &mobile[3..7], &mobile[7..]);
        let parsed = MobileNumber::parse(&written).unwrap();
        prop_assert_eq!(parsed.as_str(), mobile.as_str());
    }

    #[test]
    fn cjk_names_with_dots_pass(parts in prop::collection::vec("[\\u{4e00}-\\u{9fa5}\\u{20000}-\\u{2a6df}]{1,6}", 1..4), dot in prop::sample::select(vec!["·", "•", "・", "．", "."])) {
        let written = parts.join(dot);
        prop_assume!(written.chars().count() >= 2);
        let name = PersonName::parse(&written).unwrap();
        prop_assert_eq!(name.as_str(), parts.join("·"));
    }
}

#[test]
fn the_error_names_the_field_that_is_wrong() {
    let err = Telecom3Check::new_on("张三", "11010519491231002X", "12345", TODAY).unwrap_err();
    assert_eq!(err.field, Field::Mobile);
    assert_eq!(err.to_string(), "invalid mobile: it has 5 characters, expected 11 digits");
    let err = Telecom3Check::new_on("张三", "110105194912310021", "13912345678", TODAY).unwrap_err();
    assert_eq!((err.field, err.problem.clone()), (Field::IdCard, Problem::Checksum));
    assert_eq!(
        err.to_string(),
        "invalid idcard: the check character (the 18th) does not match: a digit is mistyped"
    );
}

/// A name typed in decomposed form (`e` + U+0301) is the same name as its composed form, and
/// every field loses the same white space around it, a trailing newline included.
#[test]
fn names_are_composed_and_every_field_is_trimmed_alike() {
    let decomposed = PersonName::parse("Ame\u{301}lie").unwrap();
    assert_eq!(decomposed.as_str(), "Amélie");
    assert_eq!(decomposed, PersonName::parse("Amélie").unwrap());
    for padding in ["\n", "\r\n", " \t", "\u{3000}", "\u{FEFF}", "\u{200B}"] {
        let check = Telecom3Check::new_on(
            &format!("{padding}张三{padding}"),
            &format!("{padding}11010519491231002X{padding}"),
            &format!("{padding}13912345678{padding}"),
            TODAY,
        );
        let check = check.unwrap_or_else(|e| panic!("{padding:?}: {e}"));
        assert_eq!(check.mobile.as_str(), "13912345678");
    }
}
