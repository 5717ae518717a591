//! Where things are on the canvas: node boxes, port handles, edge curves, hit tests and the
//! viewport (pan and zoom). Pure arithmetic, shared by the renderer, the editor's gestures and
//! the auto-layout, so the three agree on every size.

use shared::model::NodeKind;

/// A node box's width.
pub const NODE_W: f64 = 172.0;
/// The height of a node with one or two output ports.
pub const NODE_H: f64 = 62.0;
/// The vertical distance between two output port handles.
pub const PORT_GAP: f64 = 18.0;

/// A node box's height: taller when it has more ports than fit beside the text.
pub fn node_height(kind: &NodeKind) -> f64 {
    let ports = kind.ports().len() as f64;
    NODE_H.max(PORT_GAP * ports + 18.0)
}

/// The offsets (from the node's top-left) of each output port handle, in the type's order.
pub fn port_offsets(kind: &NodeKind) -> Vec<(&'static str, (f64, f64))> {
    let ports = kind.ports();
    let h = node_height(kind);
    let n = ports.len() as f64;
    let top = h / 2.0 - PORT_GAP * (n - 1.0) / 2.0;
    ports
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, (NODE_W, top + PORT_GAP * i as f64)))
        .collect()
}

/// Where a node's output port sits on the canvas; an unknown port leaves from the right middle.
pub fn port_point(kind: &NodeKind, at: (f64, f64), port: &str) -> (f64, f64) {
    let offset = port_offsets(kind)
        .into_iter()
        .find(|(name, _)| *name == port)
        .map_or((NODE_W, node_height(kind) / 2.0), |(_, o)| o);
    (at.0 + offset.0, at.1 + offset.1)
}

/// Where edges enter a node: the middle of its left side.
pub fn input_point(kind: &NodeKind, at: (f64, f64)) -> (f64, f64) {
    (at.0, at.1 + node_height(kind) / 2.0)
}

/// An edge's cubic curve (start, two control points, end): a horizontal S-curve from a port
/// to an input. An edge that goes back left leaves and enters with short fixed bends, so it
/// loops close to its nodes.
pub fn edge_curve(from: (f64, f64), to: (f64, f64)) -> [(f64, f64); 4] {
    let dx = if to.0 >= from.0 {
        ((to.0 - from.0) / 2.0).max(48.0)
    } else {
        64.0 + (to.1 - from.1).abs().min(240.0) / 6.0
    };
    [from, (from.0 + dx, from.1), (to.0 - dx, to.1), to]
}

/// An edge's SVG path (see [`edge_curve`]).
pub fn edge_path(from: (f64, f64), to: (f64, f64)) -> String {
    let [a, b, c, d] = edge_curve(from, to);
    format!(
        "M{:.1} {:.1} C{:.1} {:.1} {:.1} {:.1} {:.1} {:.1}",
        a.0, a.1, b.0, b.1, c.0, c.1, d.0, d.1
    )
}

/// The point at `t` (0..=1) along an edge's curve.
pub fn edge_point(from: (f64, f64), to: (f64, f64), t: f64) -> (f64, f64) {
    let [a, b, c, d] = edge_curve(from, to);
    let u = 1.0 - t;
    let mix = |a: f64, b: f64, c: f64, d: f64| {
        u * u * u * a + 3.0 * u * u * t * b + 3.0 * u * t * t * c + t * t * t * d
    };
    (mix(a.0, b.0, c.0, d.0), mix(a.1, b.1, c.1, d.1))
}

/// How far `p` is from an edge's curve (measured at 32 points along it): what a node dropped
/// on an edge is tested with.
pub fn distance_to_edge(p: (f64, f64), from: (f64, f64), to: (f64, f64)) -> f64 {
    (0..=32)
        .map(|i| {
            let q = edge_point(from, to, f64::from(i) / 32.0);
            (q.0 - p.0).hypot(q.1 - p.1)
        })
        .fold(f64::INFINITY, f64::min)
}

/// The step of the snapping grid, the same as the canvas's dotted background.
pub const GRID: f64 = 20.0;

/// `p` on the nearest grid point.
pub fn snap(p: (f64, f64)) -> (f64, f64) {
    ((p.0 / GRID).round() * GRID, (p.1 / GRID).round() * GRID)
}

/// How far to pan the view this frame while a drag holds the pointer at `p` (view pixels)
/// in a `w`×`h` view: nothing in the middle, faster the closer the pointer is to a border
/// (within [`AUTO_PAN_ZONE`]), so a node or an edge can be dragged past what is shown.
pub fn auto_pan(p: (f64, f64), w: f64, h: f64) -> (f64, f64) {
    let axis = |v: f64, size: f64| {
        let speed = |depth: f64| (depth / AUTO_PAN_ZONE).clamp(0.0, 1.0) * AUTO_PAN_SPEED;
        if v < AUTO_PAN_ZONE {
            speed(AUTO_PAN_ZONE - v)
        } else if v > size - AUTO_PAN_ZONE {
            -speed(v - (size - AUTO_PAN_ZONE))
        } else {
            0.0
        }
    };
    (axis(p.0, w), axis(p.1, h))
}

/// The band along the view's border where a drag pans the view.
pub const AUTO_PAN_ZONE: f64 = 40.0;
/// The fastest auto-pan, in view pixels per frame.
const AUTO_PAN_SPEED: f64 = 14.0;

/// An axis-aligned rectangle on the canvas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.x && p.0 <= self.x + self.w && p.1 >= self.y && p.1 <= self.y + self.h
    }

    /// The rectangle with corners `a` and `b`, in any order (a rubber band).
    pub fn from_corners(a: (f64, f64), b: (f64, f64)) -> Rect {
        Rect {
            x: a.0.min(b.0),
            y: a.1.min(b.1),
            w: (a.0 - b.0).abs(),
            h: (a.1 - b.1).abs(),
        }
    }

    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }

    /// The smallest rectangle holding all of `rects`; `None` when there are none.
    pub fn union(rects: impl IntoIterator<Item = Rect>) -> Option<Rect> {
        rects.into_iter().reduce(|a, b| {
            let x = a.x.min(b.x);
            let y = a.y.min(b.y);
            Rect {
                x,
                y,
                w: (a.x + a.w).max(b.x + b.w) - x,
                h: (a.y + a.h).max(b.y + b.h) - y,
            }
        })
    }
}

/// The top-left corner nearest `at` (on a grid of node-sized steps around it) where a new
/// node's box overlaps none of `taken`; `at` itself when the rings are all full.
pub fn free_spot(taken: &[Rect], at: (f64, f64), h: f64) -> (f64, f64) {
    let (step_x, step_y) = (NODE_W + 48.0, NODE_H + 32.0);
    for ring in 0i32..8 {
        for dy in -ring..=ring {
            for dx in -ring..=ring {
                if dx.abs().max(dy.abs()) != ring {
                    continue;
                }
                let spot = (at.0 + dx as f64 * step_x, at.1 + dy as f64 * step_y);
                let rect = Rect {
                    x: spot.0 - 16.0,
                    y: spot.1 - 12.0,
                    w: NODE_W + 32.0,
                    h: h + 24.0,
                };
                if !taken.iter().any(|t| t.overlaps(&rect)) {
                    return spot;
                }
            }
        }
    }
    at
}

/// A node's box at `at`.
pub fn node_rect(kind: &NodeKind, at: (f64, f64)) -> Rect {
    Rect {
        x: at.0,
        y: at.1,
        w: NODE_W,
        h: node_height(kind),
    }
}

/// How the canvas is shown: screen = canvas × `k` + (`x`, `y`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub k: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            x: 0.0,
            y: 0.0,
            k: 1.0,
        }
    }
}

/// The zoom range: far enough out for big graphs, close enough in to read small text.
pub const ZOOM_MIN: f64 = 0.1;
pub const ZOOM_MAX: f64 = 2.5;

impl Viewport {
    /// The SVG `transform` of the layer that holds the graph.
    pub fn transform(&self) -> String {
        format!(
            "translate({:.2} {:.2}) scale({:.4})",
            self.x, self.y, self.k
        )
    }

    /// A point of the view box (pixels from its top-left) in canvas coordinates.
    pub fn to_canvas(&self, p: (f64, f64)) -> (f64, f64) {
        ((p.0 - self.x) / self.k, (p.1 - self.y) / self.k)
    }

    /// Zooms by `factor` keeping the canvas point under `p` (view pixels) where it is.
    pub fn zoom_at(self, factor: f64, p: (f64, f64)) -> Viewport {
        let k = (self.k * factor).clamp(ZOOM_MIN, ZOOM_MAX);
        let c = self.to_canvas(p);
        Viewport {
            x: p.0 - c.0 * k,
            y: p.1 - c.1 * k,
            k,
        }
    }

    /// Shows all of `content` centred in a `w`×`h` box with a margin, never zoomed in past 1.
    pub fn fit(content: Option<Rect>, w: f64, h: f64) -> Viewport {
        Viewport::fit_readable(content, w, h, ZOOM_MIN)
    }

    /// Like [`Viewport::fit`], but never zoomed out past `min_k`, where text stays readable:
    /// content that is then too big starts at the box's top-left corner instead of its centre.
    pub fn fit_readable(content: Option<Rect>, w: f64, h: f64, min_k: f64) -> Viewport {
        let Some(r) = content else {
            return Viewport::default();
        };
        const MARGIN: f64 = 48.0;
        let k = ((w - 2.0 * MARGIN) / r.w)
            .min((h - 2.0 * MARGIN) / r.h)
            .clamp(min_k.max(ZOOM_MIN), 1.0);
        let place = |size: f64, start: f64, room: f64| {
            if size * k + 2.0 * MARGIN <= room {
                (room - size * k) / 2.0 - start * k
            } else {
                MARGIN / 2.0 - start * k
            }
        };
        Viewport {
            x: place(r.w, r.x, w),
            y: place(r.h, r.y, h),
            k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::{ApprovalNode, Empty};

    #[test]
    fn ports_are_spread_on_the_right_edge() {
        let approval = NodeKind::Approval(ApprovalNode {
            prompt: "ok?".into(),
            ..ApprovalNode::default()
        });
        let ports = port_offsets(&approval);
        assert_eq!(
            ports.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["approved", "rejected", "timeout"]
        );
        let h = node_height(&approval);
        assert!(
            ports
                .iter()
                .all(|(_, (x, y))| *x == NODE_W && *y > 0.0 && *y < h)
        );
        let start = NodeKind::Start(Empty {});
        assert_eq!(port_offsets(&start), vec![("next", (NODE_W, NODE_H / 2.0))]);
    }

    #[test]
    fn a_free_spot_avoids_every_node() {
        let taken = [Rect {
            x: 0.0,
            y: 0.0,
            w: NODE_W,
            h: NODE_H,
        }];
        assert_eq!(free_spot(&[], (5.0, 5.0), NODE_H), (5.0, 5.0));
        let spot = free_spot(&taken, (10.0, 10.0), NODE_H);
        let rect = Rect {
            x: spot.0,
            y: spot.1,
            w: NODE_W,
            h: NODE_H,
        };
        assert!(!rect.overlaps(&taken[0]));
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let v = Viewport {
            x: 10.0,
            y: 20.0,
            k: 1.0,
        };
        let before = v.to_canvas((300.0, 200.0));
        let after = v.zoom_at(1.5, (300.0, 200.0)).to_canvas((300.0, 200.0));
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
    }

    #[test]
    fn a_readable_fit_starts_big_content_at_the_corner() {
        let r = Rect {
            x: 0.0,
            y: 0.0,
            w: 4000.0,
            h: 100.0,
        };
        let v = Viewport::fit_readable(Some(r), 800.0, 600.0, 0.6);
        assert_eq!(v.k, 0.6);
        assert_eq!(v.x, 24.0);
        assert!(Viewport::fit(Some(r), 800.0, 600.0).k < 0.6);
    }

    #[test]
    fn snapping_auto_pan_and_edge_distance() {
        assert_eq!(snap((29.0, -11.0)), (20.0, -20.0));
        assert_eq!(auto_pan((400.0, 300.0), 800.0, 600.0), (0.0, 0.0));
        let (dx, dy) = auto_pan((2.0, 300.0), 800.0, 600.0);
        assert!(
            dx > 10.0 && dy == 0.0,
            "near the left: the view moves right"
        );
        let (dx, dy) = auto_pan((799.0, 599.0), 800.0, 600.0);
        assert!(dx < -10.0 && dy < -10.0);
        let (a, b) = ((0.0, 0.0), (200.0, 0.0));
        assert!(distance_to_edge((100.0, 3.0), a, b) < 4.0);
        assert!(distance_to_edge((100.0, 60.0), a, b) > 50.0);
        assert_eq!(edge_point(a, b, 0.5), (100.0, 0.0));
        let r = Rect::from_corners((10.0, 50.0), (0.0, 20.0));
        assert_eq!((r.x, r.y, r.w, r.h), (0.0, 20.0, 10.0, 30.0));
    }

    #[test]
    fn fit_centres_the_content() {
        let r = Rect {
            x: 100.0,
            y: 100.0,
            w: 200.0,
            h: 100.0,
        };
        let v = Viewport::fit(Some(r), 800.0, 600.0);
        assert_eq!(v.k, 1.0);
        let centre = v.to_canvas((400.0, 300.0));
        assert_eq!(centre, (200.0, 150.0));
    }
}
