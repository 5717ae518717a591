//! Child runs (SPEC §5) within one round. A parent's decision to start a child, the child's
//! start, a child's end and its parent hearing of it, a parent's end and its children's
//! cancel: each pair is decided in the same round and written in the same commit, so a
//! crash can never leave one without the other. Exactly one child per node and item follows
//! (its id is derived, `engine::children::run_id`, and its start is idempotent by that id),
//! also across processes: a commit that lost a race is decided again from the log.
//!
//! A `map` whose children end at once would start the next ones at once, and so on through
//! every item in one round; past [`ROUND_CHILDREN`] children started in a round, a parent
//! hears of an ended child with `refill: false` and starts the next on its refill timer
//! (due at once, in the next round), so a round stays bounded.

use std::sync::Arc;

use serde_json::Value;

use super::round::Round;
use super::{Driver, Error};
use crate::engine::decide::{Input, Origin};
use crate::engine::effect::Effect;
use crate::engine::event::{ChildStatus, Parent, TestRun};
use crate::engine::state::{Plan, RunState, RunStatus};
use crate::store;

/// Children one round starts before `map` nodes wait for their refill timers.
const ROUND_CHILDREN: usize = 512;

/// What a decision asks of another run, in the same round.
pub(in crate::engine::driver) enum Follow {
    Start {
        parent: Parent,
        run: String,
        workflow: String,
        version: Option<i64>,
        input: Value,
        /// Who started the parent: a child runs on their behalf, so the self-approval rule
        /// (SPEC §7) follows them into it.
        by: Option<String>,
        /// The parent is a test run, so the child is one too (hidden, pruned with it).
        test: bool,
    },
    Cancel {
        run: String,
        reason: String,
    },
    /// Tell run `parent` that its child `run` (of `node`, item `index`) ended.
    Notify {
        parent: String,
        node: String,
        index: Option<u32>,
        run: String,
        status: ChildStatus,
        output: Value,
        error: Option<String>,
    },
}

/// A child to start, as its parent's effect asked.
struct Child {
    parent: Parent,
    run: String,
    version: Option<i64>,
    input: Value,
    by: Option<String>,
    test: bool,
}

impl Follow {
    /// What effect `fx` of `run` asks of another run.
    pub(super) fn of(run: &RunState, fx: Effect) -> Option<Follow> {
        match fx {
            Effect::StartChild {
                node,
                index,
                run: child,
                workflow,
                version,
                input,
            } => Some(Follow::Start {
                parent: Parent {
                    run: run.id.clone(),
                    node,
                    index,
                    depth: run.depth() + 1,
                },
                run: child,
                workflow,
                version,
                input,
                by: run.started_by.clone(),
                test: run.test.is_some(),
            }),
            Effect::CancelChild { run: child } => Some(Follow::Cancel {
                run: child,
                reason: format!("its parent run `{}` stopped waiting for it", run.id),
            }),
            Effect::NotifyParent => {
                let p = run.parent.as_ref()?;
                let status = match run.status {
                    RunStatus::Completed => ChildStatus::Completed,
                    RunStatus::Failed => ChildStatus::Failed,
                    RunStatus::Cancelled => ChildStatus::Cancelled,
                    RunStatus::Running | RunStatus::Paused => return None,
                };
                Some(Follow::Notify {
                    parent: p.run.clone(),
                    node: p.node.clone(),
                    index: p.index,
                    run: run.id.clone(),
                    status,
                    output: run.output.clone(),
                    error: run.error.clone(),
                })
            }
            _ => None,
        }
    }
}

impl Driver {
    /// Does everything the round's decisions asked of other runs so far, and what that asks
    /// in turn.
    pub(super) async fn follow_all(&mut self, round: &mut Round) -> Result<(), store::Error> {
        while let Some(f) = round.follow.pop_front() {
            match f {
                Follow::Start {
                    parent,
                    run,
                    workflow,
                    version,
                    input,
                    by,
                    test,
                } => {
                    let child = Child {
                        parent,
                        run,
                        version,
                        input,
                        by,
                        test,
                    };
                    self.start_child(child, &workflow, round).await?
                }
                Follow::Cancel { run, reason } => {
                    let input = Input::Cancel {
                        reason: Some(reason),
                    };
                    self.tell(&run, input, round).await?
                }
                Follow::Notify {
                    parent,
                    node,
                    index,
                    run,
                    status,
                    output,
                    error,
                } => {
                    let input = Input::ChildFinished {
                        node,
                        index,
                        run,
                        status,
                        output,
                        error,
                        refill: round.children_started < ROUND_CHILDREN,
                    };
                    self.tell(&parent, input, round).await?
                }
            }
        }
        Ok(())
    }

    /// Feeds `input` to `run`. A refusal is no error here: a child that already ended does
    /// not cancel, a parent that moved on ignores its child.
    async fn tell(
        &mut self,
        run: &str,
        input: Input,
        round: &mut Round,
    ) -> Result<(), store::Error> {
        match self.input(run, input, round).await {
            Ok(()) => Ok(()),
            Err(Error::Store(e)) => Err(e),
            Err(e) => {
                tracing::debug!(run, error = %e, "a run did not take what its parent or child said");
                Ok(())
            }
        }
    }

    /// Starts child `run` of `parent`; a child that cannot start (its workflow is gone, its
    /// input does not match its schema) is reported to the parent as failed.
    async fn start_child(
        &mut self,
        child: Child,
        workflow: &str,
        round: &mut Round,
    ) -> Result<(), store::Error> {
        let Child {
            parent,
            run,
            version,
            input,
            by,
            test,
        } = child;
        let refused = match self.child_plan(workflow, version, round).await? {
            Err(why) => Some(why),
            Ok(plan) => {
                let schema = plan.workflow.input_schema.as_ref();
                match schema.map(|s| shared::validate::check_input(s, &input)) {
                    Some(Err(paths)) => Some(format!(
                        "the child's input does not match the input_schema of `{workflow}`: {}",
                        paths
                            .iter()
                            .map(|(path, why)| format!("{path}: {why}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )),
                    _ => match self
                        .start(
                            &run,
                            &plan,
                            &input,
                            Origin {
                                parent: Some(parent.clone()),
                                by,
                                test: test.then(TestRun::default),
                                ..Origin::default()
                            },
                            round,
                        )
                        .await
                    {
                        Ok(_) => {
                            round.children_started += 1;
                            None
                        }
                        Err(Error::Store(e)) => return Err(e),
                        Err(e) => Some(e.to_string()),
                    },
                }
            }
        };
        if let Some(why) = refused {
            round.follow.push_back(Follow::Notify {
                parent: parent.run,
                node: parent.node,
                index: parent.index,
                run,
                status: ChildStatus::Failed,
                output: Value::Null,
                error: Some(why),
            });
        }
        Ok(())
    }

    /// The plan a child starts on: the version its node pins, else the latest (read once per
    /// round). `Err`: why there is none.
    async fn child_plan(
        &mut self,
        workflow: &str,
        version: Option<i64>,
        round: &mut Round,
    ) -> Result<Result<Arc<Plan>, String>, store::Error> {
        let version = match version {
            Some(v) => v,
            None => {
                let latest = match round.latest.get(workflow) {
                    Some(v) => *v,
                    None => {
                        let stored = self.store.workflow(workflow, None).await?;
                        let v = stored.filter(|w| !w.archived).map(|w| w.version);
                        round.latest.insert(workflow.to_owned(), v);
                        v
                    }
                };
                match latest {
                    Some(v) => v,
                    None => return Ok(Err(format!("workflow `{workflow}` not found"))),
                }
            }
        };
        Ok(self
            .link
            .plans
            .get(workflow, version)
            .await?
            .ok_or_else(|| format!("workflow `{workflow}` has no version {version}")))
    }
}
