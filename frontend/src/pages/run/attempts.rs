//! A node's attempts, as its events tell them: when each started, how long it took, how it
//! ended (with the error), when the next one is due, and for an `http` node what went over
//! the wire. The node fold keeps only the last attempt's fields; an operator asking "why did
//! it take five tries?" needs every one, so they are rebuilt here from the recorded events,
//! a pure function tested without a browser; [`AttemptList`] draws them.

use leptos::prelude::*;
use shared::event::{Event, HttpRequestRecord, HttpResponseRecord, Millis, Recorded};

use super::exchange::Exchange;
use super::format::{self, Moment};
use super::replay::Shown;

/// How an attempt ended, or that it has not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    InFlight,
    /// Waiting for a person, a signal or the clock.
    Waiting,
    Succeeded,
    Failed(String),
    Cancelled,
}

impl Outcome {
    /// The `data-outcome` and CSS class.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::InFlight => "in-flight",
            Outcome::Waiting => "waiting",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed(_) => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// One attempt of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// From 1.
    pub number: u32,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    pub outcome: Outcome,
    /// When the next attempt is due, after a failed one that will be retried.
    pub retry_at: Option<Millis>,
    /// An `http` attempt's request and response (none when no response came).
    pub request: Option<HttpRequestRecord>,
    pub response: Option<HttpResponseRecord>,
}

/// The attempts of `node` in the order they started. A node that never started (skipped,
/// reused by a redrive, a pending one) has none; a node that waits without attempts (an
/// approval) has one, its wait.
pub fn attempts(recorded: &[Recorded], node: &str) -> Vec<Attempt> {
    let mut out: Vec<Attempt> = Vec::new();
    let begin = |out: &mut Vec<Attempt>, number: u32, at: Millis, outcome: Outcome| {
        out.push(Attempt {
            number,
            started_at: at,
            ended_at: None,
            outcome,
            retry_at: None,
            request: None,
            response: None,
        });
    };
    for r in recorded.iter().filter(|r| r.event.node() == Some(node)) {
        let open = out
            .last_mut()
            .filter(|a| matches!(a.outcome, Outcome::InFlight | Outcome::Waiting));
        match &r.event {
            Event::NodeStarted { attempt, .. } => {
                begin(&mut out, *attempt, r.at, Outcome::InFlight);
            }
            Event::NodeWaiting { .. } => match open {
                Some(a) => a.outcome = Outcome::Waiting,
                None => {
                    let number = out.last().map_or(1, |a| a.number + 1);
                    begin(&mut out, number, r.at, Outcome::Waiting);
                }
            },
            Event::HttpExchanged {
                attempt,
                request,
                response,
                ..
            } => {
                if let Some(a) = out.iter_mut().rev().find(|a| a.number == *attempt) {
                    a.request = Some((**request).clone());
                    a.response = response.as_deref().cloned();
                }
            }
            Event::AttemptFailed {
                attempt,
                error,
                retry_at,
                ..
            } => {
                if let Some(a) = out.iter_mut().rev().find(|a| a.number == *attempt) {
                    a.outcome = Outcome::Failed(error.clone());
                    a.ended_at = Some(r.at);
                    a.retry_at = *retry_at;
                }
            }
            Event::NodeCompleted { .. } => {
                if let Some(a) = open {
                    a.outcome = Outcome::Succeeded;
                    a.ended_at = Some(r.at);
                }
            }
            Event::NodeFailed { error, .. } => {
                if let Some(a) = open {
                    a.outcome = Outcome::Failed(error.clone());
                    a.ended_at = Some(r.at);
                }
            }
            Event::NodeCancelled { .. } => {
                if let Some(a) = open {
                    a.outcome = Outcome::Cancelled;
                    a.ended_at = Some(r.at);
                }
            }
            _ => {}
        }
    }
    out
}

/// The selected node's attempts, newest last, each with its request and response.
#[component]
pub fn AttemptList(
    state: Shown,
    node: String,
    /// The run's clock, for an attempt in flight.
    now: RwSignal<i64>,
    /// The page's wall clock, for relative times.
    wall: RwSignal<i64>,
) -> impl IntoView {
    let list = Memo::new(move |_| state.with(|s| attempts(&s.recorded, &node)));
    view! {
        <Show
            when=move || list.with(|l| !l.is_empty())
            fallback=|| view! { <p class="muted attempts-empty">"No attempts: this node has not run."</p> }
        >
            <ol class="attempts" data-testid="attempts" aria-label="Attempts">
                <For
                    each=move || list.get().into_iter().enumerate()
                    key=|(i, a)| (*i, a.ended_at, a.outcome.clone(), a.retry_at, a.request.is_some())
                    children=move |(i, a)| {
                        let last = Signal::derive(move || list.with(|l| l.len() == i + 1));
                        view! { <AttemptRow attempt=a last now wall /> }
                    }
                />
            </ol>
        </Show>
    }
}

#[component]
fn AttemptRow(
    attempt: Attempt,
    /// Whether this is the node's latest attempt: its retry is then still to come.
    last: Signal<bool>,
    now: RwSignal<i64>,
    wall: RwSignal<i64>,
) -> impl IntoView {
    let Attempt {
        number,
        started_at,
        ended_at,
        outcome,
        retry_at,
        request,
        response,
    } = attempt;
    let duration = move || format::duration(ended_at.unwrap_or_else(|| now.get()) - started_at);
    let class = format!("attempt attempt-{}", outcome.as_str());
    let (label, error) = match &outcome {
        Outcome::InFlight => ("in flight", None),
        Outcome::Waiting => ("waiting", None),
        Outcome::Succeeded => ("succeeded", None),
        Outcome::Failed(e) => ("failed", Some(e.clone())),
        Outcome::Cancelled => ("cancelled", None),
    };
    // A retry is "next" only while it is the last attempt; then it has happened.
    let retry = retry_at.map(|at| {
        view! {
            <p class="attempt-retry" data-testid="attempt-retry">
                {move || if last.get() { "Next attempt " } else { "Retried " }}
                <Moment at now=wall />
            </p>
        }
    });
    view! {
        <li class=class data-testid="attempt" data-attempt=number data-outcome=outcome.as_str()>
            <div class="attempt-head">
                <span class="attempt-no">{format!("#{number}")}</span>
                <span class=format!("pill attempt-pill attempt-pill-{}", outcome.as_str()) data-testid="attempt-outcome">
                    {label}
                </span>
                <span class="attempt-when">"started " <Moment at=started_at now=wall /></span>
                <span class="attempt-took" data-testid="attempt-duration" title="Duration">{duration}</span>
            </div>
            {error.map(|e| view! { <p class="node-error attempt-error" data-testid="attempt-error">{e}</p> })}
            {retry}
            {request.map(|request| view! { <Exchange request response /> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pages::run::wire::recorded;

    fn ev(seq: i64, at: i64, ty: &str, node: &str, data: serde_json::Value) -> serde_json::Value {
        json!({"seq": seq, "at": at, "type": ty, "node": node, "data": data})
    }

    fn exchange(seq: i64, at: i64, attempt: u32, status: Option<u16>) -> serde_json::Value {
        let mut data = json!({
            "attempt": attempt,
            "request": {"method": "POST", "url": "http://x/charge",
                        "headers": [["authorization", "Bearer ***"]], "body": "{\"a\":1}"},
        });
        if let Some(status) = status {
            data["response"] = json!({"status": status, "headers": [], "body": "busy"});
        }
        ev(seq, at, "http_exchanged", "charge", data)
    }

    #[test]
    fn a_retried_http_node_has_each_attempt_with_its_error_retry_and_exchange() {
        let events = recorded(json!([
            ev(1, 1000, "node_started", "charge", json!({"attempt": 1})),
            exchange(2, 1200, 1, Some(503)),
            ev(
                3,
                1200,
                "attempt_failed",
                "charge",
                json!({"attempt": 1, "error": "HTTP 503", "retry_at": 5200})
            ),
            ev(4, 5200, "node_started", "other", json!({"attempt": 1})),
            ev(5, 5210, "node_started", "charge", json!({"attempt": 2})),
            exchange(6, 5300, 2, Some(200)),
            ev(
                7,
                5300,
                "node_completed",
                "charge",
                json!({"port": "next", "output": {}})
            ),
        ]));
        let list = attempts(&events, "charge");
        assert_eq!(list.len(), 2);
        let first = &list[0];
        assert_eq!(
            (first.number, first.started_at, first.ended_at),
            (1, 1000, Some(1200))
        );
        assert_eq!(first.outcome, Outcome::Failed("HTTP 503".into()));
        assert_eq!(first.retry_at, Some(5200));
        assert_eq!(first.response.as_ref().map(|r| r.status), Some(503));
        assert_eq!(
            first.request.as_ref().map(|r| r.headers.clone()),
            Some(vec![("authorization".into(), "Bearer ***".into())])
        );
        let second = &list[1];
        assert_eq!((second.number, second.ended_at), (2, Some(5300)));
        assert_eq!(second.outcome, Outcome::Succeeded);
        assert_eq!(second.retry_at, None);
        assert_eq!(second.response.as_ref().map(|r| r.status), Some(200));
    }

    #[test]
    fn an_attempt_without_a_response_and_one_in_flight() {
        let events = recorded(json!([
            ev(1, 10, "node_started", "charge", json!({"attempt": 1})),
            exchange(2, 20, 1, None),
            ev(
                3,
                20,
                "attempt_failed",
                "charge",
                json!({"attempt": 1, "error": "connection refused", "retry_at": 120})
            ),
            ev(4, 120, "node_started", "charge", json!({"attempt": 2})),
        ]));
        let list = attempts(&events, "charge");
        assert!(list[0].request.is_some());
        assert_eq!(list[0].response, None);
        assert_eq!(list[1].outcome, Outcome::InFlight);
        assert_eq!(list[1].ended_at, None);
    }

    #[test]
    fn the_last_failure_fails_the_node_and_an_approval_is_one_wait() {
        let events = recorded(json!([
            ev(1, 10, "node_started", "charge", json!({"attempt": 1})),
            ev(
                2,
                20,
                "attempt_failed",
                "charge",
                json!({"attempt": 1, "error": "HTTP 500"})
            ),
            ev(3, 20, "node_failed", "charge", json!({"error": "HTTP 500"})),
            ev(4, 30, "node_waiting", "approve", json!({"prompt": "Ship?"})),
        ]));
        let charge = attempts(&events, "charge");
        assert_eq!(charge.len(), 1);
        assert_eq!(charge[0].outcome, Outcome::Failed("HTTP 500".into()));
        assert_eq!(charge[0].retry_at, None);
        let approve = attempts(&events, "approve");
        assert_eq!(approve.len(), 1);
        assert_eq!(
            (approve[0].number, approve[0].outcome.clone()),
            (1, Outcome::Waiting)
        );
        assert!(attempts(&events, "ship").is_empty());
    }

    #[test]
    fn a_cancelled_attempt_ends_cancelled() {
        let events = recorded(json!([
            ev(1, 10, "node_started", "charge", json!({"attempt": 1})),
            ev(2, 50, "node_cancelled", "charge", json!({})),
        ]));
        let list = attempts(&events, "charge");
        assert_eq!(list[0].outcome, Outcome::Cancelled);
        assert_eq!(list[0].ended_at, Some(50));
    }
}
