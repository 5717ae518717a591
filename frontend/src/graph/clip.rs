//! Copied nodes as the system clipboard carries them: JSON with the nodes and the edges among
//! them, tagged so a paste can tell them from any other text. Plain JSON, so a copy from one
//! workflow pastes into another (or into another browser tab, or a text editor).

use serde::{Deserialize, Serialize};
use shared::model::{Edge, Node, Workflow};

/// The tag a clipboard text carries to be read as copied nodes.
const KIND: &str = "weft/nodes";

/// Nodes (with their positions) and the edges between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    kind: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Clip {
    /// The nodes `ids` of `wf` (in the workflow's order) and every edge with both ends among
    /// them; `None` when none of `ids` is a node of `wf`.
    pub fn of(wf: &Workflow, ids: &[String]) -> Option<Clip> {
        let nodes: Vec<Node> = wf
            .nodes
            .iter()
            .filter(|n| ids.contains(&n.id))
            .cloned()
            .collect();
        if nodes.is_empty() {
            return None;
        }
        let inside = |id: &str| nodes.iter().any(|n| n.id == id);
        let edges = wf
            .edges
            .iter()
            .filter(|e| inside(&e.from) && inside(&e.to))
            .cloned()
            .collect();
        Some(Clip {
            kind: KIND.to_owned(),
            nodes,
            edges,
        })
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads clipboard text back; `None` for any text that is not copied nodes.
    pub fn from_text(text: &str) -> Option<Clip> {
        let clip: Clip = serde_json::from_str(text.trim()).ok()?;
        (clip.kind == KIND && !clip.nodes.is_empty()).then_some(clip)
    }
}

/// An id for a pasted copy of `id`: `id` itself while no node has it, else its base (the id
/// without a `_<number>` tail) with the first free number from 2 (`charge_card_2`).
pub fn unique_id(id: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(id) {
        return id.to_owned();
    }
    let base = match id.rsplit_once('_') {
        Some((base, n)) if !base.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => base,
        _ => id,
    };
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|c| c.len() <= 64 && !taken(c))
        .unwrap_or_else(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_clip_holds_the_edges_among_its_nodes_and_reads_back() {
        let wf: Workflow = serde_json::from_value(json!({"name": "w", "nodes": [
            {"id": "start", "type": "start"},
            {"id": "a", "type": "timer", "duration": "1s", "position": {"x": 10, "y": 20}},
            {"id": "b", "type": "end"}
        ], "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}]}))
        .unwrap();
        let clip = Clip::of(&wf, &["a".into(), "b".into()]).unwrap();
        assert_eq!(clip.nodes.len(), 2);
        assert_eq!(clip.edges, vec![wf.edges[1].clone()]);
        assert_eq!(Clip::from_text(&clip.to_text()), Some(clip));
        assert_eq!(Clip::of(&wf, &["zz".into()]), None);
        assert_eq!(Clip::from_text("hello"), None);
        assert_eq!(
            Clip::from_text(r#"{"kind": "other", "nodes": [], "edges": []}"#),
            None
        );
    }

    #[test]
    fn pasted_ids_are_made_unique() {
        let taken = |id: &str| ["charge", "charge_2", "http_3"].contains(&id);
        assert_eq!(unique_id("fresh", taken), "fresh");
        assert_eq!(unique_id("charge", taken), "charge_3");
        assert_eq!(unique_id("charge_2", taken), "charge_3");
        assert_eq!(unique_id("http_3", taken), "http_2");
    }
}
