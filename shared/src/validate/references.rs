//! Templates and expressions: each parses, and reads `nodes.X` only where X has surely run
//! whenever the reading node runs: X dominates it, or X is forced by a fan-out that the node
//! joins after (see [`must_run`]).

use std::collections::BTreeSet;

use petgraph::algo::dominators;

use super::Diagnostic;
use super::graph::Graph;
use super::paths::Paths;
use crate::model::{Node, NodeKind};
use crate::template;

/// Reports templates that do not parse and reads of nodes that may not have run.
pub(super) fn check(g: &Graph<'_>, paths: &Paths, cyclic: &[bool], out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    let acyclic = !cyclic.iter().any(|c| *c);
    let doms_main = paths
        .start
        .map(|s| dominators::simple_fast(&g.graph, g.gidx[s]));
    let doms_cancel = paths
        .cancel_root
        .map(|c| dominators::simple_fast(&g.graph, g.gidx[c]));
    let must_main = paths.start.filter(|_| acyclic).map(|s| must_run(g, s));
    let must_cancel = paths
        .cancel_root
        .filter(|_| acyclic)
        .map(|c| must_run(g, c));
    for (i, node) in wf.nodes.iter().enumerate() {
        let refs = node_refs(node, out);
        if refs.is_empty() || cyclic[i] {
            continue;
        }
        let in_cancel = paths.cancel.contains(&i);
        let (doms, must) = if in_cancel {
            (&doms_cancel, &must_cancel)
        } else {
            (&doms_main, &must_main)
        };
        for r in refs {
            let Some(&x) = g.index.get(r.as_str()) else {
                out.push(
                    Diagnostic::error(
                        "unknown_reference",
                        format!(
                            "`{}` reads `nodes.{r}`, but there is no node `{r}`",
                            node.id
                        ),
                    )
                    .at_node(&node.id),
                );
                continue;
            };
            let dominated = doms.as_ref().is_some_and(|d| {
                x != i
                    && d.dominators(g.gidx[i])
                        .is_some_and(|mut it| it.any(|ix| ix == g.gidx[x]))
            });
            if dominated || must.as_ref().is_some_and(|m| m[i].contains(&x)) {
                continue;
            }
            if in_cancel && paths.main.contains(&x) {
                out.push(
                    Diagnostic::warning("reference_may_be_missing", format!("`{}` reads `nodes.{r}`, which may not have run when the run was cancelled (it is `none` then)", node.id))
                        .at_node(&node.id),
                );
            } else if paths.main.contains(&i) || in_cancel {
                out.push(
                    Diagnostic::error("reference_not_dominating", format!("`{}` reads `nodes.{r}`, but `{r}` does not run before `{}` on every path", node.id, node.id))
                        .at_node(&node.id),
                );
            }
        }
    }
}

/// For each node reachable from `root` in an acyclic graph: the nodes that have surely run
/// before it whenever it runs. Dominators alone miss a fan-in: after `parallel → a, b → join`,
/// `join` runs only once `a` and `b` are decided, and both were forced to run by the fan-out.
/// So the set is the intersection over predecessors, closed under "forced" successors (a node
/// whose only connected port is its success port hands a token to every target), and kept to
/// the node's ancestors, which are all decided before it.
fn must_run(g: &Graph<'_>, root: usize) -> Vec<BTreeSet<usize>> {
    use petgraph::Direction::{Incoming, Outgoing};
    let (wf, graph, gidx) = (g.wf, &g.graph, &g.gidx);
    let n = wf.nodes.len();
    let forced = |s: usize| -> bool {
        let ports = g.out_ports(s);
        let primary = wf.nodes[s].kind.ports().first().map(|(p, _)| *p);
        !matches!(wf.nodes[s].kind, NodeKind::Condition(_))
            && ports.len() == 1
            && ports.first().copied() == primary
    };
    let order = petgraph::algo::toposort(graph, None).unwrap_or_default();
    let live = g.reachable(root);
    let mut ancestors = vec![BTreeSet::new(); n];
    let mut must = vec![BTreeSet::new(); n];
    for ix in order {
        let i = graph[ix];
        if !live.contains(&i) || i == root {
            continue;
        }
        let preds: Vec<usize> = graph
            .neighbors_directed(ix, Incoming)
            .map(|p| graph[p])
            .filter(|p| live.contains(p))
            .collect();
        let mut anc = BTreeSet::new();
        let mut inter: Option<BTreeSet<usize>> = None;
        for &p in &preds {
            anc.extend(ancestors[p].iter().copied());
            anc.insert(p);
            let mut with_p = must[p].clone();
            with_p.insert(p);
            inter = Some(match inter {
                None => with_p,
                Some(acc) => acc.intersection(&with_p).copied().collect(),
            });
        }
        let mut set = inter.unwrap_or_default();
        let mut stack: Vec<usize> = set.iter().copied().collect();
        while let Some(s) = stack.pop() {
            if forced(s) {
                for t in graph
                    .neighbors_directed(gidx[s], Outgoing)
                    .map(|t| graph[t])
                {
                    if set.insert(t) {
                        stack.push(t);
                    }
                }
            }
        }
        set.retain(|x| anc.contains(x));
        ancestors[i] = anc;
        must[i] = set;
    }
    must
}

/// Checks a node's templates and expression parse; returns the nodes they read.
fn node_refs(node: &Node, out: &mut Vec<Diagnostic>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for (field, value) in node.kind.templates() {
        match template::check(&value) {
            Ok(()) => {
                refs.extend(template::node_refs(&value));
                unknown_names(node, field, template::unknown_names(&value), out);
            }
            Err(e) => out.push(
                Diagnostic::error("template_syntax", format!("`{}`.{field}: {e}", node.id))
                    .at_node(&node.id),
            ),
        }
    }
    if let NodeKind::Condition(c) = &node.kind {
        match template::check_expression(&c.expr) {
            Ok(()) => {
                refs.extend(template::expression_refs(&c.expr));
                unknown_names(
                    node,
                    "expr",
                    template::expression_unknown_names(&c.expr),
                    out,
                );
            }
            Err(e) => out.push(
                Diagnostic::error("expression_syntax", format!("`{}`.expr: {e}", node.id))
                    .at_node(&node.id),
            ),
        }
    }
    refs
}

/// A filter or test MiniJinja does not have fails every run that renders it: an error.
fn unknown_names(
    node: &Node,
    field: &str,
    unknown: BTreeSet<template::Unknown>,
    out: &mut Vec<Diagnostic>,
) {
    for name in unknown {
        let (code, what, name) = match name {
            template::Unknown::Filter(n) => ("unknown_filter", "filter", n),
            template::Unknown::Test(n) => ("unknown_test", "test", n),
        };
        out.push(
            Diagnostic::error(
                code,
                format!("`{}`.{field}: there is no {what} `{name}`", node.id),
            )
            .at_node(&node.id),
        );
    }
}
