//! Templates and expressions: each parses, and reads `nodes.X` only where X has surely run
//! whenever the reading node runs: X dominates it, or X is forced by a fan-out that the node
//! joins after (see [`must_run`]).
//!
//! Both answers are computed once per graph, so checking a reference costs no walk: a
//! dominator query is two comparisons of the dominator tree's DFS numbers, and the fan-in
//! sets are bit sets built in one topological pass. Nothing here recurses.

use std::collections::BTreeSet;

use fixedbitset::FixedBitSet;
use petgraph::Direction::{Incoming, Outgoing};
use petgraph::algo::dominators;

use super::Diagnostic;
use super::graph::Graph;
use super::paths::Paths;
use crate::limits::MAX_TEMPLATE_LEN;
use crate::model::{Node, NodeKind};
use crate::template;

/// Reports templates that do not parse and reads of nodes that may not have run.
pub(super) fn check(g: &Graph<'_>, paths: &Paths, cyclic: &[bool], out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    let before = Before::new(g, paths, cyclic);
    for (i, node) in wf.nodes.iter().enumerate() {
        let refs = node_refs(node, out);
        if refs.is_empty() || cyclic[i] {
            continue;
        }
        let in_cancel = paths.cancel.contains(&i);
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
            if before.ran(x, i) {
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

/// Which nodes have surely run whenever a node runs: the rule every `nodes.X` read is held
/// to, and what the designer offers a template to read ([`super::ran_before`]).
pub(super) struct Before {
    doms_main: Option<DomTree>,
    doms_cancel: Option<DomTree>,
    must_main: Option<Vec<FixedBitSet>>,
    must_cancel: Option<Vec<FixedBitSet>>,
    /// The nodes on the cancel path, which are judged from `on_cancel` rather than `start`.
    cancel: BTreeSet<usize>,
}

impl Before {
    pub(super) fn new(g: &Graph<'_>, paths: &Paths, cyclic: &[bool]) -> Before {
        let acyclic = !cyclic.iter().any(|c| *c);
        let forced = forced(g);
        Before {
            doms_main: paths.start.map(|s| DomTree::new(g, s)),
            doms_cancel: paths.cancel_root.map(|c| DomTree::new(g, c)),
            must_main: paths
                .start
                .filter(|_| acyclic)
                .map(|s| must_run(g, s, &forced)),
            must_cancel: paths
                .cancel_root
                .filter(|_| acyclic)
                .map(|c| must_run(g, c, &forced)),
            cancel: paths.cancel.clone(),
        }
    }

    /// True when node `x` has surely run whenever node `i` runs: `x` dominates `i`, or a
    /// fan-out forced `x` before `i` joined (positions in `nodes`).
    pub(super) fn ran(&self, x: usize, i: usize) -> bool {
        let (doms, must) = if self.cancel.contains(&i) {
            (&self.doms_cancel, &self.must_cancel)
        } else {
            (&self.doms_main, &self.must_main)
        };
        let dominated = doms.as_ref().is_some_and(|d| x != i && d.dominates(x, i));
        dominated || must.as_ref().is_some_and(|m| m[i].contains(x))
    }
}

/// The dominator tree from one root, numbered by an iterative DFS so that "x dominates i" is
/// "i's interval lies within x's".
struct DomTree {
    /// Per node (position in `nodes`): when the DFS entered and left it; `None` when the
    /// root does not reach it.
    span: Vec<Option<(u32, u32)>>,
}

impl DomTree {
    fn new(g: &Graph<'_>, root: usize) -> DomTree {
        let n = g.wf.nodes.len();
        let doms = dominators::simple_fast(&g.graph, g.gidx[root]);
        let mut children = vec![Vec::new(); n];
        for (i, &ix) in g.gidx.iter().enumerate() {
            if let Some(parent) = doms.immediate_dominator(ix) {
                children[g.graph[parent]].push(i);
            }
        }
        let mut span = vec![None; n];
        let mut clock = 0u32;
        // (node, whether its children were pushed): the second visit closes its interval.
        let mut stack = vec![(root, false)];
        while let Some((i, expanded)) = stack.pop() {
            if expanded {
                if let Some((_, end)) = span[i].as_mut() {
                    *end = clock;
                }
                continue;
            }
            span[i] = Some((clock, clock));
            clock += 1;
            stack.push((i, true));
            stack.extend(children[i].iter().map(|&c| (c, false)));
        }
        DomTree { span }
    }

    /// True when every path from the root to `i` passes `x`.
    fn dominates(&self, x: usize, i: usize) -> bool {
        match (self.span[x], self.span[i]) {
            (Some((xs, xe)), Some((is, ie))) => xs <= is && ie <= xe,
            _ => false,
        }
    }
}

/// Per node: whether it hands a token to every target whenever it completes (its only
/// connected port is its success port, and it is not a `condition`).
fn forced(g: &Graph<'_>) -> Vec<bool> {
    g.wf.nodes
        .iter()
        .enumerate()
        .map(|(s, node)| {
            let ports = g.out_ports(s);
            let primary = node.kind.ports().first().map(|(p, _)| *p);
            !matches!(node.kind, NodeKind::Condition(_))
                && ports.len() == 1
                && ports.first().copied() == primary
        })
        .collect()
}

/// For each node reachable from `root` in an acyclic graph: the nodes that have surely run
/// before it whenever it runs. Dominators alone miss a fan-in: after `parallel → a, b → join`,
/// `join` runs only once `a` and `b` are decided, and both were forced to run by the fan-out.
/// So the set is the intersection over predecessors, closed under "forced" successors (a node
/// whose only connected port is its success port hands a token to every target), and kept to
/// the node's ancestors, which are all decided before it.
///
/// Sets are bit sets over node positions (`MAX_NODES` bits each). The closure of a set is the
/// union of each member's own closure, computed once per node in reverse topological order;
/// a member already inside an added closure adds nothing new, so it is skipped.
fn must_run(g: &Graph<'_>, root: usize, forced: &[bool]) -> Vec<FixedBitSet> {
    let graph = &g.graph;
    let n = g.wf.nodes.len();
    let order = petgraph::algo::toposort(graph, None).unwrap_or_default();
    let empty = FixedBitSet::with_capacity(n);
    let mut closure = vec![empty.clone(); n];
    for &ix in order.iter().rev() {
        let s = graph[ix];
        let mut c = empty.clone();
        c.insert(s);
        if forced[s] {
            for t in graph.neighbors_directed(ix, Outgoing) {
                c.union_with(&closure[graph[t]]);
            }
        }
        closure[s] = c;
    }
    let mut live = empty.clone();
    for i in g.reachable(root) {
        live.insert(i);
    }
    let mut ancestors = vec![empty.clone(); n];
    let mut must = vec![empty.clone(); n];
    for ix in order {
        let i = graph[ix];
        if !live.contains(i) || i == root {
            continue;
        }
        let mut anc = empty.clone();
        let mut inter: Option<FixedBitSet> = None;
        for p in graph.neighbors_directed(ix, Incoming).map(|p| graph[p]) {
            if !live.contains(p) {
                continue;
            }
            anc.union_with(&ancestors[p]);
            anc.insert(p);
            let mut with_p = must[p].clone();
            with_p.insert(p);
            match inter.as_mut() {
                None => inter = Some(with_p),
                Some(acc) => acc.intersect_with(&with_p),
            }
        }
        let mut set = inter.unwrap_or_else(|| empty.clone());
        let mut added = empty.clone();
        for s in set.ones() {
            if forced[s] && !added.contains(s) {
                added.union_with(&closure[s]);
            }
        }
        set.union_with(&added);
        set.intersect_with(&anc);
        ancestors[i] = anc;
        must[i] = set;
    }
    must
}

/// Checks a node's templates and expression parse; returns the nodes they read. A template
/// over `MAX_TEMPLATE_LEN` is reported and not parsed.
fn node_refs(node: &Node, out: &mut Vec<Diagnostic>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for (field, value) in node.kind.templates() {
        if too_long(node, field, template::longest_template(&value), out) {
            continue;
        }
        match template::check(&value) {
            Ok(()) => {
                refs.extend(template::node_refs(&value));
                unknown_names(node, field, template::unknown_names(&value), out);
                secrets(node, field, template::secret_reads(&value), out);
            }
            Err(e) => out.push(
                Diagnostic::error("template_syntax", format!("`{}`.{field}: {e}", node.id))
                    .at_node(&node.id),
            ),
        }
    }
    if let NodeKind::Condition(c) = &node.kind {
        if too_long(node, "expr", c.expr.len(), out) {
            return refs;
        }
        match template::check_expression(&c.expr) {
            Ok(()) => {
                refs.extend(template::expression_refs(&c.expr));
                unknown_names(
                    node,
                    "expr",
                    template::expression_unknown_names(&c.expr),
                    out,
                );
                secrets(
                    node,
                    "expr",
                    template::expression_secret_reads(&c.expr),
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

/// Reports a template or expression source of `len` bytes in `field` over the limit.
fn too_long(node: &Node, field: &str, len: usize, out: &mut Vec<Diagnostic>) -> bool {
    let over = len > MAX_TEMPLATE_LEN;
    if over {
        out.push(
            Diagnostic::error(
                "template_too_long",
                format!(
                    "`{}`.{field}: a template of {len} bytes is over the limit of {MAX_TEMPLATE_LEN} bytes",
                    node.id
                ),
            )
            .at_node(&node.id),
        );
    }
    over
}

/// SPEC §3: `secrets` is read by name only (`secrets_whole`), and renders only in `http` and
/// `task` nodes (`secrets_not_here`: anywhere else it would be `none`, or end up in the log).
fn secrets(node: &Node, field: &str, reads: template::SecretReads, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    let finding = match reads {
        template::SecretReads::Whole => Diagnostic::error(
            "secrets_whole",
            format!(
                "`{id}`.{field} reads `secrets` as a whole; read each secret by name, as `secrets.NAME`"
            ),
        ),
        template::SecretReads::Names(names)
            if !names.is_empty() && !matches!(node.kind, NodeKind::Http(_) | NodeKind::Task(_)) =>
        {
            let names: Vec<String> = names.iter().map(|n| format!("`secrets.{n}`")).collect();
            Diagnostic::error(
                "secrets_not_here",
                format!(
                    "`{id}`.{field} reads {}, but secrets render only in `http` and `task` nodes ({} nodes never see them)",
                    names.join(", "),
                    node.type_name()
                ),
            )
        }
        template::SecretReads::Names(_) => return,
    };
    out.push(finding.at_node(id));
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
