//! What assistive technology reads for the graph: a sentence per node (its type, id, label,
//! where its edges go, whether it has findings) and per edge, instead of the SVG's text run
//! together. Pure, so the words are tested without a browser.

use shared::Severity;
use shared::model::{Edge, Workflow};

/// "http node charge_card, “Charge card”, 2 outgoing edges: next to big, error to refund;
/// 1 incoming edge; has errors".
pub fn node(wf: &Workflow, id: &str, flag: Option<Severity>) -> String {
    let Some(n) = wf.node(id) else {
        return id.to_owned();
    };
    let mut text = format!("{} node {id}", n.type_name());
    if let Some(label) = n.label.as_deref().filter(|l| *l != id) {
        text.push_str(&format!(", “{label}”"));
    }
    let out: Vec<&Edge> = wf.edges.iter().filter(|e| e.from == id).collect();
    let incoming = wf.edges.iter().filter(|e| e.to == id).count();
    text.push_str(&format!(", {}", count(out.len(), "outgoing edge")));
    if !out.is_empty() {
        let targets: Vec<String> = out
            .iter()
            .map(|e| format!("{} to {}", e.port, e.to))
            .collect();
        text.push_str(&format!(": {}", targets.join(", ")));
    }
    text.push_str(&format!("; {}", count(incoming, "incoming edge")));
    match flag {
        Some(Severity::Error) => text.push_str("; has errors"),
        Some(Severity::Warning) => text.push_str("; has warnings"),
        None => {}
    }
    text
}

/// "Edge from charge, port error, to refund".
pub fn edge(e: &Edge) -> String {
    format!("Edge from {}, port {}, to {}", e.from, e.port, e.to)
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wf() -> Workflow {
        serde_json::from_value(json!({
            "name": "w",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "charge_card", "type": "http", "label": "Charge card",
                 "request": {"method": "POST", "url": "http://x"}},
                {"id": "done", "type": "end"},
                {"id": "refund", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "charge_card"},
                {"from": "charge_card", "to": "done"},
                {"from": "charge_card", "to": "refund", "port": "error"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_node_says_its_type_id_label_and_edges() {
        assert_eq!(
            node(&wf(), "charge_card", None),
            "http node charge_card, “Charge card”, 2 outgoing edges: next to done, error to refund; 1 incoming edge"
        );
        assert_eq!(
            node(&wf(), "done", Some(Severity::Error)),
            "end node done, 0 outgoing edges; 1 incoming edge; has errors"
        );
        assert_eq!(
            node(&wf(), "start", Some(Severity::Warning)),
            "start node start, 1 outgoing edge: next to charge_card; 0 incoming edges; has warnings"
        );
    }

    #[test]
    fn an_edge_says_both_ends_and_its_port() {
        assert_eq!(
            edge(&wf().edges[2]),
            "Edge from charge_card, port error, to refund"
        );
    }
}
