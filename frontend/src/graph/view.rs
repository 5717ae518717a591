//! The read-only graph: a run's page shows the workflow with each node's live state. It fits
//! itself to its box, pans by dragging, zooms with the wheel, and reports clicked nodes.
//!
//! Zoomed far out (a 60-node run fitted to its box), a card's small print is unreadable noise:
//! below [`FAR_SCALE`] the view is marked `wf-far` and the cards show only their label, at a
//! constant size on screen (the scale is given to the styles as `--k`). Further out still,
//! below [`TINY_SCALE`], not even a short label fits a card: the view is marked `wf-tiny`,
//! the cards are solid blocks in their state's colour, the label is on hover and a hint says
//! to zoom in (semantic zoom; the styles are in console.css).

use std::collections::HashMap;

use leptos::ev::{PointerEvent, WheelEvent};
use leptos::prelude::*;
use shared::model::Workflow;

use super::geometry::{Rect, Viewport, node_rect};
use super::hit::{Hit, hit, local_point, size};
use super::scene::{Flags, Scene, SceneInput, defs};
use super::{NodeDecor, layout};

/// The read-only view: fit to its box, pan/zoom allowed, click a node to select it.
#[component]
pub fn GraphView(
    workflow: Signal<Workflow>,
    decor: Signal<HashMap<String, NodeDecor>>,
    #[prop(into)] selected: Signal<Option<String>>,
    on_select: Callback<Option<String>>,
    /// A class per edge by index (the path a run took); none by default.
    #[prop(optional, into)]
    edge_class: Option<Signal<Vec<&'static str>>>,
) -> impl IntoView {
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let viewport = RwSignal::new(Viewport::default());
    let positions = Memo::new(move |_| workflow.with(layout));
    let bounds =
        move || workflow.with_untracked(|wf| positions.with_untracked(|at| content_bounds(wf, at)));
    // Also called a frame later: by then the view may be gone (its page left).
    let fit = move || {
        if let Some(Some(svg)) = svg_ref.try_get_untracked() {
            let (w, h) = size(&svg);
            viewport.try_set(Viewport::fit(bounds(), w, h));
        }
    };
    // Fit again whenever the set of nodes changes (a new workflow, or a first load).
    let node_ids = Memo::new(move |_| {
        workflow.with(|wf| wf.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>())
    });
    Effect::new(move |_| {
        node_ids.track();
        if svg_ref.get().is_some() {
            request_animation_frame(fit);
        }
    });
    // A window made narrower (or wider) would leave the graph cut off: fit it again.
    let on_resize = window_event_listener(leptos::ev::resize, move |_| fit());
    on_cleanup(move || on_resize.remove());

    // A background drag pans; a press and release without a drag selects.
    let drag: StoredValue<Option<Pan>> = StoredValue::new(None);
    let on_down = move |ev: PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let target = hit(ev.target());
        if let Some(svg) = svg_ref.get_untracked() {
            let _ = svg.set_pointer_capture(ev.pointer_id());
        }
        drag.set_value(Some(Pan {
            start: (ev.client_x() as f64, ev.client_y() as f64),
            from: viewport.get_untracked(),
            target,
            moved: false,
        }));
    };
    let on_move = move |ev: PointerEvent| {
        drag.update_value(|d| {
            if let Some(Pan {
                start, from, moved, ..
            }) = d
            {
                let dx = ev.client_x() as f64 - start.0;
                let dy = ev.client_y() as f64 - start.1;
                if *moved || dx.abs() + dy.abs() > 3.0 {
                    *moved = true;
                    viewport.set(Viewport {
                        x: from.x + dx,
                        y: from.y + dy,
                        k: from.k,
                    });
                }
            }
        });
    };
    let on_up = move |_: PointerEvent| {
        if let Some(Pan {
            target,
            moved: false,
            ..
        }) = drag.get_value()
        {
            match target {
                Hit::Node(id) | Hit::Port { node: id, .. } => on_select.run(Some(id)),
                Hit::Background => on_select.run(None),
                Hit::Edge(_) => {}
            }
        }
        drag.set_value(None);
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

    let input = SceneInput {
        workflow,
        positions: positions.into(),
        decor,
        selected_node: selected,
        selected_edge: Signal::derive(|| None),
        flags: Signal::derive(Flags::default),
        edge_class: edge_class.unwrap_or_else(|| Signal::derive(Vec::new)),
        focusable: false,
    };
    let far = move || viewport.with(|v| v.k < FAR_SCALE);
    let tiny = move || viewport.with(|v| v.k < TINY_SCALE);
    view! {
        <div
            class="wf-canvas wf-readonly"
            class:wf-far=far
            class:wf-tiny=tiny
            style:--k=move || format!("{:.4}", viewport.with(|v| v.k))
            data-testid="graph-view"
        >
            <svg
                node_ref=svg_ref
                class="wf-svg"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:wheel=on_wheel
            >
                {defs()}
                <g transform=move || viewport.get().transform()>
                    <Scene input />
                </g>
            </svg>
            <Show when=tiny>
                <p class="wf-tiny-hint" data-testid="zoom-hint">"Zoom in to read the labels"</p>
            </Show>
            <ZoomControls zoom_by=Callback::new(zoom_by) fit=Callback::new(move |()| fit()) />
        </div>
    }
}

/// Below this scale a card's details are too small to read: only its label shows, large.
pub const FAR_SCALE: f64 = 0.55;

/// Below this scale a card is narrower on screen than its short label at a readable size
/// (nine characters of 12 px): the label is left to the hover.
pub const TINY_SCALE: f64 = 0.4;

/// A press on the view: a drag pans, a release without a drag selects what was pressed.
#[derive(Debug, Clone)]
struct Pan {
    start: (f64, f64),
    from: Viewport,
    target: Hit,
    moved: bool,
}

/// How much one wheel notch zooms.
pub fn wheel_factor(delta_y: f64) -> f64 {
    if delta_y < 0.0 { 1.12 } else { 1.0 / 1.12 }
}

/// The box around every node, or `None` for an empty graph.
pub fn content_bounds(wf: &Workflow, at: &HashMap<String, (f64, f64)>) -> Option<Rect> {
    Rect::union(
        wf.nodes
            .iter()
            .filter_map(|n| at.get(&n.id).map(|p| node_rect(&n.kind, *p)))
            .map(|r| Rect {
                // Room for the port labels on the right.
                w: r.w + 60.0,
                ..r
            }),
    )
}

/// Zoom in, zoom out and fit, in the canvas's corner.
#[component]
pub fn ZoomControls(zoom_by: Callback<f64>, fit: Callback<()>) -> impl IntoView {
    view! {
        <div class="wf-zoom" role="group" aria-label="Zoom">
            <button
                class="wf-zoom-btn"
                title="Zoom in"
                aria-label="Zoom in"
                data-testid="zoom-in"
                on:click=move |_| zoom_by.run(1.25)
            >
                "+"
            </button>
            <button
                class="wf-zoom-btn"
                title="Zoom out"
                aria-label="Zoom out"
                data-testid="zoom-out"
                on:click=move |_| zoom_by.run(0.8)
            >
                "−"
            </button>
            <button
                class="wf-zoom-btn wf-zoom-fit"
                title="Fit to view"
                aria-label="Fit to view"
                data-testid="zoom-fit"
                on:click=move |_| fit.run(())
            >
                "Fit"
            </button>
        </div>
    }
}
