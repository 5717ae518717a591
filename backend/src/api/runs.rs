//! Runs: start (idempotent by `run_id`), list, detail, history, and the inputs a person
//! sends: approvals, signals, cancel. The live streams are in [`super::streams`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{Value, json};
use shared::api::{
    ApiErrorBody, CancelAccepted, CancelBody, EventList, NodeView, RunDetail, RunEvent, RunList,
    RunStatus, RunSummary, SignalBody, SignalSent, StartRun,
};
use shared::limits::MAX_ID_LEN;

use super::error::Error;
use super::json::{Body, Filter, Params};
use crate::AppState;
use crate::access::{Principal, audit};
use crate::engine::decide::{Input, Rejected};
use crate::engine::driver::{self, Started};
use crate::engine::event::Recorded;
use crate::engine::state::RunState;
use crate::store::RunRow;

impl From<driver::Error> for Error {
    fn from(e: driver::Error) -> Self {
        match e {
            driver::Error::RunNotFound(id) => Error::NotFound(format!("run `{id}` not found")),
            driver::Error::Rejected(Rejected::UnknownNode(n)) => {
                Error::NotFound(format!("node `{n}` not found in this run's workflow"))
            }
            driver::Error::Rejected(r @ Rejected::UnknownSignal { .. }) => {
                Error::NotFound(r.to_string())
            }
            driver::Error::Rejected(
                r @ (Rejected::NotApprover(_) | Rejected::SelfApproval { .. }),
            ) => Error::Forbidden(r.to_string()),
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

/// A run id a caller chose (a start's `run_id`, a webhook's `Idempotency-Key`), checked: it
/// becomes a path segment of the run's URLs (`/api/runs/{id}`, the UI's `/runs/{id}`), so it
/// is never empty, `.` or `..`, and holds no `/`, whitespace or control character.
pub(crate) struct RunId(String);

impl RunId {
    /// Checks `id`; `what` names where it came from, for the 400's message.
    pub(crate) fn given(what: &str, id: String) -> Result<RunId, Error> {
        let rule = if id.is_empty() {
            "must not be empty".to_owned()
        } else if id.len() > MAX_ID_LEN {
            format!("is {} bytes long, over the limit of {MAX_ID_LEN}", id.len())
        } else if id == "." || id == ".." {
            format!("must not be `{id}`: a run id is a path segment of the run's URL")
        } else if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
        {
            format!("may hold only ASCII letters, digits and `-_.:`, not {c:?}")
        } else {
            return Ok(RunId(id));
        };
        Err(Error::BadRequest(format!("{what} {rule}")))
    }
}

/// A run status as the store keeps it; anything else is a corrupt row.
pub(super) fn run_status(text: &str) -> Result<RunStatus, Error> {
    RunStatus::parse(text)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a run row has the status `{text}`")))
}

pub(super) fn summary(r: &RunRow) -> Result<RunSummary, Error> {
    Ok(RunSummary {
        id: r.id.clone(),
        run_id: r.id.clone(),
        workflow: r.workflow.clone(),
        version: r.version,
        status: run_status(&r.status)?,
        input: r.input.clone(),
        output: r.output.clone(),
        error: r.error.clone(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        needs_person: r.needs_person,
        test: r.test,
    })
}

/// Starts a run of the latest version of `name`; shared by the API and webhooks.
pub(crate) async fn start_run(
    app: &AppState,
    name: &str,
    input: Value,
    run_id: Option<RunId>,
    by: Option<String>,
) -> Result<(StatusCode, Json<RunSummary>), Error> {
    let stored = app.store.workflow(name, None).await?;
    let Some(stored) = stored.filter(|w| !w.archived) else {
        return Err(Error::NotFound(format!("workflow `{name}` not found")));
    };
    let run_id = match run_id {
        Some(RunId(id)) => id,
        None => uuid::Uuid::now_v7().to_string(),
    };
    let plan = app
        .engine
        .plans
        .get(name, stored.version)
        .await?
        .ok_or_else(|| Error::NotFound(format!("workflow `{name}` not found")))?;
    Error::check_value("the input", &input)?;
    if let Some(schema) = &plan.workflow.input_schema
        && let Err(paths) = shared::validate::check_input(schema, &input)
    {
        return Err(Error::Unprocessable {
            message: "the input does not match the workflow's input_schema".into(),
            details: json!({ "errors": paths }),
        });
    }
    Ok(match app.engine.start_run(run_id, plan, input, by).await? {
        Started::Created(row) => (StatusCode::CREATED, Json(summary(&row)?)),
        Started::Existing(row) => (StatusCode::OK, Json(summary(&row)?)),
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
        (status = 201, description = "A new run", body = RunSummary),
        (status = 200, description = "The run that already has this `run_id` and input", body = RunSummary),
        (status = 400, description = "Malformed JSON, a body that is not an object, an unknown field, or a `run_id` that is empty, `.`, `..`, over 200 bytes or holds a character other than `[A-Za-z0-9-_.:]`", body = ApiErrorBody),
        (status = 404, description = "No such workflow, or it is archived", body = ApiErrorBody),
        (status = 409, description = "A run with this `run_id` exists with a different input", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "The input does not match the workflow's `input_schema`; `details.errors` lists the failing paths", body = ApiErrorBody),
    ),
)]
pub(super) async fn create_run(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
    Params(name): Params<String>,
    Body(req): Body<StartRun>,
) -> Result<(StatusCode, Extension<audit::Note>, Json<RunSummary>), Error> {
    let run_id = req
        .run_id
        .map(|id| RunId::given("run_id", id))
        .transpose()?;
    let by = principal.map(|Extension(p)| p.actor);
    let (status, Json(run)) = start_run(&app, &name, req.input, run_id, by).await?;
    // The audit row names the run; its workflow goes in the details.
    let note = audit::Note {
        target: Some(format!("run:{}", run.id)),
        details: json!({ "workflow": name, "version": run.version }),
    };
    Ok((status, Extension(note), Json(run)))
}

/// List and find runs, newest first
///
/// Filters combine (all must hold); `total` counts every page (SPEC §6 "Finding runs").
#[utoipa::path(
    get,
    path = "/runs",
    tag = "runs",
    params(
        ("workflow" = Option<String>, Query, description = "Only runs of this workflow"),
        ("status" = Option<String>, Query, description = "Only runs with this status: `running`, `paused`, `completed`, `failed` or `cancelled`"),
        ("id_prefix" = Option<String>, Query, description = "Only runs whose id starts with this (a whole id finds that run)"),
        ("created_after" = Option<String>, Query, description = "Only runs created at or after this instant: RFC 3339, or milliseconds since the epoch"),
        ("created_before" = Option<String>, Query, description = "Only runs created before this instant: RFC 3339, or milliseconds since the epoch"),
        ("needs" = Option<String>, Query, description = "`person`: only runs waiting for an approval or a signal"),
        ("test" = Option<bool>, Query, description = "`true`: test runs too (SPEC §6 \"Test runs\"); they are left out by default"),
        ("input.<path>" = Option<String>, Query, description = "Repeatable, all must hold: the input's field at this dotted path (object keys) equals the value, read as JSON when it parses (`42`, `true`, `\"42\"`), else as text. For example `input.customer.id=c-17`"),
        ("limit" = Option<i64>, Query, description = "Page size, 1-500 (default 50); outside that range, a 400"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of runs; `next_cursor` is null on the last page; `total` counts all pages", body = RunList),
        (status = 400, description = "An unknown parameter or status, a malformed instant, cursor or input path, or a limit that is not a number in 1-500", body = ApiErrorBody),
    ),
)]
pub(super) async fn list_runs(
    State(app): State<AppState>,
    Filter(pairs): Filter<Vec<(String, String)>>,
) -> Result<Json<RunList>, Error> {
    let filter = super::find::read(pairs)?;
    let (rows, total) =
        tokio::try_join!(app.store.list_runs(&filter), app.store.total_runs(&filter))?;
    let next_cursor = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|r| format!("{}.{}", r.created_at, r.id)))
        .flatten();
    Ok(Json(RunList {
        runs: rows.iter().map(summary).collect::<Result<_, _>>()?,
        next_cursor,
        total,
    }))
}

async fn load(app: &AppState, id: &str) -> Result<(RunRow, RunState), Error> {
    let (row, state, _) = load_log(app, id).await?;
    Ok((row, state))
}

/// A run's row, its fold and the log it was folded from; 404 for an unknown id.
pub(super) async fn load_log(
    app: &AppState,
    id: &str,
) -> Result<(RunRow, RunState, Vec<Recorded>), Error> {
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
    Ok((row, state, events))
}

/// Get a run with the state of each node
#[utoipa::path(
    get,
    path = "/runs/{id}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run's row, each node's state and whether a cancel is under way", body = RunDetail),
        (status = 404, description = "No such run", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<Json<RunDetail>, Error> {
    let (row, state) = load(&app, &id).await?;
    let nodes = state
        .nodes
        .iter()
        .zip(&state.plan.workflow.nodes)
        .map(|(n, node)| (node.id.clone(), NodeView::new(node.type_name(), n)))
        .collect();
    Ok(Json(RunDetail {
        run: summary(&row)?,
        nodes,
        cancelling: state.cancelling && !state.status.is_finished(),
        parent: state.parent.clone(),
        trigger: state.trigger,
        redrive_of: state.redrive_of.clone(),
        redriven_by: app.store.redrives_of(&id).await?,
    }))
}

/// Get a run's whole event history, in order
#[utoipa::path(
    get,
    path = "/runs/{id}/events",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "Every event of the run's log, by `seq`", body = EventList),
        (status = 404, description = "No such run", body = ApiErrorBody),
    ),
)]
pub(super) async fn run_events(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<Json<EventList>, Error> {
    if app.store.run(&id).await?.is_none() {
        return Err(Error::NotFound(format!("run `{id}` not found")));
    }
    let events = app.store.events(&id, 0).await?;
    Ok(Json(EventList {
        events: events.iter().map(RunEvent::from).collect(),
    }))
}

/// Send a signal to a run
///
/// Recorded in the run's history; a `signal` node waiting for this name completes with the
/// payload as its output. A signal no node waits for yet is kept until one does (at most 100
/// per run); a name no `signal` node of the run's version declares is refused.
#[utoipa::path(
    post,
    path = "/runs/{id}/signals/{name}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id"), ("name" = String, Path, description = "The signal's name, as a `signal` node names it")),
    request_body = Option<SignalBody>,
    responses(
        (status = 200, description = "The signal is recorded", body = SignalSent),
        (status = 400, description = "Malformed JSON, a body that is not an object, or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such run, or no `signal` node of its version declares this name", body = ApiErrorBody),
        (status = 409, description = "The run has already finished, or already holds 100 signals no `signal` node has taken", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn send_signal(
    State(app): State<AppState>,
    Params((id, name)): Params<(String, String)>,
    Body(b): Body<SignalBody>,
) -> Result<Json<SignalSent>, Error> {
    Error::check_value("the payload", &b.payload)?;
    app.engine
        .send(
            &id,
            Input::Signal {
                name: name.clone(),
                payload: b.payload,
            },
        )
        .await?;
    Ok(Json(SignalSent {
        run_id: id,
        signal: name,
    }))
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
        (status = 200, description = "The cancel is recorded", body = CancelAccepted),
        (status = 400, description = "Malformed JSON, a body that is not an object, or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such run", body = ApiErrorBody),
        (status = 409, description = "The run has already finished or is being cancelled", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn cancel_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
    Body(b): Body<CancelBody>,
) -> Result<Json<CancelAccepted>, Error> {
    app.engine
        .send(&id, Input::Cancel { reason: b.reason })
        .await?;
    Ok(Json(CancelAccepted {
        run_id: id,
        cancelled: true,
    }))
}
