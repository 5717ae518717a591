//! What changed between two versions of a workflow: nodes matched by id (added, removed,
//! changed, moved), each changed node's fields one by one, edges added and removed, and the
//! workflow's own settings. The designer draws it on the canvas; it is here, free of the DOM,
//! so it tests natively and the server can use the same matching (SPEC §8: migrating runs
//! by graph diff, nodes matched by id).
//!
//! Nodes are compared as their JSON, so every field the model has is covered without a list
//! to keep in step. `position` only says where the editor draws a node: a node whose only
//! difference is its position is [`Change::Moved`], not changed, and a changed node's
//! fields never list its position.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::model::{Edge, Node, Workflow};

/// What happened to a node or an edge from the older version to the newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
    /// In both, with some field other than `position` different.
    Changed,
    /// In both, the same but for its `position`.
    Moved,
    Unchanged,
}

/// One field that differs, by its path in the node's (or the workflow's) JSON:
/// `request.url`, `retry.max_attempts`, `request.headers.X-Key`, `input.items[2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: String,
    /// The older value; `None` when the field was added.
    pub before: Option<Value>,
    /// The newer value; `None` when the field was removed.
    pub after: Option<Value>,
}

/// A node of either version and what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDiff {
    pub id: String,
    pub change: Change,
    /// For [`Change::Changed`], every field that differs (never `position`); empty otherwise.
    pub fields: Vec<FieldChange>,
}

/// An edge of either version: kept ([`Change::Unchanged`]), [`Change::Added`] or
/// [`Change::Removed`]. Edges are known by `from`, `port` and `to`, so a retargeted edge is
/// one removed and one added.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeDiff {
    pub edge: Edge,
    pub change: Change,
}

/// Everything that differs between two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDiff {
    /// The newer version's nodes in its order, then the removed ones in the older's order.
    pub nodes: Vec<NodeDiff>,
    /// The newer version's edges in its order, then the removed ones in the older's order.
    pub edges: Vec<EdgeDiff>,
    /// The workflow's own fields that differ (`description`, `timeout`, `input_schema`, …).
    pub settings: Vec<FieldChange>,
}

impl WorkflowDiff {
    /// What happened to node `id`, if either version has it.
    pub fn node(&self, id: &str) -> Option<&NodeDiff> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// How many nodes had `change`.
    pub fn count(&self, change: Change) -> usize {
        self.nodes.iter().filter(|n| n.change == change).count()
    }

    /// Whether the two versions differ in anything but node positions.
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty()
            && self
                .nodes
                .iter()
                .all(|n| matches!(n.change, Change::Unchanged | Change::Moved))
            && self.edges.iter().all(|e| e.change == Change::Unchanged)
    }
}

/// What changed from `before` (the older version) to `after`.
pub fn diff(before: &Workflow, after: &Workflow) -> WorkflowDiff {
    let mut nodes: Vec<NodeDiff> = after
        .nodes
        .iter()
        .map(|new| match before.node(&new.id) {
            None => NodeDiff {
                id: new.id.clone(),
                change: Change::Added,
                fields: Vec::new(),
            },
            Some(old) => compare_nodes(old, new),
        })
        .collect();
    nodes.extend(
        before
            .nodes
            .iter()
            .filter(|old| after.node(&old.id).is_none())
            .map(|old| NodeDiff {
                id: old.id.clone(),
                change: Change::Removed,
                fields: Vec::new(),
            }),
    );

    // Each older edge pairs with one equal newer edge at most (duplicates count apart).
    let mut unmatched_old: Vec<Option<&Edge>> = before.edges.iter().map(Some).collect();
    let mut edges: Vec<EdgeDiff> = after
        .edges
        .iter()
        .map(|e| {
            let kept = unmatched_old
                .iter_mut()
                .find(|old| *old == &Some(e))
                .map(Option::take)
                .is_some();
            EdgeDiff {
                edge: e.clone(),
                change: if kept {
                    Change::Unchanged
                } else {
                    Change::Added
                },
            }
        })
        .collect();
    edges.extend(unmatched_old.into_iter().flatten().map(|e| EdgeDiff {
        edge: e.clone(),
        change: Change::Removed,
    }));

    let mut settings = Vec::new();
    fields(
        &settings_json(before),
        &settings_json(after),
        "",
        &mut settings,
    );
    WorkflowDiff {
        nodes,
        edges,
        settings,
    }
}

/// Two versions of one node.
fn compare_nodes(old: &Node, new: &Node) -> NodeDiff {
    let mut changes = Vec::new();
    fields(
        &without_position(old),
        &without_position(new),
        "",
        &mut changes,
    );
    let change = if !changes.is_empty() {
        Change::Changed
    } else if old.position != new.position {
        Change::Moved
    } else {
        Change::Unchanged
    };
    NodeDiff {
        id: new.id.clone(),
        change,
        fields: changes,
    }
}

/// A node's JSON without its `position`.
fn without_position(node: &Node) -> Value {
    let mut json = serde_json::to_value(node).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut json {
        map.remove("position");
    }
    json
}

/// A workflow's JSON without its graph (the nodes and edges are compared apart).
fn settings_json(wf: &Workflow) -> Value {
    let mut json = serde_json::to_value(wf).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut json {
        map.remove("nodes");
        map.remove("edges");
    }
    json
}

/// Appends every leaf where `a` and `b` differ, under `path`: objects by key (in key order),
/// arrays by index, anything else (or a change of type) as a whole.
fn fields(a: &Value, b: &Value, path: &str, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let at = join(path, key);
                match (x.get(key), y.get(key)) {
                    (Some(old), Some(new)) => fields(old, new, &at, out),
                    (old, new) => out.push(FieldChange {
                        path: at,
                        before: old.cloned(),
                        after: new.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let at = format!("{path}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(old), Some(new)) => fields(old, new, &at, out),
                    (old, new) => out.push(FieldChange {
                        path: at,
                        before: old.cloned(),
                        after: new.cloned(),
                    }),
                }
            }
        }
        _ => out.push(FieldChange {
            path: path.to_owned(),
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{Change, FieldChange, diff};
    use crate::model::Workflow;
    use crate::validate::parse;

    fn wf(v: Value) -> Workflow {
        parse(&v).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn older() -> Workflow {
        wf(json!({
            "name": "orders",
            "description": "v1",
            "nodes": [
                {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
                {"id": "charge", "type": "http", "label": "Charge",
                 "request": {"method": "POST", "url": "http://pay/charge",
                             "headers": {"X-Key": "a"}},
                 "retry": {"max_attempts": 3}, "position": {"x": 200, "y": 0}},
                {"id": "notify", "type": "http",
                 "request": {"method": "POST", "url": "http://mail/send"},
                 "position": {"x": 400, "y": 0}},
                {"id": "done", "type": "end", "position": {"x": 600, "y": 0}}
            ],
            "edges": [
                {"from": "start", "to": "charge"},
                {"from": "charge", "to": "notify"},
                {"from": "notify", "to": "done"}
            ]
        }))
    }

    fn newer() -> Workflow {
        wf(json!({
            "name": "orders",
            "description": "v2",
            "timeout": "1h",
            "nodes": [
                {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
                {"id": "charge", "type": "http", "label": "Charge card",
                 "request": {"method": "POST", "url": "http://pay/v2/charge",
                             "headers": {"X-Trace": "t"}},
                 "retry": {"max_attempts": 5}, "position": {"x": 220, "y": 40}},
                {"id": "ship", "type": "task", "queue": "orders", "activity": "ship",
                 "position": {"x": 400, "y": 0}},
                {"id": "done", "type": "end", "position": {"x": 640, "y": 10}}
            ],
            "edges": [
                {"from": "start", "to": "charge"},
                {"from": "charge", "to": "ship"},
                {"from": "ship", "to": "done"}
            ]
        }))
    }

    fn change(before: Option<Value>, path: &str, after: Option<Value>) -> FieldChange {
        FieldChange {
            path: path.to_owned(),
            before,
            after,
        }
    }

    #[test]
    fn nodes_are_matched_by_id_and_a_position_alone_is_a_move() {
        let d = diff(&older(), &newer());
        let got: Vec<(&str, Change)> = d.nodes.iter().map(|n| (n.id.as_str(), n.change)).collect();
        assert_eq!(
            got,
            vec![
                ("start", Change::Unchanged),
                ("charge", Change::Changed),
                ("ship", Change::Added),
                ("done", Change::Moved),
                ("notify", Change::Removed),
            ]
        );
        assert_eq!(
            (
                d.count(Change::Added),
                d.count(Change::Removed),
                d.count(Change::Changed)
            ),
            (1, 1, 1)
        );
        assert!(d.node("done").expect("done").fields.is_empty());
        assert!(d.node("nobody").is_none());
    }

    #[test]
    fn a_changed_node_lists_each_field_by_path_and_never_its_position() {
        let d = diff(&older(), &newer());
        let charge = d.node("charge").expect("charge");
        assert_eq!(
            charge.fields,
            vec![
                change(Some(json!("Charge")), "label", Some(json!("Charge card"))),
                change(Some(json!("a")), "request.headers.X-Key", None),
                change(None, "request.headers.X-Trace", Some(json!("t"))),
                change(
                    Some(json!("http://pay/charge")),
                    "request.url",
                    Some(json!("http://pay/v2/charge"))
                ),
                change(Some(json!(3)), "retry.max_attempts", Some(json!(5))),
            ]
        );
    }

    #[test]
    fn edges_are_added_and_removed_by_from_port_and_to() {
        let d = diff(&older(), &newer());
        let got: Vec<(String, Change)> = d
            .edges
            .iter()
            .map(|e| {
                (
                    format!("{}-{}-{}", e.edge.from, e.edge.port, e.edge.to),
                    e.change,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("start-next-charge".to_owned(), Change::Unchanged),
                ("charge-next-ship".to_owned(), Change::Added),
                ("ship-next-done".to_owned(), Change::Added),
                ("charge-next-notify".to_owned(), Change::Removed),
                ("notify-next-done".to_owned(), Change::Removed),
            ]
        );
    }

    #[test]
    fn the_workflow_settings_are_compared_without_the_graph() {
        let d = diff(&older(), &newer());
        assert_eq!(
            d.settings,
            vec![
                change(Some(json!("v1")), "description", Some(json!("v2"))),
                change(None, "timeout", Some(json!("1h"))),
            ]
        );
    }

    #[test]
    fn arrays_differ_by_index_and_a_type_change_is_one_field() {
        let a = wf(json!({"name": "w", "nodes": [
            {"id": "t", "type": "transform", "output": {"items": [1, 2, 3], "x": {"deep": 1}}}
        ]}));
        let b = wf(json!({"name": "w", "nodes": [
            {"id": "t", "type": "transform", "output": {"items": [1, 9], "x": "flat"}}
        ]}));
        let d = diff(&a, &b);
        assert_eq!(
            d.node("t").expect("t").fields,
            vec![
                change(Some(json!(2)), "output.items[1]", Some(json!(9))),
                change(Some(json!(3)), "output.items[2]", None),
                change(Some(json!({"deep": 1})), "output.x", Some(json!("flat"))),
            ]
        );
    }

    #[test]
    fn a_version_compared_with_itself_is_empty_and_a_move_alone_still_is() {
        let v = older();
        let d = diff(&v, &v);
        assert!(d.is_empty());
        assert_eq!(d.count(Change::Unchanged), v.nodes.len());
        let mut moved = v.clone();
        moved.nodes[1].position = None;
        let d = diff(&v, &moved);
        assert!(d.is_empty(), "positions are the editor's");
        assert_eq!(d.node("charge").expect("charge").change, Change::Moved);
        assert!(!diff(&v, &newer()).is_empty());
    }
}
