//! The shared task queue (PostgreSQL): task attempts are rows of the `tasks` table, written
//! in the commit that starts them, claimed by any process for any worker with `for update
//! skip locked`; long polls are woken by `NOTIFY`, so a worker may talk to any process.
//! The claim stores the digest of the token it hands out (`token_hash`), so any process can
//! check a worker's token and a task handed out again has a new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use shared::model::NodeKind;
use tokio::sync::Notify;

use crate::engine::activity::Secrets;
use crate::engine::decide::ActivityError;
use crate::engine::driver::Link;
use crate::engine::tasks::{self, Assigned, Attempt, Digest, Error, Task, Token};
use crate::store::{Postgres, TaskRow};

/// The shared task queue: rows in PostgreSQL, long polls woken by `NOTIFY`.
#[derive(Clone)]
pub struct SharedTasks {
    pg: Postgres,
    link: Link,
    secrets: Secrets,
    /// One wake-up per queue that has waiting polls.
    wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    /// Queue depths as last read, so `/metrics` can report a queue that emptied as 0.
    depths: Arc<Mutex<Vec<(String, i64)>>>,
}

impl SharedTasks {
    pub(super) fn new(pg: Postgres, link: Link, secrets: Secrets) -> SharedTasks {
        SharedTasks {
            pg,
            link,
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

    pub(super) fn wake(&self, queue: &str) {
        if let Some(w) = self.wakers.lock().expect("wakers lock").get(queue) {
            w.notify_waiters();
        }
    }

    pub(super) fn wake_all(&self) {
        for w in self.wakers.lock().expect("wakers lock").values() {
            w.notify_waiters();
        }
    }

    /// Claims the oldest task of `queue`, waiting up to `wait` for one to arrive.
    pub(super) async fn poll(
        &self,
        queue: &str,
        wait: Duration,
    ) -> Result<Option<Assigned>, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        let waker = self.waker(queue);
        loop {
            // Armed before looking, so a task announced meanwhile is not missed.
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let token = Token::generate();
            let digest = token.digest();
            if let Some(row) = self
                .pg
                .claim_task(queue, self.link.clock.now(), digest.as_bytes())
                .await?
            {
                match self.task(&row).await {
                    Ok(task) => return Ok(Some(Assigned { token, task })),
                    Err(message) => {
                        // No worker can do it: the attempt fails for good.
                        if self.pg.take_task(digest.as_bytes()).await?.is_some() {
                            let result = Err(ActivityError {
                                message,
                                retryable: false,
                            });
                            self.report(&row.run_id, &row.node, row.attempt, result)
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
            .link
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
        let input = tasks::render_input(&run, i, t, &self.secrets).await?;
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
    ) -> Result<Attempt, Error> {
        let row = self
            .pg
            .take_task(Digest::of(token).as_bytes())
            .await?
            .ok_or(Error::Stale)?;
        self.report(&row.run_id, &row.node, row.attempt, result)
            .await?;
        Ok(Attempt {
            run_id: row.run_id,
            node: row.node,
            attempt: row.attempt,
        })
    }

    async fn report(
        &self,
        run: &str,
        node: &str,
        attempt: u32,
        result: Result<Value, ActivityError>,
    ) -> Result<(), Error> {
        self.link
            .report_durably(run, node, attempt, result)
            .await
            .map_err(Error::from)
    }

    pub(super) async fn heartbeat(&self, token: &str) -> Result<(), Error> {
        if self
            .pg
            .heartbeat_task(Digest::of(token).as_bytes(), self.link.clock.now())
            .await?
        {
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
