//! The live streams (Server-Sent Events): one run's events as they are committed, and the
//! runs feed the runs page follows. Each event's data is a `shared::api` type ([`RunEvent`],
//! [`RunChange`]), the same the UI reads.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Deserialize;
use shared::api::{ApiErrorBody, RunChange, RunEvent, RunStatus};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::error::Error;
use super::json::{Filter, Params};
use super::runs::run_status;
use crate::AppState;
use crate::closing::Closing;
use crate::engine::driver::Committed;
use crate::engine::event::Recorded;

/// How often an idle stream says it is alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Stream a run's events (Server-Sent Events)
///
/// The history after `Last-Event-ID`, then live events, until the run's final event. Each SSE
/// event (`event: run_event`) has its `seq` as id and the event JSON as data, so a
/// reconnecting client resumes exactly where it was. A server that is stopping ends the
/// stream with `event: shutdown`: reconnect later.
#[utoipa::path(
    get,
    path = "/runs/{id}/stream",
    tag = "runs",
    params(
        ("id" = String, Path, description = "The run's id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this `seq`"),
        ("last_event_id" = Option<i64>, Query, description = "The same as `Last-Event-ID`, for a client that opens a new `EventSource` (which cannot set headers) to resume; the header wins"),
        ("access_token" = Option<String>, Query, description = "The API token, for clients that cannot send headers (a browser's `EventSource`); this route only"),
    ),
    responses(
        (status = 200, description = "`text/event-stream`: `run_event` events, each with its `seq` as id and a `RunEvent` as data; `shutdown` when the server stops", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such run", body = ApiErrorBody),
    ),
)]
pub(super) async fn stream_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
    Filter(q): Filter<ResumeQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, Error> {
    let Some(row) = app.store.run(&id).await? else {
        return Err(Error::NotFound(format!("run `{id}` not found")));
    };
    let last: i64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(q.last_event_id)
        .unwrap_or(0);
    // Subscribe before reading the history so nothing falls between the two.
    let mut live = app.engine.published.subscribe();
    let gauge = crate::metrics::SseClient::open();
    let store = app.store.clone();
    let mut closing = app.closing.clone();
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
        finished |= RunStatus::parse(&row.status).is_some_and(RunStatus::is_finished)
            && sent >= row.last_seq;
        while !finished {
            let Some(next) = next_commit(&mut live, &mut closing).await else {
                yield Ok(shutdown());
                break;
            };
            match next {
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
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("heartbeat")))
}

/// The next commit published to the streams, or `None` once the server is stopping.
async fn next_commit(
    live: &mut broadcast::Receiver<Arc<Committed>>,
    closing: &mut Closing,
) -> Option<Result<Arc<Committed>, RecvError>> {
    tokio::select! {
        next = live.recv() => Some(next),
        () = closing.closed() => None,
    }
}

/// The last event of a stream the server ends because it is stopping: the client should
/// reconnect (with `Last-Event-ID`) once a server is back.
fn shutdown() -> SseEvent {
    SseEvent::default().event("shutdown").data("{}")
}

/// Where a client resumes a run's stream when it cannot send `Last-Event-ID`.
#[derive(Deserialize)]
pub(super) struct ResumeQuery {
    last_event_id: Option<i64>,
}

fn sse(r: &Recorded) -> SseEvent {
    let data = serde_json::to_string(&RunEvent::from(r)).expect("events serialize");
    SseEvent::default()
        .id(r.seq.to_string())
        .event("run_event")
        .data(data)
}

/// The filter of `GET /api/runs/stream` (a query parameter).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FeedQuery {
    /// Only runs of this workflow.
    workflow: Option<String>,
    /// Test runs too (SPEC §6 "Test runs"); left out by default.
    #[serde(default)]
    test: bool,
}

/// Stream changes to runs (Server-Sent Events)
///
/// A live feed for the runs page: each commit that touches a run sends a `RunChange` (event
/// `run`); a client that falls behind gets `event: resync` and reloads the list; a server that
/// is stopping sends `event: shutdown` and ends the stream.
#[utoipa::path(
    get,
    path = "/runs/stream",
    tag = "runs",
    params(FeedQuery, ("access_token" = Option<String>, Query, description = "The API token, for clients that cannot send headers (a browser's `EventSource`)")),
    responses((status = 200, description = "`text/event-stream`: `run` events with a `RunChange` as data, `resync` when events were dropped, `shutdown` when the server stops", content_type = "text/event-stream", body = String)),
)]
pub(super) async fn stream_runs(
    State(app): State<AppState>,
    Filter(q): Filter<FeedQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut live = app.engine.published.subscribe();
    let gauge = crate::metrics::SseClient::open();
    let mut closing = app.closing.clone();
    let stream = async_stream::stream! {
        let _gauge = gauge;
        loop {
            let Some(next) = next_commit(&mut live, &mut closing).await else {
                yield Ok(shutdown());
                break;
            };
            match next {
                Ok(c) if q.workflow.as_ref().is_none_or(|w| *w == c.workflow) && (q.test || !c.test) => {
                    let (Some(first), Some(last)) = (c.events.first(), c.events.last()) else { continue };
                    let Ok(status) = run_status(&c.status) else { continue };
                    let change = RunChange {
                        id: c.run_id.clone(),
                        workflow: c.workflow.clone(),
                        status,
                        created_at: (first.seq == 1).then_some(first.at),
                        updated_at: last.at,
                        last_seq: last.seq,
                        needs_person: c.needs_person,
                        test: c.test,
                    };
                    let data = serde_json::to_string(&change).expect("a change serializes");
                    yield Ok(SseEvent::default().event("run").data(data));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => yield Ok(SseEvent::default().event("resync").data("{}")),
                Err(RecvError::Closed) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("heartbeat"))
}
