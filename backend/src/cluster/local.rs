//! The task queues of one process (SQLite): in memory, because nothing durable lives here.
//! The log says which task attempts exist (a `task` node running attempt n); this holds only
//! what is cheap to lose: the attempts waiting for a worker, the long-polls waiting for a
//! task, and the leases of tasks handed out. After a restart recovery re-enqueues every
//! running task attempt from the log.
//!
//! A poll is woken the moment a task is enqueued (a oneshot per waiting poller, no sleeps).
//! A lease ends when the worker completes or fails the task, when the attempt's `timeout`
//! passes, or when `heartbeat_timeout` passes without a heartbeat — on the server's clock —
//! and the attempt is then reported failed (retryable) for the retry policy to decide.
//! Leases are kept by their token's digest; a token is made for each hand-out, so one from
//! an earlier hand-out (or before a restart) is stale.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use crate::clock::Millis;
use crate::engine::activity::Secrets;
use crate::engine::decide::ActivityError;
use crate::engine::driver::Link;
use crate::engine::state::RunState;
use crate::engine::tasks::{
    Assigned, Attempt, Digest, Error, Task, Token, limits, no_heartbeat, render_input,
    render_input_here, timed_out,
};

struct Lease {
    task: Task,
    deadline: Millis,
    heartbeat_deadline: Option<Millis>,
}

/// The current attempt of a task node, and its lease once it is handed out.
struct Live {
    attempt: u32,
    lease: Option<Digest>,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<String, VecDeque<Task>>,
    /// Long-polls waiting per queue, each with an id so a timed-out poll can withdraw.
    waiters: HashMap<String, VecDeque<(u64, oneshot::Sender<Assigned>)>>,
    /// Tasks handed out, by their token's digest.
    leases: HashMap<Digest, Lease>,
    /// Every task that is queued or leased, by `(run, node)`.
    live: HashMap<(String, String), Live>,
    next_waiter: u64,
}

impl Inner {
    /// Ends the lease of `(run, node)`'s task, if it is handed out; its token becomes stale.
    fn end_lease(&mut self, key: &(String, String)) {
        if let Some(d) = self.live.get_mut(key).and_then(|l| l.lease.take()) {
            self.leases.remove(&d);
        }
    }
}

/// The in-memory queues of one process; cloned handles share them.
#[derive(Clone)]
pub struct LocalTasks {
    inner: Arc<Mutex<Inner>>,
    link: Link,
    secrets: Secrets,
}

impl LocalTasks {
    pub(super) fn new(link: Link, secrets: Secrets) -> LocalTasks {
        LocalTasks {
            inner: Arc::default(),
            link,
            secrets,
        }
    }

    /// Hands task node `node`'s attempt to its queue once its input is rendered with the
    /// secrets (never stored): at once if its template is quick, else after it renders on the
    /// blocking pool, and then only if the attempt was not abandoned meanwhile. An input that
    /// does not render fails the attempt for good.
    pub(super) fn start(&self, run: &RunState, node: &str, attempt: u32) {
        let Some(i) = run.node_index(node) else {
            return;
        };
        let shared::model::NodeKind::Task(t) = run.plan.kind(i) else {
            return;
        };
        if run.plan.quick[i] {
            match render_input_here(run, i, t, &self.secrets) {
                Ok(input) => {
                    let (timeout, heartbeat) = limits(run, i);
                    let task = Task {
                        queue: t.queue.clone(),
                        run_id: run.id.clone(),
                        node: node.to_owned(),
                        attempt,
                        activity: t.activity.clone(),
                        input,
                        timeout,
                        heartbeat,
                        enqueued_at: self.link.clock.now(),
                    };
                    self.enqueue(task, false);
                }
                Err(message) => self.fail_at_once(run, node, attempt, message),
            }
            return;
        }
        // Live from now, so an abandon while the input renders is not undone by the enqueue.
        self.lock().live.insert(
            (run.id.clone(), node.to_owned()),
            Live {
                attempt,
                lease: None,
            },
        );
        let (this, run, node) = (self.clone(), run.clone(), node.to_owned());
        tokio::spawn(async move {
            let shared::model::NodeKind::Task(t) = run.plan.kind(i) else {
                return;
            };
            match render_input(&run, i, t, &this.secrets).await {
                Ok(input) => {
                    let (timeout, heartbeat) = limits(&run, i);
                    this.enqueue(
                        Task {
                            queue: t.queue.clone(),
                            run_id: run.id.clone(),
                            node,
                            attempt,
                            activity: t.activity.clone(),
                            input,
                            timeout,
                            heartbeat,
                            enqueued_at: this.link.clock.now(),
                        },
                        true,
                    );
                }
                Err(message) => this.fail_at_once(&run, &node, attempt, message),
            }
        });
    }

    /// Reports an attempt that no worker can do as failed for good.
    fn fail_at_once(&self, run: &RunState, node: &str, attempt: u32, message: String) {
        let result = Err(ActivityError {
            message,
            retryable: false,
        });
        let (link, run_id, node) = (self.link.clone(), run.id.clone(), node.to_owned());
        tokio::spawn(async move { link.report(run_id, node, attempt, result, None).await });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("tasks lock")
    }

    /// Makes an attempt available: to a waiting poller at once, else queued. A new attempt
    /// supersedes a lease on the node's previous one. With `if_live`, only an attempt that is
    /// still live and not handed out (one whose input rendered apart).
    fn enqueue(&self, task: Task, if_live: bool) {
        let mut inner = self.lock();
        let key = (task.run_id.clone(), task.node.clone());
        let live = inner
            .live
            .get(&key)
            .is_some_and(|l| l.attempt == task.attempt && l.lease.is_none());
        if if_live && !live {
            return;
        }
        inner.end_lease(&key);
        inner.live.insert(
            key.clone(),
            Live {
                attempt: task.attempt,
                lease: None,
            },
        );
        let mut task = task;
        while let Some((_, waiter)) = inner
            .waiters
            .get_mut(&task.queue)
            .and_then(VecDeque::pop_front)
        {
            let assigned = self.lease(&mut inner, task);
            match waiter.send(assigned) {
                Ok(()) => return,
                // That poll gave up; take the lease back (its token is never seen) and try
                // the next one.
                Err(a) => {
                    inner.end_lease(&key);
                    task = a.task;
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
    pub(super) fn abandon(&self, run_id: &str, node: &str) {
        let mut inner = self.lock();
        let key = (run_id.to_owned(), node.to_owned());
        inner.end_lease(&key);
        inner.live.remove(&key);
    }

    pub(super) async fn poll(&self, queue: &str, wait: Duration) -> Option<Assigned> {
        let (id, mut rx) = {
            let mut inner = self.lock();
            while let Some(task) = inner.queues.get_mut(queue).and_then(VecDeque::pop_front) {
                let key = (task.run_id.clone(), task.node.clone());
                if inner
                    .live
                    .get(&key)
                    .is_some_and(|l| l.attempt == task.attempt)
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

    /// Hands `task` out with a new token: starts its lease and the watch over its deadlines.
    fn lease(&self, inner: &mut Inner, task: Task) -> Assigned {
        let now = self.link.clock.now();
        let token = Token::generate();
        let digest = token.digest();
        if let Some(live) = inner
            .live
            .get_mut(&(task.run_id.clone(), task.node.clone()))
        {
            live.lease = Some(digest);
        }
        let lease = Lease {
            task: task.clone(),
            deadline: now + millis(task.timeout),
            heartbeat_deadline: task.heartbeat.map(|h| now + millis(h)),
        };
        inner.leases.insert(digest, lease);
        let me = self.clone();
        tokio::spawn(async move { me.watch(digest).await });
        Assigned { token, task }
    }

    /// Ends a lease whose deadline passes, reporting the attempt failed and retryable.
    async fn watch(self, digest: Digest) {
        loop {
            let due = {
                let inner = self.lock();
                let Some(l) = inner.leases.get(&digest) else {
                    return;
                };
                l.heartbeat_deadline
                    .map_or(l.deadline, |h| h.min(l.deadline))
            };
            self.link.clock.sleep_until(due).await;
            let expired = {
                let mut inner = self.lock();
                let Some(l) = inner.leases.get(&digest) else {
                    return;
                };
                let now = self.link.clock.now();
                let why = if now >= l.deadline {
                    Some(timed_out(l.task.timeout))
                } else if l.heartbeat_deadline.is_some_and(|h| now >= h) {
                    Some(no_heartbeat(l.task.heartbeat.unwrap_or_default()))
                } else {
                    None
                };
                why.and_then(|why| {
                    let l = inner.leases.remove(&digest)?;
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
        let lease = inner
            .leases
            .remove(&Digest::of(token))
            .ok_or(Error::Stale)?;
        inner
            .live
            .remove(&(lease.task.run_id.clone(), lease.task.node.clone()));
        Ok(lease.task)
    }

    pub(super) async fn finish(
        &self,
        token: &str,
        result: Result<Value, ActivityError>,
    ) -> Result<Attempt, Error> {
        let task = self.take(token)?;
        self.report(&task, result).await?;
        Ok(Attempt {
            run_id: task.run_id,
            node: task.node,
            attempt: task.attempt,
        })
    }

    pub(super) fn heartbeat(&self, token: &str) -> Result<(), Error> {
        let now = self.link.clock.now();
        let mut inner = self.lock();
        let lease = inner
            .leases
            .get_mut(&Digest::of(token))
            .ok_or(Error::Stale)?;
        if let Some(h) = lease.task.heartbeat {
            lease.heartbeat_deadline = Some(now + millis(h));
        }
        Ok(())
    }

    pub(super) fn depths(&self) -> Vec<(String, usize)> {
        let inner = self.lock();
        inner
            .queues
            .iter()
            .map(|(q, v)| (q.clone(), v.len()))
            .collect()
    }

    async fn report(&self, task: &Task, result: Result<Value, ActivityError>) -> Result<(), Error> {
        self.link
            .report_durably(&task.run_id, &task.node, task.attempt, result)
            .await
            .map_err(|_| Error::Stopped)
    }
}

fn millis(d: Duration) -> Millis {
    d.as_millis().min(i64::MAX as u128) as Millis
}
