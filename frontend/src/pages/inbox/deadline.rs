//! How an approval's card says who may decide and when it runs out: pure, tested natively.

use shared::access::Role;
use shared::model::Verdict;

/// The time left until `until`, in words: "in 2 h 14 min", "in 45 s", "overdue".
pub fn countdown(until: i64, now: i64) -> String {
    let left = until - now;
    if left <= 0 {
        return "overdue".to_owned();
    }
    let secs = left / 1000;
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("in {d} d {h} h")
    } else if h > 0 {
        format!("in {h} h {m} min")
    } else if m > 0 {
        format!("in {m} min")
    } else {
        format!("in {s} s")
    }
}

/// What happens at the deadline when nobody decides.
pub fn at_deadline(default: Option<Verdict>) -> &'static str {
    match default {
        Some(Verdict::Approve) => "then it is approved automatically",
        Some(Verdict::Reject) => "then it is rejected automatically",
        None => "then the run takes its timeout path (or fails without one)",
    }
}

/// Who may decide now: "approver (or above) · alice, bob"; nobody named: "nobody yet".
pub fn deciders(roles: &[Role], users: &[String]) -> String {
    let mut parts: Vec<String> = roles
        .iter()
        .map(|r| format!("{} (or above)", role_name(*r)))
        .collect();
    parts.extend(users.iter().cloned());
    if parts.is_empty() {
        "nobody yet".to_owned()
    } else {
        parts.join(" · ")
    }
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{role:?}").to_lowercase())
}

/// "escalation 1 of 2 reached", "2 escalations, none reached yet"; none planned: `None`.
pub fn escalation(reached: u32, total: u32) -> Option<String> {
    match (reached, total) {
        (_, 0) => None,
        (0, 1) => Some("1 escalation, not reached yet".to_owned()),
        (0, t) => Some(format!("{t} escalations, none reached yet")),
        (r, t) => Some(format!("escalation {r} of {t} reached")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn the_countdown_reads_in_words() {
        assert_eq!(
            countdown(2 * 60 * MIN + 14 * MIN + 5_000, 0),
            "in 2 h 14 min"
        );
        assert_eq!(countdown(14 * MIN + 59_000, 0), "in 14 min");
        assert_eq!(countdown(45_500, 0), "in 45 s");
        assert_eq!(countdown(3 * 24 * 60 * MIN + 4 * 60 * MIN, 0), "in 3 d 4 h");
        assert_eq!(countdown(1000, 1000), "overdue");
        assert_eq!(countdown(0, 5000), "overdue");
    }

    #[test]
    fn the_deadline_says_what_happens_then() {
        assert!(at_deadline(Some(Verdict::Approve)).contains("approved"));
        assert!(at_deadline(Some(Verdict::Reject)).contains("rejected"));
        assert!(at_deadline(None).contains("timeout path"));
    }

    #[test]
    fn deciders_and_escalations_read_as_a_line() {
        assert_eq!(
            deciders(&[Role::Approver], &["alice".to_owned()]),
            "approver (or above) · alice"
        );
        assert_eq!(deciders(&[], &[]), "nobody yet");
        assert_eq!(
            escalation(1, 2).as_deref(),
            Some("escalation 1 of 2 reached")
        );
        assert_eq!(
            escalation(0, 2).as_deref(),
            Some("2 escalations, none reached yet")
        );
        assert_eq!(escalation(0, 0), None);
    }
}
