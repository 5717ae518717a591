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
            driver::Error::CommitFailed => Error::Internal(anyhow::anyhow!("group commit failed")),
            driver::Error::Store(e) => Error::Internal(e.into()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StartRun {
    #[serde(default)]
    input: Value,
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

pub(super) async fn create_run(
    State(app): State<AppState>,
    Params(name): Params<String>,
    Body(req): Body<StartRun>,
) -> Result<(StatusCode, Json<Value>), Error> {
    start_run(&app, &name, req.input, req.run_id).await
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    workflow: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

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

/// `GET /api/runs/{id}/stream`: the history after `Last-Event-ID`, then live events. Each
/// SSE event's id is its `seq`, so a reconnecting client resumes exactly where it was.
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
                    let from = sent;
                    for r in c.events.iter().filter(|r| r.seq > from) {
                        sent = r.seq;
                        finished |= r.event.is_final();
                        yield Ok(sse(r));
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Decision {
    decision: String,
    comment: Option<String>,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignalBody {
    #[serde(default)]
    payload: Value,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelBody {
    reason: Option<String>,
}

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
