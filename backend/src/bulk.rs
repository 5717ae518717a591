//! Bulk batches (SPEC §6): cancel, redrive, pause or resume every run a filter matched, as a
//! durable batch that survives a restart and acts on each run once.
//!
//! The API writes the batch and its list of runs in one transaction (`store::bulk`). This
//! service claims a running batch, takes its pending runs a chunk at a time and acts on
//! each through the engine. Exactly once: a cancel, pause or resume goes in as
//! [`Link::send_bulk`], whose commit marks the item `done` with the run's event, so a kill -9
//! keeps both or neither and the item is simply taken again; a redrive's run id is derived
//! from the batch and the run, so a second start finds the first. A refusal (the run had
//! finished, was not paused…) marks the item `failed` with the engine's reason.
//!
//! The service holds the engine's [`Link`] (a weak handle), so it stops with the engine.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use shared::api::BulkAction;
use tokio::sync::Notify;

use crate::clock::{Clock, Millis};
use crate::engine::children;
use crate::engine::decide::Input;
use crate::engine::driver::{Error, Link};
use crate::engine::redrive;
use crate::store::{ClaimedBatch, Store};

/// How many runs are acted on at once.
const CHUNK: i64 = 128;
/// How long a process holds a batch it took, renewed after each chunk (as long as an
/// attempt's lease); past it another process may take the batch over (a second action on a
/// run is refused by the run, and only pending items move).
const CLAIM: Duration = Duration::from_secs(6);
/// The longest the service sleeps without looking (a batch another process made, or one a
/// dead process held).
const SAFETY_NET: Duration = Duration::from_secs(5);
/// After a store error, the pause before trying again.
const BACKOFF: Duration = Duration::from_millis(500);

/// The bulk service as the API sees it: what wakes it.
#[derive(Clone, Default)]
pub struct Bulk {
    wake: Arc<Notify>,
}

impl Bulk {
    /// Starts the service on `store`, acting through `link`.
    pub fn start(store: Store, link: Link) -> Bulk {
        let bulk = Bulk::default();
        let service = Service {
            store,
            clock: link.clock.clone(),
            link,
            wake: bulk.wake.clone(),
        };
        tokio::spawn(service.run());
        bulk
    }

    /// A batch was made: look now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The id of the run a batch's redrive of `run` starts: the same after any restart.
pub fn redrive_id(batch: &str, run: &str) -> String {
    children::run_id(batch, run, None)
}

struct Service {
    store: Store,
    link: Link,
    clock: Clock,
    wake: Arc<Notify>,
}

/// What acting on one run came to.
enum Acted {
    /// Recorded with the run's event.
    Done,
    /// Done, and the item must be marked so apart (a redrive).
    Settle(Option<String>),
    /// Not acted on (a store error, the engine stopping): the item stays pending.
    Later,
}

impl Service {
    async fn run(self) {
        loop {
            let now = self.clock.now();
            let later = |d: Duration| now.saturating_add(d.as_millis() as i64);
            let until = match self.store.claim_batch(now, later(CLAIM)).await {
                Ok(Some(b)) => match BulkAction::parse(&b.action) {
                    Some(action) if self.work(&b, action).await => continue,
                    Some(_) => later(BACKOFF),
                    None => {
                        tracing::warn!(batch = %b.id, action = %b.action, "a batch of unknown action");
                        later(SAFETY_NET)
                    }
                },
                Ok(None) => later(SAFETY_NET),
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a bulk batch");
                    later(BACKOFF)
                }
            };
            if !self.link.is_alive() {
                return;
            }
            tokio::select! {
                () = self.clock.sleep_until(until) => {}
                () = self.wake.notified() => {}
            }
            if !self.link.is_alive() {
                return;
            }
        }
    }

    /// Acts on the batch's pending runs until none is left (true) or something must wait.
    async fn work(&self, claimed: &ClaimedBatch, action: BulkAction) -> bool {
        let batch = claimed.id.as_str();
        loop {
            let runs = match self.store.pending_runs(batch, CHUNK).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(batch, error = %e, "reading a batch's runs");
                    return false;
                }
            };
            if runs.is_empty() {
                let now = self.clock.now();
                if let Err(e) = self.store.finish_batch(batch, now).await {
                    tracing::warn!(batch, error = %e, "ending a batch");
                    return false;
                }
                return true;
            }
            let acted = join_all(runs.iter().map(|r| self.act(claimed, action, r))).await;
            let mut settled = Vec::new();
            let mut waiting = false;
            for (run, a) in runs.into_iter().zip(acted) {
                match a {
                    Acted::Done => {}
                    Acted::Settle(error) => settled.push((run, error)),
                    Acted::Later => waiting = true,
                }
            }
            if let Err(e) = self.store.settle_runs(batch, &settled).await {
                tracing::warn!(batch, error = %e, "marking a batch's runs");
                return false;
            }
            let until = self.clock.now().saturating_add(CLAIM.as_millis() as i64);
            if let Err(e) = self.store.renew_batch(batch, until).await {
                tracing::warn!(batch, error = %e, "holding a batch");
                return false;
            }
            if waiting {
                return false;
            }
        }
    }

    async fn act(&self, claimed: &ClaimedBatch, action: BulkAction, run: &str) -> Acted {
        let batch = claimed.id.as_str();
        let reason = || Some(format!("bulk batch {batch}"));
        let input = match action {
            BulkAction::Cancel => Input::Cancel { reason: reason() },
            BulkAction::Pause => Input::Pause { reason: reason() },
            BulkAction::Resume => Input::Resume,
            BulkAction::Redrive => return self.redrive(claimed, run).await,
        };
        match self.link.send_bulk(batch, run, input).await {
            Ok(()) => Acted::Done,
            Err(e) => refused(e),
        }
    }

    /// Redrives `run` from its failed nodes on its own version, on behalf of whoever made
    /// the batch.
    async fn redrive(&self, claimed: &ClaimedBatch, run: &str) -> Acted {
        let batch = claimed.id.as_str();
        let original = match self.link.plans.load(run).await {
            Ok(Some(s)) => s,
            Ok(None) => return Acted::Settle(Some(format!("run `{run}` not found"))),
            Err(e) => return refused(e.into()),
        };
        let log = match self.store.events(run, 0).await {
            Ok(l) => l,
            Err(e) => return refused(e.into()),
        };
        let id = redrive_id(batch, run);
        let now: Millis = self.clock.now();
        let plan = original.plan.clone();
        let input = original.input.clone();
        match redrive::plan(&original, &log, &plan, None, &id, input.clone(), now) {
            Ok((redrive, _)) => match self
                .link
                .start_redrive(id, plan, input, redrive, claimed.by.clone())
                .await
            {
                Ok(_) => Acted::Settle(None),
                Err(e) => refused(e),
            },
            Err(e) => Acted::Settle(Some(e.to_string())),
        }
    }
}

/// A refusal settles the item as failed; anything else leaves it for later.
fn refused(e: Error) -> Acted {
    match e {
        Error::Rejected(r) => Acted::Settle(Some(format!("refused: {r}"))),
        Error::RunNotFound(id) => Acted::Settle(Some(format!("run `{id}` not found"))),
        Error::InputConflict(id) => Acted::Settle(Some(format!("run `{id}` exists"))),
        Error::Stopped | Error::CommitFailed(_) | Error::Store(_) => Acted::Later,
    }
}
