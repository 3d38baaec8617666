//! Posting slots: the weekly times an account posts at (say weekdays at 09:00 and 17:00 in
//! Europe/Paris). "Add to queue" puts a post in the next slot no other post holds; the
//! server works that out (`server::slots`), in the zone's own time, summer time included.

use super::FieldErrors;
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// Most times a day.
pub const TIMES_MAX: usize = 24;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostingSlots {
    /// An IANA time-zone name (`Europe/Paris`, `UTC`); the server checks it exists.
    pub zone: String,
    /// The days it posts on, Monday first.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<String>, example = json!(["Mon", "Fri"])))]
    pub days: Vec<Weekday>,
    /// The times of day, earliest first.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<String>, example = json!(["09:00:00", "17:00:00"])))]
    pub times: Vec<NaiveTime>,
}

/// Day names as the form sends them (`day=mon`).
const DAYS: [(&str, Weekday); 7] = [("mon", Weekday::Mon), ("tue", Weekday::Tue), ("wed", Weekday::Wed), ("thu", Weekday::Thu), ("fri", Weekday::Fri), ("sat", Weekday::Sat), ("sun", Weekday::Sun)];

impl PostingSlots {
    /// From the form: the ticked days (`mon`…`sun`), the times as typed (`09:00, 17:30`)
    /// and the zone's name. Every problem is named by its field.
    pub fn parse(days: &[String], times: &str, zone: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut chosen: Vec<Weekday> = Vec::new();
        for day in days {
            match DAYS.iter().find(|(name, _)| name.eq_ignore_ascii_case(day.trim())) {
                Some((_, d)) if !chosen.contains(d) => chosen.push(*d),
                Some(_) => {}
                None => errors.add("days", "names a day that does not exist (mon to sun)"),
            }
        }
        chosen.sort_by_key(|d| d.num_days_from_monday());
        if chosen.is_empty() {
            errors.add("days", "tick at least one day");
        }
        let mut parsed: Vec<NaiveTime> = Vec::new();
        for typed in times.split([',', ' ', ';']).map(str::trim).filter(|t| !t.is_empty()) {
            match NaiveTime::parse_from_str(typed, "%H:%M") {
                Ok(t) if !parsed.contains(&t) => parsed.push(t),
                Ok(_) => {}
                Err(_) => errors.add("times", format!("\"{}\" is not a time like 09:00 or 17:30", typed.chars().take(20).collect::<String>())),
            }
        }
        parsed.sort();
        if parsed.is_empty() {
            errors.add("times", "type at least one time, like 09:00, 17:30");
        } else if parsed.len() > TIMES_MAX {
            errors.add("times", format!("at most {TIMES_MAX} times a day"));
        }
        let zone = zone.trim();
        let name_like = |c: char| c.is_ascii_alphanumeric() || "/_-+".contains(c);
        if zone.is_empty() || zone.len() > 64 || !zone.chars().all(name_like) {
            errors.add("zone", "must be a time-zone name such as Europe/Paris, America/New_York or UTC");
        }
        errors.into_result(Self { zone: zone.to_owned(), days: chosen, times: parsed })
    }

    /// In words: "Mon, Tue, Wed, Thu, Fri at 09:00 and 17:00 (Europe/Paris)".
    pub fn describe(&self) -> String {
        let days = self.days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
        let times: Vec<String> = self.times.iter().map(|t| t.format("%H:%M").to_string()).collect();
        let times = match times.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => times.join(""),
        };
        format!("{days} at {times} ({})", self.zone)
    }

    /// The form's values: the days' names and the times as typed.
    pub fn day_names(&self) -> Vec<&'static str> {
        self.days.iter().filter_map(|d| DAYS.iter().find(|(_, w)| w == d).map(|(n, _)| *n)).collect()
    }

    pub fn times_text(&self) -> String {
        self.times.iter().map(|t| t.format("%H:%M").to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// Every day's form name and label, Monday first.
pub fn weekdays() -> impl Iterator<Item = (&'static str, Weekday)> {
    DAYS.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(names: &[&str]) -> Vec<String> {
        names.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn reads_the_form_as_people_fill_it() {
        let slots = PostingSlots::parse(&days(&["fri", "mon", "MON"]), " 17:00, 09:00 09:00", "Europe/Paris").unwrap();
        assert_eq!(slots.days, [Weekday::Mon, Weekday::Fri]);
        assert_eq!(slots.times, [NaiveTime::from_hms_opt(9, 0, 0).unwrap(), NaiveTime::from_hms_opt(17, 0, 0).unwrap()]);
        assert_eq!(slots.describe(), "Mon, Fri at 09:00 and 17:00 (Europe/Paris)");
        assert_eq!((slots.day_names(), slots.times_text()), (vec!["mon", "fri"], "09:00, 17:00".to_owned()));
        let json = serde_json::to_string(&slots).unwrap();
        assert_eq!(serde_json::from_str::<PostingSlots>(&json).unwrap(), slots);
    }

    #[test]
    fn names_each_mistake_by_its_field() {
        let errors = PostingSlots::parse(&days(&["someday"]), "9am, 25:00", "Paris; DROP").unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["days", "days", "times", "times", "times", "zone"]);
        assert_eq!(errors.get("times"), Some("\"9am\" is not a time like 09:00 or 17:30"));
        let many: Vec<String> = (0..25).map(|m| format!("10:{m:02}")).collect();
        assert_eq!(PostingSlots::parse(&days(&["mon"]), &many.join(","), "UTC").unwrap_err().get("times"), Some("at most 24 times a day"));
    }
}
