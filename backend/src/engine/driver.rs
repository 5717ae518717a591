//! The driver: the one writer. It takes commands from a channel, folds and decides each run,
//! writes the events of every command it drained in one transaction (group commit), then
//! replies, publishes the events and performs the effects.
//!
//! Nothing here sleeps to find work: commands, finished attempts and due timers all arrive
//! on the channel. Runs with an attempt in flight stay in memory; a run that only waits (an
//! approval, a timer, a signal) is dropped from memory and folded again from its log when
//! something happens to it.
//!
//! On a shared store (PostgreSQL, several processes) another process may append to a run
//! this one holds in memory. The commit then writes nothing ([`store::Error::Conflict`]):
//! the round's runs are dropped from memory and its commands decided again from the log.
//! Attempts started here are leased in the same transaction; [`super::shared`] renews the
//! leases, takes over those of dead processes and relays other processes' commits.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use shared::model::NodeKind;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

use super::activity::{self, Secrets};
use super::decide::{ActivityError, Input, Rejected, TimerKind, decide};
use super::effect::{Effect, effects};
use super::event::{Millis, Recorded};
use super::state::{NodeStatus, Plan, RunState};
use super::tasks::{Task, Tasks};
use crate::store::{self, Batch, RunRow, Store, TimerRow};

/// The wall clock, in milliseconds. Read by the shells only.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Why the engine did not take a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("run `{0}` not found")]
    RunNotFound(String),
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error("run `{0}` exists with a different input")]
    InputConflict(String),
    #[error("the engine is shutting down")]
    Stopped,
    #[error("the write failed; nothing was recorded")]
    CommitFailed,
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// How a start request ended.
#[derive(Debug)]
pub enum Started {
    Created(RunRow),
    /// The same `run_id` with the same input: the run that exists.
    Existing(RunRow),
}

/// The events of one run in one commit, as published to stream subscribers.
#[derive(Debug)]
pub struct Committed {
    pub run_id: String,
    pub workflow: String,
    pub status: String,
    pub events: Vec<Recorded>,
}

/// What the driver takes from its channel.
pub(super) enum Command {
    Start {
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        reply: oneshot::Sender<Result<Started, Error>>,
    },
    Input {
        run_id: String,
        input: Input,
        reply: Option<oneshot::Sender<Result<(), Error>>>,
    },
    Timers {
        due: Vec<TimerRow>,
        reply: oneshot::Sender<()>,
    },
    /// Shared stores: this process took over the lease of an `http` attempt whose process
    /// died; send it again if the log says it is still current.
    Resume {
        run_id: String,
        node: String,
        attempt: u32,
    },
}

/// Indexed plans by `(workflow, version)`.
type PlanCache = Arc<Mutex<HashMap<(String, i64), Arc<Plan>>>>;

/// Definition versions, indexed once and shared by every run of a version.
#[derive(Clone)]
pub struct Plans {
    store: Store,
    cache: PlanCache,
}

impl Plans {
    pub fn new(store: Store) -> Plans {
        Plans {
            store,
            cache: Arc::default(),
        }
    }

    pub async fn get(&self, name: &str, version: i64) -> Result<Option<Arc<Plan>>, store::Error> {
        let key = (name.to_owned(), version);
        if let Some(p) = self.cache.lock().expect("plans lock").get(&key) {
            return Ok(Some(p.clone()));
        }
        let Some(stored) = self.store.workflow(name, Some(version)).await? else {
            return Ok(None);
        };
        let wf = shared::validate::parse(&stored.definition)
            .map_err(|f| store::Error::Corrupt(format!("{name} v{version}: {f:?}")))?;
        let plan = Arc::new(Plan::new(wf, version));
        self.cache
            .lock()
            .expect("plans lock")
            .insert(key, plan.clone());
        Ok(Some(plan))
    }

    /// Folds a run's log into its state.
    pub async fn load(&self, run_id: &str) -> Result<Option<RunState>, store::Error> {
        let Some(row) = self.store.run(run_id).await? else {
            return Ok(None);
        };
        let events = self.store.events(run_id, 0).await?;
        self.fold(&row.id, &row.workflow, row.version, &events)
            .await
    }

    /// Folds a log into the state of a run of `workflow` at `version`.
    pub async fn fold(
        &self,
        id: &str,
        workflow: &str,
        version: i64,
        events: &[Recorded],
    ) -> Result<Option<RunState>, store::Error> {
        let Some(plan) = self.get(workflow, version).await? else {
            return Ok(None);
        };
        let mut s = RunState::new(id.to_owned(), plan, Value::Null);
        for r in events {
            s.apply(&r.event, r.at);
        }
        Ok(Some(s))
    }
}

/// The handle the API holds.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::Sender<Command>,
    pub published: broadcast::Sender<Arc<Committed>>,
    pub plans: Plans,
    pub tasks: Tasks,
}

impl Engine {
    /// Starts the driver and the timer service after resuming every unfinished run.
    pub async fn start(
        store: Store,
        secrets: Secrets,
    ) -> Result<(Engine, tokio::task::JoinHandle<()>), store::Error> {
        let (tx, rx) = mpsc::channel(65_536);
        let (published, _) = broadcast::channel(16_384);
        let plans = Plans::new(store.clone());
        let wake = Arc::new(Notify::new());
        let tasks = match store.shared() {
            None => Tasks::local(tx.downgrade()),
            Some(pg) => Tasks::shared(pg.clone(), tx.downgrade(), plans.clone(), secrets.clone()),
        };
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("http client");
        let mut driver = Driver {
            store: store.clone(),
            plans: plans.clone(),
            runs: HashMap::new(),
            tx: tx.downgrade(),
            published: published.clone(),
            wake: wake.clone(),
            client,
            secrets,
            tasks: tasks.clone(),
            shared: store.shared().is_some(),
        };
        if let Some(pg) = store.shared() {
            // Other processes may be running these runs: leases decide who resumes what.
            super::shared::start(
                pg.clone(),
                tx.downgrade(),
                published.clone(),
                wake.clone(),
                tasks.clone(),
            )
            .await?;
        } else {
            driver.recover().await?;
        }
        let handle = tokio::spawn(driver.run(rx));
        tokio::spawn(timer_service(store, tx.downgrade(), wake));
        Ok((
            Engine {
                tx,
                published,
                plans,
                tasks,
            },
            handle,
        ))
    }

    pub async fn start_run(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
    ) -> Result<Started, Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Start {
                run_id,
                plan,
                input,
                reply,
            })
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Feeds an input to a run and waits until its events are durable.
    pub async fn send(&self, run_id: &str, input: Input) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Input {
                run_id: run_id.to_owned(),
                input,
                reply: Some(reply),
            })
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }
}

struct Driver {
    store: Store,
    plans: Plans,
    /// Runs with work in flight.
    runs: HashMap<String, RunState>,
    /// Weak, so the driver stops when the last `Engine` handle is dropped.
    tx: mpsc::WeakSender<Command>,
    published: broadcast::Sender<Arc<Committed>>,
    wake: Arc<Notify>,
    client: reqwest::Client,
    secrets: Secrets,
    tasks: Tasks,
    /// Whether other processes share the store (PostgreSQL).
    shared: bool,
}

/// What a command came to, sent to its caller once the round is durable.
enum Outcome {
    Start(Result<Started, Error>),
    Input(Result<(), Error>),
    Done,
}

/// A round is decided again from the log at most this often when other processes keep
/// appending to its runs first.
const MAX_REDO: usize = 50;

/// What one drained set of commands will write and do.
#[derive(Default)]
struct Round {
    batch: Batch,
    outcomes: Vec<Outcome>,
    touched: Vec<String>,
    perform: Vec<(String, Effect)>,
    new_timers: bool,
}

impl Driver {
    /// Resumes every unfinished run: attempts that were in flight are sent again (same
    /// attempt, same Idempotency-Key). Waits and backoffs are rows in `timers`.
    async fn recover(&mut self) -> Result<(), store::Error> {
        let rows = self.store.unfinished_runs().await?;
        let mut logs: HashMap<String, Vec<Recorded>> = HashMap::new();
        for (run, r) in self.store.events_of_unfinished().await? {
            logs.entry(run).or_default().push(r);
        }
        let mut resumed = 0;
        for row in rows {
            let log = logs.remove(&row.id).unwrap_or_default();
            let Some(state) = self
                .plans
                .fold(&row.id, &row.workflow, row.version, &log)
                .await?
            else {
                continue;
            };
            let inflight: Vec<Effect> = state
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.status == NodeStatus::Running)
                .filter_map(|(i, n)| match state.plan.kind(i) {
                    NodeKind::Http(_) => Some(Effect::Http {
                        node: state.plan.workflow.nodes[i].id.clone(),
                        attempt: n.attempts,
                    }),
                    NodeKind::Task(_) => Some(Effect::Task {
                        node: state.plan.workflow.nodes[i].id.clone(),
                        attempt: n.attempts,
                    }),
                    _ => None,
                })
                .collect();
            if inflight.is_empty() {
                continue;
            }
            resumed += 1;
            for e in inflight {
                self.perform(&state, e);
            }
            self.runs.insert(row.id.clone(), state);
        }
        tracing::info!(resumed, "recovered runs with attempts in flight");
        Ok(())
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut cmds = Vec::with_capacity(4096);
        while rx.recv_many(&mut cmds, 4096).await > 0 {
            let mut redo = 0;
            let committed = loop {
                let mut round = Round::default();
                let now = now_ms();
                for cmd in &cmds {
                    let outcome = self.handle(cmd, now, &mut round).await;
                    round.outcomes.push(outcome);
                }
                match self.finish(round).await {
                    Err(store::Error::Conflict(runs)) if redo < MAX_REDO => {
                        redo += 1;
                        crate::metrics::conflict();
                        tracing::debug!(
                            ?runs,
                            redo,
                            "another process appended first; deciding again"
                        );
                    }
                    other => break other,
                }
            };
            let outcomes = match committed {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    tracing::error!(error = %e, "group commit failed; the round's commands are refused");
                    Vec::new()
                }
            };
            let mut outcomes = outcomes.into_iter();
            for cmd in cmds.drain(..) {
                reply(cmd, outcomes.next());
            }
        }
        tracing::info!("engine stopped: every accepted command is committed");
    }

    async fn state(&mut self, run_id: &str) -> Result<Option<RunState>, store::Error> {
        if let Some(s) = self.runs.remove(run_id) {
            return Ok(Some(s));
        }
        self.plans.load(run_id).await
    }

    async fn handle(&mut self, cmd: &Command, now: Millis, round: &mut Round) -> Outcome {
        match cmd {
            Command::Start {
                run_id,
                plan,
                input,
                ..
            } => Outcome::Start(
                self.start(run_id.clone(), plan.clone(), input.clone(), now, round)
                    .await,
            ),
            Command::Input { run_id, input, .. } => {
                Outcome::Input(self.input(run_id, input.clone(), now, round).await)
            }
            Command::Timers { due, .. } => {
                for t in due {
                    if let Some(kind) = TimerKind::parse(&t.kind) {
                        let input = Input::TimerFired {
                            node: t.node.clone(),
                            kind,
                            attempt: t.attempt,
                        };
                        // A timer of a finished run or a moved-on node is simply void.
                        let _ = self.input(&t.run_id, input, now, round).await;
                    }
                    round.batch.fired.push(t.clone());
                }
                Outcome::Done
            }
            Command::Resume {
                run_id,
                node,
                attempt,
            } => {
                self.resume(run_id, node, *attempt, round).await;
                Outcome::Done
            }
        }
    }

    /// Sends a taken-over `http` attempt again if its node is still running that attempt.
    async fn resume(&mut self, run_id: &str, node: &str, attempt: u32, round: &mut Round) {
        let Ok(Some(state)) = self.state(run_id).await else {
            return;
        };
        let current = state.node_index(node).is_some_and(|i| {
            state.nodes[i].status == NodeStatus::Running && state.nodes[i].attempts == attempt
        });
        if current && !state.status.is_finished() {
            round.perform.push((
                run_id.to_owned(),
                Effect::Http {
                    node: node.to_owned(),
                    attempt,
                },
            ));
            round.touched.push(run_id.to_owned());
            self.runs.insert(run_id.to_owned(), state);
        } else if has_inflight(&state) {
            self.runs.insert(run_id.to_owned(), state);
        }
    }

    async fn start(
        &mut self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        now: Millis,
        round: &mut Round,
    ) -> Result<Started, Error> {
        let existing = match self.runs.get(&run_id) {
            Some(s) => Some(run_row(s)),
            None => self.store.run(&run_id).await?,
        };
        if let Some(row) = existing {
            if row.input != input {
                return Err(Error::InputConflict(run_id));
            }
            return Ok(Started::Existing(row));
        }
        let fresh = RunState::new(run_id.clone(), plan.clone(), input);
        let d = decide(
            &fresh,
            Input::Start {
                workflow: plan.workflow.name.clone(),
                version: plan.version,
            },
            now,
        )?;
        self.record(&fresh, d.events, d.state, now, round);
        let s = &self.runs[&run_id];
        Ok(Started::Created(run_row(s)))
    }

    async fn input(
        &mut self,
        run_id: &str,
        input: Input,
        now: Millis,
        round: &mut Round,
    ) -> Result<(), Error> {
        let Some(state) = self.state(run_id).await? else {
            return Err(Error::RunNotFound(run_id.to_owned()));
        };
        match decide(&state, input, now) {
            Ok(d) => {
                self.record(&state, d.events, d.state, now, round);
                Ok(())
            }
            Err(e) => {
                // Put back only what the cache holds: runs with an attempt in flight.
                if has_inflight(&state) {
                    self.runs.insert(run_id.to_owned(), state);
                }
                Err(e.into())
            }
        }
    }

    /// Adds a decision's events and effects to the round; keeps the new state.
    fn record(
        &mut self,
        before: &RunState,
        events: Vec<super::event::Event>,
        after: RunState,
        now: Millis,
        round: &mut Round,
    ) {
        let id = after.id.clone();
        for fx in effects(&after, &events, now) {
            match fx {
                Effect::SetTimer {
                    node,
                    kind,
                    attempt,
                    due,
                } => {
                    round.new_timers = true;
                    round.batch.set_timers.push(TimerRow {
                        run_id: id.clone(),
                        node,
                        kind: kind.as_str().to_owned(),
                        attempt,
                        due_at: due,
                    });
                }
                Effect::ClearTimers { node } => {
                    round.batch.clear_timers.push((id.clone(), Some(node)))
                }
                Effect::ClearRunTimers => round.batch.clear_timers.push((id.clone(), None)),
                other => round.perform.push((id.clone(), other)),
            }
        }
        for (k, event) in events.into_iter().enumerate() {
            round.batch.events.push((
                id.clone(),
                Recorded {
                    seq: before.seq + 1 + k as i64,
                    at: now,
                    event,
                },
            ));
        }
        if self.shared {
            round.batch.expected.entry(id.clone()).or_insert(before.seq);
        }
        round.touched.push(id.clone());
        self.runs.insert(id, after);
    }

    /// Commits the round; then publishes its events and performs its effects. On an error
    /// nothing was written and the round's runs are dropped from memory (the log is the truth).
    async fn finish(&mut self, mut round: Round) -> Result<Vec<Outcome>, store::Error> {
        let touched: HashSet<String> = round.touched.drain(..).collect();
        round.batch.runs = touched
            .iter()
            .filter(|id| round.batch.expected.contains_key(*id) || !self.shared)
            .filter_map(|id| self.runs.get(id))
            .map(run_row)
            .collect();
        if self.shared {
            self.lease_and_queue(&mut round);
        }
        let started = std::time::Instant::now();
        let committed = self.store.commit(&round.batch).await;
        crate::metrics::commit(round.batch.events.len(), started.elapsed().as_secs_f64());
        if let Err(e) = committed {
            for id in &touched {
                self.runs.remove(id);
            }
            return Err(e);
        }
        if round.new_timers {
            self.wake.notify_one();
        }
        // Publish per run, in commit order.
        let mut by_run: HashMap<String, Vec<Recorded>> = HashMap::new();
        for (run, r) in round.batch.events {
            by_run.entry(run).or_default().push(r);
        }
        let listening = self.published.receiver_count() > 0;
        for (run_id, events) in by_run {
            let Some(s) = self.runs.get(&run_id) else {
                continue;
            };
            crate::metrics::record(s, &events);
            if listening {
                let c = Committed {
                    run_id,
                    workflow: s.plan.workflow.name.clone(),
                    status: s.status.as_str().to_owned(),
                    events,
                };
                let _ = self.published.send(Arc::new(c));
            }
        }
        for (run_id, fx) in round.perform {
            if let Some(s) = self.runs.get(&run_id) {
                self.perform(s, fx);
            }
        }
        // Keep only runs with an attempt in flight; the rest live in the store.
        for id in touched {
            let keep = self.runs.get(&id).is_some_and(|s| {
                !s.status.is_finished() && s.nodes.iter().any(|n| n.status == NodeStatus::Running)
            });
            if !keep {
                self.runs.remove(&id);
            }
        }
        Ok(round.outcomes)
    }

    /// Shared stores: the round's `http` attempts are leased to this process and its task
    /// attempts join the shared queue, in the same transaction as the events that start them;
    /// leases of attempts that end go.
    fn lease_and_queue(&self, round: &mut Round) {
        for (run_id, fx) in &round.perform {
            let Some(run) = self.runs.get(run_id) else {
                continue;
            };
            match fx {
                Effect::Http { node, attempt } => round.batch.leases.push(store::LeaseRow {
                    run_id: run_id.clone(),
                    node: node.clone(),
                    attempt: *attempt,
                }),
                Effect::Task { node, attempt } => {
                    let Some(NodeKind::Task(t)) = run.node_index(node).map(|i| run.plan.kind(i))
                    else {
                        continue;
                    };
                    let (timeout, heartbeat) = super::tasks::limits(t);
                    round.batch.tasks.push(store::postgres::TaskRow {
                        run_id: run_id.clone(),
                        node: node.clone(),
                        attempt: *attempt,
                        queue: t.queue.clone(),
                        activity: t.activity.clone(),
                        timeout_ms: timeout.as_millis() as i64,
                        heartbeat_ms: heartbeat.map(|h| h.as_millis() as i64),
                        enqueued_at: now_ms(),
                        worker_until: None,
                        heartbeat_until: None,
                    });
                }
                Effect::AbandonTask { node } => {
                    round.batch.clear_tasks.push((run_id.clone(), node.clone()))
                }
                _ => {}
            }
        }
        for (run_id, r) in &round.batch.events {
            use super::event::Event;
            match &r.event {
                Event::AttemptFailed { node, .. }
                | Event::NodeCompleted { node, .. }
                | Event::NodeFailed { node, .. }
                | Event::NodeCancelled { node } => round
                    .batch
                    .clear_leases
                    .push((run_id.clone(), Some(node.clone()))),
                e if e.is_final() => round.batch.clear_leases.push((run_id.clone(), None)),
                _ => {}
            }
        }
    }

    fn perform(&self, run: &RunState, fx: Effect) {
        match fx {
            Effect::Http { node, attempt } => {
                let Some(i) = run.node_index(&node) else {
                    return;
                };
                let NodeKind::Http(http) = run.plan.kind(i).clone() else {
                    return;
                };
                let ctx = run.context_for(i);
                let key = format!("{}/{}", run.id, node);
                let (client, secrets, tx, run_id) = (
                    self.client.clone(),
                    self.secrets.clone(),
                    self.tx.clone(),
                    run.id.clone(),
                );
                tokio::spawn(async move {
                    let result = activity::send(&client, &http, ctx, &secrets, &key).await;
                    report(tx, run_id, node, attempt, result).await;
                });
            }
            // Shared stores: the attempt is a row of the shared queue, written with its event.
            Effect::Task { .. } | Effect::AbandonTask { .. } if self.shared => {}
            Effect::Task { node, attempt } => {
                let Some(i) = run.node_index(&node) else {
                    return;
                };
                let NodeKind::Task(t) = run.plan.kind(i) else {
                    return;
                };
                let input = match super::tasks::render_input(run, i, t, &self.secrets) {
                    Ok(v) => v,
                    Err(message) => {
                        // A task whose input does not render cannot be done by any worker.
                        let result = Err(ActivityError {
                            message,
                            retryable: false,
                        });
                        tokio::spawn(report(
                            self.tx.clone(),
                            run.id.clone(),
                            node,
                            attempt,
                            result,
                        ));
                        return;
                    }
                };
                let (timeout, heartbeat) = super::tasks::limits(t);
                self.tasks.enqueue_local(Task {
                    queue: t.queue.clone(),
                    run_id: run.id.clone(),
                    node,
                    attempt,
                    activity: t.activity.clone(),
                    input,
                    timeout,
                    heartbeat,
                    enqueued_at: now_ms(),
                });
            }
            Effect::AbandonTask { node } => self.tasks.abandon_local(&run.id, &node),
            Effect::SetTimer { .. } | Effect::ClearTimers { .. } | Effect::ClearRunTimers => {}
        }
    }
}

/// Answers a command's caller with its outcome (`None`: the round was not committed).
fn reply(cmd: Command, outcome: Option<Outcome>) {
    match (cmd, outcome) {
        (Command::Start { reply, .. }, Some(Outcome::Start(r))) => drop(reply.send(r)),
        (Command::Start { reply, .. }, _) => drop(reply.send(Err(Error::CommitFailed))),
        (
            Command::Input {
                reply: Some(reply), ..
            },
            Some(Outcome::Input(r)),
        ) => drop(reply.send(r)),
        (
            Command::Input {
                reply: Some(reply), ..
            },
            _,
        ) => drop(reply.send(Err(Error::CommitFailed))),
        (Command::Timers { reply, .. }, _) => drop(reply.send(())),
        (Command::Input { reply: None, .. } | Command::Resume { .. }, _) => {}
    }
}

/// Hands an attempt's outcome back to the driver.
pub(super) async fn report(
    tx: mpsc::WeakSender<Command>,
    run_id: String,
    node: String,
    attempt: u32,
    result: Result<Value, ActivityError>,
) {
    if let Some(tx) = tx.upgrade() {
        let input = Input::AttemptFinished {
            node,
            attempt,
            result,
        };
        let _ = tx
            .send(Command::Input {
                run_id,
                input,
                reply: None,
            })
            .await;
    }
}

/// A run the driver keeps in memory: one with an attempt under way.
fn has_inflight(s: &RunState) -> bool {
    !s.status.is_finished() && s.nodes.iter().any(|n| n.status == NodeStatus::Running)
}

fn run_row(s: &RunState) -> RunRow {
    RunRow {
        id: s.id.clone(),
        workflow: s.plan.workflow.name.clone(),
        version: s.plan.version,
        status: s.status.as_str().to_owned(),
        input: s.input.clone(),
        output: s.output.clone(),
        error: s.error.clone(),
        created_at: s.created_at,
        updated_at: s.updated_at,
        last_seq: s.seq,
    }
}

/// Fires due timers: waits until the earliest is due or a new one is set, never polls.
async fn timer_service(store: Store, tx: mpsc::WeakSender<Command>, wake: Arc<Notify>) {
    const SAFETY_NET: Duration = Duration::from_secs(60);
    loop {
        let now = now_ms();
        match store.due_timers(now, 1000).await {
            Ok(due) if !due.is_empty() => {
                let Some(tx) = tx.upgrade() else { return };
                let (reply, done) = oneshot::channel();
                if tx.send(Command::Timers { due, reply }).await.is_err() {
                    return;
                }
                drop(tx);
                let _ = done.await;
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading timers"),
        }
        let wait = match store.next_due().await {
            Ok(Some(t)) => {
                Duration::from_millis((t - now).clamp(0, SAFETY_NET.as_millis() as i64) as u64)
            }
            _ => SAFETY_NET,
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
        if tx.upgrade().is_none() {
            return;
        }
    }
}
