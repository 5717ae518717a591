//! Bulk actions (SPEC §6): `POST /api/runs/bulk` checks the filter, counts (a dry run) or
//! writes a durable batch for [`crate::bulk`] to work through, and `GET /api/batches/{id}`
//! reports its progress.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{Value, json};
use shared::api::{
    ApiErrorBody, BatchError, BatchView, BulkAccepted, BulkAction, BulkBody, RunStatus,
};

use super::error::Error;
use super::json::{Body, Params};
use crate::AppState;
use crate::access::{Principal, audit};
use crate::store::BulkFilter;

/// At most this many ids in one filter.
const MAX_IDS: usize = 10_000;

/// The filter as the store reads it; 422 for a value it cannot use, or for a filter that
/// names nothing without `all`.
fn filter(f: shared::api::BulkFilter) -> Result<BulkFilter, Error> {
    let bad = |message: String, field: &str| Error::Unprocessable {
        message,
        details: json!({ "field": field }),
    };
    if let Some(s) = &f.status
        && RunStatus::parse(s).is_none()
    {
        return Err(bad(
            format!(
                "`status` `{s}` is not a run status (running, paused, completed, failed, cancelled)"
            ),
            "status",
        ));
    }
    let instant = |v: &Option<Value>, field: &str| -> Result<Option<i64>, Error> {
        v.as_ref()
            .map(|v| {
                shared::instant::parse(v).ok_or_else(|| {
                    bad(
                        format!("`{field}` must be RFC 3339 text or milliseconds since the Unix epoch, not {v}"),
                        field,
                    )
                })
            })
            .transpose()
    };
    let created_after = instant(&f.created_after, "created_after")?;
    let created_before = instant(&f.created_before, "created_before")?;
    if f.ids.as_ref().is_some_and(|ids| ids.len() > MAX_IDS) {
        return Err(bad(format!("`ids` lists more than {MAX_IDS} runs"), "ids"));
    }
    let out = BulkFilter {
        workflow: f.workflow,
        status: f.status,
        created_after,
        created_before,
        ids: f.ids,
    };
    if out == BulkFilter::default() && !f.all {
        return Err(bad(
            "the filter names no workflow, status, time or ids, so it matches every run; \
             send `\"all\": true` in the filter to act on all of them"
                .into(),
            "filter",
        ));
    }
    Ok(out)
}

/// Act on every run a filter matches
///
/// Cancel, redrive (from each run's failed nodes, on its own version), pause or resume, as a
/// durable batch that survives a restart and acts on each run once. `dry_run` only counts.
#[utoipa::path(
    post,
    path = "/runs/bulk",
    tag = "runs",
    request_body = BulkBody,
    responses(
        (status = 202, description = "The batch is made; follow it at `/api/batches/{batch_id}`", body = BulkAccepted),
        (status = 200, description = "A dry run: how many runs match", body = BulkAccepted),
        (status = 400, description = "Malformed JSON, an unknown field or action", body = ApiErrorBody),
        (status = 422, description = "A status or time it cannot read, too many ids, or a filter that matches every run without `all`", body = ApiErrorBody),
    ),
)]
pub(super) async fn bulk_runs(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
    Body(b): Body<BulkBody>,
) -> Result<
    (
        StatusCode,
        Option<Extension<audit::Unchanged>>,
        Json<BulkAccepted>,
    ),
    Error,
> {
    let wire = serde_json::to_value(&b.filter).map_err(|e| Error::Internal(e.into()))?;
    let f = filter(b.filter)?;
    if b.dry_run {
        let matched = app.store.count_runs(&f).await?;
        return Ok((
            StatusCode::OK,
            Some(Extension(audit::Unchanged)),
            Json(BulkAccepted {
                batch_id: None,
                matched,
            }),
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let now = app.engine.clock.now();
    let matched = app
        .store
        .create_batch(
            &id,
            b.action.as_str(),
            &wire,
            &f,
            now,
            principal.as_ref().map(|p| p.actor.as_str()),
        )
        .await?;
    app.bulk.wake();
    Ok((
        StatusCode::ACCEPTED,
        None,
        Json(BulkAccepted {
            batch_id: Some(id),
            matched,
        }),
    ))
}

/// A bulk batch's progress
#[utoipa::path(
    get,
    path = "/batches/{id}",
    tag = "runs",
    params(("id" = String, Path, description = "The batch's id")),
    responses(
        (status = 200, description = "How far the batch is", body = BatchView),
        (status = 404, description = "No such batch", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_batch(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<Json<BatchView>, Error> {
    let b = app
        .store
        .batch(&id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("batch `{id}` not found")))?;
    let action = BulkAction::parse(&b.action)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a batch has the action `{}`", b.action)))?;
    Ok(Json(BatchView {
        id: b.id,
        action,
        status: b.status,
        matched: b.matched,
        done: b.done,
        failed: b.failed,
        errors: b
            .errors
            .into_iter()
            .map(|(run, error)| BatchError { run, error })
            .collect(),
        created_at: b.created_at,
    }))
}
