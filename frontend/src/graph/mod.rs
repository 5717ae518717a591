//! The workflow graph drawn in SVG: the designer edits it, a run's page shows it read-only with
//! each node's live state. One renderer, so a node looks the same in both places.
//!
//! # Layout
//! - [`layout`]: where nodes sit (their `position`, else a layered auto-layout).
//! - [`GraphView`]: the read-only view for a run's page, decorated per node by [`NodeDecor`].
//! - [`scene`]: the SVG drawing both views share; [`look`]: colours, icons, summaries;
//!   [`geometry`]: sizes, ports, curves, the viewport; [`hit`]: what a pointer landed on.
//! - [`describe`]: the words assistive technology reads for nodes and edges.
//! - [`editor`]: the designer's editing state (edits and the undo stack), free of the DOM.
//! - [`clip`]: copied nodes as clipboard JSON.

pub mod clip;
pub mod describe;
pub mod editor;
pub mod geometry;
pub mod hit;
pub mod layout;
pub mod look;
pub mod scene;
pub mod view;

pub use layout::{auto_layout, layout};
pub use view::{GraphView, ZoomControls, content_bounds, wheel_factor};

/// How a node is decorated on a run's page: a CSS class added to the node's `<g>` (e.g.
/// "state-running", "state-completed", "state-failed", "state-waiting", "state-retrying",
/// "state-skipped", "state-cancelled"), an optional small badge text (e.g. "2/3", "37/100"),
/// and, for a `map`, how far its children are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeDecor {
    pub class: String,
    pub badge: Option<String>,
    pub progress: Option<Progress>,
}

/// A `map` node's children as fractions (0..=1) of its items, drawn as a bar along the foot
/// of its card: so a map shows how far it is without selecting it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub completed: f64,
    pub failed: f64,
    /// Cancelled children, drawn as failed ones are, in grey.
    pub cancelled: f64,
    pub running: f64,
}
