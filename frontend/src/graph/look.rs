//! How a node looks, whatever draws it: its type's colour and icon, and the one-line summary of
//! its settings. Pure data, so the editor and the run console agree and it tests natively.

use shared::model::{Node, NodeKind, RetryPolicy, defaults};

/// A node type's colour (the icon tile and the accent bar).
pub fn colour(type_name: &str) -> &'static str {
    match type_name {
        "start" => "#16a34a",
        "end" => "#475569",
        "http" => "#2563eb",
        "task" => "#7c3aed",
        "approval" => "#d97706",
        "signal" => "#db2777",
        "timer" => "#0891b2",
        "condition" => "#ea580c",
        "transform" => "#0d9488",
        "subflow" => "#0369a1",
        "map" => "#9333ea",
        _ => "#4f46e5",
    }
}

/// A node type's icon: SVG path data in a 16×16 box, and whether it is filled (else stroked).
pub fn icon(type_name: &str) -> (&'static str, bool) {
    const CIRCLE: &str = "M14 8a6 6 0 1 1-12 0a6 6 0 1 1 12 0";
    match type_name {
        "start" => ("M5.5 3.5v9l7-4.5z", true),
        "end" => ("M4.5 4.5h7v7h-7z", true),
        "http" => (
            concat!(
                "M14 8a6 6 0 1 1-12 0a6 6 0 1 1 12 0",
                "M2 8h12M8 2c2.2 2 2.2 10 0 12M8 2c-2.2 2-2.2 10 0 12"
            ),
            false,
        ),
        "task" => (
            "M2.5 5 8 2.5 13.5 5v6L8 13.5 2.5 11zM2.5 5 8 7.5 13.5 5M8 7.5v6",
            false,
        ),
        "approval" => (
            concat!("M14 8a6 6 0 1 1-12 0a6 6 0 1 1 12 0", "M5.2 8.2l2 2 3.8-4"),
            false,
        ),
        "signal" => ("M9 1.5 3.5 9H8l-1 5.5L12.5 7H8z", false),
        "timer" => (
            concat!("M14 8a6 6 0 1 1-12 0a6 6 0 1 1 12 0", "M8 4.5V8l2.5 1.5"),
            false,
        ),
        "condition" => ("M8 1.8 14.2 8 8 14.2 1.8 8z", false),
        "transform" => (
            "M6 2.5c-1.5 0-2 .7-2 2V6c0 1-.5 2-1.5 2 1 0 1.5 1 1.5 2v1.5c0 1.3.5 2 2 2M10 2.5c1.5 0 2 .7 2 2V6c0 1 .5 2 1.5 2-1 0-1.5 1-1.5 2v1.5c0 1.3-.5 2-2 2",
            false,
        ),
        "parallel" => ("M2 8h4M6 8l7-4.5M6 8l7 4.5M6 8h7", false),
        "join" => ("M3 3.5 9 8M3 12.5 9 8M2 8h12", false),
        "subflow" => ("M2.5 3.5h11v9h-11zM5.5 6.5h5v3h-5z", false),
        "map" => ("M2.5 3h8v3h-8zM4 7.5h8v3H4zM5.5 12h8", false),
        _ => (CIRCLE, false),
    }
}

/// The longest summary drawn on a node; longer ones end in `…` (the full text is its tooltip).
pub const SUMMARY_MAX: usize = 29;

/// The one-line summary of a node's settings, e.g. `POST /charge · 5s · 3 tries`.
pub fn summary(node: &Node) -> String {
    let mut parts: Vec<String> = match &node.kind {
        NodeKind::Start(_) => vec!["when a run starts".into()],
        NodeKind::End(end) => vec![if end.output.is_some() {
            "returns an output".into()
        } else {
            "ends the run".into()
        }],
        NodeKind::Http(http) => vec![
            format!("{} {}", http.request.method, url_path(&http.request.url)),
            http.timeout
                .as_ref()
                .map_or(defaults::HTTP_TIMEOUT_TEXT.into(), |t| t.0.clone()),
            tries(http.retry.as_ref()),
        ],
        NodeKind::Task(task) => vec![
            format!("{} · {}", task.queue, task.activity),
            task.timeout
                .as_ref()
                .map_or(defaults::TASK_TIMEOUT_TEXT.into(), |t| t.0.clone()),
            tries(task.retry.as_ref()),
        ],
        NodeKind::Approval(a) => {
            let mut parts = vec!["asks for approval".to_owned()];
            parts.extend(a.timeout.as_ref().map(|t| t.0.clone()));
            parts
        }
        NodeKind::Signal(s) => {
            let mut parts = vec![format!("waits for “{}”", s.signal)];
            parts.extend(s.timeout.as_ref().map(|t| t.0.clone()));
            parts
        }
        NodeKind::Timer(t) => vec![format!("waits {}", t.duration)],
        NodeKind::Condition(c) => vec![c.expr.clone()],
        NodeKind::Transform(_) => vec!["builds a value".into()],
        NodeKind::Parallel(_) => vec!["runs branches at once".into()],
        NodeKind::Join(_) => vec!["waits for every branch".into()],
        NodeKind::Subflow(s) => vec![format!("runs {}", pinned(&s.workflow, s.version))],
        NodeKind::Map(m) => vec![
            format!("each item: {}", pinned(&m.workflow, m.version)),
            format!(
                "{} at once",
                m.max_concurrency
                    .unwrap_or(i64::from(defaults::MAX_CONCURRENCY))
            ),
        ],
    };
    parts.retain(|p| !p.trim().is_empty());
    parts.join(" · ")
}

/// `name` or `name v3`: the workflow a child runs.
fn pinned(workflow: &str, version: Option<i64>) -> String {
    match version {
        Some(v) => format!("{workflow} v{v}"),
        None => workflow.to_owned(),
    }
}

/// A card's label as semantic zoom shows it far out: at most two lines of [`FAR_LINE`]
/// characters, broken between words (`Charge` / `the card`), the second cut short if need
/// be; one line when it fits or its first word does not.
pub fn far_lines(title: &str) -> Vec<String> {
    if title.chars().count() <= FAR_LINE {
        return vec![title.to_owned()];
    }
    let mut first = String::new();
    let mut words = title.split_whitespace().peekable();
    while let Some(w) = words.peek() {
        let len = first.chars().count() + usize::from(!first.is_empty()) + w.chars().count();
        if len > FAR_LINE {
            break;
        }
        if !first.is_empty() {
            first.push(' ');
        }
        first.push_str(w);
        words.next();
    }
    if first.is_empty() {
        return vec![short(title, FAR_LINE)];
    }
    let rest: Vec<&str> = words.collect();
    vec![first, short(&rest.join(" "), FAR_LINE)]
}

/// The characters of one line of a far label: what a card holds at the designer's smallest
/// labelled zoom.
const FAR_LINE: usize = 9;

/// `summary` cut to [`SUMMARY_MAX`] characters.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// `3 tries`, `1 try`: the attempts a retry policy allows.
fn tries(policy: Option<&RetryPolicy>) -> String {
    match RetryPolicy::resolve(policy).max_attempts {
        1 => "1 try".into(),
        n => format!("{n} tries"),
    }
}

/// The part of a URL worth showing: its path for an absolute URL, else all of it.
fn url_path(url: &str) -> &str {
    let Some((_, rest)) = url.split_once("://") else {
        return url;
    };
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(value: serde_json::Value) -> Node {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn far_labels_break_between_words_into_two_lines_at_most() {
        assert_eq!(far_lines("Fan out"), ["Fan out"]);
        assert_eq!(far_lines("Charge the card"), ["Charge", "the card"]);
        assert_eq!(far_lines("Send confirmation"), ["Send", "confirma…"]);
        assert_eq!(
            far_lines("Ship it to the customer"),
            ["Ship it", "to the c…"]
        );
        assert_eq!(far_lines("Notification"), ["Notifica…"]);
    }

    #[test]
    fn http_summary_names_method_path_timeout_and_tries() {
        let charge = node(json!({"id": "charge", "type": "http",
            "request": {"method": "POST", "url": "http://127.0.0.1:9000/charge"},
            "timeout": "5s", "retry": {"max_attempts": 3}}));
        assert_eq!(summary(&charge), "POST /charge · 5s · 3 tries");
        let plain = node(json!({"id": "x", "type": "http",
            "request": {"method": "GET", "url": "https://example.com"}, "retry": {"max_attempts": 1}}));
        assert_eq!(summary(&plain), "GET example.com · 30s · 1 try");
    }

    #[test]
    fn other_summaries() {
        let timer = node(json!({"id": "t", "type": "timer", "duration": "10m"}));
        assert_eq!(summary(&timer), "waits 10m");
        let task = node(json!({"id": "t", "type": "task", "queue": "orders", "activity": "ship"}));
        assert_eq!(summary(&task), "orders · ship · 5m · 3 tries");
    }

    #[test]
    fn short_cuts_with_an_ellipsis() {
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(short("abc", 4), "abc");
    }
}
