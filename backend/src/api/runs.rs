//! Runs: start (idempotent by `run_id`), list, detail, history, live stream, and the
//! inputs a person sends: approvals, signals, cancel.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::api::ApiErrorBody;
use tokio::sync::broadcast::error::RecvError;

use super::error::Error;
use super::json::{Body, Filter, Params};
use crate::AppState;
use crate::engine::decide::{Input, Rejected};
use crate::engine::driver::{self, Started};
use crate::engine::event::Recorded;
use crate::engine::state::RunState;
use crate::store::{RunFilter, RunRow};

impl From<driver::Error> for Error {
    fn from(e: driver::Error) -> Self {
        match e {
            driver::Error::RunNotFound(id) => Error::NotFound(format!("run `{id}` not found")),
            driver::Error::Rejected(Rejected::UnknownNode(n)) => {
                Error::NotFound(format!("node `{n}` not found in this run's workflow"))
            }
            driver::Error::Rejected(r) => Error::Conflict(r.to_string()),
            driver::Error::InputConflict(id) => {
                Error::Conflict(format!("run `{id}` already exists with a different input"))
            }
            driver::Error::Stopped => Error::Internal(anyhow::anyhow!("engine stopped")),
            driver::Error::CommitFailed(why) => {
                tracing::error!(error = %why, "a command could not be written");
                Error::Unavailable(
                    "the store could not record this; nothing was recorded, try again".into(),
                )
            }
            driver::Error::Store(e) => Error::Internal(e.into()),
        }
    }
}

/// The body of `POST /api/workflows/{name}/runs`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartRun {
    /// The run's input, checked against the workflow's `input_schema`; default `null`.
    #[serde(default)]
    input: Value,
    /// Makes the start idempotent: 1-128 characters of `[A-Za-z0-9-_.:]`. Default: a new UUIDv7.
    run_id: Option<String>,
}

fn valid_run_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
}

fn row_json(r: &RunRow) -> Value {
    json!({"id": r.id, "run_id": r.id, "workflow": r.workflow, "version": r.version, "status": r.status,
           "input": r.input, "output": r.output, "error": r.error, "created_at": r.created_at, "updated_at": r.updated_at})
}

/// Starts a run of the latest version of `name`; shared by the API and webhooks.
pub(crate) async fn start_run(
    app: &AppState,
    name: &str,
    input: Value,
    run_id: Option<String>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let stored = app.store.workflow(name, None).await?;
    let Some(stored) = stored.filter(|w| !w.archived) else {
        return Err(Error::NotFound(format!("workflow `{name}` not found")));
    };
    let run_id = match run_id {
        Some(id) if !valid_run_id(&id) => {
            return Err(Error::BadRequest(
                "run_id must be 1-128 characters of [A-Za-z0-9-_.:]".into(),
            ));
        }
        Some(id) => id,
        None => uuid::Uuid::now_v7().to_string(),
    };
    let plan = app
        .engine
        .plans
        .get(name, stored.version)
        .await?
        .ok_or_else(|| Error::NotFound(format!("workflow `{name}` not found")))?;
    if let Some(schema) = &plan.workflow.input_schema
        && let Err(paths) = shared::validate::check_input(schema, &input)
    {
        return Err(Error::Unprocessable {
            message: "the input does not match the workflow's input_schema".into(),
            details: json!({ "errors": paths }),
        });
    }
    Ok(match app.engine.start_run(run_id, plan, input).await? {
        Started::Created(row) => (StatusCode::CREATED, Json(row_json(&row))),
        Started::Existing(row) => (StatusCode::OK, Json(row_json(&row))),
    })
}

/// Start a run of a workflow's latest version
///
/// Idempotent by `run_id`: the same id and input return the existing run (`200`); the same id
/// with another input is a `409`.
#[utoipa::path(
    post,
    path = "/workflows/{name}/runs",
    tag = "runs",
    params(("name" = String, Path, description = "The workflow's name")),
    request_body = Option<StartRun>,
    responses(
        (status = 201, description = "A new run: `{id, run_id, workflow, version, status, input, output, error, created_at, updated_at}`", body = Object),
        (status = 200, description = "The run that already has this `run_id` and input", body = Object),
        (status = 400, description = "Malformed JSON, an unknown field, or a malformed `run_id`", body = ApiErrorBody),
        (status = 404, description = "No such workflow, or it is archived", body = ApiErrorBody),
        (status = 409, description = "A run with this `run_id` exists with a different input", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "The input does not match the workflow's `input_schema`; `details.errors` lists the failing paths", body = ApiErrorBody),
    ),
)]
pub(super) async fn create_run(
    State(app): State<AppState>,
    Params(name): Params<String>,
    Body(req): Body<StartRun>,
) -> Result<(StatusCode, Json<Value>), Error> {
    start_run(&app, &name, req.input, req.run_id).await
}

/// The filters and page of `GET /api/runs`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Only runs of this workflow.
    workflow: Option<String>,
    /// Only runs with this status: `running`, `completed`, `failed` or `cancelled`.
    status: Option<String>,
    /// Page size, 1-500 (default 50).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List runs, newest first
#[utoipa::path(
    get,
    path = "/runs",
    tag = "runs",
    params(ListQuery),
    responses(
        (status = 200, description = "`{runs: [...], next_cursor}`, each run `{id, run_id, workflow, version, status, input, output, error, created_at, updated_at}`; `next_cursor` is null on the last page", body = Object),
        (status = 400, description = "An unknown status, a malformed cursor or limit", body = ApiErrorBody),
    ),
)]
pub(super) async fn list_runs(
    State(app): State<AppState>,
    Filter(q): Filter<ListQuery>,
) -> Result<Json<Value>, Error> {
    if let Some(s) = &q.status
        && !["running", "completed", "failed", "cancelled"].contains(&s.as_str())
    {
        return Err(Error::BadRequest(format!("unknown status `{s}`")));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let after = match &q.cursor {
        None => None,
        Some(c) => Some(
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
                .ok_or_else(|| Error::BadRequest("malformed cursor".into()))?,
        ),
    };
    let rows = app
        .store
        .list_runs(&RunFilter {
            workflow: q.workflow,
            status: q.status,
            limit,
            after,
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| format!("{}.{}", r.created_at, r.id)))
        .flatten();
    Ok(Json(
        json!({ "runs": rows.iter().map(row_json).collect::<Vec<_>>(), "next_cursor": next }),
    ))
}

async fn load(app: &AppState, id: &str) -> Result<(RunRow, RunState), Error> {
    let row = app
        .store
        .run(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("run `{id}` not found")))?;
    let events = app.store.events(id, 0).await?;
    let state = app
        .engine
        .plans
        .fold(&row.id, &row.workflow, row.version, &events)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("run without its workflow")))?;
    Ok((row, state))
}

/// Get a run with the state of each node
#[utoipa::path(
    get,
    path = "/runs/{id}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run's row plus `nodes`: `{<node id>: {status, type, attempts, output, error, started_at, finished_at, due_at, prompt}}` and `cancelling`", body = Object),
        (status = 404, description = "No such run", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<Json<Value>, Error> {
    let (row, state) = load(&app, &id).await?;
    let mut nodes = Map::new();
    for (i, n) in state.nodes.iter().enumerate() {
        let node = &state.plan.workflow.nodes[i];
        nodes.insert(
            node.id.clone(),
            json!({"status": n.status.as_str(), "type": node.type_name(), "attempts": n.attempts, "output": n.output, "error": n.error,
                   "started_at": n.started_at, "finished_at": n.finished_at, "due_at": n.due_at, "prompt": n.prompt}),
        );
    }
    let mut body = row_json(&row);
    body["nodes"] = Value::Object(nodes);
    body["cancelling"] = json!(state.cancelling && !state.status.is_finished());
    Ok(Json(body))
}

fn event_json(r: &Recorded) -> Value {
    let (ty, node, data) = r.event.split();
    json!({"seq": r.seq, "type": ty, "node": node, "at": r.at, "data": data})
}

/// Get a run's whole event history, in order
#[utoipa::path(
    get,
    path = "/runs/{id}/events",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "`{events: [{seq, type, node, at, data}]}`", body = Object),
        (status = 404, description = "No such run", body = ApiErrorBody),
    ),
)]
pub(super) async fn run_events(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<Json<Value>, Error> {
    if app.store.run(&id).await?.is_none() {
        return Err(Error::NotFound(format!("run `{id}` not found")));
    }
    let events = app.store.events(&id, 0).await?;
    Ok(Json(
        json!({ "events": events.iter().map(event_json).collect::<Vec<_>>() }),
    ))
}

/// Stream a run's events (Server-Sent Events)
///
/// The history after `Last-Event-ID`, then live events, until the run's final event. Each SSE
/// event (`event: run_event`) has its `seq` as id and the event JSON as data, so a
/// reconnecting client resumes exactly where it was.
#[utoipa::path(
    get,
    path = "/runs/{id}/stream",
    tag = "runs",
    params(
        ("id" = String, Path, description = "The run's id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this `seq`"),
        ("access_token" = Option<String>, Query, description = "The API token, for clients that cannot send headers (a browser's `EventSource`); this route only"),
    ),
    responses(
        (status = 200, description = "`text/event-stream` of `{seq, type, node, at, data}` events", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such run", body = ApiErrorBody),
    ),
)]
pub(super) async fn stream_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, Error> {
    let Some(row) = app.store.run(&id).await? else {
        return Err(Error::NotFound(format!("run `{id}` not found")));
    };
    let last: i64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // Subscribe before reading the history so nothing falls between the two.
    let mut live = app.engine.published.subscribe();
    let gauge = crate::metrics::SseClient::open();
    let store = app.store.clone();
    let stream = async_stream::stream! {
        let _gauge = gauge;
        let mut sent = last;
        let mut finished = false;
        let history = store.events(&id, sent).await.unwrap_or_default();
        for r in history {
            sent = r.seq;
            finished |= r.event.is_final();
            yield Ok(sse(&r));
        }
        // Resumed after the last event of a finished run: nothing more will come.
        finished |= row.status != "running" && sent >= row.last_seq;
        while !finished {
            match live.recv().await {
                Ok(c) if c.run_id == id => {
                    // With several processes, another's commit can be announced after a
                    // later one: a gap is filled from the log, and what was sent is skipped.
                    let gap = c.events.first().is_some_and(|r| r.seq > sent + 1);
                    let events = if gap {
                        store.events(&id, sent).await.unwrap_or_default()
                    } else {
                        c.events.iter().filter(|r| r.seq > sent).cloned().collect()
                    };
                    for r in events {
                        sent = r.seq;
                        finished |= r.event.is_final();
                        yield Ok(sse(&r));
                    }
                }
                Ok(_) => {}
                // Fell behind the live feed: catch up from the log.
                Err(RecvError::Lagged(_)) => {
                    for r in store.events(&id, sent).await.unwrap_or_default() {
                        sent = r.seq;
                        finished |= r.event.is_final();
                        yield Ok(sse(&r));
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("heartbeat"),
    ))
}

fn sse(r: &Recorded) -> SseEvent {
    SseEvent::default()
        .id(r.seq.to_string())
        .event("run_event")
        .data(event_json(r).to_string())
}

/// The body of `POST /api/runs/{id}/approvals/{node}`.
#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct FeedQuery {
    /// Only runs of this workflow.
    workflow: Option<String>,
}

/// `GET /api/runs/stream`: a live feed of run changes for the runs page. Each commit that
/// touches a run sends its current `{id, workflow, status, updated_at, last_seq}` (event
/// `run`); a client that falls behind gets `event: resync` and reloads the list.
#[utoipa::path(
    get,
    path = "/runs/stream",
    tag = "runs",
    params(FeedQuery, ("access_token" = Option<String>, Query, description = "The API token, for clients that cannot send headers (a browser's `EventSource`)")),
    responses((status = 200, description = "`text/event-stream`: `run` events `{id, workflow, status, updated_at, last_seq}`, and `resync` when events were dropped", content_type = "text/event-stream", body = String)),
)]
pub(super) async fn stream_runs(
    State(app): State<AppState>,
    Filter(q): Filter<FeedQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut live = app.engine.published.subscribe();
    let gauge = crate::metrics::SseClient::open();
    let stream = async_stream::stream! {
        let _gauge = gauge;
        loop {
            match live.recv().await {
                Ok(c) if q.workflow.as_ref().is_none_or(|w| *w == c.workflow) => {
                    let (Some(first), Some(last)) = (c.events.first(), c.events.last()) else { continue };
                    let created = (first.seq == 1).then_some(first.at);
                    let data = json!({"id": c.run_id, "workflow": c.workflow, "status": c.status,
                                      "created_at": created, "updated_at": last.at, "last_seq": last.seq});
                    yield Ok(SseEvent::default().event("run").data(data.to_string()));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => yield Ok(SseEvent::default().event("resync").data("{}")),
                Err(RecvError::Closed) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("heartbeat"),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Decision {
    /// `approve` or `reject`.
    #[schema(examples("approve"))]
    decision: String,
    /// Kept in the history with the decision.
    comment: Option<String>,
}

/// Approve or reject an approval node that is waiting
#[utoipa::path(
    post,
    path = "/runs/{id}/approvals/{node}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id"), ("node" = String, Path, description = "The approval node's id")),
    request_body = Decision,
    responses(
        (status = 200, description = "`{run_id, node, decision}`", body = Object),
        (status = 400, description = "Malformed JSON, or a decision other than `approve`/`reject`", body = ApiErrorBody),
        (status = 404, description = "No such run, or no such node in its workflow", body = ApiErrorBody),
        (status = 409, description = "The node is not waiting for a decision", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn decide_approval(
    State(app): State<AppState>,
    Params((id, node)): Params<(String, String)>,
    Body(d): Body<Decision>,
) -> Result<Json<Value>, Error> {
    let approve = match d.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(Error::BadRequest(format!(
                "decision must be \"approve\" or \"reject\", not {other:?}"
            )));
        }
    };
    app.engine
        .send(
            &id,
            Input::Decide {
                node: node.clone(),
                approve,
                comment: d.comment,
            },
        )
        .await?;
    Ok(Json(
        json!({ "run_id": id, "node": node, "decision": d.decision }),
    ))
}

/// The body of `POST /api/runs/{id}/signals/{name}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignalBody {
    /// The waiting `signal` node's output; default `null`.
    #[serde(default)]
    payload: Value,
}

/// Send a signal to a run
///
/// Recorded in the run's history; a `signal` node waiting for this name completes with the
/// payload as its output.
#[utoipa::path(
    post,
    path = "/runs/{id}/signals/{name}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id"), ("name" = String, Path, description = "The signal's name, as a `signal` node names it")),
    request_body = Option<SignalBody>,
    responses(
        (status = 200, description = "`{run_id, signal}`", body = Object),
        (status = 400, description = "Malformed JSON or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such run", body = ApiErrorBody),
        (status = 409, description = "The run has already finished", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn send_signal(
    State(app): State<AppState>,
    Params((id, name)): Params<(String, String)>,
    Body(b): Body<SignalBody>,
) -> Result<Json<Value>, Error> {
    app.engine
        .send(
            &id,
            Input::Signal {
                name: name.clone(),
                payload: b.payload,
            },
        )
        .await?;
    Ok(Json(json!({ "run_id": id, "signal": name })))
}

/// The body of `POST /api/runs/{id}/cancel`; an empty body is `{}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelBody {
    /// Kept in the history.
    reason: Option<String>,
}

/// Cancel a run
///
/// Runs its `on_cancel` path, if any, before it ends as `cancelled`.
#[utoipa::path(
    post,
    path = "/runs/{id}/cancel",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    request_body = Option<CancelBody>,
    responses(
        (status = 200, description = "`{run_id, cancelled: true}`", body = Object),
        (status = 400, description = "Malformed JSON or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such run", body = ApiErrorBody),
        (status = 409, description = "The run has already finished or is being cancelled", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn cancel_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
    Body(b): Body<CancelBody>,
) -> Result<Json<Value>, Error> {
    app.engine
        .send(&id, Input::Cancel { reason: b.reason })
        .await?;
    Ok(Json(json!({ "run_id": id, "cancelled": true })))
}
