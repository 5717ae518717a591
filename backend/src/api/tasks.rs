//! Task queues for workers in any language: long-poll a queue, then complete, fail or
//! heartbeat the task by its token (SPEC §3).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::Error;
use super::json::{Body, Params};
use crate::AppState;
use crate::engine::tasks;

/// The longest a poll waits (SPEC §3).
const MAX_WAIT: Duration = Duration::from_secs(30);

impl From<tasks::Error> for Error {
    fn from(e: tasks::Error) -> Self {
        match e {
            tasks::Error::Stale => Error::Conflict(e.to_string()),
            tasks::Error::Stopped => Error::Internal(anyhow::anyhow!("engine stopped")),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PollBody {
    /// How long to wait for a task, at most 30 s (the default).
    wait: Option<String>,
}

/// `POST /api/queues/{queue}/poll` → 200 with a task, or 204 when none came in time.
pub(super) async fn poll_queue(
    State(app): State<AppState>,
    Params(queue): Params<String>,
    Body(b): Body<PollBody>,
) -> Result<Response, Error> {
    let wait = match b.wait {
        None => MAX_WAIT,
        Some(w) => humantime::parse_duration(&w)
            .map_err(|e| Error::BadRequest(format!("wait `{w}`: {e}")))?
            .min(MAX_WAIT),
    };
    Ok(match app.engine.tasks.poll(&queue, wait).await {
        Some(t) => Json(json!({
            "task_token": t.token(), "run_id": t.run_id, "node": t.node, "activity": t.activity,
            "input": t.input, "attempt": t.attempt, "enqueued_at": t.enqueued_at,
        }))
        .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CompleteBody {
    #[serde(default)]
    output: Value,
}

pub(super) async fn complete_task(
    State(app): State<AppState>,
    Params(token): Params<String>,
    Body(b): Body<CompleteBody>,
) -> Result<Json<Value>, Error> {
    let t = app.engine.tasks.complete(&token, b.output).await?;
    Ok(Json(
        json!({ "run_id": t.run_id, "node": t.node, "attempt": t.attempt, "status": "completed" }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FailBody {
    error: String,
    /// Default true: the retry policy decides.
    retryable: Option<bool>,
}

pub(super) async fn fail_task(
    State(app): State<AppState>,
    Params(token): Params<String>,
    Body(b): Body<FailBody>,
) -> Result<Json<Value>, Error> {
    let t = app
        .engine
        .tasks
        .fail(&token, b.error, b.retryable.unwrap_or(true))
        .await?;
    Ok(Json(
        json!({ "run_id": t.run_id, "node": t.node, "attempt": t.attempt, "status": "failed" }),
    ))
}

pub(super) async fn heartbeat_task(
    State(app): State<AppState>,
    Params(token): Params<String>,
    // Any JSON (a worker may send progress details); nothing of it is kept.
    Body(_): Body<Value>,
) -> Result<Json<Value>, Error> {
    app.engine.tasks.heartbeat(&token)?;
    Ok(Json(json!({ "ok": true })))
}
