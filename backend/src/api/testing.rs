//! Test hooks, mounted at `/_test` only when `weft serve` runs with `--test-hooks`
//! (`WEFT_TEST_HOOKS=1`), which also gives the server a simulated clock. Like Temporal's
//! time-skipping test server, they let a test drive time and faults from outside the
//! process instead of sleeping:
//!
//! - `POST /_test/clock {"advance": "5s"}` moves the server's clock and answers
//!   `{"now"}` (ms since the epoch); `GET /_test/clock` reads it.
//! - `POST /_test/faults {"fail_reads"?: n, "fail_commits"?: n, "spare_commits"?: k}` makes
//!   the next `n` reads of a run's log (or commits, after `k` that succeed) fail as a
//!   database error would; `GET /_test/faults` says how many are still armed.
//! - `POST /_test/panic` panics in its handler, to show that a panic is answered with a JSON
//!   500 and the server goes on serving.
//!
//! Never mount these in production: they are a way to stall the engine by design.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::model::DurationText;

use super::error::Error;
use super::json::Body;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clock", get(read_clock).post(advance_clock))
        .route("/faults", get(read_faults).post(arm_faults))
        .route("/panic", post(panic))
}

async fn panic() {
    panic!("POST /_test/panic asked for a panic");
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance: DurationText,
}

async fn read_clock(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "now": app.engine.clock.now() }))
}

async fn advance_clock(
    State(app): State<AppState>,
    Body(b): Body<Advance>,
) -> Result<Json<Value>, Error> {
    let d = b
        .advance
        .parse()
        .map_err(|e| Error::BadRequest(format!("advance `{}`: {e}", b.advance)))?;
    let sim = app
        .engine
        .clock
        .simulated()
        .ok_or_else(|| Error::Conflict("the server's clock is not simulated".into()))?;
    Ok(Json(json!({ "now": sim.advance(d) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Arm {
    #[serde(default)]
    fail_reads: Option<u32>,
    #[serde(default)]
    fail_commits: Option<u32>,
    /// Commits let through before `fail_commits` start failing.
    #[serde(default)]
    spare_commits: Option<u32>,
}

async fn read_faults(State(app): State<AppState>) -> Json<Value> {
    let (reads, commits) = app.store.faults().pending();
    Json(json!({ "fail_reads": reads, "fail_commits": commits }))
}

async fn arm_faults(State(app): State<AppState>, Body(b): Body<Arm>) -> Json<Value> {
    let faults = app.store.faults();
    if let Some(n) = b.fail_reads {
        faults.fail_reads(n);
    }
    if let Some(n) = b.fail_commits {
        faults.fail_commits_after(b.spare_commits.unwrap_or(0), n);
    }
    read_faults(State(app)).await
}
