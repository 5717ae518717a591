//! Cron schedules (SPEC §5): a schedule's cron and time zone read once, and the fire times
//! after an instant. The validator, the server's scheduler and the designer's preview of the
//! next fire times all go through [`Schedule`], so the three cannot disagree on when a
//! schedule fires.
//!
//! Cron is read by `croner` (5 fields, or 6 with seconds first; `@hourly`-style nicknames),
//! zones come from `chrono-tz` (the IANA database compiled in, so this builds for wasm32).
//! Fire times are computed on the zone's wall clock: a time that falls in a daylight-saving
//! gap fires when the clock jumps past it, and a repeated hour fires as croner resolves it
//! (each matching instant once, in order).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::event::Millis;

/// `catchup_window` when a schedule names none: after downtime, fire times missed within the
/// last minute still start.
pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(60);
/// The zone of a schedule that names none.
pub const DEFAULT_TIMEZONE: &str = "UTC";
/// At most this many runs one backfill starts; a longer range is refused, naming the limit.
pub const MAX_BACKFILL: usize = 10_000;

/// What a fire does when the previous run of its schedule is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    /// The fire is skipped (and counted).
    #[default]
    Skip,
    /// One fire waits for the running run to end, then starts; later ones are skipped.
    BufferOne,
    /// The fire starts a run anyway.
    AllowAll,
    /// The running run is cancelled, and the fire starts a run.
    CancelOther,
}

impl Overlap {
    pub const ALL: [Overlap; 4] = [
        Overlap::Skip,
        Overlap::BufferOne,
        Overlap::AllowAll,
        Overlap::CancelOther,
    ];

    /// The name a definition uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::BufferOne => "buffer_one",
            Overlap::AllowAll => "allow_all",
            Overlap::CancelOther => "cancel_other",
        }
    }

    pub fn parse(text: &str) -> Option<Overlap> {
        Overlap::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a schedule's cron or zone is not one Weft accepts; the validator's finding codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// `invalid_cron`
    #[error("cron `{cron}`: {why}")]
    Cron { cron: String, why: String },
    /// `invalid_timezone`
    #[error("timezone `{0}` is not an IANA time zone name (like `Europe/Berlin` or `UTC`)")]
    Timezone(String),
}

impl ScheduleError {
    /// The validator's code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::Cron { .. } => "invalid_cron",
            ScheduleError::Timezone(_) => "invalid_timezone",
        }
    }
}

/// A schedule's cron in its zone, ready to give fire times.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
}

/// Reads an IANA zone name (`None`: UTC).
pub fn parse_timezone(name: Option<&str>) -> Result<Tz, ScheduleError> {
    let name = name.unwrap_or(DEFAULT_TIMEZONE);
    Tz::from_str(name).map_err(|_| ScheduleError::Timezone(name.to_owned()))
}

/// Reads a cron expression: 5 fields (minute first), 6 (second first), or a nickname like
/// `@hourly`.
pub fn parse_cron(text: &str) -> Result<Cron, ScheduleError> {
    let fail = |why: String| ScheduleError::Cron {
        cron: text.to_owned(),
        why,
    };
    let trimmed = text.trim();
    let fields = trimmed.split_whitespace().count();
    if !trimmed.starts_with('@') && !(5..=6).contains(&fields) {
        return Err(fail(format!(
            "has {fields} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (second first)"
        )));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(trimmed)
        .map_err(|e| fail(e.to_string()))?;
    // A pattern that matches no date (`0 0 30 2 *`) would never fire.
    let reference = Utc
        .timestamp_millis_opt(946_684_800_000)
        .single()
        .expect("2000-01-01 exists");
    if cron.find_next_occurrence(&reference, false).is_err() {
        return Err(fail("matches no date, so it would never fire".into()));
    }
    Ok(cron)
}

impl Schedule {
    /// Reads a schedule's `cron` and `timezone` (default UTC).
    pub fn parse(cron: &str, timezone: Option<&str>) -> Result<Schedule, ScheduleError> {
        let tz = parse_timezone(timezone)?;
        let cron = parse_cron(cron)?;
        Ok(Schedule { cron, tz })
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first fire time strictly after `after`, or `None` if there is none (or it lies
    /// past what `chrono` represents).
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        let start = self.tz.from_utc_datetime(&utc(after)?.naive_utc());
        let mut next = self.cron.find_next_occurrence(&start, false).ok()?;
        // croner works in whole seconds; a start with milliseconds must not give itself back.
        while next.timestamp_millis() <= after {
            next = self.cron.find_next_occurrence(&next, false).ok()?;
        }
        Some(next.timestamp_millis())
    }

    /// The next `n` fire times strictly after `after`, in order.
    pub fn fires_after(&self, after: Millis, n: usize) -> Vec<Millis> {
        let mut out = Vec::with_capacity(n.min(1024));
        let mut at = after;
        while out.len() < n {
            match self.next_after(at) {
                Some(t) => {
                    out.push(t);
                    at = t;
                }
                None => break,
            }
        }
        out
    }

    /// The fire times `t` with `from <= t < to`, at most `limit` of them; `Err(limit)` when
    /// there are more.
    pub fn fires_between(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<Millis>, usize> {
        let mut out = Vec::new();
        let mut at = from.saturating_sub(1);
        while let Some(t) = self.next_after(at) {
            if t >= to {
                break;
            }
            if out.len() == limit {
                return Err(limit);
            }
            out.push(t);
            at = t;
        }
        Ok(out)
    }

    /// A fire time as the schedule's zone shows it (RFC 3339 with the zone's offset), for
    /// the designer's preview and messages.
    pub fn show(&self, at: Millis) -> String {
        match utc(at) {
            Some(t) => t.with_timezone(&self.tz).to_rfc3339(),
            None => at.to_string(),
        }
    }
}

fn utc(ms: Millis) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> Millis {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("a valid time")
            .timestamp_millis()
    }

    #[test]
    fn five_fields_fire_on_minutes_and_six_on_seconds() {
        let every_minute = Schedule::parse("* * * * *", None).unwrap();
        let after = ms("2026-03-01T10:00:30.250Z");
        assert_eq!(
            every_minute.fires_after(after, 2),
            vec![ms("2026-03-01T10:01:00Z"), ms("2026-03-01T10:02:00Z")]
        );
        let every_5s = Schedule::parse("*/5 * * * * *", Some("UTC")).unwrap();
        assert_eq!(
            every_5s.fires_after(ms("2026-03-01T10:00:00Z"), 3),
            vec![
                ms("2026-03-01T10:00:05Z"),
                ms("2026-03-01T10:00:10Z"),
                ms("2026-03-01T10:00:15Z")
            ]
        );
        // Strictly after: a start on a fire time does not give it back, with or without ms.
        assert_eq!(
            every_5s.next_after(ms("2026-03-01T10:00:05Z")),
            Some(ms("2026-03-01T10:00:10Z"))
        );
        assert_eq!(
            every_5s.next_after(ms("2026-03-01T10:00:04.999Z")),
            Some(ms("2026-03-01T10:00:05Z"))
        );
    }

    #[test]
    fn bad_crons_and_zones_are_refused_with_their_codes() {
        for bad in [
            "* * * *",
            "* * * * * * *",
            "61 * * * *",
            "not cron",
            "",
            "0 0 30 2 *",
        ] {
            let e = Schedule::parse(bad, None).unwrap_err();
            assert_eq!(e.code(), "invalid_cron", "{bad}: {e}");
        }
        for bad in ["Mars/Olympus", "utc+2", ""] {
            let e = Schedule::parse("* * * * *", Some(bad)).unwrap_err();
            assert_eq!(e.code(), "invalid_timezone", "{bad}: {e}");
        }
        assert!(Schedule::parse("@hourly", Some("Europe/Berlin")).is_ok());
    }

    #[test]
    fn a_zone_shifts_fire_times_and_its_daylight_saving_gap_is_followed() {
        let berlin = Schedule::parse("0 2 * * *", Some("Europe/Berlin")).unwrap();
        // Winter: 02:00 in Berlin is 01:00 UTC.
        assert_eq!(
            berlin.next_after(ms("2026-01-10T00:00:00Z")),
            Some(ms("2026-01-10T01:00:00Z"))
        );
        // 2026-03-29: Berlin's clocks jump from 02:00 to 03:00, so 02:00 does not exist that
        // day. The fire comes once, at the jump (03:00 CEST = 01:00 UTC), never twice.
        let fires = berlin.fires_after(ms("2026-03-28T12:00:00Z"), 2);
        assert_eq!(fires.len(), 2);
        assert!(fires[0] < fires[1]);
        assert_eq!(fires[1], ms("2026-03-30T00:00:00Z"), "{fires:?}");
        assert_eq!(fires[0], ms("2026-03-29T01:00:00Z"), "{fires:?}");
        // Summer: 02:00 CEST is 00:00 UTC.
        assert_eq!(
            berlin.next_after(ms("2026-07-01T12:00:00Z")),
            Some(ms("2026-07-02T00:00:00Z"))
        );
        assert_eq!(
            berlin.show(ms("2026-07-02T00:00:00Z")),
            "2026-07-02T02:00:00+02:00"
        );
    }

    #[test]
    fn fires_between_is_half_open_and_capped() {
        let s = Schedule::parse("* * * * * *", None).unwrap();
        let from = ms("2026-03-01T10:00:00Z");
        let fires = s.fires_between(from, from + 5_000, 100).unwrap();
        assert_eq!(fires, (0..5).map(|i| from + i * 1_000).collect::<Vec<_>>());
        assert_eq!(s.fires_between(from, from + 5_000, 4), Err(4));
        assert_eq!(s.fires_between(from, from, 4), Ok(vec![]));
    }

    #[test]
    fn overlap_names_round_trip() {
        for o in Overlap::ALL {
            assert_eq!(Overlap::parse(o.as_str()), Some(o));
        }
        assert_eq!(Overlap::parse("queue"), None);
    }
}
