//! Task attempts as workers see them (SPEC §1 `task`, §3 `/api/queues`, `/api/tasks`): the
//! [`Task`] a poll returns, its [`Token`], the input rendered when it is handed out, and why a
//! worker's lease ends. The queues themselves — in memory for one process, a table for
//! several — are `cluster`'s.
//!
//! A token is the only proof that a worker was handed a task, so it is a random secret, not a
//! name for the attempt: whoever can read run ids (the runs list, a webhook's caller) must not
//! be able to complete someone else's task. The server keeps only its [`Digest`] and finds
//! the lease by it; a token no lease has — guessed, of the old `attempt.node.run` form, or
//! from an earlier hand-out of the same attempt — is [`Error::Stale`] like a spent one.

use std::time::Duration;

use serde_json::Value;
use sha2::Digest as _;
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

/// A task handed to a worker, with the token of this hand-out.
#[derive(Debug)]
pub struct Assigned {
    pub token: Token,
    pub task: Task,
}

/// The attempt a worker's report was about, found from its token.
#[derive(Debug)]
pub struct Attempt {
    pub run_id: String,
    pub node: String,
    pub attempt: u32,
}

/// The secret naming one hand-out of a task: 256 bits from the operating system's CSPRNG,
/// in hex. Each hand-out gets a new one, so a task handed out again makes the old stale.
pub struct Token(String);

/// Never the secret, so a logged task does not hand its lease to whoever reads the log.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A fresh token. Like std's `HashMap` keys and `uuid`, this panics if the operating
    /// system has no random source: nothing here could work without one.
    pub fn generate() -> Token {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the operating system's random source");
        Token(hex::encode(secret))
    }

    /// What the server keeps of it.
    pub fn digest(&self) -> Digest {
        Digest::of(&self.0)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// SHA-256 of a token: a lease is found by it, so the secret itself is never stored, and
/// looking one up compares digests, which reveals nothing about a token's characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of what a worker sent, well-formed or not.
    pub fn of(token: &str) -> Digest {
        Digest(sha2::Sha256::digest(token.as_bytes()).into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why a worker's call about a task is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No lease has this token: it was never handed out, or its lease ended.
    #[error(
        "task token is not current: no poll handed it out, or the attempt timed out, lost its heartbeat, was cancelled or already finished"
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

/// The input a worker receives for task node `i` of `run`: rendered with the secrets it reads
/// when the task is handed out, never stored; here if its template is quick
/// ([`render_input_here`]), else on the bounded blocking pool. An error means no worker can
/// do it.
pub async fn render_input(
    run: &RunState,
    i: usize,
    t: &TaskNode,
    secrets: &Secrets,
) -> Result<Value, String> {
    if run.plan.quick[i] {
        return render_input_here(run, i, t, secrets);
    }
    let Some(input) = t.input.clone() else {
        return Ok(Value::Null);
    };
    let ctx = secrets.context(run.context_for(i), &run.plan.secrets[i]);
    crate::offload::run(move || template::render(&input, &ctx))
        .await
        .map_err(|e| format!("input: rendering: {e}"))?
        .map_err(|e| format!("input: {e}"))
}

/// [`render_input`] on this thread: for a quick template, or a test.
pub fn render_input_here(
    run: &RunState,
    i: usize,
    t: &TaskNode,
    secrets: &Secrets,
) -> Result<Value, String> {
    let ctx = secrets.context(run.context_for(i), &run.plan.secrets[i]);
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
