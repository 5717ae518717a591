//! `Plans`: definition versions indexed once ([`Plan`]) and shared by every run of a version,
//! and the fold of a run's log into its [`RunState`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::event::Recorded;
use super::plan::Plan;
use super::state::RunState;
use crate::store::{self, Store};

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
        let corrupt = |e: String| store::Error::Corrupt(format!("{name} v{version}: {e}"));
        let wf =
            shared::validate::parse(&stored.definition).map_err(|f| corrupt(format!("{f:?}")))?;
        let mut plan = Plan::new(wf, version).map_err(|e| corrupt(e.to_string()))?;
        name.clone_into(&mut plan.name);
        let plan = Arc::new(plan);
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
