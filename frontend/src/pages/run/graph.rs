//! The run's graph, read-only, drawn by the designer's renderer ([`crate::graph::GraphView`])
//! with each node decorated by its live state (`state-*` classes, styled in console.css) and,
//! for retried nodes, a badge with the attempt and the time to the next one. A plain list of
//! the same nodes sits below it, for the keyboard and for screen readers. A `map` node
//! carries its children's progress: done of total in the badge, a bar along its foot. A node a
//! redrive reused (completed from the original's log, nothing ran) says so in its badge. The
//! edges that carried the run are drawn emphasised, and once it is over the others are dimmed
//! ([`super::path`]). During a replay the graph shows the run as it stood at the replayed
//! event instead ([`Shown`]).

use std::collections::HashMap;

use leptos::prelude::*;
use shared::model::Workflow;

use super::children;
use super::path::{edge_uses, exits};
use super::replay::Shown;
use super::state::{NodeState, NodeStatus};
use crate::graph::{GraphView, NodeDecor};

#[component]
pub fn RunGraph(
    /// The run as it stands or at the replayed moment.
    state: Shown,
    workflow: StoredValue<Workflow>,
    selected: RwSignal<Option<String>>,
    /// The clock, for the time to the next attempt.
    now: RwSignal<i64>,
) -> impl IntoView {
    let max_attempts: HashMap<String, u32> = workflow.with_value(|wf| {
        wf.nodes
            .iter()
            .filter_map(|n| n.kind.retry().map(|r| (n.id.clone(), r.max_attempts)))
            .collect()
    });
    let ids: Vec<String> =
        workflow.with_value(|wf| wf.nodes.iter().map(|n| n.id.clone()).collect());
    let decor = Memo::new(move |_| {
        state.with(|s| {
            ids.iter()
                .map(|id| {
                    let node = s.node(id);
                    let progress = children::progress(&node);
                    let badge = match progress {
                        // A map: how many of its items are done.
                        Some(p) => Some(format!("{}/{}", p.completed, p.total)),
                        None => badge(&node, max_attempts.get(id).copied(), now),
                    };
                    // A node a redrive completed from the original's log: nothing ran.
                    let badge = badge.or_else(|| node.reused.then(|| "reused".to_owned()));
                    let mut class = format!("state-{}", node.status.as_str());
                    if node.reused {
                        class.push_str(" reused");
                    }
                    let progress = progress.map(|p| p.fractions());
                    (
                        id.clone(),
                        NodeDecor {
                            class,
                            badge,
                            progress,
                        },
                    )
                })
                .collect::<HashMap<_, _>>()
        })
    });
    let edges = workflow.with_value(|wf| wf.edges.clone());
    let edge_class = Memo::new(move |_| {
        state.with(|s| {
            edge_uses(&edges, &exits(&s.recorded), s.is_finished())
                .into_iter()
                .map(|u| u.class())
                .collect::<Vec<_>>()
        })
    });
    let definition = Signal::stored(workflow.get_value());
    // The view fits the graph to its box when it mounts, so it mounts once its box has a size
    // (this page is built inside a <Suspense>, before it is in the document).
    let frame = NodeRef::<leptos::html::Div>::new();
    let laid_out = RwSignal::new(false);
    Effect::new(move |_| when_sized(frame, laid_out));
    view! {
        <div class="run-graph" data-testid="run-graph" node_ref=frame>
            <Show when=move || laid_out.get()>
                <GraphView
                    workflow=definition
                    decor=decor.into()
                    selected=selected
                    on_select=Callback::new(move |id| selected.set(id))
                    edge_class=edge_class
                />
            </Show>
        </div>
        <details class="node-list-toggle">
            <summary>"All nodes as a list"</summary>
            <NodeList state workflow selected />
        </details>
    }
}

/// Sets `sized` once `frame` is in the document, checking once a frame. Being connected is
/// asked, not the box's size: measuring would force the browser to lay out the whole page
/// every frame while a long run's panels are still being built (the view measures once,
/// when it fits).
fn when_sized(frame: NodeRef<leptos::html::Div>, sized: RwSignal<bool>) {
    request_animation_frame(move || {
        match frame.try_get_untracked() {
            // The page is gone: stop looking.
            None => {}
            Some(Some(div)) if div.is_connected() => {
                sized.try_set(true);
            }
            Some(_) => when_sized(frame, sized),
        }
    });
}

/// "2/4" for an attempt of a node that may retry; "2/4·3s" (the next attempt in 3 s, rounded
/// up) while it waits to. The renderer's badge holds about seven characters.
fn badge(node: &NodeState, max: Option<u32>, now: RwSignal<i64>) -> Option<String> {
    let max = max.filter(|m| *m > 1)?;
    let trying = matches!(node.status, NodeStatus::Running | NodeStatus::Retrying);
    if node.attempts == 0 || (node.attempts == 1 && !trying) {
        return None;
    }
    let attempt = format!("{}/{max}", node.attempts);
    match (node.status, node.due_at) {
        (NodeStatus::Retrying, Some(due)) => {
            let secs = ((due - now.get()).max(0) + 999) / 1000;
            Some(format!("{attempt}·{secs}s"))
        }
        _ => Some(attempt),
    }
}

/// The nodes in definition order, each a button that selects it.
#[component]
fn NodeList(
    state: Shown,
    workflow: StoredValue<Workflow>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let nodes = workflow.with_value(|wf| {
        wf.nodes
            .iter()
            .map(|n| (n.id.clone(), n.type_name(), n.label.clone()))
            .collect::<Vec<_>>()
    });
    view! {
        <ul class="node-list">
            {nodes
                .into_iter()
                .map(|(id, type_name, label)| {
                    let status = {
                        let id = id.clone();
                        Signal::derive(move || state.with(|s| s.node(&id).status.as_str()))
                    };
                    let reused = {
                        let id = id.clone();
                        move || state.with(|s| s.node(&id).reused)
                    };
                    let is_selected = {
                        let id = id.clone();
                        move || selected.with(|s| s.as_deref() == Some(id.as_str()))
                    };
                    let pick = id.clone();
                    view! {
                        <li>
                            <button
                                class=move || format!("node-row state-{}", status.get())
                                class:selected=is_selected
                                data-testid=format!("node-row-{id}")
                                on:click=move |_| selected.set(Some(pick.clone()))
                            >
                                <span class="node-dot" aria-hidden="true"></span>
                                <code class="node-id">{id.clone()}</code>
                                <span class="node-type">{type_name}</span>
                                <span class="node-label">{label}</span>
                                <Show when=reused>
                                    <span class="reused-tag" title="Completed from the original run's log">"reused"</span>
                                </Show>
                                <span class="node-status">{status}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
