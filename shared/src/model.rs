//! The `weft/v1` workflow definition (SPEC §1) as serde types.
//!
//! Nodes are parsed one at a time (see [`Node::from_map`]) so that an unknown node type or an
//! unknown field is reported with the id of the node it is in, and so the validator can list
//! every broken node at once instead of stopping at the first.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::access::Role;
use crate::limits::MAX_DURATION;

/// A workflow definition: a graph of nodes and the edges between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema every run's input must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// The whole run's deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// The node whose path runs when the run is cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_cancel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Triggers>,
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// How a workflow can be started besides the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookTrigger>,
    /// Cron schedules (SPEC §5); each is known by its index in this list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<ScheduleTrigger>,
}

/// A cron schedule that starts runs (SPEC §5). Kept as written (strings), so a bad value is a
/// validator finding with its own code instead of a parse error; [`crate::schedule`] reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    /// 5 fields, or 6 with seconds first.
    pub cron: String,
    /// An IANA zone name; default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Each run's input; default `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// `skip` (default), `buffer_one`, `allow_all` or `cancel_other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    /// After downtime, missed fire times this recent still start; default `1m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchup_window: Option<DurationText>,
}

impl ScheduleTrigger {
    /// The input each run of this schedule starts with.
    pub fn run_input(&self) -> Value {
        self.input
            .clone()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    /// The overlap policy; an unknown name (which the validator refuses) reads as the default.
    pub fn overlap_policy(&self) -> crate::schedule::Overlap {
        self.overlap
            .as_deref()
            .and_then(crate::schedule::Overlap::parse)
            .unwrap_or_default()
    }

    /// The catch-up window; one that does not parse (which the validator refuses) reads as
    /// the default.
    pub fn catchup(&self) -> Duration {
        self.catchup_window
            .as_ref()
            .and_then(|d| d.parse().ok())
            .unwrap_or(crate::schedule::DEFAULT_CATCHUP_WINDOW)
    }
}

impl Workflow {
    /// The schedules of this definition, in index order.
    pub fn schedules(&self) -> &[ScheduleTrigger] {
        self.triggers.as_ref().map_or(&[], |t| &t.schedules)
    }
}

/// `POST /hooks/{name}` starts a run; with `secret`, deliveries must be signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// The NAME of `WEFT_HOOK_SECRET_<NAME>` holding the HMAC key (kept apart from the `secrets` templates read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An edge leaves `from` through `port` (default `next`) and enters `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub from: String,
    pub to: String,
    #[serde(default = "default_port", skip_serializing_if = "is_default_port")]
    pub port: String,
}

fn default_port() -> String {
    "next".to_owned()
}

fn is_default_port(port: &str) -> bool {
    port == "next"
}

/// Where the editor draws a node; the engine ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// What a node does, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    Start(Empty),
    End(EndNode),
    Http(HttpNode),
    Task(TaskNode),
    Approval(ApprovalNode),
    Signal(SignalNode),
    Timer(TimerNode),
    Condition(ConditionNode),
    Transform(TransformNode),
    Parallel(Empty),
    Join(Empty),
    Subflow(SubflowNode),
    Map(MapNode),
}

/// The node types of SPEC §1, in palette order.
pub const NODE_TYPES: [&str; 13] = [
    "start",
    "end",
    "http",
    "task",
    "approval",
    "signal",
    "timer",
    "condition",
    "transform",
    "parallel",
    "join",
    "subflow",
    "map",
];

/// A node type without settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndNode {
    /// The run's output, a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpNode {
    pub request: HttpRequest,
    /// Per attempt; default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
}

/// An HTTP request whose every string is a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskNode {
    pub queue: String,
    pub activity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Per attempt; default 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout: Option<DurationText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalNode {
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// Who may decide (SPEC §7); none: anyone with the `approver` role or above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers: Option<Approvers>,
    /// Whether whoever started the run may decide it (default: no).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_self_approval: bool,
    /// After each step's `after` still waiting, its approvers may decide too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalate: Vec<Escalation>,
    /// Taken at `timeout` instead of the `timeout` port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_decision: Option<Verdict>,
    /// A JSON Schema the decision's `data` must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Value>,
}

/// Who may decide an approval: anyone holding one of `roles` (or a role above it), and the
/// users named. Both empty: nobody but an escalation's approvers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approvers {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

impl Approvers {
    /// Whether a caller named `user` with `role` is one of these.
    pub fn admit(&self, user: &str, role: Role) -> bool {
        self.roles.iter().any(|r| role >= *r) || self.users.iter().any(|u| u == user)
    }
}

/// One escalation step of an approval: after `after` still waiting, `approvers` may decide
/// too, and `notify`, a URL, gets a POST saying so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub after: DurationText,
    pub approvers: Approvers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
}

/// An approval's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        }
    }

    /// The port a decision leaves by.
    pub fn port(self) -> &'static str {
        match self {
            Verdict::Approve => "approved",
            Verdict::Reject => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalNode {
    pub signal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerNode {
    pub duration: DurationText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionNode {
    pub expr: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformNode {
    pub output: Value,
}

/// Starts one child run of `workflow` and waits for it (SPEC §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubflowNode {
    pub workflow: String,
    /// The child's definition version; default: the latest when the node starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The child's input, a template; default `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// How long the child may run; past it the child is cancelled and the node fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
}

/// One child run of `workflow` per item of `items`, at most `max_concurrency` at once (SPEC §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapNode {
    /// A template giving a JSON array.
    pub items: Value,
    pub workflow: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Each child's input, a template whose context adds `item` and `index`; default
    /// `{{ item }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Children running at once; default [`defaults::MAX_CONCURRENCY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<i64>,
    /// Children that may fail before the node does; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failures: Option<i64>,
}

impl MapNode {
    /// Children running at once, with the default applied (the validator keeps it in
    /// `1..=MAX_MAP_CONCURRENCY`; a stored value outside counts as its nearest bound of 1).
    pub fn concurrency(&self) -> u32 {
        self.max_concurrency.map_or(defaults::MAX_CONCURRENCY, |c| {
            c.clamp(1, u32::MAX as i64) as u32
        })
    }
}

/// How failed attempts are retried. Missing fields take SPEC defaults (see [`Retry`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_interval: Option<DurationText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_coefficient: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_interval: Option<DurationText>,
}

/// A retry policy with defaults applied and durations parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub max_attempts: u32,
    pub initial_interval: Duration,
    pub backoff_coefficient: f64,
    pub max_interval: Duration,
}

impl Retry {
    /// The wait before attempt `n + 1`, after attempt `n` (1-based) failed:
    /// `min(initial × coefficient^(n-1), max_interval)`. Computed in floating point, so it
    /// cannot overflow; whatever is not a finite wait below `max_interval` is `max_interval`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(1024) as i32;
        let secs = self.initial_interval.as_secs_f64() * self.backoff_coefficient.powi(exp);
        match Duration::try_from_secs_f64(secs) {
            Ok(wait) if wait < self.max_interval => wait,
            _ => self.max_interval,
        }
    }
}

/// The defaults of SPEC §1, declared once for the engine and the designer alike.
pub mod defaults {
    use std::time::Duration;

    /// An `http` attempt's timeout.
    pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
    /// A `task` attempt's timeout.
    pub const TASK_TIMEOUT: Duration = Duration::from_secs(300);
    pub const MAX_ATTEMPTS: u32 = 3;
    pub const INITIAL_INTERVAL: Duration = Duration::from_secs(1);
    pub const BACKOFF_COEFFICIENT: f64 = 2.0;
    /// `max_interval` defaults to this many times `initial_interval` (at most
    /// [`MAX_DURATION`](crate::limits::MAX_DURATION)).
    pub const MAX_INTERVAL_FACTOR: u32 = 100;
    /// A `map` node's children running at once.
    pub const MAX_CONCURRENCY: u32 = 10;
    /// As written in a definition, for placeholders.
    pub const HTTP_TIMEOUT_TEXT: &str = "30s";
    pub const TASK_TIMEOUT_TEXT: &str = "5m";
}

impl RetryPolicy {
    /// Applies SPEC defaults (`3, 1s, 2.0, 100 × initial_interval`) for a preview: a value
    /// being typed that does not parse yet shows as its default. The engine uses the strict
    /// [`RetryPolicy::parse`].
    pub fn resolve(policy: Option<&RetryPolicy>) -> Retry {
        let p = policy.cloned().unwrap_or_default();
        let lenient = RetryPolicy {
            max_attempts: p.max_attempts.filter(|n| *n >= 1),
            initial_interval: p.initial_interval.filter(|d| d.parse().is_ok()),
            backoff_coefficient: p.backoff_coefficient.filter(|c| *c >= 1.0),
            max_interval: p.max_interval.filter(|d| d.parse().is_ok()),
        };
        RetryPolicy::parse(Some(&lenient)).expect("every invalid field was dropped")
    }

    /// The policy with SPEC defaults applied, or why a field is invalid (the validator reports
    /// the same).
    pub fn parse(policy: Option<&RetryPolicy>) -> Result<Retry, String> {
        let default = RetryPolicy::default();
        let p = policy.unwrap_or(&default);
        let duration = |d: &Option<DurationText>, name: &str| {
            d.as_ref()
                .map(|d| d.parse().map_err(|e| format!("retry.{name} `{d}`: {e}")))
                .transpose()
        };
        let initial = duration(&p.initial_interval, "initial_interval")?
            .unwrap_or(defaults::INITIAL_INTERVAL);
        let max = duration(&p.max_interval, "max_interval")?.unwrap_or(
            initial
                .saturating_mul(defaults::MAX_INTERVAL_FACTOR)
                .min(MAX_DURATION),
        );
        let max_attempts = match p.max_attempts {
            None => defaults::MAX_ATTEMPTS,
            Some(n) if n >= 1 => n.min(u32::MAX as i64) as u32,
            Some(n) => return Err(format!("retry.max_attempts {n} is below 1")),
        };
        let backoff_coefficient = match p.backoff_coefficient {
            None => defaults::BACKOFF_COEFFICIENT,
            Some(c) if c >= 1.0 => c,
            Some(c) => return Err(format!("retry.backoff_coefficient {c} is below 1")),
        };
        Ok(Retry {
            max_attempts,
            initial_interval: initial,
            backoff_coefficient,
            max_interval: max,
        })
    }
}

/// A duration as written (`500ms`, `5s`, `1h30m`, `7d`), kept verbatim so a definition
/// round-trips unchanged; [`DurationText::parse`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DurationText(pub String);

/// Why a [`DurationText`] is not a duration Weft accepts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationError {
    /// Not written like `500ms`, `5s`, `1h30m` or `7d`.
    #[error(transparent)]
    Invalid(#[from] humantime::DurationError),
    /// Longer than [`MAX_DURATION`], so that adding it to a time never overflows.
    #[error("longer than the maximum of {}d (10 years)", MAX_DURATION.as_secs() / 86_400)]
    TooLong,
}

impl DurationText {
    /// The duration, at most [`MAX_DURATION`]; the validator, the engine's plan and the
    /// designer all read durations through this, so none sees a longer one.
    pub fn parse(&self) -> Result<Duration, DurationError> {
        let d = humantime::parse_duration(self.0.trim())?;
        if d > MAX_DURATION {
            return Err(DurationError::TooLong);
        }
        Ok(d)
    }
}

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a node could not be read; carries a stable diagnostic code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NodeError {
    pub code: &'static str,
    pub node: Option<String>,
    pub message: String,
}

impl Node {
    /// Reads one node from its JSON object, naming the node in any error.
    pub fn from_map(mut map: Map<String, Value>) -> Result<Node, NodeError> {
        let id = match map.remove("id") {
            Some(Value::String(id)) => id,
            _ => {
                return Err(NodeError {
                    code: "invalid_node",
                    node: None,
                    message: "a node has no string `id`".to_owned(),
                });
            }
        };
        let fail = |code: &'static str, message: String| NodeError {
            code,
            node: Some(id.clone()),
            message,
        };
        let label = match map.remove("label") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                return Err(fail(
                    "invalid_node",
                    format!("node `{id}`: `label` must be a string"),
                ));
            }
        };
        let position = match map.remove("position") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value(v)
                    .map_err(|e| fail("invalid_node", format!("node `{id}`: position: {e}")))?,
            ),
        };
        let ty = match map.remove("type") {
            Some(Value::String(t)) => t,
            _ => {
                return Err(fail(
                    "invalid_node",
                    format!("node `{id}` has no string `type`"),
                ));
            }
        };
        let rest = Value::Object(map);
        fn body<T: DeserializeOwned>(rest: Value) -> Result<T, serde_json::Error> {
            serde_json::from_value(rest)
        }
        let kind = match ty.as_str() {
            "start" => body(rest).map(NodeKind::Start),
            "end" => body(rest).map(NodeKind::End),
            "http" => body(rest).map(NodeKind::Http),
            "task" => body(rest).map(NodeKind::Task),
            "approval" => body(rest).map(NodeKind::Approval),
            "signal" => body(rest).map(NodeKind::Signal),
            "timer" => body(rest).map(NodeKind::Timer),
            "condition" => body(rest).map(NodeKind::Condition),
            "transform" => body(rest).map(NodeKind::Transform),
            "parallel" => body(rest).map(NodeKind::Parallel),
            "join" => body(rest).map(NodeKind::Join),
            "subflow" => body(rest).map(NodeKind::Subflow),
            "map" => body(rest).map(NodeKind::Map),
            other => {
                return Err(fail(
                    "unknown_node_type",
                    format!(
                        "node `{id}` has unknown type `{other}` (expected one of {})",
                        NODE_TYPES.join(", ")
                    ),
                ));
            }
        };
        let kind = kind.map_err(|e| {
            let msg = e.to_string();
            let code = if msg.contains("unknown field") {
                "unknown_field"
            } else {
                "invalid_node"
            };
            fail(code, format!("node `{id}` ({ty}): {msg}"))
        })?;
        Ok(Node {
            id,
            label,
            position,
            kind,
        })
    }

    /// The node's `type` as written in a definition.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(d)?;
        Node::from_map(map).map_err(D::Error::custom)
    }
}

impl NodeKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Start(_) => "start",
            NodeKind::End(_) => "end",
            NodeKind::Http(_) => "http",
            NodeKind::Task(_) => "task",
            NodeKind::Approval(_) => "approval",
            NodeKind::Signal(_) => "signal",
            NodeKind::Timer(_) => "timer",
            NodeKind::Condition(_) => "condition",
            NodeKind::Transform(_) => "transform",
            NodeKind::Parallel(_) => "parallel",
            NodeKind::Join(_) => "join",
            NodeKind::Subflow(_) => "subflow",
            NodeKind::Map(_) => "map",
        }
    }

    /// The output ports this type has, each with whether the definition must connect it.
    pub fn ports(&self) -> &'static [(&'static str, bool)] {
        match self {
            NodeKind::End(_) => &[],
            NodeKind::Http(_) | NodeKind::Task(_) | NodeKind::Subflow(_) | NodeKind::Map(_) => {
                &[("next", true), ("error", false)]
            }
            NodeKind::Approval(_) => &[("approved", true), ("rejected", false), ("timeout", false)],
            NodeKind::Signal(_) => &[("next", true), ("timeout", false)],
            NodeKind::Condition(_) => &[("true", true), ("false", true)],
            NodeKind::Start(_)
            | NodeKind::Timer(_)
            | NodeKind::Transform(_)
            | NodeKind::Parallel(_)
            | NodeKind::Join(_) => &[("next", true)],
        }
    }

    /// The retry policy of an activity node, with defaults applied.
    pub fn retry(&self) -> Option<Retry> {
        match self {
            NodeKind::Http(n) => Some(RetryPolicy::resolve(n.retry.as_ref())),
            NodeKind::Task(n) => Some(RetryPolicy::resolve(n.retry.as_ref())),
            _ => None,
        }
    }

    /// Every templated JSON value of this node, with the name of the field it sits in.
    pub fn templates(&self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        match self {
            NodeKind::End(n) => out.extend(n.output.clone().map(|v| ("output", v))),
            NodeKind::Http(n) => {
                out.push(("request.method", Value::String(n.request.method.clone())));
                out.push(("request.url", Value::String(n.request.url.clone())));
                if let Some(h) = &n.request.headers {
                    out.push((
                        "request.headers",
                        Value::Object(
                            h.iter()
                                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                                .collect(),
                        ),
                    ));
                }
                out.extend(n.request.body.clone().map(|v| ("request.body", v)));
            }
            NodeKind::Task(n) => out.extend(n.input.clone().map(|v| ("input", v))),
            NodeKind::Approval(n) => out.push(("prompt", Value::String(n.prompt.clone()))),
            NodeKind::Transform(n) => out.push(("output", n.output.clone())),
            NodeKind::Subflow(n) => out.extend(n.input.clone().map(|v| ("input", v))),
            NodeKind::Map(n) => {
                out.push(("items", n.items.clone()));
                out.extend(n.input.clone().map(|v| ("input", v)));
            }
            _ => {}
        }
        out
    }
}

impl NodeKind {
    /// Whether a test run may stub this node (SPEC §6 "Test runs"): the types that act on
    /// the world or on other runs (`http`, `task`, `subflow`, `map`).
    pub fn is_stubbable(&self) -> bool {
        matches!(
            self,
            NodeKind::Http(_) | NodeKind::Task(_) | NodeKind::Subflow(_) | NodeKind::Map(_)
        )
    }

    /// The workflow a `subflow` or `map` node starts children of.
    pub fn child_workflow(&self) -> Option<&str> {
        match self {
            NodeKind::Subflow(n) => Some(&n.workflow),
            NodeKind::Map(n) => Some(&n.workflow),
            _ => None,
        }
    }
}

impl Workflow {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The workflows its `subflow` and `map` nodes start, each once, in node order.
    pub fn child_workflows(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for n in &self.nodes {
            if let Some(w) = n.kind.child_workflow()
                && !out.contains(&w)
            {
                out.push(w);
            }
        }
        out
    }
}
