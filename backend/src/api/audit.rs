//! `GET /api/audit` (SPEC §7, admin only): the audit log, newest first, filtered by actor,
//! action and time, in pages (`next` is the cursor of the following page).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::access::{AuditEntry, AuditPage};
use shared::api::ApiErrorBody;
use utoipa::IntoParams;

use super::error::Error;
use super::json::Filter;
use crate::AppState;
use crate::store::AuditFilter;

/// The most rows a page holds, and the default.
const MOST: i64 = 500;
const DEFAULT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    /// Only this actor: a user's name, `key:<name>`, `token`, `local` or `cli`. SPEC §7
    /// calls it `user`, which is taken too.
    #[serde(alias = "user")]
    actor: Option<String>,
    /// Only this action (`run.started`, `login`, …).
    action: Option<String>,
    /// Only rows at or after this time (ms since the epoch).
    since: Option<i64>,
    /// At most this many rows (default 100, at most 500).
    limit: Option<i64>,
    /// The `next` of the previous page.
    cursor: Option<String>,
}

/// The audit log
///
/// Every change: who (`actor`), what (`action`), when (`at`), its `target`, the caller's
/// address when known, and details.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "access",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log, newest first", body = AuditPage),
        (status = 400, description = "A parameter it cannot read", body = ApiErrorBody),
    ),
)]
pub(super) async fn audit_log(
    State(app): State<AppState>,
    Filter(q): Filter<AuditQuery>,
) -> Result<Json<AuditPage>, Error> {
    let before_id = q
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| Error::BadRequest(format!("`cursor` `{c}` is not one this gave")))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT).clamp(1, MOST);
    let rows = app
        .store
        .audit_log(&AuditFilter {
            actor: q.actor,
            action: q.action,
            since: q.since,
            before_id,
            limit,
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            ip: r.ip,
            details: r.details,
        })
        .collect();
    Ok(Json(AuditPage { entries, next }))
}
