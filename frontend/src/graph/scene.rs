//! Draws a workflow: its edges as curves with arrows (labelled when they leave by a port other
//! than `next`) and its nodes as cards (type, label, summary, labelled output ports). Both the
//! designer's canvas and the read-only [`super::GraphView`] put this inside their own `<svg>`,
//! so a node looks the same in both. Gestures are not handled here: the hosts find what was hit by the `data-node`,
//! `data-port` and `data-edge` attributes this draws.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::Severity;
use shared::model::{Node, Workflow};

use super::geometry::{
    NODE_W, edge_path, edge_point, input_point, node_height, port_offsets, port_point,
};
use super::{NodeDecor, Progress};
use super::{describe, look};

/// Findings to outline: the worst severity per node id and per edge index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    pub nodes: HashMap<String, Severity>,
    pub edges: HashMap<usize, Severity>,
}

/// What [`Scene`] draws and how each part is marked.
#[derive(Clone, Copy)]
pub struct SceneInput {
    pub workflow: Signal<Workflow>,
    /// Where each node's top-left corner is (see [`super::layout`]).
    pub positions: Signal<HashMap<String, (f64, f64)>>,
    pub decor: Signal<HashMap<String, NodeDecor>>,
    pub selected_node: Signal<Option<String>>,
    pub selected_edge: Signal<Option<usize>>,
    pub flags: Signal<Flags>,
    /// A class per edge, by index (a run's page marks the path the run took); may be shorter
    /// than the edges, or empty.
    pub edge_class: Signal<Vec<&'static str>>,
    /// Whether each node takes keyboard focus (the designer: its host handles the keys).
    pub focusable: bool,
}

/// The arrowhead every edge ends in; put once inside each `<svg>`.
pub fn defs() -> impl IntoView {
    view! {
        <defs>
            <marker
                id="wf-arrow"
                viewBox="0 0 10 10"
                refX="10"
                refY="5"
                markerWidth="5.5"
                markerHeight="5.5"
                orient="auto-start-reverse"
            >
                <path d="M0 0 L10 5 L0 10 z" class="wf-arrow-head"></path>
            </marker>
        </defs>
    }
}

/// Edges below nodes, so a curve never hides a card.
#[component]
pub fn Scene(input: SceneInput) -> impl IntoView {
    let SceneInput {
        workflow,
        positions,
        decor,
        selected_node,
        selected_edge,
        flags,
        edge_class,
        focusable,
    } = input;
    let edges = move || {
        let selected = selected_edge.get();
        let flags = flags.get();
        let extra = edge_class.get();
        workflow.with(|wf| {
            positions.with(|at| {
                wf.edges
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| {
                        let from = wf.node(&e.from)?;
                        let to = wf.node(&e.to)?;
                        let a = port_point(&from.kind, *at.get(&e.from)?, &e.port);
                        let b = input_point(&to.kind, *at.get(&e.to)?);
                        let d = edge_path(a, b);
                        // A port other than `next` names the way it goes (`error`, `approved`).
                        let label = (e.port != "next").then(|| {
                            let (x, y) = edge_point(a, b, 0.5);
                            view! {
                                <text class="wf-edge-label" x=x y=y - 6.0 text-anchor="middle">
                                    {e.port.clone()}
                                </text>
                            }
                        });
                        let mut class = format!(
                            "wf-edge{}{}",
                            if selected == Some(i) { " selected" } else { "" },
                            flag_class(flags.edges.get(&i)),
                        );
                        if let Some(extra) = extra.get(i).filter(|c| !c.is_empty()) {
                            class.push(' ');
                            class.push_str(extra);
                        }
                        Some(view! {
                            <g
                                class=class
                                data-edge=i.to_string()
                                data-testid=format!("edge-{}-{}-{}", e.from, e.port, e.to)
                            >
                                <path class="wf-edge-hit" d=d.clone()></path>
                                <path class="wf-edge-line" d=d marker-end="url(#wf-arrow)"></path>
                                {label}
                            </g>
                        })
                    })
                    .collect_view()
            })
        })
    };
    // In reading order (left to right, then top to bottom), which is also the keyboard's
    // Tab order through the nodes.
    let ids = move || {
        workflow.with(|wf| {
            positions.with(|at| {
                let mut ids: Vec<(String, (f64, f64))> = wf
                    .nodes
                    .iter()
                    .map(|n| (n.id.clone(), at.get(&n.id).copied().unwrap_or_default()))
                    .collect();
                ids.sort_by(|a, b| reading_order(a.1, b.1));
                ids.into_iter().map(|(id, _)| id).collect::<Vec<_>>()
            })
        })
    };
    view! {
        // The edges are listed by each node's description (and, in the designer, in a list
        // beside the canvas): their curves are decoration to a screen reader.
        <g class="wf-edges" aria-hidden="true">{edges}</g>
        <g class="wf-nodes">
            <For each=ids key=|id| id.clone() let:id>
                <NodeCard id workflow positions decor selected_node flags focusable />
            </For>
        </g>
    }
}

/// Left to right by column (nodes within half a card's width of each other share one), then
/// top to bottom.
fn reading_order(a: (f64, f64), b: (f64, f64)) -> std::cmp::Ordering {
    let column = |x: f64| (x / (NODE_W / 2.0)).floor() as i64;
    column(a.0)
        .cmp(&column(b.0))
        .then(a.1.total_cmp(&b.1))
        .then(a.0.total_cmp(&b.0))
}

fn flag_class(severity: Option<&Severity>) -> &'static str {
    match severity {
        Some(Severity::Error) => " flag-error",
        Some(Severity::Warning) => " flag-warning",
        None => "",
    }
}

/// One node's card. Its settings are read through a memo without the position, so moving a
/// node only moves its `<g>`.
#[component]
fn NodeCard(
    id: String,
    workflow: Signal<Workflow>,
    positions: Signal<HashMap<String, (f64, f64)>>,
    decor: Signal<HashMap<String, NodeDecor>>,
    selected_node: Signal<Option<String>>,
    flags: Signal<Flags>,
    focusable: bool,
) -> impl IntoView {
    let node = {
        let id = id.clone();
        Memo::new(move |_| {
            workflow.with(|wf| {
                wf.node(&id).cloned().map(|mut n| {
                    n.position = None;
                    n
                })
            })
        })
    };
    let transform = {
        let id = id.clone();
        move || {
            positions.with(|at| {
                let (x, y) = at.get(&id).copied().unwrap_or_default();
                format!("translate({x} {y})")
            })
        }
    };
    let my_decor = {
        let id = id.clone();
        Memo::new(move |_| decor.with(|d| d.get(&id).cloned().unwrap_or_default()))
    };
    let class = {
        let id = id.clone();
        move || {
            let ty = node.with(|n| n.as_ref().map_or("", |n| n.type_name()));
            let d = my_decor.get();
            let selected = selected_node.with(|s| s.as_deref() == Some(id.as_str()));
            let flag = flags.with(|f| flag_class(f.nodes.get(&id)));
            format!(
                "wf-node type-{ty} {}{}{flag}",
                d.class,
                if selected { " selected" } else { "" }
            )
        }
    };
    let label = {
        let id = id.clone();
        move || {
            let flag = flags.with(|f| f.nodes.get(&id).copied());
            workflow.with(|wf| describe::node(wf, &id, flag))
        }
    };
    view! {
        <g
            class=class
            data-testid=format!("node-{id}")
            data-node=id.clone()
            transform=transform
            role="group"
            aria-roledescription="node"
            aria-label=label
            tabindex=focusable.then_some("0")
        >
            // The description above says all this; the drawing's words would repeat it.
            <g aria-hidden="true">{move || node.get().map(|n| card(&n, my_decor.get()))}</g>
        </g>
    }
}

/// The card's contents, drawn at the origin.
fn card(node: &Node, decor: NodeDecor) -> impl IntoView + use<> {
    let NodeDecor {
        badge, progress, ..
    } = decor;
    let ty = node.type_name();
    let h = node_height(&node.kind);
    let colour = look::colour(ty);
    let (icon, filled) = look::icon(ty);
    let title = node.label.clone().unwrap_or_else(|| node.id.clone());
    let kicker = if node.label.is_some() {
        format!("{} · {}", ty.to_uppercase(), node.id)
    } else {
        ty.to_uppercase()
    };
    let summary = look::summary(node);
    let far = look::far_lines(&title);
    // Two lines sit either side of the card's middle.
    let far_first_dy = if far.len() > 1 { "-0.6em" } else { "0" };
    let tooltip = format!("{} ({ty}): {summary}", node.id);
    let has_input = ty != "start";
    let ports = port_offsets(&node.kind)
        .into_iter()
        .map(|(port, (x, y))| {
            view! {
                <g
                    class="wf-port"
                    data-port=port
                    data-testid=format!("port-{}-{port}", node.id)
                >
                    <circle class="wf-port-hit" cx=x cy=y r="10"></circle>
                    <circle class="wf-port-dot" cx=x cy=y r="5"></circle>
                    <text class="wf-port-label" x=x + 8.0 y=y - 5.0>
                        {port}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <title>{tooltip}</title>
        <rect class="wf-node-box" width=NODE_W height=h rx="9"></rect>
        <rect class="wf-node-tile" x="10" y="10" width="26" height="26" rx="7" fill=colour></rect>
        <path
            class="wf-node-icon"
            d=icon
            transform="translate(15 15)"
            fill=if filled { "#fff" } else { "none" }
            stroke="#fff"
        ></path>
        <text class="wf-node-kicker" x="44" y="19">
            {look::short(&kicker, 24)}
        </text>
        <text class="wf-node-label" x="44" y="34">
            {look::short(&title, 17)}
        </text>
        // Only drawn zoomed far out (semantic zoom, see `GraphView`), in place of the above.
        <text
            class="wf-node-far-label"
            x=NODE_W / 2.0
            y=h / 2.0
            text-anchor="middle"
            dominant-baseline="central"
        >
            {far
                .into_iter()
                .enumerate()
                .map(|(i, line)| {
                    let dy = if i == 0 { far_first_dy } else { "1.2em" };
                    view! { <tspan x=NODE_W / 2.0 dy=dy>{line}</tspan> }
                })
                .collect_view()}
        </text>
        <text class="wf-node-summary" x="10" y=h - 10.0>
            {look::short(&summary, look::SUMMARY_MAX)}
        </text>
        {has_input.then(|| view! { <circle class="wf-node-input" cx="0" cy=h / 2.0 r="4"></circle> })}
        {ports}
        {progress.map(|p| progress_bar(p, h))}
        {badge
            .map(|b| {
                // About 7 px a character at the badge's size, and never narrower than before.
                let w = (b.chars().count() as f64 * 7.0 + 14.0).max(44.0);
                view! {
                    <g class="wf-node-badge" data-testid="node-badge">
                        <rect x=NODE_W - w y="-9" width=w height="18" rx="9"></rect>
                        <text x=NODE_W - w / 2.0 y="4">
                            {b}
                        </text>
                    </g>
                }
            })}
    }
}

/// A `map`'s progress along the foot of its card: completed, failed, cancelled and running
/// children, left to right, over a track that stands for every item.
fn progress_bar(p: Progress, h: f64) -> impl IntoView + use<> {
    const INSET: f64 = 10.0;
    let span = NODE_W - 2.0 * INSET;
    let mut x = INSET;
    let parts = [
        ("completed", p.completed),
        ("failed", p.failed),
        ("cancelled", p.cancelled),
        ("running", p.running),
    ]
    .into_iter()
    .filter(|(_, f)| *f > 0.0)
    .map(|(class, f)| {
        let w = f.clamp(0.0, 1.0) * span;
        let at = x;
        x += w;
        view! { <rect class=format!("wf-progress-{class}") x=at y=h - 5.0 width=w height="3"></rect> }
    })
    .collect_view();
    view! {
        <g class="wf-progress" data-testid="node-progress">
            <rect class="wf-progress-track" x=INSET y=h - 5.0 width=span height="3" rx="1.5"></rect>
            {parts}
        </g>
    }
}
