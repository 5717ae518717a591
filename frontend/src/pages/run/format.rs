//! How the console writes times, durations and JSON, the same way on every panel.

use leptos::prelude::*;
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

/// How far `at` is from `now`, in words: "in 4 s", "2 min ago", "just now". Coarse on
/// purpose: the exact time is on hover (see [`Moment`]).
pub fn relative(at: i64, now: i64) -> String {
    let delta = at - now;
    let secs = delta.abs() / 1000;
    if secs < 1 {
        return "just now".to_owned();
    }
    let span = if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else if secs < 86_400 {
        format!("{} h", secs / 3600)
    } else {
        format!("{} d", secs / 86_400)
    };
    if delta > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// A moment on the page: relative to the ticking `now` ("2 min ago"), the exact local time
/// with milliseconds on hover, and machine-readable in `datetime`.
#[component]
pub fn Moment(
    at: i64,
    /// The page's wall clock.
    now: RwSignal<i64>,
) -> impl IntoView {
    let exact = format!("{}.{:03}", date_time(at), at.rem_euclid(1000));
    let iso = String::from(js_sys::Date::new(&(at as f64).into()).to_iso_string());
    view! {
        <time datetime=iso title=exact class="moment" tabindex="0">
            {move || relative(at, now.get())}
        </time>
    }
}

/// A JSON body indented; any other text as it came.
pub fn body(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => pretty(&value),
        _ => text.to_owned(),
    }
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
    use super::{body, duration, relative};

    #[test]
    fn durations_read_short() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_200), "4.2s");
        assert_eq!(duration(185_000), "3m 05s");
        assert_eq!(duration(7_800_000), "2h 10m");
        assert_eq!(duration(273_600_000), "3d 4h");
    }

    #[test]
    fn moments_read_relative_to_now() {
        let now = 1_000_000_000;
        assert_eq!(relative(now + 4_200, now), "in 4 s");
        assert_eq!(relative(now - 130_000, now), "2 min ago");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative(now + 2 * 86_400_000, now), "in 2 d");
        assert_eq!(relative(now + 300, now), "just now");
    }

    #[test]
    fn json_bodies_are_indented_and_other_text_is_kept() {
        assert_eq!(body(r#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(body("busy, try again"), "busy, try again");
        assert_eq!(body("42"), "42");
    }
}
