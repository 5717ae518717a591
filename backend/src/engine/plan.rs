//! `Plan`: a definition version indexed for the engine once, shared by every run of it —
//! the graph's edges per node, the `on_cancel` path, what each node's templates read (nodes
//! and secrets) and whether they render quickly, and every duration and retry policy parsed
//! into typed values with SPEC's defaults (`shared::model::defaults`). Nothing downstream
//! parses a duration or scans a template again.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use shared::model::{DurationText, NodeKind, Retry, RetryPolicy, Workflow, defaults};
use shared::template;

/// A definition version with its graph indexed for the engine.
#[derive(Debug)]
pub struct Plan {
    /// The name the store keeps this version under: the definition's own, or the hidden
    /// name of a test run's unsaved definition (`test_name`). Runs are recorded under it.
    pub name: String,
    pub workflow: Workflow,
    pub version: i64,
    pub index: HashMap<String, usize>,
    /// Edge indices entering each node.
    pub incoming: Vec<Vec<usize>>,
    /// Edge indices leaving each node.
    pub outgoing: Vec<Vec<usize>>,
    /// Nodes on the `on_cancel` path; they run only after a cancel.
    pub cancel_path: Vec<bool>,
    pub on_cancel: Option<usize>,
    pub start: usize,
    /// Per node, the nodes its templates read (`nodes.<id>`); `None` when it reads them all.
    /// A node's context holds only these outputs.
    pub reads: Vec<Option<Vec<usize>>>,
    /// Per node, whether its templates are quick ([`template::is_quick`]): rendered where
    /// they are needed (in `decide`, in an attempt's task); any other is rendered apart, on
    /// the bounded blocking pool (`crate::offload`).
    pub quick: Vec<bool>,
    /// Per node, the secrets its templates read as `secrets.NAME`; the only ones its context
    /// gets. A stored definition from before the validator refused `{{ secrets }}` as a whole
    /// reads none.
    pub secrets: Vec<BTreeSet<String>>,
    /// Per node, its durations and retry policy, parsed once with the defaults applied.
    pub limits: Vec<Limits>,
    /// The whole run's deadline.
    pub timeout: Option<Duration>,
}

/// A node's timing, as typed values: what `decide`, `effects` and the shells read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// An attempt's timeout (`http`: default 30 s; `task`: default 5 min), or how long an
    /// approval, a signal or a `subflow`'s child may take.
    pub timeout: Option<Duration>,
    /// A `task` attempt's heartbeat timeout.
    pub heartbeat: Option<Duration>,
    /// A `timer` node's duration.
    pub wait: Option<Duration>,
    /// An activity's retry policy.
    pub retry: Option<Retry>,
    /// An approval's escalation steps: how long after it began waiting each is due.
    pub escalate: Vec<Duration>,
}

/// A stored definition the engine cannot run (the validator would have refused it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(String);

impl Plan {
    /// Indexes a definition the validator accepted and parses its durations once.
    pub fn new(workflow: Workflow, version: i64) -> Result<Plan, PlanError> {
        let n = workflow.nodes.len();
        let index: HashMap<String, usize> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.id.clone(), i))
            .collect();
        let mut incoming = vec![Vec::new(); n];
        let mut outgoing = vec![Vec::new(); n];
        for (e, edge) in workflow.edges.iter().enumerate() {
            if let (Some(&f), Some(&t)) = (index.get(&edge.from), index.get(&edge.to)) {
                outgoing[f].push(e);
                incoming[t].push(e);
            }
        }
        let on_cancel = workflow
            .on_cancel
            .as_ref()
            .and_then(|c| index.get(c).copied());
        let mut cancel_path = vec![false; n];
        let mut stack: Vec<usize> = on_cancel.into_iter().collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut cancel_path[i], true) {
                stack.extend(
                    outgoing[i]
                        .iter()
                        .filter_map(|&e| index.get(&workflow.edges[e].to).copied()),
                );
            }
        }
        let start = workflow
            .nodes
            .iter()
            .position(|n| matches!(n.kind, NodeKind::Start(_)))
            .unwrap_or(0);
        let reads = workflow
            .nodes
            .iter()
            .map(|node| {
                let mut ids = Some(std::collections::BTreeSet::new());
                let mut add = |r: Option<std::collections::BTreeSet<String>>| match (&mut ids, r) {
                    (Some(all), Some(r)) => all.extend(r),
                    _ => ids = None,
                };
                for (_, value) in node.kind.templates() {
                    add(template::node_reads(&value));
                }
                if let NodeKind::Condition(c) = &node.kind {
                    add(template::expression_node_reads(&c.expr));
                }
                ids.map(|ids| ids.iter().filter_map(|id| index.get(id).copied()).collect())
            })
            .collect();
        let quick = workflow
            .nodes
            .iter()
            .map(|node| {
                let templates = node
                    .kind
                    .templates()
                    .iter()
                    .all(|(_, v)| template::is_quick(v));
                match &node.kind {
                    NodeKind::Condition(c) => templates && template::expression_is_quick(&c.expr),
                    _ => templates,
                }
            })
            .collect();
        let secrets = workflow
            .nodes
            .iter()
            .map(|node| {
                let mut names = BTreeSet::new();
                for (_, value) in node.kind.templates() {
                    if let template::SecretReads::Names(n) = template::secret_reads(&value) {
                        names.extend(n);
                    }
                }
                names
            })
            .collect();
        let limits = workflow
            .nodes
            .iter()
            .map(|n| Limits::of(&n.kind).map_err(|e| PlanError(format!("node `{}`: {e}", n.id))))
            .collect::<Result<_, _>>()?;
        let timeout = workflow
            .timeout
            .as_ref()
            .map(|t| duration(t, "timeout"))
            .transpose()
            .map_err(PlanError)?;
        Ok(Plan {
            name: workflow.name.clone(),
            workflow,
            version,
            index,
            incoming,
            outgoing,
            cancel_path,
            on_cancel,
            start,
            reads,
            quick,
            secrets,
            limits,
            timeout,
        })
    }

    /// Node `i`'s timing.
    pub fn limits(&self, i: usize) -> &Limits {
        &self.limits[i]
    }

    pub fn target(&self, edge: usize) -> usize {
        self.index[&self.workflow.edges[edge].to]
    }

    pub fn kind(&self, node: usize) -> &NodeKind {
        &self.workflow.nodes[node].kind
    }

    pub fn has_port(&self, node: usize, port: &str) -> bool {
        self.outgoing[node]
            .iter()
            .any(|&e| self.workflow.edges[e].port == port)
    }
}

impl Limits {
    fn of(kind: &NodeKind) -> Result<Limits, String> {
        let opt = |d: &Option<DurationText>, name: &str| {
            d.as_ref().map(|d| duration(d, name)).transpose()
        };
        Ok(match kind {
            NodeKind::Http(h) => Limits {
                timeout: Some(opt(&h.timeout, "timeout")?.unwrap_or(defaults::HTTP_TIMEOUT)),
                retry: Some(RetryPolicy::parse(h.retry.as_ref())?),
                ..Limits::default()
            },
            NodeKind::Task(t) => Limits {
                timeout: Some(opt(&t.timeout, "timeout")?.unwrap_or(defaults::TASK_TIMEOUT)),
                heartbeat: opt(&t.heartbeat_timeout, "heartbeat_timeout")?,
                retry: Some(RetryPolicy::parse(t.retry.as_ref())?),
                ..Limits::default()
            },
            NodeKind::Approval(a) => Limits {
                timeout: opt(&a.timeout, "timeout")?,
                escalate: a
                    .escalate
                    .iter()
                    .map(|s| duration(&s.after, "escalate.after"))
                    .collect::<Result<_, _>>()?,
                ..Limits::default()
            },
            NodeKind::Signal(s) => Limits {
                timeout: opt(&s.timeout, "timeout")?,
                ..Limits::default()
            },
            NodeKind::Subflow(s) => Limits {
                timeout: opt(&s.timeout, "timeout")?,
                ..Limits::default()
            },
            NodeKind::Timer(t) => Limits {
                wait: Some(duration(&t.duration, "duration")?),
                ..Limits::default()
            },
            _ => Limits::default(),
        })
    }
}

fn duration(d: &DurationText, field: &str) -> Result<Duration, String> {
    d.parse().map_err(|e| format!("{field} `{d}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(nodes: serde_json::Value) -> Result<Plan, PlanError> {
        let wf: Workflow = serde_json::from_value(serde_json::json!({
            "name": "p", "nodes": nodes, "edges": []
        }))
        .expect("workflow");
        Plan::new(wf, 1)
    }

    #[test]
    fn defaults_apply_once_and_written_values_win() {
        let p = plan(serde_json::json!([
            {"id": "h", "type": "http", "request": {"method": "GET", "url": "http://x"}},
            {"id": "t", "type": "task", "queue": "q", "activity": "a", "timeout": "2m", "heartbeat_timeout": "10s",
             "retry": {"max_attempts": 5, "initial_interval": "2s"}},
            {"id": "w", "type": "timer", "duration": "1h30m"}
        ]))
        .expect("plan");
        assert_eq!(p.limits(0).timeout, Some(defaults::HTTP_TIMEOUT));
        let r = p.limits(0).retry.expect("retry");
        assert_eq!(
            (r.max_attempts, r.initial_interval),
            (3, Duration::from_secs(1))
        );
        assert_eq!(p.limits(1).timeout, Some(Duration::from_secs(120)));
        assert_eq!(p.limits(1).heartbeat, Some(Duration::from_secs(10)));
        let r = p.limits(1).retry.expect("retry");
        assert_eq!(
            (r.max_attempts, r.max_interval),
            (5, Duration::from_secs(200))
        );
        assert_eq!(p.limits(2).wait, Some(Duration::from_secs(5400)));
    }

    #[test]
    fn a_bad_duration_is_an_error_not_zero() {
        let e = plan(serde_json::json!([{"id": "w", "type": "timer", "duration": "soon"}]))
            .expect_err("no plan");
        assert!(e.to_string().contains("node `w`: duration `soon`"), "{e}");
    }

    #[test]
    fn a_node_gets_only_the_secrets_it_names_and_whole_reads_get_none() {
        let p = plan(serde_json::json!([
            {"id": "h", "type": "http", "request": {"method": "GET", "url": "http://x/{{ secrets.A }}",
             "headers": {"k": "{{ secrets.B }}"}}},
            {"id": "w", "type": "http", "request": {"method": "GET", "url": "http://x", "body": "{{ secrets }}"}},
            {"id": "t", "type": "transform", "output": "{% for x in input.xs %}{% endfor %}"}
        ]))
        .expect("plan");
        let names = |i: usize| p.secrets[i].iter().cloned().collect::<Vec<_>>();
        assert_eq!(names(0), ["A", "B"]);
        assert!(names(1).is_empty(), "a whole read gets none");
        assert_eq!(p.quick, [true, true, false]);
        let secrets = crate::engine::activity::Secrets::from_map(
            [("A", "a"), ("B", "b"), ("C", "c")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        );
        let ctx = secrets.context(serde_json::json!({}), &p.secrets[0]);
        assert_eq!(ctx["secrets"], serde_json::json!({"A": "a", "B": "b"}));
        let ctx = secrets.context(serde_json::json!({}), &p.secrets[1]);
        assert_eq!(ctx["secrets"], serde_json::json!({}));
    }
}
