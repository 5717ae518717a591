//! Driving a server under test through its test hooks (`WEFT_TEST_HOOKS=1`: a simulated
//! clock and injected store faults, see `backend/src/api/testing.rs`), and the check every
//! crash, load and fault test ends with: each run's `runs` row agrees with the fold of its log.

use serde_json::{Value, json};

use crate::helpers::Weft;

/// The environment that gives a server its simulated clock and the `/_test` hooks.
pub(crate) const HOOKS: (&str, &str) = ("WEFT_TEST_HOOKS", "1");

impl Weft {
    /// A server on a fresh database with a simulated clock.
    pub(crate) async fn simulated() -> Weft {
        Weft::fresh_with(&[HOOKS]).await
    }

    /// Moves the server's clock forward (`"5s"`, `"1m"`); returns its new time.
    pub(crate) async fn advance(&self, by: &str) -> i64 {
        let (status, body) = self.post("/_test/clock", &json!({ "advance": by })).await;
        assert_eq!(status, 200, "advancing the clock: {body}");
        body["now"].as_i64().expect("now")
    }

    /// Arms store faults (`{"fail_reads": n}`, `{"fail_commits": n}`); returns what is armed.
    pub(crate) async fn faults(&self, arm: Value) -> Value {
        let (status, body) = self.post("/_test/faults", &arm).await;
        assert_eq!(status, 200, "arming faults: {body}");
        body
    }

    /// Waits until the counter `name` in `/metrics` reaches `at_least`: an event the server
    /// counts, awaited instead of a guessed delay.
    pub(crate) async fn wait_metric(&self, name: &str, at_least: f64) {
        let deadline = std::time::Instant::now() + crate::helpers::WAIT;
        loop {
            let got = crate::ops::value(&crate::ops::scrape(self).await, name, &[]);
            if got >= at_least {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} stayed at {got}, below {at_least}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The faults still armed.
    pub(crate) async fn armed(&self) -> Value {
        self.get_ok("/_test/faults").await
    }
}

/// Folds every run's log in `database` and asserts its `runs` row says the same: status,
/// `last_seq` and whether it is a test run (test runs included). Returns how many runs it checked.
pub(crate) async fn assert_index_matches_log(database: &str) -> usize {
    let store = backend::store::Store::open(database)
        .await
        .expect("open the store under test");
    let plans = backend::engine::plans::Plans::new(store.clone());
    let rows = store
        .list_runs(&backend::store::RunFilter {
            limit: 1_000_000,
            test: true,
            ..Default::default()
        })
        .await
        .expect("list runs");
    let mut wrong = Vec::new();
    for row in &rows {
        let state = plans
            .load(&row.id)
            .await
            .expect("fold a run's log")
            .expect("the run's version exists");
        if state.status.as_str() != row.status
            || state.seq != row.last_seq
            || state.test.is_some() != row.test
        {
            wrong.push(format!(
                "{}: row says {} at seq {} (test: {}), log says {} at seq {} (test: {})",
                row.id,
                row.status,
                row.last_seq,
                row.test,
                state.status.as_str(),
                state.seq,
                state.test.is_some()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "runs rows out of step with their logs:\n{}",
        wrong.join("\n")
    );
    rows.len()
}
