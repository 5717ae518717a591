//! `Effect`: what the core asks the shell to do after the events that call for it are durable.
//!
//! Derived from the new events alone, so recovery can derive the same effects from a log.

use serde_json::Value;
use shared::model::NodeKind;

use super::event::ChildStatus;
use super::render;

use super::decide::TimerKind;
use super::event::{Event, Millis};
use super::state::{NodeStatus, RunState};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send attempt `attempt` of an `http` node.
    Http { node: String, attempt: u32 },
    /// Hand attempt `attempt` of a `task` node to its queue.
    Task { node: String, attempt: u32 },
    /// Render the templates of a node that `decide` renders but that are not quick, as its
    /// attempt `attempt` (`engine::render`).
    Render { node: String, attempt: u32 },
    /// The task attempt of this node is void: its queue entry or lease goes.
    AbandonTask { node: String },
    /// Store a due timer (in the same transaction as the events).
    SetTimer {
        node: String,
        kind: TimerKind,
        attempt: u32,
        due: Millis,
    },
    /// The node is decided: its timers are void.
    ClearTimers { node: String },
    /// The run is over: every timer of it is void.
    ClearRunTimers,
    /// An activity's attempt ended (failed, completed, failed the node or was cancelled):
    /// whatever coordinates it (a lease on it) ends too.
    EndAttempt { node: String },
    /// The run is over: everything coordinating its attempts ends.
    EndRun,
    /// Start child run `run` (the driver does, in the same commit).
    StartChild {
        node: String,
        index: Option<u32>,
        run: String,
        workflow: String,
        version: Option<i64>,
        input: Value,
    },
    /// Cancel child run `run`: its parent node failed or was cancelled (in the same commit).
    CancelChild { run: String },
    /// This run is over and is a child: its parent hears of it in the same commit.
    NotifyParent,
}

/// The timer of approval `node`'s escalation step `step`, if it has one: due that long after
/// the approval began waiting, while it still waits (one `escalate` timer per node at a time;
/// each step, once its notice is settled, sets the next).
fn escalation(run: &RunState, node: &str, step: u32, now: Millis) -> Option<Effect> {
    let i = run.node_index(node)?;
    if run.nodes[i].status != NodeStatus::Waiting {
        return None;
    }
    let after = run.plan.limits(i).escalate.get(step as usize)?;
    let since = run.nodes[i].started_at.unwrap_or(now);
    Some(Effect::SetTimer {
        node: node.to_owned(),
        kind: TimerKind::Escalate,
        attempt: step,
        due: since.saturating_add(after.as_millis().min(i64::MAX as u128) as Millis),
    })
}

/// The effects `events` (just decided for `run`, whose state is after them) call for.
pub fn effects(run: &RunState, events: &[Event], now: Millis) -> Vec<Effect> {
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::RunStarted { .. } => {
                if let Some(t) = run.plan.timeout {
                    let due = now.saturating_add(t.as_millis().min(i64::MAX as u128) as Millis);
                    out.push(Effect::SetTimer {
                        node: String::new(),
                        kind: TimerKind::RunDeadline,
                        attempt: 0,
                        due,
                    });
                }
            }
            Event::NodeStarted { node, attempt } => {
                if let Some(i) = run.node_index(node) {
                    out.extend(attempt_effect(run, i, *attempt));
                }
            }
            Event::MapStarted { node, .. } if renders_apart(run, node) => {
                out.push(Effect::EndAttempt { node: node.clone() });
            }
            Event::ChildStarted {
                node,
                index,
                run: child,
                workflow,
                version,
                input,
            } => {
                if index.is_none() && renders_apart(run, node) {
                    out.push(Effect::EndAttempt { node: node.clone() });
                }
                let limit = run
                    .node_index(node)
                    .and_then(|i| run.plan.limits(i).timeout);
                if let (None, Some(t)) = (index, limit) {
                    out.push(Effect::SetTimer {
                        node: node.clone(),
                        kind: TimerKind::Deadline,
                        attempt: 0,
                        due: now.saturating_add(t.as_millis().min(i64::MAX as u128) as Millis),
                    });
                }
                out.push(Effect::StartChild {
                    node: node.clone(),
                    index: *index,
                    run: child.clone(),
                    workflow: workflow.clone(),
                    version: *version,
                    input: input.clone(),
                });
            }
            Event::ChildFinished { node, .. } => {
                // A `map` with room and items left that did not start them at once.
                if let Some(i) = run.node_index(node)
                    && let NodeKind::Map(m) = run.plan.kind(i)
                {
                    let n = &run.nodes[i];
                    let left = n.items.as_ref().is_some_and(|v| n.children.len() < v.len());
                    if n.status.is_active() && left && n.counts.running < m.concurrency() {
                        out.push(Effect::SetTimer {
                            node: node.clone(),
                            kind: TimerKind::Refill,
                            attempt: 0,
                            due: now,
                        });
                    }
                }
            }
            Event::AttemptFailed {
                node,
                attempt,
                retry_at,
                ..
            } => {
                out.push(Effect::EndAttempt { node: node.clone() });
                if let Some(due) = retry_at {
                    out.push(Effect::SetTimer {
                        node: node.clone(),
                        kind: TimerKind::Retry,
                        attempt: attempt + 1,
                        due: *due,
                    });
                }
            }
            Event::NodeWaiting { node, until, .. } => {
                if renders_apart(run, node) {
                    out.push(Effect::EndAttempt { node: node.clone() });
                }
                out.extend(escalation(run, node, 0, now));
                let Some(due) = until else { continue };
                let kind = match run.node_index(node).map(|i| run.plan.kind(i)) {
                    Some(NodeKind::Timer(_)) => TimerKind::Wait,
                    _ => TimerKind::Deadline,
                };
                out.push(Effect::SetTimer {
                    node: node.clone(),
                    kind,
                    attempt: 0,
                    due: *due,
                });
            }
            // A step's notice goes out before the next step's timer is set: one notice per
            // node is out at a time, so its timer (keyed by node) is never overwritten.
            Event::ApprovalEscalated {
                node, step, notify, ..
            } => match notify {
                Some(_) => out.push(Effect::SetTimer {
                    node: node.clone(),
                    kind: TimerKind::Notify,
                    attempt: *step,
                    due: now,
                }),
                None => out.extend(escalation(run, node, step + 1, now)),
            },
            Event::ApprovalNotified {
                node, step, again, ..
            } => match again {
                Some(due) => out.push(Effect::SetTimer {
                    node: node.clone(),
                    kind: TimerKind::Notify,
                    attempt: *step,
                    due: *due,
                }),
                None => out.extend(escalation(run, node, step + 1, now)),
            },
            // Only waits and retries have timers; skipping the rest keeps the hot path lean.
            Event::NodeCompleted { node, .. }
            | Event::NodeFailed { node, .. }
            | Event::NodeCancelled { node } => {
                let waits = run.node_index(node).is_some_and(|i| {
                    matches!(
                        run.plan.kind(i),
                        NodeKind::Approval(_)
                            | NodeKind::Signal(_)
                            | NodeKind::Timer(_)
                            | NodeKind::Subflow(_)
                            | NodeKind::Map(_)
                    )
                });
                if !matches!(e, Event::NodeCompleted { .. })
                    && let Some(i) = run.node_index(node)
                {
                    // Its children still running end with it (their `on_cancel` paths run).
                    out.extend(
                        run.nodes[i]
                            .children
                            .iter()
                            .filter(|c| c.status == ChildStatus::Running)
                            .map(|c| Effect::CancelChild {
                                run: c.run.to_string(),
                            }),
                    );
                }
                if waits || matches!(e, Event::NodeCancelled { .. }) {
                    out.push(Effect::ClearTimers { node: node.clone() });
                }
                let kind = run.node_index(node).map(|i| run.plan.kind(i));
                if matches!(kind, Some(NodeKind::Http(_) | NodeKind::Task(_)))
                    || renders_apart(run, node)
                {
                    out.push(Effect::EndAttempt { node: node.clone() });
                }
                if matches!(kind, Some(NodeKind::Task(_)))
                    && matches!(e, Event::NodeCancelled { .. })
                {
                    out.push(Effect::AbandonTask { node: node.clone() });
                }
            }
            e if e.is_final() => {
                if run.plan.timeout.is_some() {
                    out.push(Effect::ClearRunTimers);
                }
                out.push(Effect::EndRun);
                if run.parent.is_some() {
                    out.push(Effect::NotifyParent);
                }
            }
            _ => {}
        }
    }
    out
}

/// The effect that performs attempt `attempt` of a node of `kind`, if its kind has attempts.
fn attempt_of(kind: &NodeKind, node: &str, attempt: u32) -> Option<Effect> {
    let node = node.to_owned();
    match kind {
        NodeKind::Http(_) => Some(Effect::Http { node, attempt }),
        NodeKind::Task(_) => Some(Effect::Task { node, attempt }),
        kind if render::by_decide(kind) => Some(Effect::Render { node, attempt }),
        _ => None,
    }
}

/// The effect that performs attempt `attempt` of node `i` of `run`, if it has one: none for
/// a node `decide` renders quickly, nor for a `subflow` or `map` already waiting for its
/// children (its attempt was the render).
pub fn attempt_effect(run: &RunState, i: usize, attempt: u32) -> Option<Effect> {
    let kind = run.plan.kind(i);
    if render::by_decide(kind) && (run.plan.quick[i] || run.awaits_children(i)) {
        return None;
    }
    attempt_of(kind, &run.plan.workflow.nodes[i].id, attempt)
}

/// Whether `node`'s templates render apart, as an attempt (`engine::render`).
fn renders_apart(run: &RunState, node: &str) -> bool {
    run.node_index(node)
        .is_some_and(|i| !run.plan.quick[i] && render::by_decide(run.plan.kind(i)))
}
