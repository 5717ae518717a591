//! What runs: the main path `start` reaches, and the separate cancel path from `on_cancel`.
//! Every node is on one of them; the cancel path never joins the main one.

use std::collections::{BTreeSet, HashMap};

use super::Diagnostic;
use super::graph::Graph;
use crate::model::{Node, NodeKind, Workflow};

/// Checks there is exactly one `start` node; returns its position in `nodes` when there is.
pub(super) fn check_start(
    wf: &Workflow,
    index: &HashMap<&str, usize>,
    out: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let starts: Vec<&Node> = wf
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Start(_)))
        .collect();
    if starts.len() != 1 {
        let d = Diagnostic::error(
            "start_count",
            format!(
                "a workflow needs exactly one `start` node, found {}",
                starts.len()
            ),
        );
        out.push(match starts.get(1) {
            Some(second) => d.at_node(&second.id),
            None => d,
        });
    }
    (starts.len() == 1).then(|| index[starts[0].id.as_str()])
}

/// The roots and node sets (positions in `nodes`) of the main and the cancel path.
pub(super) struct Paths {
    /// The one `start` node, if there is exactly one.
    pub(super) start: Option<usize>,
    /// What `start` reaches (empty without a single start).
    pub(super) main: BTreeSet<usize>,
    /// A valid `on_cancel` node.
    pub(super) cancel_root: Option<usize>,
    /// What `cancel_root` reaches.
    pub(super) cancel: BTreeSet<usize>,
}

impl Paths {
    /// Finds both paths, reporting a bad `on_cancel` and every node neither path reaches.
    pub(super) fn check(g: &Graph<'_>, start: Option<usize>, out: &mut Vec<Diagnostic>) -> Paths {
        let wf = g.wf;
        let main = start.map(|s| g.reachable(s)).unwrap_or_default();
        let mut paths = Paths {
            start,
            main,
            cancel_root: None,
            cancel: BTreeSet::new(),
        };
        if let Some(name) = &wf.on_cancel {
            paths.check_cancel(g, name, out);
        }
        if start.is_some() {
            for (i, node) in wf.nodes.iter().enumerate() {
                if !paths.main.contains(&i) && !paths.cancel.contains(&i) {
                    out.push(
                        Diagnostic::error(
                            "unreachable",
                            format!("`{}` cannot be reached from `start`", node.id),
                        )
                        .at_node(&node.id),
                    );
                }
            }
        }
        paths
    }

    /// `on_cancel`: a separate path from a node nothing enters and `start` does not reach.
    fn check_cancel(&mut self, g: &Graph<'_>, name: &str, out: &mut Vec<Diagnostic>) {
        let wf = g.wf;
        let Some(&c) = g.index.get(name) else {
            out.push(Diagnostic::error(
                "on_cancel_unknown",
                format!("`on_cancel` names unknown node `{name}`"),
            ));
            return;
        };
        let incoming = g
            .graph
            .neighbors_directed(g.gidx[c], petgraph::Direction::Incoming)
            .count();
        if matches!(wf.nodes[c].kind, NodeKind::Start(_)) {
            out.push(
                Diagnostic::error("on_cancel_start", "`on_cancel` cannot be the `start` node")
                    .at_node(name),
            );
        } else if incoming > 0 {
            out.push(
                Diagnostic::error(
                    "on_cancel_incoming",
                    format!("`on_cancel` node `{name}` must have no incoming edges"),
                )
                .at_node(name),
            );
        } else if self.main.contains(&c) {
            out.push(
                Diagnostic::error(
                    "on_cancel_reachable",
                    format!("`on_cancel` node `{name}` must not be reachable from `start`"),
                )
                .at_node(name),
            );
        } else {
            self.cancel_root = Some(c);
            self.cancel = g.reachable(c);
            for &n in self.cancel.intersection(&self.main) {
                out.push(
                    Diagnostic::error(
                        "on_cancel_joins_main",
                        format!(
                            "the cancel path from `{name}` joins the main path at `{}`",
                            wf.nodes[n].id
                        ),
                    )
                    .at_node(&wf.nodes[n].id),
                );
            }
        }
    }
}
