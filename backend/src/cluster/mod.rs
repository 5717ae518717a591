//! Coordination: what one process or several sharing a store need around the engine, so the
//! engine itself never asks which database it runs on.
//!
//! - **One process (SQLite)**: task queues in memory ([`local`]); at start, every attempt
//!   the log shows in flight is sent again ([`recovery`]).
//! - **Several processes (PostgreSQL)**: `http` attempts are leased in the commit that starts
//!   them and renewed, lapsed leases are taken over ([`leases`]); task attempts are rows of a
//!   shared queue ([`queue`]); every commit is announced and relayed to the other processes'
//!   streams, timers and polls ([`relay`]).
//!
//! [`Cluster`] is chosen once from the store, implements the driver's [`Coordinator`] and
//! serves the API's task endpoints.

mod leases;
mod local;
mod queue;
mod recovery;
mod relay;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use shared::model::NodeKind;

use crate::engine::activity::Secrets;
use crate::engine::decide::ActivityError;
use crate::engine::driver::{Coordinator, Link};
use crate::engine::effect::Effect;
use crate::engine::state::RunState;
use crate::engine::tasks::{self, Assigned, Attempt, Error};
use crate::store::{self, Batch, LeaseRow, Store, TaskRow};

use local::LocalTasks;
use queue::SharedTasks;

/// The coordination of this process with the others on its store (if any).
#[derive(Clone)]
pub enum Cluster {
    Single {
        store: Store,
        link: Link,
        tasks: LocalTasks,
    },
    Shared {
        pg: store::Postgres,
        link: Link,
        tasks: SharedTasks,
    },
}

impl Cluster {
    /// One process on SQLite; one of several on PostgreSQL.
    pub fn new(store: &Store, link: Link, secrets: Secrets) -> Cluster {
        match store.postgres() {
            None => Cluster::Single {
                store: store.clone(),
                tasks: LocalTasks::new(link.clone(), secrets),
                link,
            },
            Some(pg) => Cluster::Shared {
                pg: pg.clone(),
                tasks: SharedTasks::new(pg.clone(), link.clone(), secrets),
                link,
            },
        }
    }

    /// Starts what runs beside the engine: recovery of the attempts in flight (one process),
    /// or the relay and the lease keeper (several; leases decide who resumes what).
    pub async fn start(&self) -> Result<(), store::Error> {
        match self {
            Cluster::Single { store, link, .. } => recovery::resume_all(store, link).await,
            Cluster::Shared { pg, link, tasks } => {
                let listener = pg.listen().await?;
                tokio::spawn(relay::relay(
                    pg.clone(),
                    listener,
                    link.clone(),
                    tasks.clone(),
                ));
                tokio::spawn(leases::maintain(pg.clone(), link.clone()));
                Ok(())
            }
        }
    }

    /// Waits up to `wait` for a task of `queue`, handed out with a new token.
    pub async fn poll(&self, queue: &str, wait: Duration) -> Result<Option<Assigned>, Error> {
        match self {
            Cluster::Single { tasks, .. } => Ok(tasks.poll(queue, wait).await),
            Cluster::Shared { tasks, .. } => tasks.poll(queue, wait).await,
        }
    }

    /// The worker holding `token` finished its task; which attempt that was.
    pub async fn complete(&self, token: &str, output: Value) -> Result<Attempt, Error> {
        self.finish(token, Ok(output)).await
    }

    /// The worker holding `token` failed its task; `retryable` false fails the node at once.
    pub async fn fail(
        &self,
        token: &str,
        error: String,
        retryable: bool,
    ) -> Result<Attempt, Error> {
        let result = Err(ActivityError {
            message: error,
            retryable,
        });
        self.finish(token, result).await
    }

    async fn finish(
        &self,
        token: &str,
        result: Result<Value, ActivityError>,
    ) -> Result<Attempt, Error> {
        match self {
            Cluster::Single { tasks, .. } => tasks.finish(token, result).await,
            Cluster::Shared { tasks, .. } => tasks.finish(token, result).await,
        }
    }

    /// The worker is alive: the heartbeat deadline moves on.
    pub async fn heartbeat(&self, token: &str) -> Result<(), Error> {
        match self {
            Cluster::Single { tasks, .. } => tasks.heartbeat(token),
            Cluster::Shared { tasks, .. } => tasks.heartbeat(token).await,
        }
    }

    /// Tasks waiting for a worker, per queue.
    pub async fn depths(&self) -> Vec<(String, usize)> {
        match self {
            Cluster::Single { tasks, .. } => tasks.depths(),
            Cluster::Shared { tasks, .. } => tasks.depths().await,
        }
    }
}

impl Coordinator for Cluster {
    /// Several processes: the round's `http` and render attempts are leased to this process and its task
    /// attempts join the shared queue, in the transaction of the events that start them;
    /// leases of attempts (and runs) that end go with them. One process needs nothing.
    fn prepare(
        &self,
        batch: &mut Batch,
        effects: &[(String, Effect)],
        runs: &HashMap<String, RunState>,
    ) {
        let Cluster::Shared { .. } = self else {
            return;
        };
        for (run_id, fx) in effects {
            match fx {
                Effect::Http { node, attempt } | Effect::Render { node, attempt } => {
                    batch.leases.push(LeaseRow {
                        run_id: run_id.clone(),
                        node: node.clone(),
                        attempt: *attempt,
                    })
                }
                Effect::Task { node, attempt } => {
                    let Some(run) = runs.get(run_id) else {
                        continue;
                    };
                    let Some(i) = run.node_index(node) else {
                        continue;
                    };
                    let NodeKind::Task(t) = run.plan.kind(i) else {
                        continue;
                    };
                    let (timeout, heartbeat) = tasks::limits(run, i);
                    batch.tasks.push(TaskRow {
                        run_id: run_id.clone(),
                        node: node.clone(),
                        attempt: *attempt,
                        queue: t.queue.clone(),
                        activity: t.activity.clone(),
                        timeout_ms: timeout.as_millis() as i64,
                        heartbeat_ms: heartbeat.map(|h| h.as_millis() as i64),
                        enqueued_at: batch.now,
                        worker_until: None,
                        heartbeat_until: None,
                    });
                }
                Effect::AbandonTask { node } => {
                    batch.clear_tasks.push((run_id.clone(), node.clone()))
                }
                Effect::EndAttempt { node } => batch
                    .clear_leases
                    .push((run_id.clone(), Some(node.clone()))),
                Effect::EndRun => batch.clear_leases.push((run_id.clone(), None)),
                // Timers are written by the driver; child runs are started, cancelled and told
                // in the same commit, with nothing to coordinate.
                Effect::SetTimer { .. }
                | Effect::ClearTimers { .. }
                | Effect::ClearRunTimers
                | Effect::StartChild { .. }
                | Effect::CancelChild { .. }
                | Effect::NotifyParent => {}
            }
        }
    }

    /// One process: a task attempt joins (or leaves) the in-memory queue. Several: the row
    /// was written with its events.
    fn perform(&self, run: &RunState, effect: &Effect) {
        let Cluster::Single { tasks, .. } = self else {
            return;
        };
        match effect {
            Effect::Task { node, attempt } => tasks.start(run, node, *attempt),
            Effect::AbandonTask { node } => tasks.abandon(&run.id, node),
            _ => {}
        }
    }
}
