//! What several processes on one PostgreSQL database need beyond a single engine: this
//! process's side of the leases, the shared task queue, and the relay of other processes'
//! commits. SQLite never starts any of it.
//!
//! - **Leases.** `http` attempts started here are leased in the commit that starts them
//!   (`driver`). [`maintain`] renews them; when another process's lease lapses (it died), it
//!   takes the lease over (`for update skip locked`) and has the driver send the attempt again
//!   if the log says it is still current. The same loop ends task leases that ran out.
//! - **Notices.** [`relay`] LISTENs: events committed elsewhere are read and published to this
//!   process's streams; a new timer wakes the timer service; a new task wakes the polls of
//!   its queue. Nothing polls in a tight loop.
//! - **Tasks.** [`SharedTasks`] serves `/api/queues` and `/api/tasks` from the `tasks` table, so a
//!   worker may talk to any process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use shared::model::NodeKind;
use tokio::sync::{Notify, broadcast, mpsc};

use super::activity::Secrets;
use super::decide::ActivityError;
use super::driver::{Command, Committed, Plans, now_ms};
use super::tasks::{self, Error, Task, parse_token, report_durably};
use crate::store::postgres::{LEASE_MS, Notice, TaskRow};
use crate::store::{self, Postgres};

/// How often leases are renewed: a third of their life, so one slow round does not lose them.
const RENEW: Duration = Duration::from_millis(LEASE_MS as u64 / 3);

/// Starts the relay and the lease keeper of this process.
pub(super) async fn start(
    pg: Postgres,
    engine: mpsc::WeakSender<Command>,
    published: broadcast::Sender<Arc<Committed>>,
    timers: Arc<Notify>,
    tasks: tasks::Tasks,
) -> Result<(), store::Error> {
    let listener = pg.listen().await?;
    let queue = match &tasks {
        tasks::Tasks::Shared(t) => Some(t.clone()),
        tasks::Tasks::Local(_) => None,
    };
    tokio::spawn(relay(pg.clone(), listener, published, timers, queue));
    tokio::spawn(maintain(pg, engine));
    Ok(())
}

/// Turns notices into wake-ups and into this process's live events.
async fn relay(
    pg: Postgres,
    mut listener: sqlx::postgres::PgListener,
    published: broadcast::Sender<Arc<Committed>>,
    timers: Arc<Notify>,
    tasks: Option<SharedTasks>,
) {
    loop {
        match pg.recv(&mut listener).await {
            Ok(Notice::Events(runs)) => {
                if published.receiver_count() == 0 {
                    continue;
                }
                for a in runs {
                    match pg.events_between(&a.run_id, a.from, a.to).await {
                        Ok(events) if !events.is_empty() => {
                            let _ = published.send(Arc::new(Committed {
                                run_id: a.run_id,
                                workflow: a.workflow,
                                status: a.status,
                                events,
                            }));
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "reading another process's events"),
                    }
                }
            }
            Ok(Notice::Timers) => timers.notify_one(),
            Ok(Notice::Task(queue)) => {
                if let Some(t) = &tasks {
                    t.wake(&queue);
                }
            }
            Err(e) => {
                // The listener reconnects by itself; notices sent meanwhile are lost, so
                // everyone waiting looks again.
                tracing::warn!(error = %e, "listening for notices");
                timers.notify_one();
                if let Some(t) = &tasks {
                    t.wake_all();
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Renews this process's leases, takes over lapsed ones and ends task leases that ran out.
async fn maintain(pg: Postgres, engine: mpsc::WeakSender<Command>) {
    loop {
        let now = now_ms();
        if let Err(e) = pg.renew_leases(now).await {
            tracing::warn!(error = %e, "renewing leases");
        }
        match pg.claim_lapsed_leases(now, 500).await {
            Ok(leases) => {
                if !leases.is_empty() {
                    tracing::info!(
                        count = leases.len(),
                        "took over attempts of a process that stopped"
                    );
                }
                let Some(tx) = engine.upgrade() else { return };
                for l in leases {
                    let cmd = Command::Resume {
                        run_id: l.run_id,
                        node: l.node,
                        attempt: l.attempt,
                    };
                    if tx.send(cmd).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "taking over leases"),
        }
        match pg.expired_tasks(now).await {
            Ok(expired) => {
                for t in expired {
                    let why = if t.worker_until.is_some_and(|w| w <= now) {
                        tasks::timed_out(Duration::from_millis(t.timeout_ms as u64))
                    } else {
                        tasks::no_heartbeat(Duration::from_millis(
                            t.heartbeat_ms.unwrap_or_default() as u64,
                        ))
                    };
                    let result = Err(ActivityError {
                        message: why,
                        retryable: true,
                    });
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        let _ =
                            report_durably(&engine, &t.run_id, &t.node, t.attempt, result).await;
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "ending task leases"),
        }
        // Sleep until the next renewal, or sooner if a lease or a task lease runs out.
        let wait = match pg.next_expiry().await {
            Ok(Some(at)) => {
                Duration::from_millis((at - now_ms() + 1).clamp(1, RENEW.as_millis() as i64) as u64)
            }
            _ => RENEW,
        };
        tokio::time::sleep(wait).await;
        if engine.upgrade().is_none() {
            return;
        }
    }
}

/// The shared task queue: rows in PostgreSQL, long polls woken by `NOTIFY`.
#[derive(Clone)]
pub struct SharedTasks {
    pg: Postgres,
    engine: mpsc::WeakSender<Command>,
    plans: Plans,
    secrets: Secrets,
    /// One wake-up per queue that has waiting polls.
    wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    /// Queue depths as last read, so `/metrics` can report a queue that emptied as 0.
    depths: Arc<Mutex<Vec<(String, i64)>>>,
}

impl SharedTasks {
    pub(super) fn new(
        pg: Postgres,
        engine: mpsc::WeakSender<Command>,
        plans: Plans,
        secrets: Secrets,
    ) -> SharedTasks {
        SharedTasks {
            pg,
            engine,
            plans,
            secrets,
            wakers: Arc::default(),
            depths: Arc::default(),
        }
    }

    fn waker(&self, queue: &str) -> Arc<Notify> {
        self.wakers
            .lock()
            .expect("wakers lock")
            .entry(queue.to_owned())
            .or_default()
            .clone()
    }

    fn wake(&self, queue: &str) {
        if let Some(w) = self.wakers.lock().expect("wakers lock").get(queue) {
            w.notify_waiters();
        }
    }

    fn wake_all(&self) {
        for w in self.wakers.lock().expect("wakers lock").values() {
            w.notify_waiters();
        }
    }

    /// Claims the oldest task of `queue`, waiting up to `wait` for one to arrive.
    pub(super) async fn poll(&self, queue: &str, wait: Duration) -> Result<Option<Task>, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        let waker = self.waker(queue);
        loop {
            // Armed before looking, so a task announced meanwhile is not missed.
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(row) = self.pg.claim_task(queue, now_ms()).await? {
                match self.task(&row).await {
                    Ok(task) => return Ok(Some(task)),
                    Err(message) => {
                        // No worker can do it: the attempt fails for good.
                        if self
                            .pg
                            .take_task(&row.run_id, &row.node, row.attempt)
                            .await?
                            .is_some()
                        {
                            let result = Err(ActivityError {
                                message,
                                retryable: false,
                            });
                            report_durably(
                                &self.engine,
                                &row.run_id,
                                &row.node,
                                row.attempt,
                                result,
                            )
                            .await?;
                        }
                        continue;
                    }
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// The task a worker receives: its input rendered now, with the secrets, never stored.
    async fn task(&self, row: &TaskRow) -> Result<Task, String> {
        let run = self
            .plans
            .load(&row.run_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("run `{}` not found", row.run_id))?;
        let i = run
            .node_index(&row.node)
            .ok_or_else(|| format!("node `{}` not found", row.node))?;
        let NodeKind::Task(t) = run.plan.kind(i) else {
            return Err(format!("node `{}` is not a task", row.node));
        };
        let input = tasks::render_input(&run, i, t, &self.secrets)?;
        Ok(Task {
            queue: row.queue.clone(),
            run_id: row.run_id.clone(),
            node: row.node.clone(),
            attempt: row.attempt,
            activity: row.activity.clone(),
            input,
            timeout: Duration::from_millis(row.timeout_ms as u64),
            heartbeat: row.heartbeat_ms.map(|h| Duration::from_millis(h as u64)),
            enqueued_at: row.enqueued_at,
        })
    }

    /// A worker's report: ends the lease (a stale token ends nothing) and records the outcome.
    pub(super) async fn finish(
        &self,
        token: &str,
        result: Result<Value, ActivityError>,
    ) -> Result<(), Error> {
        let (run, node, attempt) = parse_token(token).ok_or(Error::Stale)?;
        if self.pg.take_task(run, node, attempt).await?.is_none() {
            return Err(Error::Stale);
        }
        report_durably(&self.engine, run, node, attempt, result).await
    }

    pub(super) async fn heartbeat(&self, token: &str) -> Result<(), Error> {
        let (run, node, attempt) = parse_token(token).ok_or(Error::Stale)?;
        if self.pg.heartbeat_task(run, node, attempt, now_ms()).await? {
            Ok(())
        } else {
            Err(Error::Stale)
        }
    }

    /// Queued tasks per queue; a queue that emptied since the last call reads 0.
    pub(super) async fn depths(&self) -> Vec<(String, usize)> {
        let mut last = self.depths.lock().expect("depths lock").clone();
        if let Ok(now) = self.pg.queue_depths().await {
            for (_, n) in &mut last {
                *n = 0;
            }
            for (q, n) in now {
                match last.iter_mut().find(|(l, _)| *l == q) {
                    Some(slot) => slot.1 = n,
                    None => last.push((q, n)),
                }
            }
            self.depths.lock().expect("depths lock").clone_from(&last);
        }
        last.into_iter().map(|(q, n)| (q, n as usize)).collect()
    }
}
