//! The palette and the editable canvas. One set of window-level pointer handlers runs every
//! gesture: drag a type from the palette onto the canvas, move a node, drag from a port to a
//! node to connect them, drag the background to pan; the wheel zooms.

use leptos::ev::{self, MouseEvent, PointerEvent, WheelEvent};
use leptos::prelude::*;
use shared::Severity;
use shared::model::{NODE_TYPES, Workflow};

use super::{Ctx, Selection};
use crate::components::code_text::code_spans;
use crate::graph::geometry::{
    NODE_H, NODE_W, Rect, Viewport, ZOOM_MIN, edge_path, free_spot, node_rect, port_point,
};
use crate::graph::hit::{Hit, hit, local_point, size};
use crate::graph::scene::{Flags, Scene, SceneInput, defs};
use crate::graph::{ZoomControls, content_bounds, layout, look, wheel_factor};

/// A gesture in progress, from pointer down to pointer up.
#[derive(Debug, Clone)]
enum Gesture {
    Pan {
        start: (f64, f64),
        from: Viewport,
    },
    /// Moving a node; `grab` is where in the node it was taken, `before` the undo point.
    Move {
        id: String,
        grab: (f64, f64),
        before: Workflow,
    },
    /// Dragging a new edge out of a port; `at` follows the pointer on the canvas.
    Connect {
        from: String,
        port: String,
        at: (f64, f64),
    },
    /// A palette type on its way to the canvas (or a click on it, if it never moved).
    Place {
        type_name: &'static str,
        client: (f64, f64),
        moved: bool,
    },
}

/// The smallest zoom the designer opens at: node text stays readable.
const READABLE_ZOOM: f64 = 0.6;

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

/// The palette on the left and the canvas beside it.
pub(super) fn workspace(ctx: Ctx) -> impl IntoView {
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let viewport = RwSignal::new(Viewport::default());
    let gesture = RwSignal::new(None::<Gesture>);
    let positions = Memo::new(move |_| ctx.workflow.with(layout));
    let outline = Memo::new(move |_| {
        let mut all = ctx.findings.get();
        all.extend(ctx.server_findings.get().unwrap_or_default());
        flags(&all)
    });

    // Fit shows everything; the first view on opening keeps the text readable instead.
    let fit_to = move |min_k: f64| {
        if let Some(svg) = svg_ref.get_untracked() {
            let (w, h) = size(&svg);
            let bounds = ctx
                .workflow
                .with_untracked(|wf| positions.with_untracked(|at| content_bounds(wf, at)));
            viewport.set(Viewport::fit_readable(bounds, w, h, min_k));
        }
    };
    let fit = move || fit_to(ZOOM_MIN);
    let fitted = StoredValue::new(false);
    Effect::new(move |_| {
        if svg_ref.get().is_some() && !fitted.get_value() {
            fitted.set_value(true);
            request_animation_frame(move || fit_to(READABLE_ZOOM));
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
    let add = move |type_name: &str, at: (f64, f64)| {
        let at = (at.0 - NODE_W / 2.0, at.1 - NODE_H / 2.0);
        match ctx.editor.try_update(|e| e.add_node(type_name, at)) {
            Some(Ok(id)) => ctx.selection.set(Selection::Node(id)),
            Some(Err(e)) => ctx.notice.set(Some(e.to_string())),
            None => {}
        }
    };
    // A click on a palette entry (or Enter on it) adds the type in the middle of the view,
    // or at the nearest spot there where it hides no other node.
    let add_in_view = move |type_name: &str| {
        if let Some(svg) = svg_ref.get_untracked() {
            let (w, h) = size(&svg);
            let centre = viewport.get_untracked().to_canvas((w / 2.0, h / 2.0));
            let taken: Vec<Rect> = ctx.workflow.with_untracked(|wf| {
                positions.with_untracked(|at| {
                    wf.nodes
                        .iter()
                        .filter_map(|n| at.get(&n.id).map(|p| node_rect(&n.kind, *p)))
                        .collect()
                })
            });
            let wanted = (centre.0 - NODE_W / 2.0, centre.1 - NODE_H / 2.0);
            let corner = free_spot(&taken, wanted, NODE_H);
            add(
                type_name,
                (corner.0 + NODE_W / 2.0, corner.1 + NODE_H / 2.0),
            );
        }
    };

    let on_down = move |ev: PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        ctx.notice.set(None);
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        let Some(p) = to_canvas(client) else { return };
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
                let Some(at) = positions.with_untracked(|at| at.get(&id).copied()) else {
                    return;
                };
                ctx.selection.set(Selection::Node(id.clone()));
                let before = ctx.editor.with_untracked(|e| e.begin_gesture());
                gesture.set(Some(Gesture::Move {
                    id,
                    grab: (p.0 - at.0, p.1 - at.1),
                    before,
                }));
            }
            Hit::Edge(i) => ctx.selection.set(Selection::Edge(i)),
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
        let Some(g) = gesture.get_untracked() else {
            return;
        };
        match g {
            Gesture::Pan { start, from } => viewport.set(Viewport {
                x: from.x + client.0 - start.0,
                y: from.y + client.1 - start.1,
                k: from.k,
            }),
            Gesture::Move { id, grab, .. } => {
                if let Some(p) = to_canvas(client) {
                    ctx.editor
                        .update(|e| e.move_node_live(&id, (p.0 - grab.0, p.1 - grab.1)));
                }
            }
            Gesture::Connect { .. } => {
                if let Some(p) = to_canvas(client) {
                    gesture.update(|g| {
                        if let Some(Gesture::Connect { at, .. }) = g {
                            *at = p;
                        }
                    });
                }
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
    });
    let ups = window_event_listener(ev::pointerup, move |ev: PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        let Some(g) = gesture.get_untracked() else {
            return;
        };
        gesture.set(None);
        match g {
            Gesture::Pan { .. } => {}
            Gesture::Move { before, .. } => ctx.editor.update(|e| e.end_gesture(before)),
            Gesture::Connect { from, port, .. } => {
                let Some(p) = to_canvas(client) else { return };
                let target = ctx.workflow.with_untracked(|wf| {
                    positions.with_untracked(|at| {
                        wf.nodes
                            .iter()
                            .rev()
                            .find(|n| {
                                at.get(&n.id)
                                    .is_some_and(|pos| node_rect(&n.kind, *pos).contains(p))
                            })
                            .map(|n| n.id.clone())
                    })
                });
                let Some(to) = target else { return };
                match ctx.editor.try_update(|e| e.connect(&from, &port, &to)) {
                    Some(Ok(i)) => ctx.selection.set(Selection::Edge(i)),
                    Some(Err(e)) => ctx.notice.set(Some(e.to_string())),
                    None => {}
                }
            }
            Gesture::Place {
                type_name, moved, ..
            } => {
                if !moved {
                    add_in_view(type_name);
                } else if over_canvas(client)
                    && let Some(p) = to_canvas(client)
                {
                    add(type_name, p);
                }
            }
        }
    });
    on_cleanup(move || {
        moves.remove();
        ups.remove();
    });

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

    let rubber = move || {
        gesture.with(|g| match g {
            Some(Gesture::Connect { from, port, at }) => {
                let start = ctx.workflow.with(|wf| {
                    let node = wf.node(from)?;
                    let pos = positions.with(|p| p.get(from).copied())?;
                    Some(port_point(&node.kind, pos, port))
                })?;
                Some(view! { <path class="wf-rubber" d=edge_path(start, *at)></path> })
            }
            _ => None,
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
    let selected_node = Signal::derive(move || match ctx.selection.get() {
        Selection::Node(id) => Some(id),
        _ => None,
    });
    let selected_edge = Signal::derive(move || match ctx.selection.get() {
        Selection::Edge(i) => Some(i),
        _ => None,
    });
    let input = SceneInput {
        workflow: ctx.workflow.into(),
        positions: positions.into(),
        decor: Signal::derive(Default::default),
        selected_node,
        selected_edge,
        flags: outline.into(),
        edge_class: Signal::derive(Vec::new),
    };
    let empty = move || ctx.workflow.with(|wf| wf.nodes.is_empty());

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
    view! {
        <nav class="palette" aria-label="Node types" data-testid="palette">
            <h2 class="side-title">"Nodes"</h2>
            <input
                class="input palette-search"
                type="search"
                placeholder="Search nodes"
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
                            title=format!("Drag onto the canvas, or click to add: {}", blurb(type_name))
                            on:pointerdown=move |ev: PointerEvent| {
                                if ev.button() == 0 {
                                    ev.prevent_default();
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
        <div class="wf-canvas designer-canvas" data-testid="canvas">
            <svg node_ref=svg_ref class="wf-svg" on:pointerdown=on_down on:wheel=on_wheel>
                {defs()}
                <g transform=move || viewport.get().transform()>
                    <Scene input />
                    {rubber}
                </g>
            </svg>
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
            <ZoomControls zoom_by=Callback::new(zoom_by) fit=Callback::new(move |()| fit()) />
        </div>
        {ghost}
    }
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
