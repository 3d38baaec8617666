//! The posts calendar's dates: which month or week a URL names, the days a view shows,
//! and on which day of the person's time zone a post falls.

use super::FieldErrors;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a calendar view shows: a month (six weeks from the Monday before its first day),
/// or a week (from its Monday).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Month(NaiveDate),
    Week(NaiveDate),
}

impl Period {
    /// The week `week` names (`YYYY-MM-DD`, any day of it) when given, else the month
    /// `month` names (`YYYY-MM`), else `today`'s month.
    pub fn parse(month: Option<&str>, week: Option<&str>, today: NaiveDate) -> Result<Period, FieldErrors> {
        match week.map(str::trim).filter(|w| !w.is_empty()) {
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .filter(|d| (2..=9998).contains(&d.year()))
                .map(|d| Period::Week(monday_of(d)))
                .ok_or_else(|| FieldErrors::single("week", "must be a day like 2026-12-07")),
            None => parse_month(month, today).map(Period::Month),
        }
    }

    /// The days the view shows.
    pub fn days(self) -> Vec<NaiveDate> {
        match self {
            Period::Month(first) => grid(first),
            Period::Week(monday) => monday.iter_days().take(7).collect(),
        }
    }

    /// The view before and the view after.
    pub fn neighbours(self) -> (Period, Period) {
        match self {
            Period::Month(first) => {
                let (before, after) = neighbours(first);
                (Period::Month(before), Period::Month(after))
            }
            Period::Week(monday) => (Period::Week(monday - Duration::days(7)), Period::Week(monday + Duration::days(7))),
        }
    }

    /// Whether `day` belongs to what is looked at (a month view also shows its neighbours' days).
    pub fn holds(self, day: NaiveDate) -> bool {
        match self {
            Period::Month(first) => day.year() == first.year() && day.month() == first.month(),
            Period::Week(_) => true,
        }
    }
}

/// The Monday of `day`'s week.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The first day of the month `YYYY-MM` names, or of `today`'s month when none is given.
pub fn parse_month(text: Option<&str>, today: NaiveDate) -> Result<NaiveDate, FieldErrors> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else { return Ok(today.with_day(1).unwrap_or(today)) };
    let shaped = text.len() == 7 && text.bytes().enumerate().all(|(i, b)| if i == 4 { b == b'-' } else { b.is_ascii_digit() });
    shaped
        .then(|| NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok())
        .flatten()
        // A month whose neighbours exist, so the view can link to both.
        .filter(|d| (2..=9998).contains(&d.year()))
        .ok_or_else(|| FieldErrors::single("month", "must be a month like 2026-12"))
}

/// The 42 days (six weeks, Monday first) a month view shows for the month starting `first`.
pub fn grid(first: NaiveDate) -> Vec<NaiveDate> {
    monday_of(first).iter_days().take(42).collect()
}

/// The months before and after.
pub fn neighbours(first: NaiveDate) -> (NaiveDate, NaiveDate) {
    (first.checked_sub_months(Months::new(1)).unwrap_or(first), first.checked_add_months(Months::new(1)).unwrap_or(first))
}

/// `at` on the clock of a person `tz_offset` minutes behind UTC (JavaScript's
/// `getTimezoneOffset`), the offset clamped to the ±18 hours that exist.
pub fn local_time(at: DateTime<Utc>, tz_offset: i32) -> NaiveDateTime {
    at.checked_sub_signed(offset(tz_offset)).unwrap_or(at).naive_utc()
}

fn offset(tz_offset: i32) -> Duration {
    Duration::minutes(i64::from(tz_offset.clamp(-18 * 60, 18 * 60)))
}

/// The local day of `at` for that person.
pub fn local_day(at: DateTime<Utc>, tz_offset: i32) -> NaiveDate {
    local_time(at, tz_offset).date()
}

/// `at` moved to `day` of the person's calendar, keeping its time of day there (a post
/// dragged from Tuesday 10:05 to Thursday goes out Thursday 10:05, their time).
pub fn moved(at: DateTime<Utc>, day: NaiveDate, tz_offset: i32) -> Option<DateTime<Utc>> {
    let local = at.checked_sub_signed(offset(tz_offset))?;
    day.and_time(local.time()).and_utc().checked_add_signed(offset(tz_offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_month_is_read_from_the_url_or_is_this_one() {
        assert_eq!(parse_month(Some("2026-12"), day(2026, 1, 5)), Ok(day(2026, 12, 1)));
        assert_eq!(parse_month(None, day(2026, 3, 17)), Ok(day(2026, 3, 1)));
        assert_eq!(parse_month(Some(" "), day(2026, 3, 17)), Ok(day(2026, 3, 1)));
        for bad in ["2026-13", "26-12", "december", "2026-12-01", "9999-12", "0001-01"] {
            assert_eq!(parse_month(Some(bad), day(2026, 1, 1)).unwrap_err().get("month"), Some("must be a month like 2026-12"), "{bad}");
        }
    }

    #[test]
    fn a_month_view_is_six_weeks_from_the_monday_before() {
        let days = grid(day(2026, 12, 1)); // a Tuesday
        assert_eq!((days[0], days[41], days.len()), (day(2026, 11, 30), day(2027, 1, 10), 42));
        assert_eq!(grid(day(2026, 6, 1))[0], day(2026, 6, 1), "June 2026 starts on a Monday");
        assert_eq!(neighbours(day(2026, 12, 1)), (day(2026, 11, 1), day(2027, 1, 1)));
    }

    #[test]
    fn a_week_is_read_from_any_of_its_days() {
        assert_eq!(Period::parse(Some("2026-12"), Some("2026-12-10"), day(2026, 1, 1)), Ok(Period::Week(day(2026, 12, 7))));
        assert_eq!(Period::parse(Some("2026-12"), None, day(2026, 1, 1)), Ok(Period::Month(day(2026, 12, 1))));
        assert_eq!(Period::Week(day(2026, 12, 7)).days(), day(2026, 12, 7).iter_days().take(7).collect::<Vec<_>>());
        assert_eq!(Period::Week(day(2026, 12, 28)).neighbours(), (Period::Week(day(2026, 12, 21)), Period::Week(day(2027, 1, 4))));
        assert!(Period::parse(None, Some("next week"), day(2026, 1, 1)).unwrap_err().get("week").is_some());
        assert!(!Period::Month(day(2026, 12, 1)).holds(day(2026, 11, 30)) && Period::Week(day(2026, 11, 30)).holds(day(2026, 12, 6)));
    }

    #[test]
    fn a_moved_post_keeps_its_local_time() {
        let at: DateTime<Utc> = "2026-12-15T10:05:00Z".parse().unwrap();
        assert_eq!(moved(at, day(2026, 12, 17), 0), "2026-12-17T10:05:00Z".parse().ok());
        // 23:30 UTC is 00:30 on the 25th in UTC+1; moved to the 27th there: 23:30 UTC on the 26th.
        let late: DateTime<Utc> = "2026-12-24T23:30:00Z".parse().unwrap();
        assert_eq!(moved(late, day(2026, 12, 27), -60), "2026-12-26T23:30:00Z".parse().ok());
    }

    #[test]
    fn a_post_falls_on_the_persons_day() {
        let at: DateTime<Utc> = "2026-12-24T23:30:00Z".parse().unwrap();
        assert_eq!(local_day(at, 0), day(2026, 12, 24));
        assert_eq!(local_day(at, -60), day(2026, 12, 25), "UTC+1 is already the 25th");
        assert_eq!(local_day(at, 300), day(2026, 12, 24), "UTC-5");
        assert_eq!(local_day(at, i32::MIN), local_day(at, -18 * 60), "clamped");
    }
}
