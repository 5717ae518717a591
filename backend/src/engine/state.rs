//! `RunState`: what a run's log says, as a fold over its events.
//!
//! `apply` only records facts; the decisions were made by `decide`. A run reads its
//! definition version through its [`Plan`], shared by every run of that version.

use std::sync::Arc;

use serde_json::{Map, Value, json};
pub use shared::api::{NodeStatus, RunStatus};
use shared::model::NodeKind;

use super::event::{Event, Millis};
pub use super::plan::Plan;

#[derive(Debug, Clone, PartialEq)]
pub struct NodeState {
    pub status: NodeStatus,
    pub attempts: u32,
    pub output: Value,
    pub error: Option<String>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// The deadline of a wait, or when the next attempt starts.
    pub due_at: Option<Millis>,
    pub prompt: Option<String>,
}

impl NodeState {
    fn new() -> Self {
        NodeState {
            status: NodeStatus::Pending,
            attempts: 0,
            output: Value::Null,
            error: None,
            started_at: None,
            finished_at: None,
            due_at: None,
            prompt: None,
        }
    }
}

/// A run as its log says it is.
#[derive(Debug, Clone)]
pub struct RunState {
    pub id: String,
    pub plan: Arc<Plan>,
    pub input: Value,
    pub status: RunStatus,
    pub nodes: Vec<NodeState>,
    /// Per edge: undecided, or whether it carried the run.
    pub edges: Vec<Option<bool>>,
    /// Signals received and not yet consumed by a `signal` node, in arrival order.
    pub signals: Vec<(String, Value)>,
    pub cancelling: bool,
    pub cancel_reason: Option<String>,
    pub output: Value,
    pub error: Option<String>,
    /// The seq of the last applied event (0: none).
    pub seq: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl RunState {
    pub fn new(id: String, plan: Arc<Plan>, input: Value) -> Self {
        let n = plan.workflow.nodes.len();
        let e = plan.workflow.edges.len();
        RunState {
            id,
            plan,
            input,
            status: RunStatus::Running,
            nodes: vec![NodeState::new(); n],
            edges: vec![None; e],
            signals: Vec::new(),
            cancelling: false,
            cancel_reason: None,
            output: Value::Null,
            error: None,
            seq: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.plan.index.get(id).copied()
    }

    /// Records one event. No validation: `decide` already made the decision.
    pub fn apply(&mut self, event: &Event, at: Millis) {
        self.seq += 1;
        if self.seq == 1 {
            self.created_at = at;
        }
        self.updated_at = at;
        let idx = event.node().and_then(|n| self.plan.index.get(n).copied());
        match (event, idx) {
            (Event::RunStarted { input, .. }, _) => self.input = input.clone(),
            (Event::NodeStarted { attempt, .. }, Some(i)) => {
                let n = &mut self.nodes[i];
                n.status = NodeStatus::Running;
                n.attempts = *attempt;
                n.started_at.get_or_insert(at);
                n.due_at = None;
            }
            (Event::NodeWaiting { until, prompt, .. }, Some(i)) => {
                let n = &mut self.nodes[i];
                n.status = NodeStatus::Waiting;
                n.started_at = Some(at);
                n.due_at = *until;
                n.prompt = prompt.clone();
            }
            (
                Event::AttemptFailed {
                    error, retry_at, ..
                },
                Some(i),
            ) => {
                let n = &mut self.nodes[i];
                n.error = Some(error.clone());
                if retry_at.is_some() {
                    n.status = NodeStatus::Retrying;
                    n.due_at = *retry_at;
                }
            }
            (Event::NodeCompleted { port, output, .. }, Some(i)) => {
                if let NodeKind::Signal(s) = self.plan.kind(i)
                    && let Some(pos) = self.signals.iter().position(|(name, _)| *name == s.signal)
                    && port.as_deref() == Some("next")
                {
                    self.signals.remove(pos);
                }
                let n = &mut self.nodes[i];
                n.status = NodeStatus::Completed;
                n.output = output.clone();
                n.error = None;
                n.started_at.get_or_insert(at);
                n.finished_at = Some(at);
                n.due_at = None;
                self.decide_edges(i, port.as_deref());
            }
            (Event::NodeFailed { error, port, .. }, Some(i)) => {
                let n = &mut self.nodes[i];
                n.status = NodeStatus::Failed;
                n.error = Some(error.clone());
                n.output = json!({ "error": error });
                n.started_at.get_or_insert(at);
                n.finished_at = Some(at);
                n.due_at = None;
                self.decide_edges(i, port.as_deref());
            }
            (Event::NodeSkipped { .. }, Some(i)) => {
                self.nodes[i].status = NodeStatus::Skipped;
                self.decide_edges(i, None);
            }
            (Event::NodeCancelled { .. }, Some(i)) => {
                let n = &mut self.nodes[i];
                n.status = NodeStatus::Cancelled;
                n.finished_at = Some(at);
                n.due_at = None;
            }
            (Event::SignalReceived { name, payload }, _) => {
                self.signals.push((name.clone(), payload.clone()))
            }
            (Event::CancelRequested { reason }, _) => {
                self.cancelling = true;
                self.cancel_reason = reason.clone();
            }
            (Event::RunCompleted { output }, _) => {
                self.status = RunStatus::Completed;
                self.output = output.clone();
            }
            (Event::RunFailed { error }, _) => {
                self.status = RunStatus::Failed;
                self.error = Some(error.clone());
            }
            (Event::RunCancelled { reason }, _) => {
                self.status = RunStatus::Cancelled;
                self.error = reason.clone().or(Some("cancelled".to_owned()));
            }
            // An event about a node this version lacks: nothing to record.
            (_, None) => {}
        }
    }

    fn decide_edges(&mut self, node: usize, port: Option<&str>) {
        for &e in &self.plan.outgoing[node] {
            self.edges[e] = Some(Some(self.plan.workflow.edges[e].port.as_str()) == port);
        }
    }

    /// The template context: `input`, `nodes.<id>.output`, `run` (no secrets: those are added
    /// only where a request is sent, so they never reach the log).
    pub fn context(&self) -> Value {
        self.context_of(0..self.nodes.len())
    }

    /// The template context of node `i`: [`RunState::context`] with only the outputs its
    /// templates read.
    pub fn context_for(&self, i: usize) -> Value {
        match self.plan.reads.get(i) {
            Some(Some(reads)) => self.context_of(reads.iter().copied()),
            _ => self.context(),
        }
    }

    fn context_of(&self, which: impl IntoIterator<Item = usize>) -> Value {
        let mut nodes = Map::new();
        for i in which {
            let n = &self.nodes[i];
            if matches!(n.status, NodeStatus::Completed | NodeStatus::Failed) {
                nodes.insert(
                    self.plan.workflow.nodes[i].id.clone(),
                    json!({ "output": n.output, "status": n.status.as_str() }),
                );
            }
        }
        json!({
            "input": self.input,
            "nodes": nodes,
            "run": { "id": self.id, "workflow": self.plan.workflow.name, "version": self.plan.version },
        })
    }
}
