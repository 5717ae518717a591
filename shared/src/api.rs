//! Request and response bodies of the HTTP API (SPEC §3), shared by the server and the SPA.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::access::Role;
use crate::event::{ChildStatus, Event, Millis, Parent, Recorded, RedriveOf, Trigger};
use crate::fold::NodeState;
use crate::model::Verdict;
use crate::validate::Diagnostic;

/// A run's status (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Paused by a caller (SPEC §6): nothing new starts until it is resumed.
    Paused,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Paused,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    /// The wire name (also the UI's `status-*` classes and filters).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

/// A node's status within a run (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    #[default]
    Pending,
    Running,
    Retrying,
    Waiting,
    Completed,
    Failed,
    Skipped,
    Cancelled,
}

impl NodeStatus {
    /// The wire name (also the UI's `state-*` classes).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Pending => "pending",
            NodeStatus::Running => "running",
            NodeStatus::Retrying => "retrying",
            NodeStatus::Waiting => "waiting",
            NodeStatus::Completed => "completed",
            NodeStatus::Failed => "failed",
            NodeStatus::Skipped => "skipped",
            NodeStatus::Cancelled => "cancelled",
        }
    }

    /// Decided: the node will not change again.
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            NodeStatus::Completed
                | NodeStatus::Failed
                | NodeStatus::Skipped
                | NodeStatus::Cancelled
        )
    }

    /// Work is under way or awaited.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            NodeStatus::Running | NodeStatus::Retrying | NodeStatus::Waiting
        )
    }
}

/// `POST /api/validate` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidateResponse {
    pub valid: bool,
    pub diagnostics: Vec<Diagnostic>,
}

/// Every error response: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    pub error: ApiError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// One event of a run's history as the API serves it (`GET /api/runs/{id}/events`, and the
/// data of each `run_event` on `GET /api/runs/{id}/stream`): the stored columns of an
/// [`Event`] with its place in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunEvent {
    /// The event's place in the run's log, from 1; the stream's SSE id.
    pub seq: i64,
    /// `run_started`, `node_started`, `node_waiting`, `attempt_failed`, `node_completed`,
    /// `node_failed`, `node_skipped`, `node_cancelled`, `signal_received`, `cancel_requested`,
    /// `run_completed`, `run_failed` or `run_cancelled`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The node it is about, if any.
    #[serde(default)]
    pub node: Option<String>,
    /// When it was recorded, in milliseconds since the Unix epoch.
    pub at: Millis,
    /// The rest of the event's fields, by type.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

impl From<&Recorded> for RunEvent {
    fn from(r: &Recorded) -> Self {
        let (kind, node, data) = r.event.split();
        RunEvent {
            seq: r.seq,
            kind,
            node,
            at: r.at,
            data,
        }
    }
}

impl RunEvent {
    /// The event it carries; an error for a type this build does not know.
    pub fn recorded(&self) -> Result<Recorded, serde_json::Error> {
        Ok(Recorded {
            seq: self.seq,
            at: self.at,
            event: Event::join(&self.kind, self.node.as_deref(), self.data.clone())?,
        })
    }
}

/// `PUT /api/workflows/{name}` → 201 (a new version) or 200 (unchanged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedWorkflow {
    pub name: String,
    /// The new version, or the latest when the definition is unchanged.
    pub version: i64,
    /// The validator's warnings (a saved definition has no errors).
    pub diagnostics: Vec<Diagnostic>,
}

/// `GET /api/workflows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowList {
    pub workflows: Vec<WorkflowSummary>,
}

/// One workflow of the list: its latest version and its last run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowSummary {
    pub name: String,
    /// The latest version's number.
    pub version: i64,
    /// The latest version's `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// When the latest version was saved (ms since the Unix epoch).
    pub updated_at: Millis,
    /// The newest run of any version; none before the first.
    #[serde(default)]
    pub last_run: Option<LastRun>,
}

/// The newest run of a workflow, as its list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastRun {
    pub status: RunStatus,
    pub created_at: Millis,
}

/// `GET /api/workflows/{name}` and `GET /api/workflows/{name}/versions/{version}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowVersion {
    pub name: String,
    pub version: i64,
    /// Archived workflows keep their versions, so the runs pinned to them stay readable.
    pub archived: bool,
    /// When this version was saved (ms since the Unix epoch).
    pub created_at: Millis,
    /// The definition (`weft/v1`, SPEC §1), in its canonical form.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub definition: Value,
}

/// `GET /api/secrets` → the names templates may read as `secrets.NAME` (never their values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretNames {
    /// Sorted.
    pub names: Vec<String>,
}

/// `GET /api/workflows/{name}/versions` → one page of a workflow's versions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionList {
    pub name: String,
    pub versions: Vec<VersionSummary>,
    /// The `before` of the next (older) page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// One saved version as the designer's history lists it: who saved it, when and why, without
/// its definition (`GET /api/workflows/{name}/versions/{version}` has that).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionSummary {
    pub version: i64,
    /// When it was saved (ms since the Unix epoch).
    pub saved_at: Millis,
    /// Who saved it, as the audit log names them (a user, `key:<name>`, `token`); `null` on
    /// an open server and for versions saved before servers recorded it.
    pub saved_by: Option<String>,
    /// The message given at save (`PUT …?message=`); `null` when none was.
    pub message: Option<String>,
    /// How many nodes the definition has.
    pub nodes: i64,
}

/// `DELETE /api/workflows/{name}` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchivedWorkflow {
    pub name: String,
    /// Always true.
    pub archived: bool,
}

/// The body of `POST /api/workflows/{name}/runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// The run's input, checked against the workflow's `input_schema`; default `null`.
    #[serde(default)]
    pub input: Value,
    /// Makes the start idempotent: 1-200 characters of `[A-Za-z0-9-_.:]`, not `.` or `..`
    /// (`limits::MAX_ID_LEN`). Default: a new UUIDv7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// A run's index row: an item of `GET /api/runs`, and the answer to a start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub id: String,
    /// The same as `id`, under the name a start's caller chose it by.
    pub run_id: String,
    pub workflow: String,
    /// The definition version the run is pinned to.
    pub version: i64,
    pub status: RunStatus,
    pub input: Value,
    /// The `end` node's output once completed; `null` before.
    pub output: Value,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: Millis,
    /// When its last event was recorded.
    pub updated_at: Millis,
    /// It waits for a person: an approval or a `signal` node is waiting (SPEC §6).
    #[serde(default)]
    pub needs_person: bool,
    /// A test run (SPEC §6 "Test runs"): left out of lists unless asked for, pruned after a
    /// day.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

/// The body of `POST /api/test-runs` (SPEC §6 "Test runs"): a definition that need not be
/// saved, run once with some nodes stubbed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartTestRun {
    /// A `weft/v1` definition, validated as a save would be.
    pub definition: Value,
    /// The run's input, checked against the definition's `input_schema`; default `null`.
    #[serde(default)]
    pub input: Value,
    /// Node id → the output that `http`, `task`, `subflow` or `map` node completes with,
    /// through `next`, instead of acting.
    #[serde(default)]
    pub stubs: BTreeMap<String, Value>,
    /// The run completes once this node is decided (completed, or failed through a port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// The answer to `POST /api/test-runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestRunStarted {
    pub run_id: String,
}

/// `GET /api/runs` → one page, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunList {
    pub runs: Vec<RunSummary>,
    /// Where the next (older) page starts; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many runs match the filters, over all pages.
    pub total: u64,
}

/// `GET /api/runs/{id}`: the run's row and what its log says about each node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunSummary,
    /// Every node of the run's version, by id.
    pub nodes: BTreeMap<String, NodeView>,
    /// A cancel was asked for and the run has not ended yet (its `on_cancel` path may run).
    pub cancelling: bool,
    /// The run and node (and `map` item) that started this run as a child (SPEC §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// The schedule fire that started the run (SPEC §5); `null` for a run a caller started.
    #[serde(default)]
    pub trigger: Option<Trigger>,
    /// The run this one redrives and from which nodes (SPEC §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_of: Option<RedriveOf>,
    /// The runs that redrive this one, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redriven_by: Vec<String>,
}

/// One node of `GET /api/runs/{id}`: the shared node fold ([`NodeState`]) and its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeView {
    pub status: NodeStatus,
    /// The node's type (`http`, `approval`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Attempts started (http and task nodes).
    pub attempts: u32,
    /// What it produced; `{"error"}` for a failed node; `null` before.
    pub output: Value,
    /// The last attempt's error, or the node's.
    pub error: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// A wait's deadline, or when the next attempt starts.
    pub due_at: Option<Millis>,
    /// An approval's rendered prompt.
    pub prompt: Option<String>,
    /// A `subflow`'s child run, or a `map`'s, in item order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildView>,
    /// A `map`'s progress over its items, once they are rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<MapProgress>,
    /// Completed in a redrive from the original run's recorded output (nothing ran).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reused: bool,
    /// Completed in a test run with the stub it was given (nothing ran).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stubbed: bool,
}

/// A child run of a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildView {
    pub run: String,
    /// The `map` item it runs for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub status: ChildStatus,
}

/// How far a `map` node is: `completed + failed + cancelled + running` children started
/// of `total` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MapProgress {
    pub total: u32,
    pub completed: u32,
    pub failed: u32,
    pub cancelled: u32,
    pub running: u32,
}

impl NodeView {
    /// A node of type `kind`, as the fold left it.
    pub fn new(kind: &str, node: &NodeState) -> Self {
        NodeView {
            status: node.status,
            kind: kind.to_owned(),
            attempts: node.attempts,
            output: node.output.clone(),
            error: node.error.clone(),
            started_at: node.started_at,
            finished_at: node.finished_at,
            due_at: node.due_at,
            prompt: node.prompt.clone(),
            children: node
                .children
                .iter()
                .enumerate()
                .map(|(k, c)| ChildView {
                    run: c.run.to_string(),
                    index: node.items.is_some().then_some(k as u32),
                    status: c.status,
                })
                .collect(),
            progress: node.items.as_ref().map(|items| MapProgress {
                total: items.len() as u32,
                completed: node.counts.completed,
                failed: node.counts.failed,
                cancelled: node.counts.cancelled,
                running: node.counts.running,
            }),
            reused: node.reused,
            stubbed: node.stubbed,
        }
    }
}

/// `GET /api/runs/{id}/events`: the whole history, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventList {
    pub events: Vec<RunEvent>,
}

/// The data of `event: run` on `GET /api/runs/stream`: a commit touched this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunChange {
    pub id: String,
    pub workflow: String,
    pub status: RunStatus,
    /// Set only for the commit that created the run.
    pub created_at: Option<Millis>,
    pub updated_at: Millis,
    /// The `seq` of the run's last event.
    pub last_seq: i64,
    /// It waits for a person after this change: an approval or a `signal` node is waiting.
    #[serde(default)]
    pub needs_person: bool,
    /// A test run (the feed sends these only with `?test=true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

/// The body of `POST /api/runs/{id}/approvals/{node}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `approve` or `reject`.
    #[cfg_attr(feature = "openapi", schema(examples("approve")))]
    pub decision: String,
    /// Kept in the history with the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What the approval's `form` asks for; it must match the form's JSON Schema (`422`).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

/// `POST /api/runs/{id}/approvals/{node}` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalDecided {
    pub run_id: String,
    pub node: String,
    /// `approve` or `reject`, as sent.
    pub decision: String,
    /// Who decided, as the run's history records it.
    #[serde(default)]
    pub by: String,
}

/// One approval waiting for a decision, as the inbox lists it (`GET /api/approvals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingApproval {
    pub run_id: String,
    pub workflow: String,
    pub version: i64,
    pub node: String,
    /// The node's label in the designer, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The rendered prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The run's input.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: Value,
    /// Who started the run (none: a schedule, a webhook or a parent run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// Since when it waits (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Millis>,
    /// Its deadline, if it has a `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Millis>,
    /// What happens at the deadline when nobody decides: `approve`/`reject`, or none (the
    /// `timeout` port, else the run fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_decision: Option<Verdict>,
    /// Who may decide now: these roles (and those above them) and these users.
    pub roles: Vec<Role>,
    pub users: Vec<String>,
    /// Escalation steps reached, of how many.
    pub escalated: u32,
    pub escalations: u32,
    /// The JSON Schema of the data a decision fills in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub form: Option<Value>,
    /// Whether the caller may decide it, and if not, why.
    pub can_decide: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

/// `GET /api/approvals`: waiting approvals, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalList {
    pub approvals: Vec<PendingApproval>,
    /// More runs wait for a person than one answer reads ([`crate::limits::MAX_INBOX_RUNS`]).
    pub truncated: bool,
}

/// The body of `POST /api/runs/{id}/signals/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    /// The waiting `signal` node's output; default `null`.
    #[serde(default)]
    pub payload: Value,
}

/// `POST /api/runs/{id}/signals/{name}` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalSent {
    pub run_id: String,
    pub signal: String,
}

/// The body of `POST /api/runs/{id}/cancel`; an empty body is `{}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Kept in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/runs/{id}/cancel` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelAccepted {
    pub run_id: String,
    /// Always true: the cancel is recorded.
    pub cancelled: bool,
}

/// The body of `POST /api/runs/{id}/pause`; an empty body is `{}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// Kept in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Which version a redrive runs on (SPEC §6): `"same"` (the default), `"latest"`, or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum RedriveVersion {
    Named(VersionName),
    Number(i64),
}

/// `"same"` or `"latest"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VersionName {
    Same,
    Latest,
}

/// The body of `POST /api/runs/{id}/redrive`; an empty body is `{}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RedriveBody {
    /// The nodes to run again, and everything after them; default: the nodes that failed
    /// (or were running when the run was cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<String>>,
    /// Default `"same"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RedriveVersion>,
    /// Default: the original run's input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Answer what the redrive would do, and start nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/runs/{id}/redrive` with `dry_run` → 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedrivePreview {
    /// The version the redrive would run on.
    pub version: i64,
    /// The redrive point.
    pub from: Vec<String>,
    /// Nodes completed from the original's log; nothing runs for them.
    pub reuse: Vec<String>,
    /// Nodes that run (again).
    pub rerun: Vec<String>,
    /// The `http`/`task`/`subflow`/`map` nodes in `rerun` that had completed in the original:
    /// they will act again.
    pub side_effects: Vec<String>,
}

/// `POST /api/runs/{id}/redrive` → 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedriveStarted {
    pub run_id: String,
}

/// What a bulk action does to each run it matches (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Cancel,
    /// From each run's failed nodes, on its own version.
    Redrive,
    Pause,
    Resume,
}

impl BulkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Cancel => "cancel",
            BulkAction::Redrive => "redrive",
            BulkAction::Pause => "pause",
            BulkAction::Resume => "resume",
        }
    }

    pub fn parse(text: &str) -> Option<BulkAction> {
        [
            BulkAction::Cancel,
            BulkAction::Redrive,
            BulkAction::Pause,
            BulkAction::Resume,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

/// Which runs a bulk action is for: every field given must match. A filter with none of them
/// matches every run, and is refused unless `all` is true.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// A run status (`running`, `paused`, `completed`, `failed`, `cancelled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Created at or after: RFC 3339 text or milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_after: Option<Value>,
    /// Created before: RFC 3339 text or milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// Asks for every run when no other field is given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// The body of `POST /api/runs/bulk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub action: BulkAction,
    pub filter: BulkFilter,
    /// Count the runs it would act on, and act on none.
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/runs/bulk` → 200 for a dry run, 202 with `batch_id` for a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkAccepted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    pub matched: i64,
}

/// A run a batch could not act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchError {
    pub run: String,
    pub error: String,
}

/// `GET /api/batches/{id}` → 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchView {
    pub id: String,
    pub action: BulkAction,
    /// `running` or `done`.
    pub status: String,
    pub matched: i64,
    pub done: i64,
    pub failed: i64,
    /// The first failures (at most 20).
    pub errors: Vec<BatchError>,
    pub created_at: Millis,
}

/// `POST /api/queues/{queue}/poll` → 200: a task for the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskAssignment {
    /// Opaque; names this attempt in complete, fail and heartbeat.
    pub task_token: String,
    pub run_id: String,
    pub node: String,
    /// The `task` node's `activity`.
    pub activity: String,
    /// The node's rendered `input`.
    pub input: Value,
    /// From 1.
    pub attempt: u32,
    /// When the attempt joined its queue (ms since the Unix epoch).
    pub enqueued_at: Millis,
}

/// How a worker ended a task attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    Completed,
    Failed,
}

/// `POST /api/tasks/{token}/complete` and `/fail` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskEnded {
    pub run_id: String,
    pub node: String,
    pub attempt: u32,
    pub status: TaskOutcome,
}

/// `POST /api/tasks/{token}/heartbeat` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatAck {
    /// Always true: the attempt's heartbeat timeout starts over.
    pub ok: bool,
}

/// `POST /hooks/{name}` → 202.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HookAccepted {
    /// The new run, or the one this `Idempotency-Key` and input started before.
    pub run_id: String,
}

/// One schedule (SPEC §5), an item of `GET /api/schedules` and the answer to a pause or
/// resume: what the definition says and what the scheduler has done with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleView {
    pub workflow: String,
    /// The schedule's index in the definition's `triggers.schedules`.
    pub index: u32,
    pub cron: String,
    /// An IANA zone name (`UTC` when the definition names none).
    pub timezone: String,
    /// `skip`, `buffer_one`, `allow_all` or `cancel_other`.
    pub overlap: String,
    /// As written, or the default `1m`.
    pub catchup_window: String,
    pub paused: bool,
    /// The next fire time (ms since the epoch); `null` when paused or when it never fires
    /// again.
    pub next_fire_at: Option<Millis>,
    /// The latest fire that started a run (a trigger now counts, a backfill does not).
    pub last_fire_at: Option<Millis>,
    /// That run's id.
    pub last_run: Option<String>,
    /// That run's status now.
    pub last_run_status: Option<RunStatus>,
    /// With `buffer_one`: the fire time waiting for `last_run` to end.
    pub buffered_at: Option<Millis>,
    /// Fire times that started no run: the previous run was still running (`skip`, or a
    /// second buffered fire), or they were missed by more than `catchup_window`.
    pub skipped: i64,
}

/// `GET /api/schedules` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleList {
    /// By workflow, then index.
    pub schedules: Vec<ScheduleView>,
}

/// An instant in a request: milliseconds since the epoch, or RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Moment {
    Millis(Millis),
    Text(String),
}

impl Moment {
    /// Milliseconds since the epoch, or why the text is not RFC 3339.
    pub fn millis(&self) -> Result<Millis, String> {
        match self {
            Moment::Millis(ms) => Ok(*ms),
            Moment::Text(t) => chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.timestamp_millis())
                .map_err(|e| format!("`{t}` is not an RFC 3339 time or epoch milliseconds: {e}")),
        }
    }
}

/// The body of `POST /api/workflows/{name}/schedules/{index}/backfill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BackfillBody {
    /// The first instant of the range (included).
    pub from: Moment,
    /// The end of the range (excluded).
    pub to: Moment,
    /// Only count the fire times in the range; start nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/workflows/{name}/schedules/{index}/backfill` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillResult {
    pub workflow: String,
    pub index: u32,
    /// The fire times in the range: one run each.
    pub fires: usize,
    /// Runs this call started.
    pub started: usize,
    /// Fire times that already had their run (an earlier backfill, or the schedule itself).
    pub existing: usize,
    pub dry_run: bool,
}

/// The body of `POST …/schedules/{index}/pause`, `/resume` and `/trigger`: `{}` (or empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoFields {}
