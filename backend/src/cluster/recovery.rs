//! Recovery of one process (SQLite) at start: every unfinished run is folded from its log,
//! and each attempt the log shows in flight is handed to the driver to send again (same
//! attempt, same `Idempotency-Key`). Waits and backoffs need nothing: they are rows of
//! `timers`, and those that fell due meanwhile fire at once.

use std::collections::HashMap;

use crate::engine::driver::Link;
use crate::engine::event::Recorded;
use crate::engine::state::NodeStatus;
use crate::store::{self, Store};

pub(super) async fn resume_all(store: &Store, link: &Link) -> Result<(), store::Error> {
    let rows = store.unfinished_runs().await?;
    let mut logs: HashMap<String, Vec<Recorded>> = HashMap::new();
    for (run, r) in store.events_of_unfinished().await? {
        logs.entry(run).or_default().push(r);
    }
    let mut inflight = Vec::new();
    for row in rows {
        let log = logs.remove(&row.id).unwrap_or_default();
        let Some(state) = link
            .plans
            .fold(&row.id, &row.workflow, row.version, &log)
            .await?
        else {
            continue;
        };
        for (i, n) in state.nodes.iter().enumerate() {
            // Only attempts run: activities' and render attempts (`engine::render`).
            if n.status == NodeStatus::Running {
                let node = state.plan.workflow.nodes[i].id.clone();
                inflight.push((row.id.clone(), node, n.attempts));
            }
        }
    }
    let runs = inflight.len();
    tracing::info!(attempts = runs, "recovered attempts in flight");
    // Handed over in the background: the driver takes them as its channel has room.
    let link = link.clone();
    tokio::spawn(async move {
        for (run, node, attempt) in inflight {
            if link.resume(run, node, attempt).await.is_err() {
                return;
            }
        }
    });
    Ok(())
}
