//! Calendar dates, just enough for ID card birth dates: no time zone database needed.

/// A proleptic Gregorian date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31.
    pub day: u32,
}

impl CivilDate {
    /// The date, if it exists.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        (1..=12).contains(&month).then_some(())?;
        (day >= 1 && day <= days_in_month(year, month)).then_some(Self { year, month, day })
    }

    /// Today in China (UTC+8, no daylight saving), where ID cards are issued, by the system
    /// clock (feature `clock`).
    #[cfg(feature = "clock")]
    pub fn today_in_china() -> Self {
        use std::time::{SystemTime, UNIX_EPOCH};
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Self::from_unix_days(((secs + 8 * 3600) / 86_400) as i64)
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub fn from_unix_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// The number of days from 1970-01-01 to this date (Howard Hinnant's `days_from_civil`):
    /// the inverse of [`from_unix_days`](Self::from_unix_days).
    pub fn to_unix_days(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400);
        let month = i64::from(self.month);
        let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl std::fmt::Display for CivilDate {
    /// `2026-12-06`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_days_to_dates() {
        assert_eq!(CivilDate::from_unix_days(0), CivilDate { year: 1970, month: 1, day: 1 });
        assert_eq!(CivilDate::from_unix_days(11_016), CivilDate { year: 2000, month: 2, day: 29 });
        assert_eq!(CivilDate::from_unix_days(-1), CivilDate { year: 1969, month: 12, day: 31 });
    }

    #[test]
    fn dates_to_unix_days_and_back() {
        assert_eq!(CivilDate { year: 2000, month: 2, day: 29 }.to_unix_days(), 11_016);
        for days in (-800_000..800_000).step_by(997) {
            assert_eq!(CivilDate::from_unix_days(days).to_unix_days(), days);
        }
    }

    #[test]
    fn leap_years() {
        assert!(CivilDate::new(2000, 2, 29).is_some());
        assert!(CivilDate::new(1900, 2, 29).is_none());
        assert!(CivilDate::new(2024, 2, 29).is_some());
        assert!(CivilDate::new(2023, 4, 31).is_none());
        assert!(CivilDate::new(2023, 13, 1).is_none());
        assert!(CivilDate::new(2023, 1, 0).is_none());
    }
}
