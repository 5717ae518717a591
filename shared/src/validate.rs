//! The validator of SPEC §1 "Validation", built on petgraph.
//!
//! It reports every finding instead of stopping at the first, so the designer can outline
//! them all; the server runs the same code before it stores a definition. Each finding has a
//! stable `code` that tests and the UI match on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::algo::{dominators, tarjan_scc};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::Dfs;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{DurationText, Node, NodeKind, RetryPolicy, Workflow};
use crate::template;

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

/// Reads a definition, reporting every node that does not parse.
pub fn parse(json: &Value) -> Result<Workflow, Vec<Diagnostic>> {
    let Value::Object(top) = json else {
        return Err(vec![Diagnostic::error(
            "invalid_definition",
            "a definition must be a JSON object",
        )]);
    };
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
    let mut rest: Map<String, Value> = top.clone();
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

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
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
    valid_name(name)
}

/// Validates a parsed definition and returns every finding, errors first, in a stable order.
pub fn validate(wf: &Workflow) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if !valid_name(&wf.name) {
        out.push(Diagnostic::error(
            "invalid_name",
            format!(
                "workflow name `{}` must match [a-z0-9][a-z0-9_-]{{0,62}}",
                wf.name
            ),
        ));
    }

    // Nodes: ids, duplicates, per-type settings.
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
        check_settings(node, &mut out);
    }
    if let Some(t) = &wf.timeout {
        check_duration(t, "timeout", None, &mut out);
    }
    check_schema(wf, &mut out);
    check_triggers(wf, &mut out);

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

    // The graph: one petgraph node per definition node, edge weights are edge indices.
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
                        "`{}` has no `timeout`, so its `timeout` port is never taken",
                        src.id
                    ),
                )
                .at_node(&src.id)
                .at_edge(e),
            );
        }
        graph.add_edge(gidx[from], gidx[to], e);
    }

    // Ports: a way out, and every required port connected.
    for (i, node) in wf.nodes.iter().enumerate() {
        let out_ports: BTreeSet<&str> = graph
            .edges(gidx[i])
            .map(|er| wf.edges[*er.weight()].port.as_str())
            .collect();
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

    // Cycles: every strongly connected component with more than one node, or a self-loop.
    let mut cyclic = vec![false; wf.nodes.len()];
    for scc in tarjan_scc(&graph) {
        let self_loop = scc.len() == 1 && graph.contains_edge(scc[0], scc[0]);
        if scc.len() > 1 || self_loop {
            let mut names: Vec<&str> = scc
                .iter()
                .map(|ix| wf.nodes[graph[*ix]].id.as_str())
                .collect();
            names.sort();
            for ix in &scc {
                cyclic[graph[*ix]] = true;
            }
            out.push(
                Diagnostic::error("cycle", format!("cycle through {}", names.join(" → ")))
                    .at_node(names[0]),
            );
        }
    }

    let start = (starts.len() == 1).then(|| index[starts[0].id.as_str()]);
    let main = start
        .map(|s| reachable(&graph, gidx[s]))
        .unwrap_or_default();

    // on_cancel: a separate path from a node nothing enters and `start` does not reach.
    let mut cancel_root = None;
    let mut cancel = BTreeSet::new();
    if let Some(name) = &wf.on_cancel {
        match index.get(name.as_str()) {
            None => out.push(Diagnostic::error(
                "on_cancel_unknown",
                format!("`on_cancel` names unknown node `{name}`"),
            )),
            Some(&c) => {
                let incoming = graph
                    .neighbors_directed(gidx[c], petgraph::Direction::Incoming)
                    .count();
                if matches!(wf.nodes[c].kind, NodeKind::Start(_)) {
                    out.push(
                        Diagnostic::error(
                            "on_cancel_start",
                            "`on_cancel` cannot be the `start` node",
                        )
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
                } else if main.contains(&c) {
                    out.push(
                        Diagnostic::error(
                            "on_cancel_reachable",
                            format!("`on_cancel` node `{name}` must not be reachable from `start`"),
                        )
                        .at_node(name),
                    );
                } else {
                    cancel_root = Some(c);
                    cancel = reachable(&graph, gidx[c]);
                    for &n in cancel.intersection(&main) {
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
    }

    if start.is_some() {
        for (i, node) in wf.nodes.iter().enumerate() {
            if !main.contains(&i) && !cancel.contains(&i) {
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

    // Templates read `nodes.X` only where X has run whenever this node runs: X dominates it,
    // or X is forced by a fan-out that the node joins after (see `must_run`).
    let acyclic = !cyclic.iter().any(|c| *c);
    let doms_main = start.map(|s| dominators::simple_fast(&graph, gidx[s]));
    let doms_cancel = cancel_root.map(|c| dominators::simple_fast(&graph, gidx[c]));
    let must_main = start
        .filter(|_| acyclic)
        .map(|s| must_run(wf, &graph, &gidx, s));
    let must_cancel = cancel_root
        .filter(|_| acyclic)
        .map(|c| must_run(wf, &graph, &gidx, c));
    for (i, node) in wf.nodes.iter().enumerate() {
        let refs = node_refs(node, &mut out);
        if refs.is_empty() || cyclic[i] {
            continue;
        }
        let in_cancel = cancel.contains(&i);
        let (doms, must) = if in_cancel {
            (&doms_cancel, &must_cancel)
        } else {
            (&doms_main, &must_main)
        };
        for r in refs {
            let Some(&x) = index.get(r.as_str()) else {
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
                    && d.dominators(gidx[i])
                        .is_some_and(|mut it| it.any(|ix| ix == gidx[x]))
            });
            if dominated || must.as_ref().is_some_and(|m| m[i].contains(&x)) {
                continue;
            }
            if in_cancel && main.contains(&x) {
                out.push(
                    Diagnostic::warning("reference_may_be_missing", format!("`{}` reads `nodes.{r}`, which may not have run when the run was cancelled (it is `none` then)", node.id))
                        .at_node(&node.id),
                );
            } else if main.contains(&i) || in_cancel {
                out.push(
                    Diagnostic::error("reference_not_dominating", format!("`{}` reads `nodes.{r}`, but `{r}` does not run before `{}` on every path", node.id, node.id))
                        .at_node(&node.id),
                );
            }
        }
    }

    out.sort_by_key(|d| d.severity);
    out
}

/// For each node reachable from `root` in an acyclic graph: the nodes that have surely run
/// before it whenever it runs. Dominators alone miss a fan-in: after `parallel → a, b → join`,
/// `join` runs only once `a` and `b` are decided, and both were forced to run by the fan-out.
/// So the set is the intersection over predecessors, closed under "forced" successors (a node
/// whose only connected port is its success port hands a token to every target), and kept to
/// the node's ancestors, which are all decided before it.
fn must_run(
    wf: &Workflow,
    graph: &DiGraph<usize, usize>,
    gidx: &[NodeIndex],
    root: usize,
) -> Vec<BTreeSet<usize>> {
    use petgraph::Direction::{Incoming, Outgoing};
    let n = wf.nodes.len();
    let forced = |s: usize| -> bool {
        let ports: BTreeSet<&str> = graph
            .edges(gidx[s])
            .map(|e| wf.edges[*e.weight()].port.as_str())
            .collect();
        let primary = wf.nodes[s].kind.ports().first().map(|(p, _)| *p);
        !matches!(wf.nodes[s].kind, NodeKind::Condition(_))
            && ports.len() == 1
            && ports.first().copied() == primary
    };
    let order = petgraph::algo::toposort(graph, None).unwrap_or_default();
    let live = reachable(graph, gidx[root]);
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

fn reachable(graph: &DiGraph<usize, usize>, from: NodeIndex) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut dfs = Dfs::new(graph, from);
    while let Some(ix) = dfs.next(graph) {
        seen.insert(graph[ix]);
    }
    seen
}

fn port_never_taken(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Approval(a) => a.timeout.is_none(),
        NodeKind::Signal(s) => s.timeout.is_none(),
        _ => false,
    }
}

/// Checks a node's templates and expression parse; returns the nodes they read.
fn node_refs(node: &Node, out: &mut Vec<Diagnostic>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for (field, value) in node.kind.templates() {
        match template::check(&value) {
            Ok(()) => refs.extend(template::node_refs(&value)),
            Err(e) => out.push(
                Diagnostic::error("template_syntax", format!("`{}`.{field}: {e}", node.id))
                    .at_node(&node.id),
            ),
        }
    }
    if let NodeKind::Condition(c) = &node.kind {
        match template::check_expression(&c.expr) {
            Ok(()) => refs.extend(template::expression_refs(&c.expr)),
            Err(e) => out.push(
                Diagnostic::error("expression_syntax", format!("`{}`.expr: {e}", node.id))
                    .at_node(&node.id),
            ),
        }
    }
    refs
}

fn check_duration(
    d: &DurationText,
    field: &str,
    node: Option<&str>,
    out: &mut Vec<Diagnostic>,
) -> Option<std::time::Duration> {
    let at = |diag: Diagnostic| match node {
        Some(n) => diag.at_node(n),
        None => diag,
    };
    let prefix = node.map(|n| format!("`{n}`.")).unwrap_or_default();
    match d.parse() {
        Ok(v) if v.is_zero() => {
            out.push(at(Diagnostic::error(
                "invalid_duration",
                format!("{prefix}{field}: `{d}` must be longer than zero"),
            )));
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            out.push(at(Diagnostic::error(
                "invalid_duration",
                format!(
                    "{prefix}{field}: `{d}` is not a duration like 500ms, 5s, 1h30m or 7d ({e})"
                ),
            )));
            None
        }
    }
}

fn check_retry(node: &str, retry: Option<&RetryPolicy>, out: &mut Vec<Diagnostic>) {
    let Some(r) = retry else { return };
    if let Some(n) = r.max_attempts.filter(|n| *n < 1) {
        out.push(
            Diagnostic::error(
                "retry_max_attempts",
                format!("`{node}`.retry.max_attempts is {n}; it must be at least 1"),
            )
            .at_node(node),
        );
    }
    if let Some(c) = r
        .backoff_coefficient
        .filter(|c| c.is_nan() || *c < 1.0 || !c.is_finite())
    {
        out.push(
            Diagnostic::error(
                "retry_backoff_coefficient",
                format!("`{node}`.retry.backoff_coefficient is {c}; it must be at least 1"),
            )
            .at_node(node),
        );
    }
    let initial = r
        .initial_interval
        .as_ref()
        .and_then(|d| check_duration(d, "retry.initial_interval", Some(node), out));
    let max = r
        .max_interval
        .as_ref()
        .and_then(|d| check_duration(d, "retry.max_interval", Some(node), out));
    if let (Some(i), Some(m)) = (initial, max)
        && m < i
    {
        out.push(
            Diagnostic::warning(
                "retry_max_interval",
                format!("`{node}`.retry.max_interval is shorter than initial_interval"),
            )
            .at_node(node),
        );
    }
}

fn check_settings(node: &Node, out: &mut Vec<Diagnostic>) {
    let id = node.id.as_str();
    let dur = |d: &Option<DurationText>, field: &str, out: &mut Vec<Diagnostic>| {
        if let Some(d) = d {
            check_duration(d, field, Some(id), out);
        }
    };
    match &node.kind {
        NodeKind::Http(h) => {
            dur(&h.timeout, "timeout", out);
            check_retry(id, h.retry.as_ref(), out);
            let m = h.request.method.to_ascii_uppercase();
            if !m.contains("{{")
                && !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                    .contains(&m.as_str())
            {
                out.push(
                    Diagnostic::error(
                        "invalid_method",
                        format!(
                            "`{id}`.request.method `{}` is not an HTTP method",
                            h.request.method
                        ),
                    )
                    .at_node(id),
                );
            }
            if h.request.url.trim().is_empty() {
                out.push(
                    Diagnostic::error("missing_url", format!("`{id}`.request.url is empty"))
                        .at_node(id),
                );
            }
        }
        NodeKind::Task(t) => {
            dur(&t.timeout, "timeout", out);
            dur(&t.heartbeat_timeout, "heartbeat_timeout", out);
            check_retry(id, t.retry.as_ref(), out);
            for (field, v) in [("queue", &t.queue), ("activity", &t.activity)] {
                if v.trim().is_empty() {
                    out.push(
                        Diagnostic::error("missing_field", format!("`{id}`.{field} is empty"))
                            .at_node(id),
                    );
                }
            }
        }
        NodeKind::Approval(a) => dur(&a.timeout, "timeout", out),
        NodeKind::Signal(s) => {
            dur(&s.timeout, "timeout", out);
            if s.signal.trim().is_empty() {
                out.push(
                    Diagnostic::error("missing_field", format!("`{id}`.signal is empty"))
                        .at_node(id),
                );
            }
        }
        NodeKind::Timer(t) => {
            check_duration(&t.duration, "duration", Some(id), out);
        }
        _ => {}
    }
}

fn check_schema(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let Some(schema) = &wf.input_schema else {
        return;
    };
    if !schema.is_object() && !schema.is_boolean() {
        out.push(Diagnostic::error(
            "invalid_input_schema",
            "`input_schema` must be a JSON Schema object",
        ));
        return;
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        out.push(Diagnostic::error(
            "invalid_input_schema",
            format!("`input_schema` is not a valid JSON Schema: {e}"),
        ));
    }
}

fn check_triggers(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let secret = wf
        .triggers
        .as_ref()
        .and_then(|t| t.webhook.as_ref())
        .and_then(|w| w.secret.as_ref());
    if let Some(s) = secret
        && (s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
    {
        out.push(Diagnostic::error(
            "invalid_secret_name",
            format!(
                "webhook secret `{s}` must be a NAME of [A-Z0-9_] (read from WEFT_SECRET_<NAME>)"
            ),
        ));
    }
}

/// Checks a run's input against the workflow's `input_schema`; returns each failing path.
pub fn check_input(schema: &Value, input: &Value) -> Result<(), BTreeMap<String, String>> {
    let Ok(validator) = jsonschema::validator_for(schema) else {
        return Ok(());
    };
    let errors: BTreeMap<String, String> = validator
        .iter_errors(input)
        .map(|e| {
            let path = e.instance_path().to_string();
            (
                if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                },
                e.to_string(),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
