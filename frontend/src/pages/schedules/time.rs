//! How the schedules page writes an instant: readable in the browser's own time with how far
//! away it is, and exact in the tooltip (UTC, and the schedule's zone, which is where its
//! cron is read).

use chrono::{SecondsFormat, TimeZone, Utc};
use shared::event::Millis;
use shared::schedule::parse_timezone;

use crate::pages::run::format;

/// How far `at` is from `now`: `in 7h 46m`, `3m 05s ago`; `just now` within a second (the
/// page's clock ticks once a second, so a fire that just happened may read as ahead of it).
pub(super) fn relative(at: Millis, now: Millis) -> String {
    if (at - now).abs() < 1000 {
        "just now".to_owned()
    } else if at >= now {
        format!("in {}", format::duration(at - now))
    } else {
        format!("{} ago", format::duration(now - at))
    }
}

/// `at` exactly: in UTC, then on the wall clock of `zone` when that is another zone:
/// `2026-12-07T01:00:00Z · 2026-12-07T02:00:00+01:00 Europe/Berlin`.
pub(super) fn exact(at: Millis, zone: &str) -> String {
    let Some(utc) = Utc.timestamp_millis_opt(at).single() else {
        return at.to_string();
    };
    let text = utc.to_rfc3339_opts(SecondsFormat::Secs, true);
    match parse_timezone(Some(zone)) {
        Ok(tz) if tz.name() != "UTC" => format!(
            "{text} · {} {zone}",
            utc.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_say_which_way() {
        assert_eq!(relative(10_000 + 185_000, 10_000), "in 3m 05s");
        assert_eq!(relative(10_000, 10_000 + 7_800_000), "2h 10m ago");
        assert_eq!(relative(10_576, 10_000), "just now");
        assert_eq!(relative(10_000, 10_999), "just now");
    }

    #[test]
    fn exact_times_name_utc_and_the_schedules_zone() {
        // 2026-12-07T01:00:00Z
        let at = 1_796_605_200_000;
        assert_eq!(
            exact(at, "Europe/Berlin"),
            "2026-12-07T01:00:00Z · 2026-12-07T02:00:00+01:00 Europe/Berlin"
        );
        assert_eq!(exact(at, "UTC"), "2026-12-07T01:00:00Z");
    }
}
