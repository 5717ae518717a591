//! Schedules (SPEC §5): the list, and pause, resume, trigger now and backfill of one. The
//! scheduler itself is [`crate::schedules`]; these handlers read and change its rows and
//! start runs with the same run ids it uses, so a backfill and the schedule never start two
//! runs for one fire time.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::json;
use shared::api::{
    ApiErrorBody, BackfillBody, BackfillResult, NoFields, RunSummary, ScheduleList, ScheduleView,
};
use shared::event::{Millis, Trigger};
use shared::schedule::MAX_BACKFILL;

use super::error::Error;
use super::json::{Body, Params};
use super::runs::run_status;
use crate::AppState;
use crate::access::{Principal, audit};
use crate::engine::driver::Started;
use crate::schedules::{Resolved, manual_run_id, resolve, run_id};
use crate::store::ScheduleRow;

async fn view(app: &AppState, row: ScheduleRow) -> Result<ScheduleView, Error> {
    let spec = resolve(&app.engine.plans, &row).await?.map(|r| r.spec);
    let overlap = spec
        .as_ref()
        .map_or_else(Default::default, |s| s.overlap_policy());
    let catchup_window = spec
        .as_ref()
        .and_then(|s| s.catchup_window.as_ref())
        .map_or_else(|| "1m".to_owned(), |d| d.0.clone());
    Ok(ScheduleView {
        last_run_status: row.last_run_status.as_deref().map(run_status).transpose()?,
        workflow: row.workflow,
        index: row.index,
        cron: row.cron,
        timezone: row.timezone,
        overlap: overlap.as_str().to_owned(),
        catchup_window,
        paused: row.paused,
        next_fire_at: row.next_fire_at.filter(|_| !row.paused),
        last_fire_at: row.last_fire_at,
        last_run: row.last_run,
        buffered_at: row.buffered_at,
        skipped: row.skipped,
    })
}

/// The row and schedule at `(name, index)`, or a 404 naming what is missing.
async fn find(app: &AppState, name: &str, index: u32) -> Result<(ScheduleRow, Resolved), Error> {
    let missing = || Error::NotFound(format!("workflow `{name}` has no schedule {index}"));
    let row = app
        .store
        .schedules(Some((name, index)))
        .await?
        .pop()
        .ok_or_else(missing)?;
    let resolved = resolve(&app.engine.plans, &row)
        .await?
        .ok_or_else(missing)?;
    Ok((row, resolved))
}

/// List every schedule
#[utoipa::path(
    get,
    path = "/schedules",
    tag = "schedules",
    responses(
        (status = 200, description = "Every schedule of every workflow that is not archived, by workflow and index", body = ScheduleList),
    ),
)]
pub(super) async fn list_schedules(
    State(app): State<AppState>,
) -> Result<Json<ScheduleList>, Error> {
    let rows = app.store.schedules(None).await?;
    let mut schedules = Vec::with_capacity(rows.len());
    for row in rows {
        schedules.push(view(&app, row).await?);
    }
    Ok(Json(ScheduleList { schedules }))
}

async fn set_paused(
    app: &AppState,
    name: &str,
    index: u32,
    paused: bool,
) -> Result<Json<ScheduleView>, Error> {
    let (_, r) = find(app, name, index).await?;
    // Resuming starts from now: the fire times while paused are not caught up.
    let next = r.schedule.next_after(app.engine.clock.now());
    if !app.store.set_paused(name, index, paused, next).await? {
        return Err(Error::NotFound(format!(
            "workflow `{name}` has no schedule {index}"
        )));
    }
    app.schedules.wake();
    let (row, _) = find(app, name, index).await?;
    Ok(Json(view(app, row).await?))
}

/// Pause a schedule
///
/// It starts no runs until resumed, also across restarts and saves of its workflow; a fire
/// buffered behind a running run is dropped.
#[utoipa::path(
    post,
    path = "/workflows/{name}/schedules/{index}/pause",
    tag = "schedules",
    params(("name" = String, Path, description = "The workflow's name"), ("index" = u32, Path, description = "The schedule's index in `triggers.schedules`")),
    request_body = Option<NoFields>,
    responses(
        (status = 200, description = "The schedule, paused", body = ScheduleView),
        (status = 400, description = "A body other than `{}`, or an index that is not a number", body = ApiErrorBody),
        (status = 404, description = "No such workflow or schedule", body = ApiErrorBody),
    ),
)]
pub(super) async fn pause_schedule(
    State(app): State<AppState>,
    Params((name, index)): Params<(String, u32)>,
    Body(NoFields {}): Body<NoFields>,
) -> Result<Json<ScheduleView>, Error> {
    set_paused(&app, &name, index, true).await
}

/// Resume a schedule
///
/// Its next fire time is the first after now: the fire times it missed while paused start
/// no runs.
#[utoipa::path(
    post,
    path = "/workflows/{name}/schedules/{index}/resume",
    tag = "schedules",
    params(("name" = String, Path, description = "The workflow's name"), ("index" = u32, Path, description = "The schedule's index in `triggers.schedules`")),
    request_body = Option<NoFields>,
    responses(
        (status = 200, description = "The schedule, running", body = ScheduleView),
        (status = 400, description = "A body other than `{}`, or an index that is not a number", body = ApiErrorBody),
        (status = 404, description = "No such workflow or schedule", body = ApiErrorBody),
    ),
)]
pub(super) async fn resume_schedule(
    State(app): State<AppState>,
    Params((name, index)): Params<(String, u32)>,
    Body(NoFields {}): Body<NoFields>,
) -> Result<Json<ScheduleView>, Error> {
    set_paused(&app, &name, index, false).await
}

/// Start a run of a schedule now
///
/// A run with the schedule's input and `trigger: {"schedule", "at": now}`, whatever the
/// overlap policy and also while paused; it becomes the schedule's last run.
#[utoipa::path(
    post,
    path = "/workflows/{name}/schedules/{index}/trigger",
    tag = "schedules",
    params(("name" = String, Path, description = "The workflow's name"), ("index" = u32, Path, description = "The schedule's index in `triggers.schedules`")),
    request_body = Option<NoFields>,
    responses(
        (status = 201, description = "The new run", body = RunSummary),
        (status = 400, description = "A body other than `{}`, or an index that is not a number", body = ApiErrorBody),
        (status = 404, description = "No such workflow or schedule", body = ApiErrorBody),
    ),
)]
pub(super) async fn trigger_schedule(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
    Params((name, index)): Params<(String, u32)>,
    Body(NoFields {}): Body<NoFields>,
) -> Result<(StatusCode, Json<RunSummary>), Error> {
    let (_, r) = find(&app, &name, index).await?;
    let at = app.engine.clock.now();
    let id = manual_run_id(&name, index);
    let trigger = Some(Trigger {
        schedule: index,
        at,
    });
    let row = match app
        .engine
        .start_triggered(
            id.clone(),
            r.plan.clone(),
            r.spec.run_input(),
            trigger,
            principal.map(|Extension(p)| p.actor),
        )
        .await?
    {
        Started::Created(row) | Started::Existing(row) => row,
    };
    app.store.set_last_run(&name, index, &id, at).await?;
    Ok((StatusCode::CREATED, Json(super::runs::summary(&row)?)))
}

/// How many of `fires` already have their run (the schedule or a backfill started it), so a
/// dry run says what a backfill would leave alone.
async fn existing_runs(
    app: &AppState,
    name: &str,
    index: u32,
    fires: &[Millis],
) -> Result<usize, Error> {
    let mut existing = 0;
    for &at in fires {
        if app.store.run(&run_id(name, index, at)).await?.is_some() {
            existing += 1;
        }
    }
    Ok(existing)
}

/// Backfill a schedule over a time range
///
/// Starts one run per fire time `t` with `from <= t < to` (in the schedule's zone), each with
/// `trigger: {"schedule", "at": t}`. A fire time that already has its run (the schedule
/// started it, or an earlier backfill did) starts none, so asking twice starts each once.
/// Overlap and pause do not apply. `dry_run` only counts.
#[utoipa::path(
    post,
    path = "/workflows/{name}/schedules/{index}/backfill",
    tag = "schedules",
    params(("name" = String, Path, description = "The workflow's name"), ("index" = u32, Path, description = "The schedule's index in `triggers.schedules`")),
    request_body = BackfillBody,
    responses(
        (status = 200, description = "How many fire times the range holds, and how many runs were new", body = BackfillResult),
        (status = 400, description = "Malformed JSON, an unknown field, a time that is neither RFC 3339 nor epoch milliseconds, or `to` before `from`", body = ApiErrorBody),
        (status = 404, description = "No such workflow or schedule", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "The range holds more than 10,000 fire times (the most one backfill starts)", body = ApiErrorBody),
    ),
)]
pub(super) async fn backfill_schedule(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
    Params((name, index)): Params<(String, u32)>,
    Body(b): Body<BackfillBody>,
) -> Result<(Option<Extension<audit::Unchanged>>, Json<BackfillResult>), Error> {
    let from = b
        .from
        .millis()
        .map_err(|e| Error::BadRequest(format!("from: {e}")))?;
    let to =
        b.to.millis()
            .map_err(|e| Error::BadRequest(format!("to: {e}")))?;
    if to < from {
        return Err(Error::BadRequest(format!(
            "`to` ({to}) is before `from` ({from})"
        )));
    }
    let (_, r) = find(&app, &name, index).await?;
    let fires = r.schedule.fires_between(from, to, MAX_BACKFILL).map_err(|limit| {
        Error::Unprocessable {
            message: format!(
                "the range holds more than {limit} fire times, the most one backfill starts (MAX_BACKFILL); split it"
            ),
            details: json!({ "limit": limit }),
        }
    })?;
    let (started, existing) = if b.dry_run {
        (0, existing_runs(&app, &name, index, &fires).await?)
    } else {
        let by = principal.as_ref().map(|p| p.actor.as_str());
        crate::schedules::backfill(&app.engine, &r, &name, index, &fires, by).await?
    };
    let unchanged = b.dry_run.then_some(Extension(audit::Unchanged));
    Ok((
        unchanged,
        Json(BackfillResult {
            workflow: name,
            index,
            fires: fires.len(),
            started,
            existing,
            dry_run: b.dry_run,
        }),
    ))
}
