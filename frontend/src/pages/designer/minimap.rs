//! The minimap: the whole graph small in the canvas's corner, with the part in view outlined.
//! A click or a drag on it moves the view there, so a big graph is crossed in one gesture.

use std::collections::HashMap;

use leptos::ev::PointerEvent;
use leptos::prelude::*;
use shared::model::Workflow;

use crate::graph::content_bounds;
use crate::graph::geometry::{Rect, Viewport, node_rect};
use crate::graph::hit::{local_point, size as box_size};

/// The minimap's drawing size (its `viewBox`; the styles may show it smaller).
const W: f64 = 180.0;
const H: f64 = 112.0;

/// What the minimap shows: the graph's box and the view's, and the scale that fits both.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Frame {
    world: Rect,
    scale: f64,
}

impl Frame {
    fn new(content: Option<Rect>, view: Rect) -> Frame {
        let world = Rect::union(content.into_iter().chain([view])).unwrap_or(view);
        let pad = 40.0;
        let world = Rect {
            x: world.x - pad,
            y: world.y - pad,
            w: world.w + 2.0 * pad,
            h: world.h + 2.0 * pad,
        };
        let scale = (W / world.w).min(H / world.h);
        Frame { world, scale }
    }

    /// A canvas point on the minimap.
    fn to_map(self, p: (f64, f64)) -> (f64, f64) {
        (
            (p.0 - self.world.x) * self.scale,
            (p.1 - self.world.y) * self.scale,
        )
    }

    /// A minimap point on the canvas.
    fn to_canvas(self, p: (f64, f64)) -> (f64, f64) {
        (
            p.0 / self.scale + self.world.x,
            p.1 / self.scale + self.world.y,
        )
    }
}

/// The part of the canvas a `w`×`h` view shows.
fn visible(v: Viewport, (w, h): (f64, f64)) -> Rect {
    let (x, y) = v.to_canvas((0.0, 0.0));
    Rect {
        x,
        y,
        w: w / v.k,
        h: h / v.k,
    }
}

/// The minimap of `workflow`, moving `viewport` (of a view `size` pixels big).
pub(super) fn minimap(
    workflow: Memo<Workflow>,
    positions: Memo<HashMap<String, (f64, f64)>>,
    viewport: RwSignal<Viewport>,
    size: RwSignal<(f64, f64)>,
) -> impl IntoView {
    let frame = Memo::new(move |_| {
        let content = workflow.with(|wf| positions.with(|at| content_bounds(wf, at)));
        Frame::new(content, visible(viewport.get(), size.get()))
    });
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let dragging = StoredValue::new(false);
    // Centres the view on the canvas point under the pointer.
    let go = move |ev: &PointerEvent| {
        let Some(svg) = svg_ref.get_untracked() else {
            return;
        };
        let p = local_point(&svg, (f64::from(ev.client_x()), f64::from(ev.client_y())));
        // From the pixels shown to the drawing's units.
        let (w, _) = box_size(&svg);
        let p = if w > 0.0 {
            (p.0 * W / w, p.1 * W / w)
        } else {
            p
        };
        let c = frame.get_untracked().to_canvas(p);
        let (w, h) = size.get_untracked();
        viewport.update(|v| {
            v.x = w / 2.0 - c.0 * v.k;
            v.y = h / 2.0 - c.1 * v.k;
        });
    };
    let nodes = move || {
        let f = frame.get();
        workflow.with(|wf| {
            positions.with(|at| {
                wf.nodes
                    .iter()
                    .filter_map(|n| {
                        let r = node_rect(&n.kind, *at.get(&n.id)?);
                        let (x, y) = f.to_map((r.x, r.y));
                        Some(view! {
                            <rect
                                class="minimap-node"
                                x=x
                                y=y
                                width=r.w * f.scale
                                height=r.h * f.scale
                                rx="1.5"
                            ></rect>
                        })
                    })
                    .collect_view()
            })
        })
    };
    let view_rect = move || {
        let f = frame.get();
        let r = visible(viewport.get(), size.get());
        let (x, y) = f.to_map((r.x, r.y));
        view! {
            <rect
                class="minimap-view"
                data-testid="minimap-view"
                x=x
                y=y
                width=r.w * f.scale
                height=r.h * f.scale
            ></rect>
        }
    };
    view! {
        <svg
            node_ref=svg_ref
            class="minimap"
            viewBox=format!("0 0 {W} {H}")
            role="img"
            aria-label="Minimap: click or drag to move the view"
            data-testid="minimap"
            on:pointerdown=move |ev: PointerEvent| {
                if ev.button() == 0 {
                    ev.prevent_default();
                    ev.stop_propagation();
                    if let Some(svg) = svg_ref.get_untracked() {
                        let _ = svg.set_pointer_capture(ev.pointer_id());
                    }
                    dragging.set_value(true);
                    go(&ev);
                }
            }
            on:pointermove=move |ev: PointerEvent| {
                if dragging.get_value() {
                    go(&ev);
                }
            }
            on:pointerup=move |_| dragging.set_value(false)
        >
            <title>"Minimap: click or drag to move the view"</title>
            {nodes}
            {view_rect}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_holds_the_graph_and_the_view_and_maps_both_ways() {
        let content = Rect {
            x: 0.0,
            y: 0.0,
            w: 2000.0,
            h: 400.0,
        };
        let view = visible(
            Viewport {
                x: 0.0,
                y: 0.0,
                k: 1.0,
            },
            (800.0, 600.0),
        );
        let f = Frame::new(Some(content), view);
        let far = f.to_map((2000.0, 600.0));
        assert!(far.0 <= W + 1e-9 && far.1 <= H + 1e-9);
        let back = f.to_canvas(f.to_map((123.0, 45.0)));
        assert!((back.0 - 123.0).abs() < 1e-9 && (back.1 - 45.0).abs() < 1e-9);
    }
}
