//! The path the run took, for the graph: an edge carried the run when its source node
//! completed (or failed on to a port) through the edge's port. Skipped nodes hand nothing on,
//! so their edges never count. Pure, from the recorded events, tested without a browser.

use std::collections::HashMap;

use shared::event::{Event, Recorded};
use shared::model::Edge;

/// How an edge is drawn on a run's graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeUse {
    /// It carried the run.
    Taken,
    /// The run is over and it never did.
    NotTaken,
    /// The run is still going: it may yet.
    Open,
}

impl EdgeUse {
    /// The class the scene adds to the edge's `<g>`.
    pub fn class(self) -> &'static str {
        match self {
            EdgeUse::Taken => "on-path",
            EdgeUse::NotTaken => "off-path",
            EdgeUse::Open => "",
        }
    }
}

/// Each node's way out so far: the port it completed or failed on through.
pub fn exits(recorded: &[Recorded]) -> HashMap<&str, &str> {
    recorded
        .iter()
        .filter_map(|r| match &r.event {
            Event::NodeCompleted {
                node,
                port: Some(port),
                ..
            }
            | Event::NodeFailed {
                node,
                port: Some(port),
                ..
            } => Some((node.as_str(), port.as_str())),
            _ => None,
        })
        .collect()
}

/// How each edge (by index) was used, given the nodes' exits and whether the run is over.
pub fn edge_uses(edges: &[Edge], exits: &HashMap<&str, &str>, finished: bool) -> Vec<EdgeUse> {
    edges
        .iter()
        .map(|e| {
            if exits.get(e.from.as_str()) == Some(&e.port.as_str()) {
                EdgeUse::Taken
            } else if finished {
                EdgeUse::NotTaken
            } else {
                EdgeUse::Open
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pages::run::wire::recorded;

    fn edge(from: &str, port: &str, to: &str) -> Edge {
        serde_json::from_value(json!({"from": from, "port": port, "to": to})).unwrap()
    }

    #[test]
    fn the_ports_taken_carry_their_edges_and_the_rest_dim_once_finished() {
        let events = recorded(json!([
            {"seq": 1, "at": 1, "type": "node_completed", "node": "start", "data": {"port": "next", "output": {}}},
            {"seq": 2, "at": 2, "type": "node_completed", "node": "approve", "data": {"port": "approved", "output": {}}},
            {"seq": 3, "at": 3, "type": "node_skipped", "node": "refund", "data": {}},
            {"seq": 4, "at": 4, "type": "node_failed", "node": "ship", "data": {"error": "x", "port": "error"}},
            {"seq": 5, "at": 5, "type": "node_completed", "node": "done", "data": {"output": {}}},
        ]));
        let edges = [
            edge("start", "next", "approve"),
            edge("approve", "approved", "ship"),
            edge("approve", "rejected", "refund"),
            edge("refund", "next", "refunded"),
            edge("ship", "next", "done"),
            edge("ship", "error", "alert"),
        ];
        let exits = exits(&events);
        use EdgeUse::*;
        assert_eq!(
            edge_uses(&edges, &exits, true),
            [Taken, Taken, NotTaken, NotTaken, NotTaken, Taken]
        );
        assert_eq!(
            edge_uses(&edges, &exits, false),
            [Taken, Taken, Open, Open, Open, Taken]
        );
    }
}
