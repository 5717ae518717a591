//! The run's history: every event with its `seq`, time, type, node and what it says in a
//! few words (an attempt's number and error, when the next one starts, an exchange's status:
//! [`note`]), its data expandable as formatted JSON, filterable by node. It is the log the engine replays, shown as is. A
//! long log (a run of 10,000 events) shows its first [`PAGE`] events and a button for more, so
//! opening the run does not put every event in the document.

use leptos::prelude::*;
use serde_json::Value;
use shared::api::RunEvent;

use super::format;
use super::json::JsonPre;
use super::state::RunState;

/// How many events the list shows at first, and how many more each "Show more" adds.
const PAGE: usize = 100;

#[component]
pub fn History(state: RwSignal<RunState>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let limit = RwSignal::new(PAGE);
    let nodes = Memo::new(move |_| {
        state.with(|s| {
            let mut seen: Vec<String> = Vec::new();
            for node in s.events.iter().filter_map(|e| e.node.as_ref()) {
                if !seen.contains(node) {
                    seen.push(node.clone());
                }
            }
            seen
        })
    });
    let matching = move |e: &shared::api::RunEvent, wanted: &str| {
        wanted.is_empty() || e.node.as_deref() == Some(wanted)
    };
    let shown = move || {
        let wanted = filter.get();
        state.with(|s| {
            s.events
                .iter()
                .filter(|e| matching(e, &wanted))
                .take(limit.get())
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let hidden = move || {
        let wanted = filter.get();
        let total = state.with(|s| s.events.iter().filter(|e| matching(e, &wanted)).count());
        total.saturating_sub(limit.get())
    };
    view! {
        <section class="card history-card" data-testid="history">
            <div class="card-head">
                <h2>"History"</h2>
                <span class="muted">{move || format!("{} events", state.with(|s| s.events.len()))}</span>
                <div class="card-actions">
                    <label class="inline-field">
                        <span>"Node"</span>
                        <select
                            class="input"
                            data-testid="history-node-filter"
                            prop:value=move || filter.get()
                            on:change=move |ev| filter.set(event_target_value(&ev))
                        >
                            <option value="">"All nodes"</option>
                            <For each=move || nodes.get() key=|n| n.clone() let:node>
                                <option value=node.clone()>{node.clone()}</option>
                            </For>
                        </select>
                    </label>
                </div>
            </div>
            <ol class="events">
                <For each=shown key=|e| e.seq children=row />
            </ol>
            <Show when=move || hidden() != 0>
                <button class="btn history-more" data-testid="history-more" on:click=move |_| limit.update(|l| *l += PAGE)>
                    {move || format!("Show {} more of {} not shown", hidden().min(PAGE), hidden())}
                </button>
            </Show>
        </section>
    }
}

/// One event: its summary line, and its data as formatted JSON once opened (formatting every
/// row's data up front would cost a long run's page hundreds of milliseconds).
fn row(event: RunEvent) -> impl IntoView {
    let opened = RwSignal::new(false);
    let data = event.data.clone();
    view! {
            <li class="event" data-testid="history-event" data-type=event.kind.clone()>
                <details on:toggle=move |ev| opened.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
                    <summary>
                        <span class="event-seq">{event.seq}</span>
                        <span class="event-time">{format::clock_ms(event.at)}</span>
                        <span class=format!("event-type type-{}", event.kind)>
                            {event.kind.clone()}
                        </span>
                        <span class="event-node">
                            {event.node.clone().unwrap_or_default()}
                        </span>
                        {note(&event, format::clock_ms)
                            .map(|n| {
                                let title = n.clone();
                                view! {
                                    <span class="event-note" title=title data-testid="history-note">
                                        {n}
                                    </span>
                                }
                            })}
                    </summary>
                    <Show when=move || opened.get()>
                        <div data-testid="history-data">
                            <JsonPre value=data.clone() />
                        </div>
                    </Show>
                </details>
            </li>
    }
}

/// What an event says, in a few words, beside its type: an attempt's number and error, the
/// time the next attempt starts, an exchange's method, URL and status, the port a node left
/// by, a wait's deadline, why a node or the run failed. `None` when the type says it all.
/// `clock` writes a time (the page's local clock; a test's own).
fn note(event: &RunEvent, clock: impl Fn(i64) -> String) -> Option<String> {
    let d = &event.data;
    let text = |k: &str| d.get(k).and_then(Value::as_str);
    let attempt = d.get("attempt").and_then(Value::as_u64);
    let at = |k: &str| d.get(k).and_then(Value::as_i64).map(&clock);
    match event.kind.as_str() {
        "node_started" => attempt.map(|a| format!("attempt {a}")),
        "attempt_failed" => {
            let mut s = format!("attempt {} failed: {}", attempt?, text("error")?);
            match at("retry_at") {
                Some(t) => s.push_str(&format!(" · next at {t}")),
                None => s.push_str(" · no more attempts"),
            }
            Some(s)
        }
        "http_exchanged" => {
            let req = d.get("request")?;
            let status = d
                .pointer("/response/status")
                .and_then(Value::as_u64)
                .map_or("no response".to_owned(), |s| s.to_string());
            Some(format!(
                "attempt {} · {} {} → {status}",
                attempt?,
                req.get("method")?.as_str()?,
                req.get("url")?.as_str()?
            ))
        }
        "node_completed" => text("port")
            .filter(|p| *p != "next")
            .map(|p| format!("→ {p}")),
        "node_failed" => text("error").map(str::to_owned),
        "node_waiting" => at("until").map(|t| format!("until {t}")),
        "approval_decided" => {
            let verdict = if text("decision")? == "approve" {
                "approved"
            } else {
                "rejected"
            };
            let mut s = match text("by") {
                Some(by) => format!("{verdict} by {by}"),
                None => format!("{verdict} by default at the timeout"),
            };
            if let Some(c) = text("comment").filter(|c| !c.is_empty()) {
                s.push_str(&format!(": {c}"));
            }
            Some(s)
        }
        "approval_escalated" => {
            let who = d.get("approvers")?;
            let list = |k: &str| -> Vec<String> {
                who.get(k)
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut names: Vec<String> =
                list("roles").iter().map(|r| format!("role {r}")).collect();
            names.extend(list("users"));
            Some(format!(
                "escalation {} · now also {}",
                d.get("step")?.as_u64()? + 1,
                names.join(", ")
            ))
        }
        "approval_notified" => Some(
            match (d.get("status").and_then(Value::as_u64), text("error")) {
                (Some(status), _) => format!("notified · HTTP {status}"),
                (None, Some(e)) => format!("notice failed: {e}"),
                (None, None) => "notified".to_owned(),
            },
        ),
        "run_failed" => text("error").map(str::to_owned),
        "signal_received" => text("name").map(|n| format!("`{n}`")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::api::RunEvent;

    use super::note as written;

    fn note(e: &RunEvent) -> Option<String> {
        written(e, |t| format!("t{t}"))
    }

    fn ev(kind: &str, data: serde_json::Value) -> RunEvent {
        RunEvent {
            seq: 1,
            kind: kind.into(),
            node: Some("charge".into()),
            at: 0,
            data,
        }
    }

    #[test]
    fn a_row_says_who_decided_an_approval_and_its_escalations() {
        let by = ev(
            "approval_decided",
            json!({"decision": "approve", "by": "fin", "comment": "ok"}),
        );
        assert_eq!(note(&by).as_deref(), Some("approved by fin: ok"));
        let lapsed = ev(
            "approval_decided",
            json!({"decision": "reject", "default": true}),
        );
        assert_eq!(
            note(&lapsed).as_deref(),
            Some("rejected by default at the timeout")
        );
        let up = ev(
            "approval_escalated",
            json!({"step": 0, "approvers": {"roles": ["admin"], "users": ["cfo"]}}),
        );
        assert_eq!(
            note(&up).as_deref(),
            Some("escalation 1 · now also role admin, cfo")
        );
        let told = ev("approval_notified", json!({"step": 0, "status": 200}));
        assert_eq!(note(&told).as_deref(), Some("notified · HTTP 200"));
    }

    #[test]
    fn a_row_says_the_attempt_its_error_and_when_the_next_starts() {
        assert_eq!(
            note(&ev("node_started", json!({"attempt": 2}))).as_deref(),
            Some("attempt 2")
        );
        let failed = note(&ev(
            "attempt_failed",
            json!({"attempt": 1, "error": "HTTP 503: busy", "retry_at": 1_000}),
        ))
        .unwrap();
        assert!(
            failed.starts_with("attempt 1 failed: HTTP 503: busy · next at "),
            "{failed}"
        );
        let last = note(&ev(
            "attempt_failed",
            json!({"attempt": 3, "error": "boom"}),
        ))
        .unwrap();
        assert_eq!(last, "attempt 3 failed: boom · no more attempts");
        let sent = note(&ev(
            "http_exchanged",
            json!({"attempt": 1, "request": {"method": "POST", "url": "http://x/pay", "headers": []},
                   "response": {"status": 503, "headers": [], "body": ""}}),
        ));
        assert_eq!(sent.as_deref(), Some("attempt 1 · POST http://x/pay → 503"));
        let lost = note(&ev(
            "http_exchanged",
            json!({"attempt": 2, "request": {"method": "GET", "url": "http://x", "headers": []}}),
        ));
        assert_eq!(
            lost.as_deref(),
            Some("attempt 2 · GET http://x → no response")
        );
        assert_eq!(
            note(&ev(
                "node_completed",
                json!({"port": "approved", "output": {}})
            ))
            .as_deref(),
            Some("→ approved")
        );
        assert_eq!(
            note(&ev("node_completed", json!({"port": "next", "output": 1}))),
            None
        );
        assert_eq!(note(&ev("run_started", json!({}))), None);
    }
}
