//! Operating runs on day two (SPEC §6): pause and resume one run, and redrive a finished one
//! (with a dry run that says what would be reused and what would act again).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use shared::api::{
    ApiErrorBody, PauseBody, RedriveBody, RedrivePreview, RedriveStarted, RedriveVersion,
    RunSummary, VersionName,
};

use super::error::Error;
use super::json::{Body, Params};
use super::runs::{load_log, summary};
use crate::AppState;
use crate::access::audit;
use crate::engine::decide::Input;
use crate::engine::driver::Started;
use crate::engine::redrive::{self, RedriveError};

impl From<RedriveError> for Error {
    fn from(e: RedriveError) -> Self {
        match e {
            RedriveError::NotFinished { .. } => Error::Conflict(e.to_string()),
            RedriveError::UnknownNodes { ref nodes, .. } => Error::Unprocessable {
                message: e.to_string(),
                details: json!({ "nodes": nodes }),
            },
            RedriveError::NothingToRedo(_) => Error::Unprocessable {
                message: e.to_string(),
                details: json!({}),
            },
        }
    }
}

/// The run's row after an input was taken.
async fn row_of(app: &AppState, id: &str) -> Result<Json<RunSummary>, Error> {
    let row = app
        .store
        .run(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("run `{id}` not found")))?;
    Ok(Json(summary(&row)?))
}

/// Pause a run
///
/// While paused no node and no attempt starts and due timers wait; attempts already in
/// flight finish and are recorded. A cancel still runs the `on_cancel` path.
#[utoipa::path(
    post,
    path = "/runs/{id}/pause",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    request_body = Option<PauseBody>,
    responses(
        (status = 200, description = "The run is paused", body = RunSummary),
        (status = 400, description = "Malformed JSON, a body that is not an object, or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such run", body = ApiErrorBody),
        (status = 409, description = "The run has finished, is being cancelled or is already paused", body = ApiErrorBody),
    ),
)]
pub(super) async fn pause_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
    Body(b): Body<PauseBody>,
) -> Result<Json<RunSummary>, Error> {
    app.engine
        .send(&id, Input::Pause { reason: b.reason })
        .await?;
    row_of(&app, &id).await
}

/// Resume a paused run
///
/// Timers that fell due while it was paused fire now, and the nodes whose turn came start.
#[utoipa::path(
    post,
    path = "/runs/{id}/resume",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run goes on", body = RunSummary),
        (status = 404, description = "No such run", body = ApiErrorBody),
        (status = 409, description = "The run is not paused", body = ApiErrorBody),
    ),
)]
pub(super) async fn resume_run(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<Json<RunSummary>, Error> {
    app.engine.send(&id, Input::Resume).await?;
    row_of(&app, &id).await
}

/// Redrive a finished run
///
/// Starts a new run that reuses every node the original completed before the redrive point
/// (its recorded output, an approval's decision) and runs the rest. `dry_run` answers what it
/// would reuse and run, and starts nothing.
#[utoipa::path(
    post,
    path = "/runs/{id}/redrive",
    tag = "runs",
    params(("id" = String, Path, description = "The finished run to redrive")),
    request_body = Option<RedriveBody>,
    responses(
        (status = 201, description = "The new run", body = RedriveStarted),
        (status = 200, description = "A dry run: what the redrive would reuse and run", body = RedrivePreview),
        (status = 400, description = "Malformed JSON, a body that is not an object, or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such run", body = ApiErrorBody),
        (status = 409, description = "The run has not finished, or its workflow is archived", body = ApiErrorBody),
        (status = 422, description = "`from` names nodes the version lacks, nothing failed and no `from` was given, no such version, or the input does not match the version's `input_schema`", body = ApiErrorBody),
    ),
)]
pub(super) async fn redrive_run(
    State(app): State<AppState>,
    principal: Option<axum::Extension<crate::access::Principal>>,
    Params(id): Params<String>,
    Body(b): Body<RedriveBody>,
) -> Result<Response, Error> {
    let (row, original, log) = load_log(&app, &id).await?;
    let name = row.workflow.as_str();
    let stored = app.store.workflow(name, None).await?;
    if stored.as_ref().is_none_or(|w| w.archived) {
        return Err(Error::Conflict(format!(
            "workflow `{name}` is archived; it takes no new runs"
        )));
    }
    let version = match b
        .version
        .unwrap_or(RedriveVersion::Named(VersionName::Same))
    {
        RedriveVersion::Named(VersionName::Same) => row.version,
        RedriveVersion::Named(VersionName::Latest) => stored.map_or(row.version, |w| w.version),
        RedriveVersion::Number(n) => n,
    };
    let target =
        app.engine
            .plans
            .get(name, version)
            .await?
            .ok_or_else(|| Error::Unprocessable {
                message: format!("workflow `{name}` has no version {version}"),
                details: json!({ "version": version }),
            })?;
    let input = b.input.unwrap_or_else(|| original.input.clone());
    Error::check_value("the input", &input)?;
    if let Some(schema) = &target.workflow.input_schema
        && let Err(paths) = shared::validate::check_input(schema, &input)
    {
        return Err(Error::Unprocessable {
            message: "the input does not match the workflow's input_schema".into(),
            details: json!({ "errors": paths }),
        });
    }
    let run_id = uuid::Uuid::now_v7().to_string();
    let now = app.engine.clock.now();
    let (plan, preview) = redrive::plan(
        &original,
        &log,
        &target,
        b.from,
        &run_id,
        input.clone(),
        now,
    )?;
    if b.dry_run {
        let preview = Json(RedrivePreview {
            version,
            from: plan.from,
            reuse: preview.reuse,
            rerun: preview.rerun,
            side_effects: preview.side_effects,
        });
        return Ok((Extension(audit::Unchanged), preview).into_response());
    }
    let run_id = match app
        .engine
        .start_redrive(
            run_id,
            target,
            input,
            plan,
            principal.map(|axum::Extension(p)| p.actor),
        )
        .await?
    {
        Started::Created(r) | Started::Existing(r) => r.id,
    };
    Ok((StatusCode::CREATED, Json(RedriveStarted { run_id })).into_response())
}
