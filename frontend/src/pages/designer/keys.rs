//! The canvas without a mouse. Nodes are in the Tab order (reading order, see
//! `graph::scene`); focusing one selects it. On a focused node: the arrow keys follow its
//! edges (Right to a target, Left to a source, Up and Down to the nodes beside it that share
//! a source), Enter opens the inspector on it, `c` starts a connection from its output port
//! (again: the next port) and Enter on another node ends it there; Escape cancels. `/` puts
//! the cursor in the palette's search. A node that takes the focus out of view is panned into
//! it. A list of the edges, hidden but read by screen readers, sits beside the canvas.

use std::collections::HashMap;

use leptos::ev::{self, FocusEvent, KeyboardEvent};
use leptos::prelude::*;
use shared::model::Workflow;
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::{Ctx, Selection};
use crate::graph::describe;
use crate::graph::geometry::Viewport;

/// Where the arrow keys go from a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Left,
    Right,
    Up,
    Down,
}

impl Direction {
    fn from_key(key: &str) -> Option<Direction> {
        Some(match key {
            "ArrowLeft" => Direction::Left,
            "ArrowRight" => Direction::Right,
            "ArrowUp" => Direction::Up,
            "ArrowDown" => Direction::Down,
            _ => return None,
        })
    }

    fn words(self) -> &'static str {
        match self {
            Direction::Left => "No node leads here",
            Direction::Right => "No edge leaves this node",
            Direction::Up => "No connected node above",
            Direction::Down => "No connected node below",
        }
    }
}

/// The node the arrow key `dir` moves to from `from`: Right to the nearest (in height) target
/// of its edges, Left to the nearest source of its incoming edges, Up and Down to the nearest
/// node above or below that shares one of its sources.
pub(super) fn neighbour(
    wf: &Workflow,
    at: &HashMap<String, (f64, f64)>,
    from: &str,
    dir: Direction,
) -> Option<String> {
    let here = *at.get(from)?;
    let y = |id: &str| at.get(id).map_or(f64::INFINITY, |p| p.1);
    let nearest = |ids: Vec<&str>| {
        ids.into_iter()
            .filter(|id| *id != from)
            .min_by(|a, b| (y(a) - here.1).abs().total_cmp(&(y(b) - here.1).abs()))
            .map(str::to_owned)
    };
    let targets = |id: &str| -> Vec<&str> {
        wf.edges
            .iter()
            .filter(|e| e.from == id)
            .map(|e| e.to.as_str())
            .collect()
    };
    let sources: Vec<&str> = wf
        .edges
        .iter()
        .filter(|e| e.to == from)
        .map(|e| e.from.as_str())
        .collect();
    match dir {
        Direction::Right => nearest(targets(from)),
        Direction::Left => nearest(sources),
        Direction::Up | Direction::Down => {
            let siblings = sources
                .iter()
                .flat_map(|s| targets(s))
                .filter(|id| match dir {
                    Direction::Up => y(id) < here.1,
                    _ => y(id) > here.1,
                })
                .collect();
            nearest(siblings)
        }
    }
}

/// How far (in screen pixels) to pan so that `inner` sits inside `outer` with a margin: 0 on
/// an axis where it already does.
fn into_view(outer: &web_sys::DomRect, inner: &web_sys::DomRect) -> (f64, f64) {
    const MARGIN: f64 = 24.0;
    let shift = |lo: f64, hi: f64, a: f64, b: f64| {
        if a < lo + MARGIN {
            lo + MARGIN - a
        } else if b > hi - MARGIN {
            (hi - MARGIN - b).max(lo + MARGIN - a)
        } else {
            0.0
        }
    };
    (
        shift(outer.left(), outer.right(), inner.left(), inner.right()),
        shift(outer.top(), outer.bottom(), inner.top(), inner.bottom()),
    )
}

/// The node a key or focus event happened on, by its `data-node`.
fn node_of(target: Option<web_sys::EventTarget>) -> Option<String> {
    target?
        .dyn_into::<Element>()
        .ok()?
        .closest("[data-node]")
        .ok()??
        .get_attribute("data-node")
}

/// Moves the keyboard focus to node `id` inside `within` (the canvas's `<svg>`).
fn focus_node(within: &Element, id: &str) {
    let found = within
        .query_selector(&format!("[data-node=\"{id}\"]"))
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::SvgElement>().ok());
    if let Some(el) = found {
        let _ = el.focus();
    }
}

/// The first field of the inspector, where Enter on a node goes.
fn focus_inspector() {
    request_animation_frame(|| {
        let field = document()
            .query_selector(
                "[data-testid=inspector] input, [data-testid=inspector] select, [data-testid=inspector] textarea",
            )
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = field {
            let _ = field.focus();
        }
    });
}

/// The keyboard's state on the canvas: the port a connection started from, until Enter on
/// its target or Escape.
#[derive(Clone, Copy)]
pub(super) struct Keys {
    connecting: RwSignal<Option<(String, String)>>,
}

impl Keys {
    pub(super) fn new() -> Self {
        Keys {
            connecting: RwSignal::new(None),
        }
    }

    /// Focusing a node from the keyboard (Tab, the arrows) selects it, and pans `viewport`
    /// until it is in view.
    pub(super) fn on_focusin(
        self,
        ctx: Ctx,
        viewport: RwSignal<Viewport>,
    ) -> impl Fn(FocusEvent) + Copy + 'static {
        move |ev: FocusEvent| {
            let node = ev
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .filter(|el| el.has_attribute("data-node"));
            // Only focus from the keyboard selects and pans: a click's focus follows the
            // pointer's own gesture (shift-click adds to the selection, a drop lands where
            // it was dropped), which this must not undo.
            if !node
                .as_ref()
                .is_some_and(|el| el.matches(":focus-visible").unwrap_or(false))
            {
                return;
            }
            let svg = ev
                .current_target()
                .and_then(|t| t.dyn_into::<Element>().ok());
            if let (Some(node), Some(svg)) = (node, svg) {
                let (dx, dy) = into_view(
                    &svg.get_bounding_client_rect(),
                    &node.get_bounding_client_rect(),
                );
                if dx != 0.0 || dy != 0.0 {
                    viewport.update(|v| {
                        v.x += dx;
                        v.y += dy;
                    });
                }
            }
            if let Some(id) = node_of(ev.target()) {
                let here = Selection::Node(id);
                if ctx.selection.get_untracked() != here {
                    ctx.selection.set(here);
                }
            }
        }
    }

    /// The keys on a focused node; `positions` is where each node is drawn.
    pub(super) fn on_keydown(
        self,
        ctx: Ctx,
        positions: Memo<HashMap<String, (f64, f64)>>,
    ) -> impl Fn(KeyboardEvent) + Copy + 'static {
        move |ev: KeyboardEvent| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let Some(id) = node_of(ev.target()) else {
                return;
            };
            let svg = ev
                .current_target()
                .and_then(|t| t.dyn_into::<Element>().ok());
            let key = ev.key();
            if let Some(dir) = Direction::from_key(&key) {
                ev.prevent_default();
                let next = ctx.workflow.with_untracked(|wf| {
                    positions.with_untracked(|at| neighbour(wf, at, &id, dir))
                });
                match (next, svg) {
                    (Some(next), Some(svg)) => focus_node(&svg, &next),
                    _ => ctx.said.set(dir.words().to_owned()),
                }
                return;
            }
            match key.as_str() {
                "Enter" | " " => {
                    ev.prevent_default();
                    match self.connecting.get_untracked() {
                        Some((from, port)) => self.finish(ctx, &from, &port, &id),
                        None => {
                            ctx.selection.set(Selection::Node(id));
                            focus_inspector();
                        }
                    }
                }
                "c" | "C" => {
                    ev.prevent_default();
                    self.start(ctx, &id);
                }
                "Escape" if self.connecting.get_untracked().is_some() => {
                    self.connecting.set(None);
                    ctx.said.set("Connection cancelled".to_owned());
                }
                _ => {}
            }
        }
    }

    /// `c` on node `id`: a connection from its first output port, or, when one from this
    /// node is already started, from its next port.
    fn start(self, ctx: Ctx, id: &str) {
        let ports: Vec<&'static str> = ctx.workflow.with_untracked(|wf| {
            wf.node(id)
                .map(|n| n.kind.ports().iter().map(|(name, _)| *name).collect())
                .unwrap_or_default()
        });
        let Some(first) = ports.first() else {
            ctx.notice
                .set(Some(format!("`{id}` has no output port to connect from")));
            return;
        };
        let port = match self.connecting.get_untracked() {
            Some((from, port)) if from == id => {
                let i = ports.iter().position(|p| *p == port).map_or(0, |i| i + 1);
                ports.get(i % ports.len()).copied().unwrap_or(first)
            }
            _ => first,
        };
        self.connecting.set(Some((id.to_owned(), port.to_owned())));
        ctx.said.set(format!(
            "Connecting from {id}, port {port}. Move to the target node and press Enter; Escape cancels."
        ));
    }

    /// Enter on node `to` while connecting: the edge, selected, or why not.
    fn finish(self, ctx: Ctx, from: &str, port: &str, to: &str) {
        self.connecting.set(None);
        match ctx.editor.try_update(|e| e.connect(from, port, to)) {
            Some(Ok(i)) => {
                ctx.selection.set(Selection::Edge(i));
                ctx.said
                    .set(format!("Connected {from}, port {port}, to {to}"));
            }
            Some(Err(e)) => {
                let message = e.to_string();
                ctx.said.set(message.clone());
                ctx.notice.set(Some(message));
            }
            None => {}
        }
    }

    /// What the canvas adds for the keyboard and screen readers: its instructions, the list
    /// of edges, the connection in progress; and `/` to search the palette.
    pub(super) fn layer(self, ctx: Ctx) -> impl IntoView {
        let slash = window_event_listener(ev::keydown, move |ev: KeyboardEvent| {
            if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || typing(&ev) {
                return;
            }
            let search = document()
                .query_selector("[data-testid=palette-search]")
                .ok()
                .flatten()
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(search) = search {
                ev.prevent_default();
                let _ = search.focus();
            }
        });
        on_cleanup(move || slash.remove());
        let edges = move || {
            ctx.workflow.with(|wf| {
                wf.edges
                    .iter()
                    .map(|e| view! { <li>{describe::edge(e)}</li> })
                    .collect_view()
            })
        };
        let connecting = self.connecting;
        view! {
            <p id="canvas-help" class="sr-only">
                "Tab moves through the nodes from left to right. On a node, the arrow keys follow its edges, Enter edits it, C starts a connection from its output port (C again: the next port) and Enter on another node ends it; Escape cancels. Delete removes the selection; slash searches the node types."
            </p>
            <ul class="sr-only" aria-label="Edges" data-testid="edge-list">{edges}</ul>
            {move || {
                connecting
                    .get()
                    .map(|(from, port)| {
                        view! {
                            <div class="canvas-connecting" data-testid="connecting">
                                "Connecting from " <code>{from}</code> " (port " <code>{port}</code>
                                "): focus the target node and press Enter. Escape cancels."
                            </div>
                        }
                    })
            }}
        }
    }
}

/// Whether a key press is typing into a field (where `/` is a character).
fn typing(ev: &KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// start → check; check's true goes to a (above) and b (below); both go to done.
    fn graph() -> (Workflow, HashMap<String, (f64, f64)>) {
        let wf: Workflow = serde_json::from_value(json!({
            "name": "w",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "check", "type": "condition", "expr": "true"},
                {"id": "a", "type": "transform", "output": {}},
                {"id": "b", "type": "transform", "output": {}},
                {"id": "done", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "check"},
                {"from": "check", "to": "b", "port": "false"},
                {"from": "check", "to": "a", "port": "true"},
                {"from": "a", "to": "done"},
                {"from": "b", "to": "done"}
            ]
        }))
        .unwrap();
        let at = [
            ("start", (0.0, 100.0)),
            ("check", (200.0, 100.0)),
            ("a", (400.0, 0.0)),
            ("b", (400.0, 200.0)),
            ("done", (600.0, 90.0)),
        ]
        .into_iter()
        .map(|(id, p)| (id.to_owned(), p))
        .collect();
        (wf, at)
    }

    fn go(from: &str, dir: Direction) -> Option<String> {
        let (wf, at) = graph();
        neighbour(&wf, &at, from, dir)
    }

    #[test]
    fn right_and_left_follow_edges_to_the_nearest_in_height() {
        assert_eq!(go("start", Direction::Right).as_deref(), Some("check"));
        assert_eq!(go("check", Direction::Left).as_deref(), Some("start"));
        // Both are 100 away from check: the first edge's target.
        assert_eq!(go("check", Direction::Right).as_deref(), Some("b"));
        // done (y 90) is nearer a (y 0) than b (y 200).
        assert_eq!(go("done", Direction::Left).as_deref(), Some("a"));
        assert_eq!(go("done", Direction::Right), None);
        assert_eq!(go("start", Direction::Left), None);
    }

    #[test]
    fn up_and_down_move_between_targets_of_the_same_source() {
        assert_eq!(go("a", Direction::Down).as_deref(), Some("b"));
        assert_eq!(go("b", Direction::Up).as_deref(), Some("a"));
        assert_eq!(go("a", Direction::Up), None);
        assert_eq!(go("start", Direction::Down), None, "no source, no siblings");
    }
}
