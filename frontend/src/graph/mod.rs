//! The workflow graph drawn in SVG: the designer edits it, a run's page shows it read-only with
//! each node's live state. One renderer, so a node looks the same in both places.
