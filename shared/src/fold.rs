//! The node-level fold: what a run's log says about one node (status, attempts, times,
//! output, error, due time, prompt). The engine's run view (`RunState::apply`) and the run
//! console in the browser both fold events through [`NodeState::apply`], so the API's run
//! detail and the page always agree.
//!
//! It only records facts: the engine's core already decided them.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::NodeStatus;
use crate::event::{ChildStatus, Event, Millis};

/// One child run of a `subflow` or `map` node. Cheap to clone (a run's state is cloned for
/// each decision, and a `map` may have 10,000 children).
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    pub run: Arc<str>,
    pub status: ChildStatus,
    pub output: Arc<Value>,
    pub error: Option<Arc<str>>,
}

/// How many children of a node are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    pub running: u32,
    pub completed: u32,
    pub failed: u32,
    pub cancelled: u32,
}

/// One node of a run, as far as the log has got.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeState {
    pub status: NodeStatus,
    /// Attempts started (http and task nodes).
    pub attempts: u32,
    /// What the node produced; for a failed node `{"error": <message>}`, so an `error` edge's
    /// templates can read it as `nodes.<id>.output.error`.
    pub output: Value,
    /// The last attempt's error, or the node's.
    pub error: Option<String>,
    /// When the node first did something: its first attempt, its wait, or its decision.
    pub started_at: Option<Millis>,
    /// When it completed, failed or was cancelled. A skipped node never ran: none.
    pub finished_at: Option<Millis>,
    /// The deadline of a wait, or when the next attempt starts.
    pub due_at: Option<Millis>,
    /// An approval's rendered prompt.
    pub prompt: Option<String>,
    /// A `map` node's items, once rendered.
    pub items: Option<Arc<Vec<Value>>>,
    /// The child runs of a `subflow` (one) or `map` node (by item index: items start in
    /// order), as started.
    pub children: Vec<Child>,
    pub counts: ChildCounts,
    /// Completed in a redrive with the original run's recorded output: nothing ran.
    pub reused: bool,
    /// Completed in a test run with the stub it was given: nothing ran.
    pub stubbed: bool,
    /// How many of an approval's escalation steps it has reached.
    pub escalated: u32,
    /// How many of them have their notice settled: answered, given up on, or none to send.
    /// The next step waits for it, so one step's notice is out at a time.
    pub notified: u32,
    /// The POSTs of the unsettled step's notice so far.
    pub notice_tries: u32,
    /// Who decided an approval (none: nobody yet, or its default decision at the timeout).
    pub decided_by: Option<String>,
}

impl NodeState {
    /// Folds in one event about this node (the caller picks the node by [`Event::node`]).
    /// Events about the run as a whole change nothing here.
    pub fn apply(&mut self, event: &Event, at: Millis) {
        match event {
            Event::NodeStarted { attempt, .. } => {
                self.status = NodeStatus::Running;
                self.attempts = *attempt;
                self.started_at.get_or_insert(at);
                self.due_at = None;
            }
            Event::NodeWaiting { until, prompt, .. } => {
                self.status = NodeStatus::Waiting;
                self.started_at = Some(at);
                self.due_at = *until;
                self.prompt = prompt.clone();
            }
            Event::AttemptFailed {
                error, retry_at, ..
            } => {
                self.error = Some(error.clone());
                if retry_at.is_some() {
                    self.status = NodeStatus::Retrying;
                    self.due_at = *retry_at;
                }
            }
            Event::NodeCompleted {
                output,
                reused_from,
                stubbed,
                ..
            } => {
                self.status = NodeStatus::Completed;
                self.reused = reused_from.is_some();
                self.stubbed = *stubbed;
                self.output = output.clone();
                self.error = None;
                self.started_at.get_or_insert(at);
                self.finished_at = Some(at);
                self.due_at = None;
            }
            Event::NodeFailed { error, .. } => {
                self.status = NodeStatus::Failed;
                self.error = Some(error.clone());
                self.output = json!({ "error": error });
                self.started_at.get_or_insert(at);
                self.finished_at = Some(at);
                self.due_at = None;
            }
            Event::NodeSkipped { .. } => self.status = NodeStatus::Skipped,
            Event::NodeCancelled { .. } => {
                self.status = NodeStatus::Cancelled;
                self.finished_at = Some(at);
                self.due_at = None;
            }
            Event::MapStarted { items, .. } => self.items = Some(Arc::new(items.clone())),
            Event::ChildStarted { run, .. } => {
                self.children.push(Child {
                    run: run.as_str().into(),
                    status: ChildStatus::Running,
                    output: Arc::new(Value::Null),
                    error: None,
                });
                self.counts.running += 1;
            }
            Event::ChildFinished {
                index,
                run,
                status,
                output,
                error,
                ..
            } => {
                let at = index.map_or(0, |i| i as usize);
                if let Some(c) = self
                    .children
                    .get_mut(at)
                    .filter(|c| *c.run == **run && c.status == ChildStatus::Running)
                {
                    c.status = *status;
                    c.output = Arc::new(output.clone());
                    c.error = error.as_deref().map(Arc::from);
                    self.counts.running -= 1;
                    match status {
                        ChildStatus::Completed => self.counts.completed += 1,
                        ChildStatus::Failed => self.counts.failed += 1,
                        ChildStatus::Cancelled => self.counts.cancelled += 1,
                        ChildStatus::Running => self.counts.running += 1,
                    }
                }
            }
            // A record of what went over the wire; the outcome follows as its own event.
            Event::ApprovalEscalated { step, notify, .. } => {
                self.escalated = self.escalated.max(step + 1);
                if notify.is_none() {
                    self.notified = self.notified.max(step + 1);
                }
            }
            Event::ApprovalNotified { step, again, .. } => match again {
                Some(_) => self.notice_tries += 1,
                None => {
                    self.notified = self.notified.max(step + 1);
                    self.notice_tries = 0;
                }
            },
            Event::ApprovalDecided { by, .. } => self.decided_by = by.clone(),
            Event::HttpExchanged { .. }
            | Event::RunStarted { .. }
            | Event::SignalReceived { .. }
            | Event::CancelRequested { .. }
            | Event::RunPaused { .. }
            | Event::RunResumed
            | Event::RunCompleted { .. }
            | Event::RunFailed { .. }
            | Event::RunCancelled { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folds `(at, event)` pairs into a fresh node.
    #[track_caller]
    fn fold(events: &[(Millis, Event)]) -> NodeState {
        let mut node = NodeState::default();
        for (at, event) in events {
            node.apply(event, *at);
        }
        node
    }

    fn started(attempt: u32) -> Event {
        Event::NodeStarted {
            node: "n".into(),
            attempt,
        }
    }

    #[test]
    fn a_wait_starts_when_it_begins_and_carries_its_deadline_and_prompt() {
        let node = fold(&[(
            10,
            Event::NodeWaiting {
                node: "n".into(),
                until: Some(99),
                prompt: Some("Ship?".into()),
            },
        )]);
        assert_eq!(node.status, NodeStatus::Waiting);
        assert_eq!(node.started_at, Some(10));
        assert_eq!(node.due_at, Some(99));
        assert_eq!(node.prompt.as_deref(), Some("Ship?"));
        assert_eq!(node.finished_at, None);
    }

    #[test]
    fn a_node_that_fails_without_an_attempt_starts_and_ends_then_and_outputs_its_error() {
        let node = fold(&[(
            7,
            Event::NodeFailed {
                node: "n".into(),
                error: "rejected".into(),
                port: Some("rejected".into()),
            },
        )]);
        assert_eq!(node.status, NodeStatus::Failed);
        assert_eq!((node.started_at, node.finished_at), (Some(7), Some(7)));
        assert_eq!(node.output, json!({"error": "rejected"}));
        assert_eq!(node.error.as_deref(), Some("rejected"));
    }

    #[test]
    fn a_failed_node_keeps_the_start_of_its_first_attempt() {
        let node = fold(&[
            (1, started(1)),
            (
                5,
                Event::AttemptFailed {
                    node: "n".into(),
                    attempt: 1,
                    error: "HTTP 404".into(),
                    retry_at: None,
                },
            ),
            (
                5,
                Event::NodeFailed {
                    node: "n".into(),
                    error: "HTTP 404".into(),
                    port: None,
                },
            ),
        ]);
        assert_eq!((node.started_at, node.finished_at), (Some(1), Some(5)));
        assert_eq!(node.attempts, 1);
        assert_eq!(node.output, json!({"error": "HTTP 404"}));
    }

    #[test]
    fn a_skipped_node_never_ran_so_it_has_no_times() {
        let node = fold(&[(3, Event::NodeSkipped { node: "n".into() })]);
        assert_eq!(node.status, NodeStatus::Skipped);
        assert_eq!((node.started_at, node.finished_at), (None, None));
        assert_eq!(node.output, Value::Null);
    }

    #[test]
    fn a_retried_attempt_is_retrying_until_the_next_starts_then_completes() {
        let failed = Event::AttemptFailed {
            node: "n".into(),
            attempt: 1,
            error: "HTTP 503".into(),
            retry_at: Some(40),
        };
        let retrying = fold(&[(2, started(1)), (3, failed.clone())]);
        assert_eq!(retrying.status, NodeStatus::Retrying);
        assert_eq!(retrying.due_at, Some(40));
        assert_eq!(retrying.error.as_deref(), Some("HTTP 503"));

        let done = fold(&[
            (2, started(1)),
            (3, failed),
            (40, started(2)),
            (
                50,
                Event::NodeCompleted {
                    node: "n".into(),
                    port: Some("next".into()),
                    output: json!({"status": 200}),
                    reused_from: None,
                    stubbed: false,
                },
            ),
        ]);
        assert_eq!(done.status, NodeStatus::Completed);
        assert_eq!(done.attempts, 2);
        assert_eq!((done.started_at, done.finished_at), (Some(2), Some(50)));
        assert_eq!((done.error, done.due_at), (None, None));
        assert_eq!(done.output, json!({"status": 200}));
    }

    #[test]
    fn a_cancelled_wait_ends_and_drops_its_deadline() {
        let node = fold(&[
            (
                1,
                Event::NodeWaiting {
                    node: "n".into(),
                    until: Some(100),
                    prompt: None,
                },
            ),
            (9, Event::NodeCancelled { node: "n".into() }),
        ]);
        assert_eq!(node.status, NodeStatus::Cancelled);
        assert_eq!((node.started_at, node.finished_at), (Some(1), Some(9)));
        assert_eq!(node.due_at, None);
    }
}
