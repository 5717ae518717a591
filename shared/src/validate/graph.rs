//! The definition as a petgraph graph, and the rules on its shape: edges between known nodes
//! through ports their source has, every required port connected, no cycles.
//!
//! Every walk here is iterative (petgraph's `Dfs` and Kosaraju's SCCs, which run on an
//! explicit stack; its `tarjan_scc` recurses once per node on a path, so a long chain would
//! overflow a worker's stack).

use std::collections::{BTreeSet, HashMap};

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::Dfs;

use super::Diagnostic;
use crate::model::{Node, NodeKind, Workflow};

/// A definition indexed for the graph rules. Node weights are positions in `wf.nodes`, edge
/// weights positions in `wf.edges`; edges with an unknown end are left out.
pub(super) struct Graph<'a> {
    pub(super) wf: &'a Workflow,
    /// Node id → position in `wf.nodes`.
    pub(super) index: HashMap<&'a str, usize>,
    pub(super) graph: DiGraph<usize, usize>,
    /// Position in `wf.nodes` → petgraph index.
    pub(super) gidx: Vec<NodeIndex>,
}

impl<'a> Graph<'a> {
    /// Builds the graph, reporting each edge that leaves or enters an unknown node, enters
    /// `start`, uses a port its source lacks or is drawn twice.
    pub(super) fn build(
        wf: &'a Workflow,
        index: HashMap<&'a str, usize>,
        out: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut graph: DiGraph<usize, usize> = DiGraph::new();
        let gidx: Vec<NodeIndex> = (0..wf.nodes.len()).map(|i| graph.add_node(i)).collect();
        let mut seen_edges = BTreeSet::new();
        for (e, edge) in wf.edges.iter().enumerate() {
            let from = index.get(edge.from.as_str()).copied();
            let to = index.get(edge.to.as_str()).copied();
            if from.is_none() {
                out.push(
                    Diagnostic::error(
                        "unknown_edge_node",
                        format!("edge {e} leaves unknown node `{}`", edge.from),
                    )
                    .at_edge(e),
                );
            }
            if to.is_none() {
                out.push(
                    Diagnostic::error(
                        "unknown_edge_node",
                        format!("edge {e} enters unknown node `{}`", edge.to),
                    )
                    .at_edge(e),
                );
            }
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            let src = &wf.nodes[from];
            if matches!(wf.nodes[to].kind, NodeKind::Start(_)) {
                out.push(
                    Diagnostic::error(
                        "edge_into_start",
                        format!("edge {} → {} enters `start`", edge.from, edge.to),
                    )
                    .at_edge(e)
                    .at_node(&edge.to),
                );
            }
            if !src.kind.ports().iter().any(|(p, _)| *p == edge.port) {
                let have: Vec<&str> = src.kind.ports().iter().map(|(p, _)| *p).collect();
                let msg = if have.is_empty() {
                    format!(
                        "`{}` is an `end` node and has no output port (edge to `{}`)",
                        src.id, edge.to
                    )
                } else {
                    format!(
                        "`{}` ({}) has no port `{}`; its ports are {}",
                        src.id,
                        src.type_name(),
                        edge.port,
                        have.join(", ")
                    )
                };
                out.push(
                    Diagnostic::error("unknown_port", msg)
                        .at_node(&src.id)
                        .at_edge(e),
                );
            }
            if !seen_edges.insert((from, to, edge.port.as_str())) {
                out.push(
                    Diagnostic::warning(
                        "duplicate_edge",
                        format!(
                            "edge {} → {} ({}) is drawn twice",
                            edge.from, edge.to, edge.port
                        ),
                    )
                    .at_edge(e),
                );
            }
            if edge.port == "timeout" && port_never_taken(src) {
                out.push(
                    Diagnostic::warning(
                        "port_never_taken",
                        format!(
                            "`{}` has no `timeout`, or a `default_decision` taken at it, so \
                             its `timeout` port is never taken",
                            src.id
                        ),
                    )
                    .at_node(&src.id)
                    .at_edge(e),
                );
            }
            graph.add_edge(gidx[from], gidx[to], e);
        }
        Graph {
            wf,
            index,
            graph,
            gidx,
        }
    }

    /// The ports node `i` connects.
    pub(super) fn out_ports(&self, i: usize) -> BTreeSet<&'a str> {
        self.graph
            .edges(self.gidx[i])
            .map(|er| self.wf.edges[*er.weight()].port.as_str())
            .collect()
    }

    /// Every node but an `end` has a way out, and connects each port its type requires.
    pub(super) fn check_ports(&self, out: &mut Vec<Diagnostic>) {
        for (i, node) in self.wf.nodes.iter().enumerate() {
            let out_ports = self.out_ports(i);
            if matches!(node.kind, NodeKind::End(_)) {
                continue;
            }
            if out_ports.is_empty() {
                out.push(
                    Diagnostic::error(
                        "no_way_out",
                        format!(
                            "`{}` leads nowhere: connect it, or end the path with an `end` node",
                            node.id
                        ),
                    )
                    .at_node(&node.id),
                );
                continue;
            }
            for (port, required) in node.kind.ports() {
                if *required && !out_ports.contains(port) {
                    out.push(
                        Diagnostic::error(
                            "missing_port",
                            format!(
                                "`{}` ({}) must connect its `{port}` port",
                                node.id,
                                node.type_name()
                            ),
                        )
                        .at_node(&node.id),
                    );
                }
            }
        }
    }

    /// Reports every strongly connected component with more than one node, and every
    /// self-loop, ordered by their first node id; returns which nodes are on a cycle.
    pub(super) fn check_cycles(&self, out: &mut Vec<Diagnostic>) -> Vec<bool> {
        let graph = &self.graph;
        let mut cyclic = vec![false; self.wf.nodes.len()];
        let mut cycles = Vec::new();
        for scc in kosaraju_scc(graph) {
            let self_loop = scc.len() == 1 && graph.contains_edge(scc[0], scc[0]);
            if scc.len() > 1 || self_loop {
                let mut names: Vec<&str> = scc
                    .iter()
                    .map(|ix| self.wf.nodes[graph[*ix]].id.as_str())
                    .collect();
                names.sort();
                for ix in &scc {
                    cyclic[graph[*ix]] = true;
                }
                cycles.push(names);
            }
        }
        cycles.sort();
        for names in cycles {
            out.push(
                Diagnostic::error("cycle", format!("cycle through {}", names.join(" → ")))
                    .at_node(names[0]),
            );
        }
        cyclic
    }

    /// The nodes (positions in `wf.nodes`) reachable from node `from`, itself included.
    pub(super) fn reachable(&self, from: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut dfs = Dfs::new(&self.graph, self.gidx[from]);
        while let Some(ix) = dfs.next(&self.graph) {
            seen.insert(self.graph[ix]);
        }
        seen
    }
}

fn port_never_taken(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Approval(a) => a.timeout.is_none() || a.default_decision.is_some(),
        NodeKind::Signal(s) => s.timeout.is_none(),
        _ => false,
    }
}
