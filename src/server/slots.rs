//! "Add to queue": the next posting slot of the chosen accounts that no queued post holds,
//! worked out in each slot's own zone (chrono-tz: a 09:00 slot stays 09:00 across summer
//! time; a slot in the hour the clocks skip does not exist that day).

use crate::domain::PostingSlots;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

/// How far ahead a queue looks for a free slot.
pub const HORIZON_DAYS: i64 = 28;

/// Whether `zone` is a time zone chrono-tz knows.
pub fn known_zone(zone: &str) -> bool {
    zone.parse::<chrono_tz::Tz>().is_ok()
}

/// The earliest slot of any of `plans` after `now` (to the minute) that is not in `taken`,
/// within [`HORIZON_DAYS`]; `None` when there is none.
pub fn next_free(plans: &[PostingSlots], taken: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let minute = |t: DateTime<Utc>| t.timestamp().div_euclid(60);
    let taken: std::collections::HashSet<i64> = taken.iter().map(|t| minute(*t)).collect();
    plans
        .iter()
        .filter_map(|plan| {
            let zone: chrono_tz::Tz = plan.zone.parse().ok()?;
            let today = now.with_timezone(&zone).date_naive();
            (0..=HORIZON_DAYS)
                .filter_map(|n| today.checked_add_signed(Duration::days(n)))
                .filter(|day| plan.days.contains(&day.weekday()))
                .flat_map(|day| plan.times.iter().filter_map(move |t| zone.from_local_datetime(&day.and_time(*t)).earliest()))
                .map(|at| at.with_timezone(&Utc))
                .find(|at| *at > now && !taken.contains(&minute(*at)))
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(zone: &str, days: &[&str], times: &str) -> PostingSlots {
        PostingSlots::parse(&days.iter().map(|d| d.to_string()).collect::<Vec<_>>(), times, zone).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_next_slot_not_taken_in_the_zones_own_time() {
        let weekdays = plan("Europe/Paris", &["mon", "tue", "wed", "thu", "fri"], "09:00, 17:00");
        // Friday 4 December 2026, 10:00 in Paris (09:00 UTC): today's 17:00 is next.
        let now = at("2026-12-04T09:00:00Z");
        assert_eq!(next_free(&[weekdays.clone()], &[], now), Some(at("2026-12-04T16:00:00Z")));
        // Taken: Monday 09:00 (the weekend has no slots).
        assert_eq!(next_free(&[weekdays.clone()], &[at("2026-12-04T16:00:30Z")], now), Some(at("2026-12-07T08:00:00Z")));
        // In summer Paris is UTC+2: the same 09:00.
        assert_eq!(next_free(&[weekdays.clone()], &[], at("2026-07-01T06:00:00Z")), Some(at("2026-07-01T07:00:00Z")));
        // Two accounts' plans: the earlier slot of either.
        let new_york = plan("America/New_York", &["fri"], "08:00");
        assert_eq!(next_free(&[weekdays, new_york.clone()], &[at("2026-12-04T16:00:00Z")], now), Some(at("2026-12-04T13:00:00Z")));
        assert_eq!(next_free(&[new_york], &[], now), Some(at("2026-12-04T13:00:00Z")));
    }

    #[test]
    fn a_slot_in_the_skipped_hour_does_not_exist_that_day() {
        // Sunday 29 March 2026: Paris goes from 02:00 to 03:00.
        let sunday = plan("Europe/Paris", &["sun"], "02:30");
        assert_eq!(next_free(&[sunday], &[], at("2026-03-28T12:00:00Z")), Some(at("2026-04-05T00:30:00Z")));
    }

    #[test]
    fn none_when_every_slot_is_taken_or_the_zone_is_unknown() {
        let once = plan("UTC", &["mon"], "09:00");
        let now = at("2026-12-04T09:00:00Z");
        let taken: Vec<DateTime<Utc>> = (0..5).map(|w| at("2026-12-07T09:00:00Z") + Duration::weeks(w)).collect();
        assert_eq!(next_free(&[once], &taken, now), None, "four weeks ahead at most");
        assert_eq!(next_free(&[plan("Mars/Olympus", &["mon"], "09:00")], &[], now), None);
        assert!(known_zone("Europe/Paris") && known_zone("UTC") && !known_zone("Mars/Olympus"));
    }
}
