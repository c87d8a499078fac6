//! Resident ID card numbers, GB 11643-1999.

use std::borrow::Cow;
use std::fmt;

use super::masking::mask_idcard;
use super::{CivilDate, Field, Problem, ValidationError, to_halfwidth, trimmed};

/// A valid 18-character resident ID card number: 17 digits and a MOD 11-2 check character,
/// a known province, a real birth date between 1900 and today. Stored upper-cased (`x` → `X`).
///
/// `Debug` and `Display` show it masked: `110***********7777`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNumber(String);

/// Province-level codes of GB/T 2260, plus 71 (Taiwan), 81 (Hong Kong), 82 (Macau) and 83
/// (Taiwan residents' residence permits).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
    61, 62, 63, 64, 65, 71, 81, 82, 83,
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

fn invalid(problem: Problem) -> ValidationError {
    ValidationError::new(Field::IdCard, problem)
}

impl IdCardNumber {
    /// Validates against today's date in China (feature `clock`).
    #[cfg(feature = "clock")]
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        Self::parse_on(input, CivilDate::today_in_china())
    }

    /// Validates against `today`: a birth date after it is refused.
    /// Surrounding white space is ignored; full-width digits and `Ｘ` are accepted.
    pub fn parse_on(input: &str, today: CivilDate) -> Result<Self, ValidationError> {
        let normalized: String =
            trimmed(input).chars().map(to_halfwidth).map(|c| c.to_ascii_uppercase()).collect();
        let count = normalized.chars().count();
        if count == 0 {
            return Err(invalid(Problem::Empty));
        }
        if count != 18 {
            return Err(invalid(Problem::Length { expected: "expected 18", found: count }));
        }
        for (i, c) in normalized.chars().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                let expected = if i == 17 { "a digit or X" } else { "a digit" };
                return Err(invalid(Problem::Character { position: i + 1, expected }));
            }
        }
        let bytes = normalized.as_bytes();
        if check_char(bytes) != bytes[17] {
            return Err(invalid(Problem::Checksum));
        }
        if !PROVINCES.contains(&two_digits(&bytes[0..2])) {
            return Err(invalid(Problem::Province));
        }
        let birth = birth_date(bytes).ok_or_else(|| invalid(Problem::BirthDate))?;
        if birth.year < 1900 || birth > today {
            return Err(invalid(Problem::BirthDateRange));
        }
        Ok(Self(normalized))
    }

    /// The number as sent: 18 characters, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in digits 7–14.
    pub fn birth_date(&self) -> CivilDate {
        birth_date(self.0.as_bytes()).unwrap_or(CivilDate { year: 1900, month: 1, day: 1 })
    }

    /// The province code (first two digits).
    pub fn province_code(&self) -> u8 {
        two_digits(&self.0.as_bytes()[0..2])
    }

    /// The masked form: first 3 and last 4 characters.
    pub fn masked(&self) -> String {
        mask_idcard(&self.0)
    }

    /// The check character (`0`–`9` or `X`) for 17 leading digits; for building test data.
    /// `None` unless `first17` is 17 ASCII digits.
    pub fn check_character(first17: &str) -> Option<char> {
        let bytes = first17.as_bytes();
        (bytes.len() == 17 && bytes.iter().all(u8::is_ascii_digit)).then(|| char::from(check_char(bytes)))
    }
}

/// MOD 11-2 over the first 17 digits.
fn check_char(bytes: &[u8]) -> u8 {
    let sum: u32 = bytes[..17].iter().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn two_digits(bytes: &[u8]) -> u8 {
    (bytes[0] - b'0') * 10 + (bytes[1] - b'0')
}

fn birth_date(bytes: &[u8]) -> Option<CivilDate> {
    let number =
        |range: std::ops::Range<usize>| bytes[range].iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    CivilDate::new(number(6..10) as i32, number(10..12), number(12..14))
}

impl crate::PersonalValue for IdCardNumber {
    type Input<'a> = &'a str;
    fn from_input(input: &str, today: CivilDate) -> Result<Self, ValidationError> {
        Self::parse_on(input, today)
    }
    fn from_wire(text: &str, today: CivilDate) -> Result<Self, ValidationError> {
        Self::parse_on(text, today)
    }
    fn wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
    fn masked(&self) -> Option<String> {
        Some(IdCardNumber::masked(self))
    }
}

impl fmt::Debug for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNumber({})", self.masked())
    }
}

impl fmt::Display for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: CivilDate = CivilDate { year: 2026, month: 11, day: 23 };

    fn parse(s: &str) -> Result<IdCardNumber, Problem> {
        IdCardNumber::parse_on(s, TODAY).map_err(|e| e.problem)
    }

    #[test]
    fn accepts_valid_numbers_and_normalises() {
        // The GB 11643 standard's own example.
        assert_eq!(parse("11010519491231002X").unwrap().as_str(), "11010519491231002X");
        assert_eq!(parse(" 11010519491231002x ").unwrap().as_str(), "11010519491231002X");
        assert_eq!(parse("１１０１０５１９４９１２３１００２ｘ").unwrap().as_str(), "11010519491231002X");
        assert_eq!(parse(&with_check("44052419800101001")).unwrap().birth_date().year, 1980);
    }

    #[test]
    fn refuses_each_kind_of_mistake() {
        assert_eq!(parse(""), Err(Problem::Empty));
        assert_eq!(parse("1101051949123100"), Err(Problem::Length { expected: "expected 18", found: 16 }));
        assert_eq!(
            parse("11010519491231002Y"),
            Err(Problem::Character { position: 18, expected: "a digit or X" })
        );
        assert_eq!(
            parse("1101051949123100X2"),
            Err(Problem::Character { position: 17, expected: "a digit" })
        );
        assert_eq!(parse("110105194912310021"), Err(Problem::Checksum));
        assert_eq!(
            parse("张三张三张三张三张三张三张三张三张三"),
            Err(Problem::Character { position: 1, expected: "a digit" })
        );
    }

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", IdCardNumber::check_character(first17).unwrap())
    }

    #[test]
    fn refuses_bad_provinces_and_dates() {
        assert_eq!(parse(&with_check("99010519491231002")), Err(Problem::Province));
        assert_eq!(parse(&with_check("11010519490231002")), Err(Problem::BirthDate));
        assert_eq!(parse(&with_check("11010518991231002")), Err(Problem::BirthDateRange));
        assert_eq!(parse(&with_check("11010520261124002")), Err(Problem::BirthDateRange));
        assert!(parse(&with_check("11010520261123002")).is_ok());
    }

    #[test]
    fn debug_and_display_are_masked() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id:?}"), "IdCardNumber(110***********002X)");
        assert_eq!(id.to_string(), "110***********002X");
    }
}
