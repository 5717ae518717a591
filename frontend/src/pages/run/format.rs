//! How the console writes times, durations and JSON, the same way on every panel.

use serde_json::Value;

/// A wall-clock time, local, to the second: `14:03:27`.
pub fn clock(ms: i64) -> String {
    let date = js_sys::Date::new(&(ms as f64).into());
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// A wall-clock time with milliseconds, for event lists: `14:03:27.120`.
pub fn clock_ms(ms: i64) -> String {
    format!("{}.{:03}", clock(ms), ms.rem_euclid(1000))
}

/// A date and time, local: `2026-11-25 14:03:27`.
pub fn date_time(ms: i64) -> String {
    let date = js_sys::Date::new(&(ms as f64).into());
    format!(
        "{}-{:02}-{:02} {}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        clock(ms)
    )
}

/// A duration, short: `850ms`, `4.2s`, `3m 05s`, `2h 10m`, `3d 4h`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return format!("{:.1}s", ms as f64 / 1000.0);
    }
    let secs = ms / 1000;
    if secs < 3600 {
        return format!("{}m {:02}s", secs / 60, secs % 60);
    }
    if secs < 86_400 {
        return format!("{}h {:02}m", secs / 3600, secs % 3600 / 60);
    }
    format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600)
}

/// JSON, indented, for `<pre>` blocks.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The current time, in ms since the epoch.
pub fn now() -> i64 {
    js_sys::Date::now() as i64
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_short() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_200), "4.2s");
        assert_eq!(duration(185_000), "3m 05s");
        assert_eq!(duration(7_800_000), "2h 10m");
        assert_eq!(duration(273_600_000), "3d 4h");
    }
}
