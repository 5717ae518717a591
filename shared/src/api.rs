//! Request and response bodies of the HTTP API (SPEC §3), shared by the server and the SPA.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{Event, Millis, Recorded};
use crate::validate::Diagnostic;

/// A run's status (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    /// The wire name (also the UI's `status-*` classes and filters).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        self != RunStatus::Running
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
