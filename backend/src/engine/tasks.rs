//! Task attempts as workers see them (SPEC §1 `task`, §3 `/api/queues`, `/api/tasks`): the
//! [`Task`] a poll returns, its token, the input rendered when it is handed out, and why a
//! worker's lease ends. The queues themselves — in memory for one process, a table for
//! several — are `cluster`'s.

use std::time::Duration;

use serde_json::Value;
use shared::model::TaskNode;
use shared::template;

use super::activity::Secrets;
use super::state::RunState;
use crate::store;

/// A task attempt ready for a worker.
#[derive(Debug, Clone)]
pub struct Task {
    pub queue: String,
    pub run_id: String,
    pub node: String,
    pub attempt: u32,
    pub activity: String,
    pub input: Value,
    pub timeout: Duration,
    pub heartbeat: Option<Duration>,
    /// When the attempt joined its queue (ms since the epoch), so a worker can see how long
    /// it waited.
    pub enqueued_at: super::event::Millis,
}

impl Task {
    /// `attempt.node.run_id`: node ids hold no dots, so the token splits unambiguously.
    pub fn token(&self) -> String {
        format!("{}.{}.{}", self.attempt, self.node, self.run_id)
    }
}

/// Why a worker's call about a task is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "task token is not current: the attempt timed out, lost its heartbeat, was cancelled or already finished"
    )]
    Stale,
    #[error("the engine is shutting down")]
    Stopped,
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The engine did not record the worker's report.
    #[error(transparent)]
    Engine(#[from] super::driver::Error),
}

/// Task node `i`'s attempt timeout and heartbeat timeout, from its plan.
pub fn limits(run: &RunState, i: usize) -> (Duration, Option<Duration>) {
    let l = run.plan.limits(i);
    (
        l.timeout.expect("a task node's plan has its timeout"),
        l.heartbeat,
    )
}

/// The input a worker receives for task node `i` of `run`: rendered with the secrets when the
/// task is handed out, never stored. An error means no worker can do it.
pub fn render_input(
    run: &RunState,
    i: usize,
    t: &TaskNode,
    secrets: &Secrets,
) -> Result<Value, String> {
    let ctx = secrets.context(run.context_for(i));
    t.input
        .as_ref()
        .map_or(Ok(Value::Null), |v| template::render(v, &ctx))
        .map_err(|e| format!("input: {e}"))
}

/// Why a lease ended: the attempt's timeout passed.
pub fn timed_out(timeout: Duration) -> String {
    format!(
        "task timed out after {}",
        humantime::format_duration(timeout)
    )
}

/// Why a lease ended: no heartbeat within `heartbeat`.
pub fn no_heartbeat(heartbeat: Duration) -> String {
    format!(
        "no heartbeat within {}",
        humantime::format_duration(heartbeat)
    )
}

/// Parses a task token back into `(run_id, node, attempt)`.
pub fn parse_token(token: &str) -> Option<(&str, &str, u32)> {
    let (attempt, rest) = token.split_once('.')?;
    let (node, run) = rest.split_once('.')?;
    Some((run, node, attempt.parse().ok()?))
}
