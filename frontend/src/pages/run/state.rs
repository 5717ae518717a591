//! A run as its history tells it: every event from the stream is folded into [`RunState`],
//! which the graph, the node details, the actions and the header all read. Each node's fields
//! come from the shared node fold ([`NodeState::apply`]), the one the server's run detail
//! uses, so the page and `GET /api/runs/{id}` never disagree; a replayed or duplicated event
//! (after a reconnect) changes nothing.

use std::collections::BTreeMap;

use serde_json::Value;
use shared::api::{RunEvent, RunStatus};
use shared::event::{Event, Millis, Recorded};

pub use shared::api::NodeStatus;
pub use shared::fold::NodeState;

/// The run, folded from its events in `seq` order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunState {
    /// `None` until `run_started` arrives.
    pub status: Option<RunStatus>,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// Set once a cancel was asked for.
    pub cancel_requested: bool,
    /// Why the run was cancelled, if someone said.
    pub cancel_reason: Option<String>,
    pub nodes: BTreeMap<String, NodeState>,
    /// Every event as the server sent it, for the history; one of a type this build does not
    /// know is kept here too.
    pub events: Vec<RunEvent>,
    /// The events this build knows, read into the shared [`Event`]: what the timeline draws.
    pub recorded: Vec<Recorded>,
}

impl RunState {
    /// The `seq` of the last event folded in; 0 before any.
    pub fn last_seq(&self) -> i64 {
        self.events.last().map_or(0, |e| e.seq)
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_some_and(RunStatus::is_finished)
    }

    pub fn node(&self, id: &str) -> NodeState {
        self.nodes.get(id).cloned().unwrap_or_default()
    }

    /// Folds in one event. An event at or before [`RunState::last_seq`] was seen already
    /// (a stream replays the history after a reconnect) and is ignored: returns `false`.
    pub fn apply(&mut self, event: RunEvent) -> bool {
        if event.seq <= self.last_seq() {
            return false;
        }
        // An event this UI does not know yet still shows in the history.
        if let Ok(recorded) = event.recorded() {
            self.fold(&recorded.event, recorded.at);
            self.recorded.push(recorded);
        }
        self.events.push(event);
        true
    }

    fn fold(&mut self, event: &Event, at: Millis) {
        if let Some(id) = event.node() {
            self.nodes
                .entry(id.to_owned())
                .or_default()
                .apply(event, at);
        }
        match event {
            Event::RunStarted { input, .. } => {
                self.status = Some(RunStatus::Running);
                self.input = input.clone();
                self.started_at = Some(at);
            }
            Event::RunPaused { .. } => self.status = Some(RunStatus::Paused),
            Event::RunResumed => self.status = Some(RunStatus::Running),
            Event::CancelRequested { reason } => {
                // A cancel ends a pause, as on the server (`RunState::apply`).
                if self.status == Some(RunStatus::Paused) {
                    self.status = Some(RunStatus::Running);
                }
                self.cancel_requested = true;
                self.cancel_reason = reason.clone();
            }
            Event::RunCompleted { output, .. } => {
                self.finish(RunStatus::Completed, at);
                self.output = Some(output.clone());
            }
            Event::RunFailed { error } => {
                self.finish(RunStatus::Failed, at);
                self.error = Some(error.clone());
            }
            Event::RunCancelled { reason } => {
                self.finish(RunStatus::Cancelled, at);
                if reason.is_some() {
                    self.cancel_reason = reason.clone();
                }
            }
            // Node events: folded into their node above.
            Event::NodeStarted { .. }
            | Event::NodeWaiting { .. }
            | Event::AttemptFailed { .. }
            | Event::HttpExchanged { .. }
            | Event::NodeCompleted { .. }
            | Event::NodeFailed { .. }
            | Event::NodeSkipped { .. }
            | Event::NodeCancelled { .. }
            | Event::MapStarted { .. }
            | Event::ChildStarted { .. }
            | Event::ChildFinished { .. }
            | Event::ApprovalDecided { .. }
            | Event::ApprovalEscalated { .. }
            | Event::ApprovalNotified { .. }
            | Event::SignalReceived { .. } => {}
        }
    }

    fn finish(&mut self, status: RunStatus, at: Millis) {
        self.status = Some(status);
        self.finished_at = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(seq: i64, ty: &str, node: Option<&str>, data: Value) -> RunEvent {
        serde_json::from_value(
            json!({"seq": seq, "at": seq * 10, "type": ty, "node": node, "data": data}),
        )
        .unwrap()
    }

    fn retried_run() -> Vec<RunEvent> {
        vec![
            event(
                1,
                "run_started",
                None,
                json!({"workflow": "w", "version": 1, "input": {"a": 1}}),
            ),
            event(2, "node_started", Some("charge"), json!({"attempt": 1})),
            event(
                3,
                "attempt_failed",
                Some("charge"),
                json!({"attempt": 1, "error": "HTTP 503", "retry_at": 40}),
            ),
            event(4, "node_started", Some("charge"), json!({"attempt": 2})),
            event(
                5,
                "node_completed",
                Some("charge"),
                json!({"port": "next", "output": {"status": 200}}),
            ),
            event(
                6,
                "node_waiting",
                Some("approve"),
                json!({"prompt": "Ship?"}),
            ),
        ]
    }

    #[test]
    fn a_retried_node_completes_and_an_approval_waits() {
        let mut run = RunState::default();
        for e in retried_run() {
            assert!(run.apply(e));
        }
        assert_eq!(run.status, Some(RunStatus::Running));
        assert_eq!(run.input, json!({"a": 1}));
        let charge = run.node("charge");
        assert_eq!(charge.status, NodeStatus::Completed);
        assert_eq!(charge.attempts, 2);
        assert_eq!(
            (charge.started_at, charge.finished_at),
            (Some(20), Some(50))
        );
        assert_eq!(charge.error, None);
        let approve = run.node("approve");
        assert_eq!(approve.status, NodeStatus::Waiting);
        assert_eq!(approve.prompt.as_deref(), Some("Ship?"));
    }

    #[test]
    fn a_failed_attempt_with_a_next_try_is_retrying() {
        let mut run = RunState::default();
        for e in retried_run().into_iter().take(3) {
            run.apply(e);
        }
        let charge = run.node("charge");
        assert_eq!(charge.status, NodeStatus::Retrying);
        assert_eq!(charge.due_at, Some(40));
        assert_eq!(charge.error.as_deref(), Some("HTTP 503"));
    }

    #[test]
    fn replayed_events_change_nothing() {
        let mut once = RunState::default();
        let mut twice = RunState::default();
        for e in retried_run() {
            once.apply(e.clone());
            twice.apply(e);
        }
        for e in retried_run() {
            assert!(!twice.apply(e));
        }
        assert_eq!(once, twice);
    }

    #[test]
    fn an_unknown_event_type_is_kept_for_the_history() {
        let mut run = RunState::default();
        run.apply(event(1, "something_new", None, json!({"x": 1})));
        assert_eq!(run.events[0].kind, "something_new");
        assert!(run.recorded.is_empty());
        assert_eq!(run.last_seq(), 1);
    }

    #[test]
    fn cancelling_ends_in_cancelled() {
        let mut run = RunState::default();
        run.apply(event(
            1,
            "run_started",
            None,
            json!({"workflow": "w", "version": 1, "input": {}}),
        ));
        run.apply(event(
            2,
            "cancel_requested",
            None,
            json!({"reason": "typo"}),
        ));
        run.apply(event(3, "node_cancelled", Some("approve"), json!({})));
        run.apply(event(4, "run_cancelled", None, json!({"reason": "typo"})));
        assert_eq!(run.status, Some(RunStatus::Cancelled));
        assert!(run.cancel_requested);
        assert_eq!(run.cancel_reason.as_deref(), Some("typo"));
        assert_eq!(run.node("approve").status, NodeStatus::Cancelled);
        assert!(run.is_finished());
    }
}
