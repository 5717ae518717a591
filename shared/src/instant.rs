//! Instants a caller writes in a filter (SPEC §6: `created_after`, `created_before`): RFC 3339
//! text with any offset, or milliseconds since the Unix epoch. One reader for the server's
//! filters and the browser's, so both accept the same text.

use serde_json::Value;

use crate::event::Millis;

/// The instant `v` names, in milliseconds since the Unix epoch; `None` when it is neither an
/// integer nor RFC 3339 text (a number given as text counts as milliseconds).
pub fn parse(v: &Value) -> Option<Millis> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<Millis>().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|t| t.timestamp_millis())
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::parse;

    #[test]
    fn reads_rfc3339_with_any_offset_and_epoch_millis() {
        assert_eq!(parse(&json!("1970-01-01T00:00:01Z")), Some(1_000));
        assert_eq!(parse(&json!("1970-01-01T01:00:01+01:00")), Some(1_000));
        assert_eq!(
            parse(&json!(1_700_000_000_000_i64)),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse(&json!("1700000000000")), Some(1_700_000_000_000));
        assert_eq!(parse(&json!("yesterday")), None);
        assert_eq!(parse(&json!(1.5)), None);
        assert_eq!(parse(&json!(null)), None);
    }
}
