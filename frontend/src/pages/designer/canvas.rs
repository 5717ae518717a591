//! The palette and the editable canvas. One set of window-level pointer handlers runs every
//! gesture: drag a type from the palette onto the canvas (or onto an edge, to put it inside
//! it), move the selected nodes, drag from a port to a node to connect them, drag an edge's
//! end elsewhere, drag the background to pan, Shift+drag it to select with a rubber band;
//! the wheel zooms. A drag held near the border pans the view. The canvas also owns the
//! keys and the clipboard events that act on the selection (Ctrl+A, Ctrl+C, Ctrl+V, Ctrl+D,
//! the context menu), the minimap and the panel toggles.

use std::collections::HashMap;
use std::time::Duration;

use leptos::ev::{self, MouseEvent, PointerEvent, WheelEvent};
use leptos::prelude::*;
use shared::Severity;
use shared::model::{NODE_TYPES, Workflow};

use super::keys::Keys;
use super::menu::{Action, Open, Target, context_menu};
use super::minimap::minimap;
use super::{Ctx, Selection, clipboard, in_text_field};
use crate::components::code_text::code_spans;
use crate::graph::clip::Clip;
use crate::graph::editor::Editor;
use crate::graph::geometry::{
    NODE_H, NODE_W, Rect, Viewport, ZOOM_MIN, auto_pan, distance_to_edge, edge_path, free_spot,
    input_point, node_height, node_rect, port_offsets, port_point, snap,
};
use crate::graph::hit::{Hit, hit, local_point, size};
use crate::graph::scene::{Flags, Scene, SceneInput, defs};
use crate::graph::view::FAR_SCALE;
use crate::graph::{ZoomControls, content_bounds, layout, look, wheel_factor};

/// A gesture in progress, from pointer down to pointer up.
#[derive(Debug, Clone)]
enum Gesture {
    Pan {
        start: (f64, f64),
        from: Viewport,
    },
    /// Moving the selected nodes by one of them, `anchor`; `grab` is where in it the pointer
    /// took it, `origin` where each moving node was, `before` the undo point.
    Move {
        anchor: String,
        grab: (f64, f64),
        origin: Vec<(String, (f64, f64))>,
        before: Box<Workflow>,
        start: (f64, f64),
        moved: bool,
    },
    /// Dragging a new edge out of a port; `at` follows the pointer on the canvas.
    Connect {
        from: String,
        port: String,
        at: (f64, f64),
    },
    /// Dragging the edge `index` by its start (`source`: to another port) or its end (to
    /// another target).
    Rewire {
        index: usize,
        source: bool,
        at: (f64, f64),
    },
    /// A palette type on its way to the canvas (or a click on it, if it never moved).
    Place {
        type_name: &'static str,
        client: (f64, f64),
        moved: bool,
    },
    /// A rubber band from `start` to `at` (canvas points), adding to the nodes of `base`.
    Band {
        start: (f64, f64),
        at: (f64, f64),
        base: Vec<String>,
    },
}

/// The smallest zoom the designer opens at, [`LABELS_MIN`]: the cards still show their labels,
/// large (a graph too big for that opens at its top-left corner; Fit shows all of it).
const OPEN_ZOOM: f64 = LABELS_MIN;

/// Below this scale the designer's cards stop showing their labels (semantic zoom's tiny
/// mode). Lower than the run page's [`crate::graph::view::TINY_SCALE`]: here the labels are
/// what a person points at, and a fitted graph beside the palette and the inspector is often
/// just below that.
const LABELS_MIN: f64 = 0.28;

/// How near an edge (in screen pixels) a dropped node has to land to go inside it.
const EDGE_DROP: f64 = 18.0;

/// Whether palette type `type_name` answers search `query`: by its name or what it does,
/// case aside. An empty query lists every type.
fn matches(type_name: &str, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty() || type_name.contains(&q) || blurb(type_name).to_lowercase().contains(&q)
}

/// What a palette entry says about its type.
fn blurb(type_name: &str) -> &'static str {
    match type_name {
        "start" => "Where a run begins",
        "end" => "Finishes with an output",
        "http" => "Calls an HTTP endpoint",
        "task" => "Work done by a worker",
        "approval" => "Waits for a person",
        "signal" => "Waits for a signal",
        "timer" => "Waits for a while",
        "condition" => "Branches true / false",
        "transform" => "Builds a value",
        "parallel" => "Fans out branches",
        "subflow" => "Runs another workflow",
        "map" => "Runs a workflow per item",
        _ => "Waits for branches",
    }
}

/// The worst finding per node and per edge, for outlining.
fn flags(findings: &[shared::Diagnostic]) -> Flags {
    let mut flags = Flags::default();
    let worse = |old: Option<Severity>, new: Severity| match old {
        Some(Severity::Error) => Severity::Error,
        _ => new,
    };
    for f in findings {
        if let Some(node) = &f.node {
            let old = flags.nodes.get(node).copied();
            flags.nodes.insert(node.clone(), worse(old, f.severity));
        }
        if let Some(edge) = f.edge {
            let old = flags.edges.get(&edge).copied();
            flags.edges.insert(edge, worse(old, f.severity));
        }
    }
    flags
}

/// An edge's two ends on the canvas: its port and its target's input.
type Ends = ((f64, f64), (f64, f64));

/// Each edge's [`Ends`], by index.
fn edge_ends(wf: &Workflow, at: &HashMap<String, (f64, f64)>) -> Vec<Option<Ends>> {
    wf.edges
        .iter()
        .map(|e| {
            let from = wf.node(&e.from)?;
            let to = wf.node(&e.to)?;
            Some((
                port_point(&from.kind, *at.get(&e.from)?, &e.port),
                input_point(&to.kind, *at.get(&e.to)?),
            ))
        })
        .collect()
}

/// The edge nearest `p` within `reach` (canvas units), leaving out edges that touch `skip`.
fn edge_near(
    wf: &Workflow,
    at: &HashMap<String, (f64, f64)>,
    p: (f64, f64),
    reach: f64,
    skip: Option<&str>,
) -> Option<usize> {
    edge_ends(wf, at)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| skip.is_none_or(|s| wf.edges[*i].from != s && wf.edges[*i].to != s))
        .filter_map(|(i, ends)| ends.map(|(a, b)| (i, distance_to_edge(p, a, b))))
        .filter(|(_, d)| *d <= reach)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The top-most node whose box holds `p`.
fn node_at(wf: &Workflow, at: &HashMap<String, (f64, f64)>, p: (f64, f64)) -> Option<String> {
    wf.nodes
        .iter()
        .rev()
        .find(|n| {
            at.get(&n.id)
                .is_some_and(|pos| node_rect(&n.kind, *pos).contains(p))
        })
        .map(|n| n.id.clone())
}

/// The palette on the left and the canvas beside it.
pub(super) fn workspace(ctx: Ctx) -> impl IntoView {
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let viewport = RwSignal::new(Viewport::default());
    let view_size = RwSignal::new((0.0, 0.0));
    let gesture = RwSignal::new(None::<Gesture>);
    // The pointer's last place in the window, for auto-pan and for pasting where it is.
    let pointer = StoredValue::new(None::<(f64, f64)>);
    let menu = RwSignal::new(None::<Open>);
    let positions = Memo::new(move |_| ctx.workflow.with(layout));
    let outline = Memo::new(move |_| {
        let mut all = ctx.findings.get();
        all.extend(ctx.server_findings.get().unwrap_or_default());
        flags(&all)
    });

    // The canvas's size changes with the window and with the panels shown beside it.
    let measure = move || {
        if let Some(Some(svg)) = svg_ref.try_get_untracked() {
            view_size.try_set(size(&svg));
        }
    };
    let on_resize = window_event_listener(ev::resize, move |_| measure());
    Effect::new(move |_| {
        ctx.palette_open.track();
        ctx.side_open.track();
        request_animation_frame(measure);
    });

    let fit_to = move |min_k: f64| {
        if let Some(Some(svg)) = svg_ref.try_get_untracked() {
            let (w, h) = size(&svg);
            view_size.try_set((w, h));
            let bounds = ctx
                .workflow
                .with_untracked(|wf| positions.with_untracked(|at| content_bounds(wf, at)));
            viewport.try_set(Viewport::fit_readable(bounds, w, h, min_k));
        }
    };
    // Fit (the button, the menu, after an auto-layout) shows everything, however small.
    let fit = move || fit_to(ZOOM_MIN);
    let fitted = StoredValue::new(false);
    Effect::new(move |_| {
        if svg_ref.get().is_some() && !fitted.get_value() {
            fitted.set_value(true);
            request_animation_frame(move || fit_to(OPEN_ZOOM));
        }
    });
    // Asked by the toolbar (after an auto-layout); not on the first run.
    Effect::new(move |first: Option<()>| {
        ctx.fit.track();
        if first.is_some() {
            request_animation_frame(fit);
        }
    });

    let to_canvas = move |client: (f64, f64)| -> Option<(f64, f64)> {
        let svg = svg_ref.get_untracked()?;
        Some(
            viewport
                .get_untracked()
                .to_canvas(local_point(&svg, client)),
        )
    };
    let over_canvas = move |client: (f64, f64)| -> bool {
        svg_ref.get_untracked().is_some_and(|svg| {
            let (x, y) = local_point(&svg, client);
            let (w, h) = size(&svg);
            x >= 0.0 && y >= 0.0 && x <= w && y <= h
        })
    };
    let view_centre = move || -> Option<(f64, f64)> {
        let svg = svg_ref.get_untracked()?;
        let (w, h) = size(&svg);
        Some(viewport.get_untracked().to_canvas((w / 2.0, h / 2.0)))
    };
    let snapped = move |p: (f64, f64)| {
        if ctx.snap.get_untracked() { snap(p) } else { p }
    };
    let reach = move || EDGE_DROP / viewport.get_untracked().k;
    let notice = move |result: Option<Result<(), crate::graph::editor::EditError>>| {
        if let Some(Err(e)) = result {
            ctx.notice.set(Some(e.to_string()));
        }
    };
    // Adds a node with its top-left corner at `corner`.
    let add_at = move |type_name: &str, corner: (f64, f64)| match ctx
        .editor
        .try_update(|e| e.add_node(type_name, snapped(corner)))
    {
        Some(Ok(id)) => ctx.selection.set(Selection::Node(id)),
        Some(Err(e)) => ctx.notice.set(Some(e.to_string())),
        None => {}
    };
    // A click on a palette entry (or Enter on it) adds the type in the middle of the view,
    // or at the nearest spot there where it hides no other node.
    let add_in_view = move |type_name: &str| {
        if let Some(centre) = view_centre() {
            let taken: Vec<Rect> = ctx.workflow.with_untracked(|wf| {
                positions.with_untracked(|at| {
                    wf.nodes
                        .iter()
                        .filter_map(|n| at.get(&n.id).map(|p| node_rect(&n.kind, *p)))
                        .collect()
                })
            });
            let wanted = (centre.0 - NODE_W / 2.0, centre.1 - NODE_H / 2.0);
            add_at(type_name, free_spot(&taken, wanted, NODE_H));
        }
    };
    let select_nodes = move |ids: Vec<String>| ctx.selection.set(Selection::of_nodes(ids));
    let paste = move |clip: Clip, at: (f64, f64)| {
        if let Some(ids) = ctx.editor.try_update(|e| e.paste(&clip, snapped(at))) {
            let _ = ctx.selection.try_set(Selection::of_nodes(ids));
        }
    };
    // Where Ctrl+V puts nodes: at the pointer when it is over the canvas, else mid-view.
    let paste_point = move || {
        pointer
            .get_value()
            .filter(|c| over_canvas(*c))
            .and_then(to_canvas)
            .or_else(view_centre)
            .unwrap_or_default()
    };
    let duplicate = move || {
        let ids = ctx.selection.get_untracked().nodes();
        if let Some(new) = ctx.editor.try_update(|e| e.duplicate(&ids))
            && !new.is_empty()
        {
            select_nodes(new);
        }
    };
    let selected_clip = move || {
        let ids = ctx.selection.get_untracked().nodes();
        ctx.workflow.with_untracked(|wf| Clip::of(wf, &ids))
    };
    let auto_layout = move || {
        ctx.editor.update(Editor::auto_layout);
        ctx.fit.notify();
    };
    let run = move |action: Action| match action {
        Action::Duplicate => duplicate(),
        Action::Copy => {
            if let Some(clip) = selected_clip() {
                clipboard::store(&clip);
            }
        }
        Action::Delete => ctx.delete_selection(),
        Action::DeleteEdge(i) => {
            ctx.selection.set(Selection::Edge(i));
            ctx.delete_selection();
        }
        Action::Paste(at) => leptos::task::spawn_local(async move {
            match clipboard::read().await {
                Some(clip) => paste(clip, at),
                None => {
                    let _ = ctx
                        .notice
                        .try_set(Some("Nothing to paste: copy some nodes first".into()));
                }
            }
        }),
        Action::Add(type_name, at) => add_at(type_name, (at.0 - NODE_W / 2.0, at.1 - NODE_H / 2.0)),
        Action::SelectAll => ctx.select_all(),
        Action::AutoLayout => auto_layout(),
        Action::Fit => fit(),
    };

    // One pointer move of a gesture (also replayed while auto-pan moves the view under a
    // still pointer).
    let drag_to = move |client: (f64, f64)| {
        let Some(g) = gesture.get_untracked() else {
            return;
        };
        let p = to_canvas(client);
        match g {
            Gesture::Pan { start, from } => viewport.set(Viewport {
                x: from.x + client.0 - start.0,
                y: from.y + client.1 - start.1,
                k: from.k,
            }),
            Gesture::Move {
                anchor,
                grab,
                origin,
                start,
                moved,
                ..
            } => {
                let Some(p) = p else { return };
                if !moved && (client.0 - start.0).abs() + (client.1 - start.1).abs() < 3.0 {
                    return;
                }
                let Some(&(_, was)) = origin.iter().find(|(id, _)| *id == anchor) else {
                    return;
                };
                let to = snapped((p.0 - grab.0, p.1 - grab.1));
                ctx.editor
                    .update(|e| e.move_nodes_live(&origin, (to.0 - was.0, to.1 - was.1)));
                if !moved {
                    gesture.update(|g| {
                        if let Some(Gesture::Move { moved, .. }) = g {
                            *moved = true;
                        }
                    });
                }
            }
            Gesture::Connect { .. } | Gesture::Rewire { .. } | Gesture::Band { .. } => {
                let Some(p) = p else { return };
                gesture.update(|g| {
                    if let Some(
                        Gesture::Connect { at, .. }
                        | Gesture::Rewire { at, .. }
                        | Gesture::Band { at, .. },
                    ) = g
                    {
                        *at = p;
                    }
                });
            }
            Gesture::Place { .. } => gesture.update(|g| {
                if let Some(Gesture::Place {
                    client: c, moved, ..
                }) = g
                {
                    *moved = *moved || (c.0 - client.0).abs() + (c.1 - client.1).abs() > 4.0;
                    *c = client;
                }
            }),
        }
    };
    // Auto-pan: a drag held near the border moves the view, and what is dragged with it.
    // Armed by a press on the canvas, or once a drag from the palette is inside, away from the
    // border: on its way in it crosses the border, and must not pan then.
    let pan_armed = StoredValue::new(false);
    let ticker = set_interval_with_handle(
        move || {
            let (Some(client), Some(Some(g)), Some(Some(svg))) = (
                pointer.get_value(),
                gesture.try_get_untracked(),
                svg_ref.try_get_untracked(),
            ) else {
                return;
            };
            let pans = match g {
                Gesture::Pan { .. } => false,
                Gesture::Place { moved, .. } => moved && over_canvas(client),
                _ => true,
            };
            if !pans {
                return;
            }
            let (w, h) = size(&svg);
            let (dx, dy) = auto_pan(local_point(&svg, client), w, h);
            if (dx != 0.0 || dy != 0.0) && pan_armed.get_value() {
                viewport.update(|v| {
                    v.x += dx;
                    v.y += dy;
                });
                drag_to(client);
            }
        },
        Duration::from_millis(30),
    )
    .ok();

    let on_down = move |ev: PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        menu.set(None);
        ctx.notice.set(None);
        pan_armed.set_value(true);
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        pointer.set_value(Some(client));
        let Some(p) = to_canvas(client) else { return };
        let end = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .and_then(|el| el.closest("[data-edge-end]").ok().flatten());
        if let Some(end) = end {
            if let Selection::Edge(index) = ctx.selection.get_untracked() {
                ev.prevent_default();
                gesture.set(Some(Gesture::Rewire {
                    index,
                    source: end.get_attribute("data-edge-end").as_deref() == Some("source"),
                    at: p,
                }));
            }
            return;
        }
        match hit(ev.target()) {
            Hit::Port { node, port } => {
                ev.prevent_default();
                gesture.set(Some(Gesture::Connect {
                    from: node,
                    port,
                    at: p,
                }));
            }
            Hit::Node(id) => {
                let selection = ctx.selection.get_untracked();
                if ev.shift_key() {
                    // Shift-click adds the node to the selection, or takes it out.
                    let mut ids = selection.nodes();
                    if selection.has_node(&id) {
                        ids.retain(|n| *n != id);
                    } else {
                        ids.push(id);
                    }
                    select_nodes(ids);
                    return;
                }
                if !selection.has_node(&id) {
                    ctx.selection.set(Selection::Node(id.clone()));
                }
                let ids = ctx.selection.get_untracked().nodes();
                let origin: Vec<(String, (f64, f64))> = positions.with_untracked(|at| {
                    ids.iter()
                        .filter_map(|i| at.get(i).map(|p| (i.clone(), *p)))
                        .collect()
                });
                let Some(&(_, at)) = origin.iter().find(|(i, _)| *i == id) else {
                    return;
                };
                let before = ctx.editor.with_untracked(|e| e.begin_gesture());
                gesture.set(Some(Gesture::Move {
                    anchor: id,
                    grab: (p.0 - at.0, p.1 - at.1),
                    origin,
                    before: Box::new(before),
                    start: client,
                    moved: false,
                }));
            }
            Hit::Edge(i) => ctx.selection.set(Selection::Edge(i)),
            Hit::Background if ev.shift_key() => {
                ev.prevent_default();
                gesture.set(Some(Gesture::Band {
                    start: p,
                    at: p,
                    base: ctx.selection.get_untracked().nodes(),
                }));
            }
            Hit::Background => {
                ctx.selection.set(Selection::None);
                gesture.set(Some(Gesture::Pan {
                    start: client,
                    from: viewport.get_untracked(),
                }));
            }
        }
    };
    let moves = window_event_listener(ev::pointermove, move |ev: PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        pointer.set_value(Some(client));
        if !pan_armed.get_value()
            && gesture.with_untracked(Option::is_some)
            && over_canvas(client)
            && let Some(svg) = svg_ref.get_untracked()
        {
            let (w, h) = size(&svg);
            let inside = auto_pan(local_point(&svg, client), w, h) == (0.0, 0.0);
            pan_armed.set_value(inside);
        }
        drag_to(client);
    });
    let ups = window_event_listener(ev::pointerup, move |ev: PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        let Some(g) = gesture.get_untracked() else {
            return;
        };
        gesture.set(None);
        pan_armed.set_value(false);
        let p = to_canvas(client);
        match g {
            Gesture::Pan { .. } => {}
            Gesture::Move {
                anchor,
                origin,
                before,
                moved,
                ..
            } => {
                if !moved {
                    ctx.editor.update(|e| e.end_gesture(*before));
                    // A click on one of several selected nodes selects it alone.
                    if origin.len() > 1 {
                        ctx.selection.set(Selection::Node(anchor));
                    }
                    return;
                }
                // A lone unconnected node dropped on an edge goes inside it.
                let target = (origin.len() == 1)
                    .then(|| {
                        ctx.workflow.with_untracked(|wf| {
                            let node = wf.node(&anchor)?;
                            if wf.edges.iter().any(|e| e.from == anchor || e.to == anchor) {
                                return None;
                            }
                            let pos = node.position?;
                            let centre =
                                (pos.x + NODE_W / 2.0, pos.y + node_height(&node.kind) / 2.0);
                            positions.with_untracked(|at| edge_near(wf, at, centre, reach(), None))
                        })
                    })
                    .flatten();
                match target {
                    Some(i) => notice(
                        ctx.editor
                            .try_update(|e| e.drop_into_edge(*before, i, &anchor)),
                    ),
                    None => ctx.editor.update(|e| e.end_gesture(*before)),
                }
            }
            Gesture::Connect { from, port, .. } => {
                let Some(p) = p else { return };
                let target = ctx
                    .workflow
                    .with_untracked(|wf| positions.with_untracked(|at| node_at(wf, at, p)));
                let Some(to) = target else { return };
                match ctx.editor.try_update(|e| e.connect(&from, &port, &to)) {
                    Some(Ok(i)) => ctx.selection.set(Selection::Edge(i)),
                    Some(Err(e)) => ctx.notice.set(Some(e.to_string())),
                    None => {}
                }
            }
            Gesture::Rewire { index, source, .. } => {
                let Some(p) = p else { return };
                let change = ctx.workflow.with_untracked(|wf| {
                    let edge = wf.edges.get(index)?.clone();
                    let node = positions.with_untracked(|at| node_at(wf, at, p))?;
                    if !source {
                        return Some((edge.from, edge.port, node));
                    }
                    // The start goes to the port of that node nearest the pointer.
                    let n = wf.node(&node)?;
                    let top = positions.with_untracked(|at| at.get(&node).copied())?;
                    let port = port_offsets(&n.kind)
                        .into_iter()
                        .min_by(|a, b| {
                            let d = |o: (f64, f64)| (top.1 + o.1 - p.1).abs();
                            d(a.1).total_cmp(&d(b.1))
                        })?
                        .0;
                    Some((node, port.to_owned(), edge.to))
                });
                if let Some((from, port, to)) = change {
                    notice(
                        ctx.editor
                            .try_update(|e| e.reconnect(index, &from, &port, &to)),
                    );
                }
            }
            Gesture::Place {
                type_name, moved, ..
            } => {
                if !moved {
                    add_in_view(type_name);
                } else if over_canvas(client)
                    && let Some(p) = p
                {
                    let corner = snapped((p.0 - NODE_W / 2.0, p.1 - NODE_H / 2.0));
                    let edge = ctx.workflow.with_untracked(|wf| {
                        positions.with_untracked(|at| edge_near(wf, at, p, reach(), None))
                    });
                    match edge {
                        Some(i) => match ctx
                            .editor
                            .try_update(|e| e.add_node_into_edge(type_name, corner, i))
                        {
                            Some(Ok(id)) => ctx.selection.set(Selection::Node(id)),
                            Some(Err(e)) => ctx.notice.set(Some(e.to_string())),
                            None => {}
                        },
                        None => add_at(type_name, corner),
                    }
                }
            }
            Gesture::Band { start, at, base } => {
                let band = Rect::from_corners(start, at);
                let mut ids = base;
                ctx.workflow.with_untracked(|wf| {
                    positions.with_untracked(|pos| {
                        for n in &wf.nodes {
                            if !ids.contains(&n.id)
                                && pos
                                    .get(&n.id)
                                    .is_some_and(|p| node_rect(&n.kind, *p).overlaps(&band))
                            {
                                ids.push(n.id.clone());
                            }
                        }
                    });
                });
                select_nodes(ids);
            }
        }
    });

    // The keys and clipboard events that act on the selection, outside text fields.
    let paste_pending = StoredValue::new(false);
    let keys = window_event_listener(ev::keydown, move |ev: ev::KeyboardEvent| {
        if in_text_field(&ev) {
            return;
        }
        let key = ev.key().to_lowercase();
        let ctrl = ev.ctrl_key() || ev.meta_key();
        match (ctrl, key.as_str()) {
            (false, "escape") => {
                menu.set(None);
                return;
            }
            (true, "a") => ctx.select_all(),
            (true, "c") => {
                // The browser's `copy` event fills the clipboard; this keeps the copy in the
                // browser too, for when the clipboard cannot be read back.
                if let Some(clip) = selected_clip() {
                    clipboard::store(&clip);
                }
                return;
            }
            (true, "d") => duplicate(),
            (true, "v") => {
                // The browser's `paste` event brings the clipboard; if none comes (no
                // clipboard), the copy kept in this browser is pasted instead.
                paste_pending.set_value(true);
                set_timeout(
                    move || {
                        if paste_pending.try_get_value() == Some(true) {
                            paste_pending.set_value(false);
                            if let Some(clip) = clipboard::stored() {
                                paste(clip, paste_point());
                            }
                        }
                    },
                    Duration::from_millis(60),
                );
                return;
            }
            (false, "contextmenu") | (false, "f10") if key == "contextmenu" || ev.shift_key() => {
                let selection = ctx.selection.get_untracked();
                let (w, h) = view_size.get_untracked();
                let v = viewport.get_untracked();
                let target = match &selection {
                    Selection::Node(_) | Selection::Nodes(_) => Target::Nodes(selection.nodes()),
                    Selection::Edge(i) => Target::Edge(*i),
                    Selection::None => Target::Background(v.to_canvas((w / 2.0, h / 2.0))),
                };
                // Beside the first selected node, or mid-view.
                let at = selection
                    .nodes()
                    .first()
                    .and_then(|id| positions.with_untracked(|at| at.get(id).copied()))
                    .map_or((w / 2.0, h / 2.0), |p| {
                        (p.0 * v.k + v.x + 24.0, p.1 * v.k + v.y + 24.0)
                    });
                menu.set(Some(Open { at, target }));
            }
            _ => return,
        }
        ev.prevent_default();
    });
    let copies = window_event_listener(ev::copy, move |ev| {
        if in_text_field(&ev) || has_text_selection() {
            return;
        }
        if let Some(clip) = selected_clip()
            && clipboard::put_in_event(&ev, &clip)
        {
            ev.prevent_default();
        }
    });
    let pastes = window_event_listener(ev::paste, move |ev| {
        if in_text_field(&ev) {
            return;
        }
        paste_pending.set_value(false);
        match clipboard::text_of_event(&ev) {
            Some(text) => match Clip::from_text(&text) {
                Some(clip) => {
                    ev.prevent_default();
                    paste(clip, paste_point());
                }
                None => ctx.notice.set(Some(
                    "The clipboard holds no copied nodes: copy some first (Ctrl+C)".into(),
                )),
            },
            None => {
                if let Some(clip) = clipboard::stored() {
                    paste(clip, paste_point());
                }
            }
        }
    });
    on_cleanup(move || {
        moves.remove();
        ups.remove();
        keys.remove();
        copies.remove();
        pastes.remove();
        on_resize.remove();
        if let Some(t) = ticker {
            t.clear();
        }
    });

    let on_context = move |ev: MouseEvent| {
        ev.prevent_default();
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        let (Some(svg), Some(p)) = (svg_ref.get_untracked(), to_canvas(client)) else {
            return;
        };
        let target = match hit(ev.target()) {
            Hit::Node(id) | Hit::Port { node: id, .. } => {
                if !ctx.selection.get_untracked().has_node(&id) {
                    ctx.selection.set(Selection::Node(id));
                }
                Target::Nodes(ctx.selection.get_untracked().nodes())
            }
            Hit::Edge(i) => {
                ctx.selection.set(Selection::Edge(i));
                Target::Edge(i)
            }
            Hit::Background => Target::Background(p),
        };
        menu.set(Some(Open {
            at: local_point(&svg, client),
            target,
        }));
    };
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        if let Some(svg) = svg_ref.get_untracked() {
            let p = local_point(&svg, (ev.client_x() as f64, ev.client_y() as f64));
            viewport.update(|v| *v = v.zoom_at(wheel_factor(ev.delta_y()), p));
        }
    };
    let zoom_by = move |factor: f64| {
        if let Some(svg) = svg_ref.get_untracked() {
            let (w, h) = size(&svg);
            viewport.update(|v| *v = v.zoom_at(factor, (w / 2.0, h / 2.0)));
        }
    };

    // What a gesture draws over the graph: the edge being drawn or rewired, the rubber band.
    let rubber = move || {
        gesture.with(|g| match g {
            Some(Gesture::Connect { from, port, at }) => {
                let start = ctx.workflow.with(|wf| {
                    let node = wf.node(from)?;
                    let pos = positions.with(|p| p.get(from).copied())?;
                    Some(port_point(&node.kind, pos, port))
                })?;
                Some(view! { <path class="wf-rubber" d=edge_path(start, *at)></path> }.into_any())
            }
            Some(Gesture::Rewire { index, source, at }) => {
                let (a, b) = ctx
                    .workflow
                    .with(|wf| positions.with(|p| edge_ends(wf, p).get(*index).copied()))??;
                let d = if *source {
                    edge_path(*at, b)
                } else {
                    edge_path(a, *at)
                };
                Some(view! { <path class="wf-rubber" d=d></path> }.into_any())
            }
            Some(Gesture::Band { start, at, .. }) => {
                let r = Rect::from_corners(*start, *at);
                Some(
                    view! {
                        <rect
                            class="wf-band"
                            data-testid="rubber-band"
                            x=r.x
                            y=r.y
                            width=r.w
                            height=r.h
                        ></rect>
                    }
                    .into_any(),
                )
            }
            _ => None,
        })
    };
    // The selected edge's two ends, to drag elsewhere.
    let edge_handles = move || {
        let Selection::Edge(i) = ctx.selection.get() else {
            return None;
        };
        let (a, b) = ctx
            .workflow
            .with(|wf| positions.with(|p| edge_ends(wf, p).get(i).copied()))??;
        Some(view! {
            <g class="wf-edge-ends">
                <circle
                    class="wf-edge-end"
                    data-edge-end="source"
                    data-testid="edge-end-source"
                    cx=a.0
                    cy=a.1
                    r="7"
                >
                    <title>"Drag to another port"</title>
                </circle>
                <circle
                    class="wf-edge-end"
                    data-edge-end="target"
                    data-testid="edge-end-target"
                    cx=b.0
                    cy=b.1
                    r="7"
                >
                    <title>"Drag to another node"</title>
                </circle>
            </g>
        })
    };
    let ghost = move || {
        gesture.with(|g| match g {
            Some(Gesture::Place {
                type_name,
                client,
                moved: true,
            }) => Some(view! {
                <div
                    class="palette-ghost"
                    style:left=format!("{}px", client.0)
                    style:top=format!("{}px", client.1)
                >
                    <PaletteIcon type_name />
                    {*type_name}
                </div>
            }),
            _ => None,
        })
    };
    // The edge a dragged node (or palette type) would go inside, marked while it is over it.
    let drop_edge = Memo::new(move |_| {
        let g = gesture.get()?;
        let (p, skip) = match g {
            Gesture::Place {
                client,
                moved: true,
                ..
            } if over_canvas(client) => (to_canvas(client)?, None),
            Gesture::Move {
                anchor,
                origin,
                moved: true,
                ..
            } if origin.len() == 1 => {
                let centre = ctx.workflow.with(|wf| {
                    let n = wf.node(&anchor)?;
                    if wf.edges.iter().any(|e| e.from == anchor || e.to == anchor) {
                        return None;
                    }
                    let pos = n.position?;
                    Some((pos.x + NODE_W / 2.0, pos.y + node_height(&n.kind) / 2.0))
                })?;
                (centre, Some(anchor))
            }
            _ => return None,
        };
        ctx.workflow.with_untracked(|wf| {
            positions.with_untracked(|at| edge_near(wf, at, p, reach(), skip.as_deref()))
        })
    });
    let edge_class = Signal::derive(move || {
        let n = ctx.workflow.with(|wf| wf.edges.len());
        let target = drop_edge.get();
        (0..n)
            .map(|i| if Some(i) == target { "drop-target" } else { "" })
            .collect()
    });
    let selected_node = Signal::derive(move || match ctx.selection.get() {
        Selection::Node(id) => Some(id),
        _ => None,
    });
    let selected_edge = Signal::derive(move || match ctx.selection.get() {
        Selection::Edge(i) => Some(i),
        _ => None,
    });
    // Several selected nodes are marked through their decor (the scene marks one), over a
    // test run's states when there is one.
    let tested = ctx.test.decor();
    let decor = Signal::derive(move || {
        let mut decor = tested.get();
        if let Selection::Nodes(ids) = ctx.selection.get() {
            for id in ids {
                let d = decor.entry(id).or_default();
                d.class = if d.class.is_empty() {
                    "selected".into()
                } else {
                    format!("{} selected", d.class)
                };
            }
        }
        decor
    });
    let input = SceneInput {
        workflow: ctx.workflow.into(),
        positions: positions.into(),
        decor,
        selected_node,
        selected_edge,
        flags: outline.into(),
        edge_class,
        focusable: true,
    };
    let keys = Keys::new();
    let empty = move || ctx.workflow.with(|wf| wf.nodes.is_empty());
    let far = move || viewport.with(|v| v.k < FAR_SCALE);
    let tiny = move || viewport.with(|v| v.k < LABELS_MIN);
    let selected_count = move || ctx.selection.with(|s| s.nodes().len());

    // Type to filter the palette; Enter adds the first type still listed.
    let query = RwSignal::new(String::new());
    let listed = move |type_name: &str| matches(type_name, &query.get());
    let on_search_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            let q = query.get_untracked();
            if let Some(first) = NODE_TYPES.iter().find(|t| matches(t, &q)) {
                add_in_view(first);
                query.set(String::new());
            }
        }
        "Escape" => query.set(String::new()),
        _ => {}
    };
    let palette = move || {
        view! {
            <nav class="palette" aria-label="Node types" data-testid="palette">
                <h2 class="side-title">"Nodes"</h2>
                <input
                    class="input palette-search"
                    type="search"
                    placeholder="Search"
                    aria-label="Search node types (Enter adds the first)"
                    data-testid="palette-search"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                    on:keydown=on_search_key
                />
                <Show when=move || !NODE_TYPES.iter().any(|t| listed(t))>
                    <p class="palette-none" data-testid="palette-none">"No node type matches."</p>
                </Show>
                {NODE_TYPES
                    .map(|type_name| {
                        view! {
                            <button
                                class="palette-item"
                                class:palette-hidden=move || !listed(type_name)
                                data-testid=format!("palette-{type_name}")
                                title=format!("Drag onto the canvas (or onto an edge), or click to add: {}", blurb(type_name))
                                on:pointerdown=move |ev: PointerEvent| {
                                    if ev.button() == 0 {
                                        ev.prevent_default();
                                        pan_armed.set_value(false);
                                        gesture.set(Some(Gesture::Place {
                                            type_name,
                                            client: (ev.client_x() as f64, ev.client_y() as f64),
                                            moved: false,
                                        }));
                                    }
                                }
                                on:click=move |ev: MouseEvent| {
                                    // A click from the keyboard has no pointer gesture behind it.
                                    if ev.detail() == 0 {
                                        add_in_view(type_name);
                                    }
                                }
                            >
                                <PaletteIcon type_name />
                                <span class="palette-text">
                                    <span class="palette-name">{type_name}</span>
                                    <span class="palette-blurb">{blurb(type_name)}</span>
                                </span>
                            </button>
                        }
                    })}
            </nav>
        }
    };
    let panel_button = move |open: RwSignal<bool>, what: &'static str, testid: &'static str| {
        view! {
            <button
                class="btn btn-small canvas-tool"
                data-testid=testid
                aria-pressed=move || if open.get() { "true" } else { "false" }
                title=move || format!("{} the {what}", if open.get() { "Hide" } else { "Show" })
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || format!("{} {what}", if open.get() { "Hide" } else { "Show" })}
            </button>
        }
    };
    view! {
        <Show when=move || ctx.palette_open.get()>{palette}</Show>
        <div
            class="wf-canvas designer-canvas"
            class:wf-far=far
            class:wf-tiny=tiny
            style:--k=move || format!("{:.4}", viewport.with(|v| v.k))
            data-testid="canvas"
        >
            <svg
                node_ref=svg_ref
                class="wf-svg"
                role="group"
                aria-label="Workflow graph"
                aria-describedby="canvas-help"
                on:pointerdown=on_down
                on:wheel=on_wheel
                on:contextmenu=on_context
                on:keydown=keys.on_keydown(ctx, positions)
                on:focusin=keys.on_focusin(ctx, viewport)
            >
                {defs()}
                <g transform=move || viewport.get().transform()>
                    <Scene input />
                    {edge_handles}
                    {rubber}
                </g>
            </svg>
            <div class="canvas-tools" role="toolbar" aria-label="Canvas">
                {panel_button(ctx.palette_open, "palette", "toggle-palette")}
                <button
                    class="btn btn-small canvas-tool"
                    data-testid="toggle-snap"
                    aria-pressed=move || if ctx.snap.get() { "true" } else { "false" }
                    title="Snap nodes to the grid when placing and moving them"
                    on:click=move |_| ctx.snap.update(|s| *s = !*s)
                >
                    "Snap to grid"
                </button>
                {panel_button(ctx.side_open, "inspector", "toggle-inspector")}
                <Show when=move || { selected_count() > 1 }>
                    <span class="canvas-count" data-testid="selected-count">
                        {move || format!("{} nodes selected", selected_count())}
                    </span>
                </Show>
            </div>
            {keys.layer(ctx)}
            <Show when=empty>
                <div class="canvas-hint" data-testid="canvas-hint">
                    <strong>"An empty canvas"</strong>
                    <span>
                        "Drag a node type from the palette onto it, starting with "
                        <code>"start"</code>
                        ". Then drag from a port to a node to connect them."
                    </span>
                </div>
            </Show>
            {move || {
                ctx.notice
                    .get()
                    .map(|message| {
                        view! {
                            <div class="canvas-notice" role="alert" data-testid="canvas-notice">
                                {code_spans(&message)}
                            </div>
                        }
                    })
            }}
            {minimap(ctx.workflow, positions, viewport, view_size)}
            <ZoomControls zoom_by=Callback::new(zoom_by) fit=Callback::new(move |()| fit()) />
            {context_menu(menu, Callback::new(run))}
        </div>
        {ghost}
    }
}

/// Whether the person has selected some text on the page (which Ctrl+C then copies).
fn has_text_selection() -> bool {
    use js_sys::Reflect;
    let Some(window) = web_sys::window() else {
        return false;
    };
    Reflect::get(&window, &"getSelection".into())
        .ok()
        .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok())
        .and_then(|f| f.call0(&window).ok())
        .and_then(|sel| Reflect::get(&sel, &"isCollapsed".into()).ok())
        .is_some_and(|collapsed| collapsed.as_bool() == Some(false))
}

/// A type's icon on its colour, as in the nodes.
#[component]
fn PaletteIcon(type_name: &'static str) -> impl IntoView {
    let (d, filled) = look::icon(type_name);
    view! {
        <svg class="palette-icon" viewBox="0 0 16 16" style:background=look::colour(type_name)>
            <path
                d=d
                fill=if filled { "#fff" } else { "none" }
                stroke="#fff"
                stroke-width="1.6"
                stroke-linecap="round"
                stroke-linejoin="round"
            ></path>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn the_palette_search_matches_names_and_what_types_do() {
        assert!(matches("http", ""));
        assert!(matches("http", "HTT"));
        assert!(matches("approval", "person"), "by its blurb");
        assert!(!matches("timer", "http"));
        assert!(matches("map", " map "));
    }
}
