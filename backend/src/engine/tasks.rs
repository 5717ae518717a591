//! Task queues for external workers (SPEC §1 `task`, §3 `/api/queues`, `/api/tasks`).
//!
//! [`Tasks`] is the queue the API talks to: in memory for one process ([`LocalTasks`], on
//! SQLite), or the shared `tasks` table that several processes serve
//! ([`super::shared::SharedTasks`], on PostgreSQL).
//!
//! The log says which task attempts exist (a `task` node running attempt n); the local
//! queue holds only what is cheap to lose: the queues of attempts waiting for a worker, the
//! long-polls waiting for a task, and the leases of tasks handed out. After a restart the
//! driver re-enqueues every running task attempt from the log, so nothing durable lives here.
//!
//! A poll is woken the moment a task is enqueued (a oneshot per waiting poller, no sleeps).
//! A lease ends when the worker completes or fails the task, when the attempt's `timeout`
//! passes, or when `heartbeat_timeout` passes without a heartbeat; then the attempt is
//! reported failed (retryable) and the engine's retry policy decides what comes next.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use shared::model::TaskNode;
use shared::template;

use super::activity::Secrets;
use super::decide::ActivityError;
use super::driver::Command;
use super::shared::SharedTasks;
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
}

/// A `task` node's attempt timeout (default 5 minutes) and heartbeat timeout.
pub(super) fn limits(t: &TaskNode) -> (Duration, Option<Duration>) {
    let timeout = t.timeout.as_ref().and_then(|d| d.parse().ok());
    let heartbeat = t.heartbeat_timeout.as_ref().and_then(|d| d.parse().ok());
    (timeout.unwrap_or(Duration::from_secs(300)), heartbeat)
}

/// The input a worker receives for task node `i` of `run`: rendered with the secrets when the
/// task is handed out, never stored. An error means no worker can do it.
pub(super) fn render_input(
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
pub(super) fn timed_out(timeout: Duration) -> String {
    format!(
        "task timed out after {}",
        humantime::format_duration(timeout)
    )
}

/// Why a lease ended: no heartbeat within `heartbeat`.
pub(super) fn no_heartbeat(heartbeat: Duration) -> String {
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

/// The task queues, local or shared.
#[derive(Clone)]
pub enum Tasks {
    Local(LocalTasks),
    Shared(SharedTasks),
}

impl Tasks {
    pub(super) fn local(engine: mpsc::WeakSender<Command>) -> Tasks {
        Tasks::Local(LocalTasks::new(engine))
    }

    pub(super) fn shared(
        store: store::Postgres,
        engine: mpsc::WeakSender<Command>,
        plans: super::driver::Plans,
        secrets: Secrets,
    ) -> Tasks {
        Tasks::Shared(SharedTasks::new(store, engine, plans, secrets))
    }

    /// Local queues only: a shared queue's rows are written with their events.
    pub(super) fn enqueue_local(&self, task: Task) {
        if let Tasks::Local(t) = self {
            t.enqueue(task);
        }
    }

    pub(super) fn abandon_local(&self, run_id: &str, node: &str) {
        if let Tasks::Local(t) = self {
            t.abandon(run_id, node);
        }
    }

    /// Waits up to `wait` for a task of `queue`.
    pub async fn poll(&self, queue: &str, wait: Duration) -> Result<Option<Task>, Error> {
        match self {
            Tasks::Local(t) => Ok(t.poll(queue, wait).await),
            Tasks::Shared(t) => t.poll(queue, wait).await,
        }
    }

    /// The worker finished the task.
    pub async fn complete(&self, token: &str, output: Value) -> Result<(), Error> {
        match self {
            Tasks::Local(t) => t.finish(token, Ok(output)).await,
            Tasks::Shared(t) => t.finish(token, Ok(output)).await,
        }
    }

    /// The worker failed the task; `retryable` false fails the node at once.
    pub async fn fail(&self, token: &str, error: String, retryable: bool) -> Result<(), Error> {
        let result = Err(ActivityError {
            message: error,
            retryable,
        });
        match self {
            Tasks::Local(t) => t.finish(token, result).await,
            Tasks::Shared(t) => t.finish(token, result).await,
        }
    }

    /// The worker is alive: the heartbeat deadline moves on.
    pub async fn heartbeat(&self, token: &str) -> Result<(), Error> {
        match self {
            Tasks::Local(t) => t.heartbeat(token),
            Tasks::Shared(t) => t.heartbeat(token).await,
        }
    }

    /// Tasks waiting for a worker, per queue.
    pub async fn depths(&self) -> Vec<(String, usize)> {
        match self {
            Tasks::Local(t) => t.depths(),
            Tasks::Shared(t) => t.depths().await,
        }
    }
}

struct Lease {
    task: Task,
    deadline: Instant,
    heartbeat_deadline: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<String, VecDeque<Task>>,
    /// Long-polls waiting per queue, each with an id so a timed-out poll can withdraw.
    waiters: HashMap<String, VecDeque<(u64, oneshot::Sender<Task>)>>,
    leases: HashMap<String, Lease>,
    /// The current attempt of every task that is queued or leased, by `(run, node)`.
    live: HashMap<(String, String), u32>,
    next_waiter: u64,
}

/// The in-memory queues of one process; cloned handles share them.
#[derive(Clone)]
pub struct LocalTasks {
    inner: Arc<Mutex<Inner>>,
    engine: mpsc::WeakSender<Command>,
}

impl LocalTasks {
    fn new(engine: mpsc::WeakSender<Command>) -> LocalTasks {
        LocalTasks {
            inner: Arc::default(),
            engine,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("tasks lock")
    }

    /// Makes an attempt available: to a waiting poller at once, else queued.
    fn enqueue(&self, task: Task) {
        let mut inner = self.lock();
        inner
            .live
            .insert((task.run_id.clone(), task.node.clone()), task.attempt);
        let mut task = task;
        while let Some((_, waiter)) = inner
            .waiters
            .get_mut(&task.queue)
            .and_then(VecDeque::pop_front)
        {
            let leased = self.lease(&mut inner, task.clone());
            match waiter.send(leased) {
                Ok(()) => return,
                // That poll gave up; take the lease back and try the next one.
                Err(t) => {
                    inner.leases.remove(&t.token());
                    task = t;
                }
            }
        }
        inner
            .queues
            .entry(task.queue.clone())
            .or_default()
            .push_back(task);
    }

    /// Forgets an attempt whose node was cancelled or decided; its token becomes stale.
    fn abandon(&self, run_id: &str, node: &str) {
        let mut inner = self.lock();
        if let Some(attempt) = inner.live.remove(&(run_id.to_owned(), node.to_owned())) {
            inner.leases.remove(&format!("{attempt}.{node}.{run_id}"));
        }
    }

    async fn poll(&self, queue: &str, wait: Duration) -> Option<Task> {
        let (id, mut rx) = {
            let mut inner = self.lock();
            while let Some(task) = inner.queues.get_mut(queue).and_then(VecDeque::pop_front) {
                if inner.live.get(&(task.run_id.clone(), task.node.clone())) == Some(&task.attempt)
                {
                    return Some(self.lease(&mut inner, task));
                }
            }
            let (tx, rx) = oneshot::channel();
            inner.next_waiter += 1;
            let id = inner.next_waiter;
            inner
                .waiters
                .entry(queue.to_owned())
                .or_default()
                .push_back((id, tx));
            (id, rx)
        };
        if let Ok(Ok(task)) = tokio::time::timeout(wait, &mut rx).await {
            return Some(task);
        }
        // Withdraw under the lock; a task sent just before is still in the channel.
        let mut inner = self.lock();
        if let Some(w) = inner.waiters.get_mut(queue) {
            w.retain(|(i, _)| *i != id);
        }
        drop(inner);
        rx.try_recv().ok()
    }

    /// Hands `task` out: starts its lease and the watch over its deadlines.
    fn lease(&self, inner: &mut Inner, task: Task) -> Task {
        let now = Instant::now();
        let lease = Lease {
            task: task.clone(),
            deadline: now + task.timeout,
            heartbeat_deadline: task.heartbeat.map(|h| now + h),
        };
        let token = task.token();
        inner.leases.insert(token.clone(), lease);
        let me = self.clone();
        tokio::spawn(async move { me.watch(token).await });
        task
    }

    /// Ends a lease whose deadline passes, reporting the attempt failed and retryable.
    async fn watch(self, token: String) {
        loop {
            let due = {
                let inner = self.lock();
                let Some(l) = inner.leases.get(&token) else {
                    return;
                };
                l.heartbeat_deadline
                    .map_or(l.deadline, |h| h.min(l.deadline))
            };
            tokio::time::sleep_until(due).await;
            let expired = {
                let mut inner = self.lock();
                let Some(l) = inner.leases.get(&token) else {
                    return;
                };
                let now = Instant::now();
                let why = if now >= l.deadline {
                    Some(timed_out(l.task.timeout))
                } else if l.heartbeat_deadline.is_some_and(|h| now >= h) {
                    Some(no_heartbeat(l.task.heartbeat.unwrap_or_default()))
                } else {
                    None
                };
                why.and_then(|why| {
                    let l = inner.leases.remove(&token)?;
                    inner
                        .live
                        .remove(&(l.task.run_id.clone(), l.task.node.clone()));
                    Some((l.task, why))
                })
            };
            if let Some((task, why)) = expired {
                let _ = self
                    .report(
                        &task,
                        Err(ActivityError {
                            message: why,
                            retryable: true,
                        }),
                    )
                    .await;
                return;
            }
        }
    }

    fn take(&self, token: &str) -> Result<Task, Error> {
        let mut inner = self.lock();
        let lease = inner.leases.remove(token).ok_or(Error::Stale)?;
        inner
            .live
            .remove(&(lease.task.run_id.clone(), lease.task.node.clone()));
        Ok(lease.task)
    }

    async fn finish(&self, token: &str, result: Result<Value, ActivityError>) -> Result<(), Error> {
        let task = self.take(token)?;
        self.report(&task, result).await
    }

    fn heartbeat(&self, token: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let lease = inner.leases.get_mut(token).ok_or(Error::Stale)?;
        if let Some(h) = lease.task.heartbeat {
            lease.heartbeat_deadline = Some(Instant::now() + h);
        }
        Ok(())
    }

    fn depths(&self) -> Vec<(String, usize)> {
        let inner = self.lock();
        inner
            .queues
            .iter()
            .map(|(q, v)| (q.clone(), v.len()))
            .collect()
    }

    async fn report(&self, task: &Task, result: Result<Value, ActivityError>) -> Result<(), Error> {
        report_durably(&self.engine, &task.run_id, &task.node, task.attempt, result).await
    }
}

/// Hands an attempt's outcome to the driver and waits until it is durable, so the worker may
/// forget the task once its call returns.
pub(super) async fn report_durably(
    engine: &mpsc::WeakSender<Command>,
    run_id: &str,
    node: &str,
    attempt: u32,
    result: Result<Value, ActivityError>,
) -> Result<(), Error> {
    let tx = engine.upgrade().ok_or(Error::Stopped)?;
    let (reply, done) = oneshot::channel();
    let input = super::decide::Input::AttemptFinished {
        node: node.to_owned(),
        attempt,
        result,
    };
    tx.send(Command::Input {
        run_id: run_id.to_owned(),
        input,
        reply: Some(reply),
    })
    .await
    .map_err(|_| Error::Stopped)?;
    drop(tx);
    let _ = done.await;
    Ok(())
}
