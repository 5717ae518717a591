//! Redrive (SPEC §6): finish a finished run without doing again what it already did.
//!
//! A redrive is a new run whose first decision completes, from the original run's log, every
//! node that completed there and is neither a node to run again (`from`) nor after one; those
//! `node_completed` events carry `reused_from` and nothing runs for them (no attempt, no
//! approval asked, no child started). Everything else runs as in any run.
//!
//! [`plan`] works out what to reuse, then decides the new run's start on a scratch state: the
//! preview a dry run answers with is what that decision did, so the preview cannot disagree
//! with the run it describes. A node the start does not reach (one after a node that runs
//! again, by a path that rejoins) is not reused: it runs when its turn comes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use shared::model::NodeKind;

use super::decide::{Input, Redrive, decide};
use super::event::{Event, Millis, Recorded};
use super::state::{NodeStatus, Plan, RunState};

/// Why a redrive cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedriveError {
    /// SPEC §6: only a finished run is redriven.
    #[error("run `{run}` is {status}; only a finished run can be redriven")]
    NotFinished { run: String, status: &'static str },
    /// `from` names nodes the target version lacks (or, with no `from`, the original's failed
    /// nodes are missing from it).
    #[error("workflow `{workflow}` version {version} has no node {}", quoted(.nodes))]
    UnknownNodes {
        workflow: String,
        version: i64,
        nodes: Vec<String>,
    },
    /// No `from` and nothing failed or was cancelled: there is no redrive point to default to.
    #[error(
        "run `{0}` has no failed or cancelled node to run again from; name the nodes in `from`"
    )]
    NothingToRedo(String),
}

fn quoted(nodes: &[String]) -> String {
    nodes
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a redrive will do: the nodes it reuses, those that run (again), and among those the
/// side-effecting ones that had completed in the original (they will act again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub reuse: Vec<String>,
    pub rerun: Vec<String>,
    pub side_effects: Vec<String>,
}

/// Works out the redrive of `original` (folded from `log`) onto `target` from `from` (none:
/// the nodes that failed or were cancelled), for a new run `run_id` with `input` at `now`.
pub fn plan(
    original: &RunState,
    log: &[Recorded],
    target: &Arc<Plan>,
    from: Option<Vec<String>>,
    run_id: &str,
    input: Value,
    now: Millis,
) -> Result<(Redrive, Preview), RedriveError> {
    if !original.status.is_finished() {
        return Err(RedriveError::NotFinished {
            run: original.id.clone(),
            status: original.status.as_str(),
        });
    }
    let from = match from {
        Some(nodes) => nodes,
        None => redo_points(original),
    };
    if from.is_empty() {
        return Err(RedriveError::NothingToRedo(original.id.clone()));
    }
    let missing: Vec<String> = from
        .iter()
        .filter(|n| !target.index.contains_key(n.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(RedriveError::UnknownNodes {
            workflow: target.workflow.name.clone(),
            version: target.version,
            nodes: missing,
        });
    }
    let after = reachable(target, &from);
    let recorded = completions(log);
    let reuse = (0..target.workflow.nodes.len())
        .filter(|i| !after.contains(i) && !target.cancel_path[*i])
        .filter_map(|i| {
            let id = &target.workflow.nodes[i].id;
            let j = original.node_index(id)?;
            let same_kind = original.plan.kind(j).type_name() == target.kind(i).type_name();
            let done = original.nodes[j].status == NodeStatus::Completed;
            let (port, output) = recorded.get(id.as_str())?;
            (same_kind && done).then(|| (id.clone(), (port.clone(), (*output).clone())))
        })
        .collect();
    let redrive = Redrive {
        of: original.id.clone(),
        from,
        reuse,
    };
    let preview = preview(original, target, &redrive, run_id, input, now);
    Ok((redrive, preview))
}

/// The default redrive point: the nodes that failed, or were running when the run was
/// cancelled or failed elsewhere (SPEC §6).
fn redo_points(original: &RunState) -> Vec<String> {
    original
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            !original.plan.cancel_path[*i]
                && matches!(n.status, NodeStatus::Failed | NodeStatus::Cancelled)
        })
        .map(|(i, _)| original.plan.workflow.nodes[i].id.clone())
        .collect()
}

/// Every node reachable from `from` (themselves included), by index in `plan`.
fn reachable(plan: &Plan, from: &[String]) -> HashSet<usize> {
    let mut seen: HashSet<usize> = from
        .iter()
        .filter_map(|n| plan.index.get(n.as_str()).copied())
        .collect();
    let mut queue: VecDeque<usize> = seen.iter().copied().collect();
    while let Some(n) = queue.pop_front() {
        for &e in &plan.outgoing[n] {
            let t = plan.target(e);
            if seen.insert(t) {
                queue.push_back(t);
            }
        }
    }
    seen
}

/// Each node's last completion in the log: the port it left by and its output.
fn completions(log: &[Recorded]) -> HashMap<&str, (Option<String>, &Value)> {
    let mut out = HashMap::new();
    for r in log {
        if let Event::NodeCompleted {
            node, port, output, ..
        } = &r.event
        {
            out.insert(node.as_str(), (port.clone(), output));
        }
    }
    out
}

/// Decides the new run's start on a scratch state and reads what it did.
fn preview(
    original: &RunState,
    target: &Arc<Plan>,
    redrive: &Redrive,
    run_id: &str,
    input: Value,
    now: Millis,
) -> Preview {
    let scratch = RunState::new(run_id.to_owned(), target.clone(), input);
    let start = Input::Start {
        workflow: target.workflow.name.clone(),
        version: target.version,
        parent: None,
        trigger: None,
        redrive: Some(Arc::new(redrive.clone())),
        by: None,
        test: None,
    };
    let started = decide(&scratch, start, now).expect("a fresh run takes its start");
    let mut reused = HashSet::new();
    let mut skipped = HashSet::new();
    for e in &started.events {
        match e {
            Event::NodeCompleted {
                node,
                reused_from: Some(_),
                ..
            } => {
                reused.insert(node.as_str());
            }
            Event::NodeSkipped { node } => {
                skipped.insert(node.as_str());
            }
            _ => {}
        }
    }
    let mut p = Preview {
        reuse: Vec::new(),
        rerun: Vec::new(),
        side_effects: Vec::new(),
    };
    for (i, node) in target.workflow.nodes.iter().enumerate() {
        let id = node.id.as_str();
        if reused.contains(id) {
            p.reuse.push(id.to_owned());
        } else if !skipped.contains(id) && !target.cancel_path[i] {
            p.rerun.push(id.to_owned());
            let acts = matches!(
                target.kind(i),
                NodeKind::Http(_) | NodeKind::Task(_) | NodeKind::Subflow(_) | NodeKind::Map(_)
            );
            let did = original
                .node_index(id)
                .is_some_and(|j| original.nodes[j].status == NodeStatus::Completed);
            if acts && did {
                p.side_effects.push(id.to_owned());
            }
        }
    }
    p
}
