//! Task queues for workers in any language: long-poll a queue, then complete, fail or
//! heartbeat the task by its token (SPEC §3).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use shared::api::{ApiErrorBody, HeartbeatAck, TaskAssignment, TaskEnded, TaskOutcome};

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
            tasks::Error::Store(e) => Error::Internal(e.into()),
            tasks::Error::Engine(e) => e.into(),
        }
    }
}

/// The body of `POST /api/queues/{queue}/poll`; an empty body is `{}`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PollBody {
    /// How long to wait for a task, at most 30 s (the default).
    #[schema(examples("10s"))]
    wait: Option<String>,
}

/// Long-poll a task queue for a task
///
/// Answers as soon as a task is enqueued: `200` with the task, or `204` when none came within
/// `wait`.
#[utoipa::path(
    post,
    path = "/queues/{queue}/poll",
    tag = "tasks",
    params(("queue" = String, Path, description = "The queue a `task` node names")),
    request_body = Option<PollBody>,
    responses(
        (status = 200, description = "A task", body = TaskAssignment),
        (status = 204, description = "No task came within `wait`"),
        (status = 400, description = "Malformed JSON, a body that is not an object, an unknown field or a malformed `wait`", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
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
    Ok(match app.cluster.poll(&queue, wait).await? {
        Some(tasks::Assigned { token, task: t }) => Json(TaskAssignment {
            task_token: token.into_string(),
            run_id: t.run_id,
            node: t.node,
            activity: t.activity,
            input: t.input,
            attempt: t.attempt,
            enqueued_at: t.enqueued_at,
        })
        .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The body of `POST /api/tasks/{token}/complete`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CompleteBody {
    /// The node's output; default `null`.
    #[serde(default)]
    output: Value,
}

/// Complete a task with its output
#[utoipa::path(
    post,
    path = "/tasks/{token}/complete",
    tag = "tasks",
    params(("token" = String, Path, description = "The `task_token` a poll returned")),
    request_body = Option<CompleteBody>,
    responses(
        (status = 200, description = "Completed (`status` is `completed`)", body = TaskEnded),
        (status = 400, description = "Malformed JSON, a body that is not an object, or an unknown field", body = ApiErrorBody),
        (status = 409, description = "A stale token: no poll handed it out, or the attempt timed out, lost its heartbeat or was cancelled", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn complete_task(
    State(app): State<AppState>,
    Params(token): Params<String>,
    Body(b): Body<CompleteBody>,
) -> Result<Json<TaskEnded>, Error> {
    let ended = app.cluster.complete(&token, b.output).await?;
    Ok(Json(TaskEnded {
        run_id: ended.run_id,
        node: ended.node,
        attempt: ended.attempt,
        status: TaskOutcome::Completed,
    }))
}

/// The body of `POST /api/tasks/{token}/fail`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FailBody {
    /// What went wrong; kept in the history.
    error: String,
    /// Default true: the retry policy decides.
    retryable: Option<bool>,
}

/// Fail a task
///
/// A retryable failure is retried by the node's retry policy; otherwise the node fails.
#[utoipa::path(
    post,
    path = "/tasks/{token}/fail",
    tag = "tasks",
    params(("token" = String, Path, description = "The `task_token` a poll returned")),
    request_body = FailBody,
    responses(
        (status = 200, description = "Failed (`status` is `failed`)", body = TaskEnded),
        (status = 400, description = "Malformed JSON, a body that is not an object, a missing `error` or an unknown field", body = ApiErrorBody),
        (status = 409, description = "A stale token: no poll handed it out, or the attempt timed out, lost its heartbeat or was cancelled", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn fail_task(
    State(app): State<AppState>,
    Params(token): Params<String>,
    Body(b): Body<FailBody>,
) -> Result<Json<TaskEnded>, Error> {
    let ended = app
        .cluster
        .fail(&token, b.error, b.retryable.unwrap_or(true))
        .await?;
    Ok(Json(TaskEnded {
        run_id: ended.run_id,
        node: ended.node,
        attempt: ended.attempt,
        status: TaskOutcome::Failed,
    }))
}

/// Heartbeat a task, so its `heartbeat_timeout` starts over
#[utoipa::path(
    post,
    path = "/tasks/{token}/heartbeat",
    tag = "tasks",
    params(("token" = String, Path, description = "The `task_token` a poll returned")),
    request_body(content = Option<Object>, description = "Any JSON object, e.g. progress details; nothing of it is kept"),
    responses(
        (status = 200, description = "The heartbeat timeout starts over", body = HeartbeatAck),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ApiErrorBody),
        (status = 409, description = "A stale token: no poll handed it out, or the attempt timed out, lost its heartbeat or was cancelled", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn heartbeat_task(
    State(app): State<AppState>,
    Params(token): Params<String>,
    // Any object (a worker may send progress details); nothing of it is kept.
    Body(_): Body<serde_json::Map<String, Value>>,
) -> Result<Json<HeartbeatAck>, Error> {
    app.cluster.heartbeat(&token).await?;
    Ok(Json(HeartbeatAck { ok: true }))
}
