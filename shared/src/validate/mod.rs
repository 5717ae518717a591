//! The validator of SPEC §1 "Validation", built on petgraph.
//!
//! It reports every finding instead of stopping at the first, so the designer can outline
//! them all; the server runs the same code before it stores a definition. Each finding has a
//! stable `code` that tests and the UI match on.
//!
//! # Layout
//! - `parse`: reading a definition node by node; names and ids.
//! - `settings`: per-type settings, durations and retry bounds.
//! - `schema`: `input_schema` and triggers; a run's input against the schema.
//! - `graph`: the petgraph graph and the rules on edges, ports and cycles.
//! - `paths`: what `start` and `on_cancel` reach.
//! - `references`: templates parse and read only nodes that surely ran.

mod children;
mod graph;
mod parse;
mod paths;
mod references;
mod schema;
mod settings;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Workflow;

pub use children::check_children;
pub use parse::{parse, valid_node_id, valid_workflow_name};
pub use schema::check_input;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable, snake_case; see the `code` constants in this module's tests.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Index into the definition's `edges`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<usize>,
}

impl Diagnostic {
    fn error(code: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.to_owned(),
            message: message.into(),
            node: None,
            edge: None,
        }
    }

    fn warning(code: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    fn at_node(mut self, node: &str) -> Self {
        self.node = Some(node.to_owned());
        self
    }

    fn at_edge(mut self, edge: usize) -> Self {
        self.edge = Some(edge);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True when no finding is an error.
pub fn is_valid(diagnostics: &[Diagnostic]) -> bool {
    !diagnostics.iter().any(Diagnostic::is_error)
}

/// Reads a definition from JSON and validates it. Structural problems (unknown node type or
/// field, wrong JSON types) come back as findings naming their node.
pub fn parse_and_validate(json: &Value) -> (Option<Workflow>, Vec<Diagnostic>) {
    match parse(json) {
        Ok(wf) => {
            let findings = validate(&wf);
            (Some(wf), findings)
        }
        Err(findings) => (None, findings),
    }
}

/// Validates a parsed definition and returns every finding, errors first, in a stable order.
/// Over `MAX_NODES` nodes or `MAX_EDGES` edges, the findings are only those that say so.
pub fn validate(wf: &Workflow) -> Vec<Diagnostic> {
    let oversized = parse::check_size(wf.nodes.len(), wf.edges.len());
    if !oversized.is_empty() {
        return oversized;
    }
    let mut out = Vec::new();
    parse::check_name(wf, &mut out);
    let index = parse::check_nodes(wf, &mut out);
    if let Some(t) = &wf.timeout {
        settings::check_duration(t, "timeout", None, &mut out);
    }
    schema::check_schema(wf, &mut out);
    schema::check_triggers(wf, &mut out);
    let start = paths::check_start(wf, &index, &mut out);

    let graph = graph::Graph::build(wf, index, &mut out);
    graph.check_ports(&mut out);
    let cyclic = graph.check_cycles(&mut out);
    let paths = paths::Paths::check(&graph, start, &mut out);
    references::check(&graph, &paths, &cyclic, &mut out);

    out.sort_by_key(|d| d.severity);
    out
}

/// The ids of the nodes that have surely run whenever node `id` runs, in definition order:
/// exactly those whose `nodes.X` its templates may read without a `reference_not_dominating`
/// finding (the rule [`validate`] applies). Empty for an unknown node, one on a cycle, or an
/// oversized definition; the findings about the rest of the graph are not this answer's job.
pub fn ran_before(wf: &Workflow, id: &str) -> Vec<String> {
    if !parse::check_size(wf.nodes.len(), wf.edges.len()).is_empty() {
        return Vec::new();
    }
    let mut ignored = Vec::new();
    let index = parse::check_nodes(wf, &mut ignored);
    let Some(&i) = index.get(id) else {
        return Vec::new();
    };
    let start = paths::check_start(wf, &index, &mut ignored);
    let graph = graph::Graph::build(wf, index, &mut ignored);
    let cyclic = graph.check_cycles(&mut ignored);
    if cyclic[i] {
        return Vec::new();
    }
    let paths = paths::Paths::check(&graph, start, &mut ignored);
    let before = references::Before::new(&graph, &paths, &cyclic);
    wf.nodes
        .iter()
        .enumerate()
        .filter(|&(x, _)| before.ran(x, i))
        .map(|(_, n)| n.id.clone())
        .collect()
}

#[cfg(test)]
mod ran_before_tests;
#[cfg(test)]
mod tests;
