//! Writing rounds, and what happens when a write fails. Accepted work is never lost:
//!
//! - another process appended first ([`store::Error::Conflict`]): the round's runs are
//!   dropped from memory and the round decided again from the log (at most [`MAX_REDO`]);
//! - any other error: the round is decided again command by command, each alone with a short
//!   backoff, so only a command whose own write keeps failing is refused. A refused start or
//!   approval answers an error (nothing was recorded); an attempt's result or a takeover is
//!   handed back to the driver later (it must not be lost); a timer stays in the store.
//!
//! After any failure the runs concerned are read from the log again: memory never outlives
//! a write that did not happen.

use std::time::Duration;

use super::round::{Outcome, Round};
use super::{Command, Driver, Error};
use crate::engine::effect::Effect;
use crate::engine::state::RunState;
use crate::engine::{activity, render};
use crate::store;

/// A round is decided again from the log at most this often when other processes keep
/// appending to its runs first.
const MAX_REDO: usize = 50;
/// Backoffs before each lone try of a command whose round could not be written (the first
/// at once: a sleep of zero returns at once on any clock).
const LONE_RETRIES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(100),
    Duration::from_millis(500),
];
/// When an attempt's result (or a takeover) that could not be written is handed back.
const REDELIVER: Duration = Duration::from_secs(1);

impl Driver {
    pub(super) async fn run(mut self, mut rx: tokio::sync::mpsc::Receiver<Command>) {
        let mut cmds = Vec::with_capacity(4096);
        while rx.recv_many(&mut cmds, 4096).await > 0 {
            let outcomes = self.round(&cmds).await;
            for (cmd, outcome) in cmds.drain(..).zip(outcomes) {
                reply(cmd, outcome);
            }
        }
        tracing::info!("engine stopped: every accepted command is committed");
    }

    /// Decides and writes a set of commands: one outcome per command, in order.
    pub(super) async fn round(&mut self, cmds: &[Command]) -> Vec<Outcome> {
        match self.attempt(cmds).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                tracing::warn!(error = %e, commands = cmds.len(), "group commit failed; writing its commands one by one");
                let mut out = Vec::with_capacity(cmds.len());
                for cmd in cmds {
                    out.push(self.alone(cmd).await);
                }
                out
            }
        }
    }

    /// One command in a round of its own, at once and then after each backoff; refused if
    /// its write keeps failing.
    async fn alone(&mut self, cmd: &Command) -> Outcome {
        let mut last = None;
        for wait in LONE_RETRIES {
            self.link.clock.sleep(wait).await;
            match self.attempt(std::slice::from_ref(cmd)).await {
                Ok(mut o) => return o.pop().unwrap_or(Outcome::Done),
                Err(e) => last = Some(e),
            }
        }
        let last = last.expect("at least one try");
        tracing::error!(error = %last, "a command could not be written");
        self.refuse(cmd, &last)
    }

    /// Decides `cmds` and writes them in one transaction, deciding again on conflicts.
    async fn attempt(&mut self, cmds: &[Command]) -> Result<Vec<Outcome>, store::Error> {
        let mut redo = 0;
        loop {
            let mut round = Round::new(self.link.clock.now());
            if let Err(e) = self.decide_all(cmds, &mut round).await {
                for id in round.runs() {
                    self.runs.remove(id);
                }
                return Err(e);
            }
            self.coordinator
                .prepare(&mut round.batch, &round.perform, &round.states);
            let started = std::time::Instant::now();
            let committed = self.store.commit(&round.batch).await;
            crate::metrics::commit(round.batch.event_count(), started.elapsed().as_secs_f64());
            match committed {
                Ok(()) => return Ok(self.after_commit(round)),
                Err(e) => {
                    // The log is the truth: whatever memory held of these runs is read again.
                    for id in round.runs() {
                        self.runs.remove(id);
                    }
                    match e {
                        store::Error::Conflict(runs) if redo < MAX_REDO => {
                            redo += 1;
                            crate::metrics::conflict();
                            tracing::debug!(
                                ?runs,
                                redo,
                                "another process appended first; deciding again"
                            );
                        }
                        e => return Err(e),
                    }
                }
            }
        }
    }

    /// The outcome of a command that could not be written.
    fn refuse(&self, cmd: &Command, e: &store::Error) -> Outcome {
        let failed = || Error::CommitFailed(e.to_string());
        match cmd {
            Command::Start { .. } => Outcome::Start(Err(failed())),
            Command::Input { reply: Some(_), .. } | Command::Bulk { .. } => {
                Outcome::Input(Err(failed()))
            }
            Command::Input {
                run_id,
                input,
                reply: None,
            } => {
                // An attempt's result: the attempt happened, so its result must be recorded.
                self.retry_later(Command::Input {
                    run_id: run_id.clone(),
                    input: input.clone(),
                    reply: None,
                });
                Outcome::Done
            }
            Command::Resume {
                run_id,
                node,
                attempt,
            } => {
                self.retry_later(Command::Resume {
                    run_id: run_id.clone(),
                    node: node.clone(),
                    attempt: *attempt,
                });
                Outcome::Done
            }
            Command::Timers { due, .. } => Outcome::Timers(due.len()),
        }
    }

    /// Hands a command back to the driver after [`REDELIVER`].
    pub(super) fn retry_later(&self, cmd: Command) {
        let link = self.link.clone();
        tokio::spawn(async move {
            link.clock.sleep(REDELIVER).await;
            let _ = link.send(cmd).await;
        });
    }

    /// Performs an effect whose events are durable.
    pub(super) fn perform(&self, run: &RunState, fx: Effect) {
        match fx {
            Effect::Http { node, attempt } => {
                let Some(i) = run.node_index(&node) else {
                    return;
                };
                let shared::model::NodeKind::Http(http) = run.plan.kind(i).clone() else {
                    return;
                };
                let timeout = run
                    .plan
                    .limits(i)
                    .timeout
                    .expect("an http node's plan has its timeout");
                let ctx = self
                    .secrets
                    .context(run.context_for(i), &run.plan.secrets[i]);
                let mask = self.secrets.mask(&run.plan.secrets[i]);
                let quick = run.plan.quick[i];
                let key = format!("{}/{}", run.id, node);
                let (client, link, run_id) =
                    (self.client.clone(), self.link.clone(), run.id.clone());
                tokio::spawn(async move {
                    let (result, exchange) =
                        match activity::Request::render_for(&http, ctx, quick).await {
                            Ok(request) => {
                                let (result, exchange) =
                                    activity::send(&client, request, timeout, &key, &mask).await;
                                (result, Some(exchange))
                            }
                            Err(e) => (mask.outcome(Err(e)), None),
                        };
                    link.report(run_id, node, attempt, result, exchange).await;
                });
            }
            Effect::Render { node, attempt } => {
                let Some(i) = run.node_index(&node) else {
                    return;
                };
                let (plan, ctx) = (run.plan.clone(), run.context_for(i));
                let (link, run_id) = (self.link.clone(), run.id.clone());
                tokio::spawn(async move {
                    let result = render::apart(plan, i, ctx).await;
                    link.report(run_id, node, attempt, result, None).await;
                });
            }
            Effect::Task { .. } | Effect::AbandonTask { .. } => self.coordinator.perform(run, &fx),
            Effect::EndAttempt { .. }
            | Effect::EndRun
            | Effect::SetTimer { .. }
            | Effect::ClearTimers { .. }
            | Effect::ClearRunTimers
            | Effect::StartChild { .. }
            | Effect::CancelChild { .. }
            | Effect::NotifyParent => {}
        }
    }
}

/// Answers a command's caller with its outcome.
fn reply(cmd: Command, outcome: Outcome) {
    match (cmd, outcome) {
        (Command::Start { reply, .. }, Outcome::Start(r)) => drop(reply.send(r)),
        (
            Command::Input {
                reply: Some(reply), ..
            },
            Outcome::Input(r),
        ) => drop(reply.send(r)),
        (Command::Bulk { reply, .. }, Outcome::Input(r)) => drop(reply.send(r)),
        (Command::Bulk { reply, .. }, _) => drop(reply.send(Err(Error::Stopped))),
        (Command::Timers { reply, .. }, Outcome::Timers(n)) => drop(reply.send(n)),
        (Command::Start { reply, .. }, _) => drop(reply.send(Err(Error::Stopped))),
        (
            Command::Input {
                reply: Some(reply), ..
            },
            _,
        ) => drop(reply.send(Err(Error::Stopped))),
        (Command::Timers { reply, due, .. }, _) => drop(reply.send(due.len())),
        (Command::Input { reply: None, .. } | Command::Resume { .. }, _) => {}
    }
}
