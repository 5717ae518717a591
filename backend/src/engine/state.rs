//! `RunState`: what a run's log says, as a fold over its events.
//!
//! `apply` only records facts; the decisions were made by `decide`. What each node's fields
//! say comes from the shared node fold ([`NodeState::apply`], the browser's too); this fold
//! adds the token flow (edges), the buffered signals and the run's own fields. A `Plan` is the indexed
//! form of a definition version, shared by every run of that version.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};
pub use shared::api::{NodeStatus, RunStatus};
pub use shared::fold::NodeState;
use shared::model::{NodeKind, Workflow};
use shared::template;

use super::event::{Event, Millis};

/// A definition version with its graph indexed for the engine.
#[derive(Debug)]
pub struct Plan {
    pub workflow: Workflow,
    pub version: i64,
    pub index: HashMap<String, usize>,
    /// Edge indices entering each node.
    pub incoming: Vec<Vec<usize>>,
    /// Edge indices leaving each node.
    pub outgoing: Vec<Vec<usize>>,
    /// Nodes on the `on_cancel` path; they run only after a cancel.
    pub cancel_path: Vec<bool>,
    pub on_cancel: Option<usize>,
    pub start: usize,
    /// Per node, the nodes its templates read (`nodes.<id>`); `None` when it reads them all.
    /// A node's context holds only these outputs.
    pub reads: Vec<Option<Vec<usize>>>,
}

impl Plan {
    /// Indexes a definition the validator accepted.
    pub fn new(workflow: Workflow, version: i64) -> Plan {
        let n = workflow.nodes.len();
        let index: HashMap<String, usize> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.id.clone(), i))
            .collect();
        let mut incoming = vec![Vec::new(); n];
        let mut outgoing = vec![Vec::new(); n];
        for (e, edge) in workflow.edges.iter().enumerate() {
            if let (Some(&f), Some(&t)) = (index.get(&edge.from), index.get(&edge.to)) {
                outgoing[f].push(e);
                incoming[t].push(e);
            }
        }
        let on_cancel = workflow
            .on_cancel
            .as_ref()
            .and_then(|c| index.get(c).copied());
        let mut cancel_path = vec![false; n];
        let mut stack: Vec<usize> = on_cancel.into_iter().collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut cancel_path[i], true) {
                stack.extend(
                    outgoing[i]
                        .iter()
                        .filter_map(|&e| index.get(&workflow.edges[e].to).copied()),
                );
            }
        }
        let start = workflow
            .nodes
            .iter()
            .position(|n| matches!(n.kind, NodeKind::Start(_)))
            .unwrap_or(0);
        let reads = workflow
            .nodes
            .iter()
            .map(|node| {
                let mut ids = Some(std::collections::BTreeSet::new());
                let mut add = |r: Option<std::collections::BTreeSet<String>>| match (&mut ids, r) {
                    (Some(all), Some(r)) => all.extend(r),
                    _ => ids = None,
                };
                for (_, value) in node.kind.templates() {
                    add(template::node_reads(&value));
                }
                if let NodeKind::Condition(c) = &node.kind {
                    add(template::expression_node_reads(&c.expr));
                }
                ids.map(|ids| ids.iter().filter_map(|id| index.get(id).copied()).collect())
            })
            .collect();
        Plan {
            workflow,
            version,
            index,
            incoming,
            outgoing,
            cancel_path,
            on_cancel,
            start,
            reads,
        }
    }

    pub fn target(&self, edge: usize) -> usize {
        self.index[&self.workflow.edges[edge].to]
    }

    pub fn kind(&self, node: usize) -> &NodeKind {
        &self.workflow.nodes[node].kind
    }

    pub fn has_port(&self, node: usize, port: &str) -> bool {
        self.outgoing[node]
            .iter()
            .any(|&e| self.workflow.edges[e].port == port)
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
        if let Some(i) = idx {
            self.nodes[i].apply(event, at);
        }
        match (event, idx) {
            (Event::RunStarted { input, .. }, _) => self.input = input.clone(),
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
            // The node's own fields were folded above; an event about a node this version
            // lacks has nothing to record.
            (
                Event::NodeStarted { .. }
                | Event::NodeWaiting { .. }
                | Event::AttemptFailed { .. }
                | Event::NodeCancelled { .. },
                _,
            )
            | (
                Event::NodeCompleted { .. } | Event::NodeFailed { .. } | Event::NodeSkipped { .. },
                None,
            ) => {}
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
