//! Mainland China mobile numbers.

use std::fmt;

use super::masking::mask_mobile;
use super::{Field, Problem, ValidationError, to_halfwidth, trimmed};

/// An 11-digit mainland mobile number starting with 13–19. Spaces, dashes, parentheses and a
/// `+86`, `0086` or `86` prefix are stripped.
///
/// `Debug` and `Display` show it masked: `139****5678`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

fn invalid(problem: Problem) -> ValidationError {
    ValidationError::new(Field::Mobile, problem)
}

impl MobileNumber {
    /// Validates and normalises (country code, separators, full-width digits).
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let compact: String = trimmed(input)
            .chars()
            .map(to_halfwidth)
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\t'))
            .collect();
        if compact.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        let national = strip_country_code(&compact);
        let count = national.chars().count();
        if let Some(position) = national.chars().position(|c| !c.is_ascii_digit()) {
            let offset = compact.chars().count() - count;
            return Err(invalid(Problem::Character { position: offset + position + 1, expected: "a digit" }));
        }
        if count != 11 {
            return Err(invalid(Problem::Length { expected: "expected 11 digits", found: count }));
        }
        let bytes = national.as_bytes();
        if bytes[0] != b'1' || !(b'3'..=b'9').contains(&bytes[1]) {
            return Err(invalid(Problem::MobilePrefix));
        }
        Ok(Self(national.to_owned()))
    }

    /// The 11 digits as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form: first 3 and last 4 digits.
    pub fn masked(&self) -> String {
        mask_mobile(&self.0)
    }
}

/// `+86…`, `0086…` and `86…` followed by 11 more characters lose the prefix.
fn strip_country_code(number: &str) -> &str {
    for prefix in ["+86", "0086", "86"] {
        if let Some(rest) = number.strip_prefix(prefix)
            && rest.len() == 11
        {
            return rest;
        }
    }
    number
}

super::text_personal_value!(MobileNumber);

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<String, Problem> {
        MobileNumber::parse(s).map(|m| m.0).map_err(|e| e.problem)
    }

    #[test]
    fn normalises_common_ways_of_writing_a_number() {
        for input in [
            "13912345678",
            "+86 139 1234 5678",
            "86-139-1234-5678",
            "0086 13912345678",
            "(+86)139-1234-5678",
            "１３９１２３４５６７８",
        ] {
            assert_eq!(parse(input).unwrap(), "13912345678", "{input}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_a_mobile() {
        assert_eq!(parse(""), Err(Problem::Empty));
        assert_eq!(parse("1391234567"), Err(Problem::Length { expected: "expected 11 digits", found: 10 }));
        assert_eq!(parse("12912345678"), Err(Problem::MobilePrefix));
        assert_eq!(parse("23912345678"), Err(Problem::MobilePrefix));
        assert_eq!(parse("1391234567a"), Err(Problem::Character { position: 11, expected: "a digit" }));
        assert_eq!(parse("8613912345678"), Ok("13912345678".into()));
    }

    #[test]
    fn debug_is_masked() {
        assert_eq!(format!("{:?}", MobileNumber::parse("13912345678").unwrap()), "MobileNumber(139****5678)");
    }
}
