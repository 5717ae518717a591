//! Workflow definitions: save as versions, list, read, archive.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::api::{
    ApiErrorBody, ArchivedWorkflow, LastRun, SavedWorkflow, VersionList, VersionSummary,
    WorkflowList, WorkflowSummary, WorkflowVersion,
};
use shared::limits::{MAX_PAGE, MAX_SAVE_MESSAGE};
use shared::model::Workflow;
use shared::validate::{Diagnostic, Severity, check_children, is_valid, valid_workflow_name};
use utoipa::IntoParams;

use super::error::Error;
use super::json::{Body, Filter, Params};
use super::runs::run_status;
use crate::AppState;
use crate::access::{Principal, Via};

use crate::store::{SaveNote, StoredWorkflow};

/// The query of `PUT /api/workflows/{name}`: the body stays the definition, so what is said
/// about the save travels beside it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct SaveQuery {
    /// Why this version was saved, kept with it and listed in its history (at most 500
    /// characters after trimming; blank is no message). An unchanged save keeps the
    /// latest version and its message.
    message: Option<String>,
}

/// The message of a save, trimmed (blank is none), or a 400 saying what is wrong with it.
fn save_message(given: Option<String>) -> Result<Option<String>, Error> {
    let Some(text) = given.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > MAX_SAVE_MESSAGE {
        return Err(Error::BadRequest(format!(
            "the message is {chars} characters long, over the limit of {MAX_SAVE_MESSAGE}"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(Error::BadRequest(format!(
            "the message holds the control character {c:?}; only text, tabs and line breaks are kept"
        )));
    }
    Ok(Some(text))
}

/// Who a version is recorded as saved by: the caller as the audit log names them, or nobody
/// on an open server (where everyone is `local`, which says nothing).
fn saver(principal: Option<&Principal>) -> Option<&str> {
    principal
        .filter(|p| p.via != Via::Open)
        .map(|p| p.actor.as_str())
}

/// The findings `unknown_workflow` of `wf`: a `subflow` or `map` naming a workflow (or a
/// pinned version) that is not saved, or is archived.
pub(super) async fn unknown_children(
    app: &AppState,
    wf: &Workflow,
) -> Result<Vec<Diagnostic>, Error> {
    let mut known = Vec::new();
    for name in wf.child_workflows() {
        if let Some(latest) = app.store.workflow(name, None).await?
            && !latest.archived
        {
            known.push((name.to_owned(), latest.version));
        }
    }
    Ok(check_children(
        wf,
        |name, version| {
            known
                .iter()
                .any(|(n, latest)| n == name && version.is_none_or(|v| (1..=*latest).contains(&v)))
        },
        Severity::Error,
    ))
}

/// Save a definition as a new version
///
/// `201` for a new version, `200` with the same version when the definition is unchanged,
/// `422` with the validator's findings when it is invalid. The definition's `name`, if any,
/// must be the one in the path. The version records who saved it and the `message`, which
/// `GET /api/workflows/{name}/versions` lists.
#[utoipa::path(
    put,
    path = "/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name"), SaveQuery),
    request_body(content = Object, description = "A workflow definition (`weft/v1`, SPEC §1)"),
    responses(
        (status = 201, description = "Saved as a new version", body = SavedWorkflow),
        (status = 200, description = "Unchanged: the latest version", body = SavedWorkflow),
        (status = 400, description = "Not JSON, not an object, a malformed name, a `name` other than the path's, an unknown query parameter, or a `message` over 500 characters or with control characters", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "The definition is invalid, or a `subflow` or `map` node names a workflow that does not exist (`unknown_workflow`); `details.diagnostics` lists every finding", body = ApiErrorBody),
    ),
)]
pub(super) async fn save_workflow(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
    Params(name): Params<String>,
    Filter(query): Filter<SaveQuery>,
    Body(mut obj): Body<Map<String, Value>>,
) -> Result<(StatusCode, Json<SavedWorkflow>), Error> {
    if !valid_workflow_name(&name) {
        return Err(Error::BadRequest(format!(
            "workflow name `{name}` must match [a-z0-9][a-z0-9_-]{{0,62}}"
        )));
    }
    let message = save_message(query.message)?;
    match obj.get("name") {
        None => {
            obj.insert("name".into(), Value::String(name.clone()));
        }
        Some(Value::String(n)) if *n == name => {}
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "the definition's name {other} differs from `{name}` in the path"
            )));
        }
    }
    let def = Value::Object(obj);
    let (wf, diagnostics) = super::validate::off_runtime(def).await?;
    if !is_valid(&diagnostics) || wf.is_none() {
        return Err(Error::Unprocessable {
            message: "the definition is invalid".into(),
            details: json!({ "diagnostics": diagnostics }),
        });
    }
    let wf = wf.expect("checked");
    let unknown = unknown_children(&app, &wf).await?;
    if !unknown.is_empty() {
        return Err(Error::Unprocessable {
            message: "the definition starts children of a workflow that does not exist".into(),
            details: json!({ "diagnostics": unknown }),
        });
    }
    // Store the canonical form so an unchanged save compares equal whatever the key order.
    let canonical = serde_json::to_value(&wf).map_err(anyhow::Error::from)?;
    let now = app.engine.clock.now();
    let note = SaveNote {
        by: saver(principal.as_deref()),
        message: message.as_deref(),
    };
    let (version, created) = app
        .store
        .save_workflow(&name, &canonical, now, note)
        .await?;
    // The schedules follow the latest version (also an unchanged save: it un-archives).
    crate::schedules::sync(&app.store, &name, version, Some(&wf), now).await?;
    app.schedules.wake();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SavedWorkflow {
            name,
            version,
            diagnostics,
        }),
    ))
}

/// List workflows
///
/// The latest version of every workflow that is not archived, with its last run.
#[utoipa::path(
    get,
    path = "/workflows",
    tag = "workflows",
    responses(
        (status = 200, description = "Every workflow that is not archived", body = WorkflowList),
    ),
)]
pub(super) async fn list_workflows(
    State(app): State<AppState>,
) -> Result<Json<WorkflowList>, Error> {
    let list = app.store.list_workflows().await?;
    let mut workflows = Vec::with_capacity(list.len());
    for w in list {
        let last_run = match (w.last_run_status, w.last_run_at) {
            (Some(status), Some(created_at)) => Some(LastRun {
                status: run_status(&status)?,
                created_at,
            }),
            _ => None,
        };
        workflows.push(WorkflowSummary {
            name: w.name,
            version: w.version,
            description: w.description,
            updated_at: w.updated_at,
            last_run,
        });
    }
    Ok(Json(WorkflowList { workflows }))
}

fn view(w: StoredWorkflow) -> Json<WorkflowVersion> {
    Json(WorkflowVersion {
        name: w.name,
        version: w.version,
        archived: w.archived,
        created_at: w.created_at,
        definition: w.definition,
    })
}

/// Get a workflow's latest version
#[utoipa::path(
    get,
    path = "/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name")),
    responses(
        (status = 200, description = "The version and its definition", body = WorkflowVersion),
        (status = 404, description = "No such workflow, or it is archived", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_workflow(
    State(app): State<AppState>,
    Params(name): Params<String>,
) -> Result<Json<WorkflowVersion>, Error> {
    match app.store.workflow(&name, None).await? {
        Some(w) if !w.archived => Ok(view(w)),
        _ => Err(Error::NotFound(format!("workflow `{name}` not found"))),
    }
}

/// Get one version of a workflow
///
/// Archived workflows keep their versions, so runs pinned to them stay readable.
#[utoipa::path(
    get,
    path = "/workflows/{name}/versions/{version}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name"), ("version" = i64, Path, description = "The version number, from 1")),
    responses(
        (status = 200, description = "The version and its definition", body = WorkflowVersion),
        (status = 400, description = "The version is not an integer", body = ApiErrorBody),
        (status = 404, description = "No such workflow or version", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_workflow_version(
    State(app): State<AppState>,
    Params((name, version)): Params<(String, i64)>,
) -> Result<Json<WorkflowVersion>, Error> {
    match app.store.workflow(&name, Some(version)).await? {
        Some(w) => Ok(view(w)),
        None => Err(Error::NotFound(format!(
            "workflow `{name}` has no version {version}"
        ))),
    }
}

/// The query of `GET /api/workflows/{name}/versions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct VersionsQuery {
    /// Page size, 1-500 (default 50); outside that range, a 400.
    limit: Option<i64>,
    /// Only versions older than this one: the `next_before` of the previous page.
    before: Option<i64>,
}

/// The page size of `GET /api/workflows/{name}/versions` without `?limit=`.
const DEFAULT_VERSIONS: i64 = 50;

/// List a workflow's versions, newest first
///
/// Who saved each, when, the message given at save and how many nodes it has; paged by
/// `limit` and `before`. Archived workflows keep their versions, so they are listed too.
#[utoipa::path(
    get,
    path = "/workflows/{name}/versions",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name"), VersionsQuery),
    responses(
        (status = 200, description = "One page of versions, newest first; `next_before` is null on the last page", body = VersionList),
        (status = 400, description = "An unknown parameter, a `limit` outside 1-500, or a `before` below 1", body = ApiErrorBody),
        (status = 404, description = "No such workflow", body = ApiErrorBody),
    ),
)]
pub(super) async fn list_versions(
    State(app): State<AppState>,
    Params(name): Params<String>,
    Filter(q): Filter<VersionsQuery>,
) -> Result<Json<VersionList>, Error> {
    let limit = q.limit.unwrap_or(DEFAULT_VERSIONS);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}, not {limit}"
        )));
    }
    if let Some(before) = q.before.filter(|b| *b < 1) {
        return Err(Error::BadRequest(format!(
            "before must be a version number (1 or more), not {before}"
        )));
    }
    // One more than asked says whether an older page exists.
    let Some(mut rows) = app.store.versions(&name, q.before, limit + 1).await? else {
        return Err(Error::NotFound(format!("workflow `{name}` not found")));
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_before = more.then(|| rows.last().map(|r| r.version)).flatten();
    let versions = rows
        .into_iter()
        .map(|r| VersionSummary {
            version: r.version,
            saved_at: r.saved_at,
            saved_by: r.saved_by,
            message: r.message,
            nodes: r.nodes,
        })
        .collect();
    Ok(Json(VersionList {
        name,
        versions,
        next_before,
    }))
}

/// Archive a workflow
///
/// It disappears from the list and can start no runs; its versions and runs stay. Its
/// schedules stop and disappear.
#[utoipa::path(
    delete,
    path = "/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name")),
    responses(
        (status = 200, description = "Archived", body = ArchivedWorkflow),
        (status = 404, description = "No such workflow", body = ApiErrorBody),
    ),
)]
pub(super) async fn archive_workflow(
    State(app): State<AppState>,
    Params(name): Params<String>,
) -> Result<Json<ArchivedWorkflow>, Error> {
    if app.store.archive_workflow(&name).await? {
        // An archived workflow's schedules go with it (a save brings them back, unpaused).
        crate::schedules::sync(&app.store, &name, 0, None, app.engine.clock.now()).await?;
        app.schedules.wake();
        Ok(Json(ArchivedWorkflow {
            name,
            archived: true,
        }))
    } else {
        Err(Error::NotFound(format!("workflow `{name}` not found")))
    }
}
