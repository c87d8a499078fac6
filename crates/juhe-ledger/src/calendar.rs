//! Days and months as Juhe bills them: in China's time (UTC+8, no daylight saving), so a
//! "daily" budget turns over at midnight in Beijing wherever the machine is.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use juhe_proto::CivilDate;

pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;

/// Milliseconds since the Unix epoch (negative before it), as the ledger stores times.
pub(crate) fn unix_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The time `ms` milliseconds after the epoch.
pub(crate) fn from_unix_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// The date in China at `ms`.
pub(crate) fn china_date(ms: i64) -> CivilDate {
    CivilDate::from_unix_days((ms + CHINA_OFFSET_MS).div_euclid(DAY_MS))
}

/// The first millisecond of `date` in China.
pub(crate) fn china_midnight(date: CivilDate) -> i64 {
    date.to_unix_days() * DAY_MS - CHINA_OFFSET_MS
}

/// The counter names of the day and the month that `ms` falls in: `d2026-12-01`, `m2026-12`.
pub(crate) fn periods(ms: i64) -> [String; 2] {
    let date = china_date(ms);
    [format!("d{date}"), format!("m{:04}-{:02}", date.year, date.month)]
}

/// `2026-12-01T09:30:00.123+08:00`: an instant in China's time, as reports and exports show it.
pub fn china_timestamp(time: SystemTime) -> String {
    let ms = unix_ms(time);
    let date = china_date(ms);
    let of_day = (ms + CHINA_OFFSET_MS).rem_euclid(DAY_MS);
    let (h, m, s, milli) = (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1000 % 60, of_day % 1000);
    format!("{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}.{milli:03}+08:00", date.year, date.month, date.day)
}

/// A date written `YYYY-MM-DD`, as `--since` and `--until` take it.
pub fn parse_date(text: &str) -> Option<CivilDate> {
    let mut parts = text.trim().splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    CivilDate::new(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_turn_over_at_midnight_in_beijing() {
        // 2026-11-30T16:00:00Z is 2026-12-01T00:00:00+08:00.
        let midnight = china_midnight(CivilDate::new(2026, 12, 1).unwrap());
        assert_eq!(china_timestamp(from_unix_ms(midnight)), "2026-12-01T00:00:00.000+08:00");
        assert_eq!(periods(midnight), ["d2026-12-01".to_owned(), "m2026-12".to_owned()]);
        assert_eq!(periods(midnight - 1), ["d2026-11-30".to_owned(), "m2026-11".to_owned()]);
        assert_eq!(unix_ms(from_unix_ms(-5)), -5);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-02-28"), CivilDate::new(2026, 2, 28));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
