//! `RunState`: what a run's log says, as a fold over its events.
//!
//! `apply` only records facts; the decisions were made by `decide`. What each node's fields
//! say comes from the shared node fold ([`NodeState::apply`], the browser's too); this fold
//! adds the token flow (edges), the buffered signals and the run's own fields. A run reads
//! its definition version through its [`Plan`], shared by every run of that version.

use std::sync::Arc;

use serde_json::{Map, Value, json};
pub use shared::api::{NodeStatus, RunStatus};
pub use shared::fold::NodeState;
use shared::model::NodeKind;

use super::event::{Event, Millis, Parent, RedriveOf, TestRun, Trigger};
pub use super::plan::Plan;

/// A run as its log says it is.
#[derive(Debug, Clone)]
pub struct RunState {
    pub id: String,
    pub plan: Arc<Plan>,
    pub input: Value,
    /// What started it besides an API caller (a schedule's fire), from `run_started`.
    pub trigger: Option<Trigger>,
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
    /// The run and node this run is a child of (SPEC §5).
    pub parent: Option<Parent>,
    /// The run this one redrives (SPEC §6).
    pub redrive_of: Option<RedriveOf>,
    /// Who started it through the API (SPEC §7: the self-approval rule).
    pub started_by: Option<String>,
    /// A test run's stubs and stop (SPEC §6 "Test runs"), from `run_started`.
    pub test: Option<Arc<TestRun>>,
}

impl RunState {
    /// It waits for a person: an approval or a `signal` node is waiting, and the run is not
    /// finished (SPEC §6 `needs=person`).
    pub fn needs_person(&self) -> bool {
        !self.status.is_finished()
            && self.nodes.iter().enumerate().any(|(i, n)| {
                n.status == NodeStatus::Waiting
                    && matches!(
                        self.plan.kind(i),
                        NodeKind::Approval(_) | NodeKind::Signal(_)
                    )
            })
    }

    pub fn new(id: String, plan: Arc<Plan>, input: Value) -> Self {
        let n = plan.workflow.nodes.len();
        let e = plan.workflow.edges.len();
        RunState {
            id,
            plan,
            input,
            trigger: None,
            status: RunStatus::Running,
            nodes: vec![NodeState::default(); n],
            edges: vec![None; e],
            signals: Vec::new(),
            cancelling: false,
            cancel_reason: None,
            output: Value::Null,
            error: None,
            seq: 0,
            created_at: 0,
            updated_at: 0,
            parent: None,
            redrive_of: None,
            started_by: None,
            test: None,
        }
    }

    /// Paused and not being cancelled: nothing new starts (a cancel's `on_cancel` path runs
    /// even in a paused run).
    pub fn held(&self) -> bool {
        self.status == RunStatus::Paused && !self.cancelling
    }

    /// The stub node `i` completes with in a test run, if it has one: only an `http`,
    /// `task`, `subflow` or `map` node acts, so only those take one.
    pub fn stub(&self, i: usize) -> Option<Value> {
        let test = self.test.as_ref()?;
        if !self.plan.kind(i).is_stubbable() {
            return None;
        }
        test.stubs.get(&self.plan.workflow.nodes[i].id).cloned()
    }

    /// Whether the run stops once node `i` is decided: it is a test run's `until`, and no
    /// cancel is under way (the `on_cancel` path runs to its end).
    pub fn stops_at(&self, i: usize) -> bool {
        !self.cancelling
            && self.test.as_ref().and_then(|t| t.until.as_deref())
                == Some(self.plan.workflow.nodes[i].id.as_str())
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
        if let Some(i) = idx {
            self.nodes[i].apply(event, at);
        }
        match (event, idx) {
            (
                Event::RunStarted {
                    input,
                    parent,
                    trigger,
                    redrive_of,
                    by,
                    test,
                    ..
                },
                _,
            ) => {
                self.started_by = by.clone();
                self.test = test.clone().map(Arc::new);
                self.input = input.clone();
                self.parent = parent.clone();
                self.trigger = *trigger;
                self.redrive_of = redrive_of.clone();
            }
            (Event::RunPaused { .. }, _) => self.status = RunStatus::Paused,
            (Event::RunResumed, _) => self.status = RunStatus::Running,
            (Event::NodeCompleted { port, .. }, Some(i)) => {
                if let NodeKind::Signal(s) = self.plan.kind(i)
                    && let Some(pos) = self.signals.iter().position(|(name, _)| *name == s.signal)
                    && port.as_deref() == Some("next")
                {
                    self.signals.remove(pos);
                }
                self.decide_edges(i, port.as_deref());
            }
            (Event::NodeFailed { port, .. }, Some(i)) => self.decide_edges(i, port.as_deref()),
            (Event::NodeSkipped { .. }, Some(i)) => self.decide_edges(i, None),
            (Event::SignalReceived { name, payload }, _) => {
                self.signals.push((name.clone(), payload.clone()))
            }
            (Event::CancelRequested { reason }, _) => {
                // A cancel ends a pause: the `on_cancel` path runs.
                if self.status == RunStatus::Paused {
                    self.status = RunStatus::Running;
                }
                self.cancelling = true;
                self.cancel_reason = reason.clone();
            }
            (Event::RunCompleted { output, .. }, _) => {
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
            // The node's own fields were folded above; an event about a node this version
            // lacks has nothing to record.
            (
                Event::NodeStarted { .. }
                | Event::NodeWaiting { .. }
                | Event::MapStarted { .. }
                | Event::ChildStarted { .. }
                | Event::ChildFinished { .. }
                | Event::AttemptFailed { .. }
                | Event::HttpExchanged { .. }
                | Event::ApprovalDecided { .. }
                | Event::ApprovalEscalated { .. }
                | Event::ApprovalNotified { .. }
                | Event::NodeCancelled { .. },
                _,
            )
            | (
                Event::NodeCompleted { .. } | Event::NodeFailed { .. } | Event::NodeSkipped { .. },
                None,
            ) => {}
        }
    }

    /// Levels of parents above this run (0: it has none).
    pub fn depth(&self) -> u32 {
        self.parent.as_ref().map_or(0, |p| p.depth)
    }

    /// Whether node `i` (a `subflow` or `map`) has rendered what it starts children from,
    /// so it now waits for them: it has no attempt to resume.
    pub fn awaits_children(&self, i: usize) -> bool {
        let n = &self.nodes[i];
        n.items.is_some() || !n.children.is_empty()
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
