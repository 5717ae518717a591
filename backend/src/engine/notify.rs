//! Escalation notices (SPEC §7): the POST an approval's escalation step sends to its
//! `notify` URL.
//!
//! The notice is an outbox row: `decide` records `approval_escalated` and sets a `notify`
//! timer due at once, in one commit. The timer service hands that timer here; the POST is
//! made first and the timer fires after, with the answer, so the log records
//! `approval_notified` and the timer leaves the store in one commit. A crash between the POST
//! and that commit sends it again (at least once, never lost), with the same
//! `Idempotency-Key: <run>/<node>/escalate/<step>`, as an `http` attempt does; the engine
//! records each step's notice once however often its answer arrives. A POST that got no
//! answer, a 5xx, 408 or 429 is made again after a backoff (`decide`'s `NOTICE_TRIES`).
//! At most [`PARALLEL`] POSTs are out at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use shared::api::RunStatus;
use shared::model::NodeKind;

use tokio::sync::Semaphore;

use super::driver::Link;
use crate::store::{Store, TimerRow};

/// How long a notice waits for its answer: well within a PostgreSQL timer claim (10 s), so
/// another process does not take the timer over while the POST is still out.
const TIMEOUT: Duration = Duration::from_secs(5);

/// How many notices are POSTed at once; the rest wait for a turn.
const PARALLEL: usize = 32;

/// The notices being sent, so a timer the service sees again meanwhile is not sent twice.
#[derive(Clone)]
pub(super) struct Notices {
    sending: Arc<Mutex<HashSet<(String, String, u32)>>>,
    turns: Arc<Semaphore>,
    client: reqwest::Client,
}

impl Default for Notices {
    fn default() -> Self {
        Notices {
            sending: Arc::default(),
            turns: Arc::new(Semaphore::new(PARALLEL)),
            client: reqwest::Client::default(),
        }
    }
}

impl Notices {
    /// Sends each notice not already on its way, in the background; each fires its timer when
    /// its answer (or the lack of one) is known.
    pub(super) fn send(&self, store: &Store, link: &Link, due: Vec<TimerRow>) {
        for t in due {
            let key = (t.run_id.clone(), t.node.clone(), t.attempt);
            if !self.sending().insert(key.clone()) {
                continue;
            }
            let (me, store, link) = (self.clone(), store.clone(), link.clone());
            tokio::spawn(async move {
                let turn = me.turns.clone().acquire_owned().await;
                let outcome = me.post(&store, &link, &t).await;
                drop(turn);
                match link.notified(t, outcome).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        "an escalation notice was sent but its run could not be read; it is sent again"
                    ),
                    Err(e) => tracing::warn!(
                        error = %e,
                        "an escalation notice could not be recorded; it is sent again"
                    ),
                }
                me.sending().remove(&key);
            });
        }
    }

    /// The keys of the notices on their way; a panicked sender poisons nothing worth
    /// refusing over.
    fn sending(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String, u32)>> {
        self.sending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The POST of escalation step `t.attempt` of approval `t.node`: the status it answered,
    /// or why none came.
    async fn post(&self, store: &Store, link: &Link, t: &TimerRow) -> Result<u16, String> {
        let row = store
            .run(&t.run_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the run is gone")?;
        if RunStatus::parse(&row.status).is_some_and(RunStatus::is_finished) {
            return Err(format!("the run is {}: no notice sent", row.status));
        }
        let plan = link
            .plans
            .get(&row.workflow, row.version)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the run's workflow is gone")?;
        let step = plan.workflow.node(&t.node).and_then(|n| match &n.kind {
            NodeKind::Approval(a) => a.escalate.get(t.attempt as usize),
            _ => None,
        });
        let Some((url, step)) = step.and_then(|s| Some((s.notify.clone()?, s))) else {
            return Err("the escalation step has no notify URL".into());
        };
        let body = json!({
            "event": "approval.escalated",
            "run_id": t.run_id,
            "workflow": row.workflow,
            "version": row.version,
            "node": t.node,
            "step": t.attempt,
            "approvers": step.approvers,
        });
        let key = format!("{}/{}/escalate/{}", t.run_id, t.node, t.attempt);
        self.client
            .post(&url)
            .timeout(TIMEOUT)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("{e}"))
    }
}
