//! Personal names as they stand on a Chinese ID card.

use std::fmt;

use super::masking::mask_name;
use unicode_normalization::UnicodeNormalization;

use super::{Field, Problem, ValidationError, to_halfwidth, trimmed};

/// A person's name: at least 2 characters of any script's letters (every CJK block, rare
/// characters included), with `·` (U+00B7) between the parts of minority and transliterated
/// names, and single spaces between Latin words.
///
/// Look-alike dots (`•` `∙` `・` `．` `.` `‧` `⋅` `･`) become `·`, white space around a dot
/// or between two CJK characters is dropped, and runs of spaces collapse.
///
/// `Debug` and `Display` show the first character only: `张*`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

const MAX_CHARS: usize = 64;
const DOT: char = '\u{B7}';

fn invalid(problem: Problem) -> ValidationError {
    ValidationError::new(Field::Name, problem)
}

impl PersonName {
    /// Validates and normalises (NFC, dots, spaces); the error names the first problem.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let name = normalize(input);
        let count = name.chars().count();
        if count == 0 {
            return Err(invalid(Problem::Empty));
        }
        if let Some(position) = name.chars().position(|c| !allowed(c)) {
            let expected = "letters of a name, the middle dot · or a space";
            return Err(invalid(Problem::Character { position: position + 1, expected }));
        }
        if name.starts_with(DOT) || name.ends_with(DOT) || name.contains("\u{B7}\u{B7}") {
            return Err(invalid(Problem::DotPlacement));
        }
        if !(2..=MAX_CHARS).contains(&count) {
            return Err(invalid(Problem::Length { expected: "expected 2 to 64", found: count }));
        }
        Ok(Self(name))
    }

    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form: the first character, then one `*` per other character.
    pub fn masked(&self) -> String {
        mask_name(&self.0)
    }
}

super::text_personal_value!(PersonName);

fn is_dot_like(c: char) -> bool {
    matches!(
        c,
        '\u{B7}'
            | '\u{2022}'
            | '\u{2219}'
            | '\u{30FB}'
            | '\u{FF0E}'
            | '.'
            | '\u{2027}'
            | '\u{22C5}'
            | '\u{FF65}'
    )
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

fn allowed(c: char) -> bool {
    c.is_alphabetic()
        || c == DOT
        || c == ' '
        // Private use: legacy systems encode rare characters there.
        || matches!(c as u32, 0xE000..=0xF8FF)
        // Variation selectors pick a glyph of a rare character.
        || matches!(c as u32, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF)
}

fn normalize(input: &str) -> String {
    let name = trimmed(input);
    if name.chars().all(is_common_ideograph) {
        // Nearly every name: no character NFC, the dots or the spaces change.
        return name.to_owned();
    }
    normalize_any(name)
}

/// The CJK Unified Ideographs block: no decomposition, no composition with another
/// ideograph, not a space, a dot or full-width ASCII, so [`normalize_any`] keeps them as
/// they are (a property test holds the two paths to the same result).
fn is_common_ideograph(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF)
}

fn normalize_any(input: &str) -> String {
    // Composed form first: an `é` typed as `e` + U+0301 is one letter, not a letter and a mark.
    let composed: String = input.nfc().collect();
    let chars: Vec<char> = composed
        .chars()
        .map(to_halfwidth)
        .map(|c| {
            if is_dot_like(c) {
                DOT
            } else if c.is_whitespace() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut out = String::with_capacity(input.len());
    for (i, &c) in chars.iter().enumerate() {
        if c != ' ' {
            out.push(c);
            continue;
        }
        let prev = out.chars().next_back();
        let next = chars[i + 1..].iter().copied().find(|&n| n != ' ');
        let joins = |x: Option<char>| x.is_some_and(|x| x == DOT || is_cjk(x));
        let keep = prev.is_some_and(|p| p != ' ') && !(joins(prev) || joins(next));
        if keep {
            out.push(' ');
        }
    }
    out
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<String, Problem> {
        PersonName::parse(s).map(|n| n.0).map_err(|e| e.problem)
    }

    #[test]
    fn the_ideographs_taken_as_they_are_are_each_their_own_normal_form() {
        for c in (0x4E00..=0x9FFF).filter_map(char::from_u32) {
            assert!(is_common_ideograph(c));
            assert_eq!(normalize_any(&c.to_string()), c.to_string(), "U+{:04X}", c as u32);
        }
        assert!(!is_common_ideograph('\u{4DFF}') && !is_common_ideograph('\u{A000}'));
    }

    proptest::proptest! {
        #[test]
        fn the_ideographs_path_agrees_with_the_general_one(
            name in "[ \u{3000}\u{200B}]{0,2}[\u{4E00}-\u{9FFF}]{0,6}[ \u{3000}]{0,2}",
            other in "[\u{4E00}-\u{9FFF}a-zé \u{B7}.\u{3000}\u{0301}\u{FF21}\u{F900}]{0,8}",
        ) {
            for input in [&name, &other] {
                proptest::prop_assert_eq!(normalize(input), normalize_any(trimmed(input)));
            }
        }
    }

    #[test]
    fn normalises_dots_and_spaces() {
        assert_eq!(parse(" 张三 ").unwrap(), "张三");
        assert_eq!(parse("张 三").unwrap(), "张三");
        for dot in ['•', '∙', '・', '．', '.', '·'] {
            assert_eq!(parse(&format!("阿依古丽{dot}买买提")).unwrap(), "阿依古丽·买买提");
        }
        assert_eq!(parse("阿依古丽 · 买买提").unwrap(), "阿依古丽·买买提");
        assert_eq!(parse("JOHN   SMITH").unwrap(), "JOHN SMITH");
    }

    #[test]
    fn accepts_rare_characters() {
        for name in ["𠮷田", "王\u{9FA6}", "李\u{E000}", "葛\u{E0100}优", "䶮龑"] {
            assert!(parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_a_name() {
        assert_eq!(parse(""), Err(Problem::Empty));
        assert_eq!(parse("   "), Err(Problem::Empty));
        assert_eq!(parse("张"), Err(Problem::Length { expected: "expected 2 to 64", found: 1 }));
        assert_eq!(
            parse("张3"),
            Err(Problem::Character {
                position: 2,
                expected: "letters of a name, the middle dot · or a space"
            })
        );
        assert!(matches!(parse("张<script>"), Err(Problem::Character { position: 2, .. })));
        assert_eq!(parse("·张三"), Err(Problem::DotPlacement));
        assert_eq!(parse("张··三"), Err(Problem::DotPlacement));
        assert!(parse(&"张".repeat(65)).is_err());
    }

    #[test]
    fn debug_shows_only_the_first_character() {
        assert_eq!(format!("{:?}", PersonName::parse("欧阳娜娜").unwrap()), "PersonName(欧***)");
    }
}
