//! The settings of one node on their own: durations, retry bounds, HTTP methods and URLs,
//! required names. Nothing here looks at the graph.

use super::Diagnostic;
use crate::limits;
use crate::model::{ApprovalNode, DurationError, DurationText, Node, NodeKind, RetryPolicy};

/// A `subflow`'s or `map`'s `workflow` is a workflow name and its `version`, if any, a
/// version number. Whether that workflow exists only the server knows (`unknown_workflow`
/// on save).
fn check_child(id: &str, workflow: &str, version: Option<i64>, out: &mut Vec<Diagnostic>) {
    if !super::parse::valid_workflow_name(workflow) {
        out.push(
            Diagnostic::error(
                "invalid_field",
                format!("`{id}`.workflow `{workflow}` is not a workflow name"),
            )
            .at_node(id),
        );
    }
    if let Some(v) = version.filter(|v| *v < 1) {
        out.push(
            Diagnostic::error(
                "invalid_field",
                format!("`{id}`.version is {v}; versions start at 1"),
            )
            .at_node(id),
        );
    }
}

/// Checks `d` is a duration longer than zero and at most `MAX_DURATION`; returns it when it is.
pub(super) fn check_duration(
    d: &DurationText,
    field: &str,
    node: Option<&str>,
    out: &mut Vec<Diagnostic>,
) -> Option<std::time::Duration> {
    let at = |diag: Diagnostic| match node {
        Some(n) => diag.at_node(n),
        None => diag,
    };
    let prefix = node.map(|n| format!("`{n}`.")).unwrap_or_default();
    match d.parse() {
        Ok(v) if v.is_zero() => {
            out.push(at(Diagnostic::error(
                "invalid_duration",
                format!("{prefix}{field}: `{d}` must be longer than zero"),
            )));
            None
        }
        Ok(v) => Some(v),
        Err(e @ DurationError::TooLong) => {
            out.push(at(Diagnostic::error(
                "invalid_duration",
                format!("{prefix}{field}: `{d}` is {e}"),
            )));
            None
        }
        Err(DurationError::Invalid(e)) => {
            out.push(at(Diagnostic::error(
                "invalid_duration",
                format!(
                    "{prefix}{field}: `{d}` is not a duration like 500ms, 5s, 1h30m or 7d ({e})"
                ),
            )));
            None
        }
    }
}

fn check_retry(node: &str, retry: Option<&RetryPolicy>, out: &mut Vec<Diagnostic>) {
    let Some(r) = retry else { return };
    if let Some(n) = r.max_attempts.filter(|n| *n < 1) {
        out.push(
            Diagnostic::error(
                "retry_max_attempts",
                format!("`{node}`.retry.max_attempts is {n}; it must be at least 1"),
            )
            .at_node(node),
        );
    }
    if let Some(c) = r
        .backoff_coefficient
        .filter(|c| c.is_nan() || *c < 1.0 || !c.is_finite())
    {
        out.push(
            Diagnostic::error(
                "retry_backoff_coefficient",
                format!("`{node}`.retry.backoff_coefficient is {c}; it must be at least 1"),
            )
            .at_node(node),
        );
    }
    let initial = r
        .initial_interval
        .as_ref()
        .and_then(|d| check_duration(d, "retry.initial_interval", Some(node), out));
    let max = r
        .max_interval
        .as_ref()
        .and_then(|d| check_duration(d, "retry.max_interval", Some(node), out));
    if let (Some(i), Some(m)) = (initial, max)
        && m < i
    {
        out.push(
            Diagnostic::warning(
                "retry_max_interval",
                format!("`{node}`.retry.max_interval is shorter than initial_interval"),
            )
            .at_node(node),
        );
    }
}

/// The rules of `node`'s own type.
pub(super) fn check_settings(node: &Node, out: &mut Vec<Diagnostic>) {
    let id = node.id.as_str();
    let dur = |d: &Option<DurationText>, field: &str, out: &mut Vec<Diagnostic>| {
        if let Some(d) = d {
            check_duration(d, field, Some(id), out);
        }
    };
    match &node.kind {
        NodeKind::Http(h) => {
            dur(&h.timeout, "timeout", out);
            check_retry(id, h.retry.as_ref(), out);
            let m = h.request.method.to_ascii_uppercase();
            if !m.contains("{{")
                && !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                    .contains(&m.as_str())
            {
                out.push(
                    Diagnostic::error(
                        "invalid_method",
                        format!(
                            "`{id}`.request.method `{}` is not an HTTP method",
                            h.request.method
                        ),
                    )
                    .at_node(id),
                );
            }
            if h.request.url.trim().is_empty() {
                out.push(
                    Diagnostic::error("missing_url", format!("`{id}`.request.url is empty"))
                        .at_node(id),
                );
            }
        }
        NodeKind::Task(t) => {
            dur(&t.timeout, "timeout", out);
            dur(&t.heartbeat_timeout, "heartbeat_timeout", out);
            check_retry(id, t.retry.as_ref(), out);
            for (field, v) in [("queue", &t.queue), ("activity", &t.activity)] {
                if v.trim().is_empty() {
                    out.push(
                        Diagnostic::error("missing_field", format!("`{id}`.{field} is empty"))
                            .at_node(id),
                    );
                }
            }
        }
        NodeKind::Approval(a) => check_approval(id, a, out),
        NodeKind::Signal(s) => {
            dur(&s.timeout, "timeout", out);
            if s.signal.trim().is_empty() {
                out.push(
                    Diagnostic::error("missing_field", format!("`{id}`.signal is empty"))
                        .at_node(id),
                );
            }
        }
        NodeKind::Timer(t) => {
            check_duration(&t.duration, "duration", Some(id), out);
        }
        NodeKind::Subflow(s) => {
            dur(&s.timeout, "timeout", out);
            check_child(id, &s.workflow, s.version, out);
        }
        NodeKind::Map(m) => {
            check_child(id, &m.workflow, m.version, out);
            let mut bound = |field: &str, v: Option<i64>, min: i64, max: i64| {
                if let Some(v) = v.filter(|v| !(min..=max).contains(v)) {
                    out.push(
                        Diagnostic::error(
                            "invalid_field",
                            format!("`{id}`.{field} is {v}; it must be in {min}..={max}"),
                        )
                        .at_node(id),
                    );
                }
            };
            bound(
                "max_concurrency",
                m.max_concurrency,
                1,
                limits::MAX_MAP_CONCURRENCY,
            );
            bound(
                "tolerated_failures",
                m.tolerated_failures,
                0,
                limits::MAX_MAP_ITEMS as i64,
            );
        }
        _ => {}
    }
}

/// An approval's people rules (SPEC §7): someone may decide, escalation steps fall before the
/// timeout and notify an http(s) URL, a default decision has a timeout to be taken at, and
/// the form is a JSON Schema.
fn check_approval(id: &str, a: &ApprovalNode, out: &mut Vec<Diagnostic>) {
    let err = |code: &str, msg: String| Diagnostic::error(code, msg).at_node(id);
    let warn = |code: &str, msg: String| Diagnostic::warning(code, msg).at_node(id);
    let timeout = a
        .timeout
        .as_ref()
        .and_then(|d| check_duration(d, "timeout", Some(id), out));
    let nobody = |who: &crate::model::Approvers| who.roles.is_empty() && who.users.is_empty();
    if a.approvers.as_ref().is_some_and(nobody) && a.escalate.is_empty() {
        out.push(err(
            "no_approvers",
            format!("`{id}`.approvers names no role and no user, so nobody may decide"),
        ));
    }
    let users = a
        .approvers
        .iter()
        .chain(a.escalate.iter().map(|e| &e.approvers))
        .flat_map(|w| &w.users);
    for u in users.filter(|u| u.trim().is_empty()) {
        out.push(err(
            "invalid_field",
            format!("`{id}`: an approver's user name is empty ({u:?})"),
        ));
    }
    let mut before: Option<std::time::Duration> = None;
    for (k, step) in a.escalate.iter().enumerate() {
        let field = format!("escalate[{k}].after");
        let after = check_duration(&step.after, &field, Some(id), out);
        if let (Some(prev), Some(this)) = (before, after)
            && this <= prev
        {
            out.push(err(
                "invalid_field",
                format!("`{id}`.escalate[{k}].after must come later than the step before it"),
            ));
        }
        before = after.or(before);
        if nobody(&step.approvers) {
            out.push(err(
                "no_approvers",
                format!("`{id}`.escalate[{k}].approvers names no role and no user"),
            ));
        }
        if let (Some(after), Some(timeout)) = (after, timeout)
            && after >= timeout
        {
            out.push(warn(
                "escalation_never_reached",
                format!(
                    "`{id}`.escalate[{k}] comes after {}, but the approval times out at {}",
                    step.after,
                    a.timeout
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
            ));
        }
        if let Some(url) = &step.notify {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                out.push(err(
                    "invalid_field",
                    format!("`{id}`.escalate[{k}].notify `{url}` is not an http(s) URL"),
                ));
            }
        }
    }
    if let Some(d) = a.default_decision
        && a.timeout.is_none()
    {
        out.push(warn(
            "default_never_taken",
            format!(
                "`{id}` has a default_decision ({}) but no `timeout`, so it is never taken",
                d.as_str()
            ),
        ));
    }
    if let Some(form) = &a.form
        && let Err(e) = jsonschema::validator_for(form)
    {
        out.push(err(
            "invalid_form",
            format!("`{id}`.form is not a valid JSON Schema: {e}"),
        ));
    }
}
