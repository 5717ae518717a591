//! The events of a run's log: past-tense facts, appended and never updated. One enum for the
//! engine, which writes and folds them, and the browser, which reads them from the API and
//! the stream and folds them the same way ([`crate::fold`]).
//!
//! Each is stored as `(type, node, data)` beside its `run_id`, `seq` and `at`; [`Event::split`]
//! and [`Event::join`] convert between the enum and those columns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{Approvers, Verdict};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        workflow: String,
        version: i64,
        input: Value,
        /// The run and node that started this one as a child (SPEC §5).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<Parent>,
        /// What started the run, when it was not a caller of the API (a schedule's fire).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trigger: Option<Trigger>,
        /// The finished run this one redrives, and the nodes it runs again from (SPEC §6).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        redrive_of: Option<RedriveOf>,
        /// Who started it or had it started (a user, `key:<name>`, `token`, `local`): the
        /// caller of start, redrive, bulk redrive, trigger now or backfill; a child has its
        /// parent's. None for a schedule's own fire and a webhook. An approval's
        /// self-approval rule reads it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        /// A test run (SPEC §6 "Test runs"): its stubbed nodes and where it stops. A child
        /// of a test run is one too, with no stubs of its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        test: Option<TestRun>,
    },
    /// An activity attempt begins (http, task).
    NodeStarted {
        node: String,
        attempt: u32,
    },
    /// A node waits for a person, a signal or the clock; `until` is its deadline.
    NodeWaiting {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Millis>,
        /// An approval's rendered prompt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
    },
    /// An attempt failed; `retry_at` is when the next one starts, if any.
    AttemptFailed {
        node: String,
        attempt: u32,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<Millis>,
    },
    /// An `http` attempt as it went over the wire, recorded just before the attempt's
    /// outcome: the rendered request and the response (none when no response came), secrets
    /// masked and bodies cut (SPEC §6).
    HttpExchanged {
        node: String,
        attempt: u32,
        request: Box<HttpRequestRecord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<Box<HttpResponseRecord>>,
    },
    /// The node is done and hands the run on through `port` (none for `end`).
    NodeCompleted {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        port: Option<String>,
        output: Value,
        /// In a redrive: the original run whose recorded output this is; nothing ran.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reused_from: Option<String>,
        /// In a test run: the output is the stub it was given; nothing ran.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        stubbed: bool,
    },
    /// The node failed; with a `port` (error, rejected, timeout) the run goes on through it,
    /// without one the run fails.
    NodeFailed {
        node: String,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        port: Option<String>,
    },
    /// No incoming edge carried the run here (dead-path elimination).
    NodeSkipped {
        node: String,
    },
    NodeCancelled {
        node: String,
    },
    /// An approval is decided, by a person or by its `default_decision` at its timeout; the
    /// node's outcome follows in the same commit (SPEC §7).
    ApprovalDecided {
        node: String,
        decision: Verdict,
        /// Who decided; null when the default decision was taken (always written: SPEC §7's
        /// "every decision event records `by`").
        #[serde(default)]
        by: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// What the decider filled in the approval's `form`.
        #[serde(default, skip_serializing_if = "Value::is_null")]
        data: Value,
        /// Taken at the timeout (`default_decision`), not by a person.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        default: bool,
    },
    /// An approval still waiting reached its escalation step `step`: its approvers may decide
    /// too.
    ApprovalEscalated {
        node: String,
        step: u32,
        approvers: Approvers,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notify: Option<String>,
    },
    /// The POST to an escalation step's `notify` URL was made: the status it answered, or
    /// why no answer came.
    ApprovalNotified {
        node: String,
        step: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// When the POST is made again (no answer, or a 5xx, 408 or 429); none: this step's
        /// notice is settled and the next escalation step may follow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        again: Option<Millis>,
    },
    /// A signal arrived; a `signal` node waiting for `name` consumes it, now or later.
    SignalReceived {
        name: String,
        payload: Value,
    },
    /// A `map` node's items, rendered once; its children start from them as slots free up.
    MapStarted {
        node: String,
        items: Vec<Value>,
    },
    /// A child run of a `subflow` node (no `index`) or of a `map` node's item `index` began
    /// (its own log starts in the same commit).
    ChildStarted {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u32>,
        run: String,
        workflow: String,
        /// The version the node pins; none: the latest when the child starts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
        input: Value,
    },
    /// A child run ended (recorded in the same commit as the child's last event).
    ChildFinished {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u32>,
        run: String,
        status: ChildStatus,
        #[serde(default, skip_serializing_if = "Value::is_null")]
        output: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// No node or attempt starts and due timers wait until [`Event::RunResumed`] (SPEC §6).
    RunPaused {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RunResumed,
    CancelRequested {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RunCompleted {
        output: Value,
        /// A test run that stopped once this node (its `until`) was decided; the output is
        /// that node's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
    },
    RunFailed {
        error: String,
    },
    RunCancelled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// An `http` attempt's rendered request as recorded: every value of a secret the node reads
/// is `***`, and the body (JSON text) is cut at [`crate::limits::MAX_RECORDED_BODY`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpRequestRecord {
    pub method: String,
    pub url: String,
    /// Header name → value, in the order sent (repeated names joined with `, `).
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body was longer than the limit and is cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// An `http` attempt's response as recorded, masked and cut as its request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpResponseRecord {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// Where a child run comes from: its parent run, the `subflow` or `map` node, the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parent {
    pub run: String,
    pub node: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Levels of parents above the child (1: its parent has none).
    pub depth: u32,
}

/// The run a redrive continues (SPEC §6) and the nodes it runs again from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedriveOf {
    pub run: String,
    pub from: Vec<String>,
}

/// What makes a run a test run (SPEC §6 "Test runs"), recorded in its `run_started`: the
/// `http`, `task`, `subflow` or `map` nodes that complete with a given output instead of
/// acting, and the node after which the run stops.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestRun {
    /// Node id → the output it completes with (through `next`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stubs: BTreeMap<String, Value>,
    /// The run completes once this node is decided, whatever else is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// How a child run ended, or that it still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChildStatus {
    #[default]
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl ChildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChildStatus::Running => "running",
            ChildStatus::Completed => "completed",
            ChildStatus::Failed => "failed",
            ChildStatus::Cancelled => "cancelled",
        }
    }
}

/// A run started by a schedule (SPEC §5): `{"schedule": <index>, "at": <fire time>}`.
/// Recorded in the run's `run_started` event, so it is part of the run's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// The schedule's index in the definition's `triggers.schedules`.
    pub schedule: u32,
    /// The fire time the run is for, in milliseconds since the Unix epoch (for a backfill,
    /// a fire time in the past; for "trigger now", the moment it was asked for).
    pub at: Millis,
}

/// An event with its place in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub seq: i64,
    pub at: Millis,
    pub event: Event,
}

impl Event {
    /// `(type, node, data)` as stored and as served by the API.
    pub fn split(&self) -> (String, Option<String>, Value) {
        let Value::Object(mut map) = serde_json::to_value(self).expect("events serialize") else {
            unreachable!("events are objects")
        };
        let ty = match map.remove("type") {
            Some(Value::String(t)) => t,
            _ => unreachable!("tagged"),
        };
        let node = match map.remove("node") {
            Some(Value::String(n)) => Some(n),
            _ => None,
        };
        (ty, node, Value::Object(map))
    }

    /// The inverse of [`Event::split`].
    pub fn join(ty: &str, node: Option<&str>, data: Value) -> Result<Event, serde_json::Error> {
        let mut map = match data {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        map.insert("type".into(), Value::String(ty.to_owned()));
        if let Some(n) = node {
            map.insert("node".into(), Value::String(n.to_owned()));
        }
        serde_json::from_value(Value::Object(map))
    }

    pub fn node(&self) -> Option<&str> {
        match self {
            Event::NodeStarted { node, .. }
            | Event::NodeWaiting { node, .. }
            | Event::AttemptFailed { node, .. }
            | Event::HttpExchanged { node, .. }
            | Event::NodeCompleted { node, .. }
            | Event::NodeFailed { node, .. }
            | Event::NodeSkipped { node }
            | Event::NodeCancelled { node }
            | Event::MapStarted { node, .. }
            | Event::ChildStarted { node, .. }
            | Event::ChildFinished { node, .. }
            | Event::ApprovalDecided { node, .. }
            | Event::ApprovalEscalated { node, .. }
            | Event::ApprovalNotified { node, .. } => Some(node),
            _ => None,
        }
    }

    /// True for the events that end a run.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Event::RunCompleted { .. } | Event::RunFailed { .. } | Event::RunCancelled { .. }
        )
    }
}
