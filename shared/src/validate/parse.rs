//! Reading a definition from JSON node by node, so a broken node is a finding naming it, and
//! the naming rules for workflows and node ids. A definition over `MAX_NODES` nodes or
//! `MAX_EDGES` edges is refused before anything else is read, so it costs no more than
//! parsing its JSON did.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{Diagnostic, settings};
use crate::limits::{MAX_EDGES, MAX_NODES};
use crate::model::{Node, Workflow};

/// Reads a definition, reporting every node that does not parse.
pub fn parse(json: &Value) -> Result<Workflow, Vec<Diagnostic>> {
    let Value::Object(top) = json else {
        return Err(vec![Diagnostic::error(
            "invalid_definition",
            "a definition must be a JSON object",
        )]);
    };
    let count = |key: &str| top.get(key).and_then(Value::as_array).map_or(0, Vec::len);
    let oversized = check_size(count("nodes"), count("edges"));
    if !oversized.is_empty() {
        return Err(oversized);
    }
    let mut findings = Vec::new();
    let mut nodes = Vec::new();
    match top.get("nodes") {
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let Value::Object(map) = item else {
                    findings.push(Diagnostic::error(
                        "invalid_node",
                        format!("nodes[{i}] is not an object"),
                    ));
                    continue;
                };
                match Node::from_map(map.clone()) {
                    Ok(node) => nodes.push(node),
                    Err(e) => findings.push(Diagnostic {
                        node: e.node,
                        ..Diagnostic::error(e.code, e.message)
                    }),
                }
            }
        }
        Some(_) => findings.push(Diagnostic::error(
            "invalid_definition",
            "`nodes` must be an array",
        )),
        None => findings.push(Diagnostic::error(
            "invalid_definition",
            "missing field `nodes`",
        )),
    }
    // Everything but the nodes, which were read above.
    let mut rest: Map<String, Value> = top
        .iter()
        .filter(|(k, _)| k.as_str() != "nodes")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    rest.insert("nodes".into(), Value::Array(Vec::new()));
    match serde_json::from_value::<Workflow>(Value::Object(rest)) {
        Ok(mut wf) if findings.is_empty() => {
            wf.nodes = nodes;
            Ok(wf)
        }
        Ok(_) => Err(findings),
        Err(e) => {
            let msg = e.to_string();
            let code = if msg.contains("unknown field") {
                "unknown_field"
            } else {
                "invalid_definition"
            };
            findings.insert(0, Diagnostic::error(code, msg));
            Err(findings)
        }
    }
}

/// `too_many_nodes` and `too_many_edges`, for a definition over the limits (else nothing).
pub(super) fn check_size(nodes: usize, edges: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if nodes > MAX_NODES {
        out.push(Diagnostic::error(
            "too_many_nodes",
            format!("the definition has {nodes} nodes, over the limit of {MAX_NODES}"),
        ));
    }
    if edges > MAX_EDGES {
        out.push(Diagnostic::error(
            "too_many_edges",
            format!("the definition has {edges} edges, over the limit of {MAX_EDGES}"),
        ));
    }
    out
}

/// A node id: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_node_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A workflow name: `[a-z0-9][a-z0-9_-]{0,62}`.
pub fn valid_workflow_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub(super) fn check_name(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    if !valid_workflow_name(&wf.name) {
        out.push(Diagnostic::error(
            "invalid_name",
            format!(
                "workflow name `{}` must match [a-z0-9][a-z0-9_-]{{0,62}}",
                wf.name
            ),
        ));
    }
}

/// Checks every node's id (well-formed, unique) and settings; returns each id's position in
/// `nodes` (an id used twice maps to its last node).
pub(super) fn check_nodes<'a>(
    wf: &'a Workflow,
    out: &mut Vec<Diagnostic>,
) -> HashMap<&'a str, usize> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, node) in wf.nodes.iter().enumerate() {
        if !valid_node_id(&node.id) {
            out.push(
                Diagnostic::error(
                    "invalid_node_id",
                    format!("node id `{}` must match [A-Za-z0-9_-]{{1,64}}", node.id),
                )
                .at_node(&node.id),
            );
        }
        if index.insert(&node.id, i).is_some() {
            out.push(
                Diagnostic::error(
                    "duplicate_node_id",
                    format!("node id `{}` is used twice", node.id),
                )
                .at_node(&node.id),
            );
        }
        settings::check_settings(node, out);
    }
    index
}
