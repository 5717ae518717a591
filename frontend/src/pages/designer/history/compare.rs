//! Two versions drawn as one graph, free of the DOM: the newer version's nodes and edges, with
//! the older one's removed nodes and edges put back where they were, and the marks the canvas
//! draws on each (a class and a badge per node, a class per edge).

use std::collections::HashMap;

use shared::diff::{Change, WorkflowDiff, diff};
use shared::model::{Position, Workflow};

use crate::graph::NodeDecor;
use crate::graph::geometry::{Rect, free_spot, node_height, node_rect};
use crate::graph::layout;

/// Two versions compared: what the canvas draws and what changed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Compared {
    /// The newer version plus the older one's removed nodes (at their old place, or the
    /// nearest free one when a newer node sits there now) and removed edges, after its own.
    pub(super) graph: Workflow,
    pub(super) diff: WorkflowDiff,
}

/// Compares `older` with `newer` (by version number or not: "older" is the side compared from).
pub(super) fn compare(older: &Workflow, newer: &Workflow) -> Compared {
    let diff = diff(older, newer);
    let mut graph = newer.clone();
    // Every node gets an explicit position, so the removed ones added below cannot change
    // where an auto-laid-out newer node is drawn.
    let new_at = layout(newer);
    for n in &mut graph.nodes {
        if let Some(&(x, y)) = new_at.get(&n.id) {
            n.position = Some(Position { x, y });
        }
    }
    let old_at = layout(older);
    let mut taken: Vec<Rect> = graph
        .nodes
        .iter()
        .filter_map(|n| n.position.map(|p| node_rect(&n.kind, (p.x, p.y))))
        .collect();
    for gone in diff.nodes.iter().filter(|n| n.change == Change::Removed) {
        let Some(old) = older.node(&gone.id) else {
            continue;
        };
        let wanted = old_at.get(&gone.id).copied().unwrap_or_default();
        let (x, y) = free_spot(&taken, wanted, node_height(&old.kind));
        let mut node = old.clone();
        node.position = Some(Position { x, y });
        taken.push(node_rect(&node.kind, (x, y)));
        graph.nodes.push(node);
    }
    graph.edges.extend(
        diff.edges
            .iter()
            .filter(|e| e.change == Change::Removed)
            .map(|e| e.edge.clone()),
    );
    Compared { graph, diff }
}

/// The word a changed node's badge and the legend say.
pub(super) fn word(change: Change) -> &'static str {
    match change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
        Change::Moved => "moved",
        Change::Unchanged => "unchanged",
    }
}

/// Each node that differs: a `diff-<word>` class (its colour) and a badge with the word, so
/// the colour is never the only sign.
pub(super) fn decor(diff: &WorkflowDiff) -> HashMap<String, NodeDecor> {
    diff.nodes
        .iter()
        .filter(|n| n.change != Change::Unchanged)
        .map(|n| {
            (
                n.id.clone(),
                NodeDecor {
                    class: format!("diff-{}", word(n.change)),
                    badge: Some(word(n.change).to_owned()),
                    progress: None,
                },
            )
        })
        .collect()
}

/// A class per edge of [`Compared::graph`], whose edges are in the diff's order.
pub(super) fn edge_classes(diff: &WorkflowDiff) -> Vec<&'static str> {
    diff.edges
        .iter()
        .map(|e| match e.change {
            Change::Added => "diff-added",
            Change::Removed => "diff-removed",
            _ => "",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::diff::Change;
    use shared::validate::parse;

    use super::{compare, decor, edge_classes};
    use crate::graph::layout;

    fn older() -> shared::model::Workflow {
        parse(&json!({"name": "w", "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {"id": "old", "type": "transform", "output": 1, "position": {"x": 240, "y": 0}},
            {"id": "keep", "type": "transform", "output": 1, "position": {"x": 480, "y": 0}}
        ], "edges": [
            {"from": "start", "to": "old"}, {"from": "old", "to": "keep"}
        ]}))
        .expect("older")
    }

    fn newer() -> shared::model::Workflow {
        // `new` takes the removed node's place; `keep` changed.
        parse(&json!({"name": "w", "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {"id": "new", "type": "transform", "output": 2, "position": {"x": 240, "y": 0}},
            {"id": "keep", "type": "transform", "output": 3, "position": {"x": 480, "y": 0}}
        ], "edges": [
            {"from": "start", "to": "new"}, {"from": "new", "to": "keep"}
        ]}))
        .expect("newer")
    }

    #[test]
    fn removed_nodes_and_edges_come_back_beside_the_newer_graph() {
        let c = compare(&older(), &newer());
        let ids: Vec<&str> = c.graph.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["start", "new", "keep", "old"]);
        // The removed node's place is taken by `new`: it moves to a free spot instead.
        let at = layout(&c.graph);
        assert_eq!(at["new"], (240.0, 0.0));
        assert_ne!(at["old"], (240.0, 0.0));
        assert_eq!(c.graph.edges.len(), 4, "two kept or added, two removed");
        assert_eq!(
            edge_classes(&c.diff),
            vec!["diff-added", "diff-added", "diff-removed", "diff-removed"]
        );
    }

    #[test]
    fn each_node_that_differs_is_marked_with_a_class_and_a_word() {
        let c = compare(&older(), &newer());
        let marks = decor(&c.diff);
        let mut got: Vec<(&str, &str, Option<&str>)> = marks
            .iter()
            .map(|(id, d)| (id.as_str(), d.class.as_str(), d.badge.as_deref()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("keep", "diff-changed", Some("changed")),
                ("new", "diff-added", Some("added")),
                ("old", "diff-removed", Some("removed")),
            ]
        );
        assert_eq!(c.diff.count(Change::Unchanged), 1, "start");
    }
}
